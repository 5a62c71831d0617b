"""The emulator's general step engine: stochastic neurons, stochastic release, plasticity, sessions.

Networks that use only LIF populations and static projections run on the
fast whole-run loops of :mod:`.kernels`. Every other network (a
StochasticBinary or EIF population, a projection with ``release_prob < 1``
or a plasticity program) runs here, one vectorised numpy step at a time, with the
per-step semantics of docs/backends.md ("Stochastic elements and learning"):

1. each neuron population updates from the input delivered for the step
   (:mod:`.neurons`: the numpy engine's LIF update; StochasticBinary through
   :func:`yuragi.fixedpoint.stochastic_binary_spikes`; EIF through
   :func:`yuragi.fixedpoint.eif.eif_step`); a clamped StochasticBinary
   population (``CompiledPopulation.clamp``) makes its draw and computes its
   probability as usual, but its spikes are those of its clamp input at the
   step;
2. each projection delivers the step's presynaptic spikes with its current
   weights into a ring buffer of future input (:mod:`.delivery`; release draws
   through :func:`yuragi.fixedpoint.release_mask`);
3. each plastic projection advances its traces
   (:func:`yuragi.fixedpoint.trace_step`) and, at an epoch end, applies its
   rules (:func:`yuragi.fixedpoint.apply_rules`); the new weights act from
   the next step on. A program with ``pre_timing='arrival'`` gets the pre
   spikes of the previous step (kept per projection, zeros before the
   first step);
4. probes record the state after the step.

Op counters come from :func:`yuragi.backends.counters.count_ops` on the
spike rasters (the same numbers every backend reports).

Sessions
--------
A :class:`Session` keeps the whole state (neurons, pending synaptic input,
weights, tags, traces) between calls of :meth:`Session.run`, for training
loops. A session counts rows from its start: the rows of a RunResult are
relative to the start of that ``run`` call, but every random draw (neurons,
release, learning, Poisson sources) and every learning epoch uses the
absolute row, so ``run(500)`` then ``run(500)`` equals one ``run(1000)``.
Sources that are not ExternalInput continue too (Poisson row 500 of the
session is Poisson row 500 of a single run); ExternalInput rasters are
given per call, row 0 = the call's first step.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from ...compiler.compiled import SIGN_EXCITATORY, SIGN_INHIBITORY, SIGN_MIXED, SIGN_NULL, CompiledNetwork
from ...errors import BackendError
from ...fixedpoint import LearningState, LoweredProgram, apply_rules, epoch_due, init_learning_state, lower_program, trace_step
from ..base import check_steps
from ..counters import COUNTER_NAMES, count_ops
from ..inputs import network_input_rasters
from ..result import RunResult, SpikeEvents
from .batch import BatchResult
from .delivery import Delivery
from .neurons import NEURON_KINDS, NeuronState, new_state
from .program import _layout, check_structure, lava_weights
from .progress import progress_bar

__all__ = ["GeneralProgram", "Session", "needs_general", "prepare_general", "run_general", "run_batch_general", "window_rasters"]

POPULATION_VARIABLES = ("spikes", "v", "u")
#: Probe variables of a plastic projection: synaptic variables (steps, nnz), pre traces (steps, n_pre), post traces (steps, n_post).
LEARNING_VARIABLES = ("w", "d", "t", "x1", "x2", "y1", "y2", "y3")
_TRACE = {"x1": ("x", 0), "x2": ("x", 1), "y1": ("y", 0), "y2": ("y", 1), "y3": ("y", 2)}
#: Weight range of a plastic synapse by sign mode (the learning engine's saturation).
_W_RANGE = {SIGN_EXCITATORY: (0, 255), SIGN_INHIBITORY: (-255, 0), SIGN_MIXED: (-256, 255)}


def needs_general(compiled: Any) -> bool:
    """Whether ``compiled`` needs the general engine (anything beyond LIF neurons and static, reliable synapses)."""
    if not isinstance(compiled, CompiledNetwork):
        return False
    return (any(not p.is_input and p.kind != "LIF" for p in compiled.populations)
            or any(p.release_prob != 1.0 or p.plasticity is not None for p in compiled.projections))


def _resolved_sign_mode(proj: Any) -> int:
    """The projection's sign mode; SIGN_NULL resolved as Lava's ``determine_sign_mode`` would."""
    if proj.sign_mode != SIGN_NULL:
        return int(proj.sign_mode)
    values = proj.weights if proj.nnz == proj.n_pre * proj.n_post else np.concatenate([proj.weights, [0]])
    lo, hi = int(values.min()), int(values.max())
    return SIGN_EXCITATORY if lo >= 0 else SIGN_INHIBITORY if hi <= 0 else SIGN_MIXED


@dataclass(frozen=True, eq=False)
class GeneralProgram:
    """A checked network for the general engine (build once, start many sessions).

    Parameters
    ----------
    compiled : CompiledNetwork
    neuron_pops : tuple of (int, CompiledPopulation)
        Neuron populations with their index in the network.
    columns : dict of str to int
        Ring-buffer column of each neuron population's neuron 0.
    n_columns, n_slots : int
        Ring buffer shape: neurons x (largest delay + 1).
    weights : tuple of numpy.ndarray
        Initial integer weights of every projection (Lava's clip/truncate of the compiled weights).
    lowered : dict of int to LoweredProgram
        Integer programs of the plastic projections, by projection index.
    sign_modes : tuple of int
        Sign mode of every projection (SIGN_NULL resolved).
    """

    compiled: CompiledNetwork
    neuron_pops: tuple[tuple[int, Any], ...]
    columns: dict[str, int]
    n_columns: int
    n_slots: int
    weights: tuple[np.ndarray, ...]
    lowered: dict[int, LoweredProgram]
    sign_modes: tuple[int, ...]

    @property
    def synapses(self) -> int:
        """Synapses held."""
        return int(sum(p.nnz for p in self.compiled.projections))


def _check_probes(compiled: CompiledNetwork) -> None:
    pops = {p.name: p for p in compiled.populations}
    projs = {p.name: p for p in compiled.projections}
    for probe in compiled.probes:
        if probe.target in pops:
            allowed = ("spikes",) if pops[probe.target].is_input else POPULATION_VARIABLES
            if probe.variable not in allowed:
                raise BackendError(f"probe '{probe.key}': population '{probe.target}' has no variable '{probe.variable}' (allowed: {', '.join(allowed)})")
        elif probe.target in projs:
            allowed = LEARNING_VARIABLES if projs[probe.target].plasticity is not None else ("w",)
            if probe.variable not in allowed:
                raise BackendError(f"probe '{probe.key}': projection '{probe.target}' has no variable '{probe.variable}' (allowed: {', '.join(allowed)})")
        else:
            raise BackendError(f"probe '{probe.key}': no population or projection called '{probe.target}'")


def _check_plastic(compiled: CompiledNetwork, proj: Any) -> None:
    where = f"projection '{proj.name}'"
    if proj.nnz and int(proj.delays.max()) != 1:
        raise BackendError(f"{where}: a plastic projection must have all delays 1 (Lava's LearningDense), got up to {int(proj.delays.max())}")
    if proj.release_prob != 1.0:
        raise BackendError(f"{where}: a plastic projection cannot have stochastic release (release_prob must be 1, got {proj.release_prob})")
    program = proj.plasticity
    post = compiled.population(proj.post)
    if program.post_factor == "probability":
        kind = NEURON_KINDS.get(post.kind)
        if kind is None or kind.probability7 is None:
            raise BackendError(f"{where}: post_factor='probability' needs a postsynaptic population with a firing probability (StochasticBinary), '{post.name}' is {post.kind}")
    if program.reward is not None:
        names = {p.name: p for p in compiled.populations}
        if program.reward not in names:
            raise BackendError(f"{where}: reward population '{program.reward}' is not in the network")
        if names[program.reward].size not in (1, proj.n_post):
            raise BackendError(f"{where}: reward population '{program.reward}' must have 1 or {proj.n_post} neurons, has {names[program.reward].size}")


def _check_clamp(compiled: CompiledNetwork, pop: Any) -> None:
    clamp = getattr(pop, "clamp", None)
    if clamp is None:
        return
    where = f"population '{pop.name}'"
    if pop.kind != "StochasticBinary":
        raise BackendError(f"{where}: only StochasticBinary populations can be clamped, it is {pop.kind} (clamp '{clamp}')")
    source = next((p for p in compiled.populations if p.name == clamp), None)
    if source is None or not source.is_input or source.size != pop.size:
        raise BackendError(f"{where}: clamp '{clamp}' must be an input population of {pop.size} neurons in the network")


def prepare_general(compiled: Any) -> GeneralProgram:
    """Check a network for the general engine (BackendError naming any element it cannot run)."""
    if isinstance(compiled, GeneralProgram):
        return compiled
    check_structure(compiled)
    neuron_pops = []
    for index, pop in enumerate(compiled.populations):
        if pop.is_input:
            continue
        kind = NEURON_KINDS.get(pop.kind)
        if kind is None:
            raise BackendError(f"population '{pop.name}': {pop.kind} neurons are not supported by the emulator yet (supported: {', '.join(NEURON_KINDS)})")
        problem = kind.check(pop) if kind.check is not None else None
        if problem:
            raise BackendError(f"population '{pop.name}': {problem}")
        _check_clamp(compiled, pop)
        neuron_pops.append((index, pop))
    _layout(compiled, [pop for _, pop in neuron_pops])  # every neuron placed (the counters need the cores)
    lowered = {}
    for index, proj in enumerate(compiled.projections):
        p = proj.release_prob
        if not isinstance(p, (int, float, np.floating, np.integer)) or not 0.0 <= float(p) <= 1.0:
            raise BackendError(f"projection '{proj.name}': release_prob must be a probability in [0, 1], got {p!r}")
        if proj.plasticity is not None:
            _check_plastic(compiled, proj)
            lowered[index] = lower_program(proj.plasticity)
    _check_probes(compiled)
    columns, at = {}, 0
    for _, pop in neuron_pops:
        columns[pop.name] = at
        at += pop.size
    max_delay = max((int(p.delays.max()) for p in compiled.projections if p.nnz), default=1)
    weights = tuple(lava_weights(p.weights, p.sign_mode, p.num_weight_bits, p.nnz < p.n_pre * p.n_post) for p in compiled.projections)
    return GeneralProgram(compiled, tuple(neuron_pops), columns, at, max_delay + 1, weights, lowered,
                          tuple(_resolved_sign_mode(p) for p in compiled.projections))


# ---------------------------------------------------------------- input windows


def window_rasters(compiled: CompiledNetwork, row0: int, steps: int, inputs: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Input rasters of every source for rows ``[row0, row0 + steps)`` of a session.

    ExternalInput rasters are taken from ``inputs`` (row 0 = ``row0``); the
    other sources continue their own sequence. For ``row0 = 0`` this is
    :func:`yuragi.backends.inputs.network_input_rasters`.
    """
    return network_input_rasters(compiled, steps, inputs, start=row0)


# ---------------------------------------------------------------- sessions


class Session:
    """A running network whose state persists between :meth:`run` calls (training loops).

    Parameters
    ----------
    program : CompiledNetwork or GeneralProgram
        The network (any network the emulator runs; LIF-only ones too, on
        this engine). A session starts from the compiled state: ``u_init``,
        ``v_init``, no pending input, the compiled weights, zero tags and traces.

    Notes
    -----
    ``row`` counts the steps run so far. Each :meth:`run` returns rows
    relative to its own start, while random draws, learning epochs and
    generated sources use the absolute row (see the module docstring).
    """

    def __init__(self, program: Any) -> None:
        prog = prepare_general(program)
        self.program = prog
        self.compiled: CompiledNetwork = prog.compiled
        self.row = 0
        projs = self.compiled.projections
        self._neurons: list[NeuronState] = [new_state(pop, index) for index, pop in prog.neuron_pops]
        self._by_name = {st.pop.name: st for st in self._neurons}
        self._steps = [(st, NEURON_KINDS[st.pop.kind].step, slice(prog.columns[st.pop.name], prog.columns[st.pop.name] + st.pop.size))
                       for st in self._neurons]
        self._ring = np.zeros((prog.n_slots, prog.n_columns), dtype=np.int64)
        self._static = {i: w.copy() for i, w in enumerate(prog.weights) if i not in prog.lowered}
        self._learning: dict[int, LearningState] = {
            i: init_learning_state(projs[i].pre_idx, projs[i].post_idx, prog.weights[i], projs[i].n_pre, projs[i].n_post) for i in prog.lowered
        }
        self._deliveries = [Delivery(proj, i, prog.columns[proj.post], prog.weights[i]) for i, proj in enumerate(projs)]
        # pre_timing='arrival': the pre spikes of the previous step, per plastic projection
        self._previous_pre = {i: np.zeros(projs[i].n_pre, dtype=bool) for i, lp in prog.lowered.items() if lp.pre_arrival}
        # spikes of the last (n_slots - 1) steps, still arriving in the next run (its active-update counters)
        self._recent = {p.name: np.zeros((prog.n_slots - 1, p.size), dtype=bool) for p in self.compiled.populations}

    # ------------------------------------------------------------ state access
    def _projection_index(self, proj: str) -> int:
        for i, p in enumerate(self.compiled.projections):
            if p.name == proj:
                return i
        raise BackendError(f"no projection called '{proj}' in network '{self.compiled.name}'")

    def weights(self, proj: str) -> np.ndarray:
        """Current integer weights of projection ``proj`` (a copy, ``(nnz,)`` in COO order)."""
        i = self._projection_index(proj)
        return (self._learning[i].w if i in self._learning else self._static[i]).copy()

    def learning_state(self, proj: str) -> dict[str, np.ndarray]:
        """Copies of a plastic projection's state: ``w``, ``d``, ``t`` ``(nnz,)``; ``x1``, ``x2`` ``(n_pre,)``; ``y1``..``y3`` ``(n_post,)``."""
        i = self._projection_index(proj)
        if i not in self._learning:
            raise BackendError(f"projection '{proj}' has no plasticity program (learning_state needs one)")
        st = self._learning[i]
        out = {"w": st.w.copy(), "d": st.d.copy(), "t": st.t.copy()}
        for name, (side, k) in _TRACE.items():
            out[name] = getattr(st, side)[k].copy()
        return out

    def set_learning_state(self, proj: str, state: Mapping[str, np.ndarray]) -> None:
        """Load a plastic projection's state, as :meth:`learning_state` returns it (any subset of its keys).

        For moving learned synapses into another program with the same
        projection (e.g. from a training network into the free network):
        ``w`` goes through :meth:`set_weights`; ``d`` must lie in [0, 255],
        ``t`` in [-257, 255]; traces in [0, 127]; shapes as in :meth:`learning_state`.
        """
        i = self._projection_index(proj)
        if i not in self._learning:
            raise BackendError(f"projection '{proj}' has no plasticity program (set_learning_state needs one)")
        st, p = self._learning[i], self.compiled.projections[i]
        limits = {"d": (0, 255), "t": (-257, 255)}
        for key, value in state.items():
            value = np.asarray(value)
            if key == "w":
                self.set_weights(proj, value)
                continue
            if key in limits:
                shape, (lo, hi) = (p.nnz,), limits[key]
            elif key in _TRACE:
                shape, (lo, hi) = ((p.n_pre,) if _TRACE[key][0] == "x" else (p.n_post,)), (0, 127)
            else:
                raise BackendError(f"set_learning_state: projection '{proj}' has no state '{key}' (w, d, t, {', '.join(_TRACE)})")
            if value.shape != shape or value.dtype.kind not in "iu" or (value.size and (int(value.min()) < lo or int(value.max()) > hi)):
                raise BackendError(f"set_learning_state: '{proj}.{key}' takes {shape} integers in [{lo}, {hi}], got {value.dtype} {value.shape}")
            if key in limits:
                setattr(st, key, value.astype(np.int64))
            else:
                side, k = _TRACE[key]
                getattr(st, side)[k] = value.astype(np.int64)

    def set_weights(self, proj: str, w: np.ndarray) -> None:
        """Replace the weights of projection ``proj`` from the next step on.

        ``w`` is ``(nnz,)`` integers in COO order, within the range of the
        projection's sign mode: [0, 255] excitatory, [-255, 0] inhibitory,
        [-256, 255] mixed. They are used as given (no truncation to
        ``num_weight_bits``); a plastic projection keeps learning from them.
        """
        i = self._projection_index(proj)
        p = self.compiled.projections[i]
        w = np.asarray(w)
        if w.shape != (p.nnz,) or w.dtype.kind not in "iu":
            raise BackendError(f"set_weights: projection '{proj}' takes ({p.nnz},) integer weights in COO order, got {w.dtype} {w.shape}")
        lo, hi = _W_RANGE[self.program.sign_modes[i]]
        if w.size and (int(w.min()) < lo or int(w.max()) > hi):
            raise BackendError(f"set_weights: projection '{proj}' weights must lie in [{lo}, {hi}] (its sign mode), got [{int(w.min())}, {int(w.max())}]")
        w = w.astype(np.int64)
        if i in self._learning:
            self._learning[i].w = w
        else:
            self._static[i] = w
        self._deliveries[i].set_weights(w)

    # ------------------------------------------------------------ stepping
    def _step(self, row: int, spikes: dict[str, np.ndarray]) -> None:
        """Advance every population and projection by step ``row`` (absolute); ``spikes`` holds the sources' rows, gets the neurons'."""
        seed = int(self.compiled.seed)
        slot = row % self._ring.shape[0]
        a_in = self._ring[slot].copy()
        self._ring[slot] = 0
        for st, step, cols in self._steps:
            sampled = step(st, a_in[cols], row, seed)  # a clamped population still draws (and computes its probability)
            spikes[st.pop.name] = spikes[st.pop.clamp].copy() if getattr(st.pop, "clamp", None) is not None else sampled
        for i, delivery in enumerate(self._deliveries):
            delivery.deliver(self._ring, row, spikes[delivery.proj.pre], self._learning[i].w if i in self._learning else self._static[i], seed)
        projs = self.compiled.projections
        for i, lp in self.program.lowered.items():
            proj, ls = projs[i], self._learning[i]
            prob7 = None
            if lp.post_probability:
                post = self._by_name[proj.post]
                prob7 = NEURON_KINDS[post.pop.kind].probability7(post)  # type: ignore[misc]
            reward = spikes[lp.reward] if lp.reward is not None else None
            pre = spikes[proj.pre]
            if lp.pre_arrival:  # the spikes that arrive at this step: emitted at the previous one
                pre, self._previous_pre[i] = self._previous_pre[i], pre.copy()
            trace_step(lp, ls, row, pre, spikes[proj.post], seed, i, prob7, reward)
            if epoch_due(lp, row):
                apply_rules(lp, ls, row, seed, i, self.program.sign_modes[i])
                self._deliveries[i].set_weights(ls.w)

    def _recorders(self, steps: int) -> tuple[dict[str, np.ndarray], list[tuple[np.ndarray, Callable[[], np.ndarray]]]]:
        """Probe arrays of one run and, for those recorded per step, a getter of the step's value."""
        out: dict[str, np.ndarray] = {}
        per_step = []
        index = {p.name: i for i, p in enumerate(self.compiled.projections)}
        for probe in self.compiled.probes:
            if probe.variable == "spikes":
                continue
            if probe.target in self._by_name:
                st = self._by_name[probe.target]
                getter = (lambda st=st: st.u) if probe.variable == "u" else (lambda st=st: st.v)
                width = st.pop.size
            else:
                i = index[probe.target]
                proj = self.compiled.projections[i]
                if i not in self._learning:  # static weights: constant over the run
                    out[probe.key] = np.broadcast_to(self._static[i].copy(), (steps, proj.nnz))
                    continue
                ls = self._learning[i]
                if probe.variable in ("w", "d", "t"):
                    getter, width = (lambda ls=ls, v=probe.variable: getattr(ls, v)), proj.nnz
                else:
                    side, k = _TRACE[probe.variable]
                    getter, width = (lambda ls=ls, side=side, k=k: getattr(ls, side)[k]), (proj.n_pre if side == "x" else proj.n_post)
            out[probe.key] = np.zeros((steps, width), dtype=np.int64)
            per_step.append((out[probe.key], getter))
        return out, per_step

    def run(self, steps: int, inputs: Mapping[str, np.ndarray] | None = None, progress: bool = False) -> RunResult:
        """Run ``steps`` more steps from the current state.

        Parameters
        ----------
        steps : int
            Steps to run.
        inputs : mapping of str to numpy.ndarray, optional
            ``(>= steps, size)`` 0/1 rasters of the ExternalInput populations,
            row 0 = this call's first step.
        progress : bool
            Show a progress bar.

        Returns
        -------
        RunResult
            Rows ``0 .. steps - 1`` of this call (absolute rows ``row .. row + steps - 1``);
            ``meta["row0"]`` is the absolute row of its first step.
        """
        steps = check_steps(steps)
        compiled, row0 = self.compiled, self.row
        sources = window_rasters(compiled, row0, steps, inputs)
        rasters = {p.name: (sources[p.name] if p.is_input else np.zeros((steps, p.size), dtype=bool)) for p in compiled.populations}
        probes, per_step = self._recorders(steps)
        t0 = time.perf_counter()
        with progress_bar(progress, steps, f"emulator {compiled.name}") as advance:
            for t in range(steps):
                spikes = {name: raster[t] for name, raster in sources.items()}
                self._step(row0 + t, spikes)
                self.row = row0 + t + 1
                for st in self._neurons:
                    rasters[st.pop.name][t] = spikes[st.pop.name]
                for arr, get in per_step:
                    arr[t] = get()
                if progress and (t + 1) % 100 == 0:
                    advance(100)
            advance(steps % 100)
        run_s = time.perf_counter() - t0
        counters = count_ops(compiled, rasters, steps, row0, self._recent)
        keep = self.program.n_slots - 1
        self._recent = {name: np.concatenate([self._recent[name], r])[-keep:] if keep else self._recent[name] for name, r in rasters.items()}
        meta = {
            "engine": "general",
            "row0": row0,
            "run_s": round(run_s, 6),
            "us_per_step": round(1e6 * run_s / steps, 3),
            "neurons": int(self.program.n_columns),
            "synapses": self.program.synapses,
        }
        return RunResult(compiled.name, "emulator", steps, float(compiled.dt), int(compiled.seed),
                         {name: SpikeEvents.from_raster(r) for name, r in rasters.items()}, probes,
                         {k: counters[k] for k in COUNTER_NAMES}, meta)


def run_general(program: Any, steps: int, inputs: Mapping[str, np.ndarray] | None = None, progress: bool = False) -> RunResult:
    """One run on the general engine: a fresh :class:`Session` and one :meth:`Session.run`."""
    t0 = time.perf_counter()
    session = Session(program)
    build_s = time.perf_counter() - t0
    result = session.run(steps, inputs, progress)
    result.meta["build_s"] = round(build_s, 6)
    return result


def run_batch_general(program: GeneralProgram, steps: int, batch: Mapping[str, np.ndarray], detail: bool, advance: Callable[[int], None]) -> BatchResult:
    """Samples of a batch on the general engine, one fresh session each.

    Sample ``s`` is exactly ``run(dataclasses.replace(compiled, seed=(compiled.seed + s) % 2**32), steps, {k: v[s]})``:
    its own random draws (and so its own Poisson and other generated sources);
    nothing, learning included, carries over between samples.
    """
    compiled = program.compiled
    n_samples = next(iter(batch.values())).shape[0]
    t0 = time.perf_counter()
    results = []
    for s in range(n_samples):
        seeded = dataclasses.replace(program, compiled=dataclasses.replace(compiled, seed=(int(compiled.seed) + s) % 2**32))
        results.append(Session(seeded).run(steps, {k: v[s] for k, v in batch.items()}))
        advance(1)
    run_s = time.perf_counter() - t0
    meta = {"engine": "general", "run_s": round(run_s, 6), "us_per_step": round(1e6 * run_s / (steps * n_samples), 3),
            "neurons": int(program.n_columns), "synapses": program.synapses, "samples": n_samples, "steps_per_sample": steps,
            "seeds": "compiled.seed + sample"}
    counts, first = {}, {}
    for pop in compiled.populations:
        rasters = [r.raster(pop.name) for r in results]
        counts[pop.name] = np.stack([r.sum(axis=0) for r in rasters]).astype(np.int64)
        first[pop.name] = np.stack([np.where(r.any(axis=0), r.argmax(axis=0), -1) for r in rasters]).astype(np.int64)
    totals = {k: np.stack([r.counters[k].sum(axis=0) for r in results]) for k in COUNTER_NAMES}
    return BatchResult(compiled.name, "emulator", steps, float(compiled.dt), int(compiled.seed), n_samples, counts, first, totals,
                       tuple(results) if detail else (), meta)
