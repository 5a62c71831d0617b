"""`make demo`: the dual sampling network, end to end.

Digits -> float reference -> compile the learning program for Loihi 2 (and
say why Loihi 1 cannot run it) -> train on the emulator as the chip would
(Gibbs sampling of the label synapses, no optimizer) -> compile the free
network and classify the 540 test digits in fixed point -> cvPCA exponent
of the hidden code -> the same inferences on real Lava processes and in
Brian2 (Loihi-exact), bit for bit, plus a learning slice -> energy per
inference and per training presentation on Loihi 2. Files (plots, the
trained network, a JSON summary) go to the folder the user names.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from .errors import CompileError, YuragiError

#: Passes over the training digits (chip and float); test digits verified on Lava and Brian2; learning-slice steps.
DEMO_EPOCHS = 6
VERIFY_DIGITS = 3
LEARNING_SLICE_STEPS = 128
#: Files the demo writes (it refuses to overwrite them unless asked).
DEMO_FILES = ("dsnn.npz", "dsnn.yrg", "dsnn_train.loihi2.yrc", "accuracy.png", "spectrum.png", "inference_raster.png", "energy.png",
              "demo.json")


def _loihi1_verdict(net_ir: Any) -> str:
    """One line: whether Loihi 1 can run ``net_ir`` (the compile error's first line when not)."""
    from .compiler import compile_network

    try:
        compile_network(net_ir, "loihi1")
    except CompileError as exc:
        return f"loihi1: not expressible - {str(exc).splitlines()[0]}"
    return "loihi1: compiles"


def _verify_inference(console: Console, compiled: Any, data: Any, steps: int, seed: int, emulator_results: list) -> list[dict]:
    """Run the first test digits on Lava and Brian2 exact; compare with the emulator and each other."""
    from .models.dsnn.hardware import backend_counts
    from .verify import compare_exact

    x = data.x_test[:VERIFY_DIGITS]
    out = []
    runs = {}
    for backend in ("lava", "brian2"):
        t0 = time.perf_counter()
        runs[backend] = backend_counts(compiled, x, steps, backend, seed=seed)
        console.print(f"{backend:8s} {VERIFY_DIGITS} digits x {steps} steps in {time.perf_counter() - t0:.1f} s")
    for i in range(VERIFY_DIGITS):
        for a, b in (("emulator", "lava"), ("lava", "brian2")):
            ra = emulator_results[i] if a == "emulator" else runs[a][i]
            verdict = compare_exact(ra, runs[b][i])
            console.print(("[green]" if verdict.equal else "[red]") + f"digit {i} (label {data.y_test[i]}): " + verdict.summary(),
                          soft_wrap=True)
            out.append({"digit": i, "a": a, "b": b, "equal": verdict.equal, "summary": verdict.summary()})
            if not verdict.equal:
                raise YuragiError(f"verification failed on test digit {i}: {verdict.summary()}")
    return out


def _learning_slice(console: Console, train_ir: Any, net0: Any, data: Any, seed: int, every: int) -> tuple[dict, Any, Any]:
    """The first ``LEARNING_SLICE_STEPS`` steps of the training run on the emulator, Lava and Brian2 exact.

    Same program (``train_ir``, from the untrained ``net0``), same input
    rasters as :func:`yuragi.models.dsnn.workflow.train` used; probes the label
    contacts' weights and evidence tags at every step.
    """
    from .backends import get_backend
    from .compiler import compile_network
    from .ir import Probe
    from .models.dsnn.hardware import pipeline_depth, presentation_rasters
    from .verify import compare_exact

    ir = dataclasses.replace(train_ir, probes=train_ir.probes + (Probe("U.c0", "w"), Probe("U.c0", "t"), Probe("U_bias.c0", "t")))
    compiled, _ = compile_network(ir, "loihi2")
    steps = LEARNING_SLICE_STEPS
    _, xs, labels = next(presentation_rasters(net0, data.x_train, data.y_train, every, seed, pipeline_depth(compiled), chunk=every))
    inputs = {"x": xs[:steps], "label": labels[:steps]}
    results = {}
    for backend in ("emulator", "lava", "brian2"):
        t0 = time.perf_counter()
        results[backend] = get_backend(backend).run(compiled, steps, inputs)
        console.print(f"{backend:8s} first {steps} training steps in {time.perf_counter() - t0:.1f} s")
    verdicts = {}
    for a, b in (("emulator", "lava"), ("lava", "brian2")):
        verdict = compare_exact(results[a], results[b])
        console.print(("[green]" if verdict.equal else "[red]") + verdict.summary(), soft_wrap=True)
        verdicts[f"{a}-{b}"] = verdict.summary()
        if not verdict.equal:
            raise YuragiError(f"learning slice: {verdict.summary()}")
    w = results["emulator"].probes["U.c0.w"]
    flips = int((np.diff(w, axis=0) != 0).sum())
    moved = int((w[-1] != w[0]).sum())
    console.print(f"the label contacts were resampled {steps // 64} times: {flips} changes, {moved} of {w.shape[1]} differ from the "
                  "start (evidence tags start empty, so the first draws are the prior's coin flips); every tag and weight is "
                  "equal on the three backends at every step")
    return {"steps": steps, "verdicts": verdicts, "contact_changes": flips, "contacts_moved": moved}, results["emulator"], compiled


def run_dsnn_demo(out_dir: Path, console: Console, epochs: float = DEMO_EPOCHS, seed: int = 0, force: bool = False) -> dict:
    """Run every stage; raise YuragiError if a check fails. Returns the JSON summary (also written to demo.json)."""
    from .compiler import compile_network, save_compiled
    from .energy import energy_plot, profile_energy
    from .ir import save_network
    from .models.dsnn import load_digits_split
    from .models.dsnn.analysis import plot_curves, plot_spectra, spectrum_summary
    from .models.dsnn.command import prepare_outputs
    from .models.dsnn.configs import preset
    from .models.dsnn.network import build_network
    from .models.dsnn.workflow import evaluate, inference_energy, train
    from .plots import raster_plot

    from .backends.lava import preload

    preload()  # before scikit-learn fixes the multiprocessing start method (see its docstring)
    prepare_outputs(out_dir, DEMO_FILES, force)
    summary: dict[str, Any] = {"seed": seed, "epochs": epochs}
    t_start = time.perf_counter()
    config = preset("loihi")
    data = load_digits_split()

    console.rule("1. data and model")
    console.print(f"scikit-learn digits: {data.x_train.shape[0]} training / {data.x_test.shape[0]} test images of {data.n_pixels} pixels "
                  f"(intensity = spike probability per step)")
    console.print(f"DSNN preset 'loihi': x {data.n_pixels} -> h {config.n_hidden} StochasticBinary -> y {data.n_classes} x "
                  f"{config.label_copies} StochasticBinary; binary contacts, label contacts learn by Gibbs sampling "
                  f"(tau_s {config.tau_s:g} steps, resampled every {config.resample_period} steps, beta {config.beta:.3f}, rho {config.rho})")

    console.rule("2. float reference (same model, float arithmetic, batch of 32)")
    reference = train(config, data, epochs, seed=seed, backend="float")
    curve = ", ".join(f"{p['accuracy']:.2f}" for p in reference.curve)
    console.print(f"float test accuracy after {epochs:g} passes: {reference.curve[-1]['accuracy']:.3f} (per pass: {curve}; {reference.seconds:.1f} s)")
    summary["float"] = reference.to_dict()

    console.rule("3. compile the learning program")
    from .models.dsnn import DSNN

    untrained = DSNN(config, data.n_pixels, data.n_classes, seed=seed)
    train_ir = build_network(untrained, phase="train", seed=seed, name="dsnn_train")  # what workflow.train compiles
    compiled_train, report_train = compile_network(train_ir, "loihi2")
    report_train.print(console)
    save_compiled(compiled_train, out_dir / "dsnn_train.loihi2.yrc", overwrite=force)
    console.print(_loihi1_verdict(train_ir), markup=False)

    console.rule(f"4. train on the emulator: the compiled program, online, {epochs:g} passes")
    chip = train(config, data, epochs, seed=seed, backend="emulator", progress=True)
    for p in chip.curve:
        console.print(f"  {p['presentations']:6d} presentations  {p['steps']:6d} steps   test accuracy {p['accuracy']:.3f}")
    console.print(f"trained in {chip.seconds:.1f} s ({1e3 * chip.seconds / max(1, chip.curve[-1]['steps']):.2f} ms per step)")
    summary["chip"] = chip.to_dict()
    chip.net.save(out_dir / "dsnn.npz")
    plot_curves(chip.curve, {}, out_dir / "accuracy.png", title="DSNN on digits: label synapses learning on the emulated chip")

    console.rule("5. classify the test digits as a Loihi 2 program (emulator, fixed point)")
    ev = evaluate(chip.net, data, seed=seed, progress=True, detail=True)
    save_network(ev.network, out_dir / "dsnn.yrg", overwrite=force)
    console.print(f"free network: {ev.report.cores_used} core(s) on loihi2; {_loihi1_verdict(ev.network)}", markup=False)
    gap = ev.accuracy - reference.curve[-1]["accuracy"]
    console.print(f"fixed-point test accuracy {ev.accuracy:.3f}  (float reference {reference.curve[-1]['accuracy']:.3f}: {100 * gap:+.1f} points; "
                  f"the chip's contacts in float {ev.float_accuracy:.3f}; {data.x_test.shape[0]} digits x {config.infer_steps} steps in {ev.seconds:.1f} s)")
    summary["inference"] = {"fixed_point_accuracy": ev.accuracy, "float_accuracy_same_contacts": ev.float_accuracy,
                            "float_reference_accuracy": reference.curve[-1]["accuracy"], "seconds": round(ev.seconds, 3)}
    raster_plot(ev.batch.result(0), out_dir / "inference_raster.png")

    console.rule("6. hidden code: cross-validated PCA spectrum (two repeats per image)")
    spec, laws = spectrum_summary(chip.net.hidden.weights, data, steps=config.infer_steps, seed=seed, n_boot=50,
                                  kind=config.activation, noise_width=config.noise_width)
    for law in laws.values():
        console.print(f"ranks {law.ranks[0]}-{law.ranks[1]}: alpha {law.alpha:.2f}  (95% bootstrap CI {law.ci[0]:.2f}-{law.ci[1]:.2f})")
    console.print("(the 'loihi' preset keeps the input->hidden contacts at their random start, so this is the spectrum of a "
                  "random binary code; docs/models/dsnn.md compares the trained networks)")
    plot_spectra({"chip-trained DSNN (random hidden)": next(iter(laws.values()))}, out_dir / "spectrum.png")
    summary["spectrum"] = {k: v for k, v in spec.items() if k != "power_law"} | {"alpha": [law.to_dict() | {"spectrum": None} for law in laws.values()]}

    console.rule("7. verify: the same inferences on Lava and Brian2 (Loihi-exact), bit for bit; then a learning slice")
    summary["verify_inference"] = _verify_inference(console, ev.compiled, data, config.infer_steps, seed,
                                                    [ev.batch.result(i) for i in range(VERIFY_DIGITS)])
    slice_summary, slice_result, slice_compiled = _learning_slice(console, train_ir, untrained, data, seed, data.x_train.shape[0])
    summary["verify_learning"] = slice_summary

    console.rule("8. energy on Loihi 2 (op counters x hardware profile)")
    reports = inference_energy(ev, "loihi2")
    per_inference = np.array([r.total_j for r in reports])
    dynamic = np.array([r.dynamic_j for r in reports])
    chip_time = np.array([r.time_s for r in reports])
    learn = profile_energy(slice_result, slice_compiled, "loihi2")
    per_presentation = learn.total_j / (LEARNING_SLICE_STEPS / config.sweeps)
    est = " (rests on estimated profile numbers)" if reports[0].estimated_inputs else ""
    console.print(f"inference: {1e6 * per_inference.mean():.2f} uJ per digit (sd {1e6 * per_inference.std():.2f}; dynamic "
                  f"{1e6 * dynamic.mean():.2f} uJ) in {1e3 * chip_time.mean():.2f} ms of chip time ({config.infer_steps} steps){est}",
                  markup=False)
    console.print(f"learning: {1e6 * per_presentation:.2f} uJ per training presentation ({config.sweeps} steps, learning engine on){est}",
                  markup=False)
    energy_plot([reports[0]], str(out_dir / "energy.png"))
    summary["energy_loihi2"] = {"per_inference_j": float(per_inference.mean()), "per_inference_sd_j": float(per_inference.std()),
                                "per_inference_time_s": float(chip_time.mean()),
                                "per_inference_dynamic_j": float(dynamic.mean()), "per_training_presentation_j": per_presentation,
                                "estimated_inputs": list(reports[0].estimated_inputs)}
    summary["seconds"] = round(time.perf_counter() - t_start, 1)
    summary["files"] = [str(out_dir / n) for n in DEMO_FILES]
    (out_dir / "demo.json").write_text(json.dumps(summary, indent=1, default=float))
    console.rule("done")
    console.print(f"{summary['seconds']:.0f} s; files: {', '.join(summary['files'])}")
    return summary
