"""Loihi-exact mode: the integer semantics of docs/backends.md, run by Brian2.

Every population is a Brian2 ``NeuronGroup`` whose variables are ``int64``
(``u``, ``v``, the bias, and one synaptic **accumulator** ``acc<k>`` per
incoming projection ``k``); every projection is a ``Synapses`` object whose
``on_pre`` adds the integer weight to the accumulator of its projection
(``acc<k>_post += w``) with a per-synapse ``delay`` of ``(d - 1) * dt``; inputs
are ``SpikeGeneratorGroup`` objects fed the rasters of
:mod:`yuragi.backends.inputs`. StochasticBinary populations and stochastic
release are Brian2 code of :mod:`.stochastic`, EIF populations of
:mod:`.eif`, plasticity programs of :mod:`.learning` (all independent of
:mod:`yuragi.fixedpoint`, sharing only the hash :func:`yuragi.rng.hash32`
through :mod:`.hashfn`).

Scheduling (Brian2's default slot order ``start, groups, thresholds,
synapses, resets, end``), for step ``t`` (Brian2 time ``t * dt``,
``t_in_timesteps`` in code):

``groups`` (a ``run_regularly`` operation, ``order=1``, after Brian2's own
    state updater at ``order=0``, which refreshes ``not_refractory``): the
    integer update of docs/backends.md, steps 1-3 --
    ``a_in = sum_k shift_k(acc<k>)`` (each projection's per-step *sum*
    shifted by its ``weight_exp``: ``* 2**e``, or floor division ``// 2**-e``),
    then the decays ``sign(x)*(|x*(4096-d)| // 4096)``, ``+ a_in*64``, the
    24-bit wrap of ``u``, the clipped ``v`` update (only where
    ``not_refractory``), and the accumulators are zeroed. A StochasticBinary
    population computes ``x = u + bias`` and its draw ``fire`` instead of ``v``
    (a clamped one then sets ``fire`` to its clamp input's spike of the step,
    read from a ``TimedArray`` of that input's raster, ``clamp(t, i)``);
    an EIF population adds its exponential term ``E(v)`` (:mod:`.eif`) to the
    ``v`` update.
``thresholds``: ``v > vth*64`` (Brian2 threshold; also blocked while
    refractory); ``fire > 0`` for StochasticBinary.
``synapses``: spikes of step ``t`` are pushed into Brian2's spike queue; a
    synapse with Brian2 delay ``(d-1)*dt`` runs its ``on_pre`` in the
    ``synapses`` slot of step ``t + d - 1``, i.e. *after* that step's
    ``groups`` update, so the weight enters ``u`` at step ``t + d``. Delay 1
    (Brian2 delay 0) is exactly Lava's ``Dense`` one-step buffer. A plastic
    projection transmits with its current ``w`` here, before this step's
    learning.
``resets``: ``v = 0`` (EIF: ``v = eif_v_reset``).
``after_resets``: the learning engine of plastic projections (traces,
    dependencies, samples, then the rules at the end of an epoch).
``end``: ``StateMonitor`` records the probed ``u``/``v`` (after the reset, as a
    Lava ``Monitor`` does) and the probed ``w``/``d``/``t``/traces (after learning).

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
from . import eif, hashfn, learning
from .stochastic import NOISE_WIDTH_MAX, firing_code, release_on_pre

#: Loihi widths (lava/proc/lif/models.py, ``AbstractPyLifModelFixed``).
DECAY_UNITY = 1 << 12
ACT_SHIFT = 6
VTH_SHIFT = 6
U_DECAY_OFFSET = 1
STATE_MAX = 1 << 23  # 24-bit u/v

SUPPORTED_NEURONS = ("LIF", "StochasticBinary", "EIF")
#: Variables a probe may record: populations, projections, plastic projections only.
POPULATION_PROBES = ("spikes", "v", "u")
PLASTIC_PROBES = ("w", "d", "t", "x1", "x2", "y1", "y2", "y3")


def lava_weights(weights: np.ndarray, num_weight_bits: int, sign_mode: int) -> np.ndarray:
    """What Lava's bit-accurate Dense makes of integer weights: ``clip_weights(num_bits=8)``
    then ``truncate_weights`` (lava/utils/weightutils.py), as int64.

    Every projection starts from these weights (as in Lava and the emulator);
    the compiler's weights are already on this grid, so only hand-made
    programs are changed (``RunResult.meta["weights_truncated"]`` names them).
    A plastic projection learns from there; the weights its rules produce are
    used as they are (any integer of the sign mode's range).
    """
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
        if pop.is_input:
            continue
        if pop.kind not in SUPPORTED_NEURONS:
            out.append(f"population '{pop.name}': {pop.kind} neurons are not supported by the brian2 exact mode yet (supported: {', '.join(SUPPORTED_NEURONS)})")
        elif pop.kind == "StochasticBinary":
            width = dict(pop.params).get("noise_width")
            if width is None or not 2 <= width <= NOISE_WIDTH_MAX:
                out.append(f"population '{pop.name}': StochasticBinary needs the integer parameter noise_width in [2, 2**31], got {width}")
        clamp = getattr(pop, "clamp", None)
        if clamp is not None:
            source = next((p for p in program.populations if p.name == clamp), None)
            if pop.kind != "StochasticBinary" or source is None or not source.is_input or source.size != pop.size:
                out.append(f"population '{pop.name}': clamp '{clamp}' must be an input population of {pop.size} neurons, on a StochasticBinary population")
        elif pop.kind == "EIF":
            out += eif.problems(pop)
    for proj in program.projections:
        if proj.nnz and proj.delays.min() < 1:
            out.append(f"projection '{proj.name}': delays must be >= 1 step, got {int(proj.delays.min())}")
        if proj.plasticity is not None:
            out += learning.check(program, proj)
    pops = {p.name: p for p in program.populations}
    projs = {p.name: p for p in program.projections}
    for probe in program.probes:
        if probe.target in pops:
            allowed: tuple[str, ...] = ("spikes",) if pops[probe.target].is_input else POPULATION_PROBES
        elif probe.target in projs:
            allowed = PLASTIC_PROBES if projs[probe.target].plasticity is not None else ("w",)
        else:
            out.append(f"probe '{probe.key}': no population or projection '{probe.target}'")
            continue
        if probe.variable not in allowed:
            out.append(f"probe '{probe.key}': variable '{probe.variable}' cannot be recorded by the brian2 backend (allowed here: {', '.join(allowed)})")
    return out


def _shift_expr(name: str, exp: int) -> str:
    """Brian2 expression for ``name << exp`` (``>>`` = floor division for ``exp < 0``)."""
    if exp > 0:
        return f"{name} * {1 << exp}"
    if exp < 0:
        return f"({name} // {1 << -exp})"
    return name


#: Name of the TimedArray holding a clamped StochasticBinary population's clamp raster.
CLAMP = "clamp_raster"


def update_code(pop: Any, incoming: list[tuple[str, int]], seed: int = 0, pop_index: int = 0) -> str:
    """The ``run_regularly`` code of one population: docs/backends.md steps 1-3.

    ``incoming`` lists ``(accumulator name, weight_exp)`` per incoming
    projection. A StochasticBinary population (index ``pop_index`` in the
    network, run with ``seed``) computes ``x`` and its draw ``fire`` instead of
    ``v`` (clamped: ``fire`` is then the clamp input's spike, ``CLAMP(t, i)``);
    an EIF population adds ``E(v)`` of the voltage before the update.
    """
    a_in = " + ".join(_shift_expr(acc, exp) for acc, exp in incoming) or "0"
    u_keep = DECAY_UNITY - (pop.du + U_DECAY_OFFSET)
    lines = [
        f"a_in = {a_in}",
        f"u_prod = u * {u_keep}",
        f"u_raw = sign(u_prod) * (abs(u_prod) // {DECAY_UNITY}) + a_in * {1 << ACT_SHIFT}",
        f"u = u_raw - {2 * STATE_MAX} * int(u_raw > {STATE_MAX}) + {2 * STATE_MAX} * int(u_raw <= {-STATE_MAX})",
    ]
    if pop.kind == "StochasticBinary":
        lines.append("x = u + bias")
        lines += firing_code(seed, pop_index, pop.param("noise_width"))
        if getattr(pop, "clamp", None) is not None:  # the draw is made all the same; x (the probability) stays
            lines.append(f"fire = int({CLAMP}(t, i) > 0)")
    else:
        v_keep = DECAY_UNITY - pop.dv
        exp_term = ""
        if pop.kind == "EIF":
            lines += eif.exp_code(pop, "v", "eif_e")
            exp_term = " + eif_e"
        lines += [
            f"v_prod = v * {v_keep}",
            f"v_new = clip(sign(v_prod) * (abs(v_prod) // {DECAY_UNITY}) + u + bias{exp_term}, {-STATE_MAX + 1}, {STATE_MAX - 1})",
        ]
        lines.append("v = v + int(not_refractory) * (v_new - v)" if pop.refractory > 0 else "v = v_new")
    lines += [f"{acc} = 0" for acc, _ in incoming]
    return "\n".join(lines)


def _neuron_group(b2: Any, pop: Any, index: int, incoming: list[tuple[str, int]], seed: int, clock: Any,
                  clamp_raster: np.ndarray | None = None) -> tuple[Any, Any]:
    """The NeuronGroup of a LIF, EIF or StochasticBinary population and its update operation.

    ``clamp_raster`` is the ``(steps, size)`` raster of a clamped
    StochasticBinary population's clamp input (a ``TimedArray`` in the
    group's namespace).
    """
    name = brian_name("pop", index, pop.name)
    stochastic = pop.kind == "StochasticBinary"
    variables = ["u", "v", "bias", learning.LAST_SPIKE] + (["x", "fire"] if stochastic else []) + [acc for acc, _ in incoming]
    eqs = "\n".join(f"{var} : integer" for var in variables)
    last_spike = f"{learning.LAST_SPIKE} = t_in_timesteps"  # read by the learning engine
    if stochastic:  # no v dynamics (v stays 0), no refractory period
        ns = hashfn.namespace(b2)
        if clamp_raster is not None:
            ns[CLAMP] = b2.TimedArray(np.asarray(clamp_raster, dtype=np.int64), dt=clock.dt)
        group = b2.NeuronGroup(pop.size, eqs, threshold="fire > 0", reset=last_spike, dtype={var: np.int64 for var in variables},
                               clock=clock, name=name, namespace=ns)
    else:
        reset = eif.reset_code(pop) if pop.kind == "EIF" else "v = 0"
        group = b2.NeuronGroup(
            pop.size, eqs,
            threshold=f"v > {int(pop.vth) << VTH_SHIFT}", reset=f"{reset}\n{last_spike}",
            refractory=(pop.refractory + 1) * clock.dt if pop.refractory > 0 else False,
            dtype={var: np.int64 for var in variables}, clock=clock, name=name,
            namespace=eif.namespace(b2, pop) if pop.kind == "EIF" else None,
        )
        group.v = np.asarray(pop.v_init, dtype=np.int64)
    group.u = np.asarray(pop.u_init, dtype=np.int64)
    setattr(group, learning.LAST_SPIKE, -1)
    bias = np.asarray(pop.bias_mant, dtype=np.int64)
    group.bias = np.left_shift(bias, pop.bias_exp) if pop.bias_exp >= 0 else np.right_shift(bias, -pop.bias_exp)
    updater = group.run_regularly(update_code(pop, incoming, seed, index), when="groups", order=1, name=brian_name("update", index, pop.name))
    return group, updater


def _check_order(syn: Any, pre: np.ndarray, post: np.ndarray, proj: Any) -> None:
    if not (np.array_equal(np.asarray(syn.i[:]), pre) and np.array_equal(np.asarray(syn.j[:]), post)):
        raise BackendError(f"brian2 backend: internal error, synapses of projection '{proj.name}' are not in the compiled (COO) order")


def _static_synapses(b2: Any, proj: Any, k: int, seed: int, groups: dict[str, Any], acc: str, clock: Any) -> Any:
    """Synapses of a non-plastic projection (zero weights dropped; ``k`` keeps the COO index for release draws)."""
    keep = np.flatnonzero(lava_weights(proj.weights, proj.num_weight_bits, proj.sign_mode) != 0)  # a zero weight adds nothing (counters come from the program, not from Brian2)
    if not keep.size:
        return None
    delays = proj.delays[keep]
    dt_ms = float(clock.dt / b2.ms)
    name = brian_name("proj", k, proj.name)
    pre, post = proj.pre_idx[keep], proj.post_idx[keep]
    if proj.release_prob >= 1.0:
        syn = make_synapses(b2, groups[proj.pre], groups[proj.post], pre=pre, post=post, delays=delays, dt_ms=dt_ms,
                            model="w : integer", on_pre=f"{acc}_post += w", dtype={"w": np.int64}, clock=clock, name=name)
    else:
        uniform = bool((delays == delays[0]).all())
        lag = str(int(delays[0]) - 1) if uniform else "lag"
        variables = ["w", "k"] + ([] if uniform else ["lag"])
        syn = make_synapses(b2, groups[proj.pre], groups[proj.post], pre=pre, post=post, delays=delays, dt_ms=dt_ms,
                            model="\n".join(f"{v} : integer" for v in variables),
                            on_pre=release_on_pre(acc, seed, k, proj.release_prob, lag),
                            dtype={v: np.int64 for v in variables}, clock=clock, name=name, namespace=hashfn.namespace(b2))
        syn.k = keep
        if not uniform:
            syn.lag = delays - 1
    _check_order(syn, pre, post, proj)
    syn.w = lava_weights(proj.weights, proj.num_weight_bits, proj.sign_mode)[keep]
    return syn


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
        as int64 ``(steps, size)`` (``v`` is 0 for StochasticBinary), probed
        ``w``/``d``/``t`` of a projection as int64 ``(steps, nnz)`` (after the
        step's learning; a static projection's ``w`` is its weights), probed
        traces ``x1, x2`` ``(steps, n_pre)`` and ``y1, y2, y3``
        ``(steps, n_post)`` (after the step's trace update), op counters
        (empty if the program has no placement, noted in ``meta["counters"]``).
    """
    steps = check_steps(steps)
    if mode != "exact":
        raise BackendError(f"brian2 backend: mode must be 'exact' for a compiled network, got {mode!r} (the float reference is run_float(network))")
    problems = unsupported(program)
    if problems:
        raise BackendError(f"brian2 backend cannot run network '{program.name}': {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    rasters = network_input_rasters(program, steps, inputs)
    seed = int(program.seed)
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
            if pop.is_input:
                groups[pop.name] = spike_generator(b2, rasters[pop.name], dt_ms, clock, brian_name("pop", index, pop.name))
                objects.append(groups[pop.name])
                continue
            clamp = getattr(pop, "clamp", None)
            group, updater = _neuron_group(b2, pop, index, incoming[pop.name], seed, clock,
                                           clamp_raster=rasters[clamp] if clamp is not None else None)
            groups[pop.name] = group
            objects += [group, updater]

        populations = {p.name: p for p in program.populations}
        plastic: dict[str, learning.PlasticObjects] = {}
        for k, proj in enumerate(program.projections):
            if proj.plasticity is not None:
                plastic[proj.name] = learning.build(b2, proj, k, seed, groups, populations, acc_of[proj.name], clock,
                                                    brian_name("proj", k, proj.name),
                                                    lava_weights(proj.weights, proj.num_weight_bits, proj.sign_mode))
                objects += plastic[proj.name].objects
                continue
            syn = _static_synapses(b2, proj, k, seed, groups, acc_of[proj.name], clock)
            if syn is not None:
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
        learn_mons: dict[str, Any] = {}
        for k, proj in enumerate(program.projections):
            if proj.name not in plastic:
                continue
            wanted = {p.variable for p in program.probes if p.target == proj.name}
            parts = plastic[proj.name]
            for where, group, names in (("syn", parts.synapses, ("w", "d", "t")), ("pre", parts.pre_group, ("x1", "x2")), ("post", parts.post_group, ("y1", "y2", "y3"))):
                chosen = [n for n in names if n in wanted]
                if chosen and group is not None:
                    variables = [learning.SYN_VAR[n] for n in chosen] if where == "syn" else chosen
                    learn_mons[f"{proj.name}/{where}"] = b2.StateMonitor(group, variables, record=True, when="end", clock=clock,
                                                                         name=brian_name(f"learn_{where}", k, proj.name))
        objects += list(spike_mons.values()) + list(state_mons.values()) + list(learn_mons.values())
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
        elif probe.target in plastic and probe.variable != "spikes":
            where = "syn" if probe.variable in ("w", "d", "t") else "pre" if probe.variable[0] == "x" else "post"
            if f"{probe.target}/{where}" not in learn_mons:  # a projection without synapses
                probes[probe.key] = np.zeros((steps, 0), dtype=np.int64)
                continue
            mon = learn_mons[f"{probe.target}/{where}"]
            check_monitor_length(mon, steps, f"probe '{probe.key}'")
            var = learning.SYN_VAR[probe.variable] if where == "syn" else probe.variable
            probes[probe.key] = np.ascontiguousarray(np.asarray(getattr(mon, var)[:], dtype=np.int64).T)
        elif probe.variable == "w":
            proj = program.projection(probe.target)
            weights = lava_weights(proj.weights, proj.num_weight_bits, proj.sign_mode)
            probes[probe.key] = np.broadcast_to(weights, (steps, weights.size)).copy()
    meta: dict[str, Any] = {"mode": "exact", "target": TARGET, "build_seconds": build_s, "run_seconds": run_s, "ms_per_step": 1e3 * run_s / steps}
    truncated = [p.name for p in program.projections if not np.array_equal(lava_weights(p.weights, p.num_weight_bits, p.sign_mode), p.weights)]
    if truncated:
        meta["weights_truncated"] = truncated
    counters: dict[str, np.ndarray] = {}
    if program.blocks:
        counters = count_ops(program, all_rasters, steps)
    else:
        meta["counters"] = "not computed: the program has no placement (blocks)"
    spikes = {name: SpikeEvents.from_raster(r) for name, r in all_rasters.items()}
    return RunResult(program.name, "brian2", steps, float(program.dt), int(program.seed), spikes, probes, counters, meta)
