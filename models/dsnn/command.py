"""``yuragi train dsnn``: train, classify the test digits as a Loihi program, write the files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from rich.console import Console

from ...errors import YuragiError
from .analysis import plot_curves
from .configs import preset
from .data import load_digits_split
from .workflow import evaluate, train

__all__ = ["OUTPUT_FILES", "run_train_dsnn"]

#: Files ``yuragi train dsnn`` writes into its folder.
OUTPUT_FILES = ("dsnn.npz", "dsnn.yrg", "train.json", "accuracy.png")


def prepare_outputs(out_dir: Path, names: tuple[str, ...], force: bool) -> None:
    """Create ``out_dir``; refuse to overwrite files of an earlier run (YuragiError naming them) unless ``force``."""
    existing = [str(out_dir / n) for n in names if (out_dir / n).exists()]
    if existing and not force:
        raise YuragiError(f"{', '.join(existing)} already exist(s); choose another --out-dir or pass --force to overwrite")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise YuragiError(f"cannot create the output folder {out_dir}: {exc.strerror or exc}") from None


def run_train_dsnn(preset_name: str, backend: str, epochs: float, overrides: dict[str, Any], seed: int, profile: str, out_dir: Path,
                   force: bool, console: Console, quiet: bool = False) -> dict[str, Any]:
    """Train a DSNN on digits, evaluate it as a compiled program, write :data:`OUTPUT_FILES`; return the summary.

    ``overrides`` are config fields applied to the preset (e.g. ``n_hidden``, ``infer_steps``).
    """
    from ...ir import save_network

    prepare_outputs(out_dir, OUTPUT_FILES, force)
    say = (lambda *a: None) if quiet else console.print
    config = preset(preset_name, **overrides)
    data = load_digits_split()
    if backend == "emulator" and not config.saturate:
        say(f"note: preset '{preset_name}' assumes unbounded float evidence; the chip's 9-bit tags saturate and this "
            "preset stays near chance there (docs/models/dsnn.md, section 7.2); --preset loihi is the one that learns on the chip")
    say(f"DSNN preset '{preset_name}': {data.n_pixels} inputs, {config.n_hidden} hidden, {data.n_classes} x {config.label_copies} labels;"
        f" {epochs:g} passes over {data.x_train.shape[0]} training digits on the {backend}")
    run = train(config, data, epochs, seed=seed, backend=backend, profile=profile, progress=not quiet)
    for point in run.curve:
        say(f"  {point['presentations']:6d} presentations  {point['steps']:6d} steps   test accuracy {point['accuracy']:.3f}")
    say(f"trained in {run.seconds:.1f} s")
    ev = evaluate(run.net, data, seed=seed, profile=profile, progress=not quiet)
    say(f"compiled free network for {profile}: {ev.report.cores_used} core(s); fixed-point test accuracy on the emulator "
        f"{ev.accuracy:.3f} (same contacts in float: {ev.float_accuracy:.3f}; {data.x_test.shape[0]} digits, {ev.seconds:.1f} s)")
    run.net.save(out_dir / "dsnn.npz")
    save_network(ev.network, out_dir / "dsnn.yrg", overwrite=force)
    plot_curves(run.curve, {}, out_dir / "accuracy.png", title=f"DSNN on digits, trained on the {backend}")
    summary = {
        "preset": preset_name, "config": dataclasses.asdict(run.net.config), "dataset": {"name": data.name, "train": int(data.x_train.shape[0]),
                                                                             "test": int(data.x_test.shape[0])},
        "seed": seed, "epochs": epochs, "profile": profile, **run.to_dict(),
        "fixed_point_accuracy": ev.accuracy, "float_accuracy_same_contacts": ev.float_accuracy, "inference_seconds": round(ev.seconds, 3),
        "cores": int(ev.report.cores_used), "files": [str(out_dir / n) for n in OUTPUT_FILES],
    }
    (out_dir / "train.json").write_text(json.dumps(summary, indent=1))
    say(f"wrote {', '.join(summary['files'])}")
    return summary
