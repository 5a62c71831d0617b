"""The DSNN as a compiled Loihi program: train it on the emulator, run inference on any fixed-point backend.

Training (:func:`train_fixed_point`) compiles the ``phase='train'`` network of
:func:`.network.build_network` (Gibbs-synapse programs, labels clamped) for a
hardware profile and runs it in an emulator :class:`~yuragi.backends.emulator.Session`,
online, one presentation after the other, as the chip would: every
presentation shows an image for ``sweeps`` steps (``x`` spikes drawn with the
pixel intensities as probabilities). The label raster is delayed by the
pipeline depth ``delay(x->h) + delay(h->y)`` so that the clamped label at
step ``t`` belongs to the image whose ``x(t - depth)`` drove the hidden spikes
``h(t - 1)`` that the label synapses pair with it (``pre_timing='arrival'``).
Nothing else leaves the integer program: the contacts, evidence tags,
resampling draws and neuron draws are those of the compiled network.

Inference (:func:`inference_program`, :func:`fixed_point_counts`) compiles
the ``phase='infer'`` network with the learned contacts as static weights
and runs every test image as an independent sample (``run_batch``: seed
``network seed + sample``), ``infer_steps`` steps each, on the emulator, or
on Lava / Brian2 Loihi-exact for a slice (:func:`backend_counts`).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from ...compiler.compiled import SIGN_INHIBITORY
from ...errors import ModelError
from ...ir import Network
from .float_model import DSNN, argmax_random_ties, class_scores
from .network import SYNAPSE_GROUPS, build_network

__all__ = [
    "FixedPointTraining",
    "backend_counts",
    "fixed_point_accuracy",
    "fixed_point_counts",
    "inference_inputs",
    "inference_program",
    "pipeline_depth",
    "presentation_rasters",
    "start_free_run",
    "start_training",
    "train_fixed_point",
]

@dataclass
class FixedPointTraining:
    """A DSNN being trained as a compiled program on the emulator.

    Attributes
    ----------
    net : DSNN
        A copy of the float network whose contacts follow the program's
        (updated by :meth:`sync`); use it for float-side analyses.
    compiled : CompiledNetwork
        The compiled training network.
    report : CompileReport
        Its compile report.
    session : Session
        The emulator session (its state persists between calls).
    presentations, steps : int
        Presentations and steps run so far.
    seconds : float
        Wall time spent in the emulator.
    """

    net: DSNN
    compiled: object
    report: object
    session: object
    presentations: int = 0
    steps: int = 0
    seconds: float = 0.0

    @property
    def depth(self) -> int:
        """Steps from an input spike to the label spikes it causes."""
        return pipeline_depth(self.compiled)

    def contacts(self, group: str) -> np.ndarray:
        """Current contacts of synapse group ``group`` (``'W'``, ``'W_bias'``, ``'U'``, ``'U_bias'``): bool ``(K, n_post, n_pre)``."""
        prefix = group + ".c"
        projs = sorted((p for p in self.compiled.projections if p.name.startswith(prefix)), key=lambda p: int(p.name[len(prefix):]))
        if not projs:
            raise ModelError(f"DSNN program has no synapse group '{group}'")
        first = projs[0]
        out = np.zeros((len(projs), first.n_post, first.n_pre), dtype=bool)
        for k, proj in enumerate(projs):
            complement = int(proj.sign_mode == SIGN_INHIBITORY)  # the weight stores c - 1
            out[k, proj.post_idx, proj.pre_idx] = (self.session.weights(proj.name) + complement) == 1
        return out

    def sync(self) -> DSNN:
        """Copy the program's contacts into :attr:`net` and return it."""
        for group, _, _, layer, cols in SYNAPSE_GROUPS:
            if any(p.name.startswith(group + ".c") for p in self.compiled.projections):  # groups that learn
                getattr(self.net, layer).c[:, :, cols] = self.contacts(group)
        self.net.presentations = self.presentations
        return self.net


def pipeline_depth(compiled) -> int:  # noqa: ANN001 - CompiledNetwork
    """``delay(x -> h) + delay(h -> y)`` of a compiled DSNN (steps; all contacts share a delay)."""
    def delay(group: str) -> int:
        ds = {int(d) for p in compiled.projections if p.name == group or p.name.startswith(group + ".") for d in np.unique(p.delays)}
        if len(ds) != 1:
            raise ModelError(f"DSNN program: synapse group '{group}' must have one delay, has {sorted(ds)}")
        return ds.pop()
    return delay("W") + delay("U")


def start_training(net: DSNN, profile: str = "loihi2", seed: int = 0) -> FixedPointTraining:
    """Compile the training network of (a copy of) ``net`` for ``profile`` and open an emulator session."""
    from ...backends.emulator import Session
    from ...compiler import compile_network

    net = copy.deepcopy(net)
    compiled, report = compile_network(build_network(net, phase="train", seed=seed, name="dsnn_train"), profile)
    return FixedPointTraining(net, compiled, report, Session(compiled))


def presentation_rasters(net: DSNN, x: np.ndarray, labels: np.ndarray, presentations: int, seed: int, depth: int,
                         chunk: int = 256, start: int = 0) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """The input rasters of a training run, chunk by chunk: ``(presentations in the chunk, x raster, label raster)``.

    Images are drawn in shuffled passes over ``x`` (numpy ``default_rng([seed, 4, start])``), shown for
    ``sweeps`` steps each with fresh Bernoulli spikes; the label raster is the
    images' labels (``label_copies`` units per class) delayed by ``depth`` steps
    (module docstring). ``start`` counts the presentations made before (a continued run).
    """
    sweeps = net.config.sweeps
    rng = np.random.default_rng([int(seed), 4, int(start)])
    order = np.empty(0, dtype=np.int64)
    pending = np.zeros((depth, net.n_labels), dtype=bool)  # label rows still due from the previous chunk
    done = 0
    while done < presentations:
        take = min(chunk, presentations - done)
        while order.size < take:
            order = np.concatenate([order, rng.permutation(x.shape[0])])
        idx, order = order[:take], order[take:]
        steps = take * sweeps
        xs = rng.random((steps, net.n_pixels)) < np.repeat(x[idx], sweeps, axis=0)
        labs = np.concatenate([pending, np.repeat(net.label_targets(labels[idx]) > 0, sweeps, axis=0)])
        pending = labs[steps:]
        done += take
        yield take, xs, labs[:steps]


def start_free_run(training: FixedPointTraining, profile: str = "loihi2", seed: int = 0) -> FixedPointTraining:
    """The free network (labels not clamped) that continues ``training``: same contacts, tags and traces.

    Compiles ``build_network(phase='infer', plastic=True)`` of the trained
    contacts and loads every plastic projection's learning state from the
    training session, so the label synapses go on collecting evidence from
    the network's own samples and resampling, with nothing reset. Run it with
    :func:`train_fixed_point` (labels are then ignored).
    """
    from ...backends.emulator import Session
    from ...compiler import compile_network

    net = copy.deepcopy(training.sync())
    compiled, report = compile_network(build_network(net, phase="infer", seed=seed, name="dsnn_free"), profile)
    session = Session(compiled)
    for proj in compiled.projections:
        if proj.plasticity is not None:
            session.set_learning_state(proj.name, training.session.learning_state(proj.name))
    return FixedPointTraining(net, compiled, report, session, presentations=training.presentations, steps=training.steps)


def train_fixed_point(
    training: FixedPointTraining,
    x: np.ndarray,
    labels: np.ndarray,
    presentations: int,
    seed: int = 0,
    callback: Callable[[FixedPointTraining], None] | None = None,
    every: int | None = None,
    progress: bool = False,
) -> FixedPointTraining:
    """Present ``presentations`` labelled images (shuffled passes over ``x``) to the compiled network.

    Parameters
    ----------
    training : FixedPointTraining
        From :func:`start_training` (continues where it stopped).
    x : numpy.ndarray
        ``(n, n_pixels)`` spike probabilities in [0, 1].
    labels : numpy.ndarray
        ``(n,)`` integer labels (ignored by a free network, :func:`start_free_run`).
    presentations : int
        Images to present, ``sweeps`` steps each.
    seed : int
        Seed of the presentation order and of the input spike draws (:func:`presentation_rasters`).
    callback : callable, optional
        ``callback(training)`` every ``every`` presentations and at the end
        (after :meth:`FixedPointTraining.sync`).
    every : int, optional
        Presentations between callbacks (default 256).
    progress : bool
        Show a progress bar over presentations.
    """
    from ...backends.emulator.progress import progress_bar

    net = training.net
    x, labels = net._check_data(x, labels)
    chunks = presentation_rasters(net, x, labels, presentations, seed, training.depth, chunk=every or 256, start=training.presentations)
    clamped = any(p.name == "label" for p in training.compiled.populations)
    with progress_bar(progress, presentations, "train DSNN (emulator)" if clamped else "free-run DSNN (emulator)") as advance:
        for take, xs, label_raster in chunks:
            t0 = time.perf_counter()
            training.session.run(xs.shape[0], {"x": xs, "label": label_raster} if clamped else {"x": xs})
            training.seconds += time.perf_counter() - t0
            training.steps += xs.shape[0]
            training.presentations += take
            advance(take)
            if callback is not None:
                training.sync()
                callback(training)
    training.sync()
    return training


# ----------------------------------------------------------------------------- inference
def inference_program(net: DSNN, profile: str = "loihi2", seed: int = 0, name: str = "dsnn"):  # noqa: ANN201
    """Compile the free network of ``net`` (current contacts as static weights): ``(network, compiled, report)``."""
    from ...compiler import compile_network

    ir: Network = build_network(net, phase="infer", plastic=False, seed=seed, name=name)
    compiled, report = compile_network(ir, profile)
    return ir, compiled, report


def inference_inputs(x: np.ndarray, steps: int, seed: int) -> np.ndarray:
    """``(n, steps, n_pixels)`` input spike rasters of images ``x`` (Bernoulli, numpy ``default_rng([seed, 5])``)."""
    rng = np.random.default_rng([int(seed), 5])
    x = np.asarray(x, dtype=np.float64)
    return rng.random((x.shape[0], steps, x.shape[1])) < x[:, None, :]


def fixed_point_counts(compiled, x: np.ndarray, steps: int, seed: int = 0, progress: bool = False,  # noqa: ANN001
                       detail: bool = False) -> tuple[np.ndarray, object]:
    """Label spike counts ``(n, n_labels)`` of the compiled free network on the emulator, one sample per image.

    Returns the counts and the emulator's ``BatchResult`` (op counters per
    sample; with ``detail=True`` also a full RunResult per image).
    """
    from ...backends.emulator import run_batch

    batch = run_batch(compiled, steps, {"x": inference_inputs(x, steps, seed)}, progress=progress, detail=detail)
    return batch.counts["y"], batch


def backend_counts(compiled, x: np.ndarray, steps: int, backend: str, seed: int = 0) -> list:  # noqa: ANN001
    """Run images ``x`` one by one on ``backend`` exactly as :func:`fixed_point_counts` does (sample ``s``: seed + s).

    Returns one :class:`~yuragi.backends.RunResult` per image.
    """
    import dataclasses

    from ...backends import get_backend

    runner = get_backend(backend)
    rasters = inference_inputs(x, steps, seed)
    return [runner.run(dataclasses.replace(compiled, seed=(int(compiled.seed) + s) % 2**32), steps, {"x": rasters[s]})
            for s in range(rasters.shape[0])]


def fixed_point_accuracy(net: DSNN, counts: np.ndarray, labels: np.ndarray, seed: int = 0) -> float:
    """Accuracy of label spike counts (argmax of counts summed over copies, ties broken at random)."""
    pred = argmax_random_ties(class_scores(counts, net.n_classes), np.random.default_rng([int(seed), 6]))
    return float(np.mean(pred == np.asarray(labels)))
