"""Plastic projections in Brian2: Loihi's learning engine as integer Brian2 code.

An independent Brian2 implementation of the per-step learning semantics of
docs/backends.md (specified by :mod:`yuragi.fixedpoint.learning`; only the
hash :func:`yuragi.rng.hash32` is shared, see :mod:`.hashfn`). The rules are
turned into Brian2 code strings from the parsed :class:`~yuragi.ir.plasticity.Rule`
AST here.

Brian2 objects of plastic projection ``p`` (all variables ``int64``):

``pre`` trace group (``NeuronGroup``, one neuron per presynaptic neuron)
    traces ``x1, x2``, ``x0`` (spiked in this epoch), ``cx1, cx2`` (the
    traces at the neuron's last spike in the epoch) and ``sl``, the step of
    the neuron's last spike: a linked variable to the ``sl`` that the reset
    of every neuron population's group sets to ``t_in_timesteps``, or, for an
    input population, set by a relay ``Synapses`` (``on_pre: sl_post =
    t_in_timesteps``). A neuron spiked at this step when ``sl ==
    t_in_timesteps``.
``post`` trace group (one neuron per postsynaptic neuron)
    ``y1, y2, y3``, ``y0``, ``cy1..cy3``, ``sl``; ``rl`` (last spike of the
    reward population's neuron for this neuron: the single one, or its own);
    with ``post_factor='probability'`` a linked variable ``xp`` to the post
    StochasticBinary population's ``x``.
the projection (``Synapses`` pre population -> post population)
    ``w``, ``tag_d``, ``tag_t`` (Lava ``w``, ``tag_2``, ``tag_1``; Brian2
    reserves ``t``), ``k`` (the synapse's CompiledProjection index: the
    Brian2 synapse order is checked to be the COO order), per-synapse samples
    ``cyx<k>`` (y_k of its post neuron at its pre neuron's last spike in the
    epoch) and ``cxy<k>``, and linked variables ``l<name>`` reading the trace
    groups through ``i`` / ``j``. ``on_pre: acc_post += w`` transmits with
    the current weight.

Schedule of step ``row`` (``t_in_timesteps``): neurons update (``groups``),
spike (``thresholds``); the projection transmits, relays record input
spikes (``synapses``); resets record ``sl`` (``resets``); then in the
``after_resets`` slot:

With ``pre_timing='arrival'`` the pre trace group also holds ``sp``, the
spike flag of the previous step, and ``sa``, the spike the engine sees at
this step: ``sa = sp`` (then ``sp`` = this step's spike), so traces,
``x0``, the samples and the synapses' ``x0`` use the spikes of step
``row - 1`` (a second spike at ``row`` would hide one at ``row - 1`` from
``sl`` alone).

``order 0`` (trace groups): decay ``x <- (x*D) // 4096`` plus one if the
    top 12 bits of ``hash32(seed, STREAM_PRE_TRACE + p, row, 8*i + slot)``
    are below the dropped ``(x*D) % 4096``; impulse of a spike ``x <- clip(x
    + I + [top 8 bits of a draw < F], 0, 127)``; ``y1 = probability7(xp)``
    for the probability factor; ``x0`` restarts at 0 on the first step of an
    epoch (``row % t_epoch == 0``), then ``x0 |= spiked``; samples ``cx = x``
    where spiked.
``order 1`` (the projection): per-synapse samples, then -- when
    ``(row + 1) % t_epoch == 0`` -- every rule from the values before the
    epoch's update: per product ``dependency * clip(factor, -2**width,
    2**width - 1) * ...`` (the clip written only where the factor's value
    can leave its width), times the signed mantissa, ``>> max(0, widths + 4
    - 15)``, ``<< (exponent + 7)``, clipped to the accumulator, summed with
    saturation from ``var << 7``; sign-mode saturation; stochastic rounding
    of the 7 fractional bits against the top 7 bits of
    ``hash32(seed, STREAM_LEARNING + p, row, 4*k + var)``; final saturation.

The ``end`` slot records the probes (after learning).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import BackendError
from ...ir.plasticity import Factor, PlasticityProgram, ProductTerm, Rule, Trace
from ...rng import STREAM_LEARNING, STREAM_POST_TRACE, STREAM_PRE_TRACE
from .hashfn import draw, namespace, top_bits
from .stochastic import probability_expr

# --- Lava's learning-engine widths (lava-nc 0.10.0, magma/core/learning/constants.py)
TRACE_BITS = 7
TRACE_MAX = (1 << TRACE_BITS) - 1
IMPULSE_FRAC_BITS = 8
MANTISSA_BITS = 4
ACC_BITS = 15
ACC_LO, ACC_HI = -(1 << ACC_BITS) - 1, (1 << ACC_BITS) - 1
VAR_SHIFT = 7  # 16-bit accumulator minus 9-bit synaptic variable
TRACE_NAMES = ("x1", "x2", "y1", "y2", "y3")
WIDTH = {"x0": 1, "y0": 1, "x1": TRACE_BITS, "x2": TRACE_BITS, "y1": TRACE_BITS, "y2": TRACE_BITS, "y3": TRACE_BITS, "w": 9, "d": 9, "t": 9}
#: yuragi's integer trace decay: ``D / 2**12`` per step.
DECAY_BITS = 12
#: hash index codes: synaptic variable (4*k + code), trace slots (8*neuron + slot).
VAR_CODE = {"dw": 0, "dd": 1, "dt": 2}
PRE_SLOTS = {"x1": (0, 2), "x2": (1, 3)}  # (decay slot, impulse slot)
POST_SLOTS = {"y1": (0, 3), "y2": (1, 4), "y3": (2, 5)}
#: Lava's sign modes (lava/utils/weightutils.py)
MIXED, EXCITATORY, INHIBITORY = 1, 2, 3
#: Brian2 names of the synaptic variables (``t`` is Brian2's time).
SYN_VAR = {"w": "w", "d": "tag_d", "t": "tag_t"}
TARGET = {"dw": "w", "dd": "d", "dt": "t"}


@dataclass(frozen=True)
class TraceInts:
    """A trace in integers: impulse ``whole + frac / 256`` per spike, decay ``D / 4096`` per step."""

    whole: int
    frac: int
    decay: int

    @classmethod
    def of(cls, trace: Trace) -> TraceInts:
        """Split the impulse into 7.8 fixed point (a fraction rounding to 256 carries) and round the decay."""
        whole = math.floor(trace.impulse)
        frac = int(round((trace.impulse - whole) * (1 << IMPULSE_FRAC_BITS)))
        if frac == 1 << IMPULSE_FRAC_BITS:
            whole, frac = whole + 1, 0
        decay = 1 << DECAY_BITS if trace.tau == 0 else int(round((1 << DECAY_BITS) * math.exp(-1.0 / trace.tau)))
        return cls(int(whole), frac, decay)

    @property
    def moves(self) -> bool:
        """False for a trace without impulse."""
        return bool(self.whole or self.frac)


def trace_lines(name: str, trace: TraceInts, spike: str, seed: int, stream: int, slots: tuple[int, int]) -> list[str]:
    """Brian2 lines advancing trace ``name`` of every neuron ``i`` by one step."""
    lines: list[str] = []
    decay_slot, impulse_slot = slots
    if trace.decay < 1 << DECAY_BITS:
        rnd = top_bits(draw(seed, stream, "t_in_timesteps", f"8 * i + {decay_slot}"), DECAY_BITS)
        lines += [
            f"{name}_prod = {name} * {trace.decay}",
            f"{name} = {name}_prod // {1 << DECAY_BITS} + int({rnd} < {name}_prod % {1 << DECAY_BITS})",
        ]
    if not trace.moves:
        return lines
    bump = str(trace.whole)
    if trace.frac:
        rnd = top_bits(draw(seed, stream, "t_in_timesteps", f"8 * i + {impulse_slot}"), IMPULSE_FRAC_BITS)
        bump += f" + int({rnd} < {trace.frac})"
    lines.append(f"{name} = clip({name} + {spike} * ({bump}), 0, {TRACE_MAX})")
    return lines


def _due(t_epoch: int) -> str | None:
    """Expression that is 1 at the last step of an epoch (None when every step is one)."""
    return None if t_epoch == 1 else f"int((t_in_timesteps + 1) % {t_epoch} == 0)"


# --- products from the Rule AST

def _trace_source(symbol: str, dependency: str) -> str:
    """Brian2 name (in the projection's Synapses) of trace ``symbol`` as read by a term with ``dependency``.

    x0 terms read traces sampled at the pre spike (pre side: the pre group's
    sample, post side: the synapse's sample); y0 terms at the post spike;
    u<k> terms the traces at the end of the epoch.
    """
    pre_side = symbol[0] == "x"
    k = symbol[1]
    if dependency == "x0":
        return f"lcx{k}" if pre_side else f"cyx{k}"
    if dependency == "y0":
        return f"cxy{k}" if pre_side else f"lcy{k}"
    return f"lx{k}" if pre_side else f"ly{k}"


#: The values a symbol can hold here: 0/1 dependencies, 7-bit traces, the
#: final ranges of w (all sign modes), d and t. Only a factor whose value
#: (with its offset) can leave ``[-2**width, 2**width - 1]`` needs its clip.
VALUE_RANGE = {"x0": (0, 1), "y0": (0, 1), "w": (-256, 255), "d": (0, 255), "t": (-257, 255),
               **{name: (0, TRACE_MAX) for name in TRACE_NAMES}}


def _factor_expr(factor: Factor, dependency: str) -> str:
    """One factor: its value (+ offset, or the sign of that), clipped to its width where it could exceed it."""
    symbol = factor.symbol
    if symbol in ("x0", "y0"):
        value = f"l{symbol}"
    elif symbol in SYN_VAR:
        value = SYN_VAR[symbol]
    else:
        value = _trace_source(symbol, dependency)
    if factor.offset:
        value = f"({value} + {factor.offset})"
    if factor.sgn:
        return f"sign({value})"  # -1, 0 or 1: inside every width
    lo, hi = -(1 << WIDTH[symbol]), (1 << WIDTH[symbol]) - 1
    vlo, vhi = VALUE_RANGE[symbol]
    if lo <= vlo + factor.offset and vhi + factor.offset <= hi:
        return value
    return f"clip({value}, {lo}, {hi})"


def _dependency_expr(dependency: str) -> str:
    return {"x0": "lx0", "y0": "ly0"}.get(dependency, "u_on")


def is_scalar(term: ProductTerm) -> bool:
    """A ``u<k>`` term without factors has one value per step (Brian2 computes it as a scalar)."""
    return term.dependency not in ("x0", "y0") and not term.factors


def term_lines(term: ProductTerm, mac: str) -> list[str]:
    """Lines computing the accumulator contribution ``mac`` of one product (Lava's bit-approximate apply)."""
    factors = [_dependency_expr(term.dependency)] + [_factor_expr(f, term.dependency) for f in term.factors]
    widths = sum(WIDTH[f.symbol] for f in term.factors) + MANTISSA_BITS
    lines = [f"{mac} = {' * '.join(factors)} * {term.signed_mantissa}"]
    drop = max(0, widths - ACC_BITS)
    if drop:
        lines.append(f"{mac} = {mac} // {1 << drop}")
    lines.append(f"{mac} = clip({mac} * {1 << (term.exponent + 7)}, {ACC_LO}, {ACC_HI})")
    return lines


def _saturate_acc(var: str, sign_mode: int) -> str | None:
    """Accumulator saturation before rounding (None: nothing to do)."""
    if var == "w":
        return {EXCITATORY: "clip({a}, 0, %d)" % ACC_HI, INHIBITORY: "clip({a}, %d, 0)" % ACC_LO}.get(sign_mode)
    if var == "d":
        return "clip({a}, 0, %d)" % ACC_HI
    return None


def _final_range(var: str, sign_mode: int) -> tuple[int, int]:
    if var == "w":
        return {EXCITATORY: (0, 255), INHIBITORY: (-255, 0)}.get(sign_mode, (-256, 255))
    if var == "d":
        return 0, 255
    return -257, 255


def rule_lines(rule: Rule, seed: int, proj_index: int, sign_mode: int) -> tuple[str, list[str], list[str]]:
    """Lines computing the new value of the rule's variable into a temporary.

    Returns (temporary, scalar lines, vector lines): Brian2 wants the lines
    that compute per-step scalars (the products of factor-free ``u<k>``
    terms) before any per-synapse line.
    """
    var = TARGET[rule.target]
    name = SYN_VAR[var]
    acc, new = f"acc_{var}", f"new_{var}"
    scalar: list[str] = []
    lines = [f"{acc} = {name} * {1 << VAR_SHIFT}"]
    for n, term in enumerate(rule.terms):
        mac = f"mac_{var}{n}"
        (scalar if is_scalar(term) else lines).extend(term_lines(term, mac))
        lines.append(f"{acc} = clip({acc} + {mac}, {ACC_LO}, {ACC_HI})")
    saturate = _saturate_acc(var, sign_mode)
    if saturate:
        lines.append(f"{acc} = {saturate.format(a=acc)}")
    rnd = top_bits(draw(seed, STREAM_LEARNING + proj_index, "t_in_timesteps", f"4 * k + {VAR_CODE[rule.target]}"), VAR_SHIFT)
    lo, hi = _final_range(var, sign_mode)
    lines.append(f"{new} = clip({acc} // {1 << VAR_SHIFT} + int({rnd} < {acc} % {1 << VAR_SHIFT}), {lo}, {hi})")
    return new, scalar, lines


def _rules(program: PlasticityProgram) -> list[Rule]:
    return [program.rules[name] for name in ("dw", "dd", "dt") if name in program.rules]


def _trace_reads(rules: list[Rule]) -> set[tuple[str, str]]:
    """The (trace, dependency of its term) pairs the rules read."""
    return {(f.symbol, term.dependency) for rule in rules for term in rule.terms for f in term.factors if f.symbol in TRACE_NAMES}


# --- the Brian2 objects

#: Variable of every neuron population's NeuronGroup holding the step of its last spike (-1: none yet).
LAST_SPIKE = "sl"


@dataclass
class PlasticObjects:
    """The Brian2 objects of one plastic projection: the synapses (None without synapses), the two trace groups, and all objects to run."""

    synapses: Any
    pre_group: Any
    post_group: Any
    objects: list[Any]


def check(program: Any, proj: Any) -> list[str]:
    """What prevents this mode from running plastic projection ``proj`` (empty: nothing)."""
    out = []
    plast = proj.plasticity
    if proj.nnz and (proj.delays != 1).any():
        out.append(f"projection '{proj.name}': a plastic projection must have delay 1 on every synapse, got delays up to {int(proj.delays.max())}")
    if proj.release_prob < 1.0:
        out.append(f"projection '{proj.name}': a plastic projection cannot have release_prob < 1 (got {proj.release_prob:g})")
    names = {p.name: p for p in program.populations}
    if plast.post_factor == "probability" and names[proj.post].kind != "StochasticBinary":
        out.append(f"projection '{proj.name}': post_factor='probability' needs a StochasticBinary post population, '{proj.post}' is {names[proj.post].kind}")
    if plast.reward is not None:
        reward = names.get(plast.reward)
        if reward is None:
            out.append(f"projection '{proj.name}': reward population '{plast.reward}' is not in the network")
        elif reward.size not in (1, proj.n_post):
            out.append(f"projection '{proj.name}': reward population '{plast.reward}' must have 1 or {proj.n_post} neurons, has {reward.size}")
    return out


class _Builder:
    """Builds the objects of one plastic projection (see the module docstring and :func:`build`)."""

    def __init__(self, b2: Any, proj: Any, proj_index: int, seed: int, groups: dict[str, Any], populations: dict[str, Any], clock: Any, label: str) -> None:
        self.b2, self.proj, self.index, self.seed = b2, proj, proj_index, seed
        self.groups, self.populations, self.clock = groups, populations, clock
        self.stem = label.rstrip("*")
        self.ns = namespace(b2)
        self.objects: list[Any] = []
        self.plast: PlasticityProgram = proj.plasticity
        self.rules = _rules(self.plast)

    def spike_step_eq(self, var: str, source: str) -> str:
        """Equation of ``var`` (a last-spike step): linked to a neuron group's ``sl``, or set by a relay from an input."""
        return f"{var} : integer" + (" (linked)" if not self.populations[source].is_input else "")

    def connect_spike_step(self, group: Any, var: str, source: str, index: np.ndarray, tag: str) -> None:
        """Make ``group.var`` the step of the last spike of ``source`` neuron ``index[n]`` for each neuron n of ``group``."""
        b2 = self.b2
        if not self.populations[source].is_input:
            identity = np.array_equal(index, np.arange(len(self.groups[source])))
            setattr(group, var, b2.linked_var(self.groups[source], LAST_SPIKE, index=None if identity else index))
            return
        setattr(group, var, -1)
        relay = b2.Synapses(self.groups[source], group, on_pre=f"{var}_post = t_in_timesteps", clock=self.clock, name=f"{self.stem}_{tag}*")
        relay.connect(i=index, j=np.arange(len(index)))
        self.objects.append(relay)

    def trace_group(self, side: str) -> Any:
        """The pre (``x``) or post (``y``) trace group, its step code (``after_resets``, order 0) and spike inputs."""
        b2, proj, plast = self.b2, self.proj, self.plast
        pre = side == "x"
        size = proj.n_pre if pre else proj.n_post
        traces = ("x1", "x2") if pre else ("y1", "y2", "y3")
        arrival = pre and plast.pre_timing == "arrival"
        own = traces + (side + "0",) + tuple(f"c{t}" for t in traces) + (("sp", "sa") if arrival else ())
        eqs = [f"{v} : integer" for v in own] + [self.spike_step_eq("sl", proj.pre if pre else proj.post)]
        reward = None if pre else plast.reward
        probability = not pre and plast.post_factor == "probability"
        if reward is not None:
            eqs.append(self.spike_step_eq("rl", reward))
        if probability:
            eqs.append("xp : integer (linked)")
        group = b2.NeuronGroup(size, "\n".join(eqs), dtype={v: np.int64 for v in own}, clock=self.clock,
                               name=f"{self.stem}_{'pre' if pre else 'post'}traces*", namespace=self.ns)
        self.connect_spike_step(group, "sl", proj.pre if pre else proj.post, np.arange(size), f"{side}relay")
        if reward is not None:
            index = np.zeros(size, dtype=np.int64) if self.populations[reward].size == 1 else np.arange(size)
            self.connect_spike_step(group, "rl", reward, index, "rewardrelay")
        if arrival:  # the spike that arrives now was emitted at the previous step
            lines = ["s_emit = int(sl == t_in_timesteps)", "s = sp", "sp = s_emit", "sa = s"]
        else:
            lines = ["s = int(sl == t_in_timesteps)"]
        lines += ["r = int(rl == t_in_timesteps)"] if reward is not None else []
        stream = (STREAM_PRE_TRACE if pre else STREAM_POST_TRACE) + self.index
        slots = PRE_SLOTS if pre else POST_SLOTS
        for name in traces:
            if name == "y1" and probability:
                continue
            spike = "r" if name == "y2" and reward is not None else "s"
            lines += trace_lines(name, TraceInts.of(getattr(plast, name)), spike, self.seed, stream, slots[name])
        if probability:
            group.xp = b2.linked_var(self.groups[proj.post], "x")
            lines.append(f"y1 = {probability_expr('xp', self.populations[proj.post].param('noise_width'))}")
        dep = side + "0"
        # the dependency restarts with each epoch (row % t_epoch == 0), then records this step's spike
        if plast.t_epoch == 1:
            lines.append(f"{dep} = s")
        else:
            lines += [f"{dep} = {dep} * int(t_in_timesteps % {plast.t_epoch} != 0)", f"{dep} = {dep} + s - {dep} * s"]
        lines += [f"c{t} = c{t} + s * ({t} - c{t})" for t in traces]
        self.objects += [group, group.run_regularly("\n".join(lines), when="after_resets", order=0, name=f"{self.stem}_{side}trace_step*")]
        return group

    def synapses(self, pre_group: Any, post_group: Any, acc: str, initial_weights: np.ndarray) -> Any:
        """The projection's Synapses: transmission (``on_pre``) and the learning step (``after_resets``, order 1)."""
        b2, proj, plast = self.b2, self.proj, self.plast
        pairs = _trace_reads(self.rules)
        caps = sorted({f"cyx{s[1]}" for s, dep in pairs if dep == "x0" and s[0] == "y"} | {f"cxy{s[1]}" for s, dep in pairs if dep == "y0" and s[0] == "x"})
        own = ["w", "tag_d", "tag_t", "k"] + caps
        links = {"lx0": (pre_group, "x0"), "ly0": (post_group, "y0")}
        for cap in caps:  # a sample reads the current trace of the other side
            k = f"y{cap[3]}" if cap.startswith("cyx") else f"x{cap[3]}"
            links[f"l{k}"] = (post_group if k[0] == "y" else pre_group, k)
        for symbol, dep in pairs:
            src = _trace_source(symbol, dep)
            if src.startswith("l"):
                links[src] = (pre_group if symbol[0] == "x" else post_group, src[1:])
        pre_input = self.populations[proj.pre].is_input
        arrival = plast.pre_timing == "arrival"
        if arrival:  # the pre spike the engine sees at this step (the trace group's sa)
            links["lsa"] = (pre_group, "sa")
        elif pre_input:  # the pre trace group's relayed last-spike step
            links["lslx"] = (pre_group, "sl")
        eqs = [f"{v} : integer" for v in own] + [f"{v} : integer (linked)" for v in links]
        syn = b2.Synapses(self.groups[proj.pre], self.groups[proj.post], "\n".join(eqs), dtype={v: np.int64 for v in own},
                          on_pre=f"{acc}_post += w", clock=self.clock, name=f"{self.stem}*", namespace=self.ns)
        syn.connect(i=proj.pre_idx, j=proj.post_idx)
        if not (np.array_equal(np.asarray(syn.i[:]), proj.pre_idx) and np.array_equal(np.asarray(syn.j[:]), proj.post_idx)):
            raise BackendError(f"brian2 backend: internal error, synapses of projection '{proj.name}' are not in the compiled (COO) order")
        for name, (group, var) in links.items():
            setattr(syn, name, b2.linked_var(group, var, index="i" if group is pre_group else "j"))
        syn.w = initial_weights
        syn.k = np.arange(proj.nnz)

        scalar: list[str] = []  # per-step values first (Brian2 requires it), then per synapse
        due = _due(plast.t_epoch)
        if due is not None:
            scalar.append(f"due = {due}")
        decimate = next((r.decimate_exponent for r in self.rules if r.decimate_exponent is not None), None)
        if decimate is not None:
            scalar.append(f"u_on = int(((t_in_timesteps + 1) // {plast.t_epoch}) % {1 << decimate} == 0)")
        lines = []
        pre_spiked = "lsa" if arrival else f"int({'lslx' if pre_input else f'{LAST_SPIKE}_pre'} == t_in_timesteps)"
        post_spiked = f"int({LAST_SPIKE}_post == t_in_timesteps)"
        for cap in caps:
            spiked, trace = (pre_spiked, f"ly{cap[3]}") if cap.startswith("cyx") else (post_spiked, f"lx{cap[3]}")
            lines.append(f"{cap} = {cap} + {spiked} * ({trace} - {cap})")
        news = []
        for rule in self.rules:
            new, rule_scalar, rule_vector = rule_lines(rule, self.seed, self.index, proj.sign_mode)
            news.append((SYN_VAR[TARGET[rule.target]], new))
            scalar += rule_scalar
            lines += rule_vector
        for name, new in news:
            lines.append(f"{name} = {new}" if due is None else f"{name} = {name} + due * ({new} - {name})")
        self.objects += [syn, syn.run_regularly("\n".join(scalar + lines), when="after_resets", order=1, name=f"{self.stem}_learn*")]
        return syn


def build(
    b2: Any, proj: Any, proj_index: int, seed: int, groups: dict[str, Any], populations: dict[str, Any],
    acc: str, clock: Any, label: str, initial_weights: np.ndarray,
) -> PlasticObjects:
    """Create the Brian2 objects of plastic projection ``proj`` (see the module docstring).

    Parameters
    ----------
    b2 : module
        Brian2.
    proj : CompiledProjection
        The plastic projection (index ``proj_index`` in the network).
    seed : int
        Network seed.
    groups, populations : dict
        Brian2 group and CompiledPopulation of every population, by name;
        every neuron population's group has the integer variable ``sl``
        (:data:`LAST_SPIKE`), set to ``t_in_timesteps`` by its reset.
    acc : str
        Accumulator variable of the post group this projection adds to.
    clock : brian2.Clock
    label : str
        Brian2 name of the Synapses (see ``_common.brian_name``; ends with ``*``).
    initial_weights : numpy.ndarray
        ``w`` before the first step, ``(nnz,)`` in COO order.
    """
    builder = _Builder(b2, proj, proj_index, seed, groups, populations, clock, label)
    pre_group = builder.trace_group("x")
    post_group = builder.trace_group("y")
    syn = builder.synapses(pre_group, post_group, acc, initial_weights) if proj.nnz else None  # Brian2 cannot connect nothing
    return PlasticObjects(syn, pre_group, post_group, builder.objects)
