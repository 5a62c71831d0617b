"""Float reference mode: the IR Network simulated by Brian2 in continuous time.

The network keeps its physical parameters and units (ms, mV, mV/ms). A LIF
population is the Brian2 model::

    du/dt = -u / tau_syn                      : volt/second   (mV/ms)
    dv/dt = -v / tau_mem + u + bias           : volt (unless refractory)
    threshold: v > v_th      reset: v = v_reset      refractory: (R + 1) * dt

integrated exactly (``method="exact"``: the system is linear, so the solution
over a step is the matrix exponential; ``tau = inf`` drops the leak term and,
where Brian2's solver cannot handle the singular system, falls back as
:func:`equations` explains); EIF adds ``delta_T * exp((v - v_T)/delta_T) / tau_mem`` and uses
``method="exponential_euler"``. A presynaptic spike adds ``w`` (mV/ms) to
``u`` of the target (``on_pre: u_post += w``), with a release test
``rand() < release_prob`` when ``release_prob < 1`` (Brian2's generator,
seeded with the network seed -- this reseeds numpy's global generator;
statistically, not bitwise, like the others).

**Step alignment** (same as the exact mode, so rasters line up step for
step): a spike emitted at step ``t`` through a synapse of delay ``d`` (Brian2
delay ``(d - 1) * dt``) is added to ``u`` in the ``synapses`` slot of step
``t + d - 1`` and first moves ``v`` during the state update of step ``t + d``
-- the step at which the Euler form of docs/ir.md adds ``dt * w`` to ``v``.
Refractoriness ``R`` holds ``v`` at ``v_reset`` during the updates of steps
``t+1 .. t+R`` (Brian2's ``refractory`` interval counts the spike step
itself, hence ``(R + 1) * dt``). Inputs are the same rasters as every other
backend (:func:`yuragi.backends.inputs.input_raster`, stream = the
population's index in ``net.populations``, seed ``net.seed``).

**How this differs from docs/ir.md** (the Euler form that the quantized
program realises): Euler applies the whole step's current at once,
``v[t] = v[t-1](1 - dt/tau_mem) + dt (u[t] + bias)`` with ``u[t]`` already
including this step's jumps and decayed by ``1 - dt/tau_syn``; Brian2
integrates ``u`` and ``v`` together over the step, so a jump ``w`` moves
``v`` by ``w * tau_syn * (1 - exp(-dt/tau_syn))`` in its first step (``0.906
w dt`` at ``dt/tau_syn = 0.2``) instead of ``w dt``, decays are
``exp(-dt/tau)`` instead of ``1 - dt/tau``, and ``v`` is leaked while the
current charges it. The total charge a spike delivers (``w tau_syn`` with
``tau_mem = inf``) is the same; per-step differences are ``O(dt/tau)``, which
shift spike times by a step here and there. Compare this mode with the
fixed-point backends statistically (rates, spike-time precision), never
bitwise. Measured on ``ei_balanced`` (seeds 1-3, 3000 steps): population
rates 1.4-2.2 % below the quantized exact run and 0.5-2.1 % below a numpy
Euler run of docs/ir.md (the quantized run is within 1.3 % of Euler).
"""

from __future__ import annotations

import math
import time
from typing import Any, Mapping

import numpy as np

from ...errors import BackendError
from ...ir.neurons import EIF, LIF
from ..base import check_steps
from ..counters import count_ops
from ..inputs import source_rasters
from ..result import RunResult, SpikeEvents
from ._common import (
    TARGET,
    brian2_module,
    brian_name,
    check_monitor_length,
    codegen_target,
    make_synapses,
    monitor_raster,
    run_network,
    spike_generator,
)


def unsupported(net: Any) -> list[str]:
    """One line per element of ``net`` that the float reference cannot run."""
    out = []
    for pop in net.populations:
        if not pop.is_input and not isinstance(pop.model, (LIF, EIF)):
            out.append(f"population '{pop.name}': {type(pop.model).__name__} neurons are not supported by the brian2 float reference yet (supported: LIF, EIF)")
    for proj in net.projections:
        if proj.plasticity is not None:
            out.append(f"projection '{proj.name}': plasticity is not supported by the brian2 float reference yet")
    return out


def network_rasters(net: Any, steps: int, external: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Input rasters of an IR Network: the same streams as :func:`~yuragi.backends.inputs.network_input_rasters`."""
    sources = [(i, p.name, p.size, p.model) for i, p in enumerate(net.populations) if p.is_input]
    return source_rasters(sources, steps, net.seed, net.dt, external)


def _leak(var: str, tau: float) -> str:
    return "" if math.isinf(tau) else f"-{var} / ({float(tau)!r} * ms)"


def clamp_refractory(model: Any) -> bool:
    """True when ``v`` must be held by an explicit clamp instead of ``(unless refractory)``.

    Brian2's ``exact`` solver treats ``int(not_refractory)`` as a symbol; for
    ``tau_syn == tau_mem`` the solution it derives divides by
    ``int(not_refractory) - 1`` and gives NaN (brian2 2.9.0). Then ``v`` is
    integrated always and reset to ``v_reset`` after the state update while
    refractory -- the same values, since ``v`` sits at ``v_reset`` throughout.
    """
    return model.refractory > 0 and isinstance(model, LIF) and model.tau_syn == model.tau_mem and not math.isinf(model.tau_mem)


def equations(model: Any) -> tuple[str, str]:
    """Brian2 equations and integration method of one LIF/EIF population (constants inlined).

    LIF uses ``method="exact"`` whenever Brian2 can solve the system: its
    solver (brian2 2.9.0) rejects a singular coefficient matrix, so
    ``tau_syn = inf`` makes ``u`` a plain variable (changed only by spikes)
    and ``tau_mem = inf`` (a perfect integrator) uses ``euler`` when
    ``tau_syn = inf`` too (exact: the right-hand side is constant over a
    step) and ``rk4`` otherwise (relative error per step ``(dt/tau_syn)**5/120``).
    """
    u_line = "u : volt / second" if math.isinf(model.tau_syn) else f"du/dt = {_leak('u', model.tau_syn)} : volt / second"
    unless = " (unless refractory)" if model.refractory > 0 and not clamp_refractory(model) else ""
    bias = f"{float(model.bias)!r} * mV / ms"
    if isinstance(model, EIF):
        spike = f"{float(model.delta_T)!r} * mV * exp((v - {float(model.v_T)!r} * mV) / ({float(model.delta_T)!r} * mV))"
        leak = f"(-v + {spike}) / ({float(model.tau_mem)!r} * ms)" if not math.isinf(model.tau_mem) else "0 * mV / ms"
        v_rhs, method = f"{leak} + u + {bias}", "exponential_euler"
    elif math.isinf(model.tau_mem):
        v_rhs, method = f"u + {bias}", "euler" if math.isinf(model.tau_syn) else "rk4"
    else:
        v_rhs, method = f"{_leak('v', model.tau_mem)} + u + {bias}", "exact"
    return f"{u_line}\ndv/dt = {v_rhs} : volt{unless}", method


def _synapses(proj: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates, float weights and delays of an IR projection (dense: its non-zero entries, row-major)."""
    delays = np.asarray(proj.delays, dtype=np.int64)
    if proj.is_sparse:
        w = proj.weights
        return w.pre, w.post, w.values, np.broadcast_to(delays, w.values.shape)
    matrix = np.asarray(proj.weights)
    post, pre = np.nonzero(matrix)
    d = np.broadcast_to(delays, (post.size,)) if delays.ndim == 0 else delays[post, pre]
    return pre, post, matrix[post, pre], d


def run_float(
    net: Any,
    steps: int,
    inputs: Mapping[str, np.ndarray] | None = None,
    progress: bool = False,
    program: Any = None,
) -> RunResult:
    """Run the float reference of an IR Network in Brian2 (continuous time, physical units).

    Parameters
    ----------
    net : yuragi.ir.Network
        The network, with its float parameters.
    steps : int
        Steps of ``net.dt`` to run.
    inputs : mapping of str to numpy.ndarray, optional
        Rasters of ExternalInput populations.
    progress : bool
        Print Brian2's text progress report.
    program : CompiledNetwork, optional
        A placed compilation of ``net``; when given, the op counters of this
        run's spikes are computed on its placement (else counters are empty
        and ``meta["counters"]`` says why).

    Returns
    -------
    RunResult
        ``backend="brian2-float"``; probed ``v`` in mV (recorded after the
        step's reset) and ``u`` in mV/ms (after the step's integration, before
        the spikes of this step are added to it: they act from the next
        step), float64; ``w`` as the static float weights.
    """
    steps = check_steps(steps)
    problems = unsupported(net)
    if problems:
        raise BackendError(f"brian2 float reference cannot run network '{net.name}': {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    rasters = network_rasters(net, steps, inputs)
    b2 = brian2_module()
    t_build = time.perf_counter()
    with codegen_target():
        dt_ms = float(net.dt)
        clock = b2.Clock(dt=dt_ms * b2.ms, name="yuragi_clock*")
        objects: list[Any] = []
        groups: dict[str, Any] = {}
        for index, pop in enumerate(net.populations):
            name = brian_name("pop", index, pop.name)
            if pop.is_input:
                groups[pop.name] = spike_generator(b2, rasters[pop.name], dt_ms, clock, name)
                objects.append(groups[pop.name])
                continue
            model = pop.model
            eqs, method = equations(model)
            group = b2.NeuronGroup(
                pop.size, eqs, method=method,
                threshold=f"v > {float(model.v_th)!r} * mV", reset=f"v = {float(model.v_reset)!r} * mV",
                refractory=(model.refractory + 1) * dt_ms * b2.ms if model.refractory > 0 else False,
                clock=clock, name=name, namespace={"v_reset": float(model.v_reset) * b2.mV},
            )
            group.v = np.broadcast_to(pop.initial_v, (pop.size,)) * b2.mV
            groups[pop.name] = group
            objects.append(group)
            if clamp_refractory(model):  # after the state updater (order 0), which refreshes not_refractory
                objects.append(group.run_regularly(
                    "v = v * int(not_refractory) + v_reset * (1 - int(not_refractory))",
                    when="groups", order=1, name=brian_name("clamp", index, pop.name)))
        if any(p.release_prob < 1.0 for p in net.projections):
            b2.seed(int(net.seed))
        for k, proj in enumerate(net.projections):
            pre, post, values, delays = _synapses(proj)
            keep = values != 0
            if not keep.any():
                continue
            on_pre = "u_post += w" if proj.release_prob >= 1.0 else f"u_post += w * int(rand() < {float(proj.release_prob)!r})"
            syn = make_synapses(
                b2, groups[proj.pre], groups[proj.post], pre=np.asarray(pre)[keep], post=np.asarray(post)[keep],
                delays=delays[keep], dt_ms=dt_ms, model="w : volt / second", on_pre=on_pre,
                clock=clock, name=brian_name("proj", k, proj.name),
            )
            syn.w = np.asarray(values)[keep] * b2.mV / b2.ms
            objects.append(syn)
        spike_mons: dict[str, Any] = {}
        state_mons: dict[str, Any] = {}
        for index, pop in enumerate(net.populations):
            if pop.is_input:
                continue
            spike_mons[pop.name] = b2.SpikeMonitor(groups[pop.name], variables=[], name=brian_name("spikes", index, pop.name))
            for var in sorted({p.variable for p in net.probes if p.target == pop.name and p.variable in ("u", "v")}):
                # v after the reset; u before this step's spikes are added to it (they belong to the next step)
                state_mons[f"{pop.name}.{var}"] = b2.StateMonitor(
                    groups[pop.name], var, record=True, when="end" if var == "v" else "after_groups",
                    clock=clock, name=brian_name(f"state_{var}", index, pop.name))
        objects += list(spike_mons.values()) + list(state_mons.values())
        build_s = time.perf_counter() - t_build
        run_s = run_network(b2, objects, steps, dt_ms, progress)

    dt_s = dt_ms * 1e-3
    all_rasters = {pop.name: rasters[pop.name] if pop.is_input else monitor_raster(spike_mons[pop.name], pop.size, steps, dt_s) for pop in net.populations}
    probes: dict[str, np.ndarray] = {}
    for probe in net.probes:
        if probe.variable in ("u", "v"):
            mon = state_mons[probe.key]
            check_monitor_length(mon, steps, f"probe '{probe.key}'")
            raw = np.asarray(getattr(mon, probe.variable + "_")[:], dtype=np.float64).T
            # v: volt -> mV; u: volt/second == mV/ms (same number)
            probes[probe.key] = np.ascontiguousarray(raw * 1e3 if probe.variable == "v" else raw)
        elif probe.variable == "w":
            values = _synapses(net.projection(probe.target))[2]
            probes[probe.key] = np.broadcast_to(np.asarray(values, dtype=np.float64), (steps, len(values))).copy()
    meta: dict[str, Any] = {
        "mode": "float", "target": TARGET, "build_seconds": build_s, "run_seconds": run_s, "ms_per_step": 1e3 * run_s / steps,
        "integration": "continuous time (Brian2 exact/exponential_euler), not the Euler form of docs/ir.md; compare statistically",
    }
    counters: dict[str, np.ndarray] = {}
    if program is not None:
        counters = count_ops(program, all_rasters, steps)
        meta["counters"] = f"placement of compiled network '{program.name}' ({program.profile})"
    else:
        meta["counters"] = "not computed: op counters need a placement; pass program=<CompiledNetwork>"
    spikes = {name: SpikeEvents.from_raster(r) for name, r in all_rasters.items()}
    return RunResult(net.name, "brian2-float", steps, dt_ms, int(net.seed), spikes, probes, counters, meta)
