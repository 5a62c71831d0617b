"""CompiledNetwork -> a graph of real Lava processes (lava-nc 0.10.0).

One Lava process per element:

=====================================  ===========================================
CompiledNetwork element                Lava process (``select_tag="fixed_pt"``)
=====================================  ===========================================
LIF population, ``refractory == 0``    ``lava.proc.lif.process.LIF`` -> ``PyLifModelBitAcc``
LIF population, ``refractory > 0``     :class:`~yuragi.backends.lava.processes.LIFRefractoryBitAcc`
                                       -> ``PyLifRefractoryModelBitAcc`` (ours)
input population with projections     ``lava.proc.io.source.RingBuffer`` -> ``PySendModelFixed``
projection, dense, all delays 1        ``Dense`` -> ``PyDenseModelBitAcc``
projection, dense, some delay > 1      ``DelayDense`` (delays - 1) -> ``PyDelayDenseModelBitAcc``
projection, sparse, all delays 1       ``Sparse`` -> ``PySparseModelBitAcc``
projection, sparse, some delay > 1     ``DelaySparse`` (delays - 1) -> ``PyDelaySparseModelBitAcc``
StochasticBinary population            :class:`~yuragi.backends.lava.stochastic.StochasticBinary`
                                       -> ``PyStochasticBinaryModelBitAcc`` (ours; Lava's LIF current;
                                       a clamped one reads its clamp input's ``s_out`` on ``clamp_in``)
EIF population                         :class:`~yuragi.backends.lava.eif.EIF` -> ``PyEifModelBitAcc``
                                       (ours; ``yuragi.fixedpoint.eif.eif_step``, int32 ``a_in``)
projection, ``release_prob < 1``       :class:`~yuragi.backends.lava.stochastic.ReleaseConnection`
                                       -> ``PyReleaseConnectionModelBitAcc`` (ours; any delays)
plastic projection                     :class:`~yuragi.backends.lava.learning.PlasticConnection`
                                       -> ``PyPlasticConnectionModelBitAcc`` (ours; post spikes on
                                       ``s_in_bap``, probability on ``s_in_y1``, reward spikes)
spikes of every neuron population      ``lava.proc.io.extractor.Extractor`` -> ``PyLoihiExtractorModel``
probed ``u`` / ``v``                   the population becomes ``ProbedLIF`` (ours: Lava's LIF and
                                       ``PyLifModelBitAcc`` + a ``state_out`` port sending spikes,
                                       u, v) -> one ``Extractor`` (no separate spike recorder)
probed w/d/t/x1/x2/y1/y2/y3            the plastic connection's ``learn_out`` ->
                                       :class:`~yuragi.backends.lava.learning.LearningProbeSink`
                                       (an ``Extractor`` read in the learning phase)
=====================================  ===========================================

Lava traps this module works around (all checked against the 0.10.0 source):

- **sign_mode must be a SignMode enum.** The bit-accurate connection models
  compare ``sign_mode == SignMode.MIXED`` etc.; the plain int 1/2/3 of
  :mod:`yuragi.compiler.compiled` compares unequal to every member, so Lava
  would silently clip an int-moded matrix to ``[0, 255]`` (negative weights
  lost). We pass ``SignMode(proj.sign_mode)``.
- **Learning needs the post spikes of the same step.** A Lava connection's
  ``run_spk`` sends its buffered ``a_out`` *before* it receives anything, so
  it can wait for the post neuron's spikes of the same step on ``s_in_bap``
  (Lava's ``LearningDense`` pattern) without deadlocking recurrent graphs.
- **Learning state is probed in the learning phase.** The weights of step
  ``r`` exist only after that step's learning phase, which runs after every
  spiking phase; the plastic connection sends its probes then, to a
  recorder whose model also reads in the learning phase. A network with
  learning probes therefore has a learning phase every step (one more
  phase per step for every process), like one with ``t_epoch = 1``.
- **Weight clip/truncate.** On their first step the connection models apply
  ``clip_weights(num_bits=8)`` then ``truncate_weights(num_weight_bits)``
  (``lava/utils/weightutils.py``). A CompiledProjection's weights must already
  be on that grid (then Lava changes nothing); we check it with Lava's own
  functions and refuse the program otherwise, because the other backends use
  the weights as given.
- **Delays.** ``Dense`` always delays by one step (its ``a_buff``: at each
  step it first sends the previous step's activation, then accumulates the
  spikes it receives). ``DelayDense``/``DelaySparse`` add their ``delays`` on
  top of that one step, so a yuragi delay ``d >= 1`` is a Lava delay
  ``d - 1``; their bit-accurate models reject Lava delays > 63, so yuragi
  delays are limited to 1..64.
- **weight_exp of DelayDense/DelaySparse** is applied to each delay group's
  sum at the *emission* step (``a_accum`` is the per-delay column of
  ``calc_act``), then the shifted groups are added into the buffer. With a
  negative ``weight_exp`` this floors each (emission step, delay) group
  separately, whereas ``Dense`` floors the one sum of the step. The two agree
  whenever every weight is a multiple of ``2**-weight_exp`` (what
  :func:`yuragi.compiler.quantize.quantize` guarantees: ``shift + weight_exp >= 0``).
- **Duplicate synapses.** Lava's matrices hold one synapse per (pre, post)
  pair; a projection listing a pair twice is split over several connection
  processes (each pair once), so every synapse still contributes (with an
  inexact negative ``weight_exp`` each of them floors its own sum).
- **a_in dtype: int32, not int16.** LIF declares ``a_in`` as ``int16``
  (precision 16) and Dense ``a_out`` as ``int32`` precision 16, but nothing
  narrows to 16 bits: a channel's buffer takes the *sender's* dtype (int32;
  Dense computes its sum in int64, the channel copy wraps it to int32), and the
  receiving port sums all its connections onto ``np.zeros(shape, int16)``,
  which numpy promotes to int32. So several connections into one LIF are
  summed in int32, ``a_in << 6`` is int32 (wraps when ``|a_in| >= 2**25``), and
  so is ``decayed u + (a_in << 6)``, before the 24-bit correction below.
- **24-bit "wrap" of u is one correction, not modulo:** ``u > 2**23`` loses
  ``2**24`` once, ``u <= -2**23`` gains ``2**24`` once
  (``AbstractPyLifModelFixed.subthr_dynamics``); a ``u`` beyond ``±3·2**23``
  therefore stays outside the 24-bit range.
- **Lava time steps start at 1**; ``RingBuffer`` sources read
  ``data[..., (time_step - 1) % buffer]``, so with the whole ``(size, steps)``
  raster as buffer, result step ``t`` is Lava step ``t + 1`` and input row
  ``t`` is emitted at result step ``t`` — also across several ``run`` calls.
- **Reading Vars back is per element.** ``Var.get()`` (and ``set()``) move an
  array one element per message (``PyLoihiProcessModel._get_var``: "FIXME:
  send a whole vector"), float64: reading a sink ``RingBuffer`` or a
  ``Monitor`` of 100 neurons x 250 steps took ~2 s, and for 1000 neurons the
  read-out dominated the run (~80 ms per step). Recording therefore uses
  ``lava.proc.io.extractor.Extractor``: each step's vector goes through a
  shared-memory pipe to the host (``buffer_size`` = steps per ``run`` call;
  the pipe is drained after each call). The Extractor has two untagged models
  (Loihi and async protocol), so ``select_tag`` cannot choose one; it is
  pinned through the run config's ``exception_proc_model_map``.
- **Disconnected graphs.** ``Process.run`` compiles only the processes
  connected to the one it is called on; separate components are chained by
  all-zero ``Dense`` bridges (which add 0 to the target's ``a_in``).
- **Recording u/v.** ``Monitor`` (``lava.proc.monitor``) records into float
  Vars, and its ``probe()`` registers the names of its *first* port for every
  further probe (``self.new_ref_port_name``), so one Monitor cannot record
  both u and v. ``Monitor``, ``sink.Read`` and ``extractor.VarWire`` read Vars
  through RefPorts in the POST_MGMT phase, which makes the runtime service run
  an extra phase for every process every step (VarWire for u and v: 13 vs
  4 ms per step at 100 neurons, 11 vs 7 at 1000, measured on a shared 2-CPU
  machine). Probed populations therefore send spikes, u and v through one
  OutPort in the spiking phase (:mod:`yuragi.backends.lava.processes`) to one
  Extractor.
- **DelaySparse / DelayDense rebuild their per-delay weight stack every step**
  (``get_delay_wgts_mat`` in ``calc_act``): ~0.1-0.5 ms for DelayDense, but
  6-14 ms for DelaySparse even on a 6 x 12 matrix (scipy ``vstack`` of
  ``max_delay`` sparse matrices). Results are identical; only speed differs.

Only absolute imports here (see :mod:`yuragi.backends.lava.processes`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from yuragi.errors import BackendError

__all__ = ["LavaGraph", "MAX_DELAY", "build_graph", "check_program", "synapse_kind"]

# Widths of Loihi's LIF registers as Lava's fixed-point models declare them
# (lava/proc/lif/models.py; Lava's Python models do not enforce them).
DECAY_MAX = 4095  # du, dv: unsigned 12-bit
VTH_MAX = (1 << 17) - 1  # vth: unsigned 17-bit
BIAS_MANT_MIN, BIAS_MANT_MAX = -(1 << 12), (1 << 12) - 1  # bias_mant: signed 13-bit
BIAS_EXP_MIN, BIAS_EXP_MAX = 0, 7  # bias_exp: unsigned 3-bit
STATE_LIMIT = 1 << 23  # u, v: 24-bit
#: Largest yuragi delay: DelayDense/DelaySparse accept Lava delays 0..63 (+1 for the Dense buffer).
MAX_DELAY = 64
#: Population kinds this backend runs.
SUPPORTED_KINDS = ("LIF", "StochasticBinary", "EIF")
#: Range of a StochasticBinary population's ``noise_width`` (yuragi.fixedpoint.stochastic).
NOISE_WIDTH_MIN, NOISE_WIDTH_MAX = 2, 1 << 31
#: Variables a probe may record: of a neuron population, a static projection, a plastic projection.
POPULATION_PROBES = ("spikes", "u", "v")
STATIC_PROBES = ("w",)
LEARNING_PROBES = ("w", "d", "t", "x1", "x2", "y1", "y2", "y3")


def _problems_of_population(pop: Any) -> list[str]:
    where = f"population '{pop.name}'"
    if pop.kind not in SUPPORTED_KINDS:
        return [f"{where} is {pop.kind}: the Lava backend runs only {', '.join(SUPPORTED_KINDS)} neurons for now"]
    out = []
    for fname, lo, hi in (("du", 0, DECAY_MAX), ("dv", 0, DECAY_MAX), ("vth", 0, VTH_MAX), ("bias_exp", BIAS_EXP_MIN, BIAS_EXP_MAX)):
        value = getattr(pop, fname)
        if not lo <= int(value) <= hi:
            out.append(f"{where}: {fname} must be in [{lo}, {hi}], got {value}")
    if pop.size and (pop.bias_mant.min() < BIAS_MANT_MIN or pop.bias_mant.max() > BIAS_MANT_MAX):
        out.append(f"{where}: bias_mant must be in [{BIAS_MANT_MIN}, {BIAS_MANT_MAX}] (13-bit)")
    for fname in ("u_init", "v_init"):
        value = getattr(pop, fname)
        if pop.size and np.abs(value).max() > STATE_LIMIT:
            out.append(f"{where}: {fname} must be within +-2**23 (24-bit state)")
    if int(pop.refractory) < 0:
        out.append(f"{where}: refractory must be >= 0, got {pop.refractory}")
    if pop.kind == "StochasticBinary":
        width = dict(pop.params).get("noise_width")
        if width is None or not NOISE_WIDTH_MIN <= int(width) <= NOISE_WIDTH_MAX:
            out.append(f"{where}: StochasticBinary needs the integer parameter 'noise_width' in [2, 2**31] (CompiledPopulation.params), got {width!r}")
        if int(pop.refractory) != 0:
            out.append(f"{where}: a StochasticBinary neuron has no refractory period (refractory must be 0, got {pop.refractory})")
    if pop.kind == "EIF":
        out += _problems_of_eif(pop)
    return out


def _problems_of_eif(pop: Any) -> list[str]:
    """The EIF program's own check of the population's integers (one dry step of the spec function)."""
    from yuragi.fixedpoint.eif import eif_step

    zero = np.zeros(pop.size, dtype=np.int64)
    try:
        eif_step(zero, zero, zero, zero, pop)
    except BackendError as exc:
        return [str(exc)]
    return []


def _lava_grid(weights: np.ndarray, sign_mode: int, num_weight_bits: int) -> np.ndarray:
    """What Lava's bit-accurate connection models turn ``weights`` into on their first step."""
    from lava.utils.weightutils import SignMode, clip_weights, truncate_weights

    mode = SignMode(sign_mode)
    return truncate_weights(clip_weights(np.asarray(weights, dtype=np.int64), mode, num_bits=8), mode, num_weight_bits).astype(np.int64)


def _problems_of_plasticity(proj: Any, kinds: dict[str, str], sizes: dict[str, int]) -> list[str]:
    where = f"projection '{proj.name}'"
    out = []
    if proj.nnz and int(proj.delays.max()) != 1:
        out.append(f"{where}: a plastic projection must have all delays 1 (Lava's LearningDense), got up to {int(proj.delays.max())}")
    if proj.release_prob != 1.0:
        out.append(f"{where}: a plastic projection cannot have stochastic release (release_prob must be 1, got {proj.release_prob})")
    program = proj.plasticity
    if program.post_factor == "probability" and kinds.get(proj.post) != "StochasticBinary":
        out.append(f"{where}: post_factor='probability' needs a StochasticBinary post population (y1 is its firing probability), "
                   f"'{proj.post}' is {kinds.get(proj.post)}")
    if program.reward is not None:
        if program.reward not in sizes:
            out.append(f"{where}: reward population '{program.reward}' is not in the network")
        elif sizes[program.reward] not in (1, proj.n_post):
            out.append(f"{where}: reward population '{program.reward}' must have 1 or {proj.n_post} neurons, has {sizes[program.reward]}")
    return out


def _problems_of_projection(proj: Any, kinds: dict[str, str], sizes: dict[str, int]) -> list[str]:
    where = f"projection '{proj.name}'"
    out = []
    p = proj.release_prob
    if not isinstance(p, (int, float, np.integer, np.floating)) or isinstance(p, bool) or not 0.0 <= float(p) <= 1.0:
        out.append(f"{where}: release_prob must be a probability in [0, 1], got {p!r}")
    if kinds.get(proj.pre) is None or kinds.get(proj.post) is None:
        return out + [f"{where} connects unknown populations '{proj.pre}' -> '{proj.post}'"]
    if proj.plasticity is not None:
        out += _problems_of_plasticity(proj, kinds, sizes)
    if kinds[proj.post] == "input":
        out.append(f"{where} targets the input population '{proj.post}'")
    if int(proj.sign_mode) not in (1, 2, 3):
        out.append(f"{where}: sign_mode must be 1 (mixed), 2 (excitatory) or 3 (inhibitory), got {proj.sign_mode}")
        return out
    if not 1 <= int(proj.num_weight_bits) <= 8:
        out.append(f"{where}: num_weight_bits must be in [1, 8], got {proj.num_weight_bits}")
        return out
    if proj.nnz:
        if proj.delays.min() < 1 or proj.delays.max() > MAX_DELAY:
            out.append(f"{where}: delays must be in [1, {MAX_DELAY}] steps (Lava DelayDense: 0..63 after its built-in step), got {proj.delays.min()}..{proj.delays.max()}")
        if (proj.pre_idx.min() < 0 or proj.pre_idx.max() >= proj.n_pre or proj.post_idx.min() < 0 or proj.post_idx.max() >= proj.n_post):
            out.append(f"{where}: synapse indices out of range")
            return out
        lava = _lava_grid(proj.weights, int(proj.sign_mode), int(proj.num_weight_bits))
        bad = np.flatnonzero(lava != proj.weights)
        if bad.size:
            k = int(bad[0])
            out.append(
                f"{where}: {bad.size} weight(s) are not on Lava's grid for num_weight_bits={proj.num_weight_bits}, "
                f"sign_mode={proj.sign_mode} (e.g. synapse {k}: {proj.weights[k]} would become {lava[k]}); "
                "quantize the network first"
            )
    return out


def check_program(program: Any) -> None:
    """Raise a one-line BackendError naming every element this backend cannot run."""
    kinds = {p.name: ("input" if p.is_input else p.kind) for p in program.populations}
    sizes = {p.name: int(p.size) for p in program.populations}
    problems: list[str] = []
    for pop in program.populations:
        if not pop.is_input:
            problems += _problems_of_population(pop)
        clamp = getattr(pop, "clamp", None)
        if clamp is not None and (pop.kind != "StochasticBinary" or kinds.get(clamp) != "input" or sizes[clamp] != pop.size):
            problems.append(f"population '{pop.name}': clamp '{clamp}' must be an input population of {pop.size} neurons, "
                            f"on a StochasticBinary population (it is {pop.kind})")
    for proj in program.projections:
        problems += _problems_of_projection(proj, kinds, sizes)
    placed = {b.population for b in program.blocks}
    for pop in program.populations:
        if not pop.is_input:
            cores = program.core_of_neurons(pop.name)
            if pop.name not in placed or (cores < 0).any():
                problems.append(f"population '{pop.name}' is not (fully) placed on cores: compile the network first")
    projections = {p.name: p for p in program.projections}
    for probe in program.probes:
        target, var = probe.target, probe.variable
        if target in kinds:
            allowed = ("spikes",) if kinds[target] == "input" else POPULATION_PROBES
        elif target in projections:
            allowed = LEARNING_PROBES if projections[target].plasticity is not None else STATIC_PROBES
        else:
            problems.append(f"probe '{target}.{var}': no population or projection called '{target}'")
            continue
        if var not in allowed:
            problems.append(f"probe '{target}.{var}': '{target}' has no variable '{var}' in the Lava backend (allowed: {', '.join(allowed)})")
    if problems:
        more = f" (and {len(problems) - 1} more: {'; '.join(problems[1:])})" if len(problems) > 1 else ""
        raise BackendError(f"cannot run '{program.name}' on Lava: {problems[0]}{more}")


def synapse_kind(proj: Any) -> str:
    """Name of the Lava connection process a projection becomes."""
    if proj.plasticity is not None:
        return "PlasticConnection"
    if proj.release_prob < 1.0:
        return "ReleaseConnection"
    delayed = bool(proj.nnz) and int(proj.delays.max()) > 1
    if proj.dense:
        return "DelayDense" if delayed else "Dense"
    return "DelaySparse" if delayed else "Sparse"


def _layers(proj: Any) -> list[np.ndarray]:
    """Synapse index sets with each (pre, post) pair at most once (normally one set: all synapses)."""
    key = proj.post_idx * np.int64(proj.n_pre) + proj.pre_idx
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    start = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
    group_start = np.maximum.accumulate(np.where(start, np.arange(key.size), 0))
    rank = np.empty(key.size, dtype=np.int64)
    rank[order] = np.arange(key.size) - group_start
    return [np.flatnonzero(rank == r) for r in range(int(rank.max()) + 1)] if key.size else []


def _connection(proj: Any, sel: np.ndarray, kind: str, name: str) -> Any:
    from lava.proc.dense.process import Dense, DelayDense
    from lava.proc.sparse.process import DelaySparse, Sparse
    from lava.utils.weightutils import SignMode

    post, pre, w, d = proj.post_idx[sel], proj.pre_idx[sel], proj.weights[sel], proj.delays[sel]
    shape = (proj.n_post, proj.n_pre)
    params = dict(
        weight_exp=int(proj.weight_exp),
        num_weight_bits=int(proj.num_weight_bits),
        sign_mode=SignMode(int(proj.sign_mode)),  # an int here would be a silent bug (see module doc)
        name=name,
    )
    if kind in ("Dense", "DelayDense"):
        weights = np.zeros(shape, dtype=np.int64)
        weights[post, pre] = w
        if kind == "Dense":
            return Dense(weights=weights, **params)
        delays = np.zeros(shape, dtype=np.int64)  # Lava delay 0 (= yuragi 1) where there is no synapse
        delays[post, pre] = d - 1
        return DelayDense(weights=weights, delays=delays, max_delay=int(d.max()) - 1, **params)
    weights = sparse.csr_matrix((w.astype(np.int64), (post, pre)), shape=shape)
    if kind == "Sparse":
        return Sparse(weights=weights, **params)
    keep = d > 1  # Lava delay 0 must be an implicit zero of the delay matrix
    delays = sparse.csr_matrix(((d[keep] - 1).astype(np.int64), (post[keep], pre[keep])), shape=shape)
    delays.eliminate_zeros()
    return DelaySparse(weights=weights, delays=delays, max_delay=int(d.max()) - 1, **params)


@dataclass
class LavaGraph:
    """The Lava processes built for one CompiledNetwork, and how to read them back."""

    chunk: int
    neurons: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, Any] = field(default_factory=dict)
    #: population -> (its Extractor, what each recorded vector holds: ("s",) or ("s", "u", "v"))
    recorders: dict[str, tuple[Any, tuple[str, ...]]] = field(default_factory=dict)
    #: plastic projection -> (its LearningProbeSink, ((variable, start, stop), ...) of each recorded vector)
    learning_recorders: dict[str, tuple[Any, tuple[tuple[str, int, int], ...]]] = field(default_factory=dict)
    synapses: dict[str, list[Any]] = field(default_factory=dict)
    synapse_kinds: dict[str, str] = field(default_factory=dict)
    bridges: list[Any] = field(default_factory=list)
    exception_map: dict[Any, type] = field(default_factory=dict)
    anchor: Any = None

    @property
    def processes(self) -> list[Any]:
        """Every Lava process of the graph."""
        out = [*self.neurons.values(), *self.sources.values(), *(sink for sink, _ in self.recorders.values()), *self.bridges]
        out += [sink for sink, _ in self.learning_recorders.values()]
        for procs in self.synapses.values():
            out += procs
        return out


class _Components:
    """Union-find over Lava processes (by id) to find disconnected parts of the graph."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.members: dict[int, Any] = {}

    def add(self, proc: Any) -> None:
        self.parent.setdefault(id(proc), id(proc))
        self.members[id(proc)] = proc

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: Any, b: Any) -> None:
        self.add(a)
        self.add(b)
        self.parent[self.find(id(a))] = self.find(id(b))

    def roots(self) -> dict[int, list[Any]]:
        out: dict[int, list[Any]] = {}
        for x, proc in self.members.items():
            out.setdefault(self.find(x), []).append(proc)
        return out


def _neuron(pop: Any, index: int, seed: int, probed: bool, graph: "LavaGraph") -> Any:
    """The Lava process of one neuron population (its model pinned in ``graph.exception_map`` when it is ours)."""
    from lava.proc.lif.process import LIF

    from yuragi.backends.lava import eif as ye
    from yuragi.backends.lava import processes as yp
    from yuragi.backends.lava import stochastic as ys

    if pop.kind == "EIF":
        neuron = ye.EIF(
            shape=(pop.size,), u=pop.u_init.copy(), v=pop.v_init.copy(), du=int(pop.du), dv=int(pop.dv), vth=int(pop.vth),
            bias_mant=pop.bias_mant.copy(), bias_exp=int(pop.bias_exp), refractory=int(pop.refractory), name=pop.name,
            **{name: int(pop.param(name)) for name in ye.EIF_PARAM_NAMES},
        )
        graph.exception_map[neuron] = ye.PyEifModelBitAcc
        return neuron
    if pop.kind == "StochasticBinary":
        neuron = ys.StochasticBinary(
            shape=(pop.size,), u=pop.u_init.copy(), du=int(pop.du), bias_mant=pop.bias_mant.copy(), bias_exp=int(pop.bias_exp),
            noise_width=int(pop.param("noise_width")), seed=int(seed), pop_index=index, clamped=pop.clamp is not None, name=pop.name,
        )
        graph.exception_map[neuron] = ys.PyStochasticBinaryModelBitAcc
        return neuron
    common = dict(
        shape=(pop.size,),
        u=pop.u_init.copy(),
        v=pop.v_init.copy(),
        du=int(pop.du),
        dv=int(pop.dv),
        bias_mant=pop.bias_mant.copy(),
        bias_exp=int(pop.bias_exp),
        vth=int(pop.vth),
        name=pop.name,
    )
    refractory = int(pop.refractory) > 0
    if refractory:
        common["refractory_period"] = int(pop.refractory)
    # (process class, model class or None for Lava's own choice)
    proc_cls, model_cls = {
        (False, False): (LIF, None),
        (False, True): (yp.ProbedLIF, yp.PyProbedLifModelBitAcc),
        (True, False): (yp.LIFRefractoryBitAcc, yp.PyLifRefractoryModelBitAcc),
        (True, True): (yp.ProbedLIFRefractoryBitAcc, yp.PyProbedLifRefractoryModelBitAcc),
    }[(refractory, probed)]
    neuron = proc_cls(**common)
    if model_cls is not None:
        graph.exception_map[neuron] = model_cls
    return neuron


def _custom_connection(program: Any, index: int, proj: Any, graph: "LavaGraph") -> Any:
    """A :class:`PlasticConnection` or :class:`ReleaseConnection` for ``proj`` (all its synapses; weights as Lava's first step leaves them)."""
    from yuragi.backends.lava import learning as yl
    from yuragi.backends.lava import stochastic as ys

    weights = _lava_grid(proj.weights, int(proj.sign_mode), int(proj.num_weight_bits))  # = proj.weights (checked)
    common = dict(n_pre=proj.n_pre, n_post=proj.n_post, pre_idx=proj.pre_idx.copy(), post_idx=proj.post_idx.copy(), weights=weights,
                  weight_exp=int(proj.weight_exp), seed=int(program.seed), proj_index=index, name=proj.name)
    if proj.plasticity is None:
        conn = ys.ReleaseConnection(delays=proj.delays.copy(), release_prob=float(proj.release_prob), **common)
        graph.exception_map[conn] = ys.PyReleaseConnectionModelBitAcc
        return conn
    reward = proj.plasticity.reward
    probes = [p.variable for p in program.probes if p.target == proj.name]
    conn = yl.PlasticConnection(sign_mode=int(proj.sign_mode), program=proj.plasticity, probes=probes,
                                n_reward=program.population(reward).size if reward is not None else 1, **common)
    graph.exception_map[conn] = yl.PyPlasticConnectionModelBitAcc
    if probes:
        sink = yl.LearningProbeSink(shape=conn.learn_out.shape, buffer_size=graph.chunk, name=f"record:{proj.name}")
        conn.learn_out.connect(sink.in_port)
        graph.exception_map[sink] = yl.PyLearningProbeSinkModel
        graph.learning_recorders[proj.name] = (sink, yl.probe_layout(probes, proj.nnz, proj.n_pre, proj.n_post))
    return conn


def build_graph(program: Any, rasters: dict[str, np.ndarray], chunk: int) -> LavaGraph:
    """Lava processes for ``program`` (already checked), inputs for the first ``chunk`` steps loaded.

    Parameters
    ----------
    program : CompiledNetwork
        The network (see :func:`check_program`).
    rasters : dict of str to numpy.ndarray
        ``(steps, size)`` boolean raster of every input population.
    chunk : int
        Steps per Lava ``run`` call: the length of every recorder's pipe.
    """
    from lava.proc.dense.process import Dense
    from lava.proc.io.extractor import Extractor, PyLoihiExtractorModel
    from lava.proc.io.source import RingBuffer as SpikeSource

    from yuragi.backends.lava import processes as yp

    graph = LavaGraph(chunk=chunk)
    parts = _Components()
    probed = {p.target for p in program.probes if p.variable in ("u", "v")}
    for index, pop in enumerate(program.populations):
        if pop.is_input:
            continue
        neuron = _neuron(pop, index, int(program.seed), pop.name in probed, graph)
        graph.neurons[pop.name] = neuron
        port, rows = (neuron.state_out, yp.STATE_ROWS) if pop.name in probed else (neuron.s_out, ("s",))
        recorder = Extractor(shape=port.shape, buffer_size=chunk, name=f"record:{pop.name}")
        port.connect(recorder.in_port)
        graph.exception_map[recorder] = PyLoihiExtractorModel  # untagged (two models): select_tag cannot pick it
        graph.recorders[pop.name] = (recorder, rows)
        parts.union(neuron, recorder)

    def spikes_of(name: str) -> tuple[Any, Any]:
        """(process, spike OutPort) of a population: its neuron, or a RingBuffer of its whole raster."""
        if name in graph.neurons:
            return graph.neurons[name], graph.neurons[name].s_out
        if name not in graph.sources:  # the whole raster, (size, steps): time is the last axis
            graph.sources[name] = SpikeSource(data=np.ascontiguousarray(rasters[name].T, dtype=np.int32))
        return graph.sources[name], graph.sources[name].s_out

    for index, proj in enumerate(program.projections):
        kind = synapse_kind(proj)
        graph.synapse_kinds[proj.name] = kind
        post = graph.neurons[proj.post]
        if kind in ("PlasticConnection", "ReleaseConnection"):
            if not proj.nnz and kind == "ReleaseConnection":
                graph.synapses[proj.name] = []
                continue  # no synapse: contributes nothing (a plastic one still has traces to probe)
            pre_proc, pre_port = spikes_of(proj.pre)
            conn = _custom_connection(program, index, proj, graph)
            pre_port.connect(conn.s_in)
            conn.a_out.connect(post.a_in)
            parts.union(pre_proc, conn)
            parts.union(conn, post)
            if proj.name in graph.learning_recorders:
                parts.union(conn, graph.learning_recorders[proj.name][0])
            if kind == "PlasticConnection":
                post.s_out.connect(conn.s_in_bap)  # the post spikes of the same step
                if proj.plasticity.post_factor == "probability":
                    post.y1.connect(conn.s_in_y1)
                if proj.plasticity.reward is not None:
                    reward_proc, reward_port = spikes_of(proj.plasticity.reward)
                    reward_port.connect(conn.s_in_reward)
                    parts.union(reward_proc, conn)
            graph.synapses[proj.name] = [conn]
            continue
        layers = _layers(proj)
        if not layers:
            graph.synapses[proj.name] = []
            continue  # no synapse: contributes nothing
        pre_proc, pre_port = spikes_of(proj.pre)
        procs = []
        for i, sel in enumerate(layers):
            name = proj.name if len(layers) == 1 else f"{proj.name}#{i}"
            conn = _connection(proj, sel, kind, name)
            pre_port.connect(conn.s_in)
            conn.a_out.connect(post.a_in)
            parts.union(pre_proc, conn)
            parts.union(conn, post)
            procs.append(conn)
        graph.synapses[proj.name] = procs

    for pop in program.populations:  # clamped StochasticBinary: the clamp input's spikes of the same step
        if not pop.is_input and pop.clamp is not None:
            source, port = spikes_of(pop.clamp)
            port.connect(graph.neurons[pop.name].clamp_in)
            parts.union(source, graph.neurons[pop.name])

    # Tie disconnected parts into one graph: an all-zero Dense from a neuron of
    # each part into a neuron of the next (adds 0 to its a_in).
    neuron_ids = {id(n) for n in graph.neurons.values()}
    heads = [next(p for p in members if id(p) in neuron_ids) for members in parts.roots().values()]
    for src, dst in zip(heads, heads[1:]):
        bridge = Dense(weights=np.zeros((dst.a_in.shape[0], src.s_out.shape[0]), dtype=np.int64), name=f"bridge:{src.name}->{dst.name}")
        src.s_out.connect(bridge.s_in)
        bridge.a_out.connect(dst.a_in)
        graph.bridges.append(bridge)
    graph.anchor = heads[0] if heads else None
    return graph
