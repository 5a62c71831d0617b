"""Pass 5, place: logical cores onto physical cores, tiles and chips.

The partition (pass 4) gives blocks packed onto *logical* cores. Placement
maps each logical core to a physical core so that spike messages travel as
little as possible: first across chips (a chip-to-chip link crossing is the
most expensive event), then across tiles of a chip's mesh.

Traffic model
-------------
One spike of neuron ``i`` is one message per (projection, destination block)
its synapses reach -- the output-axon entries of pass 4 -- so the expected
messages per step from block ``A`` to block ``B`` are::

    w(A, B) = sum_{i in A} rate(pop(i)) * dt * #{projections p : i has a synapse of p in B}

(dense projections: every presynaptic neuron reaches every block of the
target). Rates are in Hz and ``dt`` in ms; without ``rates`` every population
fires at :data:`DEFAULT_RATE_HZ` (uniform: only ratios between placements
matter then). Spike sources are host-injected and counted apart
(``host_injected``).

Geometry
--------
Physical core ``c`` is on chip ``c // cores_per_chip``; its index on the chip
``c % cores_per_chip`` fills tiles of ``cores_per_tile`` cores, tile ``t`` at
mesh position ``(t % tiles_x, t // tiles_x)`` (``profile.chip``). Chips sit
on a square grid ``ceil(sqrt(n_chips))`` wide and the tile meshes join into
one global mesh (Loihi's mesh extends across chips, Davies et al. 2018
p.86); a message takes ``|dx|`` east-west and ``|dy|`` north-south hops in it
(dimension-order routing) and crosses ``|dcx| + |dcy|`` chip boundaries.

Algorithm (``method="graph"``)
------------------------------
Recursive bisection: the used chips (then the tiles of each chip) are split
geometrically in two halves along the longer side; the logical cores are
split to match with Kernighan-Lin bisection (``networkx
kernighan_lin_bisection``, Kernighan & Lin 1970) of the block graph started
from the sequential order, trying both "fill the first half" and the
proportional split and keeping the smaller cut. Cores that fit in the first
half all go there (zero cut, compact). To stay fast on dense block graphs
(random connectivity: every block talks to every block), Kernighan-Lin sees
each node's 12 heaviest edges (cuts are measured on the full graph), runs 6
sweeps between chips, 2 between tiles and 3 on splits of more than 1000
cores, and inside a chip bisects 3 levels deep (to eighths of the mesh),
then fills cores in order. The result is compared with the naive sequential
placement by the estimated routing energy (profile ``energy.*``) and the
better one is kept, so ``placed / naive <= 1`` always.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import networkx as nx
import numpy as np
import scipy.sparse as sp
from networkx.algorithms.community import kernighan_lin_bisection

from ..errors import CompileError
from ..hw_profiles import HardwareProfile, load_profile
from .compiled import CompiledProjection, CoreBlock
from .partition import Partition, _FanIn, synapse_format

__all__ = ["DEFAULT_RATE_HZ", "METHODS", "Placement", "TrafficStats", "place"]

#: Firing rate assumed for populations without a given rate, Hz.
DEFAULT_RATE_HZ = 10.0
#: Placement methods.
METHODS = ("graph", "sequential")

_KL_MAX_ITER = 6  # sweeps when splitting chips (cross-chip messages are the costly ones)
_KL_MAX_ITER_TILES = 2  # sweeps when splitting the tiles of one chip
# Bisection levels inside a chip (3: down to eighths of the mesh, 4 tiles on Loihi);
# below that, cores are filled in order.
_TILE_LEVELS = 3
# Kernighan-Lin (pure Python) runs on each node's strongest edges only, so dense
# block graphs (random connectivity: every block talks to every block) stay fast;
# cuts are always measured on the full graph.
_KL_EDGES_PER_NODE = 12
# Above this many logical cores a split runs fewer sweeps and one candidate size.
_KL_LARGE = 1000
_KL_MAX_ITER_LARGE = 3


def _strongest_edges(sub: sp.coo_matrix, k: int) -> sp.coo_matrix:
    """Symmetric ``sub`` restricted to edges among the ``k`` heaviest of either endpoint."""
    n = sub.shape[0]
    if sub.nnz <= 2 * k * n:
        return sub
    order = np.lexsort((-sub.data, sub.row))
    row = sub.row[order]
    rank = np.arange(row.shape[0]) - np.searchsorted(row, np.arange(n))[row]
    keep = order[rank < k]
    r, c = sub.row[keep], sub.col[keep]
    mask = sp.coo_matrix((np.ones(2 * keep.shape[0]), (np.concatenate([r, c]), np.concatenate([c, r]))),
                         shape=sub.shape).tocsr()
    mask.data[:] = 1.0
    return sp.csr_matrix(sub).multiply(mask).tocoo()


@dataclass(frozen=True)
class TrafficStats:
    """Expected spike messages per time step and where they travel.

    Parameters
    ----------
    within_core : float
        Messages whose source and destination block share a core, per step.
    within_tile : float
        Messages between different cores of one tile, per step.
    across_tiles : float
        Messages between tiles of one chip, per step.
    across_chips : float
        Messages between chips, per step.
    hops_ew, hops_ns : float
        Mesh hops per step, east-west and north-south (global mesh).
    chip_crossings : float
        Chip-boundary crossings per step (a message between chips two apart
        crosses two).
    host_injected : float
        Messages from spike sources (host) per step; placement-independent.
    routing_energy_pj : float
        Estimate per step, pJ: ``(within_core + within_tile) * energy.spike_within_tile
        + hops_ew * energy.tile_hop_ew + hops_ns * energy.tile_hop_ns
        + chip_crossings * energy.spike_across_chip``.
    """

    within_core: float
    within_tile: float
    across_tiles: float
    across_chips: float
    hops_ew: float
    hops_ns: float
    chip_crossings: float
    host_injected: float
    routing_energy_pj: float

    @property
    def total(self) -> float:
        """All on-chip-originated messages per step."""
        return self.within_core + self.within_tile + self.across_tiles + self.across_chips

    @property
    def across_cores_on_chip(self) -> float:
        """Messages between different cores of one chip, per step."""
        return self.within_tile + self.across_tiles

    @property
    def hops(self) -> float:
        """Mesh hops per step (both directions)."""
        return self.hops_ew + self.hops_ns

    def to_dict(self) -> dict[str, float]:
        """JSON-ready form (derived totals included)."""
        return {
            "within_core": self.within_core,
            "within_tile": self.within_tile,
            "across_tiles": self.across_tiles,
            "across_cores_on_chip": self.across_cores_on_chip,
            "across_chips": self.across_chips,
            "hops_ew": self.hops_ew,
            "hops_ns": self.hops_ns,
            "hops": self.hops,
            "chip_crossings": self.chip_crossings,
            "host_injected": self.host_injected,
            "total": self.total,
            "routing_energy_pj": self.routing_energy_pj,
        }


def _ratio(a: float, b: float) -> float:
    if b == 0:
        return 1.0 if a == 0 else math.inf
    return a / b


@dataclass(frozen=True, eq=False)
class Placement:
    """Result of :func:`place`.

    Parameters
    ----------
    profile : str
        Hardware profile name.
    method : str
        ``"graph"`` or ``"sequential"`` as asked; ``kept`` says which one won.
    kept : str
        ``"graph"`` or ``"sequential"``: the placement returned.
    blocks : tuple of CoreBlock
        Every block with its physical core, chip and tile (x, y).
    core_map : tuple of int
        Physical core of each logical core of the partition.
    n_cores, n_chips : int
        Cores and chips used.
    traffic, naive : TrafficStats
        Traffic of this placement and of the sequential one.
    rates_hz : Mapping[str, float]
        Firing rate used per population, Hz.
    dt_ms : float
        Time step, ms.
    """

    profile: str
    method: str
    kept: str
    blocks: tuple[CoreBlock, ...]
    core_map: tuple[int, ...]
    n_cores: int
    n_chips: int
    traffic: TrafficStats
    naive: TrafficStats
    rates_hz: Mapping[str, float]
    dt_ms: float

    def ratios(self) -> dict[str, float]:
        """Placed / naive for cross-chip messages, chip crossings, hops, cross-core messages and energy."""
        t, n = self.traffic, self.naive
        return {
            "across_chips": _ratio(t.across_chips, n.across_chips),
            "chip_crossings": _ratio(t.chip_crossings, n.chip_crossings),
            "hops": _ratio(t.hops, n.hops),
            "across_cores": _ratio(t.across_cores_on_chip + t.across_chips, n.across_cores_on_chip + n.across_chips),
            "routing_energy": _ratio(t.routing_energy_pj, n.routing_energy_pj),
        }

    def summary(self) -> str:
        """Human-readable traffic table, placed vs naive."""
        rows = [
            ("messages within core", "within_core"),
            ("  within tile", "within_tile"),
            ("  across tiles", "across_tiles"),
            ("  across chips", "across_chips"),
            ("mesh hops E-W", "hops_ew"),
            ("mesh hops N-S", "hops_ns"),
            ("chip crossings", "chip_crossings"),
            ("host-injected", "host_injected"),
            ("routing energy (pJ)", "routing_energy_pj"),
        ]
        lines = [
            f"placement on {self.profile}: {self.n_cores} cores on {self.n_chips} chip(s), method {self.method}"
            f" (kept {self.kept}); per step at the given rates",
            f"{'':<22} {'placed':>14} {'naive':>14} {'ratio':>8}",
        ]
        for label, attr in rows:
            a, b = getattr(self.traffic, attr), getattr(self.naive, attr)
            lines.append(f"{label:<22} {a:>14.4g} {b:>14.4g} {_ratio(a, b):>8.3f}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "profile": self.profile,
            "method": self.method,
            "kept": self.kept,
            "n_cores": self.n_cores,
            "n_chips": self.n_chips,
            "dt_ms": self.dt_ms,
            "rates_hz": dict(self.rates_hz),
            "traffic": self.traffic.to_dict(),
            "naive": self.naive.to_dict(),
            "ratios": self.ratios(),
            "blocks": [
                {"population": b.population, "start": b.start, "stop": b.stop, "core": b.core, "chip": b.chip,
                 "tile": list(b.tile)}
                for b in self.blocks
            ],
        }


# ---------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------


class _Geometry:
    """Coordinates of the physical cores of ``n_chips`` chips."""

    def __init__(self, profile: HardwareProfile, n_chips: int) -> None:
        ch = profile.chip
        self.cpc, self.cpt, self.tx, self.ty = ch.cores_per_chip, ch.cores_per_tile, ch.tiles_x, ch.tiles_y
        self.n_chips = n_chips
        self.grid_w = max(1, math.ceil(math.sqrt(n_chips)))
        s = np.arange(n_chips * self.cpc, dtype=np.int64)
        self.chip = s // self.cpc
        local = s % self.cpc
        self.tile = local // self.cpt
        self.x = self.tile % self.tx
        self.y = self.tile // self.tx
        self.cx = self.chip % self.grid_w
        self.cy = self.chip // self.grid_w
        self.gx = self.cx * self.tx + self.x
        self.gy = self.cy * self.ty + self.y


def _traffic_stats(C: sp.coo_matrix, phys: np.ndarray, geo: _Geometry, host: float,
                   profile: HardwareProfile) -> TrafficStats:
    """Classify every directed logical-core traffic entry of ``C`` under ``phys``."""
    i, j, w = C.row, C.col, C.data
    a, b = phys[i], phys[j]
    same_core = a == b
    same_chip = geo.chip[a] == geo.chip[b]
    same_tile = same_chip & (geo.tile[a] == geo.tile[b])
    e = profile.energy
    within_core = float(w[same_core].sum())
    within_tile = float(w[same_tile & ~same_core].sum())
    across_tiles = float(w[same_chip & ~same_tile].sum())
    across_chips = float(w[~same_chip].sum())
    hops_ew = float((w * np.abs(geo.gx[a] - geo.gx[b])).sum())
    hops_ns = float((w * np.abs(geo.gy[a] - geo.gy[b])).sum())
    crossings = float((w * (np.abs(geo.cx[a] - geo.cx[b]) + np.abs(geo.cy[a] - geo.cy[b]))).sum())
    energy = ((within_core + within_tile) * e.spike_within_tile + hops_ew * e.tile_hop_ew + hops_ns * e.tile_hop_ns
              + crossings * e.spike_across_chip)
    return TrafficStats(within_core, within_tile, across_tiles, across_chips, hops_ew, hops_ns, crossings, host,
                        float(energy))


# ---------------------------------------------------------------------------
# Block traffic
# ---------------------------------------------------------------------------


def _fanins(partition: Partition, projections: Sequence[CompiledProjection], profile: HardwareProfile
            ) -> tuple[dict[str, _FanIn], dict[int, int]]:
    """The partition's fan-in indexes, rebuilt if the projections are not the partitioned ones."""
    idx = partition._index
    if idx is not None and len(idx.projections) == len(projections) and all(
        a is b for a, b in zip(idx.projections, projections)
    ):
        return idx.fanin, idx.local
    sizes = partition.population_sizes
    incoming: dict[str, list] = {n: [] for n in sizes if n not in partition.inputs}
    for gi, p in enumerate(projections):
        if p.post not in incoming:
            raise CompileError(f"projection '{p.name}': target population '{p.post}' is not in the partition")
        if p.pre not in sizes:
            raise CompileError(f"projection '{p.name}': source population '{p.pre}' is not in the partition")
        incoming[p.post].append((gi, p, synapse_format(p, profile)))
    fanin = {n: _FanIn(n, sizes[n], inc) for n, inc in incoming.items()}
    local = {gi: j for fi in fanin.values() for j, (gi, _, _) in enumerate(fi.sparse)}
    return fanin, local


def _block_traffic(partition: Partition, projections: Sequence[CompiledProjection], profile: HardwareProfile,
                   per_step: Mapping[str, float]) -> tuple[sp.csr_matrix, float]:
    """Expected messages per step between blocks (global block index), and host-injected messages."""
    fanin, local = _fanins(partition, projections, profile)
    nb = len(partition.blocks)
    gid: dict[str, np.ndarray] = {}
    start_of: dict[str, np.ndarray] = {}
    ranges: dict[str, list[tuple[int, int, int]]] = {}
    for k, b in enumerate(partition.blocks):
        ranges.setdefault(b.population, []).append((b.start, b.stop, k))
    for name, rs in ranges.items():
        rs.sort()
        size = partition.population_sizes[name]
        g = np.full(size, -1, dtype=np.int64)
        st = np.zeros(size, dtype=np.int64)
        for a, c, k in rs:
            g[a:c] = k
            st[a:c] = a
        gid[name], start_of[name] = g, st
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    host = 0.0
    inputs = set(partition.inputs)
    for q, fi in fanin.items():
        if q not in gid:
            continue  # empty population
        if fi.nnz:
            new = np.flatnonzero(fi.new_pairs(start_of[q]))
            key, pid, post = fi.key[new], fi.pid[new], fi.post[new]
            for j, (_, p, _) in enumerate(fi.sparse):
                sel = pid == j
                if not sel.any():
                    continue
                rate = per_step[p.pre]
                if p.pre in inputs:
                    host += rate * float(np.count_nonzero(sel))
                    continue
                pre = key[sel] - fi.key_offset[j]
                rows.append(gid[p.pre][pre])
                cols.append(gid[q][post[sel]])
                vals.append(np.full(rows[-1].shape[0], rate))
        for _, p, _ in fi.dense:
            rate = per_step[p.pre]
            dst = ranges[q]
            if p.pre in inputs:
                host += rate * p.n_pre * len(dst)
                continue
            for a, c, k in ranges.get(p.pre, []):
                rows.append(np.full(len(dst), k, dtype=np.int64))
                cols.append(np.array([kk for _, _, kk in dst], dtype=np.int64))
                vals.append(np.full(len(dst), rate * (c - a)))
    if rows:
        M = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(nb, nb)).tocsr()
    else:
        M = sp.csr_matrix((nb, nb))
    return M, host


# ---------------------------------------------------------------------------
# Recursive bisection
# ---------------------------------------------------------------------------


class _Bisector:
    def __init__(self, W: sp.csr_matrix, geo: _Geometry, seed: int) -> None:
        self.W = W  # symmetric, zero diagonal
        self.geo = geo
        self.seed = seed

    def cut(self, a: list[int], b: list[int]) -> float:
        if not a or not b:
            return 0.0
        return float(self.W[a][:, b].sum())

    def kl(self, nodes: list[int], n_left: int, max_iter: int) -> tuple[list[int], list[int]]:
        """Kernighan-Lin bisection of ``nodes`` into sides of ``n_left`` and the rest."""
        A0, B0 = nodes[:n_left], nodes[n_left:]
        if not A0 or not B0:
            return A0, B0
        sub = _strongest_edges(self.W[nodes][:, nodes].tocoo(), _KL_EDGES_PER_NODE)
        g = nx.Graph()
        g.add_nodes_from(nodes)
        mask = sub.row < sub.col
        g.add_weighted_edges_from(
            zip(np.asarray(nodes)[sub.row[mask]].tolist(), np.asarray(nodes)[sub.col[mask]].tolist(),
                sub.data[mask].tolist())
        )
        if g.number_of_edges() == 0:
            return A0, B0
        s1, s2 = kernighan_lin_bisection(g, partition=(set(A0), set(B0)), max_iter=max_iter, weight="weight",
                                         seed=self.seed)
        # networkx 2.8 may return the sides swapped; sizes are preserved by its pair swaps.
        if len(s1) != len(A0) or (len(s1) == len(s2) and len(s1 & set(A0)) < len(s2 & set(A0))):
            s1, s2 = s2, s1
        order = {n: i for i, n in enumerate(nodes)}
        return sorted(s1, key=order.__getitem__), sorted(s2, key=order.__getitem__)

    def split_slots(self, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Two geometric halves of ``slots`` (chips first, then tiles); None within one tile."""
        geo = self.geo
        chips = np.unique(geo.chip[slots])
        if len(chips) > 1:
            unit = geo.chip[slots]
            ux, uy = geo.cx[chips], geo.cy[chips]
            units = chips
        else:
            tiles = np.unique(geo.tile[slots])
            if len(tiles) == 1:
                return None
            unit = geo.tile[slots]
            ux, uy = tiles % geo.tx, tiles // geo.tx
            units = tiles
        if np.ptp(ux) >= np.ptp(uy):
            order = np.lexsort((uy, ux))
        else:
            order = np.lexsort((ux, uy))
        left_units = set(units[order[: len(units) // 2]].tolist())
        in_left = np.isin(unit, list(left_units))
        return slots[in_left], slots[~in_left]

    def assign(self, nodes: list[int], slots: np.ndarray, phys: np.ndarray, tile_depth: int = 0) -> None:
        """Place ``nodes`` (logical cores) on ``slots`` (physical cores), recursively."""
        if not nodes:
            return
        halves = self.split_slots(slots)
        if halves is None or tile_depth >= _TILE_LEVELS:
            phys[nodes] = slots[: len(nodes)]  # one tile (or deep enough): fill in order
            return
        left, right = halves
        across_chips = len(np.unique(self.geo.chip[slots])) > 1
        depth = tile_depth if across_chips else tile_depth + 1
        n, cap_l, cap_r = len(nodes), len(left), len(right)
        if n <= cap_l:
            self.assign(nodes, left, phys, depth)
            return
        lo, hi = max(0, n - cap_r), min(n, cap_l)
        candidates = sorted({hi, min(hi, max(lo, round(n * cap_l / (cap_l + cap_r))))})
        max_iter = _KL_MAX_ITER if across_chips else _KL_MAX_ITER_TILES
        if n > _KL_LARGE:
            candidates, max_iter = [hi], min(max_iter, _KL_MAX_ITER_LARGE)
        best = None
        for n_left in candidates:
            a, b = self.kl(nodes, n_left, max_iter)
            c = self.cut(a, b)
            if best is None or c < best[0]:
                best = (c, a, b)
        _, a, b = best
        self.assign(a, left, phys, depth)
        self.assign(b, right, phys, depth)


# ---------------------------------------------------------------------------
# The pass
# ---------------------------------------------------------------------------


def _per_step_rates(partition: Partition, rates: Mapping[str, float] | None, dt: float
                    ) -> tuple[dict[str, float], dict[str, float]]:
    if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
        raise CompileError(f"place: dt must be a number of ms > 0, got {dt!r}")
    hz = {n: DEFAULT_RATE_HZ for n in partition.population_sizes}
    problems = []
    for name, value in (rates or {}).items():
        if name not in hz:
            problems.append(f"rates: unknown population '{name}' (populations: {', '.join(hz)})")
        elif not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            problems.append(f"rates: population '{name}': rate must be a number of Hz >= 0, got {value!r}")
        else:
            hz[name] = float(value)
    if problems:
        raise CompileError(f"place: {problems[0]}", tuple(problems))
    return hz, {n: r * dt * 1e-3 for n, r in hz.items()}


def place(
    partition: Partition,
    projections: Sequence[CompiledProjection],
    profile: HardwareProfile | str,
    rates: dict[str, float] | None = None,
    method: str = "graph",
    *,
    dt: float = 1.0,
    seed: int = 0,
) -> Placement:
    """Place the logical cores of ``partition`` on physical cores, tiles and chips.

    Parameters
    ----------
    partition : Partition
        Output of :func:`~yuragi.compiler.partition.partition`.
    projections : sequence of CompiledProjection
        The projections that were partitioned.
    profile : HardwareProfile or str
        Target profile (geometry ``profile.chip``, routing energies ``profile.energy``).
    rates : dict, optional
        Expected firing rate per population, Hz (others: :data:`DEFAULT_RATE_HZ`).
    method : {"graph", "sequential"}
        ``"graph"``: recursive Kernighan-Lin bisection on the block graph
        (chips, then tiles); ``"sequential"``: logical core ``i`` on physical
        core ``i`` (the naive order).
    dt : float
        Time step, ms (spikes per step = rate * dt * 1e-3).
    seed : int
        Seed of the Kernighan-Lin tie-breaking (deterministic for a given seed).

    Returns
    -------
    Placement
        Blocks with physical core, chip and tile; traffic of this placement and
        of the sequential one.

    Raises
    ------
    CompileError
        Unknown method or rate, or more cores than ``chip.max_chips`` chips hold.
    """
    prof = load_profile(profile)
    if method not in METHODS:
        raise CompileError(f"place: method must be one of {', '.join(METHODS)}, got {method!r}")
    n_logical = partition.n_cores
    cpc, max_chips = prof.chip.cores_per_chip, prof.chip.max_chips
    n_chips = max(1, math.ceil(n_logical / cpc))
    if n_chips > max_chips:
        raise CompileError(
            f"place: the network needs {n_logical} cores = {n_chips} chips of {cpc} cores, but {prof.name} allows at"
            f" most {max_chips} chips ({max_chips * cpc} cores; chip.max_chips) -> reduce the network or its"
            f" per-core usage (see the partition's usage table)"
        )
    hz, per_step = _per_step_rates(partition, rates, dt)
    M, host = _block_traffic(partition, projections, prof, per_step)
    core_of_block = np.array([b.core for b in partition.blocks], dtype=np.int64)
    nb = len(partition.blocks)
    S = sp.csr_matrix((np.ones(nb), (np.arange(nb), core_of_block)), shape=(nb, max(n_logical, 1)))
    C = (S.T @ M @ S).tocoo()  # logical-core traffic, directed, diagonal = within core
    geo = _Geometry(prof, n_chips)
    naive_phys = np.arange(max(n_logical, 1), dtype=np.int64)
    naive = _traffic_stats(C, naive_phys, geo, host, prof)
    kept = "sequential"
    phys, stats = naive_phys, naive
    if method == "graph" and n_logical > 1:
        W = (C + C.T).tocsr()
        W = (W - sp.diags(W.diagonal())).tocsr()
        W.eliminate_zeros()
        graph_phys = np.full(n_logical, -1, dtype=np.int64)
        _Bisector(W, geo, seed).assign(list(range(n_logical)), np.arange(n_chips * cpc, dtype=np.int64), graph_phys)
        graph_stats = _traffic_stats(C, graph_phys, geo, host, prof)
        if (graph_stats.routing_energy_pj, graph_stats.chip_crossings) <= (naive.routing_energy_pj,
                                                                           naive.chip_crossings):
            kept, phys, stats = "graph", graph_phys, graph_stats
    elif method == "graph":
        kept = "graph"
    used_chips = len(np.unique(geo.chip[phys[:n_logical]])) if n_logical else 0
    blocks = tuple(
        CoreBlock(b.population, b.start, b.stop, int(phys[b.core]), int(geo.chip[phys[b.core]]),
                  (int(geo.x[phys[b.core]]), int(geo.y[phys[b.core]])))
        for b in partition.blocks
    )
    return Placement(
        profile=prof.name,
        method=method,
        kept=kept,
        blocks=blocks,
        core_map=tuple(int(x) for x in phys[:n_logical]),
        n_cores=n_logical,
        n_chips=used_chips,
        traffic=stats,
        naive=naive,
        rates_hz=MappingProxyType(hz),
        dt_ms=float(dt),
    )
