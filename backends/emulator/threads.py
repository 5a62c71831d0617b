"""Cutting a program's neurons into parts that step on separate threads (numba kernel).

A part owns a contiguous range of LIF neurons: it updates them and it alone
adds synaptic events into their ring cells, so parts never write the same
memory. The cuts are placed between segments such that no core has neurons
on both sides, and every core of a part is numbered below every core of the
next part: then the per-core counters a part adds (spikes, neuron updates,
synaptic ops, input messages, all counted on the postsynaptic core) are its
own too. Each cut is chosen near an equal share of the work, counted as
synapses received plus a fixed cost per neuron update.

:func:`plan` returns, for ``K`` parts, the segment cuts and, for every delay
group and every neuron's destination-core list, where each part's synapses
begin (both lists are sorted by postsynaptic neuron / core). ``K = 1`` gives
the whole program as one part, which the single-threaded kernel uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .program import Program

#: Work of one neuron update, in synaptic events: about 2 ns per update against 1.6-3 ns per
#: event, per thread (10k-neuron network of benchmarks/emulator_speed.py).
UPDATE_COST = 1
#: Fewest LIF neurons for which threads pay for their per-step synchronisation (about 1.5 us;
#: measured: 1.3x faster at 2048 neurons, slower at 1000).
MIN_NEURONS = 2048


@dataclass(frozen=True)
class ThreadPlan:
    """Parts of a program: ``seg_split`` (K + 1) segment cuts, ``g_split`` (groups, K + 1), ``dc_split`` (neurons, K + 1)."""

    parts: int
    seg_split: np.ndarray
    g_split: np.ndarray
    dc_split: np.ndarray


def _split_points(values: np.ndarray, bounds: np.ndarray, cuts: list[int]) -> np.ndarray:
    """For CSR rows ``[bounds[r], bounds[r + 1])`` of ``values`` (sorted within each row):
    where each row's entries ``>= cut`` begin, one column per cut, framed by the row bounds."""
    out = np.empty((bounds.size - 1, len(cuts) + 2), dtype=np.int64)
    out[:, 0] = bounds[:-1]
    out[:, -1] = bounds[1:]
    for j, cut in enumerate(cuts):
        below = np.zeros(values.size + 1, dtype=np.int64)
        np.cumsum(values < cut, out=below[1:])
        out[:, j + 1] = bounds[:-1] + below[bounds[1:]] - below[bounds[:-1]]
    return out


def _clean_cuts(prog: Program) -> tuple[np.ndarray, np.ndarray]:
    """Segment indices ``g`` (1 <= g < segments) where the neurons can be cut at ``seg_start[g]``,
    and for each the lowest core right of the cut (every core left of it is numbered below)."""
    core = prog.core_of[:prog.n_lif]
    left_max = np.maximum.accumulate(core)
    right_min = np.minimum.accumulate(core[::-1])[::-1]
    at = prog.seg_start[1:-1]
    ok = left_max[at - 1] < right_min[at]
    return np.flatnonzero(ok) + 1, right_min[at[ok]]


def plan(prog: Program, parts: int) -> ThreadPlan:
    """At most ``parts`` parts of ``prog`` (fewer when the placement allows no clean cut)."""
    n_seg = prog.seg_core.size
    cuts_g: list[int] = []
    first_core: dict[int, int] = {}
    if parts > 1 and prog.n_lif and prog.n_cores:
        candidates, lowest_core = _clean_cuts(prog)
        first_core = dict(zip(candidates.tolist(), lowest_core.tolist()))
        if candidates.size:
            work = np.bincount(prog.syn_post, minlength=prog.n_lif)[:prog.n_lif] + UPDATE_COST
            done = np.r_[0, np.cumsum(work)][prog.seg_start[candidates]]
            total = float(work.sum())
            for k in range(1, parts):
                g = int(candidates[np.argmin(np.abs(done - total * k / parts))])
                if g not in cuts_g:
                    cuts_g.append(g)
            cuts_g.sort()
    seg_split = np.array([0, *cuts_g, n_seg], dtype=np.int64)
    neuron_cuts = [int(prog.seg_start[g]) for g in cuts_g]
    core_cuts = [first_core[g] for g in cuts_g]  # the lowest core of each later part
    g_split = _split_points(prog.syn_post.astype(np.int64), np.r_[prog.g_lo, prog.g_hi[-1:] if prog.g_hi.size else [0]], neuron_cuts)
    dc_split = _split_points(prog.dc_core, prog.dc_indptr, core_cuts)
    return ThreadPlan(len(cuts_g) + 1, seg_split, g_split, dc_split)
