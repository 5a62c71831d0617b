"""The float dual sampling network on digits: accuracy, stability under turnover, power-law spectra (issue #9).

Trains the DSNN presets of ``yuragi.models.dsnn.configs`` on the bundled
scikit-learn digits (1257 train / 540 test, split seed 0) for
``TRAIN_EPOCHS`` passes, then

* records test accuracy against training presentations;
* keeps every network running for as many steps again without labels while
  its contacts keep resampling (``free``: traces keep collecting evidence from
  the network's own activity; ``hold``: traces frozen), and checks that the
  test accuracy stays within 2 points of its end-of-training value;
* measures the cross-validated PCA spectrum of the hidden layer (all 1797
  images, two repeats of ``infer_steps`` steps each) and fits
  ``lambda_n ~ n^-alpha`` over ranks 5..50 and 10..100, with bootstrap CIs;
* ablations of the evidence rule of the reference (``linear_midpoint``,
  ``delta``) and of the hardware form (top-down term on; hidden synapses frozen);
* runs the controls: the same architecture trained by SGD/backprop (float
  weights, numpy), the frozen random network (initial contacts, never
  resampled) and the frozen random hidden layer with a Gibbs-sampled label layer.

Prints a table and writes ``benchmarks/results/dsnn.json`` and PNG plots in
``benchmarks/results/dsnn/``.

    python benchmarks/dsnn.py            # full run (about 10-20 minutes on 2 cores)
    python benchmarks/dsnn.py --quick    # smoke run: small sizes, 2 epochs, 10 bootstrap samples
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from yuragi.models.dsnn import DSNN, load_digits_split
from yuragi.models.dsnn.analysis import plot_curves, plot_spectra, spectrum_summary, study, train_sgd_control
from yuragi.models.dsnn.configs import TRAIN_EPOCHS, preset

RESULTS = Path(__file__).resolve().parent / "results"


def _jsonable(obj):  # noqa: ANN001, ANN201
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return None if not np.isfinite(obj) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _alpha_text(hidden: dict | None, which: int = 0) -> str:
    if not hidden:
        return "-"
    law = hidden["power_law"][which]
    return f"{law['alpha']:.2f} [{law['ci'][0]:.2f},{law['ci'][1]:.2f}]"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, 2 epochs, 10 bootstrap samples")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--boot", type=int, default=100, help="bootstrap samples of the power-law fits")
    ap.add_argument("--json", type=Path, default=RESULTS / "dsnn.json")
    ap.add_argument("--plots", type=Path, default=RESULTS / "dsnn")
    args = ap.parse_args()

    data = load_digits_split()
    epochs = 2 if args.quick else TRAIN_EPOCHS
    n_boot = 10 if args.quick else args.boot
    size = {"n_hidden": 100} if args.quick else {}
    variants = {
        "reference": (preset("reference", **size), ("free", "hold")),
        "reference, linear midpoint": (preset("reference", evidence="linear_midpoint", **size), ("free",)),
        "reference, delta": (preset("reference", evidence="delta", **size), ("free",)),
        "hardware": (preset("hardware", **size), ("free", "hold")),
        "hardware+topdown": (preset("hardware", topdown="exact", **size), ("free",)),
        "hardware, frozen hidden": (preset("hardware", plastic_hidden=False, topdown="none", **size), ("free",)),
        "small (demo/tests)": (preset("small"), ("free",)),
    }
    args.plots.mkdir(parents=True, exist_ok=True)
    results: dict = {"dataset": {"name": data.name, "train": int(data.x_train.shape[0]), "test": int(data.x_test.shape[0])},
                     "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()},
                     "epochs": epochs, "n_boot": n_boot, "variants": {}, "controls": {}}
    laws_for_plot = {}
    for name, (cfg, modes) in variants.items():
        print(f"== DSNN {name}: {cfg.n_hidden} hidden, {cfg.label_copies} label copies, {cfg.activation}/{cfg.evidence}/{cfg.resample_prob},"
              f" topdown {cfg.topdown}, plastic hidden {cfg.plastic_hidden}", flush=True)
        t0 = time.perf_counter()
        out, objs = study(cfg, data, epochs, seed=args.seed, n_boot=n_boot, free_modes=modes,
                          spectrum=cfg.plastic_hidden and "," not in name, progress=lambda m: print(m, flush=True))
        out["wall_seconds"] = time.perf_counter() - t0
        results["variants"][name] = out
        slug = name.split(" (")[0].replace("+", "_").replace(", ", "_").replace(" ", "_")
        plot_curves(objs["train_curve"], objs["after"], args.plots / f"accuracy_{slug}.png", title=f"DSNN ({name}) on digits")
        if name in ("reference", "hardware"):
            laws_for_plot[f"DSNN {name}"] = objs["laws"][(5, 50)]

    big = preset("reference", **size)
    print(f"== control: SGD/backprop, {big.n_hidden} hidden, {big.label_copies} label copies, float weights", flush=True)
    t0 = time.perf_counter()
    sgd = train_sgd_control(data, big.n_hidden, big.label_copies, epochs=60, seed=args.seed)
    sgd_s = time.perf_counter() - t0
    hidden, laws = spectrum_summary(sgd.w_hidden, data, big.infer_steps, args.seed, n_boot)
    results["controls"]["sgd"] = {"train_seconds": sgd_s, "epochs": 60, "test_accuracy_mean_field": sgd.history[-1]["accuracy"],
                                  "test_accuracy": sgd.accuracy(data.x_test, data.y_test, steps=big.infer_steps, seed=args.seed),
                                  "hidden": hidden, "history": sgd.history}
    laws_for_plot["SGD/backprop"] = laws[(5, 50)]
    print(f"== control: frozen random synapses ({big.n_hidden} hidden, the initial DSNN contacts)", flush=True)
    frozen = DSNN(big, data.n_pixels, data.n_classes, seed=args.seed)
    hidden, laws = spectrum_summary(frozen.hidden.weights, data, big.infer_steps, args.seed, n_boot)
    results["controls"]["frozen"] = {"test_accuracy": frozen.accuracy(data.x_test, data.y_test, seed=args.seed), "hidden": hidden}
    laws_for_plot["frozen random"] = laws[(5, 50)]
    plot_spectra(laws_for_plot, args.plots / "spectra.png")

    # ---- table
    print()
    print(f"{'network':28s} {'test acc':>8s} {'averaged':>8s} {'train s':>8s} {'after (free)':>14s} {'after (hold)':>14s}"
          f" {'alpha 5-50 [95% CI]':>22s} {'alpha 10-100 [95% CI]':>22s} {'probe':>6s}")
    for name, out in results["variants"].items():
        after = out["after_training"]
        cell = lambda m: (f"dev {after[m]['max_deviation'] * 100:4.1f} {'ok' if after[m]['within_2_points'] else 'FAIL'}" if m in after else "-")  # noqa: E731
        h = out.get("hidden")
        print(f"{name:28s} {out['test_accuracy']:8.3f} {out['test_accuracy_model_averaged']:8.3f} {out['train_seconds']:8.1f}"
              f" {cell('free'):>14s} {cell('hold'):>14s} {_alpha_text(h, 0):>22s} {_alpha_text(h, 1):>22s}"
              f" {h['linear_probe_accuracy'] if h else float('nan'):6.3f}")
    s = results["controls"]["sgd"]
    print(f"{'SGD/backprop (float w)':28s} {s['test_accuracy']:8.3f} {s['test_accuracy_mean_field']:8.3f} {s['train_seconds']:8.1f}"
          f" {'-':>14s} {'-':>14s} {_alpha_text(s['hidden'], 0):>22s} {_alpha_text(s['hidden'], 1):>22s} {s['hidden']['linear_probe_accuracy']:6.3f}")
    f = results["controls"]["frozen"]
    print(f"{'frozen random':28s} {f['test_accuracy']:8.3f} {'-':>8s} {'-':>8s} {'-':>14s} {'-':>14s}"
          f" {_alpha_text(f['hidden'], 0):>22s} {_alpha_text(f['hidden'], 1):>22s} {f['hidden']['linear_probe_accuracy']:6.3f}")
    print("(averaged: DSNN contacts keep resampling during inference; SGD: deterministic mean-field network."
          " after: max |accuracy - end of training| over as many steps as training took, points."
          " probe: logistic-regression read-out of hidden rates.)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(_jsonable(results), indent=1))
    print(f"wrote {args.json} and plots in {args.plots}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
