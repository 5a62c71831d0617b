"""BatchResult: what inference over a data set needs from many runs of one network."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import BackendError
from ..result import RunResult


@dataclass(frozen=True, eq=False)
class BatchResult:
    """Per-sample outcome of :func:`yuragi.backends.emulator.run_batch`.

    Parameters
    ----------
    network, backend : str
    steps : int
        Steps run per sample.
    dt : float
        Step, ms.
    seed : int
        Network seed.
    n_samples : int
    counts : dict of str to numpy.ndarray
        Spikes per neuron, ``(samples, size)`` int64, every population (rate decoding).
    first_spike : dict of str to numpy.ndarray
        Step of each neuron's first spike, ``(samples, size)`` int64, ``-1``
        when it never spiked (latency decoding).
    counters : dict of str to numpy.ndarray
        Op counters summed over steps, ``(samples, n_cores)`` int64 (energy per sample).
    results : tuple of RunResult
        One full result per sample when run with ``detail=True`` (else empty).
    meta : dict
        Engine and timings.
    """

    network: str
    backend: str
    steps: int
    dt: float
    seed: int
    n_samples: int
    counts: dict[str, np.ndarray]
    first_spike: dict[str, np.ndarray]
    counters: dict[str, np.ndarray]
    results: tuple[RunResult, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.n_samples

    def result(self, sample: int) -> RunResult:
        """The full RunResult of one sample (needs ``detail=True``)."""
        if not self.results:
            raise BackendError("per-sample RunResults were not kept: run_batch(..., detail=True)")
        return self.results[sample]

    def predict(self, population: str) -> np.ndarray:
        """Index of the most active neuron of ``population`` per sample (lowest index on ties, ``-1`` if silent)."""
        counts = self.counts[population]
        winner = np.argmax(counts, axis=1)
        return np.where(counts.max(axis=1) > 0, winner, -1)

    def rates_hz(self, population: str) -> np.ndarray:
        """Firing rate of each neuron per sample, ``(samples, size)``, Hz."""
        return self.counts[population] / (self.steps * self.dt / 1000.0)

    def total(self, counter: str) -> np.ndarray:
        """One counter summed over cores, per sample (``(samples,)`` int64)."""
        return self.counters[counter].sum(axis=1)
