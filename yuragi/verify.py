"""Compare two RunResults: bit-exact equality, or statistics against the float reference.

:func:`compare_exact` reports equal, or the first step at which the results
differ, with the population, neuron, variable and both values.
:func:`compare_statistical` compares a fixed-point run with the float
reference: per-population rate error, the spike-time coincidence factor
(Kistler et al. 1997, Γ with precision window Δ) and the largest
deviations, against user-set tolerances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .backends.result import RunResult
from .errors import VerifyError


@dataclass(frozen=True)
class Difference:
    """The first difference between two runs."""

    step: int
    element: str
    variable: str
    index: int
    value_a: Any
    value_b: Any

    def describe(self, name_a: str, name_b: str) -> str:
        """One line naming step, element, neuron/counter index, variable and both values."""
        return (
            f"first difference at step {self.step}: {self.element}[{self.index}].{self.variable} "
            f"= {self.value_a} ({name_a}) vs {self.value_b} ({name_b})"
        )


@dataclass(frozen=True)
class ExactVerdict:
    """Outcome of :func:`compare_exact`."""

    equal: bool
    backend_a: str
    backend_b: str
    steps: int
    compared: tuple[str, ...]
    first_difference: Difference | None = None

    def to_dict(self) -> dict:
        """JSON-safe form."""
        d = self.first_difference
        return {
            "equal": self.equal,
            "backends": [self.backend_a, self.backend_b],
            "steps": self.steps,
            "compared": list(self.compared),
            "first_difference": None if d is None else {
                "step": d.step, "element": d.element, "variable": d.variable, "index": d.index,
                "value_a": _jsonable(d.value_a), "value_b": _jsonable(d.value_b),
            },
        }

    def summary(self) -> str:
        """One line: the verdict."""
        if self.equal:
            return f"bit-exact: {self.backend_a} and {self.backend_b} agree on {', '.join(self.compared)} over {self.steps} steps"
        assert self.first_difference is not None
        return f"NOT bit-exact: {self.first_difference.describe(self.backend_a, self.backend_b)}"


def _jsonable(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _first_mismatch(a: np.ndarray, b: np.ndarray) -> tuple[int, int] | None:
    """(step, index) of the first differing element of two (steps, n) arrays, scanning step-major."""
    diff = a != b
    if not diff.any():
        return None
    flat = int(np.argmax(diff.reshape(-1)))
    return divmod(flat, a.shape[1])


def compare_exact(a: RunResult, b: RunResult, counters: bool = True) -> ExactVerdict:
    """Bit-exact comparison of spikes, common probes and (optionally) op counters.

    The earliest differing step over all compared arrays is reported.

    Raises
    ------
    VerifyError
        When the results cannot be compared (different networks, steps or populations).
    """
    if a.steps != b.steps:
        raise VerifyError(f"cannot compare runs of {a.steps} and {b.steps} steps")
    if set(a.spikes) != set(b.spikes):
        raise VerifyError(f"runs have different populations: {sorted(a.spikes)} vs {sorted(b.spikes)}")
    candidates: list[tuple[str, str, np.ndarray, np.ndarray]] = []
    for name in a.spikes:
        candidates.append((name, "spikes", a.raster(name), b.raster(name)))
    for key in sorted(set(a.probes) & set(b.probes)):
        element, variable = key.rsplit(".", 1)
        pa, pb = np.asarray(a.probes[key]), np.asarray(b.probes[key])
        if pa.shape != pb.shape:
            raise VerifyError(f"probe '{key}' has shapes {pa.shape} and {pb.shape}")
        candidates.append((element, variable, pa, pb))
    if counters:
        for key in sorted(set(a.counters) & set(b.counters)):
            ca, cb = a.counters[key], b.counters[key]
            if ca.shape != cb.shape:
                raise VerifyError(f"counter '{key}' has shapes {ca.shape} and {cb.shape}")
            candidates.append(("core", f"counter:{key}", ca, cb))
    first: Difference | None = None
    for element, variable, xa, xb in candidates:
        hit = _first_mismatch(xa, xb)
        if hit is not None and (first is None or hit[0] < first.step):
            step, index = hit
            first = Difference(step, element, variable, index, xa[step, index].item(), xb[step, index].item())
    compared = tuple(sorted({v if not v.startswith("counter:") else "counters" for _, v, _, _ in candidates}))
    return ExactVerdict(first is None, a.backend, b.backend, a.steps, compared, first)


# ------------------------------------------------------------ statistical
def coincidence_factor(train_a: np.ndarray, train_b: np.ndarray, window: int, rate_steps: float | None = None) -> float:
    """Kistler et al. (1997) coincidence factor Γ of two spike trains given as step indices.

    ``Γ = (N_coinc − ⟨N_coinc⟩) / (½ (N_a + N_b) · (1 − 2 ν Δ))`` where a
    coincidence is a spike of ``b`` within ``window`` steps of one of ``a``
    (each spike of ``b`` used once), ``⟨N_coinc⟩ = 2 ν Δ N_a`` is the chance
    level for a Poisson train of ``b``'s rate ``ν`` (per step), Δ = window.
    Γ = 1 for identical trains, ≈ 0 for unrelated ones; NaN when ``2 ν Δ >= 1``
    (a train so dense that chance alone explains every coincidence).
    """
    a, b = np.sort(np.asarray(train_a)), np.sort(np.asarray(train_b))
    if a.size == 0 and b.size == 0:
        return 1.0
    if a.size == 0 or b.size == 0:
        return 0.0
    used = np.zeros(b.size, dtype=bool)
    coinc = 0
    for t in a:
        lo, hi = np.searchsorted(b, t - window), np.searchsorted(b, t + window, side="right")
        free = np.nonzero(~used[lo:hi])[0]
        if free.size:
            used[lo + free[0]] = True
            coinc += 1
    nu = b.size / rate_steps if rate_steps else 0.0
    if 2 * nu * window >= 1.0:
        return float("nan")  # so dense a train that every spike coincides by chance: undefined
    expected = 2 * nu * window * a.size
    norm = 0.5 * (a.size + b.size) * (1 - 2 * nu * window)
    return float((coinc - expected) / norm)


@dataclass(frozen=True)
class PopulationStats:
    """Float-vs-fixed comparison of one population."""

    population: str
    rate_ref_hz: float
    rate_test_hz: float
    rate_error: float
    coincidence: float

    def to_dict(self) -> dict:
        """JSON-safe form."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class StatisticalVerdict:
    """Outcome of :func:`compare_statistical`."""

    ok: bool
    rate_tolerance: float
    coincidence_min: float
    window_steps: int
    populations: tuple[PopulationStats, ...]
    failures: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        """JSON-safe form."""
        return {
            "ok": self.ok, "rate_tolerance": self.rate_tolerance, "coincidence_min": self.coincidence_min,
            "window_steps": self.window_steps, "populations": [p.to_dict() for p in self.populations], "failures": list(self.failures),
        }

    @property
    def worst_rate_error(self) -> float:
        """Largest relative rate error over populations."""
        return max((p.rate_error for p in self.populations), default=0.0)


def compare_statistical(reference: RunResult, test: RunResult, rate_tolerance: float = 0.1, coincidence_min: float = 0.0, window_steps: int = 2, populations: list[str] | None = None) -> StatisticalVerdict:
    """Compare ``test`` (e.g. quantized) with ``reference`` (e.g. Brian2 float).

    Parameters
    ----------
    rate_tolerance : float
        Largest allowed relative rate error ``|r_test − r_ref| / max(r_ref, 1 Hz)`` per population.
    coincidence_min : float
        Smallest allowed mean coincidence factor Γ per population.
    window_steps : int
        Coincidence window Δ, steps.
    populations : list of str, optional
        Populations to compare (default: all present in both; inputs are identical by construction).
    """
    if reference.steps != test.steps:
        raise VerifyError(f"cannot compare runs of {reference.steps} and {test.steps} steps")
    names = populations or [n for n in reference.spikes if n in test.spikes]
    ref_rates, test_rates = reference.rates_hz(), test.rates_hz()
    stats, failures = [], []
    for name in names:
        if name not in reference.spikes or name not in test.spikes:
            raise VerifyError(f"population '{name}' is missing from one of the runs")
        ra, ta = ref_rates[name], test_rates[name]
        err = abs(ta - ra) / max(ra, 1.0)
        ev_r, ev_t = reference.spikes[name], test.spikes[name]
        gammas = [
            coincidence_factor(ev_r.steps[ev_r.neurons == i], ev_t.steps[ev_t.neurons == i], window_steps, reference.steps)
            for i in range(ev_r.size)
        ]
        defined = [g for g in gammas if not np.isnan(g)]
        gamma = float(np.mean(defined)) if defined else float("nan")
        stats.append(PopulationStats(name, ra, ta, err, gamma))
        if err > rate_tolerance:
            failures.append(f"population '{name}': rate {ta:.2f} Hz vs reference {ra:.2f} Hz, error {err:.3f} > tolerance {rate_tolerance}")
        if not np.isnan(gamma) and gamma < coincidence_min:  # NaN (undefined) is reported, not judged
            failures.append(f"population '{name}': coincidence factor {gamma:.3f} < {coincidence_min}")
    stats.sort(key=lambda s: -s.rate_error)
    return StatisticalVerdict(not failures, rate_tolerance, coincidence_min, window_steps, tuple(stats), tuple(failures))
