"""The learning engine in integers: traces, epochs, sum-of-products rules, stochastic rounding.

This follows Lava's fixed-point learning engine (lava-nc 0.10.0,
``magma/core/model/py/connection.py`` ``LearningConnectionModelBitApproximate``
and ``magma/core/learning/learning_rule_applier.py``
``LearningRuleApplierBitApprox``) operation for operation, with two
documented changes (docs/plasticity.md, "Differences from Lava"):

1. **Randomness per element.** Lava draws one random number per step shared
   by all synapses (and one per trace kind shared by all neurons). Here every
   stochastic rounding draws its own number from the counter-based hash of
   :mod:`yuragi.rng`, a pure function of (seed, stream, step, index):

   * synaptic variable ``v`` (0 = w, 1 = d, 2 = t) of synapse ``k`` at step
     ``row``: ``hash32(seed, STREAM_LEARNING + proj, row, 4*k + v) >> 25``
     (7 bits, compared with the 7 fractional bits of the accumulator);
   * trace slot ``s`` of presynaptic neuron ``j``:
     ``hash32(seed, STREAM_PRE_TRACE + proj, row, 8*j + s)``, of postsynaptic
     neuron ``i``: ``hash32(seed, STREAM_POST_TRACE + proj, row, 8*i + s)``
     with slots ``decay x1, x2 = 0, 1``; ``impulse x1, x2 = 2, 3``;
     ``decay y1, y2, y3 = 0, 1, 2``; ``impulse y1, y2, y3 = 3, 4, 5``.
     Decay uses the top 12 bits (``>> 20``), impulses the top 8 (``>> 24``).

2. **Integer trace decay.** Lava decays traces with a float ``exp(-1/tau)``;
   here ``x <- (x * D) >> 12`` plus a stochastic rounding of the 12 dropped
   bits, with ``D = round(4096 * exp(-1/tau))`` (``tau = 0``: no decay), the
   12-bit decay of the Loihi compartment. Traces are updated every step
   (decay, then the impulse of a spike of this step), which gives Lava's
   epoch history for neurons that spike at most once per epoch; a neuron that
   spikes twice in one epoch gets both impulses at their own steps (Lava adds
   the later impulse to the epoch's starting value).

Everything else is Lava's: the 7-bit traces saturating at 127 with an 8-bit
fractional impulse; per-epoch dependencies ``x0``/``y0`` (spiked in the
epoch) and trace values sampled at the last spike of the dependency neuron
in the epoch; ``u<k>`` decimation (``u = 1`` when
``(step // t_epoch) % 2**k == 0``, ``step = row + 1`` being Lava's
``time_step``); the product evaluation (each factor clipped to its width,
times the 4-bit scale mantissa, right-shifted by ``max(0, widths + 4 - 15)``,
left-shifted by ``exponent + 7``, clipped to the 16-bit accumulator, summed
with saturation, starting from ``var << 7``); saturation per variable and sign
mode; stochastic rounding to the variable's 8 bits; and every rule of an
epoch reads the variables' values from before that epoch's update.

State is held per projection, synapses in the order of
:class:`~yuragi.compiler.compiled.CompiledProjection` (``pre_idx``,
``post_idx``). All arrays are int64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..ir.plasticity import PlasticityProgram, Rule
from ..rng import STREAM_LEARNING, STREAM_POST_TRACE, STREAM_PRE_TRACE, hash32

# --- Lava constants (magma/core/learning/constants.py)
W_TRACE = 7
TRACE_MAX = (1 << W_TRACE) - 1
W_TRACE_FRACTIONAL_PART = 8
W_S_MANT = 4
W_ACCUMULATOR_U = 15
ACC_MIN, ACC_MAX = -(1 << W_ACCUMULATOR_U) - 1, (1 << W_ACCUMULATOR_U) - 1
#: accumulator shift of w, d, t: W_ACCUMULATOR_S (16) - W_SYN_VAR_S (9)
VAR_SHIFT = 7
FACTOR_WIDTH = {"x0": 1, "y0": 1, "x1": W_TRACE, "x2": W_TRACE, "y1": W_TRACE, "y2": W_TRACE, "y3": W_TRACE, "w": 9, "d": 9, "t": 9}
#: Integer trace decay: D / 2**DECAY_BITS per step.
DECAY_BITS = 12
DECAY_UNITY = 1 << DECAY_BITS
#: Synaptic variable codes in the RNG index (4*k + code) and their Lava names.
VAR_CODE = {"dw": 0, "dd": 1, "dt": 2}
TARGET_VAR = {"dw": "w", "dd": "d", "dt": "t"}
PRE_DECAY_SLOT, PRE_IMPULSE_SLOT = 0, 2  # + trace index (x1 = 0, x2 = 1)
POST_DECAY_SLOT, POST_IMPULSE_SLOT = 0, 3  # + trace index (y1 = 0, y2 = 1, y3 = 2)
#: Lava's SignMode values (lava/utils/weightutils.py)
SIGN_MIXED, SIGN_EXCITATORY, SIGN_INHIBITORY = 1, 2, 3


@dataclass(frozen=True)
class LoweredTrace:
    """One trace in integers: impulse ``impulse_int + impulse_frac / 256``, decay ``D / 4096`` per step."""

    impulse_int: int
    impulse_frac: int
    decay: int  # D in [0, 4096]; 4096 = no decay

    @classmethod
    def of(cls, impulse: float, tau: float) -> LoweredTrace:
        """Lower a Trace (Lava's ``_decompose_impulses``; decay as in the module docstring)."""
        whole = math.floor(impulse)
        frac = int(round((impulse - whole) * (1 << W_TRACE_FRACTIONAL_PART)))
        if frac == 1 << W_TRACE_FRACTIONAL_PART:
            whole, frac = whole + 1, 0
        decay = DECAY_UNITY if tau == 0 else int(round(DECAY_UNITY * math.exp(-1.0 / tau)))
        return cls(int(whole), frac, decay)


@dataclass(frozen=True)
class LoweredProgram:
    """A PlasticityProgram in the integers the engine uses."""

    rules: tuple[Rule, ...]
    x: tuple[LoweredTrace, LoweredTrace]
    y: tuple[LoweredTrace, LoweredTrace, LoweredTrace]
    t_epoch: int
    decimate: int | None
    post_probability: bool
    reward: str | None
    pre_arrival: bool = False

    def uses(self, name: str) -> bool:
        """Whether any rule reads trace/variable/dependency ``name``."""
        return any(name in rule.symbols for rule in self.rules)


def lower_program(program: PlasticityProgram) -> LoweredProgram:
    """Integer form of ``program`` (rules in the order dw, dd, dt)."""
    rules = tuple(program.rules[name] for name in ("dw", "dd", "dt") if name in program.rules)
    decimate = next((r.decimate_exponent for r in rules if r.decimate_exponent is not None), None)
    return LoweredProgram(
        rules=rules,
        x=(LoweredTrace.of(program.x1.impulse, program.x1.tau), LoweredTrace.of(program.x2.impulse, program.x2.tau)),
        y=tuple(LoweredTrace.of(t.impulse, t.tau) for t in (program.y1, program.y2, program.y3)),  # type: ignore[arg-type]
        t_epoch=int(program.t_epoch),
        decimate=decimate,
        post_probability=program.post_factor == "probability",
        reward=program.reward,
        pre_arrival=program.pre_timing == "arrival",
    )


def rule_width_bits(rule: Rule) -> int:
    """Largest product width of ``rule`` in bits (factor widths + mantissa + shift), for the lowering check."""
    widest = 0
    for term in rule.terms:
        widths = sum(FACTOR_WIDTH[f.symbol] for f in term.factors) + W_S_MANT
        widest = max(widest, widths + 1)  # +1: the dependency factor (0/1) and sign
    return widest


@dataclass
class LearningState:
    """Mutable learning state of one plastic projection (int64 arrays; bool dependencies).

    ``x`` is ``(2, n_pre)``, ``y`` is ``(3, n_post)``; ``w``, ``d``, ``t`` are
    ``(nnz,)``. ``x0``/``y0`` flag neurons that spiked in the current epoch;
    the ``cap_*`` arrays hold trace values sampled at the last spike of the
    dependency neuron in the epoch: ``cap_x_x0[k, j]`` (x_k at pre j's spike),
    ``cap_y_y0[k, i]`` (y_k at post i's spike), per synapse ``cap_y_x0[k, s]``
    (y_k of the synapse's post neuron at its pre neuron's spike) and
    ``cap_x_y0[k, s]`` (x_k of its pre neuron at its post neuron's spike).
    """

    pre_idx: np.ndarray
    post_idx: np.ndarray
    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    d: np.ndarray
    t: np.ndarray
    x0: np.ndarray
    y0: np.ndarray
    cap_x_x0: np.ndarray
    cap_y_y0: np.ndarray
    cap_y_x0: np.ndarray
    cap_x_y0: np.ndarray
    pre_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    pre_order: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    post_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    post_order: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def synapses_of_pre(self, spiking: np.ndarray) -> np.ndarray:
        """Indices of the synapses whose presynaptic neuron is flagged in ``spiking`` (bool ``(n_pre,)``)."""
        return csr_rows(self.pre_ptr, self.pre_order, np.flatnonzero(spiking))

    def synapses_of_post(self, spiking: np.ndarray) -> np.ndarray:
        """Indices of the synapses whose postsynaptic neuron is flagged in ``spiking`` (bool ``(n_post,)``)."""
        return csr_rows(self.post_ptr, self.post_order, np.flatnonzero(spiking))


def csr_rows(ptr: np.ndarray, order: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The entries ``order[ptr[r]:ptr[r+1]]`` of every row ``r`` in ``rows``, concatenated (vectorised)."""
    starts, stops = ptr[rows], ptr[rows + 1]
    counts = stops - starts
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    return order[np.arange(total, dtype=np.int64) + offsets]


def init_learning_state(pre_idx: np.ndarray, post_idx: np.ndarray, weights: np.ndarray, n_pre: int, n_post: int) -> LearningState:
    """Fresh state: traces, tags and dependencies zero, ``w`` = the compiled weights."""
    pre_idx = np.asarray(pre_idx, dtype=np.int64)
    post_idx = np.asarray(post_idx, dtype=np.int64)
    nnz = pre_idx.shape[0]
    zeros = np.zeros(nnz, dtype=np.int64)
    order_pre = np.argsort(pre_idx, kind="stable")
    order_post = np.argsort(post_idx, kind="stable")
    pre_ptr = np.concatenate(([0], np.cumsum(np.bincount(pre_idx, minlength=n_pre)))).astype(np.int64)
    post_ptr = np.concatenate(([0], np.cumsum(np.bincount(post_idx, minlength=n_post)))).astype(np.int64)
    return LearningState(
        pre_idx=pre_idx, post_idx=post_idx,
        x=np.zeros((2, n_pre), dtype=np.int64), y=np.zeros((3, n_post), dtype=np.int64),
        w=np.asarray(weights, dtype=np.int64).copy(), d=zeros.copy(), t=zeros.copy(),
        x0=np.zeros(n_pre, dtype=bool), y0=np.zeros(n_post, dtype=bool),
        cap_x_x0=np.zeros((2, n_pre), dtype=np.int64), cap_y_y0=np.zeros((3, n_post), dtype=np.int64),
        cap_y_x0=np.zeros((3, nnz), dtype=np.int64), cap_x_y0=np.zeros((2, nnz), dtype=np.int64),
        pre_ptr=pre_ptr, pre_order=order_pre.astype(np.int64), post_ptr=post_ptr, post_order=order_post.astype(np.int64),
    )


def _decay(values: np.ndarray, decay: int, draws: np.ndarray) -> np.ndarray:
    """``(x * D) >> 12`` plus stochastic rounding of the dropped 12 bits (draws: uint32)."""
    if decay >= DECAY_UNITY:
        return values
    prod = values * decay
    return (prod >> DECAY_BITS) + ((draws >> np.uint32(32 - DECAY_BITS)).astype(np.int64) < (prod & (DECAY_UNITY - 1)))


def _impulse(values: np.ndarray, trace: LoweredTrace, draws: np.ndarray | None) -> np.ndarray:
    """Add the impulse, stochastically round its 8-bit fraction, saturate to [0, 127]."""
    out = values + trace.impulse_int
    if trace.impulse_frac and draws is not None:
        out = out + ((draws >> np.uint32(32 - W_TRACE_FRACTIONAL_PART)).astype(np.int64) < trace.impulse_frac)
    return np.clip(out, 0, TRACE_MAX)


def _update_traces(traces: np.ndarray, lowered: tuple[LoweredTrace, ...], spikes: np.ndarray, draws: Callable[[int], np.ndarray], decay_slot: int, impulse_slot: int) -> None:
    """Decay every trace with tau > 0, then add the impulse where ``spikes`` (in place).

    ``draws(slot)`` gives the uint32 draws of one RNG slot for every neuron;
    only the slots a rounding actually needs are drawn.
    """
    for k, trace in enumerate(lowered):
        if trace.decay < DECAY_UNITY:
            traces[k] = _decay(traces[k], trace.decay, draws(decay_slot + k))
        if spikes.any() and (trace.impulse_int or trace.impulse_frac):
            imp_draws = draws(impulse_slot + k)[spikes] if trace.impulse_frac else None
            traces[k, spikes] = _impulse(traces[k, spikes], trace, imp_draws)


def trace_step(
    lp: LoweredProgram,
    st: LearningState,
    row: int,
    pre_spikes: np.ndarray,
    post_spikes: np.ndarray,
    seed: int,
    proj_index: int,
    post_prob7: np.ndarray | None = None,
    reward_spikes: np.ndarray | None = None,
) -> None:
    """Advance traces and epoch dependencies by step ``row`` (in place).

    Call once per step after the neurons of step ``row`` have spiked, with
    the pre spikes the learning engine sees at this step and the post spikes
    of this step (bool, ``(n_pre,)`` / ``(n_post,)``); ``post_prob7`` is the
    post neurons' 7-bit firing probability of this step when the program has
    ``post_factor='probability'``; ``reward_spikes`` (bool, ``(1,)`` or
    ``(n_post,)``) the spikes of this step that drive ``y2`` when it has a
    ``reward`` population.

    Which pre spikes the caller passes depends on the program's
    ``pre_timing`` (``lp.pre_arrival``):

    * ``'emission'`` (Lava ``LearningDense``): the pre spikes of row ``row``;
    * ``'arrival'``: the pre spikes of row ``row - 1`` (all False at row 0),
      i.e. the spikes that reach the post neurons at this step through the
      projection's one-step delay and drove their sample of this step. The
      pre traces, ``x0`` and the samples at the pre spike all follow these
      spikes; the random draws still use ``row``.
    """
    pre_spikes = np.asarray(pre_spikes, dtype=bool)
    post_spikes = np.asarray(post_spikes, dtype=bool)
    n_pre, n_post = st.x.shape[1], st.y.shape[1]
    pre_ids = np.arange(n_pre, dtype=np.uint32) * np.uint32(8)
    post_ids = np.arange(n_post, dtype=np.uint32) * np.uint32(8)

    def pre_draws(slot: int) -> np.ndarray:
        return hash32(seed, STREAM_PRE_TRACE + proj_index, row, pre_ids + np.uint32(slot))

    def post_draws(slot: int) -> np.ndarray:
        return hash32(seed, STREAM_POST_TRACE + proj_index, row, post_ids + np.uint32(slot))

    _update_traces(st.x, lp.x, pre_spikes, pre_draws, PRE_DECAY_SLOT, PRE_IMPULSE_SLOT)
    for k in range(3):
        if k == 0 and lp.post_probability:
            st.y[0] = np.asarray(post_prob7, dtype=np.int64) if post_prob7 is not None else _missing_prob()
            continue
        spikes = post_spikes
        if k == 1 and reward_spikes is not None:
            spikes = np.broadcast_to(np.asarray(reward_spikes, dtype=bool), (n_post,))
        _update_traces(st.y[k:k + 1], lp.y[k:k + 1], spikes,
                       lambda slot, k=k: post_draws(slot + k), POST_DECAY_SLOT, POST_IMPULSE_SLOT)
    # dependencies and samples at the spike (the last spike of the epoch wins)
    if pre_spikes.any():
        st.x0 |= pre_spikes
        st.cap_x_x0[:, pre_spikes] = st.x[:, pre_spikes]
        syn = st.synapses_of_pre(pre_spikes)
        if syn.size:
            st.cap_y_x0[:, syn] = st.y[:, st.post_idx[syn]]
    if post_spikes.any():
        st.y0 |= post_spikes
        st.cap_y_y0[:, post_spikes] = st.y[:, post_spikes]
        syn = st.synapses_of_post(post_spikes)
        if syn.size:
            st.cap_x_y0[:, syn] = st.x[:, st.pre_idx[syn]]


def _missing_prob() -> np.ndarray:
    raise ValueError("trace_step: the program's y1 is the post probability; give post_prob7")


def epoch_due(lp: LoweredProgram, row: int) -> bool:
    """Whether the learning phase runs after step ``row`` (Lava: ``time_step % t_epoch == 0``)."""
    return (row + 1) % lp.t_epoch == 0


def decimation_active(lp: LoweredProgram, row: int) -> int:
    """Value of ``u<k>`` in the epoch ending at step ``row`` (0 when the program has no ``u<k>``)."""
    if lp.decimate is None:
        return 0
    return int(((row + 1) // lp.t_epoch) % (1 << lp.decimate) == 0)


_TRACE_ROW = {"x1": 0, "x2": 1, "y1": 0, "y2": 1, "y3": 2}


def _factor_value(st: LearningState, symbol: str, dependency: str, old: dict[str, np.ndarray], sel: np.ndarray) -> np.ndarray:
    """Value of one factor for synapses ``sel``, before its offset and clipping."""
    if symbol == "x0":
        return st.x0[st.pre_idx[sel]].astype(np.int64)
    if symbol == "y0":
        return st.y0[st.post_idx[sel]].astype(np.int64)
    if symbol in old:
        return old[symbol][sel]
    row = _TRACE_ROW[symbol]
    pre_side = symbol.startswith("x")
    if dependency == "x0":
        return st.cap_x_x0[row][st.pre_idx[sel]] if pre_side else st.cap_y_x0[row][sel]
    if dependency == "y0":
        return st.cap_x_y0[row][sel] if pre_side else st.cap_y_y0[row][st.post_idx[sel]]
    # u<k>: the value at the end of the epoch
    return st.x[row][st.pre_idx[sel]] if pre_side else st.y[row][st.post_idx[sel]]


def _rule_accumulator(terms: tuple, st: LearningState, start: np.ndarray, u_value: int, old: dict[str, np.ndarray],
                      sel: np.ndarray) -> np.ndarray:
    """Lava's ``LearningRuleApplierBitApprox.apply``: the accumulator after all products, for synapses ``sel``."""
    acc = start
    for term in terms:
        if term.dependency == "x0":
            mac = st.x0[st.pre_idx[sel]].astype(np.int64)
        elif term.dependency == "y0":
            mac = st.y0[st.post_idx[sel]].astype(np.int64)
        else:
            mac = np.full(start.shape, u_value, dtype=np.int64)
        width_sum = 0
        for factor in term.factors:
            width = FACTOR_WIDTH[factor.symbol]
            width_sum += width
            value = _factor_value(st, factor.symbol, term.dependency, old, sel) + factor.offset
            if factor.sgn:
                value = np.sign(value)
            mac = mac * np.clip(value, -(1 << width), (1 << width) - 1)
        width_sum += W_S_MANT
        mac = mac * term.signed_mantissa
        mac = mac >> max(0, width_sum - W_ACCUMULATOR_U)
        mac = mac << (term.exponent + 7)
        mac = np.clip(mac, ACC_MIN, ACC_MAX)
        acc = np.clip(acc + mac, ACC_MIN, ACC_MAX)
    return acc


def _saturate(var: str, acc_or_value: np.ndarray, sign_mode: int, final: bool) -> np.ndarray:
    """Lava's ``_saturate_synaptic_variable_accumulator`` (``final=False``) / ``_saturate_synaptic_variable``."""
    if var == "w":
        if not final:
            if sign_mode == SIGN_EXCITATORY:
                return np.maximum(0, acc_or_value)
            if sign_mode == SIGN_INHIBITORY:
                return np.minimum(0, acc_or_value)
            return acc_or_value
        if sign_mode == SIGN_EXCITATORY:
            return np.clip(acc_or_value, 0, 255)
        if sign_mode == SIGN_INHIBITORY:
            return np.clip(acc_or_value, -255, 0)
        return np.clip(acc_or_value, -256, 255)
    if var == "d":
        return np.maximum(0, acc_or_value) if not final else np.clip(acc_or_value, 0, 255)
    return acc_or_value if not final else np.clip(acc_or_value, -257, 255)


def apply_rules(lp: LoweredProgram, st: LearningState, row: int, seed: int, proj_index: int, sign_mode: int) -> int:
    """Run the learning phase at the end of step ``row`` (call only when :func:`epoch_due`).

    Updates ``w``, ``d``, ``t`` in place, resets the epoch dependencies and
    returns the number of stochastic-rounding draws made (synapses x rules).
    """
    nnz = st.w.shape[0]
    old = {"w": st.w.copy(), "d": st.d.copy(), "t": st.t.copy()}
    u_value = decimation_active(lp, row)
    for rule in lp.rules:
        var = TARGET_VAR[rule.target]
        # Speed-up, exact: products that are 0 at a synapse (u<k> = 0 this epoch, or x0 / y0 not set)
        # add nothing. A synapse where every product is 0 keeps ``var << 7`` in the accumulator, so
        # its value does not change -- unless that is outside the accumulator (t = -257: Lava clips
        # after each product, to -256.0078, then rounds). Only the other synapses are computed; the
        # clip below stands for the clips of the skipped products.
        terms = rule.terms if u_value else tuple(t for t in rule.terms if t.dependency in ("x0", "y0"))
        start = old[var] << VAR_SHIFT
        if u_value:
            sel = np.arange(nnz)
        else:
            touched = (start < ACC_MIN) | (start > ACC_MAX)
            if any(t.dependency == "x0" for t in terms):
                touched |= st.x0[st.pre_idx]
            if any(t.dependency == "y0" for t in terms):
                touched |= st.y0[st.post_idx]
            sel = np.flatnonzero(touched)
            if sel.size == 0:
                continue
        acc = np.clip(_rule_accumulator(terms, st, start[sel], u_value, old, sel), ACC_MIN, ACC_MAX)
        acc = _saturate(var, acc, sign_mode, final=False)
        k = sel.astype(np.uint32)
        draws = (hash32(seed, STREAM_LEARNING + proj_index, row, k * 4 + VAR_CODE[rule.target]) >> np.uint32(32 - VAR_SHIFT)).astype(np.int64)
        value = (acc >> VAR_SHIFT) + (draws < (acc & ((1 << VAR_SHIFT) - 1)))
        updated = old[var].copy()
        updated[sel] = _saturate(var, value, sign_mode, final=True)
        setattr(st, var, updated)
    st.x0[:] = False
    st.y0[:] = False
    return nnz * len(lp.rules)
