"""Steps per second of every backend, and float-vs-quantized rate error vs weight bits.

Run: .venv/bin/python benchmarks/backends.py [--quick] [--json PATH]

Part 1 runs the same compiled E/I network (80% excitatory, 10% connectivity,
Poisson drive) of 100, 1000 and 10000 LIF neurons on Lava, Brian2 Loihi-exact,
Brian2 float and the emulator, in one process. Per-step time is measured
without setup: after a 5-step warm-up each backend runs N and 2N steps, per step = (t_2N - t_N) / N.
Part 2 compiles ei_balanced with 8..1 weight bits and reports the rate error
and coincidence factor of the emulator run against the Brian2 float reference.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from yuragi.backends import get_backend
from yuragi.backends.emulator import prepare
from yuragi.compiler import compile_network
from yuragi.models.examples import ei_balanced
from yuragi.verify import compare_exact, compare_statistical

# neurons -> N steps per backend (each runs N and 2N); Lava at 10000 neurons (10M synapses) takes ~1.5 s/step
SIZES = {
    100: {"default": 1000, "emulator": 4000},
    1000: {"default": 1000, "emulator": 4000},
    10000: {"default": 300, "lava": 10, "emulator": 4000},
}
QUICK = {100: {"default": 50}, 1000: {"default": 20}}


def _timed(run, steps: int) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = run(steps)
    return time.perf_counter() - t0, result


def per_step_seconds(run, n: int) -> tuple[float, object]:
    """(seconds per step without setup, result of the 2N run); a short warm-up run fills caches first."""
    run(5)
    t1, _ = _timed(run, n)
    t2, result = _timed(run, 2 * n)
    return max(t2 - t1, 1e-9) / n, result


def speed(sizes: dict[int, dict[str, int]]) -> list[dict]:
    rows = []
    for n, plan in sizes.items():
        net = ei_balanced(seed=1, n_exc=int(0.8 * n), n_inh=n - int(0.8 * n), p=0.1)
        t0 = time.perf_counter()
        compiled, report = compile_network(net, "loihi2")
        compile_s = time.perf_counter() - t0
        prepared = prepare(compiled)  # the emulator's one-time flattening, like Lava's and Brian2's build, is not per-step work
        runners = {
            "lava": lambda s: get_backend("lava").run(compiled, s),
            "brian2": lambda s: get_backend("brian2").run(compiled, s),
            "brian2-float": lambda s: get_backend("brian2").run_float(net, s),
            "emulator": lambda s: get_backend("emulator").run(prepared, s),
        }
        measured, results = {}, {}
        for name, run in runners.items():
            measured[name], results[name] = per_step_seconds(run, plan.get(name, plan["default"]))
        lava_steps = results["lava"].steps
        exact = all(compare_exact(results["lava"], get_backend(k).run(compiled, lava_steps)).equal for k in ("brian2", "emulator"))
        row = {"neurons": n, "synapses": net.n_synapses, "cores": report.cores_used, "compile_s": compile_s, "steps": dict(plan),
               "ms_per_step": {k: 1e3 * v for k, v in measured.items()}, "bit_exact": exact}
        rows.append(row)
        ms = row["ms_per_step"]
        print(f"{n:>6} {net.n_synapses:>10} {ms['lava']:>10.3f} {ms['brian2']:>10.3f} {ms['brian2-float']:>12.3f} {ms['emulator']:>10.4f}"
              f" {ms['lava'] / ms['emulator']:>10.0f}x {'yes' if exact else 'NO'}", flush=True)
    return rows


def bits_sweep(steps: int) -> list[dict]:
    net = ei_balanced(seed=3)
    reference = get_backend("brian2").run_float(net, steps)
    rows = []
    for bits in (8, 6, 4, 3, 2, 1):
        compiled, _ = compile_network(net, "loihi2", weight_bits={p.name: bits for p in net.projections})
        verdict = compare_statistical(reference, get_backend("emulator").run(compiled, steps), rate_tolerance=0.05)
        per_pop = {p.population: {"rate_error": p.rate_error, "coincidence": p.coincidence} for p in verdict.populations}
        rows.append({"weight_bits": bits, "worst_rate_error": verdict.worst_rate_error, "populations": per_pop})
        print(f"{bits:>5} {verdict.worst_rate_error:>12.4f} " + "  ".join(f"{k}: err {v['rate_error']:.3f} Γ {v['coincidence']:.3f}" for k, v in per_pop.items() if k != "stim"), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (smoke run)")
    parser.add_argument("--json", default="benchmarks/results/backends.json")
    args = parser.parse_args()
    print("neurons   synapses    lava ms   brian2 ms  b2-float ms    emu ms  lava/emu  bit-exact")
    rows = speed(QUICK if args.quick else SIZES)
    print("\nbits  worst rate error (emulator vs Brian2 float, ei_balanced seed 3, 1000 steps)")
    sweep = bits_sweep(300 if args.quick else 1000)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"speed": rows, "weight_bits_sweep": sweep}, indent=1))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
