"""The Lava backend: a CompiledNetwork as real Lava processes, run bit-accurately.

:func:`run` builds one Lava process per population and projection
(:mod:`yuragi.backends.lava.build`: Lava's LIF or yuragi's bit-accurate
refractory LIF, yuragi's StochasticBinary and EIF neurons, Dense / DelayDense /
Sparse / DelaySparse, yuragi's stochastic-release and plastic connections,
RingBuffer spike sources, Extractor recorders), runs them on
``Loihi2SimCfg(select_tag="fixed_pt")`` — Lava's bit-accurate CPU models and
ours (:mod:`.processes`, :mod:`.stochastic`, :mod:`.eif`, :mod:`.learning`) — or on
``Loihi2HwCfg`` with ``hw=True`` when Intel's lava-loihi is installed, and
returns a :class:`~yuragi.backends.result.RunResult` with the spikes of every
population, the probed ``u``/``v``, the probed learning state
(``w``/``d``/``t`` per synapse, ``x1``/``x2``/``y1``/``y2``/``y3`` per
neuron, after each step) and the op counters.

The integer semantics are those of docs/backends.md; the Lava traps met on the
way are listed in :mod:`yuragi.backends.lava.build`.
"""

from __future__ import annotations

import importlib
import math
import multiprocessing
import sys
import time
import warnings
from typing import Any, Mapping

import numpy as np
from scipy.sparse import SparseEfficiencyWarning

from ...errors import BackendError
from ..base import check_steps
from ..counters import count_ops
from ..inputs import network_input_rasters
from ..result import RunResult, SpikeEvents

name = "lava"

#: Steps per Lava ``run`` call (the recorders' pipe length) is at most this ...
MAX_CHUNK = 2000
#: ... and small enough that one chunk of recorded values stays below this many numbers.
MAX_CHUNK_VALUES = 4_000_000
#: With ``progress``, at least this many chunks (one progress update each).
PROGRESS_UPDATES = 50

HW_MISSING = (
    "hw=True needs Intel's lava-loihi package (lava.utils.loihi2_profiler / Loihi 2 NeuroCore models), "
    "which is not installed: lava-loihi is Intel's INRC package, available to INRC members only; "
    "run without hw to use Lava's bit-accurate CPU simulation"
)


def preload() -> None:
    """Import Lava's runtime now.

    Lava 0.10.0 calls ``multiprocessing.set_start_method('fork')`` (without
    ``force``) when its runtime is first imported, which raises once anything
    else has fixed the start method — numba does when it starts its thread
    pool (the emulator's threaded loop), scikit-learn's estimators do via
    joblib. When the method fixed is ``fork`` anyway, the default is released
    (``set_start_method(None, force=True)``) so that Lava can set the same one
    again; any other method (``spawn``, ``forkserver``) stays, and the conflict
    is a BackendError naming the fix. :func:`run` calls this first.
    """
    if "lava.magma.runtime.runtime" in sys.modules:
        return
    if multiprocessing.get_start_method(allow_none=True) == "fork":
        multiprocessing.set_start_method(None, force=True)
    try:
        importlib.import_module("lava.magma.runtime.runtime")  # imported for its side effect
    except RuntimeError as exc:
        if "context has already been set" not in str(exc):
            raise
        raise BackendError(
            f"lava-nc 0.10.0 cannot start: this process fixed the multiprocessing start method to "
            f"'{multiprocessing.get_start_method()}' before Lava was first imported (Lava needs 'fork'); call "
            "yuragi.backends.lava.preload() before that, or run Lava in a separate process"
        ) from None


def _lava_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lava-nc")
    except PackageNotFoundError:  # pragma: no cover - a source checkout of Lava
        return "unknown"


def _check_hw(hw: bool) -> None:
    if hw:
        from lava.utils.loihi import is_installed  # looks for lava.utils.loihi2_profiler (lava-loihi)

        if not is_installed():
            raise BackendError(HW_MISSING)


def _run_config(hw: bool, exception_map: dict) -> tuple[Any, str]:
    if hw:
        from lava.magma.core.run_configs import Loihi2HwCfg

        return Loihi2HwCfg(select_tag="fixed_pt", exception_proc_model_map=exception_map), "Loihi2HwCfg(select_tag='fixed_pt')"
    from lava.magma.core.run_configs import Loihi2SimCfg

    return Loihi2SimCfg(select_tag="fixed_pt", exception_proc_model_map=exception_map), "Loihi2SimCfg(select_tag='fixed_pt')"


def _chunk_size(program: Any, steps: int, progress: bool, chunk: int | None) -> int:
    if chunk is not None:
        if not isinstance(chunk, (int, np.integer)) or chunk <= 0:
            raise BackendError(f"chunk must be a positive integer, got {chunk!r}")
        return min(int(chunk), steps)
    probed = {p.target for p in program.probes if p.variable in ("u", "v")}
    recorded = sum(p.size * (3 if p.name in probed else 1) for p in program.populations if not p.is_input)
    projections = {p.name: p for p in program.projections}
    sizes = {p.name: p.size for p in program.populations}
    for probe in program.probes:
        proj = projections.get(probe.target)
        if proj is not None and proj.plasticity is not None:
            recorded += proj.nnz if probe.variable in ("w", "d", "t") else sizes[proj.pre if probe.variable[0] == "x" else proj.post]
    size = max(1, min(MAX_CHUNK, MAX_CHUNK_VALUES // max(recorded, 1)))
    if progress:
        size = min(size, math.ceil(steps / PROGRESS_UPDATES))
    return max(1, min(size, steps))


class _Progress:
    """A rich progress bar (or nothing)."""

    def __init__(self, enabled: bool, steps: int, label: str) -> None:
        self.bar = None
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(label, total=steps)

    def advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _run_chunks(graph: Any, run_cfg: Any, run_steps: Any, steps: int, chunk_steps: int, spikes: dict, probes: dict, bar: "_Progress") -> tuple[float | None, float]:
    """Run the Lava graph chunk by chunk, draining the recorders' pipes after each ``run`` call.

    Returns the wall-clock times at which the first chunk and the last one were done.
    """
    first = None
    for start in range(0, steps, chunk_steps) if graph.anchor is not None else ():
        n = min(chunk_steps, steps - start)
        graph.anchor.run(condition=run_steps(num_steps=n, blocking=True), run_cfg=run_cfg)
        if first is None:
            first = time.perf_counter()
        for pop_name, (recorder, rows) in graph.recorders.items():
            # one (rows..., neurons) float64 array per step, in order, from the Extractor's pipe
            data = np.stack([recorder.receive() for _ in range(n)]).reshape(n, len(rows), -1)
            spikes[pop_name][start:start + n] = data[:, 0] != 0
            for row, var in enumerate(rows[1:], start=1):
                key = f"{pop_name}.{var}"
                if key in probes:
                    probes[key][start:start + n] = data[:, row].astype(np.int64)
        for proj_name, (recorder, layout) in graph.learning_recorders.items():
            # one vector per step: the probed learning variables after the step, concatenated
            data = np.stack([recorder.receive() for _ in range(n)]).astype(np.int64)
            for var, lo, hi in layout:
                probes[f"{proj_name}.{var}"][start:start + n] = data[:, lo:hi]
        bar.advance(n)
    return first, time.perf_counter()


def run(
    program: Any,
    steps: int,
    inputs: Mapping[str, np.ndarray] | None = None,
    progress: bool = False,
    hw: bool = False,
    chunk: int | None = None,
) -> RunResult:
    """Run a CompiledNetwork on Lava for ``steps`` steps.

    Parameters
    ----------
    program : CompiledNetwork
        A quantized, placed network (LIF, StochasticBinary and EIF populations,
        static, stochastic-release and plastic projections).
    steps : int
        Steps to simulate (result step ``t`` is Lava time step ``t + 1``).
    inputs : mapping of str to numpy.ndarray, optional
        ``(>= steps, size)`` 0/1 rasters of the network's ExternalInput populations.
    progress : bool
        Show a progress bar (the run is split into chunks of steps).
    hw : bool
        Run on Loihi 2 (``Loihi2HwCfg``); needs Intel's lava-loihi, else BackendError.
    chunk : int, optional
        Steps per Lava ``run`` call (default: automatic). Results do not depend on it.

    Returns
    -------
    RunResult
        Spikes of every population (inputs included), the probed ``pop.u`` /
        ``pop.v`` as int64 ``(steps, size)`` arrays (``proj.w``: the static
        weights, ``(steps, nnz)``), op counters, and ``meta`` with timings.

    Raises
    ------
    BackendError
        For anything this backend cannot run (the message names the element),
        bad inputs, or ``hw=True`` without lava-loihi.
    """
    from .build import build_graph, check_program

    started = time.perf_counter()
    steps = check_steps(steps)
    _check_hw(hw)
    preload()
    check_program(program)
    rasters = network_input_rasters(program, steps, inputs)
    chunk_steps = _chunk_size(program, steps, progress, chunk)
    graph = build_graph(program, rasters, chunk_steps)
    run_cfg, cfg_name = _run_config(hw, graph.exception_map)
    built = time.perf_counter()

    spikes = {n: np.zeros((steps, program.population(n).size), dtype=bool) for n in graph.neurons}
    probes = {p.key: np.zeros((steps, program.population(p.target).size), dtype=np.int64) for p in program.probes if p.variable in ("u", "v")}
    for proj_name, (_, layout) in graph.learning_recorders.items():
        for var, lo, hi in layout:
            probes[f"{proj_name}.{var}"] = np.zeros((steps, hi - lo), dtype=np.int64)
    first_step_done = None
    loop_done = built
    bar = _Progress(progress, steps, f"lava {program.name}")
    try:
        from lava.magma.core.run_conditions import RunSteps

        with warnings.catch_warnings():
            # Lava's DelaySparse assigns into a csr matrix every step (get_delay_wgts_mat), which
            # makes scipy warn in every such process; the Lava processes inherit this filter (fork).
            warnings.filterwarnings("ignore", category=SparseEfficiencyWarning)
            first_step_done, loop_done = _run_chunks(graph, run_cfg, RunSteps, steps, chunk_steps, spikes, probes, bar)
    except BackendError:
        raise
    except Exception as exc:  # Lava's own failures, as one line naming the network
        message = " ".join(str(exc).split())
        raise BackendError(f"Lava failed to run '{program.name}': {type(exc).__name__}: {message}") from exc
    finally:
        bar.close()
        if graph.anchor is not None:
            graph.anchor.stop()
    finished = time.perf_counter()

    all_rasters = {**rasters, **spikes}
    for probe in program.probes:
        if probe.variable == "w" and probe.key not in probes:
            proj = program.projection(probe.target)
            probes[probe.key] = np.broadcast_to(proj.weights, (steps, proj.nnz))  # static weights
    counters = count_ops(program, all_rasters, steps)
    first = first_step_done or built
    meta = {
        "run_config": cfg_name,
        "hw": bool(hw),
        "lava_version": _lava_version(),
        "lava_processes": len(graph.processes),
        "synapse_processes": dict(graph.synapse_kinds),
        "yuragi_neuron_models": {n: graph.exception_map[p].__name__ for n, p in graph.neurons.items() if p in graph.exception_map},
        "yuragi_connection_models": {n: graph.exception_map[c[0]].__name__ for n, c in graph.synapses.items() if c and c[0] in graph.exception_map},
        "needs_loihi2_microcode": [p.name for p in program.populations if not p.is_input and (int(p.refractory) > 0 or p.kind in ("StochasticBinary", "EIF"))]
        + [p.name for p in program.projections if p.release_prob < 1.0 or (p.plasticity is not None and (p.plasticity.post_factor or p.plasticity.reward))],
        "chunk_steps": chunk_steps,
        "wall_time_s": finished - started,
        "build_time_s": built - started,
        "compile_and_first_chunk_s": first - built,
        "stop_s": finished - loop_done,
        "ms_per_step": 1e3 * (loop_done - built) / steps,
    }
    if steps > chunk_steps:
        meta["ms_per_step_after_first_chunk"] = 1e3 * (loop_done - first) / (steps - chunk_steps)
    return RunResult(
        network=program.name,
        backend=name,
        steps=steps,
        dt=float(program.dt),
        seed=int(program.seed),
        spikes={pop.name: SpikeEvents.from_raster(all_rasters[pop.name]) for pop in program.populations},
        probes=probes,
        counters=counters,
        meta=meta,
    )
