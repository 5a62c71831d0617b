"""The IR's own Euler equations in float64 (docs/ir.md), for LIF and EIF networks: the quantized program minus the rounding.

The fixed-point backends run the Euler form of docs/ir.md on integers; the
Brian2 float reference integrates the same model in continuous time. This
small numpy loop runs the Euler form in float64 with the same input
rasters, so a difference between the float reference and the quantized
program can be split into *integration scheme* (Brian2 exact vs Euler) and
*quantization* (Euler float vs fixed point)::

    u[t] = u[t-1] (1 - dt/tau_syn) + sum_p W_p s_pre[t - d_p]
    v[t] = v[t-1] (1 - dt/tau_mem) + dt (u[t] + bias)        (not while refractory)
    spike when v[t] > v_th; then v = v_reset, held for `refractory` steps

EIF populations add ``(dt/tau_mem) delta_T exp((v[t-1] - v_T)/delta_T)`` to
the ``v`` update, from the voltage before it (the Euler form of
``yuragi.fixedpoint.eif``, without its table and rounding).

Supported: LIF and EIF populations, projections with one delay each, no plasticity,
``release_prob = 1`` (what the synfire networks use).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import BackendError
from ...ir.neurons import EIF, LIF


def run_euler(net: Any, steps: int) -> Any:
    """Run an IR network of LIF / EIF populations with the float Euler equations; a RunResult (``backend="euler-float"``)."""
    from scipy.sparse import csr_matrix

    from ...backends.brian2.reference import network_rasters
    from ...backends.result import RunResult, SpikeEvents

    for pop in net.populations:
        if not pop.is_input and not isinstance(pop.model, (LIF, EIF)):
            raise BackendError(f"euler-float: population '{pop.name}' is {type(pop.model).__name__}; only LIF and EIF are supported")
    for proj in net.projections:
        if proj.plasticity is not None or proj.release_prob < 1.0 or np.asarray(proj.delays).ndim != 0:
            raise BackendError(f"euler-float: projection '{proj.name}' needs plasticity, stochastic release or per-synapse delays (not supported)")
    rasters = network_rasters(net, steps)
    dt = float(net.dt)
    neurons = [p for p in net.populations if not p.is_input]
    for p in neurons:
        rasters[p.name] = np.zeros((steps, p.size), dtype=bool)
    sizes = {p.name: p.size for p in net.populations}
    incoming: dict[str, list[tuple[Any, str, int]]] = {p.name: [] for p in neurons}
    for proj in net.projections:
        if proj.is_sparse:
            w = proj.weights
            mat = csr_matrix((w.values, (w.post, w.pre)), shape=(sizes[proj.post], sizes[proj.pre]))
        else:
            mat = csr_matrix(np.asarray(proj.weights))
        incoming[proj.post].append((mat, proj.pre, int(proj.delays)))
    state = {}
    for p in neurons:
        m = p.model
        state[p.name] = {
            "u": np.zeros(p.size), "v": np.broadcast_to(p.initial_v, (p.size,)).astype(np.float64).copy(),
            "ref": np.zeros(p.size, dtype=np.int64),
            "ru": 1.0 - dt / m.tau_syn, "rv": 1.0 - dt / m.tau_mem,
        }
    for t in range(steps):
        for p in neurons:
            st, m = state[p.name], p.model
            drive = np.zeros(p.size)
            for mat, pre, d in incoming[p.name]:
                if t - d >= 0:
                    drive += mat @ rasters[pre][t - d]
            st["u"] = st["u"] * st["ru"] + drive
            free = st["ref"] == 0
            step = st["v"] * st["rv"] + dt * (st["u"] + m.bias)
            if isinstance(m, EIF):
                step = step + dt / m.tau_mem * m.delta_T * np.exp(np.minimum((st["v"] - m.v_T) / m.delta_T, 50.0))
            st["v"] = np.where(free, step, st["v"])
            st["ref"] = np.maximum(st["ref"] - 1, 0)
            spk = st["v"] > m.v_th
            st["v"][spk] = m.v_reset
            st["ref"][spk] = m.refractory
            rasters[p.name][t] = spk
    spikes = {p.name: SpikeEvents.from_raster(rasters[p.name]) for p in net.populations}
    return RunResult(net.name, "euler-float", steps, dt, int(net.seed), spikes, {}, {}, {"mode": "float64 Euler of docs/ir.md (models/synfire/euler.py)"})
