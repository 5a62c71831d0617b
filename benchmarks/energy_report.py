"""Energy per spike / per synaptic op / per step / per inference of the built-in models on both profiles.

Also the workload-level check of docs/energy.md: a keyword-spotter-sized network
(390 -> 256 -> 256 -> 29, dense, as in Blouw et al. 2019) priced with the Loihi 1
profile and compared with the published 0.27 mJ dynamic energy per inference.

    .venv/bin/python benchmarks/energy_report.py [--steps 1000]
"""

from __future__ import annotations

import argparse

import numpy as np

from yuragi.backends import get_backend
from yuragi.compiler import compile_network
from yuragi.energy import profile_energy
from yuragi.ir import LIF, NetworkBuilder, PoissonInput
from yuragi.models import BUILTIN_MODELS, builtin_model

#: Blouw, Choo, Hunsberger & Eliasmith 2019 (arXiv:1812.01739), Table 1, Loihi row:
#: dynamic power 0.081 W, 296 inferences/s, 0.00027 J per inference.
BLOUW_J_PER_INF = 0.27e-3
BLOUW_INF_PER_S = 296.0
BLOUW_DYNAMIC_W = 0.081


def kws_like(rate_hz: float = 50.0, seed: int = 0):
    """390 Poisson inputs -> 256 LIF -> 256 LIF -> 29 LIF, dense random weights (the KWS network's shape)."""
    rng = np.random.default_rng(seed)
    b = NetworkBuilder("kws_like", dt=1.0, seed=seed)
    x = b.input("x", 390, PoissonInput(rate_hz=[rate_hz]))
    lif = LIF(tau_mem=20.0, tau_syn=5.0, v_th=10.0, refractory=2)
    h1 = b.population("h1", 256, lif)
    h2 = b.population("h2", 256, lif)
    out = b.population("out", 29, lif)
    b.connect(x, h1, weights=rng.normal(0.1, 0.4, size=(256, 390)))
    b.connect(h1, h2, weights=rng.normal(0.1, 0.6, size=(256, 256)))
    b.connect(h2, out, weights=rng.normal(0.1, 0.8, size=(29, 256)))
    return b.build()


def fmt(x: float) -> str:
    return f"{x:.4g}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=1, help="inferences the run stands for (energy per inference = total / samples)")
    args = ap.parse_args()
    print(f"{'model':<14}{'profile':<8}{'spikes':>8}{'synops':>9}{'pJ/spike dyn':>14}{'nJ/spike tot':>14}"
          f"{'pJ/synop dyn':>14}{'nJ/step tot':>13}{'µs/step':>9}{'µJ/inference':>14}{'dyn %':>7}")
    for model in BUILTIN_MODELS:
        for prof in ("loihi1", "loihi2"):
            try:
                compiled, _ = compile_network(builtin_model(model), prof)
            except Exception as exc:  # a model the profile cannot run natively
                print(f"{model:<14}{prof:<8} not compiled: {exc}")
                continue
            r = get_backend("emulator").run(compiled, args.steps)
            e = profile_energy(r, compiled, prof, samples=args.samples)
            dyn_spike = e.dynamic_j / e.total_spikes if e.total_spikes else float("nan")
            dyn_synop = e.dynamic_j / e.total_synops if e.total_synops else float("nan")
            print(f"{model:<14}{prof:<8}{e.total_spikes:>8}{e.total_synops:>9}{fmt(dyn_spike * 1e12):>14}{fmt(e.energy_per_spike_j * 1e9):>14}"
                  f"{fmt(dyn_synop * 1e12):>14}{fmt(e.energy_per_step_j * 1e9):>13}{fmt(e.time_per_step_s * 1e6):>9}"
                  f"{fmt(e.energy_per_sample_j * 1e6):>14}{100 * e.dynamic_fraction:>7.1f}")
    print()
    print("Workload check (docs/energy.md): KWS-sized network on the loihi1 profile vs Blouw et al. 2019")
    for rate in (20.0, 50.0, 100.0):
        compiled, _ = compile_network(kws_like(rate), "loihi1")
        r = get_backend("emulator").run(compiled, args.steps)
        e = profile_energy(r, compiled, "loihi1")
        dyn_per_step = e.dynamic_j / e.steps
        # steps per inference implied by the measured throughput and our step-time model
        steps_per_inf = (1.0 / BLOUW_INF_PER_S) / e.time_per_step_s
        j_per_inf = dyn_per_step * steps_per_inf
        rates = r.rates_hz()
        print(f"  input {rate:>5.0f} Hz (hidden {rates['h1']:.0f}/{rates['h2']:.0f} Hz): dynamic {fmt(dyn_per_step * 1e9)} nJ/step, "
              f"step {fmt(e.time_per_step_s * 1e6)} µs -> dynamic power {fmt(dyn_per_step / e.time_per_step_s * 1e3)} mW "
              f"(published {BLOUW_DYNAMIC_W * 1e3:.0f} mW); {steps_per_inf:.0f} steps/inference -> {fmt(j_per_inf * 1e3)} mJ/inference "
              f"(published {BLOUW_J_PER_INF * 1e3} mJ; ratio published/model {BLOUW_J_PER_INF / j_per_inf:.2f})")


if __name__ == "__main__":
    main()
