"""verify: bit-exact verdicts name the first differing step; the float comparison degrades with fewer bits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from yuragi.backends import get_backend
from yuragi.backends.inputs import network_input_rasters
from yuragi.compiler import compile_network
from yuragi.errors import VerifyError
from yuragi.verify import coincidence_factor, compare_exact, compare_statistical

STEPS = 300


@pytest.fixture(scope="module")
def ei_compiled():
    from yuragi.models.examples import ei_balanced

    net = ei_balanced(seed=3)
    compiled, _ = compile_network(net, "loihi2")
    return net, compiled


def _perturb_one_weight(compiled, proj_name: str, synapse: int):
    proj = compiled.projection(proj_name)
    lsb = 1 << (8 - proj.num_weight_bits + (1 if proj.sign_mode == 1 else 0))
    weights = proj.weights.copy()
    weights[synapse] += lsb if weights[synapse] + lsb <= 255 else -lsb
    new_proj = dataclasses.replace(proj, weights=weights)
    projections = tuple(new_proj if p.name == proj_name else p for p in compiled.projections)
    return dataclasses.replace(compiled, projections=projections), proj


def test_one_lsb_perturbation_fails_verify_at_the_right_step(ei_compiled):
    _, compiled = ei_compiled
    perturbed, proj = _perturb_one_weight(compiled, "stim->exc", 0)
    pre, post = int(proj.pre_idx[0]), int(proj.post_idx[0])
    stim = network_input_rasters(compiled, STEPS)["stim"]
    first_spike = int(np.nonzero(stim[:, pre])[0][0])
    expected_step = first_spike + int(proj.delays[0])  # the perturbed synapse first changes u (and v) here
    reference = get_backend("emulator").run(compiled, STEPS)
    test = get_backend("brian2").run(perturbed, STEPS)
    verdict = compare_exact(test, reference)
    assert not verdict.equal
    d = verdict.first_difference
    assert (d.step, d.element, d.index) == (expected_step, "exc", post)
    assert d.variable in ("v", "spikes")
    assert f"step {expected_step}" in verdict.summary() and "exc" in verdict.summary()
    # and the unperturbed program verifies
    assert compare_exact(get_backend("brian2").run(compiled, STEPS), reference).equal


def test_float_comparison_within_tolerance_and_worse_with_fewer_bits(ei_compiled):
    net, compiled8 = ei_compiled
    reference = get_backend("brian2").run_float(net, 1000)
    errors = {}
    for bits in (8, 3, 1):
        compiled = compiled8 if bits == 8 else compile_network(net, "loihi2", weight_bits={p.name: bits for p in net.projections})[0]
        verdict = compare_statistical(reference, get_backend("emulator").run(compiled, 1000), rate_tolerance=0.05)
        errors[bits] = verdict.worst_rate_error
        if bits == 8:
            assert verdict.ok, verdict.failures  # documented tolerance: 5% rate error at 8 bits
    assert errors[8] < errors[3] < errors[1], errors


def test_coincidence_factor_bounds():
    a = np.array([10, 50, 90, 130])
    assert coincidence_factor(a, a, 2, 200) == pytest.approx(1.0, abs=0.1)
    assert coincidence_factor(a, np.array([30, 70, 110, 150]), 2, 200) < 0.0


def test_incomparable_runs_raise(ei_compiled):
    _, compiled = ei_compiled
    a = get_backend("emulator").run(compiled, 10)
    b = get_backend("emulator").run(compiled, 20)
    with pytest.raises(VerifyError, match="cannot compare runs of 10 and 20 steps"):
        compare_exact(a, b)
