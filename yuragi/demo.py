"""Demos: `make demo` runs the DSNN flow (:mod:`yuragi.demo_dsnn`); ``yuragi demo --model ei_balanced`` the network flow below.

Build -> save/load -> validate -> compile for Loihi 1 and 2 -> run on the
emulator and on real Lava processes -> verify bit for bit against Brian2 ->
compare with the float reference -> price the run's energy. Each stage prints what it did; files go to
the folder the user names.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

from .errors import YuragiError

DEMO_STEPS = 1000


def run_demo(out_dir: Path, console: Console, model: str = "dsnn", force: bool = False) -> None:
    """The demo of ``model``: ``'dsnn'`` (:mod:`yuragi.demo_dsnn`, what ``make demo`` runs) or ``'ei_balanced'``."""
    if model == "dsnn":
        from .demo_dsnn import run_dsnn_demo

        run_dsnn_demo(out_dir, console, force=force)
    elif model == "ei_balanced":
        run_network_demo(out_dir, console)
    else:
        raise YuragiError(f"unknown demo '{model}' (demos: dsnn, ei_balanced)")


def run_network_demo(out_dir: Path, console: Console) -> None:
    """Run every stage on the built-in 'ei_balanced' network; raise YuragiError if any check fails."""
    from .backends import get_backend
    from .cli import network_summary_tables
    from .compiler import compile_network, save_compiled
    from .ir import load_network, save_network
    from .models import builtin_model
    from .plots import raster_plot
    from .verify import compare_exact, compare_statistical

    out_dir.mkdir(parents=True, exist_ok=True)
    console.rule("1. build the built-in 'ei_balanced' network")
    net = builtin_model("ei_balanced")
    console.print(f"{net.n_neurons} neurons, {net.n_synapses} synapses, {len(net.projections)} projections")

    console.rule("2. save to .yrg and load it back")
    path = out_dir / "ei_balanced.yrg"
    save_network(net, path, overwrite=True)
    loaded = load_network(path)
    if loaded != net:
        raise YuragiError(f"{path}: round trip changed the network")
    console.print(f"saved {path} ({path.stat().st_size} bytes); loaded copy equals the original")

    console.rule("3. validate and summarise")
    for table in network_summary_tables(loaded):
        console.print(table)

    console.rule("4. compile for Loihi 1 and Loihi 2")
    compiled1, report1 = compile_network(loaded, "loihi1")
    console.print(f"loihi1: {report1.cores_used} core(s), lower bound {report1.lower_bound_cores}")
    compiled, report = compile_network(loaded, "loihi2")
    report.print(console)
    save_compiled(compiled, out_dir / "ei_balanced.loihi2.yrc", overwrite=True)
    report.plot(out_dir / "utilisation.png")

    console.rule(f"5. run {DEMO_STEPS} steps: emulator, then real Lava processes")
    timings = {}
    results = {}
    for backend in ("emulator", "lava", "brian2"):
        t0 = time.perf_counter()
        results[backend] = get_backend(backend).run(compiled, DEMO_STEPS)
        timings[backend] = time.perf_counter() - t0
    for backend, seconds in timings.items():
        rates = ", ".join(f"{k} {v:.1f} Hz" for k, v in results[backend].rates_hz().items())
        console.print(f"{backend:9s} {seconds:7.2f} s   {rates}")
    raster_plot(results["emulator"], out_dir / "raster.png")

    console.rule("6. verify: bit for bit across backends")
    for a, b in (("lava", "brian2"), ("emulator", "lava")):
        verdict = compare_exact(results[a], results[b])
        console.print(("[green]" if verdict.equal else "[red]") + verdict.summary(), soft_wrap=True)
        if not verdict.equal:
            raise YuragiError(f"verification failed: {verdict.summary()}")

    console.rule("7. quantized vs float reference (Brian2, physical units)")
    reference = get_backend("brian2").run_float(loaded, DEMO_STEPS)
    stat = compare_statistical(reference, results["emulator"], rate_tolerance=0.05)
    for p in stat.populations:
        console.print(f"{p.population:6s} float {p.rate_ref_hz:6.2f} Hz  fixed {p.rate_test_hz:6.2f} Hz  rate error {p.rate_error:.3f}  coincidence {p.coincidence:.3f}")
    console.print(("[green]within" if stat.ok else "[red]outside") + " the 5% rate tolerance")

    console.rule("8. energy on Loihi 1 and Loihi 2 (op counters x hardware profile)")
    from .energy import profile_energy

    for profile_name, program in (("loihi1", compiled1), ("loihi2", compiled)):
        rep = profile_energy(get_backend("emulator").run(program, DEMO_STEPS), program, profile_name)
        console.print(
            f"{profile_name}: total {rep.total_j * 1e6:.1f} µJ over {DEMO_STEPS} steps "
            f"(dynamic {100 * rep.dynamic_fraction:.1f}%), {rep.energy_per_spike_j * 1e9:.1f} nJ per spike, "
            f"{rep.energy_per_synop_j * 1e12:.0f} pJ per synaptic op (totals)" + ("  (rests on estimated profile numbers)" if rep.estimated_inputs else ""),
            markup=False,
        )
    console.print(f"files: {', '.join(sorted(str(p) for p in out_dir.iterdir()))}")
