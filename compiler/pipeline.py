"""``compile_network``: validate -> lower plasticity -> quantize -> partition -> place, one pure pass each."""

from __future__ import annotations

import time
from typing import Mapping

from ..hw_profiles import HardwareProfile, load_profile
from ..ir import Network
from .compiled import CompiledNetwork
from .lower import lower_plasticity
from .partition import partition
from .place import place
from .quantize import quantize
from .report import CompileReport, plasticity_report
from .target import raise_problems, target_features


def compile_network(
    net: Network,
    profile: HardwareProfile | str = "loihi2",
    *,
    allow_emulated: bool = False,
    weight_bits: Mapping[str, int] | None = None,
    rates_hz: Mapping[str, float] | None = None,
    placement: str = "graph",
) -> tuple[CompiledNetwork, CompileReport]:
    """Compile an IR network for a hardware profile.

    Parameters
    ----------
    net : Network
        The model.
    profile : HardwareProfile or str
        ``"loihi1"``, ``"loihi2"``, a path to a ``.toml`` profile, or a loaded profile.
    allow_emulated : bool
        Accept features the target cannot run (recorded as "emulated only"):
        StochasticBinary neurons, stochastic release and 3-factor learning
        on Loihi 1.
    weight_bits : mapping of str to int, optional
        Weight mantissa bits per projection name (default: the profile's maximum).
    rates_hz : mapping of str to float, optional
        Expected firing rate per population, Hz, to weight placement.
    placement : {"graph", "sequential"}
        Placement method.

    Returns
    -------
    (CompiledNetwork, CompileReport)

    Raises
    ------
    CompileError
        Listing every problem, each naming its element and resource: first
        those of target validation and plasticity lowering together, then
        those of quantization (weight units) or partitioning.
    """
    prof = load_profile(profile)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    statuses, problems = target_features(net, prof, allow_emulated=allow_emulated)
    seconds["validate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    learning, learning_problems = lower_plasticity(net, prof, allow_emulated=allow_emulated)
    seconds["lower"] = time.perf_counter() - t0
    if problems or learning_problems:
        raise_problems(net, prof, problems + learning_problems)
    features = tuple(statuses) + tuple(learning)
    t0 = time.perf_counter()
    q = quantize(net, prof, weight_bits=weight_bits)
    seconds["quantize"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    part = partition(q.populations, q.projections, prof)
    seconds["partition"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    placed = place(part, q.projections, prof, rates=dict(rates_hz) if rates_hz else None, method=placement, dt=net.dt, seed=net.seed)
    seconds["place"] = time.perf_counter() - t0
    compiled = CompiledNetwork(net.name, prof.name, net.dt, net.seed, q.populations, q.projections, placed.blocks, net.probes, features)
    # the partition's private fan-in index served `place`; drop it so the report stays small
    plastic = plasticity_report(q, part, prof, features)
    report = CompileReport(net.name, prof.name, part.without_index(), placed, q.report, features, seconds, plastic)
    return compiled, report
