"""Emulator speed against Lava and Brian2 (Loihi-exact) on the same networks (issue #6).

Runs random recurrent E/I LIF networks (``yuragi.backends.emulator.synthetic``:
100, 1000, 10000 neurons, 10 % connectivity, Poisson drive, 1000 steps) on
the emulator (one thread and numba's default), the Lava backend (``Sparse``
processes, its choice for these networks), Lava with ``Dense`` processes (the
configuration issue #6 measured) and the Brian2 Loihi-exact backend, checks
that their spikes are identical, and prints per-step times and speed-up
ratios. Then, at one fixed network, sweeps the input rate (Lava at every
point too) to show that the emulator's cost follows the synaptic events
(spikes x fan-out), not the number of synapses; measures batch throughput;
and runs a 100k-neuron / 10M-synapse network in a process of its own and
reports its memory.

    python benchmarks/emulator_speed.py               # full run (Lava at 10k neurons: see --lava-budget)
    python benchmarks/emulator_speed.py --quick       # smoke run, about a minute
    python benchmarks/emulator_speed.py --no-lava     # emulator and Brian2 only

Per-step times are steady-state and the best of several runs (this machine's
timings vary by up to 2x from run to run): the emulator's is the best of
``--repeat`` runs of a prepared network (the one-off flattening is reported
as ``prepare_s``); Lava's is timed from the end of the first of five chunks,
Brian2's is the difference between a run of ``steps`` and one of
``steps // 10`` steps divided by the extra steps (``--other-repeat`` each), so
that process building, compilation and code generation are not counted
against them.
A table is printed and everything is written as JSON (``--json``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from yuragi.backends import emulator as em
from yuragi.backends.emulator.synthetic import random_network

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "emulator_speed.json"


def _backend(name: str) -> Any:
    """The Lava / Brian2 backend module, or None with a printed note when it cannot be imported."""
    try:
        if name == "lava":
            from yuragi.backends import lava as module
        else:
            from yuragi.backends import brian2 as module
    except Exception as exc:  # not written yet, or its package is missing
        print(f"note: {name} backend not importable ({type(exc).__name__}: {exc}); skipped")
        return None
    if not callable(getattr(module, "run", None)):
        print(f"note: {name} backend has no run() yet; skipped")
        return None
    return module


def _same_spikes(a: Any, b: Any, steps: int) -> bool:
    for pop, ev in a.spikes.items():
        if pop not in b.spikes:
            return False
        ra, rb = ev.raster(a.steps)[:steps], b.spikes[pop].raster(b.steps)[:steps]
        if not np.array_equal(ra, rb):
            return False
    return True


def _emulator_time(prog: Any, steps: int, repeat: int, engine: str, threads: int | None = None) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        result = em.run(prog, steps, engine=engine, threads=threads)
        best = min(best, result.meta["run_s"])
    return best, result


def _run_seconds(result: Any, wall: float) -> float:
    """Time a backend spent simulating (its own report without network building when it gives one)."""
    meta = result.meta
    for key in ("run_time_s", "run_seconds", "run_s"):
        if isinstance(meta.get(key), (int, float)):
            return float(meta[key])
    return wall


def _steady_state(module: Any, label: str, compiled: Any, steps: int, repeat: int = 1) -> tuple[float, Any, float]:
    """Seconds per step of a backend without its fixed costs; the best of ``repeat`` measurements
    (this machine's timings vary by up to 2x from run to run).

    Lava: one run of ``steps`` steps in five chunks, timed from the end of the
    first chunk (``meta["ms_per_step_after_first_chunk"]``: no process
    building, compiling or start-up). Brian2: runs of ``steps`` and
    ``steps // 10`` steps, differenced, so that code generation is not counted.
    Returns (seconds per step, the last run's result, total wall time).
    """
    best, result, wall_total = float("inf"), None, 0.0
    for _ in range(repeat):
        if label == "lava":
            t0 = time.perf_counter()
            result = module.run(compiled, steps, chunk=max(1, steps // 5))
            wall_total += time.perf_counter() - t0
            best = min(best, result.meta["ms_per_step_after_first_chunk"] / 1e3)
            continue
        short = max(5, steps // 10)
        times = []
        for n in (short, steps):
            t0 = time.perf_counter()
            result = module.run(compiled, n)
            wall = time.perf_counter() - t0
            wall_total += wall
            times.append(_run_seconds(result, wall))
        per_step = (times[1] - times[0]) / (steps - short)
        best = min(best, per_step if per_step > 0 else times[1] / steps)  # noise larger than the work: the long run's average
    return best, result, wall_total


def network(n: int, rate_hz: float, seed: int = 1) -> Any:
    """The benchmark network: ``n`` LIF neurons, 10 % connectivity, no refractory period (Lava's plain LIF)."""
    return random_network(n, p=0.1, rate_hz=rate_hz, seed=seed, refractory=0)


def as_dense(compiled: Any) -> Any:
    """The same network with every projection stored densely: Lava runs it with ``Dense`` processes
    (a full weight matrix, zeros where there is no synapse), the configuration issue #6 measured Lava
    with. The Lava backend's own choice for these sparse projections is ``Sparse``."""
    return dataclasses.replace(compiled, projections=tuple(dataclasses.replace(p, dense=True) for p in compiled.projections))


def speed_table(args: argparse.Namespace, lava: Any, brian2: Any) -> list[dict[str, Any]]:
    rows = []
    for n in args.sizes:
        t0 = time.perf_counter()
        compiled = network(n, args.rate)
        make_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        prog = em.prepare(compiled)
        prepare_s = time.perf_counter() - t0
        row: dict[str, Any] = {"neurons": n, "synapses": prog.synapses, "steps": args.steps, "make_network_s": round(make_s, 3), "prepare_s": round(prepare_s, 3)}
        one_s, one = _emulator_time(prog, args.steps, args.repeat, "auto", threads=1)
        run_s, res = _emulator_time(prog, args.steps, args.repeat, "auto")
        row["emulator_engine"] = res.meta["engine"]
        row["emulator_threads"] = res.meta["threads"]
        row["emulator_one_thread_us_per_step"] = 1e6 * one_s / args.steps
        row["emulator_us_per_step"] = 1e6 * run_s / args.steps
        row["threads_exact"] = _same_spikes(res, one, args.steps)
        lif_spikes = res.spikes["exc"].count + res.spikes["inh"].count
        row["spikes_per_step"] = lif_spikes / args.steps
        row["rate_hz"] = 1000.0 * lif_spikes / (n * args.steps * compiled.dt)
        row["synaptic_ops_per_step"] = res.total("synaptic_ops") / args.steps
        if em.HAVE_NUMBA and n <= args.numpy_max:
            np_s, np_res = _emulator_time(prog, args.steps, 1, "numpy")
            row["emulator_numpy_us_per_step"] = 1e6 * np_s / args.steps
            row["numpy_exact"] = _same_spikes(res, np_res, args.steps)
        for label, module, net in (("lava", lava, compiled), ("lava_dense", lava, as_dense(compiled)), ("brian2", brian2, compiled)):
            if module is None or (label == "lava_dense" and args.no_lava_dense):
                continue
            steps = args.steps
            budget = args.lava_dense_budget if label == "lava_dense" else args.lava_budget
            if label.startswith("lava") and budget and n >= 5000 and not args.full:
                steps = max(20, min(args.steps, budget))
            print(f"  {label}: {n} neurons, {steps} steps ...", flush=True)
            try:
                per_step, other, wall = _steady_state(module, "lava" if label.startswith("lava") else label, net, steps, args.other_repeat)
            except Exception as exc:
                print(f"  {label} failed on {n} neurons: {type(exc).__name__}: {exc}")
                row[f"{label}_error"] = f"{type(exc).__name__}: {exc}"
                continue
            row[f"{label}_steps"] = steps
            row[f"{label}_wall_s"] = round(wall, 3)
            row[f"{label}_us_per_step"] = 1e6 * per_step
            row[f"{label}_speedup"] = 1e6 * per_step / row["emulator_us_per_step"]
            row[f"{label}_exact"] = _same_spikes(res, other, steps)
        rows.append(row)
        _print_speed_rows([row], header=len(rows) == 1)
    return rows


EXACT_KEYS = ("lava_exact", "lava_dense_exact", "brian2_exact", "numpy_exact", "threads_exact")


def _print_speed_rows(rows: list[dict[str, Any]], header: bool) -> None:
    if header:
        print(f"{'neurons':>8} {'synapses':>10} {'spk/step':>9} {'emu 1 thr':>10} {'emu us/step':>12} {'numpy':>9} "
              f"{'lava Sparse':>12} {'x lava':>8} {'lava Dense':>12} {'x dense':>8} {'brian2 us/step':>15} {'x brian2':>9} {'exact':>6}")
    for r in rows:
        exact = all(r.get(k, True) for k in EXACT_KEYS)

        def fmt(key: str, spec: str = "13.1f") -> str:
            return format(r[key], spec) if key in r else format("-", spec.split(".")[0].rstrip("f") + "s")

        print(
            f"{r['neurons']:>8} {r['synapses']:>10} {r['spikes_per_step']:>9.1f} {r['emulator_one_thread_us_per_step']:>10.2f} "
            f"{r['emulator_us_per_step']:>12.2f} {fmt('emulator_numpy_us_per_step', '9.0f')} {fmt('lava_us_per_step', '12.1f')} "
            f"{fmt('lava_speedup', '8.0f')} {fmt('lava_dense_us_per_step', '12.1f')} {fmt('lava_dense_speedup', '8.0f')} "
            f"{fmt('brian2_us_per_step', '15.1f')} {fmt('brian2_speedup', '9.1f')} {str(exact):>6}",
            flush=True,
        )


def activity_sweep(args: argparse.Namespace, lava: Any) -> dict[str, Any]:
    """One fixed network, input rate varied: time per step against synaptic events per step.

    Lava (its ``Sparse`` processes) runs each point too: its step costs the same at
    every activity (``weights[:, s_in]`` of a CSR matrix reads every stored synapse),
    so the speed-up over Lava is a function of how many synapses carry an event.
    """
    n = args.sweep_size
    compiled0 = network(n, 0.0)
    prog0 = em.prepare(compiled0)
    points = []
    print(f"\nactivity sweep: {n} neurons, {prog0.synapses} synapses, {args.steps} steps (only the input rate changes)")
    print(f"{'input Hz':>9} {'LIF Hz':>8} {'spk/step':>9} {'synops/step':>12} {'events/syn':>11} {'us/step':>9} {'lava us/step':>13} {'x lava':>8}")
    for rate in args.sweep_rates:
        compiled = network(n, rate)  # same seed: same synapses, only the Poisson rate differs
        prog = em.prepare(compiled)
        run_s, res = _emulator_time(prog, args.steps, args.repeat, "auto")
        lif = res.spikes["exc"].count + res.spikes["inh"].count
        pt: dict[str, Any] = {
            "input_rate_hz": rate,
            "lif_rate_hz": 1000.0 * lif / (n * args.steps),
            "spikes_per_step": (lif + res.spikes["stim"].count) / args.steps,
            "synaptic_ops_per_step": res.total("synaptic_ops") / args.steps,
            "us_per_step": 1e6 * run_s / args.steps,
            "threads": res.meta["threads"],
        }
        pt["events_per_synapse"] = pt["synaptic_ops_per_step"] / prog.synapses
        if lava is not None and not args.no_sweep_lava:
            steps = max(20, min(args.steps, args.lava_budget)) if n >= 5000 and not args.full else args.steps
            per_step, other, _ = _steady_state(lava, "lava", compiled, steps, args.other_repeat)
            pt["lava_us_per_step"] = 1e6 * per_step
            pt["lava_speedup"] = pt["lava_us_per_step"] / pt["us_per_step"]
            pt["lava_exact"] = _same_spikes(res, other, steps)
        points.append(pt)
        lava_cols = f"{pt['lava_us_per_step']:>13.0f} {pt['lava_speedup']:>8.0f}" if "lava_us_per_step" in pt else f"{'-':>13} {'-':>8}"
        print(f"{rate:>9.1f} {pt['lif_rate_hz']:>8.2f} {pt['spikes_per_step']:>9.1f} {pt['synaptic_ops_per_step']:>12.0f} "
              f"{pt['events_per_synapse']:>11.2e} {pt['us_per_step']:>9.2f} {lava_cols}", flush=True)
    x = np.array([p["synaptic_ops_per_step"] for p in points])
    y = np.array([p["us_per_step"] for p in points])
    out: dict[str, Any] = {"neurons": n, "synapses": prog0.synapses, "points": points}
    if len(points) >= 2 and np.ptp(x) > 0:
        slope, intercept = np.polyfit(x, y, 1)
        pred = slope * x + intercept
        r2 = 1.0 - float(((y - pred) ** 2).sum()) / max(float(((y - y.mean()) ** 2).sum()), 1e-30)
        out.update({"ns_per_synaptic_op": 1e3 * slope, "us_per_step_at_zero_activity": intercept, "r2": r2})
        all_synapses_ns = 1e3 * slope * prog0.synapses
        print(
            f"fit: us/step = {intercept:.1f} + {1e3 * slope:.2f} ns x synaptic events (R^2 = {r2:.3f}); "
            f"a step that touched all {prog0.synapses} synapses would cost {all_synapses_ns / 1e3:.0f} us, "
            f"the silent network costs {y[0]:.1f} us"
        )
    return out


def batch_throughput(args: argparse.Namespace) -> dict[str, Any]:
    """Data-set inference: run_batch against one run() per sample."""
    from yuragi.compiler.compiled import CompiledPopulation
    from yuragi.ir.neurons import ExternalInput
    import dataclasses

    n, samples, steps = args.batch_size, args.batch_samples, args.batch_steps
    base = network(n, 0.0)
    pops = tuple(CompiledPopulation(name=p.name, kind="ExternalInput", size=p.size, source=ExternalInput()) if p.is_input else p for p in base.populations)
    compiled = dataclasses.replace(base, populations=pops)
    prog = em.prepare(compiled)
    rng = np.random.default_rng(0)
    data = rng.random((samples, steps, pops[0].size)) < 0.02
    em.run_batch(prog, steps, {"stim": data[:2]})  # compile (or load) the batch kernel's variant before timing
    t0 = time.perf_counter()
    for s in range(samples):
        em.run(prog, steps, inputs={"stim": data[s]})
    single = time.perf_counter() - t0
    out = {"neurons": n, "samples": samples, "steps": steps, "sequential_samples_per_s": samples / single}
    for engine in ("auto", "numpy") if em.HAVE_NUMBA else ("numpy",):
        t0 = time.perf_counter()
        res = em.run_batch(prog, steps, {"stim": data}, engine=engine)
        wall = time.perf_counter() - t0
        out[f"batch_{res.meta['engine']}_samples_per_s"] = samples / wall
    print(f"\nbatch inference: {n} neurons, {samples} samples x {steps} steps: " + ", ".join(f"{k} {v:.1f}" for k, v in out.items() if k.endswith("per_s")))
    return out


def _large_run(steps: int, rate: float) -> dict[str, Any]:
    """100k neurons, 10M synapses: build, prepare, run (in a process of its own: see :func:`large`)."""
    n = 100_000
    t0 = time.perf_counter()
    compiled = random_network(n, p=1e-3, rate_hz=rate, seed=1)
    make_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    prog = em.prepare(compiled)
    prepare_s = time.perf_counter() - t0
    em.run(prog, 2)  # a network this size uses wider index types: compile (or load) that kernel first
    run_s, res = _emulator_time(prog, steps, 1, "auto")
    return {
        "neurons": n, "synapses": prog.synapses, "steps": steps, "make_network_s": make_s, "prepare_s": prepare_s,
        "program_mb": prog.nbytes() / 2**20, "us_per_step": 1e6 * run_s / steps, "threads": res.meta["threads"],
        "spikes_per_step": (res.spikes["exc"].count + res.spikes["inh"].count) / steps,
        "peak_rss_gb": _peak_rss_gb(),
    }


def _peak_rss_gb() -> float:
    """Peak resident set of this process, GiB: ``VmHWM`` (Linux; ``ru_maxrss`` keeps the peak of the
    process it was forked from across ``exec``), else ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def large(args: argparse.Namespace) -> dict[str, Any]:
    """The 100k-neuron network in a fresh Python process, so that its peak memory is its own
    (the Lava runs before leave this process's memory high)."""
    steps = min(args.steps, 200)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--large-only", "--steps", str(steps), "--rate", str(args.rate)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the large run failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"\nlarge: {out['neurons']} neurons, {out['synapses']} synapses: prepare {out['prepare_s']:.1f} s, program {out['program_mb']:.0f} MiB, "
          f"{out['us_per_step']:.0f} us/step at {out['spikes_per_step']:.0f} spikes/step ({out['threads']} threads), "
          f"peak RSS of its process {out['peak_rss_gb']:.2f} GiB")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 100 and 1000 neurons, 200 steps, short sweep")
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"where to write the results (default {DEFAULT_JSON})")
    ap.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=None, help="network sizes (default 100,1000,10000)")
    ap.add_argument("--steps", type=int, default=None, help="steps per run (default 1000)")
    ap.add_argument("--rate", type=float, default=30.0, help="Poisson input rate of the speed table, Hz")
    ap.add_argument("--repeat", type=int, default=5, help="emulator runs per point (best is kept)")
    ap.add_argument("--other-repeat", type=int, default=3, help="Lava / Brian2 runs of each length per point (best is kept)")
    ap.add_argument("--lava-budget", type=int, default=100, help="steps Lava runs at >= 5000 neurons unless --full (Lava needs ~0.5 s/step there)")
    ap.add_argument("--lava-dense-budget", type=int, default=30, help="steps Lava with Dense processes runs at >= 5000 neurons unless --full")
    ap.add_argument("--no-lava-dense", action="store_true", help="skip the Dense-process Lava runs")
    ap.add_argument("--no-sweep-lava", action="store_true", help="run Lava only in the speed table, not at every point of the activity sweep")
    ap.add_argument("--full", action="store_true", help="run Lava for all steps at every size")
    ap.add_argument("--no-lava", action="store_true")
    ap.add_argument("--no-brian2", action="store_true")
    ap.add_argument("--numpy-max", type=int, default=1000, help="also time the numpy engine up to this size")
    ap.add_argument("--sweep-size", type=int, default=None, help="network of the activity sweep (default 10000)")
    ap.add_argument("--large", action="store_true", help="also run the 100k-neuron / 10M-synapse network (default in full runs)")
    ap.add_argument("--no-large", action="store_true", help="skip the 100k-neuron network")
    ap.add_argument("--large-only", action="store_true", help=argparse.SUPPRESS)  # the large run's own process
    args = ap.parse_args(argv)
    if args.large_only:
        print(json.dumps(_large_run(args.steps or 200, args.rate), default=float))
        return 0
    args.sizes = args.sizes or ([100, 1000] if args.quick else [100, 1000, 10000])
    args.steps = args.steps or (200 if args.quick else 1000)
    args.sweep_size = args.sweep_size or (1000 if args.quick else 10000)
    args.sweep_rates = [0.0, 10.0, 40.0] if args.quick else [0.0, 5.0, 10.0, 20.0, 30.0, 40.0, 60.0]
    args.batch_size, args.batch_samples, args.batch_steps = (200, 16, 100) if args.quick else (1000, 64, 300)
    if args.quick:
        args.repeat = min(args.repeat, 2)

    lava = None if args.no_lava else _backend("lava")
    brian2 = None if args.no_brian2 else _backend("brian2")
    # compile the numba kernel (or load it from its cache) before timing anything
    t0 = time.perf_counter()
    em.run(network(50, 20.0), 5)
    warmup = time.perf_counter() - t0
    print(f"emulator engine: {em.default_engine()} (numba {'installed' if em.HAVE_NUMBA else 'not installed'}; first call {warmup:.1f} s)")
    print(f"\nspeed: {args.steps} steps, input {args.rate} Hz, 10 % connectivity")
    results: dict[str, Any] = {
        "benchmark": "emulator_speed",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                    "load_avg": os.getloadavg(), "numpy": np.__version__},
        "engine": em.default_engine(),
        "numba": __import__("numba").__version__ if em.HAVE_NUMBA else None,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "speed": speed_table(args, lava, brian2),
    }
    results["activity_sweep"] = activity_sweep(args, lava)
    results["batch"] = batch_throughput(args)
    if (args.large or not args.quick) and not args.no_large:
        results["large"] = large(args)
    print("\nspeed-ups (emulator vs): " + "; ".join(
        f"{r['neurons']} neurons: " + (", ".join(f"{k[:-8].replace('_', ' ')} {r[k]:.0f}x" for k in ("lava_speedup", "lava_dense_speedup", "brian2_speedup") if k in r)
                                       or "no other backend ran")
        for r in results["speed"]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, default=float))
    print(f"wrote {args.json}")
    inexact = [r["neurons"] for r in results["speed"] if not all(r.get(k, True) for k in EXACT_KEYS)]
    inexact += [f"sweep {p['input_rate_hz']} Hz" for p in results["activity_sweep"]["points"] if not p.get("lava_exact", True)]
    if inexact:
        print(f"ERROR: spikes differ between backends at sizes {inexact}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
