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
spikes of every neuron population      ``lava.proc.io.extractor.Extractor`` -> ``PyLoihiExtractorModel``
probed ``u`` / ``v``                   the population becomes ``ProbedLIF`` (ours: Lava's LIF and
                                       ``PyLifModelBitAcc`` + a ``state_out`` port sending spikes,
                                       u, v) -> one ``Extractor`` (no separate spike recorder)
=====================================  ===========================================

Lava traps this module works around (all checked against the 0.10.0 source):

- **sign_mode must be a SignMode enum.** The bit-accurate connection models
  compare ``sign_mode == SignMode.MIXED`` etc.; the plain int 1/2/3 of
  :mod:`yuragi.compiler.compiled` compares unequal to every member, so Lava
  would silently clip an int-moded matrix to ``[0, 255]`` (negative weights
  lost). We pass ``SignMode(proj.sign_mode)``.
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
#: Population kinds this backend runs (EIF, StochasticBinary: later).
SUPPORTED_KINDS = ("LIF",)


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
    return out


def _lava_grid(weights: np.ndarray, sign_mode: int, num_weight_bits: int) -> np.ndarray:
    """What Lava's bit-accurate connection models turn ``weights`` into on their first step."""
    from lava.utils.weightutils import SignMode, clip_weights, truncate_weights

    mode = SignMode(sign_mode)
    return truncate_weights(clip_weights(np.asarray(weights, dtype=np.int64), mode, num_bits=8), mode, num_weight_bits).astype(np.int64)


def _problems_of_projection(proj: Any, kinds: dict[str, str]) -> list[str]:
    where = f"projection '{proj.name}'"
    out = []
    if proj.plasticity is not None:
        out.append(f"{where} is plastic: the Lava backend does not run plasticity programs yet")
    if proj.release_prob < 1.0:
        out.append(f"{where} has release_prob={proj.release_prob}: stochastic release is not in the Lava backend yet")
    if kinds.get(proj.pre) is None or kinds.get(proj.post) is None:
        return out + [f"{where} connects unknown populations '{proj.pre}' -> '{proj.post}'"]
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
    problems: list[str] = []
    for pop in program.populations:
        if not pop.is_input:
            problems += _problems_of_population(pop)
    for proj in program.projections:
        problems += _problems_of_projection(proj, kinds)
    placed = {b.population for b in program.blocks}
    for pop in program.populations:
        if not pop.is_input:
            cores = program.core_of_neurons(pop.name)
            if pop.name not in placed or (cores < 0).any():
                problems.append(f"population '{pop.name}' is not (fully) placed on cores: compile the network first")
    for probe in program.probes:
        target, var = probe.target, probe.variable
        if var == "spikes" and target in kinds:
            continue
        if var in ("u", "v") and kinds.get(target) not in (None, "input"):
            continue
        if var == "w" and any(p.name == target for p in program.projections):
            continue
        problems.append(f"probe '{target}.{var}' is not available in the Lava backend")
    if problems:
        more = f" (and {len(problems) - 1} more: {'; '.join(problems[1:])})" if len(problems) > 1 else ""
        raise BackendError(f"cannot run '{program.name}' on Lava: {problems[0]}{more}")


def synapse_kind(proj: Any) -> str:
    """Name of the Lava connection process a projection becomes."""
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
    synapses: dict[str, list[Any]] = field(default_factory=dict)
    synapse_kinds: dict[str, str] = field(default_factory=dict)
    bridges: list[Any] = field(default_factory=list)
    exception_map: dict[Any, type] = field(default_factory=dict)
    anchor: Any = None

    @property
    def processes(self) -> list[Any]:
        """Every Lava process of the graph."""
        out = [*self.neurons.values(), *self.sources.values(), *(sink for sink, _ in self.recorders.values()), *self.bridges]
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
    from lava.proc.lif.process import LIF

    from yuragi.backends.lava import processes as yp

    graph = LavaGraph(chunk=chunk)
    parts = _Components()
    probed = {p.target for p in program.probes if p.variable in ("u", "v")}
    for pop in program.populations:
        if pop.is_input:
            continue
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
        }[(refractory, pop.name in probed)]
        neuron = proc_cls(**common)
        if model_cls is not None:
            graph.exception_map[neuron] = model_cls
        graph.neurons[pop.name] = neuron
        port, rows = (neuron.state_out, yp.STATE_ROWS) if pop.name in probed else (neuron.s_out, ("s",))
        recorder = Extractor(shape=port.shape, buffer_size=chunk, name=f"record:{pop.name}")
        port.connect(recorder.in_port)
        graph.exception_map[recorder] = PyLoihiExtractorModel  # untagged (two models): select_tag cannot pick it
        graph.recorders[pop.name] = (recorder, rows)
        parts.union(neuron, recorder)

    for proj in program.projections:
        kind = synapse_kind(proj)
        graph.synapse_kinds[proj.name] = kind
        layers = _layers(proj)
        if not layers:
            graph.synapses[proj.name] = []
            continue  # no synapse: contributes nothing
        if proj.pre in graph.neurons:
            pre_port, pre_proc = graph.neurons[proj.pre].s_out, graph.neurons[proj.pre]
        else:
            if proj.pre not in graph.sources:  # the whole raster, (size, steps): time is the last axis
                graph.sources[proj.pre] = SpikeSource(data=np.ascontiguousarray(rasters[proj.pre].T, dtype=np.int32))
            pre_proc = graph.sources[proj.pre]
            pre_port = pre_proc.s_out
        post = graph.neurons[proj.post]
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
