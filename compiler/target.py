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
probability. Plasticity programs (the learning engine) are checked by the
next pass, :mod:`yuragi.compiler.lower`.
"""

from __future__ import annotations

import math
from typing import Iterable

from ..errors import CompileError
from ..hw_profiles import HardwareProfile, load_profile
from ..ir import Network
from ..ir.neurons import EIF, LIF, StochasticBinary
from ..ir.network import Population
from ..ir.projection import Projection
from .compiled import MICROCODE, NATIVE, FeatureStatus
from .features import HINT_EMULATED as _HINT_EMULATED
from .features import HINT_LOIHI2 as _HINT_LOIHI2
from .features import FeatureCollector as _Collector

__all__ = ["RNG_NOTE", "chip_name", "raise_problems", "target_features", "validate_for_target"]

#: Appended to the notes of every feature that draws random numbers (docs/compiler.md).
RNG_NOTE = "draws from yuragi's counter-based RNG (yuragi/rng.py) in simulation; the chip's own generators on hardware"


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
    # v_reset < v_th is checked by the IR; the EIF program resets to eif_v_reset (yuragi/fixedpoint/eif.py)
    _check_decays(where, model, dt, out)
    _check_refractory(where, model, profile, out)


def _check_stochastic_binary(where: str, profile: HardwareProfile, allow_emulated: bool, out: _Collector) -> None:
    feats, chip = profile.features, chip_name(profile)
    feature = "neuron model StochasticBinary"
    if feats.stochastic_binary_native:
        out.status(where, feature, NATIVE, f"native stochastic binary neuron on {chip}")
        return
    out.gated(where, feature, feats.microcode_neurons,
              f"no stochastic neuron in Lava; runs as a custom bit-accurate process / microcode neuron; {RNG_NOTE}",
              f"{chip} has no sigmoid-probability neuron; emulated off-chip (allowed by {_HINT_EMULATED}); {RNG_NOTE}",
              f"{where}: StochasticBinary neurons cannot run on {chip} (profile '{profile.name}': "
              f"features.stochastic_binary_native = false, no microcode neurons); "
              f"use {_HINT_EMULATED} to emulate them, or {_HINT_LOIHI2}", allow_emulated)


def _check_clamp(where: str, model: StochasticBinary, profile: HardwareProfile, allow_emulated: bool, out: _Collector) -> None:
    """A clamped StochasticBinary: spikes copied from an input, firing probability from its own input."""
    if model.clamp is None:
        return
    chip = chip_name(profile)
    what = f"spikes copied from input population '{model.clamp}', firing probability from the neuron's own input"
    out.gated(where, "clamped StochasticBinary", profile.features.microcode_neurons,
              f"{what}; a {chip} microcode neuron with a clamp input",
              f"{what}; emulated off-chip (allowed by {_HINT_EMULATED})",
              f"{where}: field 'clamp' ({what}) cannot run on {chip} (profile '{profile.name}': no microcode "
              f"neurons); use {_HINT_EMULATED} to emulate it, or {_HINT_LOIHI2}", allow_emulated)


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
        before = len(out.problems)
        _check_stochastic_binary(where, profile, allow_emulated, out)
        if len(out.problems) == before:  # a rejected neuron needs no second line about its clamp
            _check_clamp(where, model, profile, allow_emulated, out)


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
        return
    out.gated(where, feature, feats.microcode_neurons,
              f"release_prob={_num(p)}; no release probability in Lava Dense/Sparse, needs a custom process / microcode; {RNG_NOTE}",
              f"release_prob={_num(p)}; emulated off-chip (allowed by {_HINT_EMULATED}); {RNG_NOTE}",
              f"{where}: release_prob={_num(p)} (stochastic synaptic release) cannot run on {chip} "
              f"(profile '{profile.name}': features.stochastic_release_native = false, no microcode); "
              f"use release_prob=1, {_HINT_EMULATED}, or {_HINT_LOIHI2}", allow_emulated)


def _check_projection(proj: Projection, profile: HardwareProfile, allow_emulated: bool, out: _Collector) -> None:
    where = f"projection '{proj.name}'"
    _check_delays(where, proj, profile, out)
    _check_release(where, proj, profile, allow_emulated, out)
    # plasticity programs are checked by the next pass, compiler/lower.py


# ------------------------------------------------------------------- public


def raise_problems(net: Network, profile: HardwareProfile, problems: Iterable[str]) -> None:
    """Raise one :class:`CompileError` listing ``problems`` (one line each) for ``net`` on ``profile``."""
    problems = tuple(problems)
    head = f"network '{net.name}' cannot be compiled for '{profile.name}': {problems[0]}"
    if len(problems) > 1:
        head += f" (and {len(problems) - 1} more problem(s))"
    raise CompileError(head, problems)


def target_features(
    net: Network,
    profile: HardwareProfile | str,
    allow_emulated: bool = False,
) -> tuple[list[FeatureStatus], list[str]]:
    """The feature statuses of ``net`` on ``profile`` and every problem, without raising.

    See :func:`validate_for_target` for what is checked; the pipeline merges
    these problems with those of :func:`yuragi.compiler.lower.lower_plasticity`
    into one :class:`CompileError`.
    """
    profile = load_profile(profile)
    out = _Collector()
    dt = float(net.dt)
    for pop in net.populations:
        _check_population(pop, dt, profile, allow_emulated, out)
    for proj in net.projections:
        _check_projection(proj, profile, allow_emulated, out)
    return out.statuses, out.problems


def validate_for_target(
    net: Network,
    profile: HardwareProfile | str,
    allow_emulated: bool = False,
) -> tuple[FeatureStatus, ...]:
    """Check every feature of ``net`` against a hardware profile.

    Plasticity programs are checked by the next pass,
    :func:`yuragi.compiler.lower.lower_plasticity`.

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
        synaptic delays > 1 step and stochastic release, with status
        ``NATIVE``, ``MICROCODE`` or ``EMULATED``
        (:mod:`yuragi.compiler.compiled`).

    Raises
    ------
    CompileError
        Listing every problem found (``error.problems``, one line each, naming
        the population or projection, the feature or limit, what is allowed
        and what to change).
    """
    profile = load_profile(profile)
    statuses, problems = target_features(net, profile, allow_emulated)
    if problems:
        raise_problems(net, profile, problems)
    return tuple(statuses)
