"""Lava, Brian2 Loihi-exact and the emulator agree bit for bit over 1000 steps.

For each network of the suite, the three fixed-point backends run the same
compiled program; spikes of every population, u and v of every neuron
population, and every op counter per step and per core must be equal.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from yuragi.backends import get_backend
from yuragi.compiler import compile_network
from yuragi.compiler.compiled import SIGN_EXCITATORY, SIGN_INHIBITORY, SIGN_MIXED
from yuragi.ir import LIF, NetworkBuilder, PoissonInput, Probe
from yuragi.verify import compare_exact

STEPS = 1000


def with_state_probes(net):
    """The same network, probing u and v of every neuron population."""
    probes = list(net.probes)
    for pop in net.populations:
        if not pop.is_input:
            for var in ("u", "v"):
                if Probe(pop.name, var) not in probes:
                    probes.append(Probe(pop.name, var))
    return dataclasses.replace(net, probes=tuple(probes))


def weight_bits_network():
    """24 projections: every num_weight_bits 1..8 x sign mode, 8 into each of 3 LIF populations.

    (A core holds at most 8 synapse formats, so one population cannot take all 24.)
    """
    rng = np.random.default_rng(5)
    b = NetworkBuilder("weight_bits", dt=1.0, seed=11)
    stim = b.input("stim", 12, PoissonInput(rate_hz=[60.0]))
    bits = {}
    for sign in ("exc", "inh", "mix"):
        target = b.population(f"target_{sign}", 10, LIF(tau_mem=10.0, tau_syn=3.0, v_th=6.0, refractory=1))
        if sign == "inh":  # drive it so that inhibition has something to act on
            b.connect(stim, target, rng.uniform(1.0, 2.0, size=(10, 12)), name="drive_inh")
        for nb in range(1, 9):
            w = rng.uniform(0.05, 0.5, size=(10, 12))
            if sign == "inh":
                w = -0.4 * w
            elif sign == "mix":
                w = w * rng.choice([-0.5, 1.0], size=w.shape)
            delays = rng.integers(1, 5, size=w.shape)
            delays[0, 0] = 4  # every projection of the population has the same delay field width
            name = b.connect(stim, target, w, delays=delays, name=f"{sign}{nb}")
            bits[name] = nb
    return b.build(), bits


def suite():
    from yuragi.models.examples import chain, ei_balanced

    bits_net, bits = weight_bits_network()
    return {
        "chain": (chain(seed=2), None),
        "ei_balanced": (ei_balanced(seed=4), None),
        "weight_bits": (bits_net, bits),
    }


@pytest.mark.parametrize("name", ["chain", "ei_balanced", "weight_bits"])
def test_three_backends_agree(name):
    net, bits = suite()[name]
    compiled, _ = compile_network(with_state_probes(net), "loihi2", weight_bits=bits)
    if name == "weight_bits":
        modes = {(p.num_weight_bits, p.sign_mode) for p in compiled.projections}
        assert modes >= {(nb, s) for nb in range(1, 9) for s in (SIGN_EXCITATORY, SIGN_INHIBITORY, SIGN_MIXED)}
    results = {b: get_backend(b).run(compiled, STEPS) for b in ("lava", "brian2", "emulator")}
    for other in ("brian2", "emulator"):
        verdict = compare_exact(results["lava"], results[other])
        assert verdict.equal, verdict.summary()
        assert {"spikes", "u", "v", "counters"} <= set(verdict.compared)
    lava = results["lava"]
    spiking = [p.name for p in compiled.populations if not p.is_input]
    assert all(lava.spikes[p].count > 0 for p in spiking), "every population must spike for the comparison to mean something"
    assert lava.total("synaptic_ops") > 0
