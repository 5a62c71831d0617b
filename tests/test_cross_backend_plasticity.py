"""Learning runs are bit-exact across Lava, Brian2 Loihi-exact and the emulator.

Issue #7: weights, tags and traces after >= 1000 steps are equal across the
three fixed-point backends for STDP, R-STDP and the Gibbs program (and the
stochastic neurons / stochastic release network), for several seeds. Every
per-step probe (spikes, u/v, w/d/t, traces) and every op counter is compared,
so the final state is compared too.
"""

from __future__ import annotations

import numpy as np
import pytest

from plastic_networks import suite
from yuragi.backends import get_backend
from yuragi.verify import compare_exact

STEPS = 1000
SEEDS = (1, 2, pytest.param(3, marks=pytest.mark.slow))
NAMES = ("stdp", "stdp_epoch", "rstdp", "gibbs", "stochastic")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", NAMES)
def test_three_backends_agree_on_learning(name, seed):
    net = suite(seed)[name]
    results = {b: get_backend(b).run(net, STEPS) for b in ("lava", "brian2", "emulator")}
    for other in ("brian2", "emulator"):
        verdict = compare_exact(results["lava"], results[other])
        assert verdict.equal, f"lava vs {other}: {verdict.summary()}"
    lava = results["lava"]
    # the comparison means something: neurons spike, and learning moved the weights
    for pop in net.populations:
        if not pop.is_input:
            assert lava.spikes[pop.name].count > 0, pop.name
    for proj in net.projections:
        if proj.plasticity is not None:
            w = lava.probes[f"{proj.name}.w"]
            assert w.shape == (STEPS, proj.nnz)
            assert not np.array_equal(w[-1], proj.weights), f"{proj.name}: weights never changed"
            assert lava.total("learning_updates") > 0
    if any(p.release_prob < 1 or p.plasticity is not None for p in net.projections) or any(p.kind == "StochasticBinary" for p in net.populations):
        assert lava.total("random_draws") > 0
