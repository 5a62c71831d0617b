"""Data for the dual sampling network: scikit-learn's digits, or any array of pixel intensities.

The network sees each pixel as a Bernoulli spike source: at every step pixel
``j`` spikes with probability ``x_j`` (its intensity in [0, 1]; for the
digits, the 0..16 grey level divided by 16). :func:`load_digits_split` gives
a fixed, stratified, seeded train/test split of the 1797 bundled 8x8 digits
(no download); :func:`make_dataset` does the same for any
``(n_samples, n_pixels)`` array, e.g. MNIST scaled to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import ModelError

__all__ = ["Dataset", "load_digits_split", "make_dataset"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split of images with integer labels.

    Parameters
    ----------
    name : str
        Where the data came from (e.g. ``"digits"``).
    x_train, x_test : numpy.ndarray
        Pixel spike probabilities per step, float64 in [0, 1], shape ``(n, n_pixels)``.
    y_train, y_test : numpy.ndarray
        Class labels, int64 in ``[0, n_classes)``, shape ``(n,)``.
    n_classes : int
        Number of classes.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int

    @property
    def n_pixels(self) -> int:
        """Number of input pixels."""
        return int(self.x_train.shape[1])

    @property
    def x_all(self) -> np.ndarray:
        """Training then test images, ``(n_train + n_test, n_pixels)``."""
        return np.concatenate([self.x_train, self.x_test])

    @property
    def y_all(self) -> np.ndarray:
        """Training then test labels."""
        return np.concatenate([self.y_train, self.y_test])


def make_dataset(x: np.ndarray, y: np.ndarray, test_fraction: float = 0.3, seed: int = 0, name: str = "custom") -> Dataset:
    """Split images ``x`` (pixel intensities in [0, 1]) and labels ``y`` into a seeded, stratified train/test set.

    Parameters
    ----------
    x : array_like
        ``(n_samples, n_pixels)`` finite values in [0, 1] (spike probability per step).
    y : array_like
        ``(n_samples,)`` integer labels >= 0; the classes are ``0 .. max(y)``.
    test_fraction : float
        Fraction of the samples held out for testing, in (0, 1).
    seed : int
        Seed of the split (scikit-learn ``train_test_split(random_state=seed, stratify=y)``).
    name : str
        Name recorded in the dataset.

    Returns
    -------
    Dataset

    Raises
    ------
    ModelError
        Naming the argument that is malformed and what is allowed.
    """
    from sklearn.model_selection import train_test_split

    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise ModelError(f"dataset '{name}': x must be a 2-D array (n_samples, n_pixels), got shape {x.shape}")
    if x.dtype.kind not in "biuf":
        raise ModelError(f"dataset '{name}': x must hold numbers in [0, 1], got dtype {x.dtype}")
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)) or x.min() < 0.0 or x.max() > 1.0:
        raise ModelError(f"dataset '{name}': x must hold spike probabilities in [0, 1] (scale the pixels first), got range [{np.nanmin(x):g}, {np.nanmax(x):g}]")
    if y.shape != (x.shape[0],):
        raise ModelError(f"dataset '{name}': y must have shape ({x.shape[0]},) (one label per row of x), got {y.shape}")
    if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y))):
        raise ModelError(f"dataset '{name}': y must hold integer class labels, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.min() < 0:
        raise ModelError(f"dataset '{name}': y must hold labels >= 0, got {y.min()}")
    if not (isinstance(test_fraction, (int, float)) and 0.0 < float(test_fraction) < 1.0):
        raise ModelError(f"dataset '{name}': test_fraction must be in (0, 1), got {test_fraction!r}")
    n_classes = int(y.max()) + 1
    counts = np.bincount(y, minlength=n_classes)
    stratify = y if counts.min() >= 2 else None
    try:
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=float(test_fraction), random_state=int(seed), stratify=stratify)
    except ValueError as exc:  # too few samples for the split
        raise ModelError(f"dataset '{name}': cannot split {x.shape[0]} samples with test_fraction={test_fraction}: {exc}") from None
    return Dataset(name, x_tr, y_tr, x_te, y_te, n_classes)


def load_digits_split(test_fraction: float = 0.3, seed: int = 0) -> Dataset:
    """scikit-learn's bundled 8x8 digits (1797 images, 10 classes), grey levels / 16, split with ``seed``.

    With the defaults: 1257 training and 540 test images, stratified by class.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    return make_dataset(digits.data / 16.0, digits.target, test_fraction=test_fraction, seed=seed, name="digits")
