"""The DSNN as a Loihi program (issue #9): on-chip learning on the emulator vs the float model, over seeds.

For each seed, with the ``"loihi"`` preset (300 hidden, 10 label copies per
class, label synapses carrying the Gibbs-synapse program a=2, m=7, k=6):

* trains the float model (same hyperparameters, tag saturation, batch 32) for
  ``--epochs`` passes over the 1257 training digits;
* trains the compiled program on the emulator, online, for the same passes
  (accuracy of its contacts after every pass);
* classifies the 540 test digits with the compiled free network in fixed
  point (emulator, 100 steps per digit) -- the "Loihi fixed-point" accuracy;
* lets the chip run on without labels for as many steps again (the label
  contacts keep collecting evidence from the network's own samples and keep
  resampling) and records the accuracy after every pass: the largest
  deviation from the end-of-training value;
* prices the test inferences and the training steps on Loihi 2.

Prints a table and writes ``benchmarks/results/dsnn_loihi.json`` and
``benchmarks/results/dsnn/loihi_curves.png``.

    python benchmarks/dsnn_loihi.py                 # 5 seeds x 8 passes, two processes (about 15 minutes on 2 cores)
    python benchmarks/dsnn_loihi.py --quick         # 1 seed, 150 hidden, 2 passes (writes *_quick files)
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def one_seed(seed: int, epochs: float, overrides: dict) -> dict:
    """Everything measured for one seed (runs in a worker process)."""
    from yuragi.models.dsnn import load_digits_split
    from yuragi.models.dsnn.configs import preset
    from yuragi.models.dsnn.hardware import start_free_run, start_training, train_fixed_point
    from yuragi.models.dsnn.workflow import evaluate, inference_energy, train

    data = load_digits_split()
    cfg = preset("loihi", **overrides)
    n = data.x_train.shape[0]
    t0 = time.perf_counter()
    ref = train(cfg, data, epochs, seed=seed, backend="float")
    float_ev = evaluate(ref.net, data, seed=seed)  # the float-trained contacts, compiled, in fixed point

    from yuragi.models.dsnn import DSNN

    training = start_training(DSNN(cfg, data.n_pixels, data.n_classes, seed=seed), seed=seed)
    chip_curve = []

    def record(t) -> None:  # noqa: ANN001
        chip_curve.append({"presentations": t.presentations, "steps": t.steps, "accuracy": t.net.accuracy(data.x_test, data.y_test, seed=seed)})

    presentations = int(round(epochs * n))
    train_fixed_point(training, data.x_train, data.y_train, presentations, seed=seed, callback=record, every=n)
    train_s, train_steps = training.seconds, training.steps
    chip_ev = evaluate(training.net, data, seed=seed, detail=True)
    energy = inference_energy(chip_ev, "loihi2")

    free = start_free_run(training, seed=seed)
    free_curve = []

    def record_free(t) -> None:  # noqa: ANN001
        free_curve.append({"presentations": t.presentations - presentations, "steps": t.steps - train_steps,
                           "accuracy": t.net.accuracy(data.x_test, data.y_test, seed=seed)})

    train_fixed_point(free, data.x_train, np.zeros(n, dtype=np.int64), presentations, seed=seed + 1000, callback=record_free, every=n)
    end = chip_curve[-1]["accuracy"]
    return {
        "seed": seed,
        "float_curve": ref.curve,
        "float_accuracy": ref.curve[-1]["accuracy"],
        "float_trained_fixed_point_accuracy": float_ev.accuracy,
        "chip_curve": chip_curve,
        "chip_contacts_accuracy": end,
        "chip_fixed_point_accuracy": chip_ev.accuracy,
        "train_steps": train_steps,
        "train_ms_per_step": 1e3 * train_s / train_steps,
        "inference_us_per_step": 1e6 * chip_ev.seconds / (data.x_test.shape[0] * cfg.infer_steps),
        "free_curve": free_curve,
        "free_steps": free.steps - train_steps,
        "free_max_deviation": max(abs(p["accuracy"] - end) for p in free_curve),
        "energy_per_inference_j": float(np.mean([r.total_j for r in energy])),
        "dynamic_energy_per_inference_j": float(np.mean([r.dynamic_j for r in energy])),
        "chip_time_per_inference_s": float(np.mean([r.time_s for r in energy])),
        "estimated_energy_inputs": sorted(set().union(*[set(r.estimated_inputs) for r in energy])),
        "wall_s": time.perf_counter() - t0,
    }


def plot(runs: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.2))
    for i, r in enumerate(runs):
        end = r["chip_curve"][-1]["steps"]
        kw = dict(alpha=0.8, lw=1)
        ax.plot([p["steps"] for p in r["float_curve"]], [p["accuracy"] for p in r["float_curve"]], "--", color="grey",
                label="float model, trained" if i == 0 else None, **kw)
        ax.plot([p["steps"] for p in r["chip_curve"]], [p["accuracy"] for p in r["chip_curve"]], "o-", color="C0", ms=3,
                label="compiled program on the emulator, trained" if i == 0 else None, **kw)
        ax.plot([end + p["steps"] for p in r["free_curve"]], [p["accuracy"] for p in r["free_curve"]], ".-", color="C1",
                label="same chip, labels off, contacts resampling" if i == 0 else None, **kw)
        ax.plot([end], [r["chip_fixed_point_accuracy"]], "k*", ms=8, label="fixed-point inference (emulator)" if i == 0 else None)
    ax.axvline(runs[0]["chip_curve"][-1]["steps"], color="grey", lw=0.8, ls=":")
    ax.set_xlabel("network steps")
    ax.set_ylabel("test accuracy (540 digits)")
    ax.set_ylim(0, 1)
    ax.set_title(f"DSNN 'loihi' preset: {len(runs)} seed(s)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 seed, 150 hidden, 2 passes")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=float, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None, help="default: results/dsnn_loihi.json (--quick: dsnn_loihi_quick.json)")
    ap.add_argument("--plot", type=Path, default=None, help="default: results/dsnn/loihi_curves.png (--quick: loihi_curves_quick.png)")
    args = ap.parse_args()
    tag = "_quick" if args.quick else ""
    args.json = args.json or RESULTS / f"dsnn_loihi{tag}.json"
    args.plot = args.plot or RESULTS / "dsnn" / f"loihi_curves{tag}.png"
    seeds = [0] if args.quick else list(range(args.seeds))
    epochs = 2 if args.quick else args.epochs
    overrides = {"n_hidden": 150} if args.quick else {}
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max(1, args.workers)) as pool:
        runs = list(pool.map(one_seed, seeds, [epochs] * len(seeds), [overrides] * len(seeds)))
    print(f"DSNN 'loihi' preset{' (quick)' if args.quick else ''}: {epochs:g} passes, {len(seeds)} seed(s)")
    head = f"{'seed':>4} {'float':>6} {'float->fixed':>12} {'chip':>6} {'chip fixed':>10} {'free max dev':>12} {'ms/step train':>13} {'us/step infer':>13} {'uJ/inference':>12}"
    print(head)
    for r in runs:
        print(f"{r['seed']:>4} {r['float_accuracy']:6.3f} {r['float_trained_fixed_point_accuracy']:12.3f} {r['chip_contacts_accuracy']:6.3f} "
              f"{r['chip_fixed_point_accuracy']:10.3f} {r['free_max_deviation']:12.3f} {r['train_ms_per_step']:13.2f} "
              f"{r['inference_us_per_step']:13.1f} {1e6 * r['energy_per_inference_j']:12.1f}")
    keys = ("float_accuracy", "float_trained_fixed_point_accuracy", "chip_contacts_accuracy", "chip_fixed_point_accuracy", "free_max_deviation")
    summary = {k: {"mean": float(np.mean([r[k] for r in runs])), "min": float(np.min([r[k] for r in runs])),
                   "max": float(np.max([r[k] for r in runs]))} for k in keys}
    gap = [r["chip_fixed_point_accuracy"] - r["float_accuracy"] for r in runs]
    summary["chip_fixed_minus_float"] = {"mean": float(np.mean(gap)), "min": float(np.min(gap)), "max": float(np.max(gap))}
    print("mean " + "  ".join(f"{k} {v['mean']:.3f} [{v['min']:.3f}, {v['max']:.3f}]" for k, v in summary.items()))
    out = {"machine": {"python": platform.python_version(), "processor": platform.machine()}, "epochs": epochs, "seeds": seeds,
           "overrides": overrides, "summary": summary, "runs": runs, "wall_s": time.perf_counter() - t0}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1, default=float))
    plot(runs, args.plot)
    print(f"wrote {args.json} and {args.plot} ({out['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
