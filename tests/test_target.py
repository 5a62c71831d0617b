"""validate_for_target: every error names its element and limit; feature statuses per profile."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from yuragi.compiler.compiled import EMULATED, MICROCODE, NATIVE, FeatureStatus
from yuragi.compiler.target import validate_for_target
from yuragi.errors import CompileError, YuragiError
from yuragi.ir import EIF, LIF, NetworkBuilder, PoissonInput, StochasticBinary


def net_with(model=None, dt=1.0, **connect):
    """stim (Poisson) -> pop (``model``), one projection 'stim->pop'."""
    b = NetworkBuilder("t", dt=dt)
    b.input("stim", 4, PoissonInput(rate_hz=[10.0]))
    b.population("pop", 3, model or LIF())
    b.connect("stim", "pop", np.full((3, 4), 0.5), **connect)
    return b.build()


def with_section(profile, section, **changes):
    """A copy of ``profile`` with some values of one section changed."""
    return dataclasses.replace(profile, **{section: dataclasses.replace(getattr(profile, section), **changes)})


def problems_of(net, profile, **kwargs) -> tuple[str, ...]:
    with pytest.raises(CompileError) as info:
        validate_for_target(net, profile, **kwargs)
    err = info.value
    assert isinstance(err, YuragiError)
    assert str(err).startswith(f"network '{net.name}' cannot be compiled for ")
    assert str(err).count("\n") == 0
    return err.problems


def status(statuses, element, feature_prefix) -> FeatureStatus:
    found = [s for s in statuses if s.element == element and s.feature.startswith(feature_prefix)]
    assert len(found) == 1, statuses
    return found[0]


# ------------------------------------------------------------------ statuses


def test_example_network_statuses(ei_net, l1, l2):
    s1 = validate_for_target(ei_net, l1)
    s2 = validate_for_target(ei_net, "loihi2")  # a profile name works too
    assert all(isinstance(s, FeatureStatus) for s in s1 + s2)
    assert status(s1, "population 'stim'", "spike source").status == NATIVE
    assert status(s1, "population 'exc'", "neuron model LIF").status == NATIVE
    # Lava's bit-accurate LIF has no refractory period: native on Loihi 1, microcode on Loihi 2
    assert status(s1, "population 'exc'", "refractory").status == NATIVE
    assert status(s2, "population 'exc'", "refractory").status == MICROCODE
    assert status(s1, "projection 'exc->exc'", "synaptic delays").status == NATIVE
    assert not [s for s in s1 if s.element == "projection 'stim->exc'"]  # nothing to say about it


def test_eif(l1, l2):
    eif = EIF()
    assert status(validate_for_target(net_with(eif), l2), "population 'pop'", "neuron model EIF").status == MICROCODE
    for allow in (False, True):  # emulation does not make Loihi 1 run EIF
        (line,) = problems_of(net_with(eif), l1, allow_emulated=allow)
        assert line.startswith("population 'pop': EIF cannot run on Loihi 1")
        assert "eif_native" in line and line.endswith("use LIF, or --profile loihi2")
    native = with_section(l1, "features", eif_native=True)
    assert status(validate_for_target(net_with(eif), native), "population 'pop'", "neuron model EIF").status == NATIVE


def test_eif_reset_is_programmable(l2):
    report = validate_for_target(net_with(EIF(v_reset=-3.0)), l2)
    assert status(report, "population 'pop'", "neuron model EIF").status == MICROCODE


def test_stochastic_binary(l1, l2):
    sb = StochasticBinary()
    (line,) = problems_of(net_with(sb), l1)
    assert line.startswith("population 'pop': StochasticBinary neurons cannot run on Loihi 1")
    assert "stochastic_binary_native" in line and "--allow-emulated" in line and "--profile loihi2" in line
    emulated = validate_for_target(net_with(sb), l1, allow_emulated=True)
    assert status(emulated, "population 'pop'", "neuron model StochasticBinary").status == EMULATED
    assert status(validate_for_target(net_with(sb), l2), "population 'pop'", "neuron model StochasticBinary").status == MICROCODE


def test_release_probability(l1, l2):
    net = net_with(release_prob=0.5)
    (line,) = problems_of(net, l1)
    assert line.startswith("projection 'stim->pop': release_prob=0.5")
    assert "stochastic_release_native" in line and "--allow-emulated" in line and "release_prob=1" in line
    assert status(validate_for_target(net, l1, allow_emulated=True), "projection 'stim->pop'", "stochastic").status == EMULATED
    assert status(validate_for_target(net, l2), "projection 'stim->pop'", "stochastic").status == MICROCODE


# -------------------------------------------------------------------- errors


def test_lif_reset_must_be_zero(l1):
    (line,) = problems_of(net_with(LIF(v_reset=-2.0)), l1)
    assert line == ("population 'pop': LIF v_reset=-2 mV is not supported: Loihi 1 resets v to 0 mV "
                    "(the resting potential) after a spike; set v_reset=0")


def test_refractory_limits(l1):
    (line,) = problems_of(net_with(LIF(refractory=100)), l1)
    assert line.startswith("population 'pop': refractory=100 steps exceeds")
    assert "bits.refractory_max = 64" in line and "use refractory <= 64" in line
    no_refractory = with_section(l1, "features", refractory=False)
    (line,) = problems_of(net_with(LIF(refractory=2)), no_refractory)
    assert line.startswith("population 'pop': refractory period (2 steps) is not supported")
    assert "features.refractory = false" in line and "set refractory=0" in line
    assert validate_for_target(net_with(LIF(refractory=0)), no_refractory)


def test_delay_limit(l1, l2):
    for profile in (l1, l2):
        (line,) = problems_of(net_with(delays=63), profile)
        assert line.startswith("projection 'stim->pop': delay of 63 steps exceeds")
        assert "bits.max_delay = 62" in line and "use delays <= 62" in line
    assert status(validate_for_target(net_with(delays=62), l1), "projection 'stim->pop'", "synaptic delays").status == NATIVE


def test_time_constant_shorter_than_dt(l1):
    (line,) = problems_of(net_with(LIF(tau_syn=0.5), dt=1.0), l1)
    assert line.startswith("population 'pop': tau_syn=0.5 ms is shorter than the time step dt=1 ms")
    assert "use tau_syn >= dt" in line


# plasticity programs are checked by compiler/lower.py: tests/test_lower_plasticity.py


def test_every_problem_is_collected(l1):
    b = NetworkBuilder("many", dt=1.0)
    b.input("stim", 4, PoissonInput(rate_hz=[10.0]))
    b.population("a", 2, LIF(v_reset=-1.0, refractory=70))
    b.population("e", 2, EIF())
    b.population("s", 2, StochasticBinary())
    b.connect("stim", "a", np.ones((2, 4)), delays=100, release_prob=0.2)
    net = b.build()
    with pytest.raises(CompileError) as info:
        validate_for_target(net, l1)
    problems = info.value.problems
    assert len(problems) == 6
    assert str(info.value).endswith("(and 5 more problem(s))")
    expected = ["population 'a': LIF v_reset", "population 'a': refractory=70", "population 'e': EIF",
                "population 's': StochasticBinary", "projection 'stim->a': delay of 100",
                "projection 'stim->a': release_prob=0.2"]
    for line, start in zip(problems, expected):
        assert line.startswith(start)
