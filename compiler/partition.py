"""Pass 4, partition: split populations into blocks that each fit one neuro-core.

Every non-input population is cut into contiguous neuron ranges ("blocks") so
that every per-core limit of the hardware profile holds; small blocks are then
packed together onto shared cores when their summed usage still fits. Spike
sources (input populations) take no core: their spikes are injected by the
host, but they use input axons on the cores they feed.

Resource accounting (per core; all numbers from the profile)
-------------------------------------------------------------
``compartments``
    One compartment per neuron (``core.compartments``; Davies et al. 2018
    p.89, nengo-loihi ``block.py`` ``MAX_COMPARTMENTS``).
``synapse_bits``
    Synaptic memory, exactly as nengo-loihi ``SynapseConfig.bits_per_axon``
    (nengo-loihi@e564f66 ``nengo_loihi/block.py``): synapses are stored per
    *input axon* (one presynaptic neuron of one projection); the ``n`` synapses
    an axon drives on the core are stored in groups of at most
    ``core.synapse_group_size`` (64 = ``n_synapses + 1``), each group costs
    ``g * bits_per_synapse + core.synapse_group_header_bits`` (4 + 6 = 10) bits
    rounded up to whole ``core.synapse_word_bits`` (64-bit) words. With
    ``bits_per_synapse = weight + delay + tag (+ index)``:

    * weight: Lava ``num_weight_bits`` rounded up to nengo-loihi
      ``WEIGHT_BITS_MAP = [0, 1, 2, 3, 4, 5, 6, 8]`` (a 7-bit weight is stored
      in 8); plastic projections store the learnable weight field,
      ``learning.weight_learn_bits + 1`` = 9 bits signed (Davies 2018 Table 1);
    * delay: bits to hold ``delay - 1`` (delay 1 is Loihi's minimum and needs
      no field, nengo-loihi's default ``delay_bits = 0``), i.e.
      ``(max_delay - 1).bit_length()``;
    * tag: ``bits.tag_bits + 1`` (9 bits signed, Davies 2018 Table 1) for each
      synaptic tag (``d``, ``t``) the plasticity program updates or reads;
    * index (sparse projections only, nengo-loihi ``compression = 0``): the
      compartment index inside the block, ``ceil(log2(block size))`` bits
      rounded up to ``INDEX_BITS_MAP = [0, 6, 7, ..., 12]`` (nengo-loihi
      ``Synapse.idx_bits``), at most ``core.synapse_index_bits_max``. We use
      one width per population (one synapse format across its blocks), chosen
      for the fewest blocks (see ``_cut_population``); no block of it exceeds
      ``2**width`` neurons. Dense projections (nengo-loihi
      ``compression = 3``) store no index but store *every* entry: each of the
      ``n_pre`` axons holds one weight per neuron of the block, zeros included.
``input_axons``
    One axon per presynaptic neuron per projection with at least one synapse
    on the block (dense: every presynaptic neuron), times
    ``core.learning_input_axon_slots`` (2) for plastic projections
    (nengo-loihi ``Synapse.idxs_per_synapse``); ``core.input_axons``.
``output_axons``
    Per neuron, the number of distinct (projection, destination block) pairs
    its synapses reach: each projection's synapses on a core are reached
    through their own input axon, so a spike that must reach two axons (or two
    cores) needs two fan-out entries (nengo-loihi ``Axon``); ``core.output_axons``.
    This depends on how the *target* populations are cut, so populations are
    cut in reverse topological order of the population graph (targets first,
    exact); inside a cycle (recurrent projections) the cut is iterated with
    the costs of the previous cut until they fit (after 5 rounds with costs
    that never decrease, so blocks only get more numerous), and if that does
    not settle within 25 rounds violating blocks are split further until none
    is left (only cuts are added, so it terminates). When a population's own
    output axons bind, this can over-split (more blocks than needed).
``delay_slots``
    The dendritic accumulators hold ``core.compartments *
    bits.delay_slots_full_core`` (1024 x 8) slots: "at least 8 delay units with
    all compartments in use, up to 62 with fewer" (Davies 2018 p.92). A block
    uses ``size * D`` where ``D`` is the longest delay into its population;
    co-located blocks use ``(sum of sizes) * max D``. The linear trade-off is
    our reading of that sentence (an estimate).
``synapse formats``, threshold and compartment configurations
    At most ``core.max_synapse_cfgs`` distinct synapse formats (one per
    projection format present on the core), ``core.max_vth_cfgs`` thresholds
    and ``core.max_compartment_cfgs`` compartment configurations (nengo-loihi
    ``hardware/nxsdk_objects.py``) per core; a population uses one of each.

Algorithm
---------
Per population, all synapses into it are sorted once by postsynaptic neuron
(and ranked within their input axon), so the exact cost of any prefix
``[s, s + m)`` is a ``np.bincount`` + ``np.cumsum`` over the synapses of that
window: the marginal memory of a synapse is the growth of its axon's group
cost, the marginal input axon is 1 for the first synapse of an axon inside
the block. Blocks are cut greedily (each as long as every limit allows). All
resources are monotone in the block (a sub-range of a fitting range fits), so
the greedy cut uses the fewest blocks per population. The fewest blocks are
not always the fewest cores: when synaptic memory binds, a narrower index
width (smaller blocks, fewer bits per synapse) can pack several blocks to a
core, so narrower widths are tried and kept when the population's blocks
alone pack onto fewer cores (``_narrow_for_packing``). Blocks of different
populations that fit together (first-fit decreasing on the largest usage
fraction) then share a core.

Lower bound
-----------
``lower_bound_cores = max_r ceil(total_r / limit_r)`` over the additive
resources, with totals no valid partition can go below:

* compartments and delay slots: as used;
* first, an upper bound ``M`` on the size of *any* block of each population
  (its own limits only, index width 0; see ``_max_block_bound``). An axon
  whose targets cannot be covered by fewer than ``c`` runs of ``M``
  consecutive neurons (greedy interval cover, exact for 256 runs, then a gap
  count) lands in at least ``c`` blocks; dense projections in at least
  ``ceil(size / M)``;
* input axons: ``c`` per axon (x slots); output axons: ``c`` per (neuron,
  projection);
* input axons, tighter: the cover lets every axon choose its own best block
  alignment, but one cut of the population serves all its axons. Every valid
  partition cuts it into contiguous blocks of at most ``M`` neurons that each
  use at most ``core.input_axons`` slots, and its input-axon total is the sum
  over its blocks (a core's usage is the sum of its blocks'), so it is at
  least the *least* total over all such cuts, computed exactly by dynamic
  programming over block ends (``_FanIn.least_input_axons``; the slots of
  every window ``[s, s + m)``, ``m <= M``, in O(size x M),
  ``_FanIn.window_axons``). Relaxing the other limits only enlarges the set
  of cuts, so the minimum stays a lower bound. Computed only when the
  current cut's total could raise the bound;
* synapse bits: per axon, ``max(c, ceil(n / 64))`` group headers and ``n``
  synapses at the narrowest possible index width (6 bits, the smallest
  nonzero width; a one-neuron block stores none but then pays a whole word
  per synapse anyway), rounded up to a word, and at least one word per block.

It is loose where blocks are small and their index width matters (synapse
bits), or for output axons where random connectivity spreads each axon over
many blocks (the interval cover assumes the best alignment of blocks); see
``benchmarks/compile_scaling.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

import networkx as nx
import numpy as np

from ..errors import CompileError
from ..hw_profiles import HardwareProfile, load_profile
from .compiled import CompiledPopulation, CompiledProjection

try:  # C counting sort used by scipy's COO->CSR conversion (stable, O(n)).
    from scipy.sparse import _sparsetools as _st  # type: ignore[attr-defined]
except Exception:  # pragma: no cover - fallback to numpy
    _st = None

__all__ = [
    "ADDITIVE_RESOURCES",
    "INDEX_BITS_MAP",
    "WEIGHT_BITS_MAP",
    "Block",
    "Partition",
    "SynapseFormat",
    "axon_synapse_bits",
    "index_bits_for",
    "partition",
    "synapse_format",
]

#: Resources summed over the blocks of a core (and bounded per core).
ADDITIVE_RESOURCES: tuple[str, ...] = (
    "compartments",
    "synapse_bits",
    "input_axons",
    "output_axons",
    "delay_slots",
)

#: Stored weight widths (nengo-loihi@e564f66 ``block.py`` ``SynapseConfig.WEIGHT_BITS_MAP``).
WEIGHT_BITS_MAP: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 8)
#: Stored index widths (nengo-loihi ``SynapseConfig.INDEX_BITS_MAP``); above 12
#: (Loihi 2 profile: ``synapse_index_bits_max = 13``) widths grow one bit at a time.
INDEX_BITS_MAP: tuple[int, ...] = (0, 6, 7, 8, 9, 10, 11, 12)

# How often a strongly connected group of populations is re-cut with fresh
# output-axon costs before falling back to splitting violating blocks.
_MAX_FIXED_POINT_ROUNDS = 25
_PLAIN_ROUNDS = 5
# Resources a block of at most ``_cap`` neurons can still exceed.
_CHECKED = ("synapse_bits", "input_axons", "output_axons")
# Rounds of exact interval cover in the lower bound before the cheaper gap bound.
_COVER_ROUNDS = 256
# Largest (starts x window widths) table of the exact input-axon bound (float64 entries, a few such arrays);
# beyond it the bound keeps the interval cover.
_DP_MAX_CELLS = 30_000_000


# ---------------------------------------------------------------------------
# Synapse formats and the nengo-loihi memory formula
# ---------------------------------------------------------------------------


def _ceil_div(a: Any, b: int) -> Any:
    return -((-a) // b)


def _stored_weight_bits(num_weight_bits: int) -> int:
    """Weight field width: ``num_weight_bits`` rounded up to ``WEIGHT_BITS_MAP`` (bits)."""
    for width in WEIGHT_BITS_MAP:
        if width >= num_weight_bits:
            return width
    return int(num_weight_bits)  # wider than Loihi 1's map (custom profiles): stored as is


def index_bits_for(block_size: int) -> int:
    """Index width (bits) of sparse synapses in a block of ``block_size`` compartments.

    nengo-loihi ``Synapse.idx_bits``: ``ceil(log2(max_index + 1))`` rounded up
    to ``INDEX_BITS_MAP``; the largest index of a block of ``m`` is ``m - 1``.
    """
    needed = max(int(block_size) - 1, 0).bit_length()
    for width in INDEX_BITS_MAP:
        if width >= needed:
            return width
    return needed


def _block_cap_for_index_bits(width: int) -> int:
    """Largest block (compartments) whose indices fit ``width`` bits."""
    return 1 if width == 0 else 2**width


@dataclass(frozen=True)
class SynapseFormat:
    """How one projection's synapses are stored (one nengo-loihi ``SynapseConfig``).

    Parameters
    ----------
    projection : str
        Projection name.
    weight_bits, delay_bits, tag_bits : int
        Field widths per synapse, bits (index bits come from the target block).
    dense : bool
        Dense storage (no index field; every ``n_pre x block`` entry stored).
    axon_slots : int
        Input-axon slots per presynaptic neuron (2 when plastic).
    plastic : bool
        The projection has a plasticity program.
    key : str
        Identity of the format for counting distinct formats per core.
    """

    projection: str
    weight_bits: int
    delay_bits: int
    tag_bits: int
    dense: bool
    axon_slots: int
    plastic: bool
    key: str

    def bits_per_synapse(self, index_bits: int) -> int:
        """Bits of one synapse entry given the block's index width (bits)."""
        return self.weight_bits + self.delay_bits + self.tag_bits + (0 if self.dense else index_bits)


def synapse_format(proj: CompiledProjection, profile: HardwareProfile) -> SynapseFormat:
    """The storage format of ``proj`` on ``profile`` (see the module docstring)."""
    plastic = proj.plasticity is not None
    weight = _stored_weight_bits(int(proj.num_weight_bits))
    tags = 0
    program_key = ""
    if plastic:
        # Davies et al. 2018 Table 1: learnable weight 9 b signed, tag 9 b signed.
        weight = max(weight, profile.learning.weight_learn_bits + 1)
        rules = proj.plasticity.rules
        symbols = set().union(*(rule.symbols for rule in rules.values()))
        # tag d (Lava tag_2) and tag t (Lava tag_1): stored when updated or read
        n_tags = int("dd" in rules or "d" in symbols) + int("dt" in rules or "t" in symbols)
        tags = n_tags * (profile.bits.tag_bits + 1)
        program_key = json.dumps(proj.plasticity.to_dict(), sort_keys=True)
    delay = max(int(proj.max_delay) - 1, 0).bit_length()
    slots = profile.core.learning_input_axon_slots if plastic else 1
    key = json.dumps(
        [weight, int(proj.weight_exp), int(proj.sign_mode), delay, tags, bool(proj.dense), program_key]
    )
    return SynapseFormat(proj.name, weight, delay, tags, bool(proj.dense), slots, plastic, key)


def _group_cost(g: np.ndarray, bpw: np.ndarray | int, header: int, word: int) -> np.ndarray:
    """Bits of one synapse group of ``g`` synapses (0 when ``g == 0``)."""
    cost = word * _ceil_div(g * bpw + header, word)
    return np.where(g > 0, cost, 0)


def axon_synapse_bits(n: np.ndarray | int, bits_per_synapse: np.ndarray | int, profile: HardwareProfile) -> np.ndarray:
    """Synaptic memory of one input axon driving ``n`` synapses on a core, bits.

    Vectorised nengo-loihi ``SynapseConfig.bits_per_axon``: groups of at most
    ``synapse_group_size`` synapses, ``g * bits_per_synapse + header`` bits
    each, rounded up to whole ``synapse_word_bits`` words.
    """
    c = profile.core
    n = np.asarray(n, dtype=np.int64)
    full, rem = np.divmod(n, c.synapse_group_size)
    g_full = np.int64(c.synapse_group_size)
    return full * _group_cost(g_full, bits_per_synapse, c.synapse_group_header_bits, c.synapse_word_bits) + _group_cost(
        rem, bits_per_synapse, c.synapse_group_header_bits, c.synapse_word_bits
    )


def _axon_bits_lower_bound(n: np.ndarray, bpw: np.ndarray | int, profile: HardwareProfile) -> np.ndarray:
    """Fewest bits ``n`` synapses of one axon can take however they are split (bits)."""
    c = profile.core
    n = np.asarray(n, dtype=np.int64)
    raw = n * bpw + _ceil_div(n, c.synapse_group_size) * c.synapse_group_header_bits
    return np.where(n > 0, c.synapse_word_bits * _ceil_div(raw, c.synapse_word_bits), 0)


# ---------------------------------------------------------------------------
# Sorting helpers
# ---------------------------------------------------------------------------


def _index_dtype(n: int) -> type:
    return np.int32 if n < 2**31 - 1 else np.int64


def _stable_order(keys: np.ndarray, n_keys: int) -> np.ndarray:
    """Permutation sorting ``keys`` (ints in ``[0, n_keys)``) stably, O(n) counting sort."""
    n = keys.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if np.all(keys[1:] >= keys[:-1]):
        return np.arange(n, dtype=_index_dtype(n))
    if _st is not None:
        dt = _index_dtype(max(n, n_keys) + 1)
        indptr = np.empty(n_keys + 1, dtype=dt)
        cols = np.empty(n, dtype=dt)
        perm = np.empty(n, dtype=dt)
        _st.coo_tocsr(
            n_keys, 1, n, keys.astype(dt, copy=False), np.zeros(n, dtype=dt), np.arange(n, dtype=dt), indptr, cols, perm
        )
        return perm
    return np.argsort(keys, kind="stable")  # pragma: no cover


# ---------------------------------------------------------------------------
# Fan-in index of one target population
# ---------------------------------------------------------------------------


class _FanIn:
    """Every synapse into one population, sorted by postsynaptic neuron.

    ``key`` numbers the input axons: sparse projection ``j`` (local index)
    presynaptic neuron ``i`` is key ``key_offset[j] + i``. ``rank`` is a
    synapse's 1-based position among its axon's synapses (in postsynaptic
    order) and ``last`` the postsynaptic neuron of the axon's previous synapse
    (-1 if none), so inside a block starting at ``s`` a synapse opens a new
    input axon iff ``last < s`` and is that axon's ``rank - rank_first + 1``-th.
    """

    def __init__(self, name: str, size: int, incoming: list[tuple[int, CompiledProjection, SynapseFormat]]) -> None:
        self.name = name
        self.size = size
        self.dense = [(gi, p, f) for gi, p, f in incoming if f.dense]
        self.sparse = [(gi, p, f) for gi, p, f in incoming if not f.dense]
        self.formats = [f for _, _, f in incoming]
        self.max_delay = max([int(p.max_delay) for _, p, _ in incoming], default=1)
        ns = len(self.sparse)
        n_pre = np.array([p.n_pre for _, p, _ in self.sparse], dtype=np.int64)
        self.key_offset = np.concatenate([[0], np.cumsum(n_pre)]).astype(np.int64)
        self.n_keys = int(self.key_offset[-1])
        self.base_bpw = np.array([f.bits_per_synapse(0) for _, _, f in self.sparse], dtype=np.int64)
        self.slots = np.array([f.axon_slots for _, _, f in self.sparse], dtype=np.int64)
        nnz = np.array([p.nnz for _, p, _ in self.sparse], dtype=np.int64)
        total = int(nnz.sum())
        self.nnz = total
        it = _index_dtype(max(total, self.n_keys, size) + 2)
        if total:
            post = np.concatenate([p.post_idx for _, p, _ in self.sparse]).astype(it, copy=False)
            pid = np.repeat(np.arange(ns, dtype=np.int16 if ns < 2**15 else np.int32), nnz)
            key = np.concatenate([p.pre_idx + self.key_offset[j] for j, (_, p, _) in enumerate(self.sparse)]).astype(
                it, copy=False
            )
            order = _stable_order(post, size)
            post, key, pid = post[order], key[order], pid[order]
            del order
            order = _stable_order(key, self.n_keys)  # (key, post) order
            k2 = key[order]
            p2 = post[order]
            same = np.empty(total, dtype=bool)
            same[0] = False
            np.equal(k2[1:], k2[:-1], out=same[1:])
            idx = np.arange(total, dtype=it)
            start = np.maximum.accumulate(np.where(same, 0, idx))
            rank = np.empty(total, dtype=it)
            rank[order] = idx - start + 1
            del idx, start
            last = np.empty(total, dtype=it)
            lp = np.full(total, -1, dtype=it)
            lp[1:] = np.where(same[1:], p2[:-1], -1)
            last[order] = lp
            del lp, k2, p2, same
            self._kp_order: np.ndarray | None = order  # (key, post) order, reused once by cover_counts
            self.key_count = np.bincount(key, minlength=self.n_keys).astype(np.int64)
        else:
            post = np.zeros(0, dtype=it)
            key = np.zeros(0, dtype=it)
            pid = np.zeros(0, dtype=np.int16)
            rank = np.zeros(0, dtype=it)
            last = np.zeros(0, dtype=it)
            self.key_count = np.zeros(self.n_keys, dtype=np.int64)
            self._kp_order = None
        self.post, self.key, self.pid, self.rank, self.last = post, key, pid, rank, last
        self.ptr = np.searchsorted(post, np.arange(size + 1), side="left").astype(np.int64)
        self._scratch = np.zeros(max(self.n_keys, 1), dtype=np.int64)
        self._posts_by_proj: list[np.ndarray] | None = None
        self._tables: dict[int, np.ndarray] = {}
        self.has_duplicates = np.zeros(self.n_keys, dtype=bool)  # set by cover_counts
        self.uniform_slots = bool(len(self.slots) == 0 or np.all(self.slots == self.slots[0]))
        self.dense_slots = int(sum(p.n_pre * f.axon_slots for _, p, f in self.dense))
        self.n_formats = len({f.key for f in self.formats})

    # -- helpers used by the greedy cut and by the placement traffic model

    def posts_of_sparse(self, j: int) -> np.ndarray:
        """Sorted postsynaptic indices of sparse projection ``j`` (local index)."""
        if self._posts_by_proj is None:
            order = _stable_order(self.pid, len(self.sparse))  # stable: posts stay sorted
            bounds = np.searchsorted(self.pid[order], np.arange(len(self.sparse) + 1))
            posts = self.post[order]
            self._posts_by_proj = [posts[bounds[jj]:bounds[jj + 1]] for jj in range(len(self.sparse))]
        return self._posts_by_proj[j]

    def new_pairs(self, block_start_of: np.ndarray) -> np.ndarray:
        """Mask of synapses that open a new (axon, block) pair for the given cut."""
        if self.nnz == 0:
            return np.zeros(0, dtype=bool)
        return self.last < block_start_of[self.post]

    def marginal_table(self, index_bits: int, profile: HardwareProfile) -> np.ndarray:
        """Memory added by a synapse at position ``g`` (0-based) of its axon's group, bits.

        Shape ``(n_sparse, group_size)``, or ``(1, group_size)`` when every sparse
        projection has the same bits per synapse. Row ``j``, column ``g``:
        ``cost(g + 1) - cost(g)`` of a group (``cost(0) = 0``).
        """
        cached = self._tables.get(index_bits)
        if cached is not None:
            return cached
        c = profile.core
        bpw = (self.base_bpw + index_bits)[:, None]
        if np.all(bpw == bpw[:1]):
            bpw = bpw[:1]
        g = np.arange(1, c.synapse_group_size + 1, dtype=np.int64)[None, :]
        table = (_group_cost(g, bpw, c.synapse_group_header_bits, c.synapse_word_bits)
                 - _group_cost(g - 1, bpw, c.synapse_group_header_bits, c.synapse_word_bits)).astype(np.float64)
        self._tables[index_bits] = table
        return table

    def cover_counts(self, span: int) -> np.ndarray:
        """Per input axon: a lower bound on the number of blocks its targets fall in.

        Valid for any partition whose blocks have at most ``span`` neurons: it
        then needs at least this many copies of the axon (input axons, one
        synapse group each) and of its output-axon entries.
        """
        out = np.zeros(self.n_keys, dtype=np.int64)
        if self.nnz == 0:
            return out
        order = self._kp_order if self._kp_order is not None else _stable_order(self.key, self.n_keys)
        self._kp_order = None  # free it
        k = self.key[order].astype(np.int64)
        p = self.post[order].astype(np.int64)
        del order
        n = k.shape[0]
        starts = np.flatnonzero(np.concatenate([[True], k[1:] != k[:-1]]))
        ends = np.concatenate([starts[1:], [n]])
        # Greedy interval cover (optimal on a line): a run starts at the first
        # uncovered target and covers ``span`` neurons. Done for all axons at
        # once, one run per round, for at most ``_COVER_ROUNDS`` rounds ...
        big = np.int64(self.size + span + 1)
        comb = k * big + p
        # jump[i]: first synapse of the same axon at least ``span`` neurons after i
        # (sorted queries: one cache-friendly pass)
        jump = np.searchsorted(comb, comb + span, side="left")
        del comb
        keys, pos, end = k[starts], starts, ends
        for _ in range(_COVER_ROUNDS):
            if not pos.size:
                break
            out[keys] += 1
            nxt = jump[pos]
            alive = nxt < end
            keys, pos, end = keys[alive], nxt[alive], end[alive]
        if pos.size:
            # ... then the rest is bounded by its gaps: two targets >= span apart
            # never share a run, so a run starts at ``pos`` and after each such gap.
            far = np.zeros(n + 1, dtype=np.int64)
            far[1:n][(k[1:] == k[:-1]) & (np.diff(p) >= span)] = 1
            c = np.cumsum(far)
            out[keys] += 1 + c[end - 1] - c[pos]
        distinct = np.ones(n, dtype=bool)
        distinct[1:] = (k[1:] != k[:-1]) | (p[1:] != p[:-1])
        n_distinct = np.bincount(k[distinct], minlength=self.n_keys)
        self.has_duplicates = n_distinct < self.key_count  # same (axon, neuron) synapse more than once
        return np.maximum(out, _ceil_div(n_distinct, span))

    def window_axons(self, width: int) -> np.ndarray:
        """Input-axon slots of every window: ``out[s, m - 1]`` for the block ``[s, s + m)``, ``m <= width``.

        Exact (the same count as the greedy cut's): dense slots plus, per
        sparse axon with a synapse in the window, its slots. A synapse is the
        first of its axon in ``[s, s + m)`` iff its axon's previous synapse
        (at ``last``) lies before ``s``; so the window counts the slots of
        all its synapses, ``C[s + m] - C[s]``, minus ``R(s, m)``, those of
        the synapses whose previous synapse is in the window too (``s <=
        last``, ``post < s + m``; pairs ``gap = post - last < width`` apart).
        Grouping those by ``last = j``: ``R(s, m) = sum_{d=1..m} Q(s + m - d,
        d)`` with ``Q(j, d)`` the slots of pairs with ``last = j`` and ``gap <
        d``, a cumulative sum along the diagonal ``s + m`` (O(size x width)).
        ``inf`` past the end of the population.
        """
        n, w = self.size, max(int(width), 1)
        post = self.post.astype(np.int64)
        last = self.last.astype(np.int64)
        wts = (np.full(post.shape[0], float(self.slots[0]) if len(self.slots) else 1.0) if self.uniform_slots
               else self.slots[self.pid].astype(np.float64))
        csum = np.zeros(n + 1 + w, dtype=np.float64)
        csum[1:n + 1] = np.cumsum(np.bincount(post, weights=wts, minlength=n))
        csum[n + 1:] = np.inf
        win = np.lib.stride_tricks.sliding_window_view(csum, w + 1)[:n]
        out = win[:, 1:] - win[:, :1] + float(self.dense_slots)
        near = (last >= 0) & (post - last < w)
        gap = post[near] - last[near]
        q = np.bincount(last[near] * (w + 1) + gap + 1, weights=wts[near], minlength=n * (w + 1))
        q = np.cumsum(q.reshape(n, w + 1), axis=1)  # q[j, d] = Q(j, d)
        diag = np.zeros((n + w + 1, w + 1), dtype=np.float64)  # diag[e, d] = Q(e - d, d)
        for d in range(1, w + 1):
            diag[d:d + n, d] = q[:, d]
        np.cumsum(diag, axis=1, out=diag)
        for m in range(1, w + 1):
            out[:, m - 1] -= diag[m:m + n, m]
        return out

    def least_input_axons(self, span: int, limit: int, guess: int) -> float:
        """Least total input-axon slots of any cut into blocks of ``<= span`` neurons and ``<= limit`` slots each.

        Exact minimum over all such cuts (dynamic programming over block
        ends with :meth:`window_axons`), so a lower bound for every valid
        partition when ``span`` bounds every valid block. ``guess``: a
        window width to try first; it is doubled while some window of that
        width still fits (so the result never depends on it). ``inf`` when no
        such cut exists; ``nan`` (not computed) when the window table would
        exceed ``_DP_MAX_CELLS`` entries.
        """
        n = self.size
        if n == 0:
            return 0.0
        span = max(1, min(int(span), n))
        w = max(1, min(int(guess), span))
        while True:
            if (n + w + 1) * (w + 1) > _DP_MAX_CELLS:
                return float("nan")
            ax = self.window_axons(w)
            fits = ax <= limit
            # a window of w neurons fits somewhere (and a wider one is allowed): widen
            if w < span and np.any(fits[:, -1]):
                w = min(span, 2 * w)
                continue
            break
        ax = np.where(fits, ax, np.inf)
        best = np.full(n + 1 + w, np.inf)
        best[0] = 0.0
        for s in range(n):
            b = best[s]
            if b != np.inf:
                seg = best[s + 1:s + 1 + w]
                np.minimum(seg, ax[s] + b, out=seg)
        return float(best[n])

    def dense_bits(self, m: np.ndarray, index_bits: int, profile: HardwareProfile) -> np.ndarray:
        """Synaptic memory of dense projections in blocks of ``m`` neurons (bits)."""
        out = np.zeros(np.shape(m), dtype=np.int64)
        for _, p, f in self.dense:
            out = out + p.n_pre * axon_synapse_bits(m, f.bits_per_synapse(index_bits), profile)
        return out


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """Neurons ``[start, stop)`` of one population, and what they use of a core.

    Parameters
    ----------
    population : str
        Population name.
    start, stop : int
        Neuron range (``stop`` exclusive).
    core : int
        Logical core (blocks with the same ``core`` share one neuro-core;
        :func:`~yuragi.compiler.place.place` maps logical to physical cores).
    compartments : int
        Compartments (= neurons).
    synapse_bits : int
        Synaptic memory of the block's fan-in synapses, bits.
    input_axons : int
        Input-axon slots.
    output_axons : int
        Output-axon (fan-out) entries of the block's neurons.
    delay_slots : int
        Dendritic delay slots, ``compartments * longest incoming delay``.
    synapse_formats : int
        Distinct synapse formats of the block's fan-in.
    """

    population: str
    start: int
    stop: int
    core: int
    compartments: int
    synapse_bits: int
    input_axons: int
    output_axons: int
    delay_slots: int
    synapse_formats: int

    @property
    def size(self) -> int:
        """Neurons in the block."""
        return self.stop - self.start

    def usage(self) -> dict[str, int]:
        """Additive resources used, ``{resource: amount}``."""
        return {r: int(getattr(self, r)) for r in ADDITIVE_RESOURCES}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "population": self.population,
            "start": self.start,
            "stop": self.stop,
            "core": self.core,
            **self.usage(),
            "synapse_formats": self.synapse_formats,
        }


@dataclass(frozen=True, eq=False)
class Partition:
    """Result of :func:`partition`.

    Parameters
    ----------
    profile : str
        Hardware profile name.
    blocks : tuple of Block
        All blocks, by population (in the order given) then neuron range.
    lower_bound_cores : int
        ``max_r ceil(totals[r] / limits[r])``: no partition can use fewer cores.
    totals : Mapping[str, int]
        Per resource, the least total any partition needs (see module doc).
    limits : Mapping[str, int]
        Per-core limit of each additive resource.
    index_bits : Mapping[str, int]
        Index width (bits) of the sparse synapses into each population.
    population_sizes : Mapping[str, int]
        Size of every population, inputs included.
    inputs : tuple of str
        Spike-source populations (host-injected, no core).

    The partition also keeps (privately) the sorted fan-in index it built, so
    that :func:`~yuragi.compiler.place.place` need not rebuild it; it holds a
    few integers per synapse (see :meth:`without_index`).
    """

    profile: str
    blocks: tuple[Block, ...]
    lower_bound_cores: int
    totals: Mapping[str, int]
    limits: Mapping[str, int]
    index_bits: Mapping[str, int]
    population_sizes: Mapping[str, int]
    inputs: tuple[str, ...]
    _index: Any = field(default=None, repr=False, compare=False)

    @property
    def n_cores(self) -> int:
        """Logical cores used."""
        return len({b.core for b in self.blocks})

    @property
    def quality(self) -> float:
        """Cores used / lower bound (1.0 is optimal)."""
        return self.n_cores / self.lower_bound_cores if self.lower_bound_cores else 1.0

    def lower_bounds(self) -> dict[str, int]:
        """Cores needed by each resource alone, ``ceil(total / limit)``."""
        return {r: _ceil_div(int(self.totals[r]), int(self.limits[r])) for r in ADDITIVE_RESOURCES}

    def blocks_of(self, population: str) -> list[Block]:
        """Blocks of ``population`` in neuron order."""
        return sorted((b for b in self.blocks if b.population == population), key=lambda b: b.start)

    def core_usage(self) -> list[dict[str, int]]:
        """Summed usage of each logical core (index = core), with ``blocks`` count."""
        out: list[dict[str, int]] = [dict.fromkeys(ADDITIVE_RESOURCES, 0) | {"blocks": 0} for _ in range(self.n_cores)]
        maxd: dict[int, int] = {}
        cx: dict[int, int] = {}
        for b in self.blocks:
            u = out[b.core]
            for r in ADDITIVE_RESOURCES:
                if r != "delay_slots":
                    u[r] += int(getattr(b, r))
            u["blocks"] += 1
            maxd[b.core] = max(maxd.get(b.core, 0), b.delay_slots // max(b.compartments, 1))
            cx[b.core] = cx.get(b.core, 0) + b.compartments
        for core, u in enumerate(out):
            u["delay_slots"] = cx.get(core, 0) * maxd.get(core, 0)
        return out

    def usage_table(self) -> str:
        """Human-readable table: one row per block, then per-resource totals and bounds."""
        names = ("compartments", "synapse_bits", "input_axons", "output_axons", "delay_slots")
        short = ("cx", "syn bits", "in ax", "out ax", "delay")
        head = f"{'population':<16} {'neurons':>15} {'core':>5} " + " ".join(f"{s:>16}" for s in short)
        lines = [f"partition for {self.profile}: {len(self.blocks)} blocks on {self.n_cores} cores "
                 f"(lower bound {self.lower_bound_cores}, ratio {self.quality:.3f})", head, "-" * len(head)]
        for b in self.blocks:
            cells = []
            for r in names:
                v, lim = int(getattr(b, r)), int(self.limits[r])
                cells.append(f"{v:>9} {100.0 * v / lim:5.1f}%")
            lines.append(f"{b.population[:16]:<16} {f'[{b.start}, {b.stop})':>15} {b.core:>5} " + " ".join(cells))
        lines.append("-" * len(head))
        lb = self.lower_bounds()
        for r, s in zip(names, short):
            lines.append(
                f"{s:>9}: least total {int(self.totals[r]):>12} / per-core limit {int(self.limits[r]):>9}"
                f" -> >= {lb[r]} cores"
            )
        return "\n".join(lines)

    def without_index(self) -> "Partition":
        """This partition without the fan-in index kept for :func:`place` (frees its memory)."""
        return replace(self, _index=None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "profile": self.profile,
            "n_cores": self.n_cores,
            "lower_bound_cores": self.lower_bound_cores,
            "quality": self.quality,
            "totals": {k: int(v) for k, v in self.totals.items()},
            "limits": {k: int(v) for k, v in self.limits.items()},
            "lower_bounds": self.lower_bounds(),
            "index_bits": dict(self.index_bits),
            "inputs": list(self.inputs),
            "blocks": [b.to_dict() for b in self.blocks],
        }


# ---------------------------------------------------------------------------
# The pass
# ---------------------------------------------------------------------------


class _NoFit(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0])
        self.problems = problems


@dataclass
class _Cut:
    starts: np.ndarray  # int64, block starts (first = 0)
    stops: np.ndarray
    usage: list[dict[str, int]]
    fmt_sets: list[frozenset[str]]
    index_bits: int

    def block_start_of(self, size: int) -> np.ndarray:
        return np.repeat(self.starts, self.stops - self.starts)

    @property
    def n_blocks(self) -> int:
        return len(self.starts)


class _Partitioner:
    def __init__(self, populations: Sequence[CompiledPopulation], projections: Sequence[CompiledProjection],
                 profile: HardwareProfile, share_cores: bool = True) -> None:
        self.profile = profile
        self.share_cores = share_cores
        c = profile.core
        self.limits = {
            "compartments": c.compartments,
            "synapse_bits": c.synapse_memory_bits,
            "input_axons": c.input_axons,
            "output_axons": c.output_axons,
            "delay_slots": c.compartments * profile.bits.delay_slots_full_core,
        }
        self.pops = {p.name: p for p in populations}
        self.order = [p.name for p in populations]
        self.projs = list(projections)
        self.problems: list[str] = []
        self._check_structure()
        self.formats = [synapse_format(p, profile) for p in self.projs]
        self.onchip = [n for n in self.order if not self.pops[n].is_input]
        incoming: dict[str, list[tuple[int, CompiledProjection, SynapseFormat]]] = {n: [] for n in self.onchip}
        self.outgoing: dict[str, list[int]] = {n: [] for n in self.order}
        for gi, (p, f) in enumerate(zip(self.projs, self.formats)):
            incoming[p.post].append((gi, p, f))
            self.outgoing[p.pre].append(gi)
        self.fanin = {n: _FanIn(n, self.pops[n].size, incoming[n]) for n in self.onchip}
        # local sparse index of each global sparse projection in its target's fan-in
        self.local = {}
        for n, fi in self.fanin.items():
            for j, (gi, _, _) in enumerate(fi.sparse):
                self.local[gi] = j
        self.cuts: dict[str, _Cut] = {}
        self._key_count_cache: dict[tuple[str, int], np.ndarray] = {}

    # -- checks -------------------------------------------------------------

    def _check_structure(self) -> None:
        problems = []
        seen = set()
        for p in self.pops.values():
            if p.name in seen:
                problems.append(f"population '{p.name}': name used twice")
            seen.add(p.name)
        if len(self.pops) != len(self.order):
            problems.append("population names must be unique")
        names = set()
        for p in self.projs:
            if p.name in names:
                problems.append(f"projection '{p.name}': name used twice")
            names.add(p.name)
            for end, pop in (("pre", p.pre), ("post", p.post)):
                if pop not in self.pops:
                    problems.append(f"projection '{p.name}': {end} population '{pop}' does not exist")
            if p.post in self.pops and self.pops[p.post].is_input:
                problems.append(f"projection '{p.name}': targets spike source '{p.post}', which has no neurons on chip")
            if p.pre in self.pops and p.post in self.pops:
                if p.n_pre != self.pops[p.pre].size or p.n_post != self.pops[p.post].size:
                    problems.append(
                        f"projection '{p.name}': n_pre x n_post = {p.n_pre} x {p.n_post} does not match the sizes of"
                        f" '{p.pre}' ({self.pops[p.pre].size}) and '{p.post}' ({self.pops[p.post].size})"
                    )
                elif p.nnz and (
                    int(p.pre_idx.min()) < 0 or int(p.pre_idx.max()) >= p.n_pre
                    or int(p.post_idx.min()) < 0 or int(p.post_idx.max()) >= p.n_post
                ):
                    problems.append(f"projection '{p.name}': synapse indices out of range")
        if problems:
            raise CompileError(f"cannot partition: {problems[0]}", tuple(problems))

    # -- per-neuron output-axon costs ----------------------------------------

    def _new_counts(self, target: str) -> np.ndarray:
        """Per input-axon key of ``target``: distinct destination blocks (for its current cut)."""
        cut = self.cuts[target]
        ck = (target, id(cut))
        cached = self._key_count_cache.get(ck)
        if cached is not None:
            return cached
        fi = self.fanin[target]
        if fi.nnz:
            new = fi.new_pairs(cut.block_start_of(fi.size))
            counts = np.bincount(fi.key[new], minlength=fi.n_keys).astype(np.int64)
        else:
            counts = np.zeros(fi.n_keys, dtype=np.int64)
        self._key_count_cache = {k: v for k, v in self._key_count_cache.items() if k[0] != target}
        self._key_count_cache[ck] = counts
        return counts

    def out_costs(self, pop: str, per_projection: bool = False) -> np.ndarray | dict[str, np.ndarray]:
        """Output axons of each neuron of ``pop`` given the current cuts of its targets."""
        size = self.pops[pop].size
        total = np.zeros(size, dtype=np.int64)
        parts: dict[str, np.ndarray] = {}
        for gi in self.outgoing[pop]:
            p = self.projs[gi]
            if p.post not in self.cuts:
                continue
            cut = self.cuts[p.post]
            if self.formats[gi].dense:
                part = np.full(size, cut.n_blocks if p.n_post else 0, dtype=np.int64)
            else:
                fi = self.fanin[p.post]
                j = self.local[gi]
                part = self._new_counts(p.post)[fi.key_offset[j]: fi.key_offset[j + 1]]
            total += part
            if per_projection:
                parts[p.name] = part
        return parts if per_projection else total

    # -- greedy cut ---------------------------------------------------------

    def _cap(self, name: str) -> int:
        """Largest block of ``name`` allowed by compartments, delay slots and index width."""
        fi = self.fanin[name]
        cap = self.limits["compartments"]
        cap = min(cap, self.limits["delay_slots"] // max(fi.max_delay, 1))
        if fi.sparse:
            cap = min(cap, _block_cap_for_index_bits(self.profile.core.synapse_index_bits_max))
        return cap

    def _prefix(self, name: str, s: int, w: int, index_bits: int, out_cost: np.ndarray | None
                ) -> tuple[dict[str, np.ndarray], int]:
        """Usage of blocks ``[s, s + m)`` for ``m = 1..w``, and the formats bound on ``m``."""
        fi = self.fanin[name]
        prof = self.profile.core
        m = np.arange(1, w + 1, dtype=np.int64)
        syn = fi.dense_bits(m, index_bits, self.profile).astype(np.float64)
        ax = np.full(w, float(fi.dense_slots))
        a, b = int(fi.ptr[s]), int(fi.ptr[s + w])
        if b > a:
            rel = fi.post[a:b] - fi.post.dtype.type(s)
            first = fi.last[a:b] < s
            kw = fi.key[a:b]
            rk = fi.rank[a:b]
            scratch = fi._scratch
            scratch[kw[first]] = rk[first]
            # position of each synapse inside its axon's current group (0-based)
            pos = rk - scratch[kw]
            gs = prof.synapse_group_size
            if gs & (gs - 1) == 0:
                pos &= gs - 1
            else:
                pos %= gs
            table = fi.marginal_table(index_bits, self.profile)
            marg = table[0][pos] if table.shape[0] == 1 else table[fi.pid[a:b], pos]
            syn += np.cumsum(np.bincount(rel, weights=marg, minlength=w))
            if fi.uniform_slots:
                ax += fi.slots[0] * np.cumsum(np.bincount(rel[first], minlength=w))
            else:
                ax += np.cumsum(np.bincount(rel[first], weights=fi.slots[fi.pid[a:b][first]], minlength=w))
        out = np.cumsum(out_cost[s:s + w]) if out_cost is not None else np.zeros(w, dtype=np.int64)
        prefix = {
            "compartments": m,
            "synapse_bits": syn,
            "input_axons": ax,
            "output_axons": out,
            "delay_slots": m * max(fi.max_delay, 1),
        }
        fmt_bound = w
        if fi.n_formats > prof.max_synapse_cfgs:
            fmt_bound = self._format_bound(fi, s, w)
        return prefix, fmt_bound

    def _formats_present(self, fi: _FanIn, s: int, w: int) -> dict[str, int]:
        """For each format, the first block-relative neuron (< w) that needs it."""
        first: dict[str, int] = {}
        for _, _, f in fi.dense:
            first[f.key] = 0
        for j, (_, _, f) in enumerate(fi.sparse):
            posts = fi.posts_of_sparse(j)
            i = int(np.searchsorted(posts, posts.dtype.type(s)))  # same dtype: no copy
            if i < posts.shape[0] and posts[i] < s + w:
                rel = int(posts[i]) - s
                first[f.key] = min(first.get(f.key, rel), rel)
        return first

    def _format_bound(self, fi: _FanIn, s: int, w: int) -> int:
        firsts = sorted(self._formats_present(fi, s, w).values())
        limit = self.profile.core.max_synapse_cfgs
        return w if len(firsts) <= limit else firsts[limit]

    def _block_formats(self, fi: _FanIn, s: int, m: int) -> frozenset[str]:
        return frozenset(self._formats_present(fi, s, m))

    def _fit(self, name: str, s: int, room: int, index_bits: int, out_cost: np.ndarray | None, guess: int
             ) -> tuple[int, dict[str, np.ndarray], int]:
        """Longest block ``[s, s + m)``, ``m <= room``, within every limit; with its prefix usage."""
        limits = self.limits
        w = min(room, max(guess, 1))
        while True:
            prefix, fmt_bound = self._prefix(name, s, w, index_bits, out_cost)
            m = min(fmt_bound, w)
            for r in _CHECKED:  # compartments and delay slots are within the cap
                arr = prefix[r]
                if arr[-1] > limits[r]:
                    m = min(m, int(np.searchsorted(arr, limits[r], side="right")))
            if m < w or w == room:
                return m, prefix, fmt_bound
            w = min(room, 2 * w)

    def _cut_range(self, name: str, a: int, b: int, index_bits: int, cap: int,
                   out_cost: np.ndarray | None) -> tuple[list[tuple[int, int]], list[dict[str, int]]]:
        """Greedy cut of neurons ``[a, b)`` into maximal fitting blocks."""
        ranges: list[tuple[int, int]] = []
        usages: list[dict[str, int]] = []
        s = a
        guess = min(cap, 256)
        while s < b:
            m, prefix, fmt_bound = self._fit(name, s, min(cap, b - s), index_bits, out_cost, guess)
            if m == 0:
                raise _NoFit(self._explain(name, s, index_bits, out_cost, prefix, fmt_bound))
            ranges.append((s, s + m))
            usages.append({r: int(arr[m - 1]) for r, arr in prefix.items()})
            s += m
            guess = m + m // 4 + 8
        return ranges, usages

    def _cut_population(self, name: str, out_cost: np.ndarray | None) -> _Cut:
        """Greedy cut of a whole population at the best sparse index width.

        The width starts at the one the first block needs at the widest width
        (a probe), narrows while the largest block allows, and is widened by one
        when blocks hit the width's size cap (kept only if that saves blocks).
        """
        fi = self.fanin[name]
        size = fi.size
        cap0 = self._cap(name)
        if cap0 < 1:
            raise _NoFit([self._delay_problem(name)])
        if not fi.sparse or size == 0:
            ranges, usages = self._cut_range(name, 0, size, 0, cap0, out_cost)
            return self._make_cut(name, ranges, usages, 0)
        widest = index_bits_for(min(size, cap0))
        m0, _, _ = self._fit(name, 0, min(size, cap0), widest, out_cost, 256)
        width = index_bits_for(max(m0, 1))
        tried: dict[int, tuple[list, list]] = {}

        def cut_at(w: int) -> tuple[list, list]:
            if w not in tried:
                tried[w] = self._cut_range(name, 0, size, w, min(cap0, _block_cap_for_index_bits(w)), out_cost)
            return tried[w]

        while True:
            ranges, _ = cut_at(width)
            longest = max(b - a for a, b in ranges)
            if longest >= _block_cap_for_index_bits(width) and width < widest:
                wider = index_bits_for(_block_cap_for_index_bits(width) + 1)
                if len(cut_at(wider)[0]) < len(ranges):
                    width = wider
                    continue
                break
            narrower = index_bits_for(longest)
            if narrower >= width:
                break
            width = narrower
        width = self._narrow_for_packing(name, width, cut_at)
        ranges, usages = tried[width]
        return self._make_cut(name, ranges, usages, width)

    def _narrow_for_packing(self, name: str, width: int, cut_at: Any) -> int:
        """A narrower index width if its (more, smaller) blocks pack onto fewer cores.

        The fewest blocks are not always the fewest cores: when synaptic
        memory binds, each narrower width saves a bit per synapse, and blocks
        of at most ``2**width`` neurons that leave compartments free pack
        several to a core (e.g. 64-neuron blocks at 6 bits, 16 per core,
        instead of ~870-neuron blocks at 10 bits that each fill a core's
        memory). Tried only when synaptic memory is the population's binding
        resource; kept only when the population's blocks alone pack onto
        strictly fewer cores (first-fit decreasing, :meth:`_pack_count`).
        Every cut is still checked against every limit, and the blocks are
        packed with all others afterwards.
        """
        _, usages = cut_at(width)
        lim = {r: float(self.limits[r]) for r in ADDITIVE_RESOURCES}
        frac = {r: sum(u[r] for u in usages) / lim[r] for r in ADDITIVE_RESOURCES}
        if width <= INDEX_BITS_MAP[1] or max(frac, key=frac.get) != "synapse_bits":
            return width
        best, best_cores = width, self._pack_count(usages)
        for w in INDEX_BITS_MAP[1:]:
            if w >= width:
                break
            try:
                r, u = cut_at(w)
            except _NoFit:
                continue
            n = self._pack_count(u)
            if n < best_cores and self._fanout_fits(name, r):
                best, best_cores = w, n
        return best

    def _fanout_fits(self, name: str, ranges: list[tuple[int, int]]) -> bool:
        """Would every on-chip presynaptic neuron still fit its output axons with ``name`` cut at ``ranges``?

        Smaller blocks mean more destination blocks per presynaptic neuron;
        a narrower width is not worth a neuron that no longer fits a core.
        """
        fi = self.fanin[name]
        lim = self.limits["output_axons"]
        starts = np.repeat(np.array([a for a, _ in ranges], dtype=np.int64),
                           np.array([b - a for a, b in ranges], dtype=np.int64))
        counts = (np.bincount(fi.key[fi.new_pairs(starts)], minlength=fi.n_keys).astype(np.int64) if fi.nnz
                  else np.zeros(fi.n_keys, dtype=np.int64))
        into = {gi for gi, _, _ in fi.sparse + fi.dense}
        for src in {self.projs[gi].pre for gi in into}:
            if src not in self.fanin:
                continue  # spike sources have no output-axon limit here
            parts = self.out_costs(src, per_projection=True)
            total = np.zeros(self.pops[src].size, dtype=np.int64)
            for gi in self.outgoing[src]:
                p = self.projs[gi]
                if gi in into:
                    if self.formats[gi].dense:
                        total += len(ranges) if p.n_post else 0
                    else:
                        j = self.local[gi]
                        total += counts[fi.key_offset[j]: fi.key_offset[j + 1]]
                elif p.name in parts:
                    total += parts[p.name]
            if total.size and int(total.max()) > lim:
                return False
        return True

    def _pack_count(self, usages: list[dict[str, int]]) -> int:
        """Cores that first-fit decreasing packs these blocks (of one population) onto, additive limits only."""
        lim = np.array([self.limits[r] for r in ADDITIVE_RESOURCES], dtype=np.float64)
        use = np.array([[u[r] for r in ADDITIVE_RESOURCES] for u in usages], dtype=np.float64).reshape(-1, lim.size)
        order = np.lexsort((np.arange(use.shape[0]), -(use / lim).max(axis=1)))
        bins = np.zeros_like(use)
        nb = 0
        for i in order.tolist():
            fits = np.flatnonzero(np.all(bins[:nb] + use[i] <= lim, axis=1))
            k = int(fits[0]) if fits.size else nb
            nb = max(nb, k + 1)
            bins[k] += use[i]
        return nb

    def _make_cut(self, name: str, ranges: list[tuple[int, int]], usages: list[dict[str, int]], width: int) -> _Cut:
        fi = self.fanin[name]
        starts = np.array([a for a, _ in ranges], dtype=np.int64)
        stops = np.array([b for _, b in ranges], dtype=np.int64)
        fmts = [self._block_formats(fi, a, b - a) for a, b in ranges]
        return _Cut(starts, stops, usages, fmts, width)

    # -- explanations -------------------------------------------------------

    def _delay_problem(self, name: str) -> str:
        fi = self.fanin[name]
        worst = max(fi.sparse + fi.dense, key=lambda t: t[1].max_delay)[1]
        return (
            f"population '{name}': resource delay_slots: projection '{worst.name}' has delays up to"
            f" {fi.max_delay} steps, so one neuron needs {fi.max_delay} dendritic delay slots but a core has"
            f" {self.limits['delay_slots']} ({self.profile.name}: core.compartments x bits.delay_slots_full_core)"
            f" -> use shorter delays (at most {self.profile.bits.max_delay} steps)"
        )

    def _explain(self, name: str, s: int, index_bits: int, out_cost: np.ndarray | None,
                 prefix: dict[str, np.ndarray], fmt_bound: int) -> list[str]:
        """Why neuron ``s`` of ``name`` does not fit a core on its own: one line per resource."""
        fi = self.fanin[name]
        prof = self.profile
        lim = self.limits
        problems: list[str] = []
        a, b = int(fi.ptr[s]), int(fi.ptr[s + 1])
        pid = fi.pid[a:b]
        used = {r: int(arr[0]) for r, arr in prefix.items()}
        if used["synapse_bits"] > lim["synapse_bits"]:
            parts = []
            for _, p, f in fi.dense:
                bits = p.n_pre * int(axon_synapse_bits(1, f.bits_per_synapse(index_bits), prof))
                parts.append((bits, p.name, f"dense {p.n_pre} presynaptic neurons x one "
                              f"{prof.core.synapse_word_bits}-bit word each"))
            for j, (_, p, f) in enumerate(fi.sparse):
                k = int(np.count_nonzero(pid == j))
                if k:
                    bits = k * int(axon_synapse_bits(1, f.bits_per_synapse(index_bits), prof))
                    parts.append((bits, p.name, f"{k} synapses x {f.bits_per_synapse(index_bits)} bits, one "
                                  f"{prof.core.synapse_word_bits}-bit group each"))
            parts.sort(reverse=True)
            detail = "; ".join(f"projection '{n}': {bits} bits ({why})" for bits, n, why in parts)
            top = parts[0][1] if parts else "?"
            problems.append(
                f"population '{name}' neuron {s}: resource synapse_bits: its fan-in needs {used['synapse_bits']} bits"
                f" of synaptic memory, more than the core limit of {lim['synapse_bits']} bits ({prof.name}:"
                f" core.synapse_memory_bits) [{detail}] -> give projection '{top}' fewer weight bits,"
                f" make it sparser (sparse storage), or split it over several target neurons"
            )
        if used["input_axons"] > lim["input_axons"]:
            parts = [(p.n_pre * f.axon_slots, p.name) for _, p, f in fi.dense]
            for j, (_, p, f) in enumerate(fi.sparse):
                k = int(np.count_nonzero(pid == j))
                if k:
                    parts.append((k * f.axon_slots, p.name))
            parts.sort(reverse=True)
            detail = "; ".join(f"projection '{n}': {k}" for k, n in parts)
            problems.append(
                f"population '{name}' neuron {s}: resource input_axons: it receives from {used['input_axons']}"
                f" input-axon slots, more than the core limit of {lim['input_axons']} ({prof.name}: core.input_axons;"
                f" plastic projections take {prof.core.learning_input_axon_slots} slots per presynaptic neuron)"
                f" [{detail}] -> reduce the fan-in of projection '{parts[0][1] if parts else '?'}'"
                f" (fewer presynaptic neurons), or split it"
            )
        if out_cost is not None and used["output_axons"] > lim["output_axons"]:
            per = self.out_costs(name, per_projection=True)
            parts = sorted(((int(v[s]), k) for k, v in per.items() if v[s]), reverse=True)
            detail = "; ".join(f"projection '{n}': {k} destination blocks" for k, n in parts)
            problems.append(
                f"population '{name}' neuron {s}: resource output_axons: its spikes go to {used['output_axons']}"
                f" (projection, core) destinations, more than the core limit of {lim['output_axons']}"
                f" ({prof.name}: core.output_axons) [{detail}] -> reduce the fan-out of projection"
                f" '{parts[0][1] if parts else '?'}' or make its targets fit fewer cores"
            )
        if fmt_bound == 0:
            names = sorted({p.name for _, p, _ in fi.dense + fi.sparse})
            problems.append(
                f"population '{name}' neuron {s}: resource synapse_formats: its fan-in needs more than"
                f" {prof.core.max_synapse_cfgs} distinct synapse formats ({prof.name}: core.max_synapse_cfgs) from"
                f" projections {', '.join(repr(n) for n in names)} -> give these projections the same weight bits,"
                f" exponent, sign mode and delays, or merge them"
            )
        if not problems:  # pragma: no cover - defensive
            problems.append(f"population '{name}' neuron {s}: does not fit one core ({used})")
        return problems

    # -- driver -------------------------------------------------------------

    def _bad_out_blocks(self, name: str) -> list[int]:
        """Indices of blocks of ``name`` whose output axons exceed the limit, with current costs."""
        cut = self.cuts[name]
        if not self.outgoing[name]:
            return []
        cost = self.out_costs(name)
        csum = np.concatenate([[0], np.cumsum(cost)])
        per_block = csum[cut.stops] - csum[cut.starts]
        return [int(i) for i in np.flatnonzero(per_block > self.limits["output_axons"])]

    def _refresh_out_usage(self, name: str) -> None:
        cut = self.cuts[name]
        cost = self.out_costs(name) if self.outgoing[name] else np.zeros(self.pops[name].size, dtype=np.int64)
        csum = np.concatenate([[0], np.cumsum(cost)])
        per_block = csum[cut.stops] - csum[cut.starts]
        for u, v in zip(cut.usage, per_block):
            u["output_axons"] = int(v)

    def _has_onchip_out(self, name: str) -> bool:
        return any(self.projs[gi].post in self.fanin for gi in self.outgoing[name])

    def run(self) -> Partition:
        graph = nx.DiGraph()
        graph.add_nodes_from(self.onchip)
        for p in self.projs:
            if p.pre in self.fanin and p.post in self.fanin:
                graph.add_edge(p.pre, p.post)
        cond = nx.condensation(graph)
        failed: set[str] = set()
        for comp in reversed(list(nx.topological_sort(cond))):
            members = [n for n in self.onchip if n in cond.nodes[comp]["members"]]
            cyclic = len(members) > 1 or graph.has_edge(members[0], members[0])
            floors: dict[str, np.ndarray] | None = {} if cyclic else None
            for name in members:
                self._try_cut(name, failed, floors)
            if not cyclic:
                continue
            # Fixed point: re-cut with the output-axon costs of the current cuts until
            # they fit every block; after a few rounds use costs that never decrease
            # (elementwise max of all costs seen), so blocks only get more numerous.
            for round_ in range(_MAX_FIXED_POINT_ROUNDS):
                bad = [n for n in members if n not in failed and self._bad_out_blocks(n)]
                if not bad:
                    break
                for name in members:
                    if name not in failed:
                        # the first rounds use the plain costs (often a fixed point at once); then the
                        # non-decreasing ones, which cannot oscillate
                        self._try_cut(name, failed, floors if round_ >= _PLAIN_ROUNDS else None)
            else:
                self._refine(members, failed)
        if self.problems:
            raise CompileError(
                f"cannot partition for {self.profile.name} ({len(failed)} population(s) do not fit):"
                f" {self.problems[0]}",
                tuple(self.problems),
            )
        for name in self.onchip:
            self._refresh_out_usage(name)
        return self._finish()

    def _try_cut(self, name: str, failed: set[str], floors: dict[str, np.ndarray] | None = None) -> None:
        try:
            cost = self.out_costs(name) if self._has_onchip_out(name) else None
            if cost is not None and floors is not None:
                if name in floors:
                    cost = np.maximum(cost, floors[name])
                floors[name] = cost
            self.cuts[name] = self._cut_population(name, cost)
        except _NoFit as exc:
            failed.add(name)
            self.problems.extend(exc.problems)
            # keep one whole-population block so that its sources can still be checked
            size = self.pops[name].size
            self.cuts[name] = _Cut(np.zeros(1, dtype=np.int64), np.full(1, size, dtype=np.int64),
                                   [dict.fromkeys(ADDITIVE_RESOURCES, 0)], [frozenset()], 0)

    def _refine(self, members: list[str], failed: set[str]) -> None:
        """Split blocks that exceed the output-axon limit until none does (cuts only added)."""
        while True:
            changed = False
            for name in members:
                if name in failed:
                    continue
                bad = self._bad_out_blocks(name)
                if not bad:
                    continue
                cut = self.cuts[name]
                cost = self.out_costs(name)
                cap = min(self._cap(name), _block_cap_for_index_bits(cut.index_bits)) if self.fanin[name].sparse \
                    else self._cap(name)
                ranges, usages = [], []
                for i, (a, b) in enumerate(zip(cut.starts.tolist(), cut.stops.tolist())):
                    if i in bad:
                        try:
                            r, u = self._cut_range(name, a, b, cut.index_bits, cap, cost)
                        except _NoFit as exc:
                            failed.add(name)
                            self.problems.extend(exc.problems)
                            break
                        ranges += r
                        usages += u
                    else:
                        ranges.append((a, b))
                        usages.append(cut.usage[i])
                else:
                    self.cuts[name] = self._make_cut(name, ranges, usages, cut.index_bits)
                    changed = True
            if not changed:
                return

    # -- packing and lower bound ---------------------------------------------

    def _finish(self) -> Partition:
        entries = []  # (pop, start, stop, usage, fmts)
        for name in self.onchip:
            cut = self.cuts[name]
            for (a, b, u, f) in zip(cut.starts.tolist(), cut.stops.tolist(), cut.usage, cut.fmt_sets):
                entries.append((name, a, b, u, f))
        cores = self._pack(entries)
        blocks = tuple(
            Block(name, a, b, core, u["compartments"], u["synapse_bits"], u["input_axons"], u["output_axons"],
                  u["delay_slots"], len(f))
            for (name, a, b, u, f), core in zip(entries, cores)
        )
        totals = self._totals()
        lb = max([_ceil_div(totals[r], self.limits[r]) for r in ADDITIVE_RESOURCES] + [0])
        return Partition(
            profile=self.profile.name,
            blocks=blocks,
            lower_bound_cores=int(lb),
            totals=MappingProxyType(totals),
            limits=MappingProxyType(dict(self.limits)),
            index_bits=MappingProxyType({n: int(self.cuts[n].index_bits) for n in self.onchip}),
            population_sizes=MappingProxyType({n: int(self.pops[n].size) for n in self.order}),
            inputs=tuple(n for n in self.order if self.pops[n].is_input),
            _index=_Index(self.fanin, self.local, self.projs, self.formats),
        )

    def _pack(self, entries: list) -> list[int]:
        """First-fit decreasing of blocks onto logical cores; cores numbered by first block."""
        n = len(entries)
        if n == 0:
            return []
        res = ("compartments", "synapse_bits", "input_axons", "output_axons")
        lim = np.array([self.limits[r] for r in res], dtype=np.float64)
        use = np.array([[e[3][r] for r in res] for e in entries], dtype=np.float64)
        frac = use / lim
        order = np.lexsort((np.arange(n), -frac.max(axis=1)))
        bins_use = np.zeros((n, len(res)), dtype=np.float64)
        prof = self.profile.core
        dslots = self.limits["delay_slots"]
        bin_cx_d: list[list[int]] = []  # [compartments, max delay]
        bin_sets: list[tuple[set, set, set]] = []  # formats, vth cfgs, compartment cfgs
        assign = np.empty(n, dtype=np.int64)
        nb = 0
        for i in order.tolist():
            name, a, b, u, fmts = entries[i]
            pop = self.pops[name]
            d = max(self.fanin[name].max_delay, 1)
            vth = (pop.vth,)
            cxcfg = (pop.kind, pop.du, pop.dv, pop.refractory)
            target = -1
            if nb and self.share_cores:
                fits = np.flatnonzero(np.all(bins_use[:nb] + use[i] <= lim, axis=1))
                for k in fits.tolist():
                    cx, md = bin_cx_d[k]
                    fs, vs, cs = bin_sets[k]
                    if (cx + (b - a)) * max(md, d) > dslots:
                        continue
                    if len(fs | fmts) > prof.max_synapse_cfgs or len(vs | {vth}) > prof.max_vth_cfgs:
                        continue
                    if len(cs | {cxcfg}) > prof.max_compartment_cfgs:
                        continue
                    target = k
                    break
            if target < 0:
                target = nb
                nb += 1
                bin_cx_d.append([0, 0])
                bin_sets.append((set(), set(), set()))
            bins_use[target] += use[i]
            bin_cx_d[target][0] += b - a
            bin_cx_d[target][1] = max(bin_cx_d[target][1], d)
            fs, vs, cs = bin_sets[target]
            fs |= fmts
            vs.add(vth)
            cs.add(cxcfg)
            assign[i] = target
        # renumber cores by their first block (population order, then neuron order)
        renum: dict[int, int] = {}
        for k in assign.tolist():
            if k not in renum:
                renum[k] = len(renum)
        return [renum[k] for k in assign.tolist()]

    def _max_block_bound(self, name: str) -> int:
        """An upper bound on the size of any block of ``name`` in any valid partition.

        Only the population's own limits count (compartments, delay slots,
        index range, and its fan-in at the cheapest index width 0; output axons
        depend on other cuts and are left out), so the bound holds for every
        partition. The end ``e(t)`` of the longest fitting block starting at
        ``t`` is non-decreasing in ``t`` (a sub-range of a fitting range
        fits), so with ``e`` known at points ``t_0 < t_1 < ...`` (the relaxed
        greedy starts and the middle of each greedy block) any block starting
        in ``(t_j, t_j+1]`` has at most ``e(t_j+1) - t_j - 1`` neurons.
        """
        fi = self.fanin[name]
        cap0 = self._cap(name)
        size = fi.size
        if size == 0:
            return 1
        cut = self.cuts[name]
        sizes = (cut.stops - cut.starts).tolist()
        if len(sizes) <= 1 or all(s >= min(cap0, size) for s in sizes[:-1]):
            return max(1, min(cap0, size))
        ranges, _ = self._cut_range(name, 0, size, 0, cap0, None)
        points: list[tuple[int, int]] = []
        for a, b in ranges:
            points.append((a, b))
            mid = (a + b) // 2
            if b - a >= 4:
                m, _, _ = self._fit(name, mid, min(cap0, size - mid), 0, None, b - a + 8)
                points.append((mid, mid + m))
        bound = 1
        for j, (t, e) in enumerate(points):
            bound = max(bound, e - t)
            if j + 1 < len(points):
                bound = max(bound, points[j + 1][1] - t - 1)
        return max(1, min(cap0, bound))

    def _totals(self) -> dict[str, int]:
        """Least per-resource totals of any valid partition (see the module docstring)."""
        prof = self.profile
        word, header, gsize = prof.core.synapse_word_bits, prof.core.synapse_group_header_bits, prof.core.synapse_group_size
        t = dict.fromkeys(ADDITIVE_RESOURCES, 0)
        covers: dict[str, np.ndarray] = {}
        min_blocks: dict[str, int] = {}
        spans: dict[str, int] = {}
        axons: dict[str, int] = {}  # input-axon slots, per population

        def least_bits(n: np.ndarray, c: np.ndarray, bpw: int) -> np.ndarray:
            # n synapses of one axon in at least c blocks: at least max(c, ceil(n/G)) group headers,
            # the whole rounded up to a word; and at least one group (>= 1 synapse) per block.
            n = np.asarray(n, dtype=np.int64)
            c = np.asarray(c, dtype=np.int64)
            groups = np.maximum(c, _ceil_div(n, gsize))
            raw = word * _ceil_div(n * bpw + groups * header, word)
            per_block = c * word * _ceil_div(np.asarray(bpw) + header, word)
            return np.where(n > 0, np.maximum(raw, per_block), 0)

        for name in self.onchip:
            fi = self.fanin[name]
            size = fi.size
            span = self._max_block_bound(name)
            spans[name] = span
            axons[name] = 0
            kmin = _ceil_div(size, span) if size else 0
            min_blocks[name] = kmin
            t["compartments"] += size
            t["delay_slots"] += size * max(fi.max_delay, 1)
            for _, p, f in fi.dense:
                bpw = f.bits_per_synapse(0)
                t["synapse_bits"] += p.n_pre * int(least_bits(np.int64(size), np.int64(kmin), bpw))
                axons[name] += p.n_pre * kmin * f.axon_slots
            if fi.sparse:
                cov = fi.cover_counts(span)
                covers[name] = cov
                # Index bits: a block of >= 2 neurons stores >= INDEX_BITS_MAP[1] = 6 (nengo-loihi); a
                # one-neuron block stores none, but then each axon's (single) synapse takes a whole word,
                # which 6 more bits do not change (bits per synapse + 6 + header <= 64) -- unless an axon
                # has several synapses onto one neuron (duplicates): those keep width 0.
                width = INDEX_BITS_MAP[1] if span >= 2 else 0
                for j, (_, p, f) in enumerate(fi.sparse):
                    lo, hi = fi.key_offset[j], fi.key_offset[j + 1]
                    bpw = f.bits_per_synapse(width)
                    if bpw + prof.core.synapse_group_header_bits > word:
                        bpw = f.bits_per_synapse(0)
                    bpw_keys = np.where(fi.has_duplicates[lo:hi], f.bits_per_synapse(0), bpw)
                    t["synapse_bits"] += int(least_bits(fi.key_count[lo:hi], cov[lo:hi], bpw_keys).sum())
                    axons[name] += int(cov[lo:hi].sum()) * f.axon_slots
        for gi, p in enumerate(self.projs):
            if self.pops[p.pre].is_input:
                continue
            if self.formats[gi].dense:
                t["output_axons"] += p.n_pre * min_blocks[p.post]
            else:
                fi = self.fanin[p.post]
                j = self.local[gi]
                t["output_axons"] += int(covers[p.post][fi.key_offset[j]: fi.key_offset[j + 1]].sum())
        self._tighten_input_axons(axons, spans, t)
        t["input_axons"] = sum(axons.values())
        return {k: int(v) for k, v in t.items()}

    def _tighten_input_axons(self, axons: dict[str, int], spans: dict[str, int], t: dict[str, int]) -> None:
        """Raise each population's input-axon total to the least over all its cuts (exact, by DP).

        The interval cover lets every axon pick its own best block alignment;
        but one cut serves all axons at once. Any valid partition cuts the
        population into blocks of at most ``span`` neurons (``_max_block_bound``)
        that each use at most ``core.input_axons`` slots, so its total is at
        least the least total over all such cuts, which
        :meth:`_FanIn.least_input_axons` computes exactly (cores are summed
        per block, so blocks sharing a core do not change the total). Only
        done when it can raise the bound: the current cut is one such cut,
        so its total is an upper end of the least one; skipped (cover bound
        kept) for a population whose window table would be too large.
        """
        lim = self.limits["input_axons"]
        used = {n: sum(int(u["input_axons"]) for u in self.cuts[n].usage) for n in self.onchip}
        others = max([_ceil_div(int(t[r]), self.limits[r]) for r in ADDITIVE_RESOURCES if r != "input_axons"] + [0])
        current = max(others, _ceil_div(sum(axons.values()), lim))
        if _ceil_div(sum(max(used[n], axons[n]) for n in self.onchip), lim) <= current:
            return
        for name in self.onchip:
            fi = self.fanin[name]
            if not fi.nnz or used[name] <= axons[name]:
                continue
            cut = self.cuts[name]
            longest = int((cut.stops - cut.starts).max()) if cut.n_blocks else 1
            least = fi.least_input_axons(spans[name], lim, longest + longest // 4 + 8)
            if np.isfinite(least):
                axons[name] = max(axons[name], int(round(least)))


@dataclass
class _Index:
    """Fan-in indexes kept with a :class:`Partition` so placement need not rebuild them."""

    fanin: dict[str, _FanIn]
    local: dict[int, int]
    projections: list[CompiledProjection]
    formats: list[SynapseFormat]


def partition(
    populations: Sequence[CompiledPopulation] | Iterable[CompiledPopulation],
    projections: Sequence[CompiledProjection] | Iterable[CompiledProjection],
    profile: HardwareProfile | str,
    *,
    share_cores: bool = True,
) -> Partition:
    """Split every non-input population into blocks that each fit one neuro-core.

    Parameters
    ----------
    populations : sequence of CompiledPopulation
        All populations (spike sources included; they take no core).
    projections : sequence of CompiledProjection
        All projections, integer weights and delays (steps) as quantized.
    profile : HardwareProfile or str
        Target profile or its name (``"loihi1"``, ``"loihi2"``).
    share_cores : bool
        Pack blocks of different populations onto one core when their summed
        usage fits (default). ``False``: one block per core, as nengo-loihi does.

    Returns
    -------
    Partition
        Blocks with their usage of every per-core resource, their logical
        cores (small blocks packed together), and the resource lower bound.

    Raises
    ------
    CompileError
        When a single neuron cannot fit one core (its fan-in synaptic memory,
        input axons, output axons, synapse formats or delay slots exceed the
        core), naming the population, neuron, projection(s), resource, amount,
        limit and what to change; one line per population in ``problems``.
    """
    prof = load_profile(profile)
    return _Partitioner(list(populations), list(projections), prof, share_cores).run()
