"""The paper's own equations in Brian2 (alpha PSC, white-noise background): the *unlowered* model.

This is not an IR network and no Loihi program is made from it. It runs the
equations of Diesmann, Gewaltig & Aertsen (1999) as written in ModelDB
153988 and the Brian2 example ``frompapers.Diesmann_et_al_1999``::

    tau_m  dV/dt = -(V - V_rest) + x            (EIF: + delta_T exp((V - V_T)/delta_T))
    tau_psp dx/dt = -x + y
    dy/dt = -y / tau_psp + mu + sigma xi        (a spike in: y += J; a gate spike: y += gate_J)

(Euler-Maruyama at ``dt``, as the Brian2 example), so that what the IR's
lowering (exponential PSC, bias + Poisson background; :mod:`.params`)
changes can be measured: same packets, same analysis.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import ModelError
from .analysis import PacketStats, packets_from_times, spike_times_by_block
from .network import chain_weight, initial_voltages, packet_spike_steps
from .params import NEURON_MODELS, SynfireParams


def run_paper_chain(
    a: int = 85,
    sigma_in: float = 1.0,
    neuron: str = "lif",
    gate_rate_hz: float = 0.0,
    seed: int = 1,
    params: SynfireParams | None = None,
    duration_ms: float | None = None,
) -> tuple[PacketStats, dict[str, Any]]:
    """Run the paper's chain equations in Brian2 and measure its packets.

    Parameters
    ----------
    a, sigma_in, neuron, gate_rate_hz, seed, params
        As in :func:`~.network.synfire_chain`; the EIF uses the same
        ``eif_J_factor`` on ``J``. ``seed`` seeds Brian2's generator (noise,
        gate; ``brian2.seed`` also reseeds numpy's global generator) and a
        local numpy generator (packet times, initial V; the same draws as
        the IR builder).
    duration_ms : float, optional
        Simulated time (default :func:`~.runs.chain_duration_ms`).

    Returns
    -------
    (PacketStats, dict)
        Per-group packet measures, and ``{"times": per-group spike times (ms),
        "run_seconds": wall time}``.
    """
    import time

    from ...backends.brian2._common import brian2_module, codegen_target
    from .runs import chain_duration_ms

    if neuron not in NEURON_MODELS:
        raise ModelError(f"synfire: neuron model must be one of {', '.join(NEURON_MODELS)}, got {neuron!r}")
    p = (params or SynfireParams()).checked()
    b2 = brian2_module()
    duration = chain_duration_ms(p) if duration_ms is None else duration_ms
    rng = np.random.default_rng([int(seed), 0x5F1E])
    n = p.n_groups * p.group_size
    v0 = initial_voltages(p, n, rng)
    steps = packet_spike_steps(int(a), float(sigma_in), p.packet_t_ms, p.dt, rng)
    J = p.J * (chain_weight(p, neuron) / p.chain_weight)
    spike = ""
    if neuron == "eif":
        spike = f" + {p.delta_T!r}*mV*exp((V - ({p.eif_threshold!r}*mV))/({p.delta_T!r}*mV))"
    eqs = f"""
    dV/dt = (-(V - ({p.v_rest!r}*mV)){spike} + x) / ({p.tau_mem!r}*ms) : volt (unless refractory)
    dx/dt = (-x + y) / ({p.tau_psp!r}*ms) : volt
    dy/dt = -y / ({p.tau_psp!r}*ms) + {p.mu!r}*mV/ms + {p.sigma!r}*mV/ms**0.5*xi : volt
    """
    v_spike = p.v_th if neuron == "lif" else p.v_cut
    start = time.perf_counter()
    with codegen_target():
        b2.seed(int(seed))
        clock = b2.Clock(dt=p.dt * b2.ms, name="synfire_paper_clock*")
        group = b2.NeuronGroup(n, eqs, threshold=f"V > {v_spike!r}*mV", reset=f"V = {p.v_rest!r}*mV",
                               refractory=p.refractory_ms * b2.ms, method="euler", clock=clock, name="synfire_paper*")
        group.V = (p.v_rest + v0) * b2.mV
        group.x = group.y = p.mu * p.tau_psp * b2.mV  # stationary means of x and y
        source = b2.SpikeGeneratorGroup(max(p.group_size, int(a)), np.arange(int(a)), steps * p.dt * b2.ms, clock=clock)
        s_in = b2.Synapses(source, group[: p.group_size], on_pre=f"y += {J!r}*mV", clock=clock)
        s_in.connect()
        objects = [group, source, s_in]
        if p.n_groups > 1:
            syn = b2.Synapses(group, group, on_pre=f"y += {J!r}*mV", delay=(p.delay_steps - 1) * p.dt * b2.ms, clock=clock)
            pre, post = [], []
            idx = np.arange(p.group_size)
            for k in range(p.n_groups - 1):
                jj, ii = np.meshgrid(idx, idx)
                pre.append(k * p.group_size + jj.ravel())
                post.append((k + 1) * p.group_size + ii.ravel())
            syn.connect(i=np.concatenate(pre), j=np.concatenate(post))
            objects.append(syn)
        if gate_rate_hz > 0:
            gate = b2.PoissonGroup(p.gate_size, gate_rate_hz * b2.Hz, clock=clock)
            s_gate = b2.Synapses(gate, group, on_pre=f"y += {p.gate_J!r}*mV", clock=clock)
            s_gate.connect()
            objects += [gate, s_gate]
        mon = b2.SpikeMonitor(group)
        objects.append(mon)
        b2.Network(*objects).run(duration * b2.ms, namespace={})
        t_ms = np.asarray(mon.t_[:], dtype=np.float64) * 1e3
        idx_spk = np.asarray(mon.i[:], dtype=np.int64)
    steps_spk = np.rint(t_ms / p.dt).astype(np.int64)
    times = spike_times_by_block(steps_spk, idx_spk, p.dt, p.group_size, p.n_groups)
    return packets_from_times(times, p), {"times": times, "run_seconds": time.perf_counter() - start}
