"""The builder API and the IR values it produces."""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import pytest

from yuragi.errors import ModelError
from yuragi.ir import (
    LIF,
    NetworkBuilder,
    PlasticityProgram,
    PoissonInput,
    SparseWeights,
    StochasticBinary,
    Trace,
)


def small_network():
    b = NetworkBuilder("tiny", dt=0.5, seed=7)
    stim = b.input("stim", 4, PoissonInput(rate_hz=[100.0]))
    exc = b.population("exc", 3, LIF(tau_mem=10.0, v_th=5.0, refractory=1))
    hid = b.population("hid", 2, StochasticBinary(temperature=0.5))
    b.connect(stim, exc, weights=np.ones((3, 4)), delays=2)
    stdp = PlasticityProgram(dw="2^-2*x1*y0 - 2^-2*y1*x0", x1=Trace(16, 10), y1=Trace(16, 10))
    b.connect(exc, hid, 0.5, plasticity=stdp)
    b.connect_sparse(exc, exc, [0, 1], [1, 2], [0.3, -0.2], name="rec", release_prob=0.8)
    b.probe(exc, "v")
    b.probe("rec", "w")
    return b.build()


def test_builder_makes_graph_with_named_nodes_and_edges():
    net = small_network()
    g = net.graph
    assert set(g.nodes) == {"stim", "exc", "hid"}
    assert sorted(k for _, _, k in g.edges(keys=True)) == ["exc->hid", "rec", "stim->exc"]
    assert g.nodes["exc"]["population"].size == 3
    assert net.n_neurons == 9
    # 12 dense ones + 6 dense 0.5s + 2 sparse
    assert net.n_synapses == 12 + 6 + 2
    assert net.projection("rec").release_prob == 0.8  # release only on static projections
    assert net.projection("exc->hid").plasticity.rules["dw"].terms
    assert [p.name for p in net.incoming("exc")] == ["stim->exc", "rec"]


def test_network_is_immutable():
    net = small_network()
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.dt = 2.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        net.projection("stim->exc").weights[0, 0] = 5.0
    with pytest.raises(nx.NetworkXError):
        net.graph.add_node("x")


def test_equality_is_by_value():
    assert small_network() == small_network()
    other = NetworkBuilder("tiny", dt=0.5, seed=8)
    assert small_network() != other


def test_scalar_weight_means_all_to_all():
    net = small_network()
    w = net.projection("exc->hid").weights
    assert w.shape == (2, 3) and np.all(w == 0.5)


def test_sparse_to_dense():
    sw = SparseWeights([0, 2], [1, 0], [1.5, -2.0])
    dense = sw.to_dense(2, 3)
    assert dense[1, 0] == 1.5 and dense[0, 2] == -2.0 and np.count_nonzero(dense) == 2


def test_unknown_lookups_name_the_element():
    net = small_network()
    with pytest.raises(ModelError, match="no population 'nope'.*stim, exc, hid"):
        net.population("nope")
    with pytest.raises(ModelError, match="no projection 'nope'"):
        net.projection("nope")


def test_builtin_examples_build():
    from yuragi.models import BUILTIN_MODELS, builtin_model

    for name in BUILTIN_MODELS:
        net = builtin_model(name)
        assert net.n_synapses > 0
    with pytest.raises(ModelError, match="unknown model 'zzz'.*chain"):
        builtin_model("zzz")
