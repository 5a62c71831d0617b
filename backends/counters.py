"""Operation counters of a run, per step and per core.

Counters are computed from the spike rasters of all populations and the
compiled network's synapses and placement. Every fixed-point backend returns
the same spikes, so it returns the same counters; the energy profiler prices
them with a hardware profile.

Definitions (each is a ``(steps, n_cores)`` array of :data:`COUNTER_DTYPE`;
``n_cores`` = the highest global core index used + 1):

``spikes``
    Spikes emitted by neurons on the core.
``neuron_updates_active`` / ``neuron_updates_inactive``
    Every compartment on a core is updated every step. An update is *active*
    when the neuron emits a spike, receives at least one synaptic event in
    that step, or has a non-zero bias; otherwise it is *inactive* (the
    cheaper idle update of Davies et al. 2018, Table 2).
``synaptic_ops``
    One per synapse read when its presynaptic neuron spikes, counted at the
    emission step on the core holding the synapse (the postsynaptic core).
``spike_msgs_within_core`` / ``spike_msgs_across_cores`` / ``spike_msgs_across_chips``
    One message per (spike, distinct destination core), counted on the
    source core, by where the destination lies.
``tile_hops``
    Sum over on-chip messages of the Manhattan distance between the source
    and destination tiles (0 within a tile).
``input_spike_msgs``
    Messages from host-injected inputs, one per (input spike, destination
    core), counted on the destination core.
``learning_updates``
    At every epoch end of a plastic projection (the step ``row`` with
    ``(row + 1) % t_epoch == 0``, ``row`` counted from the start of the
    session, see ``row0``): ``nnz x (number of rules)`` synaptic-variable
    updates, counted per synapse on the core of its postsynaptic neuron.
``random_draws``
    Random numbers drawn: one per StochasticBinary neuron per step (on its
    core); one per synapse read of a presynaptic spike on a projection with
    ``release_prob < 1`` (at the emission step, on the postsynaptic core);
    one stochastic rounding per learning update (as ``learning_updates``).
    The stochastic roundings of trace decay and impulses are not counted.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
from scipy import sparse

from ..errors import BackendError

COUNTER_NAMES = (
    "spikes",
    "neuron_updates_active",
    "neuron_updates_inactive",
    "synaptic_ops",
    "spike_msgs_within_core",
    "spike_msgs_across_cores",
    "spike_msgs_across_chips",
    "tile_hops",
    "input_spike_msgs",
    "learning_updates",
    "random_draws",
)


#: dtype of the counter arrays. A count per core and step stays far below 2**31 on any
#: Loihi core; int32 halves the memory of per-step counters, which on networks of
#: thousands of cores is most of a fast backend's time (fresh memory costs about
#: 0.5 ms per MB on the development machine). :func:`as_counter_array` checks the range.
COUNTER_DTYPE = np.int32


def as_counter_array(values: np.ndarray, name: str) -> np.ndarray:
    """``values`` (counts, any integer dtype) as a contiguous :data:`COUNTER_DTYPE` array.

    Raises BackendError naming the counter if a count does not fit.
    """
    values = np.asarray(values)
    if values.dtype == COUNTER_DTYPE:
        return np.ascontiguousarray(values)
    if values.size and (values.max() > np.iinfo(COUNTER_DTYPE).max or values.min() < 0):
        raise BackendError(f"counter '{name}' holds {values.max()} in one step on one core, outside 0..{np.iinfo(COUNTER_DTYPE).max}")
    return values.astype(COUNTER_DTYPE)


class Layout:
    """Core, chip and tile of every neuron of a placed CompiledNetwork."""

    def __init__(self, compiled: object) -> None:
        blocks = compiled.blocks  # type: ignore[attr-defined]
        self.n_cores = max((b.core for b in blocks), default=-1) + 1
        self.chip_of_core = np.zeros(max(self.n_cores, 1), dtype=np.int64)
        self.tile_of_core = np.zeros((max(self.n_cores, 1), 2), dtype=np.int64)
        for b in blocks:
            self.chip_of_core[b.core] = b.chip
            self.tile_of_core[b.core] = b.tile
        self.core_of: dict[str, np.ndarray] = {}
        for pop in compiled.populations:  # type: ignore[attr-defined]
            cores = np.full(pop.size, -1, dtype=np.int64)
            for b in blocks:
                if b.population == pop.name:
                    cores[b.start:b.stop] = b.core
            if not pop.is_input and (cores < 0).any():
                raise ValueError(f"population '{pop.name}' is not fully placed")
            self.core_of[pop.name] = cores


def _spike_matrix(raster: np.ndarray) -> sparse.csr_matrix:
    return sparse.csr_matrix(np.asarray(raster, dtype=np.int64))


def count_ops(compiled: object, rasters: Mapping[str, np.ndarray], steps: int, row0: int = 0,
              previous: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """All counters of a run.

    Parameters
    ----------
    compiled : CompiledNetwork
        The placed network that ran.
    rasters : mapping of str to numpy.ndarray
        ``(steps, size)`` boolean spike raster of every population.
    steps : int
        Steps run.
    row0 : int
        Row of the first step counted from the start of the simulation (a
        session that continues an earlier run); it places the learning epochs.
    previous : mapping of str to numpy.ndarray, optional
        ``(k, size)`` spike rasters of the ``k`` steps before ``row0`` (every
        population, same ``k``): their spikes still arriving in this run make
        neuron updates active.
    """
    layout = Layout(compiled)
    n_cores = layout.n_cores
    out = {name: np.zeros((steps, n_cores), dtype=np.int64) for name in COUNTER_NAMES}
    pops = {p.name: p for p in compiled.populations}  # type: ignore[attr-defined]
    spikes = {name: _spike_matrix(r) for name, r in rasters.items()}
    k_prev = next(iter(previous.values())).shape[0] if previous else 0
    with_prev = {name: _spike_matrix(np.concatenate([previous[name], r])) for name, r in rasters.items()} if k_prev else spikes
    received = {name: np.zeros((steps, p.size), dtype=bool) for name, p in pops.items() if not p.is_input}
    dest_cores: dict[str, sparse.csr_matrix] = {}

    for proj in compiled.projections:  # type: ignore[attr-defined]
        post_cores = layout.core_of[proj.post][proj.post_idx]
        per_core = sparse.csr_matrix((np.ones(proj.nnz, dtype=np.int64), (proj.pre_idx, post_cores)), shape=(proj.n_pre, n_cores))
        out["synaptic_ops"] += (spikes[proj.pre] @ per_core).toarray()
        reach = per_core.copy()
        reach.data[:] = 1
        dest_cores[proj.pre] = reach if proj.pre not in dest_cores else dest_cores[proj.pre] + reach
        if proj.release_prob < 1.0:
            out["random_draws"] += (spikes[proj.pre] @ per_core).toarray()
        if proj.plasticity is not None:
            rows = np.arange(row0, row0 + steps)
            due = (rows + 1) % int(proj.plasticity.t_epoch) == 0
            updates = np.bincount(post_cores, minlength=n_cores).astype(np.int64) * len(proj.plasticity.rules)
            out["learning_updates"][due] += updates
            out["random_draws"][due] += updates
        for delay in np.unique(proj.delays):
            sel = proj.delays == delay
            hit = sparse.csr_matrix((np.ones(int(sel.sum()), dtype=np.int64), (proj.pre_idx[sel], proj.post_idx[sel])), shape=(proj.n_pre, proj.n_post))
            arrivals = (with_prev[proj.pre] @ hit).toarray() > 0  # source row j arrives at run row j - k_prev + delay
            start = max(0, int(delay) - k_prev)
            if start < steps:
                received[proj.post][start:] |= arrivals[start + k_prev - delay: steps + k_prev - delay]

    for name, pop in pops.items():
        raster = np.asarray(rasters[name], dtype=bool)
        cores = layout.core_of[name]
        if pop.is_input:
            if name in dest_cores:
                reach = dest_cores[name]
                reach.data[:] = 1
                out["input_spike_msgs"] += (spikes[name] @ reach).toarray()
            continue
        active = raster | received[name] | (pop.bias_mant != 0)[None, :]
        onehot = sparse.csr_matrix((np.ones(pop.size, dtype=np.int64), (np.arange(pop.size), cores)), shape=(pop.size, n_cores))
        if pop.kind == "StochasticBinary":
            out["random_draws"] += np.bincount(cores, minlength=n_cores).astype(np.int64)[None, :]
        out["spikes"] += (spikes[name] @ onehot).toarray()
        out["neuron_updates_active"] += (sparse.csr_matrix(active.astype(np.int64)) @ onehot).toarray()
        out["neuron_updates_inactive"] += (sparse.csr_matrix((~active).astype(np.int64)) @ onehot).toarray()
        if name not in dest_cores:
            continue
        reach = dest_cores[name].tocoo()
        src_core = cores[reach.row]
        same_chip = layout.chip_of_core[src_core] == layout.chip_of_core[reach.col]
        kinds = {
            "spike_msgs_within_core": reach.col == src_core,
            "spike_msgs_across_cores": same_chip & (reach.col != src_core),
            "spike_msgs_across_chips": ~same_chip,
        }
        hops = np.abs(layout.tile_of_core[src_core] - layout.tile_of_core[reach.col]).sum(axis=1) * same_chip
        per_neuron = {k: np.bincount(reach.row, weights=v, minlength=pop.size).astype(np.int64) for k, v in kinds.items()}
        per_neuron["tile_hops"] = np.bincount(reach.row, weights=hops, minlength=pop.size).astype(np.int64)
        for counter, values in per_neuron.items():
            weighted = sparse.csr_matrix((values, (np.arange(pop.size), cores)), shape=(pop.size, n_cores))
            out[counter] += (spikes[name] @ weighted).toarray()
    return {k: as_counter_array(v, k) for k, v in out.items()}
