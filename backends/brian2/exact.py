"""Loihi-exact mode: the integer semantics of docs/backends.md, run by Brian2.

Every population is a Brian2 ``NeuronGroup`` whose variables are ``int64``
(``u``, ``v``, the bias, and one synaptic **accumulator** ``acc<k>`` per
incoming projection ``k``); every projection is a ``Synapses`` object whose
``on_pre`` adds the integer weight to the accumulator of its projection
(``acc<k>_post += w``) with a per-synapse ``delay`` of ``(d - 1) * dt``; inputs
are ``SpikeGeneratorGroup`` objects fed the rasters of
:mod:`yuragi.backends.inputs`.

Scheduling (Brian2's default slot order ``start, groups, thresholds,
synapses, resets, end``), for step ``t`` (Brian2 time ``t * dt``):

``groups`` (a ``run_regularly`` operation, ``order=1``, after Brian2's own
    state updater at ``order=0``, which refreshes ``not_refractory``): the
    integer update of docs/backends.md, steps 1-3 --
    ``a_in = sum_k shift_k(acc<k>)`` (each projection's per-step *sum*
    shifted by its ``weight_exp``: ``* 2**e``, or floor division ``// 2**-e``),
    then the decays ``sign(x)*(|x*(4096-d)| // 4096)``, ``+ a_in*64``, the
    24-bit wrap of ``u``, the clipped ``v`` update (only where
    ``not_refractory``), and the accumulators are zeroed.
``thresholds``: ``v > vth*64`` (Brian2 threshold; also blocked while refractory).
``synapses``: spikes of step ``t`` are pushed into Brian2's spike queue; a
    synapse with Brian2 delay ``(d-1)*dt`` runs its ``on_pre`` in the
    ``synapses`` slot of step ``t + d - 1``, i.e. *after* that step's
    ``groups`` update, so the weight enters ``u`` at step ``t + d``. Delay 1
    (Brian2 delay 0) is exactly Lava's ``Dense`` one-step buffer.
``resets``: ``v = 0``.
``end``: ``StateMonitor`` records the probed ``u``/``v`` (after the reset, as a
    Lava ``Monitor`` does).

Refractory period ``R`` uses Brian2's own mechanism with
``refractory=(R + 1) * dt``: Brian2 sets ``not_refractory`` in the state
updater of step ``s`` to ``s - lastspike >= R + 1``, so a neuron spiking at
``t`` skips the ``v`` update at steps ``t+1 .. t+R`` (v held at 0) while ``u``
keeps integrating.

All arithmetic is ``int64`` (Brian2 ``integer`` variables with an explicit
``dtype``; products ``x * (4096 - d)`` stay below ``2**36``). Brian2 has no
shift operators, so ``<< k`` is ``* 2**k`` and ``>> k`` is ``// 2**k``
(floor division, which equals an arithmetic right shift).
"""

from __future__ import annotations

import time
from typing import Any, Mapping

import numpy as np

from ...compiler.compiled import SIGN_INHIBITORY, SIGN_MIXED
from ...errors import BackendError
from ..base import check_steps
from ..counters import count_ops
from ..inputs import network_input_rasters
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

#: Loihi widths (lava/proc/lif/models.py, ``AbstractPyLifModelFixed``).
DECAY_UNITY = 1 << 12
ACT_SHIFT = 6
VTH_SHIFT = 6
U_DECAY_OFFSET = 1
STATE_MAX = 1 << 23  # 24-bit u/v

SUPPORTED_NEURONS = ("LIF",)


def lava_weights(weights: np.ndarray, num_weight_bits: int, sign_mode: int) -> np.ndarray:
    """What Lava's bit-accurate Dense makes of integer weights: ``clip_weights(num_bits=8)``
    then ``truncate_weights`` (lava/utils/weightutils.py), as int64."""
    w = np.asarray(weights, dtype=np.int64)
    mixed, inhibitory = int(sign_mode == SIGN_MIXED), sign_mode == SIGN_INHIBITORY
    if inhibitory:
        w = -w
    w = np.clip(w, -(1 << 8) * mixed, (1 << 8) - 1)
    drop = 8 - num_weight_bits + mixed
    w = (w >> drop) << drop
    return -w if inhibitory else w


def unsupported(program: Any) -> list[str]:
    """One line per element of ``program`` that the exact mode cannot run (empty if none)."""
    out = []
    for pop in program.populations:
        if not pop.is_input and pop.kind not in SUPPORTED_NEURONS:
            out.append(f"population '{pop.name}': {pop.kind} neurons are not supported by the brian2 exact mode yet (supported: {', '.join(SUPPORTED_NEURONS)})")
    for proj in program.projections:
        if proj.release_prob < 1.0:
            out.append(f"projection '{proj.name}': stochastic release (release_prob={proj.release_prob:g} < 1) is not supported by the brian2 exact mode yet")
        if proj.plasticity is not None:
            out.append(f"projection '{proj.name}': plasticity is not supported by the brian2 exact mode yet")
        if proj.nnz and proj.delays.min() < 1:
            out.append(f"projection '{proj.name}': delays must be >= 1 step, got {int(proj.delays.min())}")
        changed = np.nonzero(lava_weights(proj.weights, proj.num_weight_bits, proj.sign_mode) != proj.weights)[0]
        if changed.size:
            k = int(changed[0])
            out.append(f"projection '{proj.name}': weight {int(proj.weights[k])} (synapse {k}) is not on Lava's grid for "
                       f"num_weight_bits={proj.num_weight_bits}, sign_mode={proj.sign_mode} (Lava's Dense would use "
                       f"{int(lava_weights(proj.weights[k:k + 1], proj.num_weight_bits, proj.sign_mode)[0])}); "
                       f"{changed.size} weight(s) off grid -- quantize the network with yuragi.compiler")
    for probe in program.probes:
        if probe.variable not in ("spikes", "v", "u", "w"):
            out.append(f"probe '{probe.key}': variable '{probe.variable}' cannot be recorded by the brian2 backend")
    return out


def _shift_expr(name: str, exp: int) -> str:
    """Brian2 expression for ``name << exp`` (``>>`` = floor division for ``exp < 0``)."""
    if exp > 0:
        return f"{name} * {1 << exp}"
    if exp < 0:
        return f"({name} // {1 << -exp})"
    return name


def update_code(pop: Any, incoming: list[tuple[str, int]]) -> str:
    """The ``run_regularly`` code of one population: docs/backends.md steps 1-3.

    ``incoming`` lists ``(accumulator name, weight_exp)`` per incoming projection.
    """
    a_in = " + ".join(_shift_expr(acc, exp) for acc, exp in incoming) or "0"
    u_keep = DECAY_UNITY - (pop.du + U_DECAY_OFFSET)
    v_keep = DECAY_UNITY - pop.dv
    lines = [
        f"a_in = {a_in}",
        f"u_prod = u * {u_keep}",
        f"u_raw = sign(u_prod) * (abs(u_prod) // {DECAY_UNITY}) + a_in * {1 << ACT_SHIFT}",
        f"u = u_raw - {2 * STATE_MAX} * int(u_raw > {STATE_MAX}) + {2 * STATE_MAX} * int(u_raw <= {-STATE_MAX})",
        f"v_prod = v * {v_keep}",
        f"v_new = clip(sign(v_prod) * (abs(v_prod) // {DECAY_UNITY}) + u + bias, {-STATE_MAX + 1}, {STATE_MAX - 1})",
    ]
    if pop.refractory > 0:
        lines.append("v = v + int(not_refractory) * (v_new - v)")
    else:
        lines.append("v = v_new")
    lines += [f"{acc} = 0" for acc, _ in incoming]
    return "\n".join(lines)


def run(
    program: Any,
    steps: int,
    inputs: Mapping[str, np.ndarray] | None = None,
    progress: bool = False,
    mode: str = "exact",
) -> RunResult:
    """Run a CompiledNetwork in Brian2 with Loihi's integer arithmetic (bit-exact with Lava).

    Parameters
    ----------
    program : CompiledNetwork
        The compiled (quantized, placed) network.
    steps : int
        Steps to run.
    inputs : mapping of str to numpy.ndarray, optional
        Rasters of ExternalInput populations (``(steps, size)`` bool).
    progress : bool
        Print Brian2's text progress report.
    mode : str
        ``"exact"`` (the only fixed-point mode). The float reference takes the
        IR Network: :func:`yuragi.backends.brian2.run_float`.

    Returns
    -------
    RunResult
        ``backend="brian2"``; spikes of every population, probed ``u``/``v``
        as int64 ``(steps, size)``, op counters (empty if the program has no
        placement, noted in ``meta["counters"]``).
    """
    steps = check_steps(steps)
    if mode != "exact":
        raise BackendError(f"brian2 backend: mode must be 'exact' for a compiled network, got {mode!r} (the float reference is run_float(network))")
    problems = unsupported(program)
    if problems:
        raise BackendError(f"brian2 backend cannot run network '{program.name}': {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    rasters = network_input_rasters(program, steps, inputs)
    t_build = time.perf_counter()
    b2 = brian2_module()
    with codegen_target():
        dt_ms = float(program.dt)
        clock = b2.Clock(dt=dt_ms * b2.ms, name="yuragi_clock*")
        groups: dict[str, Any] = {}
        objects: list[Any] = []
        incoming: dict[str, list[tuple[str, int]]] = {p.name: [] for p in program.populations}
        acc_of: dict[str, str] = {}
        for k, proj in enumerate(program.projections):
            acc_of[proj.name] = f"acc{k}"
            incoming[proj.post].append((f"acc{k}", int(proj.weight_exp)))

        for index, pop in enumerate(program.populations):
            name = brian_name("pop", index, pop.name)
            if pop.is_input:
                groups[pop.name] = spike_generator(b2, rasters[pop.name], dt_ms, clock, name)
                objects.append(groups[pop.name])
                continue
            variables = ["u", "v", "bias"] + [acc for acc, _ in incoming[pop.name]]
            eqs = "\n".join(f"{var} : integer" for var in variables)
            group = b2.NeuronGroup(
                pop.size, eqs,
                threshold=f"v > {int(pop.vth) << VTH_SHIFT}", reset="v = 0",
                refractory=(pop.refractory + 1) * dt_ms * b2.ms if pop.refractory > 0 else False,
                dtype={var: np.int64 for var in variables}, clock=clock, name=name,
            )
            group.u = np.asarray(pop.u_init, dtype=np.int64)
            group.v = np.asarray(pop.v_init, dtype=np.int64)
            bias = np.asarray(pop.bias_mant, dtype=np.int64)
            group.bias = np.left_shift(bias, pop.bias_exp) if pop.bias_exp >= 0 else np.right_shift(bias, -pop.bias_exp)
            updater = group.run_regularly(update_code(pop, incoming[pop.name]), when="groups", order=1, name=brian_name("update", index, pop.name))
            groups[pop.name] = group
            objects += [group, updater]

        for k, proj in enumerate(program.projections):
            keep = proj.weights != 0  # a zero weight adds nothing (counters come from the program, not from Brian2)
            if not keep.any():
                continue
            syn = make_synapses(
                b2, groups[proj.pre], groups[proj.post], pre=proj.pre_idx[keep], post=proj.post_idx[keep],
                delays=proj.delays[keep], dt_ms=dt_ms, model="w : integer", on_pre=f"{acc_of[proj.name]}_post += w",
                dtype={"w": np.int64}, clock=clock, name=brian_name("proj", k, proj.name),
            )
            syn.w = proj.weights[keep]
            objects.append(syn)

        spike_mons: dict[str, Any] = {}
        state_mons: dict[str, Any] = {}
        for index, pop in enumerate(program.populations):
            if pop.is_input:
                continue
            spike_mons[pop.name] = b2.SpikeMonitor(groups[pop.name], variables=[], name=brian_name("spikes", index, pop.name))
            probed = sorted({p.variable for p in program.probes if p.target == pop.name and p.variable in ("u", "v")})
            if probed:
                state_mons[pop.name] = b2.StateMonitor(groups[pop.name], probed, record=True, when="end", clock=clock, name=brian_name("state", index, pop.name))
        objects += list(spike_mons.values()) + list(state_mons.values())
        build_s = time.perf_counter() - t_build
        run_s = run_network(b2, objects, steps, dt_ms, progress)

    dt_s = dt_ms * 1e-3
    all_rasters: dict[str, np.ndarray] = {}
    for pop in program.populations:
        all_rasters[pop.name] = rasters[pop.name] if pop.is_input else monitor_raster(spike_mons[pop.name], pop.size, steps, dt_s)
    probes: dict[str, np.ndarray] = {}
    for probe in program.probes:
        if probe.variable in ("u", "v"):
            mon = state_mons[probe.target]
            check_monitor_length(mon, steps, f"probe '{probe.key}'")
            probes[probe.key] = np.ascontiguousarray(np.asarray(getattr(mon, probe.variable)[:], dtype=np.int64).T)
        elif probe.variable == "w":
            weights = program.projection(probe.target).weights
            probes[probe.key] = np.broadcast_to(weights, (steps, weights.size)).copy()
    meta: dict[str, Any] = {"mode": "exact", "target": TARGET, "build_seconds": build_s, "run_seconds": run_s, "ms_per_step": 1e3 * run_s / steps}
    counters: dict[str, np.ndarray] = {}
    if program.blocks:
        counters = count_ops(program, all_rasters, steps)
    else:
        meta["counters"] = "not computed: the program has no placement (blocks)"
    spikes = {name: SpikeEvents.from_raster(r) for name, r in all_rasters.items()}
    return RunResult(program.name, "brian2", steps, float(program.dt), int(program.seed), spikes, probes, counters, meta)
