"""Small example networks used by the demo, the tests and the docs."""

from __future__ import annotations

import numpy as np

from ..ir import LIF, Network, NetworkBuilder, PoissonInput, SparseWeights


def chain(seed: int = 1) -> Network:
    """Feed-forward chain: 16 Poisson inputs (40 Hz) -> 32 LIF -> 8 LIF, dense mixed-sign weights.

    Parameters
    ----------
    seed : int
        Seed of the network's random draws and of its weight matrix.
    """
    rng = np.random.default_rng(seed)
    b = NetworkBuilder("chain", dt=1.0, seed=seed)
    stim = b.input("stim", 16, PoissonInput(rate_hz=[40.0]))
    hidden = b.population("hidden", 32, LIF(tau_mem=20.0, tau_syn=5.0, v_th=10.0))
    out = b.population("out", 8, LIF(tau_mem=10.0, tau_syn=2.0, v_th=8.0, refractory=2))
    b.connect(stim, hidden, weights=rng.uniform(0.0, 1.2, size=(32, 16)))
    b.connect(hidden, out, weights=rng.uniform(-0.5, 1.5, size=(8, 32)), delays=2)
    for pop in (stim, hidden, out):
        b.probe(pop, "spikes")
    b.probe(out, "v")
    return b.build()


def _random_sparse(rng: np.random.Generator, n_pre: int, n_post: int, p: float, weight: float, jitter: float) -> SparseWeights:
    mask = rng.random((n_post, n_pre)) < p
    post, pre = np.nonzero(mask)
    values = weight * (1.0 + jitter * rng.uniform(-1.0, 1.0, size=post.size))
    return SparseWeights(pre, post, values)


def ei_balanced(seed: int = 1, n_exc: int = 200, n_inh: int = 50, p: float = 0.1) -> Network:
    """Random recurrent E/I network with sparse (probability ``p``) connections and refractory LIF neurons.

    Parameters
    ----------
    seed : int
        Seed of the connectivity and of the network's random draws.
    n_exc, n_inh : int
        Population sizes.
    p : float
        Connection probability.
    """
    rng = np.random.default_rng(seed)
    b = NetworkBuilder("ei_balanced", dt=1.0, seed=seed)
    stim = b.input("stim", 40, PoissonInput(rate_hz=[20.0]))
    lif = LIF(tau_mem=20.0, tau_syn=5.0, v_th=10.0, refractory=2)
    exc = b.population("exc", n_exc, lif, initial_v=rng.uniform(0.0, 9.0, n_exc))
    inh = b.population("inh", n_inh, lif, initial_v=rng.uniform(0.0, 9.0, n_inh))
    b.connect(stim, exc, _random_sparse(rng, 40, n_exc, 0.2, 1.5, 0.3))
    b.connect(stim, inh, _random_sparse(rng, 40, n_inh, 0.2, 1.5, 0.3))
    ee = _random_sparse(rng, n_exc, n_exc, p, 0.4, 0.5)
    b.connect(exc, exc, ee, delays=rng.integers(1, 4, size=ee.nnz))
    b.connect(exc, inh, _random_sparse(rng, n_exc, n_inh, p, 0.6, 0.5))
    b.connect(inh, exc, _random_sparse(rng, n_inh, n_exc, p, -1.6, 0.5))
    b.connect(inh, inh, _random_sparse(rng, n_inh, n_inh, p, -1.0, 0.5))
    for pop in (exc, inh):
        b.probe(pop, "spikes")
    b.probe(exc, "v")
    return b.build()
