"""Target validation: does every feature of a network run on the chosen hardware profile?

:func:`validate_for_target` is the compiler's first pass after IR validation.
It walks every population and projection of a :class:`~yuragi.ir.Network`,
records for each feature whether it runs **natively**, needs **Loihi 2
microcode**, or is **emulated only** (a :class:`FeatureStatus` each, for the
compile report), and collects every feature or limit the target cannot meet.
If there is at least one, it raises one :class:`~yuragi.errors.CompileError`
whose ``problems`` hold one line per problem; each line names the population
or projection, the feature or limit, what the profile allows and what to
change, e.g.::

    projection 'exc->exc': delay of 80 steps exceeds loihi1's longest synaptic
    delay (bits.max_delay = 62 steps); use delays <= 62 steps, or relay through
    an extra population

What the open Lava models (lava-nc 0.10.0) lack is taken into account: the
bit-accurate LIF (``lava/proc/lif/models.py``, ``PyLifModelBitAcc``) has no
refractory period (its docstring lists it as missing vs. Loihi 1); no Lava
process has an EIF, a stochastic binary neuron or a per-synapse release
probability; the learning engine is simulated bit-*approximately*
(``lava/proc/dense/models.py``, ``PyLearningDenseModelBitApproximate``).
"""

from __future__ import annotations

import math
from typing import Iterable

from ..errors import CompileError
from ..hw_profiles import HardwareProfile, load_profile
from ..ir import Network
from ..ir.neurons import EIF, LIF, StochasticBinary
from ..ir.network import Population
from ..ir.plasticity import PlasticityProgram
from ..ir.projection import Projection
from .compiled import EMULATED, MICROCODE, NATIVE, FeatureStatus

__all__ = ["validate_for_target", "chip_name"]

_HINT_LOIHI2 = "--profile loihi2"
_HINT_EMULATED = "--allow-emulated"


def chip_name(profile: HardwareProfile) -> str:
    """Human name of the profile's chip generation, e.g. ``'Loihi 1'``.

    Parameters
    ----------
    profile : HardwareProfile
        The target profile; its ``family`` (``loihi1``/``loihi2``) decides.
    """
    return {"loihi1": "Loihi 1", "loihi2": "Loihi 2"}.get(profile.family, profile.name)


def _num(x: float) -> str:
    """A number as written in messages (``5``, ``0.5``, ``inf``)."""
    return f"{x:g}"


class _Collector:
    """Accumulates feature statuses and problems while walking a network."""

    def __init__(self) -> None:
        self.statuses: list[FeatureStatus] = []
        self.problems: list[str] = []

    def status(self, element: str, feature: str, status: str, note: str = "") -> None:
        self.statuses.append(FeatureStatus(element, feature, status, note))

    def problem(self, line: str) -> None:
        self.problems.append(line)


# ------------------------------------------------------------------ neurons


def _check_decays(where: str, model: LIF | EIF, dt: float, out: _Collector) -> None:
    """Loihi's per-step retention ``(4096 - d) / 4096`` is in [0, 1]: tau must be >= dt."""
    for name in ("tau_syn", "tau_mem"):
        tau = float(getattr(model, name))
        if math.isfinite(tau) and tau < dt:
            out.problem(
                f"{where}: {name}={_num(tau)} ms is shorter than the time step dt={_num(dt)} ms; "
                f"Loihi's per-step decay factor (4096-d)/4096 cannot be negative "
                f"(lava/proc/lif/models.py); use {name} >= dt, or a smaller dt"
            )


def _check_refractory(where: str, model: LIF | EIF, profile: HardwareProfile, out: _Collector) -> None:
    steps = int(model.refractory)
    if steps == 0:
        return
    feats, chip = profile.features, chip_name(profile)
    if not feats.refractory:
        out.problem(
            f"{where}: refractory period ({steps} steps) is not supported by profile "
            f"'{profile.name}' (features.refractory = false); set refractory=0"
        )
        return
    if steps > profile.bits.refractory_max:
        out.problem(
            f"{where}: refractory={steps} steps exceeds {chip}'s longest refractory period "
            f"(bits.refractory_max = {profile.bits.refractory_max} steps); "
            f"use refractory <= {profile.bits.refractory_max}"
        )
        return
    if feats.microcode_neurons:
        # lava/proc/lif/models.py PyLifModelBitAcc docstring: "Currently missing
        # features: refractory period after spiking"; LIFRefractory is float only.
        out.status(where, "refractory period", MICROCODE,
                   f"{steps} steps; Lava's bit-accurate LIF has no refractory period, "
                   f"a {chip} microcode neuron provides it")
    else:
        out.status(where, "refractory period", NATIVE,
                   f"{steps} steps; {chip} compartment refractory delay (v held at 0)")


def _check_lif(where: str, model: LIF, dt: float, profile: HardwareProfile, out: _Collector) -> None:
    out.status(where, "neuron model LIF", NATIVE, "CUBA LIF compartment (Lava LIF, PyLifModelBitAcc)")
    if model.v_reset != 0:
        out.problem(
            f"{where}: LIF v_reset={_num(model.v_reset)} mV is not supported: "
            f"{chip_name(profile)} resets v to 0 mV (the resting potential) after a spike; set v_reset=0"
        )
    _check_decays(where, model, dt, out)
    _check_refractory(where, model, profile, out)


def _check_eif(where: str, model: EIF, dt: float, profile: HardwareProfile, out: _Collector) -> None:
    feats, chip = profile.features, chip_name(profile)
    if feats.eif_native:
        out.status(where, "neuron model EIF", NATIVE, f"native EIF on {chip}")
    elif feats.microcode_neurons:
        out.status(where, "neuron model EIF", MICROCODE,
                   "no EIF process in Lava; runs as a custom bit-accurate process / microcode neuron")
    else:
        out.problem(
            f"{where}: EIF cannot run on {chip} (profile '{profile.name}': fixed CUBA LIF "
            f"compartments, features.eif_native = false, no microcode neurons); "
            f"use LIF, or {_HINT_LOIHI2}"
        )
        return
    if model.v_reset != 0:
        out.problem(
            f"{where}: EIF v_reset={_num(model.v_reset)} mV is not supported: the compiled neuron "
            f"resets v to 0 mV (the resting potential) after a spike; set v_reset=0"
        )
    _check_decays(where, model, dt, out)
    _check_refractory(where, model, profile, out)


def _check_stochastic_binary(where: str, profile: HardwareProfile, allow_emulated: bool, out: _Collector) -> None:
    feats, chip = profile.features, chip_name(profile)
    feature = "neuron model StochasticBinary"
    if feats.stochastic_binary_native:
        out.status(where, feature, NATIVE, f"native stochastic binary neuron on {chip}")
    elif feats.microcode_neurons:
        out.status(where, feature, MICROCODE,
                   "no stochastic neuron in Lava; runs as a custom bit-accurate process / microcode neuron")
    elif allow_emulated:
        out.status(where, feature, EMULATED,
                   f"{chip} has no sigmoid-probability neuron; emulated off-chip (allowed by {_HINT_EMULATED})")
    else:
        out.problem(
            f"{where}: StochasticBinary neurons cannot run on {chip} (profile '{profile.name}': "
            f"features.stochastic_binary_native = false, no microcode neurons); "
            f"use {_HINT_EMULATED} to emulate them, or {_HINT_LOIHI2}"
        )


def _check_population(pop: Population, dt: float, profile: HardwareProfile, allow_emulated: bool, out: _Collector) -> None:
    where = f"population '{pop.name}'"
    model = pop.model
    if pop.is_input:
        out.status(where, f"spike source {model.KIND}", NATIVE,
                   "spikes generated on the host and injected each step")
    elif isinstance(model, LIF):
        _check_lif(where, model, dt, profile, out)
    elif isinstance(model, EIF):
        _check_eif(where, model, dt, profile, out)
    elif isinstance(model, StochasticBinary):
        _check_stochastic_binary(where, profile, allow_emulated, out)


# -------------------------------------------------------------- projections


def _check_delays(where: str, proj: Projection, profile: HardwareProfile, out: _Collector) -> None:
    longest = proj.max_delay
    limit = profile.bits.max_delay
    if longest > limit:
        out.problem(
            f"{where}: delay of {longest} steps exceeds {chip_name(profile)}'s longest synaptic delay "
            f"(bits.max_delay = {limit} steps); use delays <= {limit} steps, or relay through an extra population"
        )
    elif longest > 1:
        out.status(where, "synaptic delays", NATIVE,
                   f"up to {longest} steps (Lava DelayDense/DelaySparse; "
                   f"{profile.bits.delay_slots_full_core} delay slots with a full core)")


def _check_release(where: str, proj: Projection, profile: HardwareProfile, allow_emulated: bool, out: _Collector) -> None:
    p = float(proj.release_prob)
    if p >= 1.0:
        return
    feats, chip = profile.features, chip_name(profile)
    feature = "stochastic synaptic release"
    if feats.stochastic_release_native:
        out.status(where, feature, NATIVE, f"release_prob={_num(p)}")
    elif feats.microcode_neurons:
        out.status(where, feature, MICROCODE,
                   f"release_prob={_num(p)}; no release probability in Lava Dense/Sparse, "
                   "needs a custom process / microcode")
    elif allow_emulated:
        out.status(where, feature, EMULATED,
                   f"release_prob={_num(p)}; emulated off-chip (allowed by {_HINT_EMULATED})")
    else:
        out.problem(
            f"{where}: release_prob={_num(p)} (stochastic synaptic release) cannot run on {chip} "
            f"(profile '{profile.name}': features.stochastic_release_native = false, no microcode); "
            f"use release_prob=1, {_HINT_EMULATED}, or {_HINT_LOIHI2}"
        )


def _traces_used(prog: PlasticityProgram) -> list[str]:
    """Traces a program reads in its rules or gives a non-zero impulse."""
    used = set().union(*(rule.symbols for rule in prog.rules.values()))
    names = ("x1", "x2", "y1", "y2", "y3")
    return [n for n in names if n in used or getattr(prog, n).impulse != 0]


def _check_plasticity(where: str, proj: Projection, profile: HardwareProfile, out: _Collector) -> None:
    prog = proj.plasticity
    if prog is None:
        return
    learn, chip = profile.learning, chip_name(profile)
    bad = False
    if prog.t_epoch > learn.max_epoch:
        bad = True
        out.problem(
            f"{where}: plasticity t_epoch={prog.t_epoch} steps exceeds {chip}'s longest learning epoch "
            f"(learning.max_epoch = {learn.max_epoch} steps); use t_epoch <= {learn.max_epoch}"
        )
    for target, rule in prog.rules.items():
        if len(rule.terms) > learn.max_product_terms:
            bad = True
            out.problem(
                f"{where}: plasticity rule {target} has {len(rule.terms)} product terms, more than "
                f"{chip}'s learning engine allows (learning.max_product_terms = {learn.max_product_terms}); "
                f"merge or drop terms"
            )
    for trace in _traces_used(prog):
        index, available = int(trace[1]), (learn.pre_traces if trace[0] == "x" else learn.post_traces)
        if index > available:
            bad = True
            side = "pre" if trace[0] == "x" else "post"
            out.problem(
                f"{where}: plasticity uses trace {trace} but {chip} has {available} {side}synaptic "
                f"trace(s) (learning.{side}_traces = {available}); rewrite the rule without {trace}"
            )
    if not bad:
        out.status(where, "plasticity", NATIVE,
                   f"learning engine, t_epoch={prog.t_epoch}; Lava simulates it bit-approximately "
                   "(PyLearningDenseModelBitApproximate)")


def _check_projection(proj: Projection, profile: HardwareProfile, allow_emulated: bool, out: _Collector) -> None:
    where = f"projection '{proj.name}'"
    _check_delays(where, proj, profile, out)
    _check_release(where, proj, profile, allow_emulated, out)
    _check_plasticity(where, proj, profile, out)


# ------------------------------------------------------------------- public


def _raise(net: Network, profile: HardwareProfile, problems: Iterable[str]) -> None:
    problems = tuple(problems)
    head = f"network '{net.name}' cannot be compiled for '{profile.name}': {problems[0]}"
    if len(problems) > 1:
        head += f" (and {len(problems) - 1} more problem(s))"
    raise CompileError(head, problems)


def validate_for_target(
    net: Network,
    profile: HardwareProfile | str,
    allow_emulated: bool = False,
) -> tuple[FeatureStatus, ...]:
    """Check every feature of ``net`` against a hardware profile.

    Parameters
    ----------
    net : Network
        A (valid) IR network.
    profile : HardwareProfile or str
        Target profile, or a bundled profile name / TOML path for
        :func:`yuragi.hw_profiles.load_profile`.
    allow_emulated : bool
        Accept features the target cannot run (stochastic binary neurons and
        stochastic release on a chip without microcode neurons) as
        ``EMULATED`` instead of raising (CLI ``--allow-emulated``).

    Returns
    -------
    tuple of FeatureStatus
        One entry per (element, feature) that the report should show: each
        population's neuron model or spike source, refractory periods,
        synaptic delays > 1 step, stochastic release and plasticity, with
        status ``NATIVE``, ``MICROCODE`` or ``EMULATED``
        (:mod:`yuragi.compiler.compiled`).

    Raises
    ------
    CompileError
        Listing every problem found (``error.problems``, one line each, naming
        the population or projection, the feature or limit, what is allowed
        and what to change).
    """
    profile = load_profile(profile)
    out = _Collector()
    dt = float(net.dt)
    for pop in net.populations:
        _check_population(pop, dt, profile, allow_emulated, out)
    for proj in net.projections:
        _check_projection(proj, profile, allow_emulated, out)
    if out.problems:
        _raise(net, profile, out.problems)
    return tuple(out.statuses)
