"""Synfire chain sweeps of issue #10: propagation targets, gate survival curves, one-layer maps.

Runs the Diesmann-Gewaltig-Aertsen chain (``yuragi.models.synfire``) on

- ``brian2-float``: the IR network in the Brian2 float reference (LIF, EIF);
- ``emulator``: the LIF chain compiled for Loihi 2 (Loihi 1 gives the same
  integer program; checked and recorded) and run in fixed point;
- ``lava``: the same compiled program on real Lava processes (few seeds:
  ~40 s per run), checked bit for bit against the emulator;
- ``euler-float``: the IR's Euler equations in float64 (the quantized
  program without rounding), to split float-vs-quantized differences into
  integration scheme and rounding;
- ``paper``: the paper's own equations (alpha PSC, white noise) in Brian2,
  to show what the IR lowering changes;

and writes ``benchmarks/results/synfire.json``, prints tables, and saves the
plots of docs/models/synfire.md under ``docs/models/img/``.

    python benchmarks/synfire.py                  # everything: 20 seeds, 2 Lava seeds (~1 h on 2 cores)
    python benchmarks/synfire.py --quick          # 3 seeds, coarse grids, no Lava (a few minutes)
    python benchmarks/synfire.py --parts targets  # one part: targets, gate, map, plots

Parts: ``eif_dt`` (EIF gate survival at dt = 0.1 / 0.05 / 0.025 ms, Brian2
float vs the IR's Euler form), ``energy`` (one a=85 run priced on Loihi 1 / 2: propagating vs
blocked by the gate), ``verify`` (Brian2 Loihi-exact vs emulator spikes on the compiled
LIF chain, bit for bit), ``eif_tune`` (the scan of the EIF chain weight behind
``SynfireParams.eif_J_factor``), ``targets`` (a=85 propagates / a=48 dies, per backend and model),
``gate`` (survival to group 10 vs gate rate nu_G and the nu_G of 50 %
survival), ``map`` (mean (a, sigma) -> (a', sigma') map of one layer and its
separatrix), ``plots`` (rasters; the other parts plot their own figures).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from yuragi.models.synfire import SynfireParams, fit_half_survival, layer_map, run_chain, survival_sweep
from yuragi.models.synfire import plots as sp
from yuragi.models.synfire.runs import chain_steps

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "synfire.json"
DEFAULT_IMG = ROOT / "docs" / "models" / "img"
PARTS = ("targets", "gate", "map", "plots", "eif_tune", "verify", "energy", "eif_dt")

#: (label, neuron, backend) of the propagation-target runs
TARGET_CONFIGS = (
    ("LIF float (brian2-float)", "lif", "brian2-float"),
    ("LIF quantized (emulator, loihi1 = loihi2)", "lif", "emulator"),
    ("LIF quantized (lava)", "lif", "lava"),
    ("LIF float Euler (euler-float)", "lif", "euler-float"),
    ("LIF paper equations (brian2)", "lif", "paper"),
    ("EIF float (brian2-float)", "eif", "brian2-float"),
    ("EIF quantized (emulator; loihi2 program)", "eif", "emulator"),
    ("EIF float Euler (euler-float)", "eif", "euler-float"),
    ("EIF paper equations (brian2)", "eif", "paper"),
)
GATE_CONFIGS = (
    ("LIF float", "lif", "brian2-float"),
    ("LIF quantized", "lif", "emulator"),
    ("EIF float", "eif", "brian2-float"),
    ("EIF quantized", "eif", "emulator"),
    ("EIF float Euler", "eif", "euler-float"),
    ("LIF paper", "lif", "paper"),
    ("LIF float Euler", "lif", "euler-float"),
    ("EIF float (gate x1.8)", "eif", "brian2-float"),
)
#: parameter changes of some gate configurations. The EIF chain weight is
#: 1.8 x the LIF's (eif_J_factor); this control scales the gate's IPSP by the
#: same factor, so gate and chain weights keep the LIF's ratio.
GATE_PARAMS = {"EIF float (gate x1.8)": {"gate_J": -4.86 * 1.8}}
MAP_CONFIGS = (
    ("LIF float", "lif", "brian2-float"),
    ("LIF quantized", "lif", "emulator"),
    ("EIF float", "eif", "brian2-float"),
)


def _clean(x: Any) -> Any:
    """JSON-safe copy (numpy to Python, nan to None)."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if not np.isfinite(x) else float(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def _compiled_programs_equal() -> bool:
    """Do loihi1 and loihi2 compile the LIF chain to the same integers?"""
    from yuragi.compiler import compile_network
    from yuragi.models.synfire import synfire_chain

    net = synfire_chain(85, 1.0, gate_rate_hz=10.0, seed=1)
    c1, _ = compile_network(net, "loihi1")
    c2, _ = compile_network(net, "loihi2")
    fields = ("du", "dv", "vth", "bias_mant", "bias_exp", "refractory", "v_init", "u_init")
    same = all(np.array_equal(np.asarray(getattr(a, f)), np.asarray(getattr(b, f))) for a, b in zip(c1.populations, c2.populations) if not a.is_input for f in fields)
    for a, b in zip(c1.projections, c2.projections):
        same &= np.array_equal(a.weights, b.weights) and a.weight_exp == b.weight_exp and np.array_equal(a.delays, b.delays)
    return bool(same)


# ------------------------------------------------------------------ targets


def _nanmedian(x: np.ndarray) -> np.ndarray:
    """Per-column median over the finite entries (nan where a column has none)."""
    out = np.full(x.shape[1], np.nan)
    for j in range(x.shape[1]):
        col = x[:, j][np.isfinite(x[:, j])]
        if col.size:
            out[j] = float(np.median(col))
    return out


def _selected(configs: tuple, only: list[str] | None) -> list[tuple[str, str, str]]:
    return [c for c in configs if only is None or c[0] in only]


def part_targets(seeds: list[int], lava_seeds: list[int], log: Any, only: list[str] | None = None, previous: dict | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"seeds": seeds, "lava_seeds": lava_seeds, "configs": dict((previous or {}).get("configs", {}))}
    emulator_spikes: dict[tuple[int, int], Any] = {}
    configs = _selected(TARGET_CONFIGS, only)
    if any(c[2] == "lava" for c in configs) and not any(c[2] == "emulator" for c in configs):
        configs = [c for c in TARGET_CONFIGS if c[2] == "emulator"] + configs  # Lava is checked against the emulator
    for label, neuron, backend in configs:
        run_seeds = lava_seeds if backend == "lava" else seeds
        if not run_seeds:
            continue
        cfg: dict[str, Any] = {"neuron": neuron, "backend": backend, "seeds": run_seeds}
        start = time.perf_counter()
        for a in (85, 48):
            a_groups, s_groups = [], []
            bit_exact = []
            for seed in run_seeds:
                run = run_chain(a, 1.0, neuron, 0.0, seed, backend)
                a_groups.append(run.packets.a)
                s_groups.append(run.packets.sigma)
                if backend == "emulator" and seed in lava_seeds:
                    emulator_spikes[(a, seed)] = run.result.spikes["chain"]
                if backend == "lava" and (a, seed) in emulator_spikes:
                    bit_exact.append(bool(run.result.spikes["chain"] == emulator_spikes[(a, seed)]))
            A, S = np.array(a_groups), np.array(s_groups)
            if a == 85:
                ok = (A[:, -1] >= 80) & (S[:, -1] < 1.0)
            else:
                ok = A[:, -1] < 10
            cfg[f"a{a}"] = {
                "a_last": A[:, -1], "sigma_last": S[:, -1], "target_met": ok, "fraction_met": float(ok.mean()),
                "a_mean_per_group": A.mean(axis=0), "sigma_median_per_group": _nanmedian(S),
                "a_per_group": A, "sigma_per_group": S,
            }
            if bit_exact:
                cfg[f"a{a}"]["lava_equals_emulator"] = bit_exact
        cfg["seconds"] = time.perf_counter() - start
        out["configs"][label] = cfg
        log(f"targets {label}: a=85 met {cfg['a85']['fraction_met']:.2f}, a=48 met {cfg['a48']['fraction_met']:.2f} "
            f"({len(run_seeds)} seeds, {cfg['seconds']:.0f} s)")
    return out


def print_targets(res: dict[str, Any]) -> None:
    print("\nPropagation targets (sigma_in = 1 ms): group 10 packet")
    print(f"{'configuration':44s} {'seeds':>5s} | {'a=85: a10 mean [min]':>21s} {'sigma10 mean [max]':>19s} {'met':>5s} | {'a=48: a10 mean [max]':>21s} {'met':>5s}")
    for label, cfg in res["configs"].items():
        s = cfg["a85"]
        w = cfg["a48"]
        sig = np.asarray(s["sigma_last"], dtype=float)
        print(f"{label:44s} {len(cfg['seeds']):5d} | {np.mean(s['a_last']):12.1f} [{np.min(s['a_last']):3d}]    "
              f"{np.nanmean(sig):10.2f} [{np.nanmax(sig):.2f}] {s['fraction_met']:5.2f} | "
              f"{np.mean(w['a_last']):12.1f} [{np.max(w['a_last']):3d}]    {w['fraction_met']:5.2f}")
        if "lava_equals_emulator" in s:
            print(f"{'':44s}  lava spikes == emulator spikes: a=85 {s['lava_equals_emulator']}, a=48 {w.get('lava_equals_emulator')}")


# --------------------------------------------------------------------- gate


def _num(x: Any) -> str:
    return "     -" if x is None or not np.isfinite(x) else f"{x:6.2f}"


def part_gate(seeds: list[int], rates: list[float], log: Any, img: Path, only: list[str] | None = None, previous: dict | None = None) -> dict[str, Any]:
    keep = previous if previous and previous.get("rates_hz") == rates and previous.get("seeds") == seeds else {}
    out: dict[str, Any] = {"rates_hz": rates, "seeds": seeds, "a": 85, "sigma_in": 1.0, "configs": dict(keep.get("configs", {}))}
    curves = {label: (rates, cfg["fraction"], len(seeds)) for label, cfg in out["configs"].items()}
    for label, neuron, backend in _selected(GATE_CONFIGS, only):
        start = time.perf_counter()
        params = SynfireParams(**GATE_PARAMS.get(label, {}))
        sw = survival_sweep(rates, seeds, neuron, backend, params=params, progress=None)
        fit = fit_half_survival(rates, sw["survived"].sum(axis=1), [len(seeds)] * len(rates))
        out["configs"][label] = {
            "neuron": neuron, "backend": backend, "fraction": sw["fraction"], "survived": sw["survived"],
            "passes_issue_target": sw["passes"].mean(axis=1), "a_last": sw["a_last"], "sigma_last": sw["sigma_last"],
            "param_changes": GATE_PARAMS.get(label, {}), **fit, "seconds": time.perf_counter() - start,
        }
        curves[label] = (rates, sw["fraction"], len(seeds))
        log(f"gate {label}: survival {np.round(sw['fraction'], 2).tolist()}; nu50 logistic {fit['nu50_logistic']:.2f} Hz, "
            f"interp {fit['nu50_interp']:.2f} Hz ({time.perf_counter() - start:.0f} s)")
    sp.survival_plot(curves, img / "synfire_survival.png", title="a = 85, sigma_in = 1 ms; gate: 100 Poisson neurons, IPSP 0.14 mV each")
    return out


def print_gate(res: dict[str, Any]) -> None:
    rates = res["rates_hz"]
    print(f"\nSurvival to group 10 vs gate rate nu_G ({len(res['seeds'])} seeds; a=85, sigma_in=1 ms)")
    print(f"{'nu_G (Hz)':14s} " + " ".join(f"{r:5.0f}" for r in rates) + "   nu50 logistic / interp (Hz)")
    for label, cfg in res["configs"].items():
        print(f"{label:14s} " + " ".join(f"{f:5.2f}" for f in cfg["fraction"]) + f"   {_num(cfg['nu50_logistic'])} / {_num(cfg['nu50_interp'])}")


# ---------------------------------------------------------------------- map


def part_map(a_values: list[int], sigma_values: list[float], trials: int, log: Any, img: Path, only: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"a_in": a_values, "sigma_in": sigma_values, "trials": trials, "configs": {}}
    maps = {}
    for label, neuron, backend in _selected(MAP_CONFIGS, only):
        start = time.perf_counter()
        m = layer_map(a_values, sigma_values, trials, neuron, backend, seed=11)
        maps[label] = m
        out["configs"][label] = {**m.to_dict(), "seconds": time.perf_counter() - start}
        log(f"map {label}: separatrix a* per sigma_in {m.separatrix_a().tolist()} ({time.perf_counter() - start:.0f} s)")
    lif = {k: v for k, v in maps.items() if k.startswith("LIF")}
    sp.layer_map_plot(lif, img / "synfire_map_lif.png", title="one layer: (a, sigma_in) -> (a', sigma'), LIF")
    eif = {k: v for k, v in maps.items() if k.startswith("EIF")}
    if eif:
        sp.layer_map_plot(eif, img / "synfire_map_eif.png", title="one layer: (a, sigma_in) -> (a', sigma'), EIF")
    return out


def print_map(res: dict[str, Any]) -> None:
    print(f"\nSeparatrix of the one-layer map: smallest a carried to the attractor, per sigma_in ({res['trials']} trials/point)")
    print(f"{'sigma_in (ms)':14s} " + " ".join(f"{s:5.1f}" for s in res["sigma_in"]))
    for label, cfg in res["configs"].items():
        print(f"{label:14s} " + " ".join("  -  " if v is None else f"{v:5.0f}" for v in cfg["separatrix_a"]))


# ------------------------------------------------------------------- verify


def part_verify(seeds: list[int], log: Any) -> dict[str, Any]:
    """Brian2 Loihi-exact vs emulator on the compiled LIF chain (a=85, a=48, gated a=85 at 12 Hz)."""
    from yuragi.backends import get_backend
    from yuragi.compiler import compile_network
    from yuragi.models.synfire import synfire_chain

    rows = []
    for seed in seeds:
        for neuron, a, gate in (("lif", 85, 0.0), ("lif", 48, 0.0), ("lif", 85, 12.0), ("eif", 85, 0.0), ("eif", 85, 12.0)):
            compiled, _ = compile_network(synfire_chain(a, 1.0, neuron, gate, seed), "loihi2")
            emu = get_backend("emulator").run(compiled, chain_steps())
            row = {"seed": seed, "neuron": neuron, "a": a, "gate_rate_hz": gate, "spikes": emu.spikes["chain"].count}
            others = ("brian2", "lava") if neuron == "eif" and seed == seeds[0] else ("brian2",)
            for backend in others:  # the EIF Loihi 2 program also on Lava (our custom process), one seed
                other = get_backend(backend).run(compiled, chain_steps())
                row[f"{backend}_equal"] = all(other.spikes[k] == emu.spikes[k] for k in emu.spikes)
            row["equal"] = all(v for k, v in row.items() if k.endswith("_equal"))
            rows.append(row)
            log(f"verify {neuron} seed {seed} a={a} nu_G={gate:g}: " + ", ".join(f"{b} == emulator: {row[f'{b}_equal']}" for b in others))
    return {"rows": rows, "all_equal": all(r["equal"] for r in rows)}


# ------------------------------------------------------------------- energy

#: (label, neuron, packet a, gate rate) of the energy runs: the packet propagates without the gate and is
#: blocked at the top rate; a = 0 (background only) gives the marginal cost of a propagated packet.
ENERGY_CASES = (("LIF, background only (a=0)", "lif", 0, 0.0), ("LIF, no gate (propagates)", "lif", 85, 0.0),
                ("LIF, gate 30 Hz (blocked)", "lif", 85, 30.0), ("EIF, background only (a=0)", "eif", 0, 0.0),
                ("EIF, no gate (propagates)", "eif", 85, 0.0), ("EIF, gate 30 Hz (blocked)", "eif", 85, 30.0))


def part_energy(seeds: list[int], log: Any) -> dict[str, Any]:
    """Energy of one chain run on Loihi 1 and 2: background only, a=85 propagating, a=85 blocked by the gate.

    Each run is compiled for the profile (the EIF program only for Loihi 2),
    run on the emulator for the whole chain and priced by the profiler.
    "chain" is the dynamic energy the profiler attributes to the chain
    population (its neuron updates and the synaptic events it receives);
    "total" includes the Poisson background and the gate (host-injected
    spikes that the chip still receives and integrates) and static power.
    """
    from yuragi.backends import get_backend
    from yuragi.compiler import compile_network
    from yuragi.energy import profile_energy
    from yuragi.models.synfire import chain_packets, synfire_chain

    out: dict[str, Any] = {"seeds": seeds, "cases": {}}
    for label, neuron, a, gate in ENERGY_CASES:
        rows: dict[str, list] = {}
        for seed in seeds:
            net = synfire_chain(a, 1.0, neuron, gate, seed)
            for profile in (("loihi1", "loihi2") if neuron == "lif" else ("loihi2",)):
                compiled, _ = compile_network(net, profile)
                result = get_backend("emulator").run(compiled, chain_steps())
                rep = profile_energy(result, compiled, profile)
                chain = sum(rep.by_population.get("chain", {}).values())
                rows.setdefault(profile, []).append({
                    "seed": seed, "survived": bool(chain_packets(result).survived), "total_j": rep.total_j,
                    "dynamic_j": rep.dynamic_j, "chain_dynamic_j": chain, "chain_spikes": int(result.spikes["chain"].count),
                    "time_s": rep.time_s, "estimated": bool(rep.estimated_inputs),
                })
        out["cases"][label] = {"neuron": neuron, "a": a, "gate_rate_hz": gate, "profiles": rows}
        for profile, r in rows.items():
            log(f"energy {label} {profile}: total {1e6 * np.mean([x['total_j'] for x in r]):.1f} uJ, chain dynamic "
                f"{1e6 * np.mean([x['chain_dynamic_j'] for x in r]):.2f} uJ, survived {np.mean([x['survived'] for x in r]):.2f}")
    return out


def print_energy(res: dict[str, Any]) -> None:
    print(f"\nEnergy of one chain run on the emulated chip ({len(res['seeds'])} seeds; mean; * rests on estimated profile numbers)")
    print(f"{'case':28s} {'profile':8s} {'survived':>8s} {'total uJ':>9s} {'dynamic uJ':>10s} {'chain dyn uJ':>12s} {'chain spikes':>12s}")
    for label, case in res["cases"].items():
        for profile, r in case["profiles"].items():
            star = "*" if any(x["estimated"] for x in r) else " "
            print(f"{label:28s} {profile:8s} {np.mean([x['survived'] for x in r]):8.2f} {1e6 * np.mean([x['total_j'] for x in r]):8.1f}{star} "
                  f"{1e6 * np.mean([x['dynamic_j'] for x in r]):10.2f} {1e6 * np.mean([x['chain_dynamic_j'] for x in r]):12.3f} "
                  f"{np.mean([x['chain_spikes'] for x in r]):12.0f}")


# ------------------------------------------------------------------- eif dt

EIF_DT_RATES = (10.0, 12.0, 14.0, 16.0, 18.0, 20.0, 24.0, 28.0)
EIF_DT_STEPS = (0.1, 0.05, 0.025)


def part_eif_dt(seeds: list[int], log: Any) -> dict[str, Any]:
    """EIF gate survival vs the integration step: Brian2 float (exponential Euler) and the IR's Euler form in float.

    The quantized EIF program is the IR's Euler form in integers; if the
    Brian2 reference moves towards it as dt shrinks while the Euler form
    stays put, the float-vs-quantized gap at dt = 0.1 ms is the reference's
    integration error, not the program's.
    """
    import dataclasses

    out: dict[str, Any] = {"seeds": seeds, "rates_hz": list(EIF_DT_RATES), "runs": {}}
    for dt in EIF_DT_STEPS:
        params = dataclasses.replace(SynfireParams(), dt=dt)
        for backend in ("brian2-float", "euler-float"):
            sw = survival_sweep(list(EIF_DT_RATES), seeds, "eif", backend, params=params)
            fit = fit_half_survival(list(EIF_DT_RATES), sw["survived"].sum(axis=1), [len(seeds)] * len(EIF_DT_RATES))
            out["runs"][f"{backend} dt={dt:g}"] = {"backend": backend, "dt_ms": dt, "fraction": sw["fraction"], **fit}
            log(f"eif_dt {backend} dt={dt:g} ms: survival {np.round(sw['fraction'], 2).tolist()}, nu50 interp {fit['nu50_interp']:.2f} Hz")
    return out


def print_eif_dt(res: dict[str, Any]) -> None:
    print(f"\nEIF survival vs integration step ({len(res['seeds'])} seeds; a=85)")
    print(f"{'run':28s} " + " ".join(f"{r:5.0f}" for r in res["rates_hz"]) + "   nu50 logistic / interp (Hz)")
    for label, r in res["runs"].items():
        print(f"{label:28s} " + " ".join(f"{f:5.2f}" for f in r["fraction"]) + f"   {_num(r['nu50_logistic'])} / {_num(r['nu50_interp'])}")


# ----------------------------------------------------------------- eif tune


def part_eif_tune(factors: list[float], seeds: list[int], log: Any) -> dict[str, Any]:
    """Group-10 a of the EIF float chain for a=85 and a=48 vs the EIF weight factor."""
    out: dict[str, Any] = {"factors": factors, "seeds": seeds, "a85_last": [], "a48_last": [], "split_holds": []}
    for f in factors:
        p = SynfireParams(eif_J_factor=f)
        a85 = [int(run_chain(85, 1.0, "eif", 0.0, s, "brian2-float", p).packets.a[-1]) for s in seeds]
        a48 = [int(run_chain(48, 1.0, "eif", 0.0, s, "brian2-float", p).packets.a[-1]) for s in seeds]
        out["a85_last"].append(a85)
        out["a48_last"].append(a48)
        out["split_holds"].append(bool(min(a85) >= 80 and max(a48) < 10))
        log(f"eif_tune factor {f:.2f}: a=85 -> {a85}, a=48 -> {a48}")
    return out


def print_eif_tune(res: dict[str, Any]) -> None:
    print(f"\nEIF weight factor scan (float, seeds {res['seeds']}): group-10 a for a=85 / a=48")
    for f, a85, a48, ok in zip(res["factors"], res["a85_last"], res["a48_last"], res["split_holds"]):
        print(f"  x{f:.2f}: a=85 -> {a85}   a=48 -> {a48}   {'split holds' if ok else '-'}")


# -------------------------------------------------------------------- plots


def part_plots(img: Path, log: Any) -> dict[str, Any]:
    p = SynfireParams()
    sp.psp_plot(p, img / "synfire_psp.png")
    shown = {}
    for name, kwargs in (
        ("synfire_raster_lif_a85.png", dict(a=85, neuron="lif", backend="brian2-float")),
        ("synfire_raster_lif_a48.png", dict(a=48, neuron="lif", backend="brian2-float")),
        ("synfire_raster_lif_a85_quantized.png", dict(a=85, neuron="lif", backend="emulator")),
        ("synfire_raster_lif_a85_gate20.png", dict(a=85, neuron="lif", backend="brian2-float", gate_rate_hz=20.0)),
        ("synfire_raster_eif_a85.png", dict(a=85, neuron="eif", backend="brian2-float")),
    ):
        run = run_chain(sigma_in=1.0, seed=1, **kwargs)
        gate = kwargs.get("gate_rate_hz", 0.0)
        title = (f"{kwargs['neuron'].upper()} {kwargs['backend']}, a={kwargs['a']}, sigma_in=1 ms"
                 + (f", nu_G={gate:g} Hz" if gate else "") + f": group 10 a={run.packets.a[-1]}" + (f", sigma={run.packets.sigma[-1]:.2f} ms" if np.isfinite(run.packets.sigma[-1]) else ""))
        sp.chain_raster(run.result, img / name, packets=run.packets, title=title)
        shown[name] = run.packets.to_dict()
        log(f"plot {name}")
    return shown


def trajectories_plot(targets: dict[str, Any], img: Path) -> None:
    from yuragi.models.synfire.analysis import PacketStats

    cfg = targets["configs"].get("LIF float (brian2-float)")
    if cfg is None:
        return
    runs = {}
    for a in (85, 48):
        A, S = np.asarray(cfg[f"a{a}"]["a_per_group"]), np.asarray(cfg[f"a{a}"]["sigma_per_group"], dtype=float)
        # each line starts at the input packet (a_in, sigma_in = 1 ms), then groups 1..10
        runs[f"a_in = {a}"] = [PacketStats(np.r_[a, A[i]], np.r_[1.0, S[i]], np.zeros(len(S[i]) + 1)) for i in range(len(A))]
    sp.packet_trajectories(runs, img / "synfire_trajectories.png", title="LIF float: input packet, then (sigma, a) of groups 1..10; one line per seed")


# --------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=20, help="seeds per point of the targets and gate sweeps")
    ap.add_argument("--lava-seeds", type=int, default=2, help="seeds run on Lava (0: none)")
    ap.add_argument("--map-trials", type=int, default=5, help="trials per grid point of the layer map")
    ap.add_argument("--quick", action="store_true", help="3 seeds, coarse gate and map grids, no Lava")
    ap.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    ap.add_argument("--only", help="comma-separated configuration labels to (re)run in targets/gate/map; others are kept from the JSON")
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON)
    ap.add_argument("--img-dir", type=Path, default=DEFAULT_IMG)
    args = ap.parse_args()
    parts = [x.strip() for x in args.parts.split(",") if x.strip()]
    only = [x.strip() for x in args.only.split(",") if x.strip()] if args.only else None
    bad = [x for x in parts if x not in PARTS]
    if bad:
        ap.error(f"unknown part(s) {bad}; choose from {PARTS}")
    seeds = list(range(1, (3 if args.quick else args.seeds) + 1))
    lava_seeds = [] if args.quick else list(range(1, args.lava_seeds + 1))
    rates = [0.0, 5.0, 10.0, 15.0, 20.0, 30.0] if args.quick else [float(r) for r in range(0, 31, 2)]
    a_values = [0, 25, 50, 75, 100] if args.quick else list(range(0, 101, 10))
    sigma_values = [0.0, 1.5, 3.0] if args.quick else [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    trials = 2 if args.quick else args.map_trials
    args.img_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t0:7.0f} s] {msg}", flush=True)

    doc: dict[str, Any] = {}
    if args.json.exists():
        try:
            doc = json.loads(args.json.read_text())
        except json.JSONDecodeError:
            doc = {}
    p = SynfireParams()
    doc["setup"] = {
        "machine": platform.platform(), "python": platform.python_version(), "quick": args.quick,
        "params": {k: getattr(p, k) for k in p.__dataclass_fields__}, "psc_tau_ms": p.psc_tau,
        "chain_weight_mV_per_ms": p.chain_weight, "bias_mV_per_ms": p.bias, "chain_steps": chain_steps(p),
        "loihi1_equals_loihi2_program": _compiled_programs_equal(),
    }

    def save() -> None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(_clean(doc), indent=1))

    if "verify" in parts:
        doc["verify"] = part_verify(seeds[:2], log)
        save()
    if "energy" in parts:
        doc["energy"] = part_energy(seeds[:5], log)
        save()
    if "eif_dt" in parts:
        doc["eif_dt"] = part_eif_dt(seeds[:10], log)
        save()
    if "eif_tune" in parts:
        factors = [1.4, 1.8, 2.2] if args.quick else [round(1.3 + 0.1 * i, 2) for i in range(11)]
        doc["eif_tune"] = part_eif_tune(factors, seeds[:4], log)
        save()
    if "targets" in parts:
        doc["targets"] = part_targets(seeds, lava_seeds, log, only, doc.get("targets") if only else None)
        trajectories_plot(doc["targets"], args.img_dir)
        save()
    if "gate" in parts:
        doc["gate"] = part_gate(seeds, rates, log, args.img_dir, only, doc.get("gate") if only else None)
        save()
    if "map" in parts:
        doc["map"] = part_map(a_values, sigma_values, trials, log, args.img_dir, only)
        save()
    if "plots" in parts:
        doc["plots"] = part_plots(args.img_dir, log)
        save()
    doc["setup"]["last_invocation_seconds"] = time.perf_counter() - t0
    save()
    if "eif_tune" in doc:
        print_eif_tune(doc["eif_tune"])
    if "targets" in doc:
        print_targets(doc["targets"])
    if "gate" in doc:
        print_gate(doc["gate"])
    if "map" in doc:
        print_map(doc["map"])
    if "energy" in doc:
        print_energy(doc["energy"])
    if "eif_dt" in doc:
        print_eif_dt(doc["eif_dt"])
    if "verify" in doc:
        print(f"\nBrian2 Loihi-exact (and, for one EIF seed, Lava) == emulator (spikes, bit for bit) on {len(doc['verify']['rows'])} compiled chains: {doc['verify']['all_equal']}")
    print(f"\nloihi1 and loihi2 compile the LIF chain to the same integer program: {doc['setup']['loihi1_equals_loihi2_program']}")
    print(f"wrote {args.json} and PNGs in {args.img_dir}")


if __name__ == "__main__":
    main()
