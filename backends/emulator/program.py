"""Flattening a CompiledNetwork into the arrays the emulator's LIF fast path runs on.

For networks of LIF populations and static projections (others run on the
general engine, :mod:`.general`, which shares :func:`check_structure`,
:func:`neuron_constants` and :func:`lava_weights` with this module).
:func:`prepare` checks that every element is supported, then lays all neurons
on one global index (LIF neurons first, in population order, then the spike
sources) and stores the synapses **by presynaptic neuron** (CSR), each with
its target in the ring buffer of future synaptic input (one slot of
``n_lif`` cells per step of delay); the synapses of one neuron are grouped by
delay, so the kernel locates the ring slot once per (spike, delay). Per step the kernels visit only the synapses of the neurons
that spiked, so the cost grows with spikes x fan-out, not with synapse count.

Integer conventions (see docs/backends.md and Lava's ``PyDenseModelBitAcc``):

* Weights are passed through Lava's ``clip_weights`` / ``truncate_weights``
  (a no-op for weights the compiler produced).
* A projection whose ``weight_exp >= 0``, or whose weights are all multiples
  of ``2**-weight_exp``, is *linear*: shifting each weight is the same as
  shifting the sum, so its synapses carry the pre-shifted weight and merge
  into one CSR ("fast" synapses). Any other projection is "slow": Lava floors
  its sum per (emission step, delay); the kernels accumulate those sums in a
  per-projection scratch buffer and shift them before they enter the ring.
* Every ring cell holds ``(sum << CNT_BITS) + events``: the low ``CNT_BITS``
  bits count the synaptic events that arrived (for the *active neuron update*
  counter, which counts zero-weight events too), the high bits the summed
  activation. Each synapse adds ``(w << CNT_BITS) + 1``: one add per event.
* LIF parameters are per-neuron arrays (numpy engine) and per-*segment*
  constants (numba engine): a segment is a run of neurons of one population
  on one core, so the compiled loop reads only state, bias and the ring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...compiler.compiled import SIGN_EXCITATORY, SIGN_INHIBITORY, SIGN_MIXED, SIGN_NULL, CompiledNetwork
from ...errors import BackendError
from ..counters import COUNTER_DTYPE, COUNTER_NAMES

#: Low bits of a ring cell that count synaptic events (see module docstring).
CNT_BITS = 24
CNT_MASK = (1 << CNT_BITS) - 1
#: Lava's 24-bit state: ``u`` wraps past ``MAX_UV``, ``v`` clips to ``+-(MAX_UV - 1)``.
MAX_UV = 1 << 23
DECAY_UNITY = 1 << 12
ACT_SHIFT = 6
VTH_SHIFT = 6
#: Counter rows of the kernels' ``(n_counters, rows, n_cores)`` array, in COUNTER_NAMES order.
C_SPIKES, C_ACTIVE, C_INACTIVE, C_SYNOPS, C_WITHIN, C_ACROSS_CORES, C_ACROSS_CHIPS, C_HOPS, C_INPUT_MSGS = range(9)
N_COUNTERS = len(COUNTER_NAMES)
assert COUNTER_NAMES[C_INPUT_MSGS] == "input_spike_msgs"

#: Neuron kinds of the LIF fast path (others run on the general engine, :mod:`.general`).
NEURON_KINDS = ("LIF",)
VARIABLES = ("spikes", "v", "u")


def lava_weights(weights: np.ndarray, sign_mode: int, num_weight_bits: int, has_implicit_zeros: bool) -> np.ndarray:
    """Integer weights exactly as Lava's bit-accurate Dense uses them.

    ``clip_weights(num_bits=8)`` then ``truncate_weights(num_weight_bits)``
    (``lava/utils/weightutils.py``); ``SIGN_NULL`` means Lava's
    ``determine_sign_mode`` over the whole matrix (implicit zeros included).
    """
    w = np.asarray(weights, dtype=np.int64)
    if sign_mode == SIGN_NULL:
        values = np.concatenate([w, [0]]) if has_implicit_zeros or not w.size else w
        lo, hi = int(values.min()), int(values.max())
        sign_mode = SIGN_EXCITATORY if lo >= 0 else SIGN_INHIBITORY if hi <= 0 else SIGN_MIXED
    mixed = int(sign_mode == SIGN_MIXED)
    inhibitory = sign_mode == SIGN_INHIBITORY
    if inhibitory:
        w = -w
    w = np.clip(w, -256 * mixed, 255)
    shift = 8 - int(num_weight_bits) + mixed
    if shift > 0:
        w = (w >> shift) << shift
    return -w if inhibitory else w


def neuron_constants(pop: Any) -> dict[str, np.ndarray]:
    """Per-neuron integers of a population's LIF update (docs/backends.md), each int64 ``(size,)``.

    ``u_keep = 4096 - (du + 1)``, ``v_keep = 4096 - dv``, ``bias`` =
    ``bias_mant << bias_exp`` as Lava's int32 ``effective_bias``, ``vth`` =
    ``vth << 6``, ``refractory``, ``has_bias`` (0/1: ``bias_mant != 0``),
    ``u_init``, ``v_init``.
    """

    def full(value: Any) -> np.ndarray:
        return np.broadcast_to(np.asarray(value, dtype=np.int64), (pop.size,)).copy()

    bias = np.left_shift(pop.bias_mant, pop.bias_exp) if pop.bias_exp >= 0 else np.right_shift(pop.bias_mant, -pop.bias_exp)
    return {
        "u_keep": full(DECAY_UNITY - (int(pop.du) + 1)),
        "v_keep": full(DECAY_UNITY - int(pop.dv)),
        "bias": full(bias).astype(np.int32).astype(np.int64),  # Lava's effective_bias is int32
        "vth": full(int(pop.vth) << VTH_SHIFT),
        "refractory": full(int(pop.refractory)),
        "has_bias": full(pop.bias_mant != 0),
        "u_init": full(pop.u_init),
        "v_init": full(pop.v_init),
    }


@dataclass
class Program:
    """A CompiledNetwork flattened for the emulator (built once, reused by every run).

    Global neuron index: LIF neurons ``[0, n_lif)`` (population order), then
    spike sources ``[n_lif, n_total)``. Arrays are plain numpy so both the
    numpy and the numba engine use them.
    """

    compiled: Any
    n_lif: int
    n_total: int
    n_slots: int  # ring-buffer slots D = max delay + 1
    n_cores: int
    offsets: dict[str, int]  # population -> first global index
    lif_pops: list[Any]
    input_pops: list[Any]
    # LIF parameters per neuron (int64, n_lif)
    u_keep: np.ndarray
    v_keep: np.ndarray
    bias: np.ndarray
    vth: np.ndarray
    refractory: np.ndarray
    has_bias: np.ndarray  # bool: bias_mant != 0 (counters)
    bias2: np.ndarray  # 2 * bias + has_bias (numba engine)
    u_init: np.ndarray
    v_init: np.ndarray
    # fast synapses, CSR by global pre neuron
    indptr: np.ndarray  # int64 (n_total + 1)
    syn_post: np.ndarray  # uint16 or int32: postsynaptic (global LIF) index
    syn_w: np.ndarray  # int16 or int32: weight << weight_exp (the kernels add (w << CNT_BITS) + 1)
    syn_delay: np.ndarray  # uint8 or int32
    # delay groups: synapses [g_lo[k], g_hi[k]) of one neuron share delay g_delay[k]; neuron n owns groups [grp_ptr[n], grp_ptr[n+1])
    grp_ptr: np.ndarray
    g_lo: np.ndarray
    g_hi: np.ndarray
    g_delay: np.ndarray
    # slow synapses (projections whose shift is not linear), CSR by global pre neuron
    s_indptr: np.ndarray
    s_off: np.ndarray  # int32 ring offset: delay * n_lif + post
    s_toff: np.ndarray  # int64 index into the scratch buffer (one cell per (projection, delay, post))
    s_w: np.ndarray  # int32 weight before the shift
    s_shift: np.ndarray  # right shift of the projection (>= 1)
    n_scratch: int
    slow_projections: list[str]
    # counters: per global neuron
    core_of: np.ndarray  # int64 (n_total); -1 for sources
    dc_indptr: np.ndarray  # CSR over distinct destination cores of each neuron
    dc_core: np.ndarray
    dc_syn: np.ndarray  # synapses of the neuron on that core
    msgs: np.ndarray  # int64 (n_total, 4): within core, across cores, across chips, tile hops
    neurons_per_core: np.ndarray  # int64 (n_cores): LIF neurons on each core
    # segments: runs of consecutive LIF neurons of one population on one core, [seg_start[g], seg_start[g+1])
    seg_start: np.ndarray
    seg_core: np.ndarray
    seg_ukeep: np.ndarray
    seg_vkeep: np.ndarray
    seg_vth: np.ndarray
    seg_refr: np.ndarray
    # probes
    probe_u: dict[str, np.ndarray]  # "pop.u" -> global indices
    probe_v: dict[str, np.ndarray]
    probe_w: list[Any]  # probed projections
    nnz: int
    # thread plans by number of parts (.threads.plan), made when first run with that many
    thread_plans: dict[int, Any] = field(default_factory=dict, repr=False)

    @property
    def counts_fit_counter_dtype(self) -> bool:
        """Whether no counter can exceed COUNTER_DTYPE in one step on one core: synaptic ops are at most
        the synapses, messages and tile hops at most (neurons x cores x 64)."""
        bound = max(self.nnz, self.n_total * max(self.n_cores, 1) * 64)
        return bound <= np.iinfo(COUNTER_DTYPE).max

    @property
    def synapses(self) -> int:
        """Synapses held (fast + slow)."""
        return int(self.syn_w.size + self.s_w.size)

    def nbytes(self) -> int:
        """Memory held by the flattened arrays, bytes."""
        return int(sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray)))


def check_structure(compiled: Any) -> None:
    """BackendError unless ``compiled`` is a CompiledNetwork whose projections fit their populations.

    Checks what both engines need: known pre/post populations of matching
    sizes, no spike source as a target, delays >= 1, synapse indices in
    range, no duplicate (pre, post) pair.
    """
    if not isinstance(compiled, CompiledNetwork):
        raise BackendError(f"the emulator runs a CompiledNetwork (compile the network first), got {type(compiled).__name__}")
    names = {p.name for p in compiled.populations}
    for proj in compiled.projections:
        if proj.pre not in names or proj.post not in names:
            raise BackendError(f"projection '{proj.name}': unknown population '{proj.pre if proj.pre not in names else proj.post}'")
        if compiled.population(proj.post).is_input:
            raise BackendError(f"projection '{proj.name}': its target '{proj.post}' is a spike source")
        if proj.n_pre != compiled.population(proj.pre).size or proj.n_post != compiled.population(proj.post).size:
            raise BackendError(f"projection '{proj.name}': n_pre x n_post = {proj.n_pre} x {proj.n_post} does not match populations '{proj.pre}' and '{proj.post}'")
        if proj.nnz and int(proj.delays.min()) < 1:
            raise BackendError(f"projection '{proj.name}': delays must be >= 1 step, got {int(proj.delays.min())}")
        if proj.nnz and (proj.pre_idx.min() < 0 or proj.pre_idx.max() >= proj.n_pre or proj.post_idx.min() < 0 or proj.post_idx.max() >= proj.n_post):
            raise BackendError(f"projection '{proj.name}': synapse index out of range")
        if proj.nnz > 1:
            key = np.sort(proj.post_idx * proj.n_pre + proj.pre_idx)
            dup = np.nonzero(key[1:] == key[:-1])[0]
            if dup.size:
                k = int(key[dup[0]])
                raise BackendError(f"projection '{proj.name}': duplicate synapse pre={k % proj.n_pre}, post={k // proj.n_pre} (Lava holds one weight per pair)")


def _check(compiled: Any) -> None:
    """The LIF fast path's checks (the package's ``prepare`` sends every other network to the general engine)."""
    check_structure(compiled)
    for pop in compiled.populations:
        if not pop.is_input and pop.kind not in NEURON_KINDS:
            raise BackendError(f"population '{pop.name}': {pop.kind} neurons do not run on the LIF fast path (use yuragi.backends.emulator.prepare/run)")
    for proj in compiled.projections:
        if proj.release_prob != 1.0 or proj.plasticity is not None:
            raise BackendError(f"projection '{proj.name}': stochastic release and plasticity do not run on the LIF fast path (use yuragi.backends.emulator.prepare/run)")


def _layout(compiled: Any, lif_pops: list[Any]) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, int]:
    n_cores = max((b.core for b in compiled.blocks), default=-1) + 1
    chip_of_core = np.zeros(max(n_cores, 1), dtype=np.int64)
    tile_of_core = np.zeros((max(n_cores, 1), 2), dtype=np.int64)
    for b in compiled.blocks:
        chip_of_core[b.core] = b.chip
        tile_of_core[b.core] = b.tile
    core_of = {}
    for pop in lif_pops:
        cores = np.full(pop.size, -1, dtype=np.int64)
        for b in compiled.blocks:
            if b.population == pop.name:
                cores[b.start:b.stop] = b.core
        if (cores < 0).any():
            raise BackendError(f"population '{pop.name}' is not fully placed on cores (neuron {int(np.argmax(cores < 0))} has no block); compile the network first")
        core_of[pop.name] = cores
    return core_of, chip_of_core, tile_of_core, n_cores


def prepare(compiled: Any) -> Program:
    """Check and flatten a :class:`~yuragi.compiler.compiled.CompiledNetwork` (BackendError naming any unsupported element)."""
    if isinstance(compiled, Program):
        return compiled
    _check(compiled)
    lif_pops = [p for p in compiled.populations if not p.is_input]
    input_pops = [p for p in compiled.populations if p.is_input]
    offsets: dict[str, int] = {}
    at = 0
    for pop in lif_pops + input_pops:
        offsets[pop.name] = at
        at += pop.size
    n_total = at
    n_lif = sum(p.size for p in lif_pops)

    def per_neuron(fn: Any) -> np.ndarray:
        if not lif_pops:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([np.broadcast_to(np.asarray(fn(p), dtype=np.int64), (p.size,)) for p in lif_pops]).astype(np.int64)

    consts = [neuron_constants(p) for p in lif_pops]

    def cat(key: str) -> np.ndarray:
        return np.concatenate([c[key] for c in consts]) if consts else np.zeros(0, dtype=np.int64)

    u_keep, v_keep, bias, vth, refractory = (cat(k) for k in ("u_keep", "v_keep", "bias", "vth", "refractory"))
    has_bias = cat("has_bias").astype(bool)
    u_init, v_init = cat("u_init"), cat("v_init")

    core_by_pop, chip_of_core, tile_of_core, n_cores = _layout(compiled, lif_pops)
    core_of = np.full(n_total, -1, dtype=np.int64)
    for pop in lif_pops:
        core_of[offsets[pop.name]:offsets[pop.name] + pop.size] = core_by_pop[pop.name]
    neurons_per_core = np.bincount(core_of[:n_lif], minlength=n_cores).astype(np.int64) if n_lif else np.zeros(n_cores, dtype=np.int64)

    pop_of = per_neuron(lambda p: lif_pops.index(p))
    if n_lif:
        change = np.nonzero((np.diff(core_of[:n_lif]) != 0) | (np.diff(pop_of) != 0))[0] + 1
        seg_start = np.concatenate([[0], change, [n_lif]]).astype(np.int64)
    else:
        seg_start = np.zeros(1, dtype=np.int64)
    first_of_seg = seg_start[:-1]
    seg = {name: np.ascontiguousarray(arr[first_of_seg]) for name, arr in
           (("core", core_of[:n_lif]), ("ukeep", u_keep), ("vkeep", v_keep), ("vth", vth), ("refr", refractory))}

    max_delay = max((int(p.delays.max()) for p in compiled.projections if p.nnz), default=1)
    n_slots = max_delay + 1

    fast_pre, fast_off, fast_w = [], [], []
    slow_pre, slow_off, slow_toff, slow_w, slow_shift, slow_names = [], [], [], [], [], []
    n_scratch = 0
    all_pre, all_core = [], []
    fan_in = np.zeros(n_lif, dtype=np.int64)
    max_abs_w = 0
    for proj in compiled.projections:
        if not proj.nnz:
            continue
        implicit_zeros = proj.nnz < proj.n_pre * proj.n_post
        w = lava_weights(proj.weights, proj.sign_mode, proj.num_weight_bits, implicit_zeros)
        pre = proj.pre_idx + offsets[proj.pre]
        post = proj.post_idx + offsets[proj.post]
        delays = proj.delays.astype(np.int64)
        off = delays * n_lif + post
        e = int(proj.weight_exp)
        fan_in += np.bincount(post, minlength=n_lif)
        all_pre.append(pre)
        all_core.append(core_of[post])
        if e >= 0 or not (w % (1 << -e)).any():
            eff = np.left_shift(w, e) if e >= 0 else np.right_shift(w, -e)
            max_abs_w = max(max_abs_w, int(np.abs(eff).max()))
            fast_pre.append(pre)
            fast_off.append(off)
            fast_w.append(eff)
        else:
            max_abs_w = max(max_abs_w, int(np.abs(w).max()))
            d_used = int(delays.max()) + 1
            slow_pre.append(pre)
            slow_off.append(off)
            slow_toff.append(n_scratch + delays * proj.n_post + proj.post_idx)
            slow_w.append(w)
            slow_shift.append(-e)
            slow_names.append(proj.name)
            n_scratch += d_used * proj.n_post
    # the ring packs (sum << CNT_BITS) + events into int64: check both fit
    worst = int(fan_in.max()) if n_lif else 0
    if worst >= CNT_MASK or max_abs_w >= 2**31 or max_abs_w * max(worst, 1) >= 1 << (62 - CNT_BITS):
        raise BackendError(f"fan-in {worst} x weight {max_abs_w} exceeds the emulator's accumulator (fan-in < 2**24, |weight| < 2**31, |sum| < 2**38)")

    def csr(pres: list[np.ndarray], *cols: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        if not pres:
            return (np.zeros(n_total + 1, dtype=np.int64),) + tuple(np.zeros(0, dtype=np.int64) for _ in cols)
        pre = np.concatenate(pres)
        off = np.concatenate(cols[0])
        # by pre, then ring offset (delay, post): one int64 key (< n_total * n_slots * n_lif < 2**63)
        order = np.argsort(pre * (n_slots * max(n_lif, 1)) + off)
        indptr = np.zeros(n_total + 1, dtype=np.int64)
        np.cumsum(np.bincount(pre, minlength=n_total), out=indptr[1:])
        return (indptr, off[order]) + tuple(np.concatenate(c)[order] for c in cols[1:])

    indptr, syn_off, syn_w = csr(fast_pre, fast_off, fast_w)
    if n_slots * n_lif >= 2**31:
        raise BackendError(f"ring buffer of {n_slots} delay slots x {n_lif} neurons exceeds 2**31 cells")
    # delay groups: the synapses of one presynaptic neuron with one delay are contiguous
    # (sorted by delay, then post); the kernel finds the ring slot once per group
    syn_delay = syn_off // max(n_lif, 1)
    syn_post = syn_off - syn_delay * n_lif
    pre_of = np.repeat(np.arange(n_total, dtype=np.int64), np.diff(indptr))
    gkey = pre_of * n_slots + syn_delay
    g_lo = np.flatnonzero(np.r_[True, gkey[1:] != gkey[:-1]]) if gkey.size else np.zeros(0, dtype=np.int64)
    g_hi = np.r_[g_lo[1:], gkey.size].astype(np.int64)
    g_delay = syn_delay[g_lo].astype(np.int64)
    grp_ptr = np.zeros(n_total + 1, dtype=np.int64)
    np.cumsum(np.bincount(pre_of[g_lo], minlength=n_total), out=grp_ptr[1:])
    # narrowest types that hold them: the synapse arrays are the memory traffic of the step loop
    post_type = np.uint16 if n_lif <= 1 << 16 else np.int32
    w_type = np.int16 if not syn_w.size or int(np.abs(syn_w).max()) < 1 << 15 else np.int32
    delay_type = np.uint8 if n_slots <= 256 else np.int32
    syn_post, syn_w, syn_delay = syn_post.astype(post_type), syn_w.astype(w_type), syn_delay.astype(delay_type)
    del syn_off, pre_of, gkey

    slow_sh = [np.full(p.size, s, dtype=np.int64) for p, s in zip(slow_pre, slow_shift)]
    s_indptr, s_off, s_toff, s_w, s_shift = csr(slow_pre, slow_off, slow_toff, slow_w, slow_sh)
    s_off, s_w = s_off.astype(np.int32), s_w.astype(np.int32)

    # counters: distinct destination cores of every neuron, synapses per core, messages by kind
    if all_pre:
        key = np.concatenate(all_pre) * max(n_cores, 1) + np.concatenate(all_core)
        uniq, counts = np.unique(key, return_counts=True)
        dc_pre, dc_core = uniq // max(n_cores, 1), uniq % max(n_cores, 1)
    else:
        counts = dc_pre = dc_core = np.zeros(0, dtype=np.int64)
    dc_indptr = np.zeros(n_total + 1, dtype=np.int64)
    np.cumsum(np.bincount(dc_pre, minlength=n_total), out=dc_indptr[1:])
    src = core_of[dc_pre]
    is_lif = src >= 0
    src_c = np.where(is_lif, src, 0)
    same_chip = chip_of_core[src_c] == chip_of_core[dc_core]
    hops = np.abs(tile_of_core[src_c] - tile_of_core[dc_core]).sum(axis=1) * same_chip
    msgs = np.zeros((n_total, 4), dtype=np.int64)
    for j, vals in enumerate((dc_core == src, same_chip & (dc_core != src), ~same_chip, hops)):
        msgs[:, j] = np.bincount(dc_pre, weights=np.where(is_lif, vals, 0), minlength=n_total).astype(np.int64)

    probe_u: dict[str, np.ndarray] = {}
    probe_v: dict[str, np.ndarray] = {}
    probe_w = []
    pops = {p.name: p for p in compiled.populations}
    projs = {p.name: p for p in compiled.projections}
    for probe in compiled.probes:
        if probe.target in pops:
            pop = pops[probe.target]
            allowed = ("spikes",) if pop.is_input else VARIABLES
            if probe.variable not in allowed:
                raise BackendError(f"probe '{probe.key}': population '{pop.name}' has no variable '{probe.variable}' (allowed: {', '.join(allowed)})")
            if probe.variable in ("u", "v"):
                idx = np.arange(offsets[pop.name], offsets[pop.name] + pop.size, dtype=np.int64)
                (probe_u if probe.variable == "u" else probe_v)[probe.key] = idx
        elif probe.target in projs:
            if probe.variable != "w":
                raise BackendError(f"probe '{probe.key}': projection '{probe.target}' has no variable '{probe.variable}' (allowed: w)")
            probe_w.append(projs[probe.target])
        else:
            raise BackendError(f"probe '{probe.key}': no population or projection called '{probe.target}'")

    return Program(
        compiled=compiled, n_lif=n_lif, n_total=n_total, n_slots=n_slots, n_cores=n_cores, offsets=offsets,
        lif_pops=lif_pops, input_pops=input_pops,
        u_keep=u_keep, v_keep=v_keep, bias=bias, vth=vth, refractory=refractory, has_bias=has_bias, bias2=2 * bias + has_bias, u_init=u_init, v_init=v_init,
        indptr=indptr, syn_post=syn_post, syn_w=syn_w, syn_delay=syn_delay, grp_ptr=grp_ptr, g_lo=g_lo, g_hi=g_hi, g_delay=g_delay,
        s_indptr=s_indptr, s_off=s_off, s_toff=s_toff, s_w=s_w, s_shift=s_shift, n_scratch=n_scratch, slow_projections=slow_names,
        core_of=core_of, dc_indptr=dc_indptr, dc_core=dc_core.astype(np.int64), dc_syn=counts.astype(np.int64), msgs=msgs,
        neurons_per_core=neurons_per_core, seg_start=seg_start, seg_core=seg['core'], seg_ukeep=seg['ukeep'], seg_vkeep=seg['vkeep'], seg_vth=seg['vth'], seg_refr=seg['refr'], probe_u=probe_u, probe_v=probe_v, probe_w=probe_w,
        nnz=int(sum(p.nnz for p in compiled.projections)),
    )
