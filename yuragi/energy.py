"""Energy of a run: the op counters of a RunResult priced with a hardware profile.

::

    from yuragi.energy import profile_energy
    report = profile_energy(result, compiled, "loihi1", samples=1)
    report.total_j, report.energy_per_spike_j, report.to_dict()

Model (see ``docs/energy.md`` for the derivation and its validation):

Dynamic energy, per op class (``profile.energy.*`` in pJ)::

    neuron_update_active    N_active   x energy.neuron_update_active
    neuron_update_inactive  N_inactive x energy.neuron_update_inactive
    synaptic_op             N_synop    x energy.synaptic_op
    spike_msg_on_chip       (msgs within core + across cores) x energy.spike_within_tile
    tile_hop_ew / _ns       mesh hops (split by direction from the placement) x energy.tile_hop_ew / _ns
    spike_across_chip       msgs to another chip x energy.spike_across_chip
    input_spike_msg         host-injected messages x energy.spike_within_tile
    learning_update         synapses visited by the learning engine x energy.learning_update_per_synapse
    random_draw             random numbers drawn x energy.random_draw

Time per step (``profile.time.*`` in ns), for each step ``s``::

    t_core[s, c] = N_active t.neuron_update_active + N_inactive t.neuron_update_inactive
                 + N_synop t.synaptic_op + N_learn t.synaptic_update
                 + (on-chip msgs + input msgs) t.spike_within_tile + hops_ew t.tile_hop_ew + hops_ns t.tile_hop_ns
    t_step[s]    = max(time_per_step_min_ns, max_c t_core[s, c] + barrier)
    barrier      = barrier_multichip                          if the network spans > 1 chip
                 = interpolate(barrier_sync_min..max, tiles)   otherwise (1 tile -> min, tiles_per_chip -> max)

Cores work in parallel, so a step lasts as long as its busiest core plus the
end-of-step barrier; ``time_per_step_min_ns`` is a floor on any step.

Static energy = ``static_power_mw_per_chip`` x chips used x sum of t_step.

Per-population breakdown: counters are per core; a core shared by several
populations is split between them in proportion to their neurons on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .hw_profiles import HardwareProfile, load_profile

#: op class -> (counter names summed, energy key, time key or None)
OP_CLASSES: dict[str, tuple[tuple[str, ...], str, str | None]] = {
    "neuron_update_active": (("neuron_updates_active",), "energy.neuron_update_active", "time.neuron_update_active"),
    "neuron_update_inactive": (("neuron_updates_inactive",), "energy.neuron_update_inactive", "time.neuron_update_inactive"),
    "synaptic_op": (("synaptic_ops",), "energy.synaptic_op", "time.synaptic_op"),
    "spike_msg_on_chip": (("spike_msgs_within_core", "spike_msgs_across_cores"), "energy.spike_within_tile", "time.spike_within_tile"),
    "tile_hop_ew": (("tile_hops_ew",), "energy.tile_hop_ew", "time.tile_hop_ew"),
    "tile_hop_ns": (("tile_hops_ns",), "energy.tile_hop_ns", "time.tile_hop_ns"),
    "spike_across_chip": (("spike_msgs_across_chips",), "energy.spike_across_chip", None),
    "input_spike_msg": (("input_spike_msgs",), "energy.spike_within_tile", "time.spike_within_tile"),
    "learning_update": (("learning_updates",), "energy.learning_update_per_synapse", "time.synaptic_update"),
    "random_draw": (("random_draws",), "energy.random_draw", None),
}

PJ = 1e-12
NS = 1e-9


def hop_split(result: Any, compiled: Any) -> tuple[np.ndarray, np.ndarray]:
    """East-west and north-south mesh hops per step and core, ``(steps, n_cores)`` each.

    The ``tile_hops`` counter is the Manhattan distance summed; pricing needs
    the two directions apart (E-W and N-S hops cost differently), so they are
    recomputed from the spikes and the placement exactly as the counter is
    (one message per spike and distinct destination core on the same chip,
    counted on the source core); x is east-west, y north-south.
    """
    from scipy import sparse

    from .backends.counters import Layout

    layout = Layout(compiled)
    n_cores = max(layout.n_cores, 1)
    steps = int(result.steps)
    ew = np.zeros((steps, n_cores), dtype=np.int64)
    ns = np.zeros((steps, n_cores), dtype=np.int64)
    reach: dict[str, Any] = {}
    for proj in compiled.projections:
        post_cores = layout.core_of[proj.post][proj.post_idx]
        m = sparse.csr_matrix((np.ones(proj.nnz, dtype=np.int64), (proj.pre_idx, post_cores)), shape=(proj.n_pre, n_cores))
        reach[proj.pre] = m if proj.pre not in reach else reach[proj.pre] + m
    for pop in compiled.populations:
        if pop.is_input or pop.name not in reach or pop.name not in result.spikes:
            continue
        r = reach[pop.name].tocoo()
        keep = r.data > 0
        rows, cols = r.row[keep], r.col[keep]
        cores = layout.core_of[pop.name]
        src = cores[rows]
        same_chip = layout.chip_of_core[src] == layout.chip_of_core[cols]
        d = np.abs(layout.tile_of_core[src] - layout.tile_of_core[cols]) * same_chip[:, None]
        ev = result.spikes[pop.name]
        spk = sparse.csr_matrix((np.ones(ev.steps.size, dtype=np.int64), (ev.steps, ev.neurons)), shape=(steps, pop.size))
        for axis, out in ((0, ew), (1, ns)):
            per_neuron = np.bincount(rows, weights=d[:, axis], minlength=pop.size).astype(np.int64)
            w = sparse.csr_matrix((per_neuron, (np.arange(pop.size), cores)), shape=(pop.size, n_cores))
            out += (spk @ w).toarray()
    return ew, ns


def _counter(result: Any, name: str, shape: tuple[int, int]) -> np.ndarray:
    c = result.counters.get(name)
    if c is None:
        return np.zeros(shape, dtype=np.int64)
    c = np.asarray(c, dtype=np.int64)
    out = np.zeros(shape, dtype=np.int64)
    out[: c.shape[0], : c.shape[1]] = c
    return out


@dataclass(frozen=True)
class EnergyReport:
    """Energy of one run on one hardware profile. Energies in J, times in s.

    ``by_class``: dynamic energy per op class (keys of :data:`OP_CLASSES`);
    ``counts``: op count per class; ``by_core``: core -> class -> J (dynamic);
    ``by_population``: population -> class -> J (shared cores split by neuron
    share); ``estimated_inputs``: profile keys that contributed a non-zero
    amount and are marked estimated; ``depends_on_estimates``: for each total
    (``dynamic``, ``static``, ``time``, every op class), the estimated keys it
    rests on; ``baselines``: literature CPU/GPU energy of the same synaptic
    ops (comparison only).
    """

    network: str
    profile: str
    steps: int
    samples: int
    chips: int
    cores: int
    counts: dict[str, int]
    by_class: dict[str, float]
    by_core: dict[int, dict[str, float]]
    by_population: dict[str, dict[str, float]]
    dynamic_j: float
    static_j: float
    time_s: float
    time_per_step_s: float
    barrier_s: float
    total_spikes: int
    total_synops: int
    estimated_inputs: list[str]
    depends_on_estimates: dict[str, list[str]]
    baselines: dict[str, dict[str, Any]]
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def total_j(self) -> float:
        return self.dynamic_j + self.static_j

    @property
    def energy_per_spike_j(self) -> float:
        return self.total_j / self.total_spikes if self.total_spikes else float("nan")

    @property
    def energy_per_synop_j(self) -> float:
        return self.total_j / self.total_synops if self.total_synops else float("nan")

    @property
    def energy_per_step_j(self) -> float:
        return self.total_j / self.steps if self.steps else float("nan")

    @property
    def energy_per_sample_j(self) -> float:
        return self.total_j / self.samples

    @property
    def dynamic_fraction(self) -> float:
        return self.dynamic_j / self.total_j if self.total_j else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of everything in the report (energies in J, times in s)."""
        return {
            "network": self.network, "profile": self.profile, "steps": self.steps, "samples": self.samples,
            "chips": self.chips, "cores": self.cores, "counts": dict(self.counts),
            "dynamic_by_class_j": dict(self.by_class),
            "dynamic_by_core_j": {str(k): dict(v) for k, v in self.by_core.items()},
            "dynamic_by_population_j": {k: dict(v) for k, v in self.by_population.items()},
            "dynamic_j": self.dynamic_j, "static_j": self.static_j, "total_j": self.total_j,
            "dynamic_fraction": self.dynamic_fraction,
            "time_s": self.time_s, "time_per_step_s": self.time_per_step_s, "barrier_s": self.barrier_s,
            "total_spikes": self.total_spikes, "total_synops": self.total_synops,
            "energy_per_spike_j": _nan_none(self.energy_per_spike_j),
            "energy_per_synop_j": _nan_none(self.energy_per_synop_j),
            "energy_per_step_j": _nan_none(self.energy_per_step_j),
            "energy_per_sample_j": self.energy_per_sample_j,
            "estimated_inputs": list(self.estimated_inputs),
            "depends_on_estimates": {k: list(v) for k, v in self.depends_on_estimates.items()},
            "baselines": self.baselines, "sources": dict(self.sources), "notes": list(self.notes),
        }


def _nan_none(x: float) -> float | None:
    return None if x != x else x


def _barrier_ns(profile: HardwareProfile, compiled: Any) -> tuple[float, list[str]]:
    chips = {b.chip for b in compiled.blocks}
    if len(chips) > 1:
        return float(profile.time.barrier_multichip), ["time.barrier_multichip"]
    tiles = len({tuple(b.tile) for b in compiled.blocks}) or 1
    span = max(profile.chip.tiles_per_chip - 1, 1)
    frac = min(max((tiles - 1) / span, 0.0), 1.0)
    t = profile.time.barrier_sync_min + frac * (profile.time.barrier_sync_max - profile.time.barrier_sync_min)
    return float(t), ["time.barrier_sync_min", "time.barrier_sync_max"]


def profile_energy(result: Any, compiled: Any, profile: str | HardwareProfile, samples: int = 1) -> EnergyReport:
    """Price the op counters of ``result`` (a RunResult of ``compiled``) with ``profile``.

    Parameters
    ----------
    result : RunResult
        A run of ``compiled`` (any fixed-point backend; their counters are equal).
    compiled : CompiledNetwork
        The placed network that ran (gives chips, tiles and the population of each core).
    profile : str or HardwareProfile
        ``loihi1``, ``loihi2``, a path to a ``.toml`` profile, or a loaded profile.
    samples : int
        Samples (inferences) the run is a batch of; gives energy per sample.
    """
    from .errors import YuragiError

    prof = load_profile(profile)
    if samples < 1:
        raise YuragiError(f"samples must be >= 1, got {samples}")
    if not result.counters:
        raise YuragiError(f"run of '{result.network}' on {result.backend} has no op counters; cannot price it")
    steps = int(result.steps)
    n_cores = max([int(np.asarray(c).shape[1]) for c in result.counters.values()] + [max((b.core for b in compiled.blocks), default=-1) + 1, 1])
    shape = (steps, n_cores)
    notes: list[str] = []

    per: dict[str, np.ndarray] = {name: _counter(result, name, shape) for name in (
        "spikes", "neuron_updates_active", "neuron_updates_inactive", "synaptic_ops", "spike_msgs_within_core",
        "spike_msgs_across_cores", "spike_msgs_across_chips", "tile_hops", "input_spike_msgs", "learning_updates", "random_draws")}
    try:
        ew, ns = hop_split(result, compiled)
        ew = _counter(_Wrap({"x": ew}), "x", shape)
        ns = _counter(_Wrap({"x": ns}), "x", shape)
        if not np.array_equal(ew + ns, per["tile_hops"]):
            raise ValueError("hop split does not add up to tile_hops")
    except Exception as exc:  # counters from elsewhere: price hops at the mean E-W/N-S cost
        notes.append(f"tile hops could not be split by direction ({exc}); priced half E-W, half N-S")
        ew = per["tile_hops"] // 2
        ns = per["tile_hops"] - ew
    per["tile_hops_ew"], per["tile_hops_ns"] = ew, ns

    used: set[str] = set()
    class_counts: dict[str, np.ndarray] = {}
    by_class: dict[str, float] = {}
    core_j: dict[str, np.ndarray] = {}
    t_core = np.zeros(shape, dtype=float)
    time_keys: set[str] = set()
    for cls, (counters, ekey, tkey) in OP_CLASSES.items():
        n = sum((per[c] for c in counters), np.zeros(shape, dtype=np.int64))
        class_counts[cls] = n
        e = float(prof.value(ekey))
        core_j[cls] = n.sum(axis=0) * e * PJ
        by_class[cls] = float(n.sum()) * e * PJ
        if n.any():
            used.add(ekey)
            if tkey is not None:
                t_core += n * float(prof.value(tkey))
                time_keys.add(tkey)
    barrier_ns, barrier_keys = _barrier_ns(prof, compiled)
    floor_ns = float(prof.time.time_per_step_min_ns)
    busy = t_core.max(axis=1) + barrier_ns if steps else np.zeros(0)
    t_step = np.maximum(busy, floor_ns)
    if (busy > floor_ns).any():
        time_keys.update(barrier_keys)
    else:  # the floor binds on every step: the step time depends on it alone
        time_keys = set()
    if (busy <= floor_ns).any():
        time_keys.add("time.time_per_step_min_ns")
    time_s = float(t_step.sum()) * NS
    chips = len({b.chip for b in compiled.blocks}) or 1
    static_j = float(prof.energy.static_power_mw_per_chip) * 1e-3 * chips * time_s
    dynamic_j = float(sum(by_class.values()))

    by_core = {c: {cls: float(core_j[cls][c]) for cls in OP_CLASSES} for c in sorted({b.core for b in compiled.blocks})}
    by_pop: dict[str, dict[str, float]] = {}
    on_core: dict[int, int] = {}
    for b in compiled.blocks:
        on_core[b.core] = on_core.get(b.core, 0) + b.size
    for b in compiled.blocks:
        share = b.size / on_core[b.core] if on_core[b.core] else 0.0
        d = by_pop.setdefault(b.population, {cls: 0.0 for cls in OP_CLASSES})
        for cls in OP_CLASSES:
            d[cls] += share * float(core_j[cls][b.core])
    if any(len({b.population for b in compiled.blocks if b.core == c}) > 1 for c in on_core):
        notes.append("cores shared by several populations are split between them by neuron share")

    def est(keys: set[str] | list[str]) -> list[str]:
        return sorted(k for k in keys if prof.is_estimated(k))

    depends = {cls: est([OP_CLASSES[cls][1]]) for cls in OP_CLASSES if class_counts[cls].any()}
    depends["dynamic"] = est(used)
    depends["time"] = est(time_keys)
    depends["static"] = est(time_keys | {"energy.static_power_mw_per_chip"})
    estimated = est(used | time_keys | {"energy.static_power_mw_per_chip"})
    total_synops = int(per["synaptic_ops"].sum())
    total = dynamic_j + static_j
    baselines = {}
    for dev in ("cpu", "gpu"):
        key = f"energy.{dev}_baseline_pj_per_synop"
        e = float(prof.value(key)) * total_synops * PJ
        baselines[dev] = {"label": f"{dev.upper()} literature figure ({prof.value(key)} pJ per synaptic op/MAC; comparison only)",
                          "energy_j": e, "ratio_vs_total": e / total if total else None, "source": prof.source_of(key),
                          "estimated": prof.is_estimated(key)}
    sources = {k: prof.source_of(k) for k in sorted(used | time_keys | {"energy.static_power_mw_per_chip"})}
    return EnergyReport(
        network=str(result.network), profile=prof.name, steps=steps, samples=int(samples), chips=chips,
        cores=len(on_core), counts={cls: int(v.sum()) for cls, v in class_counts.items()}, by_class=by_class,
        by_core=by_core, by_population=by_pop, dynamic_j=dynamic_j, static_j=static_j, time_s=time_s,
        time_per_step_s=time_s / steps if steps else 0.0, barrier_s=barrier_ns * NS,
        total_spikes=int(per["spikes"].sum()), total_synops=total_synops, estimated_inputs=estimated,
        depends_on_estimates=depends, baselines=baselines, sources=sources, notes=notes,
    )


class _Wrap:
    def __init__(self, counters: Mapping[str, np.ndarray]) -> None:
        self.counters = counters


def energy_plot(reports: list[EnergyReport], path: str, by: str = "core") -> str:
    """Stacked bar chart of dynamic energy by op class per core (or per population), one panel per report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(reports), figsize=(5.5 * len(reports), 4.2), squeeze=False)
    for ax, rep in zip(axes[0], reports):
        groups = rep.by_core if by == "core" else rep.by_population
        labels = [f"core {k}" if by == "core" else str(k) for k in groups]
        bottom = np.zeros(len(groups))
        for cls in OP_CLASSES:
            vals = np.array([groups[k][cls] for k in groups]) * 1e6
            if vals.any():
                ax.bar(labels, vals, bottom=bottom, label=cls)
                bottom += vals
        ax.set_ylabel("dynamic energy (µJ)")
        ax.set_title(f"{rep.network} on {rep.profile}: {rep.total_j * 1e6:.3g} µJ total\n(static {rep.static_j * 1e6:.3g} µJ not shown)", fontsize=9)
        ax.tick_params(axis="x", rotation=45)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def activity_plot(reports: list[EnergyReport], path: str) -> str:
    """Energy per sample (total, dynamic, static) against activity (spikes per step), one point per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reports = sorted(reports, key=lambda r: r.total_spikes / r.steps)
    x = [r.total_spikes / r.steps for r in reports]
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    for label, get in (("total", lambda r: r.total_j), ("dynamic", lambda r: r.dynamic_j), ("static", lambda r: r.static_j)):
        ax.plot(x, [get(r) / r.samples * 1e6 for r in reports], marker="o", label=label)
    ax.set_xlabel("activity (spikes per step)")
    ax.set_ylabel("energy per sample (µJ)")
    ax.set_title(f"{reports[0].network} on {reports[0].profile}, {reports[0].steps} steps per sample", fontsize=9)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
