"""The emulator's step loops: a compiled whole-run loop (numba) and a vectorised numpy one.

Both implement docs/backends.md bit for bit, including Lava's int32 and
24-bit corner cases (``lava/proc/lif/models.py`` ``AbstractPyLifModelFixed``):

* the summed synaptic input arrives as an int32 (Lava's ``a_out`` ports are
  int32 arrays), is shifted ``<< 6`` in int32, and added to the decayed
  current in int32;
* ``u`` then loses/gains ``2**24`` once when outside ``(-2**23, 2**23]``;
* ``v`` = decayed ``v`` + ``u`` + bias in int32, clipped to ``+-(2**23 - 1)``.

The numba kernels run one sample for steps ``[t0, t1)`` with all state in
arrays they update in place, so a run can be split in chunks (progress bar,
growing the spike buffer) and samples of a batch can run on threads
(``nogil``). :func:`_run_chunk` is one thread; :func:`_run_chunk_threads`
splits the neurons into parts that step on numba's threads (:mod:`.threads`).
Both are made of the same step functions (``_update_segments``,
``_deliver``, ``_emit``). The numpy engine runs ``S`` samples at once on
``(S, n)`` arrays.
"""

from __future__ import annotations

import numpy as np

from .program import (
    ACT_SHIFT,
    C_ACROSS_CHIPS,
    C_ACROSS_CORES,
    C_ACTIVE,
    C_HOPS,
    C_INACTIVE,
    C_INPUT_MSGS,
    C_SPIKES,
    C_SYNOPS,
    C_WITHIN,
    CNT_BITS,
    CNT_MASK,
    MAX_UV,
)

try:  # numba is optional: without it the numpy engine runs
    import numba

    HAVE_NUMBA = True
except Exception:  # pragma: no cover - depends on the environment
    numba = None
    HAVE_NUMBA = False

if HAVE_NUMBA:
    _jit = numba.njit(nogil=True, cache=True, boundscheck=False)
    _prange = numba.prange
else:  # pragma: no cover - the helpers stay plain Python and only the numpy engine runs

    def _jit(fn):
        return fn

    _prange = range

_W32 = 1 << 31
_M32 = (1 << 32) - 1
_TWO_UV = 2 * MAX_UV
_V_LO, _V_HI = -MAX_UV + 1, MAX_UV - 1


@_jit
def _update_segments(t, row, ga, gb, base, seg_start, seg_core, seg_ukeep, seg_vkeep, seg_vth, seg_refr, bias2,
                     uv, refr_end, ring, counters, spk, nsp):
    """Neuron update of segments ``[ga, gb)`` at step ``t`` (docs/backends.md steps 2-4).

    Reads and clears the ring slot at ``base``, appends the neurons that spike
    to ``spk[nsp:]`` (in index order) and returns the new ``nsp``; adds the
    spike / active / inactive counters of each segment's core at ``row``.
    """
    for g in range(ga, gb):
        lo = seg_start[g]
        hi = seg_start[g + 1]
        u_keep = seg_ukeep[g]
        v_keep = seg_vkeep[g]
        vth = seg_vth[g]
        refr = seg_refr[g]
        # branch-free and over four arrays only (ring, uv, refr_end, bias2) so that LLVM vectorises it
        rs = ring[base + lo:base + hi]
        st = uv[lo:hi]
        rf = refr_end[lo:hi]
        bs = bias2[lo:hi]
        n_spk = 0
        n_act = 0
        for i in range(st.shape[0]):
            enc = rs[i]
            rs[i] = 0
            a = ((enc >> CNT_BITS) + _W32) & _M32  # a_in arrives as int32 ...
            a = ((((a - _W32) << ACT_SHIFT) + _W32) & _M32) - _W32  # ... and is shifted in int32
            x = st[i]
            p = (x >> 32) * u_keep
            nu = (p + ((p >> 63) & 4095)) >> 12  # sign(p) * (|p| >> 12)
            nu = ((nu + a + _W32) & _M32) - _W32  # int32 add
            nu = nu - _TWO_UV if nu > MAX_UV else nu  # 24-bit wrap, once
            nu = nu + _TWO_UV if nu <= -MAX_UV else nu
            vo = (x << 32) >> 32
            q = vo * v_keep
            b2 = bs[i]
            vn = (q + ((q >> 63) & 4095)) >> 12
            vn = ((vn + nu + (b2 >> 1) + _W32) & _M32) - _W32  # int32 adds
            vn = vn if vn < _V_HI else _V_HI
            vn = vn if vn > _V_LO else _V_LO
            r = rf[i]
            vi = vn if r < t else vo  # refractory: v not updated
            s = vi > vth
            vi = 0 if s else vi
            st[i] = (nu << 32) | (vi & _M32)
            rf[i] = t + refr if s else r
            n_spk += s
            n_act += s | ((enc & CNT_MASK) != 0) | (b2 & 1)
        if n_spk:  # collect the spikes: refr_end == t + refractory exactly for neurons that spiked now
            for i in range(lo, hi):
                if refr_end[i] == t + refr:
                    spk[nsp] = i
                    nsp += 1
        c = seg_core[g]
        counters[C_SPIKES, row, c] += n_spk
        counters[C_ACTIVE, row, c] += n_act
        counters[C_INACTIVE, row, c] += hi - lo - n_act
    return nsp


@_jit
def _deliver(k, spk, nsp, t_slot, row, n_slots, n_lif, grp_ptr, g_delay, g_split, syn_post, syn_w, ring,
             dc_split, dc_core, dc_syn, counters):
    """Synaptic events of the spikes ``spk[:nsp]`` of the step whose ring slot is ``t_slot``, into later slots.

    Only part ``k`` of each spike's synapses: ``[g_split[gi, k], g_split[gi, k + 1])`` of
    delay group ``gi`` and ``[dc_split[n, k], dc_split[n, k + 1])`` of its destination
    cores (synaptic-op and input-message counters at ``row``). With one part this
    is every synapse; with several (:mod:`.threads`) each part owns a range of
    postsynaptic neurons and their cores, so parts can run at the same time.
    """
    for j in range(nsp):
        n = spk[j]
        for gi in range(grp_ptr[n], grp_ptr[n + 1]):
            slot = t_slot + g_delay[gi]
            if slot >= n_slots:
                slot -= n_slots
            r = ring[slot * n_lif:(slot + 1) * n_lif]
            for e in range(g_split[gi, k], g_split[gi, k + 1]):
                r[syn_post[e]] += (np.int64(syn_w[e]) << CNT_BITS) + 1
        source = n >= n_lif
        for e in range(dc_split[n, k], dc_split[n, k + 1]):
            c = dc_core[e]
            counters[C_SYNOPS, row, c] += dc_syn[e]
            if source:
                counters[C_INPUT_MSGS, row, c] += 1


@_jit
def _emit(t, row, spk, nsp, n_lif, base, ring, core_of, msgs, counters, counts, first, record, ev_t, ev_n, n_ev,
          s_indptr, s_off, s_toff, s_w, s_shift, scratch, touched):
    """Everything else the spikes ``spk[:nsp]`` of step ``t`` cause, in one thread; returns the events recorded.

    Message counters (on the source core), spike counts, first spike times, the
    event record, and the synapses of projections whose ``weight_exp`` shift is
    not linear: Lava floors each (step, delay) sum, so they are summed in
    ``scratch`` and shifted before they enter the ring.
    """
    ring_size = ring.shape[0]
    nt = 0
    for k in range(nsp):
        n = spk[k]
        for e in range(s_indptr[n], s_indptr[n + 1]):
            ti = s_toff[e]
            if scratch[ti] == 0:
                touched[nt] = e
                nt += 1
            scratch[ti] += (np.int64(s_w[e]) << CNT_BITS) + 1
        if n < n_lif:
            c = core_of[n]
            counters[C_WITHIN, row, c] += msgs[n, 0]
            counters[C_ACROSS_CORES, row, c] += msgs[n, 1]
            counters[C_ACROSS_CHIPS, row, c] += msgs[n, 2]
            counters[C_HOPS, row, c] += msgs[n, 3]
        counts[n] += 1
        if first[n] < 0:
            first[n] = t
        if record:
            ev_t[n_ev] = t
            ev_n[n_ev] = n
            n_ev += 1
    for k in range(nt):
        e = touched[k]
        ti = s_toff[e]
        val = scratch[ti]
        scratch[ti] = 0
        idx = base + s_off[e]
        if idx >= ring_size:
            idx -= ring_size
        ring[idx] += (((val >> CNT_BITS) >> s_shift[e]) << CNT_BITS) + (val & CNT_MASK)
    return n_ev


@_jit
def _add_inputs(t, in_indptr, in_ids, spk, nsp):
    for j in range(in_indptr[t], in_indptr[t + 1]):
        spk[nsp] = in_ids[j]
        nsp += 1
    return nsp


@_jit
def _probe(t, uv, pu_idx, out_u, pv_idx, out_v):
    for j in range(pu_idx.shape[0]):
        out_u[t, j] = uv[pu_idx[j]] >> 32
    for j in range(pv_idx.shape[0]):
        out_v[t, j] = (uv[pv_idx[j]] << 32) >> 32


def _run_chunk(t0, t1, n_lif, n_slots,
               seg_start, seg_core, seg_ukeep, seg_vkeep, seg_vth, seg_refr, bias2,
               uv, refr_end, ring,
               grp_ptr, g_split, g_delay, syn_post, syn_w,
               s_indptr, s_off, s_toff, s_w, s_shift, scratch, touched,
               in_indptr, in_ids,
               core_of, dc_split, dc_core, dc_syn, msgs,
               per_step, row0, counters,
               pu_idx, out_u, pv_idx, out_v,
               record, ev_t, ev_n, n_ev,
               counts, first, spk):
    """One sample, steps ``[t0, t1)``, in one thread; returns ``(step reached, events recorded)``.

    Neurons are updated by *segments*: runs of consecutive LIF neurons of one
    population on one core, whose decays, threshold and refractory period are
    constants (``seg_*``); counters are added once per segment. State:
    ``uv = (u << 32) | (v & 0xFFFFFFFF)`` (int64; u and v are int32 in Lava),
    ``refr_end`` int32 (last spike + refractory), ``bias2 = 2 * bias + (bias_mant != 0)``;
    ``ring`` int64; synapse targets and weights as narrow as they fit (each event adds
    ``(w << CNT_BITS) + 1``). ``g_split`` / ``dc_split`` have one part (two columns).

    Stops early (before a step) when ``record`` and the event buffer could
    overflow during that step; the caller grows the buffers and resumes.
    """
    cap = ev_t.shape[0]
    n_total = grp_ptr.shape[0] - 1
    n_seg = seg_core.shape[0]
    for t in range(t0, t1):
        if record and n_ev + n_total > cap:
            return t, n_ev
        row = t - row0 if per_step else 0
        t_slot = t % n_slots
        base = t_slot * n_lif
        nsp = _update_segments(t, row, 0, n_seg, base, seg_start, seg_core, seg_ukeep, seg_vkeep, seg_vth, seg_refr, bias2,
                               uv, refr_end, ring, counters, spk, 0)
        nsp = _add_inputs(t, in_indptr, in_ids, spk, nsp)
        _deliver(0, spk, nsp, t_slot, row, n_slots, n_lif, grp_ptr, g_delay, g_split, syn_post, syn_w, ring,
                 dc_split, dc_core, dc_syn, counters)
        n_ev = _emit(t, row, spk, nsp, n_lif, base, ring, core_of, msgs, counters, counts, first, record, ev_t, ev_n, n_ev,
                     s_indptr, s_off, s_toff, s_w, s_shift, scratch, touched)
        _probe(t, uv, pu_idx, out_u, pv_idx, out_v)
    return t1, n_ev


def _run_chunk_threads(t0, t1, n_lif, n_slots,
                       seg_start, seg_core, seg_ukeep, seg_vkeep, seg_vth, seg_refr, bias2,
                       uv, refr_end, ring,
                       grp_ptr, g_split, g_delay, syn_post, syn_w,
                       s_indptr, s_off, s_toff, s_w, s_shift, scratch, touched,
                       in_indptr, in_ids,
                       core_of, dc_split, dc_core, dc_syn, msgs,
                       per_step, row0, counters,
                       pu_idx, out_u, pv_idx, out_v,
                       record, ev_t, ev_n, n_ev,
                       counts, first, spk,
                       seg_split, spk_part, nsp_part):
    """As :func:`_run_chunk`, with the neurons cut into ``K`` parts that run on ``K`` threads.

    Part ``k`` owns the segments ``[seg_split[k], seg_split[k + 1])`` — their
    neurons, ring cells and cores (:mod:`.threads` chooses cuts that no core
    straddles) — and the matching columns of ``g_split`` / ``dc_split``. One
    parallel region per step: each part first delivers the previous step's
    spikes into its own neurons (every delay is >= 1, so they are due at
    this step at the earliest), then updates them and collects its spikes in
    ``spk_part[k]``. The rest (merging the spikes in index order, message
    counters, recording, floored projections, probes) runs in one thread, as
    in :func:`_run_chunk`, so the result is the same bit for bit.
    """
    cap = ev_t.shape[0]
    n_total = grp_ptr.shape[0] - 1
    K = seg_split.shape[0] - 1
    nsp = 0
    prev_slot = 0
    prev_row = 0
    reached = t1
    for t in range(t0, t1):
        if record and n_ev + n_total > cap:
            reached = t
            break
        row = t - row0 if per_step else 0
        t_slot = t % n_slots
        base = t_slot * n_lif
        for k in _prange(K):
            _deliver(k, spk, nsp, prev_slot, prev_row, n_slots, n_lif, grp_ptr, g_delay, g_split, syn_post, syn_w, ring,
                     dc_split, dc_core, dc_syn, counters)
            nsp_part[k] = _update_segments(t, row, seg_split[k], seg_split[k + 1], base, seg_start, seg_core, seg_ukeep, seg_vkeep,
                                           seg_vth, seg_refr, bias2, uv, refr_end, ring, counters, spk_part[k], 0)
        nsp = 0
        for k in range(K):
            for j in range(nsp_part[k]):
                spk[nsp] = spk_part[k, j]
                nsp += 1
        nsp = _add_inputs(t, in_indptr, in_ids, spk, nsp)
        n_ev = _emit(t, row, spk, nsp, n_lif, base, ring, core_of, msgs, counters, counts, first, record, ev_t, ev_n, n_ev,
                     s_indptr, s_off, s_toff, s_w, s_shift, scratch, touched)
        _probe(t, uv, pu_idx, out_u, pv_idx, out_v)
        prev_slot = t_slot
        prev_row = row
    for k in _prange(K):  # the last step's spikes: nothing may stay pending between calls
        _deliver(k, spk, nsp, prev_slot, prev_row, n_slots, n_lif, grp_ptr, g_delay, g_split, syn_post, syn_w, ring,
                 dc_split, dc_core, dc_syn, counters)
    return reached, n_ev


if HAVE_NUMBA:
    run_chunk_numba = _jit(_run_chunk)
    run_chunk_threads = numba.njit(nogil=True, cache=True, boundscheck=False, parallel=True)(_run_chunk_threads)
else:  # pragma: no cover
    run_chunk_numba = run_chunk_threads = None


# ====================================================================== numpy


def _wrap32(x: np.ndarray) -> np.ndarray:
    return ((x + _W32) & _M32) - _W32


def _trunc_shift12(p: np.ndarray) -> np.ndarray:
    """``sign(p) * (|p| >> 12)``."""
    return np.where(p >= 0, p >> 12, -((-p) >> 12))


def lif_current(u: np.ndarray, a_sum: np.ndarray, u_keep: np.ndarray) -> np.ndarray:
    """LIF current of this step (docs/backends.md step 2), int64 arrays holding Lava's int32 values.

    ``a_sum`` is the summed synaptic input of the step (wrapped to int32 as
    Lava's ``a_in``), ``u_keep = 4096 - (du + 1)``.
    """
    a = _wrap32(_wrap32(a_sum) << ACT_SHIFT)
    u = _wrap32(_trunc_shift12(u * u_keep) + a)
    u = np.where(u > MAX_UV, u - _TWO_UV, u)
    return np.where(u <= -MAX_UV, u + _TWO_UV, u)


def lif_voltage(u: np.ndarray, v: np.ndarray, refr_end: np.ndarray, t: int, v_keep: np.ndarray, bias: np.ndarray, vth: np.ndarray,
                refractory: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LIF voltage, spike and reset of step ``t`` (docs/backends.md steps 3-4): new ``(v, refr_end, spiked)``.

    ``v_keep = 4096 - dv``; ``bias`` and ``vth`` are the effective integers
    (``bias_mant << bias_exp`` as int32, ``vth << 6``); ``refr_end`` is the
    last step of each neuron's refractory period (``-1``: none).
    """
    nv = np.clip(_wrap32(_trunc_shift12(v * v_keep) + u + bias), _V_LO, _V_HI)
    v = np.where(refr_end < t, nv, v)
    spiked = v > vth
    v[spiked] = 0
    return v, np.where(spiked, t + refractory, refr_end), spiked


def _expand(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entries of CSR rows ``rows`` (with repeats): (entry index, position in ``rows``)."""
    starts = indptr[rows]
    lens = indptr[rows + 1] - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    which = np.repeat(np.arange(rows.size), lens)
    ends = np.cumsum(lens)
    entry = np.arange(total, dtype=np.int64) - np.repeat(ends - lens, lens) + starts[which]
    return entry, which


class NumpyEngine:
    """``S`` independent samples of one program stepped together on ``(S, n)`` arrays."""

    def __init__(self, prog, n_samples: int) -> None:
        self.prog = prog
        self.S = S = n_samples
        n = prog.n_lif
        self.u = np.broadcast_to(prog.u_init, (S, n)).copy()
        self.v = np.broadcast_to(prog.v_init, (S, n)).copy()
        self.refr_end = np.full((S, n), -1, dtype=np.int64)
        self.ring = np.zeros(prog.n_slots * S * n, dtype=np.int64)  # (slot, sample, neuron)
        self.C = C = max(prog.n_cores, 1)
        self.core_flat = (np.arange(S)[:, None] * C + prog.core_of[None, :n]).ravel()
        self.npc = np.broadcast_to(prog.neurons_per_core if prog.n_cores else np.zeros(C, np.int64), (S, C))

    def step(self, t: int, inputs: np.ndarray | None, counters: np.ndarray, probe_rows: dict) -> tuple[np.ndarray, np.ndarray]:
        """Advance one step. ``inputs``: ``(S, n_inputs)`` bool row of the sources; ``counters``:
        ``(n_counters, S, n_cores)`` to add to. Returns the spikes as (sample, global neuron)."""
        prog, S, n, C = self.prog, self.S, self.prog.n_lif, self.C
        D = prog.n_slots
        slot = t % D
        cell = self.ring[slot * S * n:(slot + 1) * S * n].reshape(S, n)
        enc = cell.copy()
        cell[:] = 0
        events = enc & CNT_MASK
        u = lif_current(self.u, enc >> CNT_BITS, prog.u_keep)
        v, self.refr_end, spiked = lif_voltage(u, self.v, self.refr_end, t, prog.v_keep, prog.bias, prog.vth, prog.refractory)
        self.u, self.v = u, v
        # counters of the neuron update
        if n:
            active = spiked | (events > 0) | prog.has_bias
            counters[C_SPIKES] += np.bincount(self.core_flat, weights=spiked.ravel(), minlength=S * C).reshape(S, C).astype(np.int64)
            n_active = np.bincount(self.core_flat, weights=active.ravel(), minlength=S * C).reshape(S, C).astype(np.int64)
            counters[C_ACTIVE] += n_active
            counters[C_INACTIVE] += self.npc - n_active
        # spikes: (sample, global neuron), LIF first then sources, each in index order
        s_l, n_l = np.nonzero(spiked)
        if inputs is not None and inputs.size:
            s_i, j_i = np.nonzero(inputs)
            s_all = np.concatenate([s_l, s_i])
            n_all = np.concatenate([n_l, j_i + n])
        else:
            s_all, n_all = s_l, n_l
        order = np.lexsort((n_all, s_all))
        s_all, n_all = s_all[order], n_all[order]
        self._deliver(slot, s_all, n_all)
        self._count_spikes(s_all, n_all, counters)
        for key, (idx, out) in probe_rows.items():
            out[:, t] = (u if key.endswith(".u") else v)[:, idx]
        return s_all, n_all

    def _deliver(self, slot: int, s_all: np.ndarray, n_all: np.ndarray) -> None:
        prog, S, n, D = self.prog, self.S, self.prog.n_lif, self.prog.n_slots
        e, which = _expand(prog.indptr, n_all)
        if e.size:
            d = prog.syn_delay[e].astype(np.int64)
            flat = ((slot + d) % D) * (S * n) + s_all[which] * n + prog.syn_post[e]
            np.add.at(self.ring, flat, (prog.syn_w[e].astype(np.int64) << CNT_BITS) + 1)
        e, which = _expand(prog.s_indptr, n_all)
        if e.size:
            # per (sample, projection cell): sum, floor-shift, then into the ring
            key = s_all[which] * prog.n_scratch + prog.s_toff[e].astype(np.int64)
            uniq, inv = np.unique(key, return_inverse=True)
            sums = np.zeros(uniq.size, dtype=np.int64)
            np.add.at(sums, inv, (prog.s_w[e].astype(np.int64) << CNT_BITS) + 1)
            first = np.zeros(uniq.size, dtype=np.int64)
            first[inv[::-1]] = e[::-1]  # one synapse of each cell, for its offset and shift
            d, post = np.divmod(prog.s_off[first].astype(np.int64), n)
            shifted = (((sums >> CNT_BITS) >> prog.s_shift[first]) << CNT_BITS) + (sums & CNT_MASK)
            flat = ((slot + d) % D) * (S * n) + (uniq // prog.n_scratch) * n + post
            np.add.at(self.ring, flat, shifted)

    def _count_spikes(self, s_all: np.ndarray, n_all: np.ndarray, counters: np.ndarray) -> None:
        prog, S, n, C = self.prog, self.S, self.prog.n_lif, self.C
        if not n_all.size or prog.n_cores == 0:
            return
        e, which = _expand(prog.dc_indptr, n_all)
        if e.size:
            key = s_all[which] * C + prog.dc_core[e]
            counters[C_SYNOPS] += np.bincount(key, weights=prog.dc_syn[e], minlength=S * C).reshape(S, C).astype(np.int64)
            src = n_all[which] >= n
            counters[C_INPUT_MSGS] += np.bincount(key[src], minlength=S * C).reshape(S, C)
        lif = n_all < n
        key = s_all[lif] * C + prog.core_of[n_all[lif]]
        for j, c in enumerate((C_WITHIN, C_ACROSS_CORES, C_ACROSS_CHIPS, C_HOPS)):
            counters[c] += np.bincount(key, weights=prog.msgs[n_all[lif], j], minlength=S * C).reshape(S, C).astype(np.int64)
