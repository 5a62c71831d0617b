"""Packet statistics of a synfire run: per-group (a, sigma), survival, the one-layer map and its separatrix.

**Packet measure** (fixed before any result was looked at; never tuned):
for group ``k`` the packet centre is searched in a window that opens at the
earliest time group ``k`` can respond -- the input packet's centre minus
``SEARCH_BEFORE_MS`` for the first group, the previous group's centre plus
the delay minus ``SEARCH_BEFORE_MS`` for the others -- and is
``SEARCH_MS`` long. When the previous group has no packet (``a <
ABSENT_A``, its "centre" is just the densest background) the window is
instead the previous group's window moved by one delay, so that windows
of an extinct packet do not wander after noise. The centre is the median of the spikes within
``HALF_WINDOW_MS`` of the time whose ``+-HALF_WINDOW_MS`` window holds the
most spikes of the group (earliest such time on ties). Then

- ``a``: spikes of the group within ``HALF_WINDOW_MS`` (5 ms, the window of
  models.md B2) of that centre, background spikes included;
- ``sigma``: standard deviation of those spike times, ms (background spikes
  included: a few of them inflate it, so it errs on the large side).

A packet *survives* to the last group when ``a >= SURVIVAL_A`` there
(half the group fires in the window; the distributions are bimodal, see
docs/models/synfire.md); the stricter issue #10 target is ``a >= 80`` and
``sigma < 1 ms``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .params import SynfireParams

HALF_WINDOW_MS = 5.0
SEARCH_BEFORE_MS = 2.0
SEARCH_MS = 15.0
SURVIVAL_A = 50
ABSENT_A = 10


@dataclass(frozen=True)
class PacketStats:
    """Per-group packet measures of one run.

    Parameters
    ----------
    a : numpy.ndarray
        Spikes in the packet window per group (int, ``(n_groups,)``).
    sigma : numpy.ndarray
        Spread of those spikes per group, ms (nan with fewer than 2 spikes).
    centre : numpy.ndarray
        Packet centre per group, ms (nan when the group has no spike in its
        search window).
    """

    a: np.ndarray
    sigma: np.ndarray
    centre: np.ndarray

    @property
    def survived(self) -> bool:
        """``a >= SURVIVAL_A`` in the last group."""
        return bool(self.a[-1] >= SURVIVAL_A)

    def passes(self, a_min: int = 80, sigma_max: float = 1.0) -> bool:
        """The issue #10 propagation target in the last group: ``a >= a_min`` and ``sigma < sigma_max``."""
        return bool(self.a[-1] >= a_min and self.sigma[-1] < sigma_max)

    def to_dict(self) -> dict[str, list]:
        """JSON-safe form (nan -> None)."""
        clean = lambda x: [None if not math.isfinite(float(v)) else round(float(v), 4) for v in x]  # noqa: E731
        return {"a": [int(v) for v in self.a], "sigma": clean(self.sigma), "centre": clean(self.centre)}


def spike_times_by_block(steps: np.ndarray, neurons: np.ndarray, dt: float, block: int, n_blocks: int) -> list[np.ndarray]:
    """Spike times (ms, sorted) of each block of ``block`` consecutive neurons."""
    which = neurons // block
    out = []
    for k in range(n_blocks):
        out.append(np.sort(steps[which == k].astype(np.float64) * dt))
    return out


def packet_in_window(times: np.ndarray, lo: float, hi: float) -> tuple[int, float, float]:
    """``(a, sigma, centre)`` of the packet of one group searched in ``[lo, hi]`` ms (see module docstring)."""
    times = np.asarray(times, dtype=np.float64)
    cand = times[(times >= lo) & (times <= hi)]
    if cand.size == 0:
        return 0, math.nan, math.nan
    # count of spikes (all of the group's) within +-HALF_WINDOW_MS of each candidate spike time
    left = np.searchsorted(times, cand - HALF_WINDOW_MS, side="left")
    right = np.searchsorted(times, cand + HALF_WINDOW_MS, side="right")
    best = cand[int(np.argmax(right - left))]
    near = times[np.abs(times - best) <= HALF_WINDOW_MS]
    centre = float(np.median(near))
    inside = times[np.abs(times - centre) <= HALF_WINDOW_MS]
    sigma = float(np.std(inside)) if inside.size >= 2 else math.nan
    return int(inside.size), sigma, centre


def chain_packets(result: Any, params: SynfireParams | None = None, population: str = "chain") -> PacketStats:
    """Per-group packet measures of a chain run (any backend's RunResult)."""
    p = params or SynfireParams()
    ev = result.spikes[population]
    times = spike_times_by_block(ev.steps, ev.neurons, result.dt, p.group_size, p.n_groups)
    return packets_from_times(times, p)


def packets_from_times(times: Sequence[np.ndarray], p: SynfireParams) -> PacketStats:
    """Per-group packet measures from spike times per group (ms)."""
    a = np.zeros(len(times), dtype=np.int64)
    sigma = np.full(len(times), math.nan)
    centre = np.full(len(times), math.nan)
    anchor = p.packet_t_ms
    for k, t in enumerate(times):
        start = anchor - SEARCH_BEFORE_MS + (p.delay_steps * p.dt if k > 0 else 0.0)
        a[k], sigma[k], centre[k] = packet_in_window(t, start, start + SEARCH_MS)
        anchor = centre[k] if a[k] >= ABSENT_A else start + SEARCH_BEFORE_MS
    return PacketStats(a, sigma, centre)


def layer_map_packets(result: Any, n_blocks: int, params: SynfireParams | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(a', sigma')`` of every block of a :func:`~.network.layer_map_network` run (arrays ``(n_blocks,)``)."""
    p = params or SynfireParams()
    ev = result.spikes["layer"]
    times = spike_times_by_block(ev.steps, ev.neurons, result.dt, p.group_size, n_blocks)
    out = [packet_in_window(t, p.packet_t_ms - SEARCH_BEFORE_MS, p.packet_t_ms - SEARCH_BEFORE_MS + SEARCH_MS) for t in times]
    return np.array([o[0] for o in out], dtype=np.int64), np.array([o[1] for o in out])


# ----------------------------------------------------------------- the map


@dataclass(frozen=True)
class LayerMap:
    """Mean one-layer transmission map on a grid of input packets.

    Parameters
    ----------
    a_in : numpy.ndarray
        Input packet sizes (grid axis 0).
    sigma_in : numpy.ndarray
        Input spreads, ms (grid axis 1).
    a_out, sigma_out : numpy.ndarray
        Mean output ``a'`` and ``sigma'`` over trials, shape ``(len(a_in), len(sigma_in))``
        (``sigma_out`` averages the trials with >= 2 spikes in the window).
    trials : int
        Trials per grid point.
    """

    a_in: np.ndarray
    sigma_in: np.ndarray
    a_out: np.ndarray
    sigma_out: np.ndarray
    trials: int

    def step(self, a: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Apply the mean map once (bilinear interpolation, inputs clipped to the grid)."""
        from scipy.interpolate import RegularGridInterpolator

        pts = np.stack([np.clip(a, self.a_in[0], self.a_in[-1]), np.clip(s, self.sigma_in[0], self.sigma_in[-1])], axis=-1)
        fa = RegularGridInterpolator((self.a_in, self.sigma_in), self.a_out)
        fs = RegularGridInterpolator((self.a_in, self.sigma_in), np.nan_to_num(self.sigma_out, nan=self.sigma_in[-1]))
        return fa(pts), fs(pts)

    def basin(self, iterations: int = 30, a_fine: int = 101, sigma_fine: int = 61) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Which input packets the iterated mean map carries to the synchronous attractor.

        Each point of a fine grid is iterated ``iterations`` times; it is in
        the basin when it ends with ``a >= SURVIVAL_A``. The basin's boundary
        (the 0.5 contour of the returned indicator) is the separatrix.

        Returns
        -------
        a, sigma : numpy.ndarray
            The fine grid axes.
        inside : numpy.ndarray
            ``(a_fine, sigma_fine)`` float array, 1.0 in the basin.
        """
        a = np.linspace(self.a_in[0], self.a_in[-1], a_fine)
        s = np.linspace(self.sigma_in[0], self.sigma_in[-1], sigma_fine)
        aa, ss = np.meshgrid(a, s, indexing="ij")
        x, y = aa.ravel(), ss.ravel()
        for _ in range(iterations):
            x, y = self.step(x, y)
        return a, s, (x >= SURVIVAL_A).reshape(aa.shape).astype(np.float64)

    def separatrix_a(self) -> np.ndarray:
        """For each ``sigma_in`` grid value, the smallest ``a`` of the fine grid in the basin (nan if none)."""
        a, s, inside = self.basin(sigma_fine=len(self.sigma_in))
        out = np.full(inside.shape[1], math.nan)
        for j in range(inside.shape[1]):
            hit = np.nonzero(inside[:, j] > 0.5)[0]
            if hit.size:
                out[j] = a[hit[0]]
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        nn = lambda x: np.where(np.isfinite(x), np.round(x, 4), np.nan).tolist()  # noqa: E731
        return {
            "a_in": self.a_in.tolist(), "sigma_in": self.sigma_in.tolist(), "trials": self.trials,
            "a_out": nn(self.a_out), "sigma_out": [[None if v != v else v for v in row] for row in nn(self.sigma_out)],
            "separatrix_a": [None if v != v else float(v) for v in self.separatrix_a()],
        }


def build_layer_map(a_in: Sequence[int], sigma_in: Sequence[float], trials: int, a_out: np.ndarray, sigma_out: np.ndarray) -> LayerMap:
    """Average per-block results into a :class:`LayerMap`.

    ``a_out`` / ``sigma_out`` are per block in the order of
    :func:`~.network.layer_map_network` with conditions
    ``[(a, s) for a in a_in for s in sigma_in]``.
    """
    na, ns = len(a_in), len(sigma_in)
    a_blocks = np.asarray(a_out, dtype=np.float64).reshape(na, ns, trials)
    s_blocks = np.asarray(sigma_out, dtype=np.float64).reshape(na, ns, trials)
    finite = np.isfinite(s_blocks)
    count = finite.sum(axis=2)
    total = np.where(finite, s_blocks, 0.0).sum(axis=2)
    s_mean = np.full(count.shape, np.nan)
    np.divide(total, count, out=s_mean, where=count > 0)
    return LayerMap(np.asarray(a_in, dtype=np.float64), np.asarray(sigma_in, dtype=np.float64), a_blocks.mean(axis=2), s_mean, trials)


# ------------------------------------------------------------ gate sweep


def fit_half_survival(rates: Sequence[float], survived: Sequence[int], total: Sequence[int]) -> dict[str, float]:
    """Gate rate of 50 % survival from a sweep: logistic fit and linear interpolation.

    Parameters
    ----------
    rates : sequence of float
        Gate rates nu_G, Hz (ascending).
    survived, total : sequence of int
        Surviving runs and runs per rate.

    Returns
    -------
    dict
        ``nu50_logistic`` (maximum-likelihood logistic ``P = 1/(1 + exp((nu - nu50)/s))``),
        ``slope_hz`` (its ``s``), ``nu50_interp`` (first crossing of 0.5 by
        linear interpolation of the measured fractions; nan when none).
    """
    from scipy.optimize import minimize

    r = np.asarray(rates, dtype=np.float64)
    k = np.asarray(survived, dtype=np.float64)
    n = np.asarray(total, dtype=np.float64)
    frac = k / n

    def nll(theta: np.ndarray) -> float:
        mid, log_s = theta
        z = np.clip((r - mid) / math.exp(log_s), -50, 50)
        p = np.clip(1.0 / (1.0 + np.exp(z)), 1e-12, 1 - 1e-12)
        return -float(np.sum(k * np.log(p) + (n - k) * np.log(1 - p)))

    start = np.array([float(np.interp(0.5, frac[::-1], r[::-1])) if frac.max() >= 0.5 >= frac.min() else float(r.mean()), math.log(max(np.ptp(r), 1e-3) / 10)])
    fit = minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-8, "maxiter": 4000})
    interp = math.nan
    for i in range(len(r) - 1):
        if frac[i] >= 0.5 > frac[i + 1]:
            interp = float(r[i] + (frac[i] - 0.5) / (frac[i] - frac[i + 1]) * (r[i + 1] - r[i]))
            break
    return {"nu50_logistic": float(fit.x[0]), "slope_hz": float(math.exp(fit.x[1])), "nu50_interp": interp}
