"""Compile-time scaling and partition/placement quality of the compiler back end.

Part 1, scaling: quantize + partition + place for 10^4 ... 10^7 synapses, two
families of networks (input -> hidden -> output, LIF):

* ``sparse``: random sparse, fan-in ``S / (2 n)`` per projection, ``n = max(100, S / 200)``
  neurons per population (fan-in 100 from 10^5 synapses on);
* ``dense``: all-to-all, ``n = sqrt(S / 2)`` neurons per population.

Times are wall-clock seconds of each pass (network construction excluded); the
log-log slope of total time against synapses is fitted per family (1 = linear).

Part 2, quality on a suite of networks: cores used against the resource lower
bound of the partition, and the placed / naive (sequential) ratio of
cross-chip messages, chip crossings, mesh hops and routing energy.

    python benchmarks/compile_scaling.py            # full run (a few minutes on 2 cores)
    python benchmarks/compile_scaling.py --quick    # up to 10^6 synapses, small suite
    python benchmarks/compile_scaling.py --json out.json --profile loihi2
    python benchmarks/compile_scaling.py --suite-only --only conv_local,ei_balanced_10k --json /tmp/q.json

A table is printed and everything is written as JSON (``--json``, default
``benchmarks/results/compile_scaling.json``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from yuragi.compiler.partition import partition
from yuragi.compiler.place import place
from yuragi.compiler.quantize import quantize
from yuragi.ir import LIF, Network, NetworkBuilder, PoissonInput, SparseWeights
from yuragi.models.examples import ei_balanced

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "compile_scaling.json"
LIF_MODEL = LIF(tau_mem=20.0, tau_syn=5.0, v_th=10.0)


# ----------------------------------------------------------------------------- networks


def _random_sparse(rng: np.random.Generator, n_pre: int, n_post: int, nnz: int) -> SparseWeights:
    flat = np.unique(rng.integers(0, n_pre * n_post, nnz))
    post, pre = np.divmod(flat, n_pre)
    return SparseWeights(pre, post, rng.uniform(0.1, 1.0, flat.size))


def scaling_network(kind: str, synapses: int, seed: int = 0) -> Network:
    """Input -> hidden -> output with about ``synapses`` synapses (see the module docstring)."""
    rng = np.random.default_rng(seed)
    b = NetworkBuilder(f"{kind}_{synapses:.0e}", dt=1.0, seed=seed)
    if kind == "dense":
        n = max(2, int(round(math.sqrt(synapses / 2))))
        b.input("in", n, PoissonInput(rate_hz=[10.0]))
        b.population("h", n, LIF_MODEL)
        b.population("o", n, LIF_MODEL)
        b.connect("in", "h", rng.uniform(0.0, 1.0, (n, n)))
        b.connect("h", "o", rng.uniform(-1.0, 1.0, (n, n)))
    else:
        n = max(100, synapses // 200)
        b.input("in", n, PoissonInput(rate_hz=[10.0]))
        b.population("h", n, LIF_MODEL)
        b.population("o", n, LIF_MODEL)
        b.connect("in", "h", _random_sparse(rng, n, n, synapses // 2))
        b.connect("h", "o", _random_sparse(rng, n, n, synapses // 2))
    return b.build()


def lif_3000() -> Network:
    b = NetworkBuilder("lif_3000", dt=1.0, seed=0)
    b.population("a", 3000, LIF_MODEL)
    return b.build()


def mlp_dense() -> Network:
    """784 -> 1000 -> 1000 -> 10 fully connected (an ANN-to-SNN conversion shape)."""
    rng = np.random.default_rng(1)
    b = NetworkBuilder("mlp_dense", dt=1.0, seed=1)
    sizes = [("in", 784), ("l1", 1000), ("l2", 1000), ("out", 10)]
    b.input("in", 784, PoissonInput(rate_hz=[20.0]))
    for name, n in sizes[1:]:
        b.population(name, n, LIF_MODEL)
    for (a, na), (c, nc) in zip(sizes, sizes[1:]):
        b.connect(a, c, rng.normal(0.0, 1.0 / math.sqrt(na), (nc, na)))
    return b.build()


def conv_local(n: int = 8192, width: int = 64, layers: int = 3) -> Network:
    """1-D local receptive fields: neuron i of a layer gets the ``width`` neurons around i of the previous one."""
    rng = np.random.default_rng(2)
    b = NetworkBuilder("conv_local", dt=1.0, seed=2)
    b.input("in", n, PoissonInput(rate_hz=[20.0]))
    post = np.repeat(np.arange(n), width)
    pre = (post + np.tile(np.arange(width) - width // 2, n)) % n
    prev = "in"
    for k in range(layers):
        name = f"c{k}"
        b.population(name, n, LIF_MODEL)
        b.connect(prev, name, SparseWeights(pre, post, rng.uniform(0.1, 1.0, pre.size)))
        prev = name
    return b.build()


def synfire(groups: int = 40, size: int = 100) -> Network:
    """Synfire chain: groups of ``size`` LIF neurons, all-to-all from each group to the next."""
    rng = np.random.default_rng(3)
    b = NetworkBuilder("synfire", dt=1.0, seed=3)
    b.input("stim", size, PoissonInput(rate_hz=[50.0]))
    prev = "stim"
    for g in range(groups):
        name = f"g{g:02d}"
        b.population(name, size, LIF_MODEL)
        b.connect(prev, name, rng.uniform(0.2, 0.6, (size, size)))
        prev = name
    return b.build()


def modules_multichip(modules: int = 4, cores_per_pop: int = 32) -> Network:
    """A_i <-> B_i one-to-one coupled, listed A0..A3, B0..B3: 256 cores, the naive order splits every pair."""
    rng = np.random.default_rng(4)
    n = cores_per_pop * 1024
    b = NetworkBuilder("modules_multichip", dt=1.0, seed=4)
    for side in "AB":
        for i in range(modules):
            b.population(f"{side}{i}", n, LIF_MODEL)
    idx = np.arange(n)
    for i in range(modules):
        b.connect(f"A{i}", f"B{i}", SparseWeights(idx, idx, rng.uniform(0.1, 1.0, n)))
        b.connect(f"B{i}", f"A{i}", SparseWeights(idx, idx, rng.uniform(0.1, 1.0, n)))
    return b.build()


def ring_shuffled(pops: int = 160) -> Network:
    """A ring of ``pops`` one-core populations (each a local chain), declared in a random order (2 chips)."""
    rng = np.random.default_rng(5)
    n = 1024
    b = NetworkBuilder("ring_shuffled", dt=1.0, seed=5)
    for k in rng.permutation(pops):
        b.population(f"R{k:03d}", n, LIF_MODEL)
    idx = np.arange(n)
    for k in range(pops):
        b.connect(f"R{k:03d}", f"R{(k + 1) % pops:03d}", SparseWeights(idx, idx, rng.uniform(0.1, 1.0, n)))
    return b.build()


def ei_large() -> Network:
    return ei_balanced(seed=1, n_exc=8000, n_inh=2000, p=0.02)


SUITE: list[tuple[str, str, Callable[[], Network]]] = [
    ("lif_3000", "3000 LIF, no synapses", lif_3000),
    ("mlp_dense", "784-1000-1000-10 dense", mlp_dense),
    ("conv_local", "3 x 8192 LIF, 64-wide local fields", conv_local),
    ("synfire", "40 groups x 100 LIF, all-to-all chain", synfire),
    ("ei_balanced_10k", "8000 E + 2000 I LIF, 2 % random", ei_large),
    ("modules_multichip", "8 x 32k LIF, A_i <-> B_i, interleaved order", modules_multichip),
    ("ring_shuffled", "ring of 160 one-core pops, shuffled order", ring_shuffled),
    ("random_sparse_1e6", "random sparse, 10^6 synapses", lambda: scaling_network("sparse", 10**6)),
]
QUICK_SUITE = {"lif_3000", "mlp_dense", "synfire", "ei_balanced_10k", "modules_multichip"}


# ----------------------------------------------------------------------------- runs


def compile_once(net: Network, profile: str) -> dict[str, Any]:
    """Quantize, partition and place ``net``; times (s) and the results."""
    t0 = time.perf_counter()
    q = quantize(net, profile)
    t1 = time.perf_counter()
    part = partition(q.populations, q.projections, profile)
    t2 = time.perf_counter()
    pl = place(part, q.projections, profile, dt=net.dt, seed=net.seed)
    t3 = time.perf_counter()
    return {
        "synapses": int(sum(p.nnz for p in q.projections)),
        "neurons": int(sum(p.size for p in q.populations)),
        "quantize_s": t1 - t0,
        "partition_s": t2 - t1,
        "place_s": t3 - t2,
        "total_s": t3 - t0,
        "partition": part,
        "placement": pl,
    }


def _summary(res: dict[str, Any]) -> dict[str, Any]:
    part, pl = res["partition"], res["placement"]
    ratios = pl.ratios()
    return {
        "synapses": res["synapses"],
        "neurons": res["neurons"],
        "quantize_s": round(res["quantize_s"], 4),
        "partition_s": round(res["partition_s"], 4),
        "place_s": round(res["place_s"], 4),
        "total_s": round(res["total_s"], 4),
        "cores": part.n_cores,
        "lower_bound_cores": part.lower_bound_cores,
        "cores_over_bound": round(part.quality, 4),
        "lower_bounds": part.lower_bounds(),
        "chips": pl.n_chips,
        "kept": pl.kept,
        "placed": pl.traffic.to_dict(),
        "naive": pl.naive.to_dict(),
        "placed_over_naive": {k: (None if not math.isfinite(v) else round(v, 4)) for k, v in ratios.items()},
    }


def scaling(sizes: list[int], profile: str, repeat: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rows = []
    for kind in ("sparse", "dense"):
        for s in sizes:
            net = scaling_network(kind, s)
            best = None
            for _ in range(repeat if s <= 10**5 else 1):
                res = compile_once(net, profile)
                if best is None or res["total_s"] < best["total_s"]:
                    best = res
            row = {"family": kind, "target_synapses": s, **_summary(best)}
            rows.append(row)
            print(f"  {kind:<6} {s:>10.0e} synapses: {row['total_s']:7.2f} s  "
                  f"(quantize {row['quantize_s']:.2f}, partition {row['partition_s']:.2f}, place {row['place_s']:.2f})"
                  f"  {row['cores']} cores / bound {row['lower_bound_cores']}", flush=True)
            del net, best
    fits: dict[str, Any] = {}
    for kind in ("sparse", "dense"):
        fits[kind] = {}
        for label, lo in (("", 0), ("_from_1e5", 10**5)):
            pts = [r for r in rows if r["family"] == kind and r["target_synapses"] >= lo]
            x = np.log10([r["synapses"] for r in pts])
            for stage in ("total_s", "quantize_s", "partition_s", "place_s"):
                y = np.log10([max(r[stage], 1e-4) for r in pts])
                slope = float(np.polyfit(x, y, 1)[0]) if len(pts) >= 2 else float("nan")
                fits[kind][stage + label] = round(slope, 3)
    return rows, fits


def quality(profile: str, names: set[str] | None) -> list[dict[str, Any]]:
    rows = []
    for name, desc, build in SUITE:
        if names is not None and name not in names:
            continue
        net = build()
        res = compile_once(net, profile)
        row = {"network": name, "description": desc, **_summary(res)}
        rows.append(row)
        r = row["placed_over_naive"]
        print(f"  {name:<18} {row['cores']:>5} cores / bound {row['lower_bound_cores']:>5} = "
              f"{row['cores_over_bound']:.3f}; {row['chips']} chip(s); placed/naive: cross-chip {r['across_chips']},"
              f" hops {r['hops']}, energy {r['routing_energy']}  ({row['total_s']:.2f} s)", flush=True)
    return rows


def _fmt_ratio(v: Any) -> str:
    return "   -  " if v is None else f"{v:6.3f}"


def print_tables(rows: list[dict[str, Any]], fits: dict[str, Any], suite: list[dict[str, Any]]) -> None:
    if not rows:
        return _print_suite(suite)
    print()
    print("Compile time (s): quantize + partition + place")
    print(f"{'family':<7} {'synapses':>10} {'neurons':>8} {'quantize':>9} {'partition':>10} {'place':>8} {'total':>8}"
          f" {'cores':>6} {'bound':>6} {'ratio':>6}")
    for r in rows:
        print(f"{r['family']:<7} {r['synapses']:>10} {r['neurons']:>8} {r['quantize_s']:>9.3f} {r['partition_s']:>10.3f}"
              f" {r['place_s']:>8.3f} {r['total_s']:>8.3f} {r['cores']:>6} {r['lower_bound_cores']:>6}"
              f" {r['cores_over_bound']:>6.3f}")
    print()
    print("Fitted log-log exponent of time vs synapses (1 = linear): all sizes | from 10^5 on")
    for kind, f in fits.items():
        print(f"  {kind:<7} " + "  ".join(
            f"{stage} {f[stage + '_s']:.2f} | {f[stage + '_s_from_1e5']:.2f}"
            for stage in ("total", "quantize", "partition", "place")))
    _print_suite(suite)


def _print_suite(suite: list[dict[str, Any]]) -> None:
    if not suite:
        return
    print()
    print("Partition quality and placement (placed / naive sequential; < 1 is better)")
    print(f"{'network':<18} {'synapses':>9} {'cores':>6} {'bound':>6} {'ratio':>6} {'chips':>5} {'x-chip':>7}"
          f" {'crossings':>9} {'hops':>7} {'energy':>7}")
    for r in suite:
        q = r["placed_over_naive"]
        print(f"{r['network']:<18} {r['synapses']:>9} {r['cores']:>6} {r['lower_bound_cores']:>6}"
              f" {r['cores_over_bound']:>6.3f} {r['chips']:>5} {_fmt_ratio(q['across_chips']):>7}"
              f" {_fmt_ratio(q['chip_crossings']):>9} {_fmt_ratio(q['hops']):>7} {_fmt_ratio(q['routing_energy']):>7}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="up to 10^6 synapses and a smaller suite")
    ap.add_argument("--profile", default="loihi1", help="hardware profile (default loihi1)")
    ap.add_argument("--repeat", type=int, default=3, help="repeats (best of) for networks up to 10^5 synapses")
    ap.add_argument("--no-suite", action="store_true", help="skip the quality suite")
    ap.add_argument("--suite-only", action="store_true", help="skip the scaling part (quality suite only)")
    ap.add_argument("--only", default=None,
                    help="comma-separated suite networks to run (default: all, or the quick suite with --quick)")
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"output JSON (default {DEFAULT_JSON})")
    args = ap.parse_args(argv)

    sizes = [10**4, 10**5, 10**6] if args.quick else [10**4, 10**5, 10**6, 10**7]
    started = time.perf_counter()
    if not args.suite_only:
        print(f"compile scaling on {args.profile}: {', '.join(f'{s:.0e}' for s in sizes)} synapses", flush=True)
    rows, fits = scaling([] if args.suite_only else sizes, args.profile, args.repeat)
    suite: list[dict[str, Any]] = []
    if not args.no_suite:
        print("quality suite", flush=True)
        names = set(args.only.split(",")) if args.only else (QUICK_SUITE if args.quick else None)
        if names is not None and names - {n for n, _, _ in SUITE}:
            ap.error(f"unknown suite network(s): {', '.join(sorted(names - {n for n, _, _ in SUITE}))}")
        suite = quality(args.profile, names)
    print_tables(rows, fits, suite)
    wall = time.perf_counter() - started
    print(f"\nbenchmark wall time {wall:.1f} s")
    out = {
        "benchmark": "compile_scaling",
        "profile": args.profile,
        "quick": bool(args.quick),
        "machine": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        },
        "wall_s": round(wall, 2),
        "scaling": rows,
        "fitted_exponents": fits,
        "suite": suite,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
