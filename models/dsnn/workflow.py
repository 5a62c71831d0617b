"""Train a DSNN and evaluate it as a Loihi program: what ``yuragi train dsnn`` and ``make demo`` run.

:func:`train` trains on the emulator (the compiled Gibbs-synapse program,
:mod:`.hardware`) or in float (:class:`~.float_model.DSNN`), recording the
test accuracy of the current contacts after every pass (evaluated by the
float simulator of the same contacts: cheap, and the same contacts the
program holds). :func:`evaluate` then compiles the free network with the
learned contacts and measures the fixed-point accuracy on the emulator over
the whole test set, with the op counters of every inference.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import ModelError
from .data import Dataset
from .float_model import DSNN, DSNNConfig
from .hardware import (fixed_point_accuracy, fixed_point_counts, inference_program, start_training,
                       train_fixed_point)

__all__ = ["Evaluation", "TrainingRun", "evaluate", "inference_energy", "train"]

TRAIN_BACKENDS = ("emulator", "float")


@dataclass
class TrainingRun:
    """A trained DSNN and how it got there.

    Attributes
    ----------
    net : DSNN
        The trained network (for ``backend='emulator'``: the program's contacts).
    backend : str
        ``'emulator'`` or ``'float'``.
    curve : list of dict
        ``{"presentations", "steps", "accuracy"}`` after every pass (accuracy of
        the current contacts, float simulator, ``infer_steps`` steps per image).
    seconds : float
        Wall time of training (without the evaluations).
    report : CompileReport or None
        Compile report of the training program (emulator only).
    """

    net: DSNN
    backend: str
    curve: list = field(default_factory=list)
    seconds: float = 0.0
    report: Any = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {"backend": self.backend, "presentations": int(self.net.presentations), "train_seconds": round(self.seconds, 3),
                "curve": self.curve}


@dataclass
class Evaluation:
    """Fixed-point inference of a trained DSNN over a test set (emulator, one sample per image).

    Attributes
    ----------
    accuracy : float
        Fixed-point test accuracy.
    float_accuracy : float
        Accuracy of the same contacts in the float simulator (same steps).
    counts : numpy.ndarray
        ``(n, n_labels)`` label spike counts of the fixed-point runs.
    network, compiled, report
        The free IR network, its compiled program and compile report.
    batch : BatchResult
        The emulator batch (op counters per sample).
    seconds : float
        Wall time of the fixed-point runs.
    """

    accuracy: float
    float_accuracy: float
    counts: np.ndarray
    network: Any
    compiled: Any
    report: Any
    batch: Any
    seconds: float


def train(
    config: DSNNConfig,
    data: Dataset,
    epochs: float,
    seed: int = 0,
    backend: str = "emulator",
    profile: str = "loihi2",
    progress: bool = False,
) -> TrainingRun:
    """Train a fresh DSNN (``seed``) for ``epochs`` passes over ``data``'s training set.

    Parameters
    ----------
    config : DSNNConfig
    data : Dataset
    epochs : float
        Passes over the training images (``sweeps`` steps per presentation).
    seed : int
        Seed of the initial contacts, the presentation order and every draw.
    backend : str
        ``'emulator'`` (the compiled program, online) or ``'float'`` (batch of ``config.batch``).
    profile : str
        Hardware profile the training program is compiled for (emulator).
    progress : bool
        Progress bar over presentations.
    """
    if backend not in TRAIN_BACKENDS:
        raise ModelError(f"DSNN training backend must be one of {', '.join(TRAIN_BACKENDS)}, got {backend!r}")
    if not epochs > 0:
        raise ModelError(f"DSNN training: epochs must be > 0, got {epochs!r}")
    net = DSNN(config, data.n_pixels, data.n_classes, seed=seed)
    presentations = max(1, int(round(epochs * data.x_train.shape[0])))
    every = data.x_train.shape[0]
    run = TrainingRun(net, backend)

    def record(n: DSNN) -> None:
        run.curve.append({"presentations": int(n.presentations), "steps": int(n.presentations * config.sweeps),
                          "accuracy": n.accuracy(data.x_test, data.y_test, seed=seed)})

    if backend == "emulator":
        training = start_training(net, profile, seed=seed)
        run.report = training.report
        train_fixed_point(training, data.x_train, data.y_train, presentations, seed=seed,
                          callback=lambda t: record(t.net), every=every, progress=progress)
        run.net, run.seconds = training.net, training.seconds
    else:
        t0 = time.perf_counter()
        spent = [0.0]

        def timed_record(n: DSNN) -> None:
            t1 = time.perf_counter()
            record(n)
            spent[0] += time.perf_counter() - t1

        net.train(data.x_train, data.y_train, presentations, callback=timed_record, every=every)
        run.seconds = time.perf_counter() - t0 - spent[0]
    return run


def evaluate(net: DSNN, data: Dataset, seed: int = 0, profile: str = "loihi2", steps: int | None = None,
             progress: bool = False, detail: bool = False) -> Evaluation:
    """Compile the free network of ``net`` for ``profile`` and classify ``data``'s test set on the emulator.

    ``detail=True`` keeps a full RunResult per image (for energy pricing).
    """
    steps = net.config.infer_steps if steps is None else int(steps)
    network, compiled, report = inference_program(net, profile, seed=seed)
    t0 = time.perf_counter()
    counts, batch = fixed_point_counts(compiled, data.x_test, steps, seed=seed, progress=progress, detail=detail)
    seconds = time.perf_counter() - t0
    return Evaluation(fixed_point_accuracy(net, counts, data.y_test, seed=seed), net.accuracy(data.x_test, data.y_test, steps=steps, seed=seed),
                      counts, network, compiled, report, batch, seconds)


def inference_energy(ev: Evaluation, profile: str = "loihi2") -> list:
    """One :class:`~yuragi.energy.EnergyReport` per classified image of ``ev`` (needs ``evaluate(..., detail=True)``)."""
    from ...energy import profile_energy

    if not ev.batch.results:
        raise ModelError("inference_energy needs the per-image runs: evaluate(..., detail=True)")
    return [profile_energy(ev.batch.result(i), ev.compiled, profile) for i in range(ev.counts.shape[0])]
