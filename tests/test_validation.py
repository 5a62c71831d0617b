"""Every validation error names its element and says what is allowed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from yuragi.errors import ModelError
from yuragi.ir import (
    EIF,
    LIF,
    Network,
    NetworkBuilder,
    Population,
    PoissonInput,
    Probe,
    Projection,
    RasterInput,
    SparseWeights,
    SpikeTimesInput,
    StochasticBinary,
)


def build(populations, projections=(), probes=(), dt=1.0, seed=0):
    return Network("n", tuple(populations), tuple(projections), tuple(probes), dt, seed)


A = Population("a", 3, LIF())
B = Population("b", 2, LIF())


@pytest.mark.parametrize(
    "model, field, allowed",
    [
        (LIF(tau_mem=-1.0), "tau_mem", "> 0 ms"),
        (LIF(tau_syn=0.0), "tau_syn", "> 0 ms"),
        (LIF(tau_mem=math.nan), "tau_mem", "> 0 ms"),
        (LIF(v_th=-1.0), "v_th", "> 0 mV"),
        (LIF(v_th=math.inf), "v_th", "finite"),
        (LIF(refractory=-2), "refractory", ">= 0"),
        (LIF(refractory=1.5), "refractory", "integer"),  # type: ignore[arg-type]
        (LIF(v_reset=20.0, v_th=10.0), "v_reset", "below v_th"),
        (EIF(delta_T=0.0), "delta_T", "> 0 mV"),
        (EIF(v_T=25.0, v_th=20.0), "v_th", "above v_T"),
        (StochasticBinary(temperature=0.0), "temperature", "> 0"),
    ],
)
def test_neuron_parameter_errors_name_population_and_field(model, field, allowed):
    with pytest.raises(ModelError) as info:
        build([Population("pop1", 4, model)])
    msg = str(info.value)
    assert "population 'pop1'" in msg and f"'{field}'" in msg and allowed in msg


@pytest.mark.parametrize("size", [0, -3, 2.5, True])
def test_bad_sizes(size):
    with pytest.raises(ModelError, match=r"population 'a': field 'size' must be an integer > 0 and <= 2\*\*31"):
        build([Population("a", size, LIF())])


def test_duplicate_names():
    with pytest.raises(ModelError, match="population name 'a' is used more than once"):
        build([A, Population("a", 2, LIF())])
    p = Projection("p", "a", "b", np.zeros((2, 3)))
    with pytest.raises(ModelError, match="projection name 'p' is used more than once"):
        build([A, B], [p, p])
    with pytest.raises(ModelError, match="name 'a' is used by a population and a projection"):
        build([A, B], [Projection("a", "a", "b", np.zeros((2, 3)))])


def test_projection_to_missing_population():
    with pytest.raises(ModelError, match=r"projection 'p': field 'post' names population 'zz', which does not exist \(populations: a, b\)"):
        build([A, B], [Projection("p", "a", "zz", np.zeros((2, 3)))])


def test_weight_shape_and_values():
    with pytest.raises(ModelError, match=r"projection 'p': field 'weights' must have shape \(n_post, n_pre\) = \(2, 3\), got \(3, 2\)"):
        build([A, B], [Projection("p", "a", "b", np.zeros((3, 2)))])
    bad = np.zeros((2, 3))
    bad[1, 1] = np.nan
    with pytest.raises(ModelError, match="projection 'p': field 'weights' must be finite"):
        build([A, B], [Projection("p", "a", "b", bad)])


def test_sparse_errors():
    with pytest.raises(ModelError, match=r"projection 's': sparse 'pre' indices must lie in \[0, 2\]"):
        build([A, B], [Projection("s", "a", "b", SparseWeights([5], [0], [1.0]))])
    with pytest.raises(ModelError, match=r"projection 's': sparse 'post' indices must lie in \[0, 1\]"):
        build([A, B], [Projection("s", "a", "b", SparseWeights([0], [2], [1.0]))])
    with pytest.raises(ModelError, match="projection 's': sparse weights list the same"):
        build([A, B], [Projection("s", "a", "b", SparseWeights([0, 0], [1, 1], [1.0, 2.0]))])
    with pytest.raises(ModelError, match="projection 's': sparse 'pre', 'post', 'values' must be 1-D arrays of equal length"):
        build([A, B], [Projection("s", "a", "b", SparseWeights([0, 1], [1], [1.0]))])


def test_delays_and_release_prob():
    with pytest.raises(ModelError, match=r"projection 'p': field 'delays' must be >= 1 step"):
        build([A, B], [Projection("p", "a", "b", np.zeros((2, 3)), delays=np.zeros((2, 3), int))])
    with pytest.raises(ModelError, match=r"projection 'p': field 'delays' must be a scalar or have the weights' shape \(2, 3\)"):
        build([A, B], [Projection("p", "a", "b", np.zeros((2, 3)), delays=np.ones(4, int))])
    with pytest.raises(ModelError, match="projection 'p': field 'delays' must be integer steps"):
        Projection("p", "a", "b", np.zeros((2, 3)), delays=np.full((2, 3), 1.5))
    for rp in (0.0, 1.5, -0.1):
        with pytest.raises(ModelError, match=r"projection 'p': field 'release_prob' must be in \(0, 1\]"):
            build([A, B], [Projection("p", "a", "b", np.zeros((2, 3)), release_prob=rp)])


def test_inputs_cannot_receive_and_input_params_checked():
    stim = Population("stim", 3, PoissonInput([10.0]))
    with pytest.raises(ModelError, match="projection 'p': population 'stim' is an input"):
        build([stim, B], [Projection("p", "b", "stim", np.zeros((3, 2)))])
    with pytest.raises(ModelError, match=r"population 'stim': field 'rate_hz' must have shape \(1,\) or \(3,\)"):
        build([Population("stim", 3, PoissonInput([1.0, 2.0]))])
    with pytest.raises(ModelError, match="population 'stim': field 'rate_hz' gives a spike probability > 1"):
        build([Population("stim", 3, PoissonInput([2000.0]))])
    with pytest.raises(ModelError, match=r"population 'st': field 'indices' must lie in \[0, 2\]"):
        build([Population("st", 3, SpikeTimesInput([0, 1], [0, 3]))])
    with pytest.raises(ModelError, match=r"population 'r': field 'raster' must have shape \(steps, 3\)"):
        build([Population("r", 3, RasterInput(np.zeros((5, 2), bool)))])
    with pytest.raises(ModelError, match="input\\(\\) needs an input model"):
        NetworkBuilder("x").input("i", 3, LIF())


def test_probe_errors():
    with pytest.raises(ModelError, match="probe 'zz.spikes': target 'zz' is neither a population nor a projection"):
        build([A], probes=[Probe("zz")])
    with pytest.raises(ModelError, match="probe 'a.w': population 'a' can record spikes, v, u, not 'w'"):
        build([A], probes=[Probe("a", "w")])
    with pytest.raises(ModelError, match="probe 'a.v' is listed more than once"):
        build([A], probes=[Probe("a", "v"), Probe("a", "v")])


def test_network_fields():
    with pytest.raises(ModelError, match="network field 'dt' must be a finite time step > 0 ms"):
        build([A], dt=0.0)
    with pytest.raises(ModelError, match=r"network field 'seed' must be an integer in \[0, 2\*\*32\)"):
        build([A], seed=-1)
    with pytest.raises(ModelError, match="network has no populations"):
        build([])
    with pytest.raises(ModelError, match="population name 'bad name' is not allowed"):
        build([Population("bad name", 2, LIF())])


def test_all_problems_are_listed_at_once():
    with pytest.raises(ModelError) as info:
        build([Population("x", 0, LIF()), Population("y", 2, LIF(tau_mem=-1))], dt=-1)
    assert len(info.value.problems) == 3
    assert "and 2 more problem(s)" in str(info.value)
