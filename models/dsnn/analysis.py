"""Analyses of a trained DSNN and of its controls (docs/models/dsnn.md).

* :func:`accuracy_curve`: test accuracy against training presentations.
* :func:`turnover_curve`: test accuracy after training while the contacts
  keep resampling (memory stability under synaptic turnover).
* :func:`cvpca_spectrum`, :func:`fit_power_law`, :func:`power_law_alpha`:
  Stringer et al. (2019)-style cross-validated PCA of hidden responses
  (two repeats per image), the power-law exponent ``alpha`` of
  ``lambda_n ~ n^-alpha`` over a fixed rank range, and its bootstrap
  confidence interval over images.
* Controls: :func:`train_sgd_control` (the same architecture with float
  weights trained by minibatch SGD/backprop in numpy) and the frozen random
  network (a :class:`DSNN` that never learns).
* :func:`plot_curves`, :func:`plot_spectra`: matplotlib PNGs.

The rank range of the fit is an argument fixed before any result was seen
(default 5..50: past the first few components, below the 64 input pixels of
the digits); nothing here is tuned to produce a particular ``alpha``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ...errors import ModelError
from .data import Dataset
from .float_model import DSNN, activation, argmax_random_ties, class_scores, stochastic_counts, stochastic_hidden_rates

__all__ = [
    "DEFAULT_RANKS",
    "PowerLaw",
    "SGDControl",
    "accuracy_curve",
    "bootstrap_spectra",
    "cvpca_spectrum",
    "fit_power_law",
    "hidden_repeats",
    "linear_probe_accuracy",
    "plot_curves",
    "plot_spectra",
    "power_law_alpha",
    "train_sgd_control",
    "turnover_curve",
]

#: Rank range (inclusive, 1-based) of the power-law fit.
DEFAULT_RANKS = (5, 50)


# ----------------------------------------------------------------------------- accuracy
def accuracy_curve(net: DSNN, data: Dataset, presentations: int, every: int, eval_seed: int = 0,
                   progress: Callable[[dict], None] | None = None) -> list[dict]:
    """Train ``net`` for ``presentations`` images, recording test accuracy every ``every``.

    Returns
    -------
    list of dict
        ``{"presentations", "steps", "accuracy"}`` per checkpoint, starting
        with the untrained network (0 presentations). ``steps`` counts
        evidence samples (presentation steps).
    """
    curve = [{"presentations": net.presentations, "steps": net.steps, "accuracy": net.accuracy(data.x_test, data.y_test, seed=eval_seed)}]

    def record(n: DSNN) -> None:
        curve.append({"presentations": n.presentations, "steps": n.steps, "accuracy": n.accuracy(data.x_test, data.y_test, seed=eval_seed)})
        if progress is not None:
            progress(curve[-1])

    net.train(data.x_train, data.y_train, presentations, callback=record, every=every)
    return curve


def turnover_curve(net: DSNN, data: Dataset, presentations: int, every: int, mode: str = "free", eval_seed: int = 0,
                   progress: Callable[[dict], None] | None = None) -> list[dict]:
    """Keep ``net`` running without labels for ``presentations`` images, recording test accuracy.

    ``mode='free'``: the training images are shown unlabelled and the traces
    keep collecting evidence from the network's own activity; ``'hold'``:
    traces held, contacts still resampling. Each point also records the
    fraction of contacts that differ from the end of training.
    """
    start = (net.hidden.c.copy(), net.label.c.copy())
    s0, p0 = net.steps, net.presentations

    def point(n: DSNN) -> dict:
        changed = (np.sum(n.hidden.c != start[0]) + np.sum(n.label.c != start[1])) / (start[0].size + start[1].size)
        return {"presentations": n.presentations - p0, "steps": n.steps - s0,
                "accuracy": n.accuracy(data.x_test, data.y_test, seed=eval_seed), "contacts_changed": float(changed)}

    curve = [point(net)]

    def record(n: DSNN) -> None:
        curve.append(point(n))
        if progress is not None:
            progress(curve[-1])

    net.free_run(data.x_train, presentations, mode=mode, callback=record, every=every)
    return curve


# ----------------------------------------------------------------------------- spectra
def hidden_repeats(w_hidden: np.ndarray, x: np.ndarray, steps: int, seed: int, kind: str = "logistic", noise_width: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """Two independent repeats of time-averaged hidden responses ``(n_images, n_hidden)`` to ``x``.

    Each repeat draws its own input spikes and hidden spikes (seeds ``[seed, 0]`` and ``[seed, 1]``).
    """
    reps = [stochastic_hidden_rates(w_hidden, x, steps, np.random.default_rng([seed, r]), kind, noise_width) for r in (0, 1)]
    return reps[0], reps[1]


def cvpca_spectrum(r1: np.ndarray, r2: np.ndarray) -> np.ndarray:
    """Cross-validated PCA spectrum (Stringer et al. 2019, Methods).

    Principal axes come from repeat 1 (centred over images); the variance
    along axis ``n`` is the covariance, over images, of the projections of
    repeat 1 and of repeat 2 -- an unbiased estimate of the stimulus-related
    variance (noise independent between repeats averages out). Can be
    negative at high ranks where the signal is below the noise.

    Parameters
    ----------
    r1, r2 : numpy.ndarray
        ``(n_images, n_units)`` responses to the same images.

    Returns
    -------
    numpy.ndarray
        ``(min(n_images, n_units),)`` variances in rank order (not normalised).
    """
    r1 = np.asarray(r1, dtype=np.float64)
    r2 = np.asarray(r2, dtype=np.float64)
    if r1.shape != r2.shape or r1.ndim != 2 or r1.shape[0] < 3:
        raise ModelError(f"cvpca_spectrum: repeats must be 2-D arrays of equal shape with >= 3 images, got {r1.shape} and {r2.shape}")
    a = r1 - r1.mean(axis=0)
    b = r2 - r2.mean(axis=0)
    _, _, vt = np.linalg.svd(a, full_matrices=False)
    return np.sum((a @ vt.T) * (b @ vt.T), axis=0) / (r1.shape[0] - 1)


def fit_power_law(spectrum: np.ndarray, ranks: tuple[int, int] = DEFAULT_RANKS) -> tuple[float, float, int]:
    """Least-squares fit of ``log lambda_n = c - alpha log n`` over ranks ``ranks[0]..ranks[1]`` (1-based, inclusive).

    Ranks with ``lambda_n <= 0`` are left out. Returns ``(alpha, c, n_used)``;
    ``alpha`` is NaN when fewer than 3 ranks are usable.
    """
    lo, hi = int(ranks[0]), int(ranks[1])
    if not 1 <= lo < hi:
        raise ModelError(f"fit_power_law: ranks must be 1 <= lo < hi, got {ranks!r}")
    n = np.arange(1, spectrum.shape[0] + 1)
    sel = (n >= lo) & (n <= hi) & (spectrum > 0)
    if sel.sum() < 3:
        return float("nan"), float("nan"), int(sel.sum())
    slope, intercept = np.polyfit(np.log(n[sel]), np.log(spectrum[sel]), 1)
    return float(-slope), float(intercept), int(sel.sum())


@dataclass(frozen=True)
class PowerLaw:
    """Power-law exponent of a cross-validated spectrum with a bootstrap interval.

    Attributes
    ----------
    alpha : float
        Exponent fitted to the spectrum of all images.
    ci : tuple of float
        Bootstrap percentile interval ``(lo, hi)`` at level ``level``.
    level : float
        Confidence level of ``ci``.
    ranks : tuple of int
        Fitted rank range.
    spectrum : numpy.ndarray
        The cross-validated spectrum of all images, normalised to sum 1 over its positive part.
    boot : numpy.ndarray
        Bootstrap exponents.
    ranks_used : int
        Ranks of the range with positive variance (used by the fit).

    Notes
    -----
    The interval reflects the sampling of images only (not of networks or
    of the rank range). Resampling images with replacement can shift the
    bootstrap distribution away from ``alpha`` (``boot_bias``); when that
    shift exceeds the spread, the percentile interval need not contain
    ``alpha`` -- it is reported as measured.
    """

    alpha: float
    ci: tuple[float, float]
    level: float
    ranks: tuple[int, int]
    spectrum: np.ndarray
    boot: np.ndarray
    ranks_used: int

    def to_dict(self) -> dict:
        """JSON-ready summary (spectrum truncated to the first 300 ranks)."""
        return {"alpha": self.alpha, "ci": list(self.ci), "level": self.level, "ranks": list(self.ranks),
                "ranks_used": self.ranks_used, "n_boot": int(self.boot.size), "boot_bias": self.boot_bias,
                "spectrum": self.spectrum[:300].tolist()}

    @property
    def boot_bias(self) -> float:
        """Mean bootstrap exponent minus ``alpha``."""
        ok = self.boot[np.isfinite(self.boot)]
        return float(ok.mean() - self.alpha) if ok.size else float("nan")


def bootstrap_spectra(r1: np.ndarray, r2: np.ndarray, n_boot: int = 200, seed: int = 0) -> np.ndarray:
    """Cross-validated spectra of ``n_boot`` bootstrap samples of the images (same images in both repeats)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(int(n_boot)):
        idx = rng.integers(0, r1.shape[0], r1.shape[0])
        out.append(cvpca_spectrum(r1[idx], r2[idx]))
    return np.asarray(out).reshape(int(n_boot), -1)


def power_law_alpha(r1: np.ndarray, r2: np.ndarray, ranks: tuple[int, int] = DEFAULT_RANKS, n_boot: int = 200,
                    level: float = 0.95, seed: int = 0, boot_spectra: np.ndarray | None = None) -> PowerLaw:
    """``alpha`` of the cross-validated spectrum of ``(r1, r2)`` with a bootstrap CI over images.

    Each bootstrap sample draws images with replacement (the same images in
    both repeats), recomputes the cross-validated spectrum and refits
    (``boot_spectra`` from :func:`bootstrap_spectra` can be passed to reuse
    them for several rank ranges; ``n_boot`` and ``seed`` are then ignored).
    """
    spec = cvpca_spectrum(r1, r2)
    alpha, _, used = fit_power_law(spec, ranks)
    if boot_spectra is None:
        boot_spectra = bootstrap_spectra(r1, r2, n_boot, seed)
    boot = np.asarray([fit_power_law(b, ranks)[0] for b in boot_spectra])
    ok = boot[np.isfinite(boot)]
    tail = (1.0 - level) / 2.0
    ci = (float(np.quantile(ok, tail)), float(np.quantile(ok, 1.0 - tail))) if ok.size else (float("nan"), float("nan"))
    positive = spec[spec > 0].sum()
    return PowerLaw(alpha, ci, level, (int(ranks[0]), int(ranks[1])), spec / positive if positive > 0 else spec, boot, used)


def linear_probe_accuracy(rates_train: np.ndarray, y_train: np.ndarray, rates_test: np.ndarray, y_test: np.ndarray) -> float:
    """Test accuracy of a logistic-regression read-out (scikit-learn, default L2) of hidden rates.

    A diagnostic of how linearly decodable the class is from the hidden
    layer, independent of the network's own label synapses.
    """
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(max_iter=2000).fit(rates_train, y_train)
    return float(clf.score(rates_test, y_test))


# ----------------------------------------------------------------------------- SGD control
@dataclass
class SGDControl:
    """The DSNN architecture with float weights trained by backprop (minibatch SGD with momentum).

    Attributes
    ----------
    w_hidden : numpy.ndarray
        ``(n_hidden, n_pixels + 1)``.
    w_label : numpy.ndarray
        ``(n_labels, n_hidden + 1)``.
    n_classes : int
    history : list of dict
        ``{"epoch", "loss", "accuracy"}`` (accuracy: deterministic mean-field network on the test set).
    """

    w_hidden: np.ndarray
    w_label: np.ndarray
    n_classes: int
    history: list

    def accuracy(self, x: np.ndarray, labels: np.ndarray, steps: int = 100, seed: int = 0, kind: str = "logistic", noise_width: float = 4.0) -> float:
        """Accuracy of the *stochastic* network (binary units, spike counts over ``steps``), as for the DSNN."""
        rng = np.random.default_rng([seed, 5])
        counts = stochastic_counts(self.w_hidden, self.w_label, x, steps, rng, kind, noise_width)
        return float(np.mean(argmax_random_ties(class_scores(counts, self.n_classes), rng) == labels))


def train_sgd_control(data: Dataset, n_hidden: int, label_copies: int = 1, epochs: int = 60, lr: float = 0.1,
                      momentum: float = 0.9, batch: int = 32, seed: int = 0) -> SGDControl:
    """Backprop control: ``x -> sigmoid hidden -> sigmoid labels`` with cross-entropy per label unit.

    Same sizes, same one-vs-rest label targets (``label_copies`` copies) and
    Bernoulli-sampled inputs as the DSNN; weights are unconstrained floats
    initialised ``N(0, 1/fan_in)``. Trained in numpy, minibatch SGD with momentum.
    """
    rng = np.random.default_rng([seed, 4])
    n_in, n_labels = data.n_pixels, data.n_classes * label_copies
    w1 = rng.normal(0, 1 / np.sqrt(n_in + 1), (n_hidden, n_in + 1))
    w2 = rng.normal(0, 1 / np.sqrt(n_hidden + 1), (n_labels, n_hidden + 1))
    v1, v2 = np.zeros_like(w1), np.zeros_like(w2)
    targets = np.repeat(np.eye(data.n_classes), label_copies, axis=1)[data.y_train]
    ones = lambda a: np.concatenate([a, np.ones((a.shape[0], 1))], axis=1)  # noqa: E731
    history = []
    for epoch in range(int(epochs)):
        order = rng.permutation(data.x_train.shape[0])
        loss = 0.0
        for s in range(0, order.size, batch):
            idx = order[s:s + batch]
            xb = ones((rng.random((idx.size, n_in)) < data.x_train[idx]).astype(np.float64))
            h = activation(xb @ w1.T)
            hb = ones(h)
            p = activation(hb @ w2.T)
            t = targets[idx]
            loss += float(-np.sum(t * np.log(p + 1e-12) + (1 - t) * np.log(1 - p + 1e-12)))
            d2 = (p - t) / idx.size
            d1 = (d2 @ w2[:, :n_hidden]) * h * (1 - h)
            v2 = momentum * v2 - lr * d2.T @ hb
            v1 = momentum * v1 - lr * d1.T @ xb
            w2 += v2
            w1 += v1
        mean_field = activation(ones(activation(ones(data.x_test) @ w1.T)) @ w2.T)
        acc = float(np.mean(class_scores(mean_field, data.n_classes).argmax(axis=1) == data.y_test))
        history.append({"epoch": epoch + 1, "loss": loss / order.size, "accuracy": acc})
    return SGDControl(w1, w2, data.n_classes, history)


# ----------------------------------------------------------------------------- plots
def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(train_curve: list[dict], after_curves: dict[str, list[dict]], path: str | Path, title: str = "DSNN on digits") -> Path:
    """Test accuracy during training and after it (x axis: network steps), one PNG."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    steps = [p["steps"] for p in train_curve]
    ax.plot(steps, [p["accuracy"] for p in train_curve], "o-", label="training (labels clamped)")
    end = steps[-1]
    for name, curve in after_curves.items():
        ax.plot([end + p["steps"] for p in curve], [p["accuracy"] for p in curve], ".-", label=f"after training: {name}")
    ax.axvline(end, color="grey", lw=0.8, ls=":")
    final = train_curve[-1]["accuracy"]
    ax.axhspan(final - 0.02, final + 0.02, color="grey", alpha=0.15, label="end of training +-2 points")
    ax.set_xlabel("network steps (evidence samples)")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_spectra(laws: dict[str, PowerLaw], path: str | Path, max_rank: int = 300) -> Path:
    """Cross-validated spectra (log-log, first ``max_rank`` ranks) with their fitted power laws, one PNG."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, law in laws.items():
        spec = law.spectrum[:max_rank]
        n = np.arange(1, spec.size + 1)
        pos = spec > 0
        line = ax.loglog(n[pos], spec[pos], ".", ms=3, label=f"{name}: alpha={law.alpha:.2f} [{law.ci[0]:.2f}, {law.ci[1]:.2f}]")[0]
        lo, hi = law.ranks
        fit_n = np.arange(lo, hi + 1)
        sel = (n >= lo) & (n <= hi) & pos
        if sel.sum() >= 3:
            c = np.polyfit(np.log(n[sel]), np.log(spec[sel]), 1)
            ax.loglog(fit_n, np.exp(np.polyval(c, np.log(fit_n))), "-", color=line.get_color(), lw=1.5)
    n_ref = np.arange(1, 301)
    ax.loglog(n_ref, 0.1 / n_ref, "k--", lw=0.8, label="n^-1")
    ax.set_xlabel("PC rank n")
    ax.set_ylabel("cross-validated variance (normalised)")
    ax.set_title("hidden-layer eigenspectrum (cvPCA)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


# ----------------------------------------------------------------------------- one full study
def _copy_net(net: DSNN) -> DSNN:
    """An independent copy of ``net`` (same state, own arrays, own RNG)."""
    other = DSNN(net.config, net.n_pixels, net.n_classes, net.seed)
    other.hidden.c, other.hidden.L = net.hidden.c.copy(), net.hidden.L.copy()
    other.label.c, other.label.L = net.label.c.copy(), net.label.L.copy()
    other.feedback = None if net.feedback is None else net.feedback.copy()
    other.steps, other.presentations = net.steps, net.presentations
    other.rng.bit_generator.state = net.rng.bit_generator.state
    return other


def spectrum_summary(w_hidden: np.ndarray, data: Dataset, steps: int, seed: int, n_boot: int,
                     ranks: tuple[tuple[int, int], ...] = (DEFAULT_RANKS, (10, 100)), kind: str = "logistic",
                     noise_width: float = 4.0) -> tuple[dict, dict[tuple[int, int], PowerLaw]]:
    """cvPCA exponents of the hidden layer of weights ``w_hidden`` over all images of ``data`` (two repeats).

    Also a linear-probe accuracy (logistic regression trained on the
    training images' repeat-1 rates, scored on the test images').
    """
    r1, r2 = hidden_repeats(w_hidden, data.x_all, steps, seed, kind, noise_width)
    boots = bootstrap_spectra(r1, r2, n_boot, seed)
    laws = {tuple(r): power_law_alpha(r1, r2, tuple(r), boot_spectra=boots) for r in ranks}
    n_tr = data.x_train.shape[0]
    summary = {
        "images": int(r1.shape[0]),
        "mean_rate": float(r1.mean()),
        "linear_probe_accuracy": linear_probe_accuracy(r1[:n_tr], data.y_train, r1[n_tr:], data.y_test),
        "power_law": [law.to_dict() for law in laws.values()],
    }
    return summary, laws


def study(config, data: Dataset, epochs: int, seed: int = 0, n_boot: int = 100, free_modes: tuple[str, ...] = ("free",),
          spectrum: bool = True, progress: Callable[[str], None] | None = None) -> tuple[dict, dict]:  # noqa: ANN001
    """Train a DSNN, then measure accuracy, stability under turnover and its hidden spectrum.

    Parameters
    ----------
    config : DSNNConfig
    data : Dataset
    epochs : int
        Training passes over ``data.x_train``; after training the network
        runs freely for as many presentations (= as many steps) per mode.
    seed : int
        Seed of the network, the evaluations and the bootstrap.
    n_boot : int
        Bootstrap samples of the power-law fit.
    free_modes : tuple of str
        ``'free'`` and/or ``'hold'`` (:meth:`DSNN.free_run`).
    spectrum : bool
        Whether to run the cvPCA analysis.

    Returns
    -------
    (dict, dict)
        A JSON-ready summary, and the objects for plotting:
        ``{"net", "train_curve", "after": {mode: curve}, "laws"}``.
    """
    import time

    say = progress or (lambda msg: None)
    n_tr = data.x_train.shape[0]
    net = DSNN(config, data.n_pixels, data.n_classes, seed=seed)
    t0 = time.perf_counter()
    curve = accuracy_curve(net, data, epochs * n_tr, every=n_tr, eval_seed=seed,
                           progress=lambda p: say(f"  trained {p['presentations']:6d} images: test accuracy {p['accuracy']:.3f}"))
    wall = time.perf_counter() - t0
    t1 = time.perf_counter()
    net_timing = DSNN(config, data.n_pixels, data.n_classes, seed=seed)
    net_timing.train(data.x_train, data.y_train, epochs * n_tr)
    train_only = time.perf_counter() - t1
    final = curve[-1]["accuracy"]
    out: dict = {
        "config": {k: (v if not isinstance(v, float) or np.isfinite(v) else str(v)) for k, v in vars(config).items()},
        "seed": seed, "epochs": epochs, "train_presentations": net.presentations, "train_steps": net.steps,
        "train_seconds": train_only, "train_seconds_with_evaluations": wall,
        "test_accuracy": final, "test_accuracy_model_averaged": net.accuracy(data.x_test, data.y_test, seed=seed, resample=True),
        "train_accuracy": net.accuracy(data.x_train, data.y_train, seed=seed),
        "accuracy_curve": curve, "after_training": {},
    }
    after = {}
    for mode in free_modes:
        c = turnover_curve(_copy_net(net), data, epochs * n_tr, every=n_tr, mode=mode, eval_seed=seed,
                           progress=lambda p, m=mode: say(f"  after training ({m}) {p['presentations']:6d} images: test accuracy {p['accuracy']:.3f}"))
        after[mode] = c
        dev = max(abs(p["accuracy"] - final) for p in c)
        out["after_training"][mode] = {"curve": c, "steps": c[-1]["steps"], "max_deviation": dev, "within_2_points": bool(dev <= 0.02),
                                       "contacts_changed": c[-1]["contacts_changed"]}
    laws = {}
    if spectrum:
        summary, laws = spectrum_summary(net.hidden.weights, data, config.infer_steps, seed, n_boot, kind=config.activation,
                                         noise_width=config.noise_width)
        out["hidden"] = summary
    return out, {"net": net, "train_curve": curve, "after": after, "laws": laws}
