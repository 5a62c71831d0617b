"""The emulator backend: bit-exact with the Lava backend, orders of magnitude faster.

Runs a :class:`~yuragi.compiler.compiled.CompiledNetwork` with the integer
semantics of docs/backends.md (Lava's ``PyLifModelBitAcc`` +
``PyDenseModelBitAcc`` / ``PyDelayDenseModelBitAcc``, int32 corner cases
included; StochasticBinary neurons, stochastic release and plasticity
programs with the reference arithmetic of :mod:`yuragi.fixedpoint`) and
returns the same :class:`~yuragi.backends.result.RunResult` as the Lava and
Brian2 backends: spikes of every population (events), the probed variables
only, and op counters per step and per core (equal to
:func:`yuragi.backends.counters.count_ops`).

Two engines, chosen per network:

* **LIF fast path** (networks of LIF populations and static projections
  with ``release_prob = 1``). Synaptic input is event driven: per step only
  the synapses of the neurons that spiked are visited (CSR by presynaptic
  neuron, grouped by delay) and added into a ring buffer of future input,
  one slot per step of delay (see :mod:`.program`), so the cost grows with
  spikes x fan-out, not with the number of synapses. The whole run is one
  compiled loop when numba is installed (``engine="numba"``, the default
  then), else vectorised numpy (``engine="numpy"``); both give identical
  results and compute the counters inside the loop.
* **General engine** (:mod:`.general`; any StochasticBinary or EIF
  population, ``release_prob < 1`` or plasticity program): one vectorised numpy step at
  a time (the same LIF update), counters from ``count_ops``. ``engine`` is
  ignored for these networks. New neuron kinds plug in through
  :data:`.neurons.NEURON_KINDS`.

API
---
``run(program, steps, inputs=None, progress=False, engine="auto") -> RunResult``
    One run. ``program`` is a CompiledNetwork or what :func:`prepare`
    returned for it (check/flatten once, run many times); on the general
    engine a fresh :class:`Session` and one ``Session.run``.
``Session(program)``
    A network whose state (neurons, pending input, weights, tags, traces)
    persists between ``session.run(steps, inputs=None)`` calls, for training
    loops; ``learning_state(proj)``, ``weights(proj)``, ``set_weights(proj, w)``.
    A session's rows continue: each RunResult's rows are relative to the
    start of its call, but random draws, learning epochs and generated
    sources use the absolute row, so ``run(500)`` + ``run(500)`` equals
    ``run(1000)``. Always runs on the general engine.
``run_batch(program, steps, batch_inputs, ...) -> BatchResult``
    Many independent input samples of one network (inference over a data
    set): ``batch_inputs[name]`` is a ``(samples, steps, size)`` raster of each
    ``ExternalInput`` population. Fast path: other sources are the same for
    every sample. General engine: sample ``s`` runs from the compiled state
    (no learning carries over) with seed ``compiled.seed + s``, exactly as
    ``run`` of the network with that seed (its generated sources differ too).
    Returns spike counts, first-spike steps and counter totals per sample;
    ``detail=True`` also keeps one full RunResult per sample.

EIF populations (the neuron program of :mod:`yuragi.fixedpoint.eif`) run on
the general engine. Elements the emulator cannot run raise a BackendError
naming them.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Mapping

import numpy as np

from ...errors import BackendError
from ...ir.neurons import ExternalInput
from ..base import check_steps
from ..counters import COUNTER_DTYPE, COUNTER_NAMES, as_counter_array
from ..inputs import network_input_rasters
from ..result import RunResult, SpikeEvents
from .batch import BatchResult
from .general import GeneralProgram, Session, needs_general, prepare_general, run_batch_general, run_general
from .kernels import HAVE_NUMBA, NumpyEngine, run_chunk_numba, run_chunk_threads
from .program import N_COUNTERS, Program, lava_weights
from .program import prepare as prepare_lif
from .progress import progress_bar
from .threads import MIN_NEURONS, ThreadPlan
from .threads import plan as thread_plan

__all__ = ["name", "run", "run_batch", "prepare", "Program", "GeneralProgram", "Session", "BatchResult", "HAVE_NUMBA", "ENGINES", "default_engine"]

name = "emulator"
ENGINES = ("auto", "numba", "numpy")


def default_engine() -> str:
    """``numba`` when importable (set ``YURAGI_EMULATOR_ENGINE=numpy`` to force numpy), else ``numpy``."""
    forced = os.environ.get("YURAGI_EMULATOR_ENGINE", "").strip().lower()
    if forced in ("numba", "numpy"):
        return forced
    return "numba" if HAVE_NUMBA else "numpy"


def _engine(engine: str) -> str:
    if engine not in ENGINES:
        raise BackendError(f"emulator engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "auto":
        return default_engine()
    if engine == "numba" and not HAVE_NUMBA:
        raise BackendError("emulator engine 'numba' needs the numba package (pip install numba), or use engine='numpy'")
    return engine


_progress = progress_bar


def prepare(compiled: Any) -> Program | GeneralProgram:
    """Check and flatten a CompiledNetwork once: a :class:`Program` (LIF fast path) or a
    :class:`GeneralProgram` (general engine), whichever the network needs; prepared programs pass through."""
    if isinstance(compiled, (Program, GeneralProgram)):
        return compiled
    return prepare_general(compiled) if needs_general(compiled) else prepare_lif(compiled)


# ---------------------------------------------------------------- inputs


def _input_events(prog: Program, steps: int, rasters: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Input spikes as CSR by step: ``in_indptr`` (steps + 1), global neuron ids ascending within a step."""
    ts, ids = [], []
    for pop in prog.input_pops:
        t, i = np.nonzero(np.asarray(rasters[pop.name][:steps], dtype=bool))
        ts.append(t)
        ids.append(i + prog.offsets[pop.name])
    if ts:
        t = np.concatenate(ts)
        ids_all = np.concatenate(ids)
        order = np.lexsort((ids_all, t))
        t, ids_all = t[order], ids_all[order]
    else:
        t = ids_all = np.zeros(0, dtype=np.int64)
    indptr = np.zeros(steps + 1, dtype=np.int64)
    np.cumsum(np.bincount(t, minlength=steps)[:steps], out=indptr[1:])
    return indptr, ids_all.astype(np.int64)


def _probe_layout(prog: Program) -> tuple[np.ndarray, np.ndarray, dict[str, tuple[str, int, int]]]:
    """Concatenated probe indices for u and v, and where each probe key sits in them."""
    where: dict[str, tuple[str, int, int]] = {}
    idx = {"u": [], "v": []}
    for var, table in (("u", prog.probe_u), ("v", prog.probe_v)):
        at = 0
        for key, ids in table.items():
            idx[var].append(ids)
            where[key] = (var, at, at + ids.size)
            at += ids.size
    cat = {k: (np.concatenate(v) if v else np.zeros(0, dtype=np.int64)) for k, v in idx.items()}
    return cat["u"], cat["v"], where


# ---------------------------------------------------------------- one sample, numba


def _numba_threads() -> int:
    """numba's thread count, its thread pool started.

    Starting the pool reads multiprocessing's start method, which fixes the
    default; lava-nc 0.10.0 then cannot set its own on import (it sets 'fork'
    without ``force``). The default is released again if nothing had fixed it.
    """
    import numba  # only the numba engine comes here

    before = multiprocessing.get_start_method(allow_none=True)
    threads = numba.get_num_threads()
    if before is None:
        multiprocessing.set_start_method(None, force=True)
    return threads


def _thread_plan(prog: Program, threads: int | None) -> ThreadPlan:
    """The parts the numba kernel runs on: ``threads`` (None: numba's thread count for networks
    of at least MIN_NEURONS LIF neurons, else one), fewer if the placement allows no clean cut."""
    if threads is None:
        threads = _numba_threads() if prog.n_lif >= MIN_NEURONS else 1
    elif isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise BackendError(f"threads must be a whole number >= 1, got {threads!r}")
    elif threads > 1:
        _numba_threads()
    threads = int(threads)
    if threads not in prog.thread_plans:
        prog.thread_plans[threads] = thread_plan(prog, threads)
    return prog.thread_plans[threads]


def _sample_numba(prog: Program, steps: int, in_indptr: np.ndarray, in_ids: np.ndarray, detail: bool, advance: Any = None,
                  chunk: int | None = None, threads: int | None = None) -> dict[str, Any]:
    n, n_total = prog.n_lif, prog.n_total
    C = prog.n_cores
    tp = _thread_plan(prog, threads)
    # Lava's u, v are int32: the kernel keeps them packed in one int64 per neuron
    uv = (prog.u_init.astype(np.int32).astype(np.int64) << 32) | (prog.v_init.astype(np.int32).astype(np.int64) & 0xFFFFFFFF)
    refr_end = np.full(n, -1, dtype=np.int32)
    ring = np.zeros(prog.n_slots * n, dtype=np.int64)
    scratch = np.zeros(prog.n_scratch, dtype=np.int64)
    touched = np.zeros(prog.s_w.size, dtype=np.int64)
    # per-step counters in the result's dtype when no count can exceed it; totals (detail off) in int64
    counters = np.zeros((N_COUNTERS, steps if detail else 1, C), dtype=COUNTER_DTYPE if detail and prog.counts_fit_counter_dtype else np.int64)
    pu, pv, where = _probe_layout(prog) if detail else (np.zeros(0, np.int64), np.zeros(0, np.int64), {})
    out_u = np.zeros((steps if pu.size else 0, pu.size), dtype=np.int64)
    out_v = np.zeros((steps if pv.size else 0, pv.size), dtype=np.int64)
    cap = max(2 * n_total, 1 << 16) if detail else 0
    ev_t = np.zeros(cap, dtype=np.int32)
    ev_n = np.zeros(cap, dtype=np.int32)
    counts = np.zeros(n_total, dtype=np.int64)
    first = np.full(n_total, -1, dtype=np.int64)
    spk = np.zeros(n_total, dtype=np.int64)
    if tp.parts > 1:
        parts = (tp.seg_split, np.zeros((tp.parts, n), dtype=np.int64), np.zeros(tp.parts, dtype=np.int64))
        kernel = run_chunk_threads
    else:
        parts = ()
        kernel = run_chunk_numba
    n_ev = 0
    t = 0
    chunk = chunk or steps
    while t < steps:
        t1 = min(steps, t + chunk)
        reached, n_ev = kernel(
            t, t1, n, prog.n_slots,
            prog.seg_start, prog.seg_core, prog.seg_ukeep, prog.seg_vkeep, prog.seg_vth, prog.seg_refr, prog.bias2,
            uv, refr_end, ring,
            prog.grp_ptr, tp.g_split, prog.g_delay, prog.syn_post, prog.syn_w,
            prog.s_indptr, prog.s_off, prog.s_toff, prog.s_w, prog.s_shift, scratch, touched,
            in_indptr, in_ids,
            prog.core_of, tp.dc_split, prog.dc_core, prog.dc_syn, prog.msgs,
            detail, 0, counters,
            pu, out_u, pv, out_v,
            detail, ev_t, ev_n, n_ev,
            counts, first, spk, *parts,
        )
        if advance is not None and reached > t:
            advance(reached - t)
        if reached < t1:  # event buffer full: grow and resume
            new = 2 * ev_t.size + n_total
            ev_t = np.concatenate([ev_t[:n_ev], np.zeros(new - n_ev, dtype=np.int32)])
            ev_n = np.concatenate([ev_n[:n_ev], np.zeros(new - n_ev, dtype=np.int32)])
        t = reached
    out = {"counts": counts, "first": first, "counters": counters, "threads": tp.parts}
    if detail:
        out["events"] = (ev_t[:n_ev].astype(np.int64), ev_n[:n_ev].astype(np.int64))
        out["probes"] = {key: (out_u if var == "u" else out_v)[:, a:b] for key, (var, a, b) in where.items()}
    return out


# ---------------------------------------------------------------- S samples, numpy


def _samples_numpy(prog: Program, steps: int, input_row: Any, S: int, detail: bool, advance: Any = None) -> list[dict[str, Any]]:
    """``input_row(t) -> (S, n_inputs)`` bool. Returns one dict per sample (as :func:`_sample_numba`)."""
    eng = NumpyEngine(prog, S)
    C = prog.n_cores
    counters = np.zeros((N_COUNTERS, steps if detail else 1, S, C), dtype=np.int64)
    pu, pv, where = _probe_layout(prog) if detail else (None, None, {})
    probe_rows = {}
    for key, (var, a, b) in where.items():
        idx = (pu if var == "u" else pv)[a:b]
        probe_rows[f"{key}"] = (idx, np.zeros((S, steps, idx.size), dtype=np.int64))
    counts = np.zeros((S, prog.n_total), dtype=np.int64)
    first = np.full((S, prog.n_total), -1, dtype=np.int64)
    ev_s, ev_t, ev_n = [], [], []
    for t in range(steps):
        s_all, n_all = eng.step(t, input_row(t), counters[:, t if detail else 0], probe_rows)
        if n_all.size:
            np.add.at(counts, (s_all, n_all), 1)
            new = first[s_all, n_all] < 0
            first[s_all[new], n_all[new]] = t
            if detail:
                ev_s.append(s_all)
                ev_t.append(np.full(s_all.size, t, dtype=np.int64))
                ev_n.append(n_all)
        if advance is not None:
            advance(1)
    out = []
    if detail:
        es = np.concatenate(ev_s) if ev_s else np.zeros(0, np.int64)
        et = np.concatenate(ev_t) if ev_t else np.zeros(0, np.int64)
        en = np.concatenate(ev_n) if ev_n else np.zeros(0, np.int64)
    for s in range(S):
        d = {"counts": counts[s], "first": first[s], "counters": counters[:, :, s, :]}
        if detail:
            m = es == s
            d["events"] = (et[m], en[m])
            d["probes"] = {key: out_[s] for key, (_, out_) in probe_rows.items()}
        out.append(d)
    return out


# ---------------------------------------------------------------- results


def _spike_events(prog: Program, events: tuple[np.ndarray, np.ndarray]) -> dict[str, SpikeEvents]:
    ev_t, ev_n = events
    out = {}
    for pop in prog.compiled.populations:
        lo = prog.offsets[pop.name]
        m = (ev_n >= lo) & (ev_n < lo + pop.size)
        out[pop.name] = SpikeEvents(pop.size, ev_t[m].astype(np.int64), (ev_n[m] - lo).astype(np.int64))
    return out


def _run_result(prog: Program, steps: int, sample: dict[str, Any], meta: dict[str, Any]) -> RunResult:
    compiled = prog.compiled
    probes: dict[str, np.ndarray] = {}
    for probe in compiled.probes:
        if probe.key in sample["probes"]:
            probes[probe.key] = sample["probes"][probe.key]
    for proj in prog.probe_w:
        w = lava_weights(proj.weights, proj.sign_mode, proj.num_weight_bits, proj.nnz < proj.n_pre * proj.n_post)
        probes[f"{proj.name}.w"] = np.broadcast_to(w, (steps, proj.nnz))
    counters = {name_: as_counter_array(sample["counters"][k], name_) for k, name_ in enumerate(COUNTER_NAMES)}
    return RunResult(compiled.name, name, steps, float(compiled.dt), int(compiled.seed), _spike_events(prog, sample["events"]), probes, counters, dict(meta))


def _meta(engine: str, prog: Program, total_steps: int, build_s: float, run_s: float, **extra: Any) -> dict[str, Any]:
    meta = {
        "engine": engine,
        "numba": __import__("numba").__version__ if engine == "numba" else None,
        "build_s": round(build_s, 6),
        "run_s": round(run_s, 6),
        "us_per_step": round(1e6 * run_s / total_steps, 3),
        "neurons": prog.n_lif,
        "synapses": prog.synapses,
    }
    if prog.slow_projections:
        meta["floored_projections"] = list(prog.slow_projections)
    meta.update(extra)
    return meta


def run(program: Any, steps: int, inputs: Mapping[str, np.ndarray] | None = None, progress: bool = False, engine: str = "auto",
        threads: int | None = None) -> RunResult:
    """Run ``steps`` steps of a CompiledNetwork (or a prepared :class:`Program`).

    Parameters
    ----------
    program : CompiledNetwork or Program
        The network (flattened by :func:`prepare` on each call unless given prepared).
    steps : int
        Steps to run.
    inputs : mapping of str to numpy.ndarray, optional
        ``(steps, size)`` 0/1 rasters of ``ExternalInput`` populations.
    progress : bool
        Show a progress bar.
    engine : {"auto", "numba", "numpy"}
        Step loop; ``auto`` = numba when installed.
    threads : int, optional
        Threads of the numba loop (:mod:`.threads`); default: numba's thread
        count for networks of at least 2048 LIF neurons, one below. The
        result is the same for any number.
    """
    steps = check_steps(steps)
    eng = _engine(engine)
    t0 = time.perf_counter()
    prog = prepare(program)
    build_s = time.perf_counter() - t0 if not isinstance(program, (Program, GeneralProgram)) else 0.0
    if isinstance(prog, GeneralProgram):
        result = run_general(prog, steps, inputs, progress)
        result.meta["build_s"] = round(build_s + result.meta["build_s"], 6)
        return result
    rasters = network_input_rasters(prog.compiled, steps, inputs)
    in_indptr, in_ids = _input_events(prog, steps, rasters)
    t0 = time.perf_counter()
    with _progress(progress, steps, f"emulator {prog.compiled.name}") as advance:
        if eng == "numba":
            sample = _sample_numba(prog, steps, in_indptr, in_ids, True, advance, max(1, steps // 100) if progress else None, threads)
        else:
            n_in = prog.n_total - prog.n_lif
            src = np.zeros((steps, n_in), dtype=bool)
            for pop in prog.input_pops:
                lo = prog.offsets[pop.name] - prog.n_lif
                src[:, lo:lo + pop.size] = rasters[pop.name][:steps]
            sample = _samples_numpy(prog, steps, lambda t: src[t][None, :], 1, True, advance)[0]
    run_s = time.perf_counter() - t0
    return _run_result(prog, steps, sample, _meta(eng, prog, steps, build_s, run_s, threads=sample.get("threads", 1)))


def run_batch(
    program: Any,
    steps: int,
    batch_inputs: Mapping[str, np.ndarray],
    progress: bool = False,
    engine: str = "auto",
    detail: bool = False,
    workers: int | None = None,
    chunk: int = 64,
) -> BatchResult:
    """Run many independent input samples of one network (inference over a data set).

    Parameters
    ----------
    program : CompiledNetwork or Program
    steps : int
        Steps per sample.
    batch_inputs : mapping of str to numpy.ndarray
        ``(samples, >= steps, size)`` 0/1 raster of every ``ExternalInput``
        population; sources of other kinds are generated as in :func:`run`
        (the same for every sample).
    progress : bool
        Progress bar over samples.
    engine : {"auto", "numba", "numpy"}
        numba runs samples on ``workers`` threads (default: all CPUs); numpy
        steps ``chunk`` samples at once on ``(samples, neurons)`` arrays.
    detail : bool
        Also keep a full :class:`RunResult` per sample (spike events, probes,
        per-step counters): ``result.result(i)`` equals ``run`` on sample ``i``.
    """
    steps = check_steps(steps)
    eng = _engine(engine)
    t0 = time.perf_counter()
    prog = prepare(program)
    build_s = time.perf_counter() - t0 if not isinstance(program, (Program, GeneralProgram)) else 0.0
    compiled = prog.compiled
    batch = {k: np.asarray(v) for k, v in dict(batch_inputs).items()}
    if not batch:
        raise BackendError("run_batch needs at least one ExternalInput population in batch_inputs")
    pops = {p.name: p for p in compiled.populations}
    n_samples = None
    for key, arr in batch.items():
        pop = pops.get(key)
        if pop is None or not isinstance(pop.source, ExternalInput):
            raise BackendError(f"batch input '{key}' is not an ExternalInput population of network '{compiled.name}'")
        if arr.ndim != 3 or arr.shape[1] < steps or arr.shape[2] != pop.size:
            raise BackendError(f"batch input '{key}' must have shape (samples, >= {steps}, {pop.size}), got {arr.shape}")
        if arr.dtype.kind not in "biu" or (arr.dtype.kind != "b" and ((arr != 0) & (arr != 1)).any()):
            raise BackendError(f"batch input '{key}' must hold 0/1 or booleans")
        if n_samples is None:
            n_samples = arr.shape[0]
        elif arr.shape[0] != n_samples:
            raise BackendError(f"batch inputs disagree on the number of samples ({n_samples} vs {arr.shape[0]} for '{key}')")
    assert n_samples is not None
    if n_samples == 0:
        raise BackendError("batch inputs hold no samples")
    if isinstance(prog, GeneralProgram):
        with _progress(progress, n_samples, f"emulator {compiled.name} x {n_samples}") as advance:
            result = run_batch_general(prog, steps, batch, detail, advance)
        result.meta["build_s"] = round(build_s, 6)
        return result
    fixed = network_input_rasters(compiled, steps, {k: v[0] for k, v in batch.items()})
    n_in = prog.n_total - prog.n_lif

    def sample_rasters(s: int) -> dict[str, np.ndarray]:
        return {p.name: (batch[p.name][s, :steps].astype(bool) if p.name in batch else fixed[p.name]) for p in prog.input_pops}

    t0 = time.perf_counter()
    samples: list[dict[str, Any]] = [None] * n_samples  # type: ignore[list-item]
    with _progress(progress, n_samples, f"emulator {compiled.name} x {n_samples}") as advance:
        if eng == "numba":

            def one(s: int) -> None:
                in_indptr, in_ids = _input_events(prog, steps, sample_rasters(s))
                samples[s] = _sample_numba(prog, steps, in_indptr, in_ids, detail, threads=1 if pooled else None)

            n_workers = workers or os.cpu_count() or 1
            pooled = n_workers > 1 and n_samples > 1  # samples on threads: each runs single-threaded
            if not pooled:
                for s in range(n_samples):
                    one(s)
                    advance(1)
            else:
                with ThreadPoolExecutor(n_workers) as pool:
                    for _ in pool.map(one, range(n_samples)):
                        advance(1)
        else:
            for s0 in range(0, n_samples, max(1, chunk)):
                s1 = min(n_samples, s0 + max(1, chunk))
                src = np.zeros((s1 - s0, steps, n_in), dtype=bool)
                for pop in prog.input_pops:
                    lo = prog.offsets[pop.name] - prog.n_lif
                    src[:, :, lo:lo + pop.size] = batch[pop.name][s0:s1, :steps] if pop.name in batch else fixed[pop.name][None]
                samples[s0:s1] = _samples_numpy(prog, steps, lambda t, src=src: src[:, t], s1 - s0, detail)
                advance(s1 - s0)
    run_s = time.perf_counter() - t0
    meta = _meta(eng, prog, steps * n_samples, build_s, run_s, samples=n_samples, steps_per_sample=steps)
    counts, first = {}, {}
    for pop in compiled.populations:
        lo = prog.offsets[pop.name]
        counts[pop.name] = np.stack([d["counts"][lo:lo + pop.size] for d in samples])
        first[pop.name] = np.stack([d["first"][lo:lo + pop.size] for d in samples])
    totals = {name_: np.stack([d["counters"][k].sum(axis=0) for d in samples]) for k, name_ in enumerate(COUNTER_NAMES)}
    results = tuple(_run_result(prog, steps, d, meta) for d in samples) if detail else ()
    return BatchResult(compiled.name, name, steps, float(compiled.dt), int(compiled.seed), n_samples, counts, first, totals, results, meta)
