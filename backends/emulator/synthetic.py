"""Synthetic random LIF networks, built directly as CompiledNetworks (benchmarks, tests, sizing).

:func:`random_network` makes a recurrent excitatory/inhibitory LIF network
driven by Poisson inputs, with integer parameters as the quantizer would
produce them (threshold ``2**20`` = ``vth 2**14 << 6``, 12-bit decays for
``tau_syn = 5 ms``, ``tau_mem = 20 ms``, 8-bit weights) without going
through the float IR, so a 100k-neuron / 10M-synapse network builds in
seconds. The input rate sets the activity at a fixed network: use it to
show that the emulator's cost follows spikes x fan-out.
"""

from __future__ import annotations

import numpy as np

from ...compiler.compiled import SIGN_EXCITATORY, SIGN_INHIBITORY, CompiledNetwork, CompiledPopulation, CompiledProjection, CoreBlock
from ...ir import Probe
from ...ir.neurons import PoissonInput

#: Neurons per core of the synthetic placement (Loihi 2 has up to 8192 compartments per core).
NEURONS_PER_CORE = 1024


def _random_synapses(rng: np.random.Generator, n_pre: int, n_post: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (pre, post) pairs, each present with probability about ``p``."""
    total = n_pre * n_post
    nnz = int(rng.binomial(total, min(p, 1.0)))
    if p >= 0.3:  # dense enough: draw a mask
        post, pre = np.nonzero(rng.random((n_post, n_pre)) < p)
        return pre.astype(np.int64), post.astype(np.int64)
    keys = np.unique(rng.integers(0, total, size=int(nnz * 1.02) + 8))
    keys = rng.permutation(keys)[:nnz]
    keys.sort()
    return keys % n_pre, keys // n_pre


def random_network(
    n: int,
    p: float = 0.1,
    rate_hz: float = 30.0,
    seed: int = 1,
    n_in: int | None = None,
    p_in: float | None = None,
    max_delay: int = 1,
    refractory: int = 2,
    w_exc: int = 20,
    w_inh: int = -150,
    w_in: int = 100,
    weight_exp: int = 2,
    probe_v: bool = False,
) -> CompiledNetwork:
    """Recurrent E/I LIF network (80 % exc, 20 % inh) with connection probability ``p``, Poisson drive.

    Parameters
    ----------
    n : int
        LIF neurons in total.
    p : float
        Recurrent connection probability (every pair of the four E/I projections).
    rate_hz : float
        Rate of each Poisson input, Hz: the activity knob.
    seed : int
        Seed of the connectivity and of the network (input spikes).
    n_in, p_in : int, float
        Poisson inputs (default ``max(10, n // 10)``) and their connection
        probability (default: 10 inputs per neuron on average).
    max_delay : int
        Delays are drawn uniformly in ``[1, max_delay]``.
    refractory : int
        Refractory steps (0 to run on Lava's plain LIF).
    w_exc, w_inh, w_in : int
        8-bit weights of excitatory, inhibitory and input synapses
        (recurrent ones scaled by ``100 / (p n)`` so the drive per neuron is
        the same at every size).
    weight_exp : int
        Shared weight exponent of every projection.
    probe_v : bool
        Also probe ``v`` of the excitatory population.
    """
    rng = np.random.default_rng(seed)
    n_exc = max(1, int(round(0.8 * n)))
    n_inh = max(1, n - n_exc)
    n_in = n_in if n_in is not None else max(10, n // 10)
    p_in = p_in if p_in is not None else min(1.0, 10.0 / n_in)
    # keep the mean recurrent drive independent of size: ~ p * n inputs per neuron
    fan = max(p * n, 1.0)
    scale = min(1.0, 100.0 / fan)
    w_e = int(np.clip(round(w_exc * scale), 1, 255))
    w_i = int(np.clip(round(w_inh * scale), -255, -1))
    lif = dict(du=818, dv=205, vth=1 << 14, refractory=refractory)
    pops = [
        CompiledPopulation(name="stim", kind="PoissonInput", size=n_in, source=PoissonInput(rate_hz=[float(rate_hz)])),
        CompiledPopulation(name="exc", kind="LIF", size=n_exc, v_init=rng.integers(0, 1 << 19, n_exc), **lif),
        CompiledPopulation(name="inh", kind="LIF", size=n_inh, v_init=rng.integers(0, 1 << 19, n_inh), **lif),
    ]
    sizes = {"stim": n_in, "exc": n_exc, "inh": n_inh}
    projs = []
    for pre, post, prob, w in (
        ("stim", "exc", p_in, w_in), ("stim", "inh", p_in, w_in),
        ("exc", "exc", p, w_e), ("exc", "inh", p, w_e), ("inh", "exc", p, w_i), ("inh", "inh", p, w_i),
    ):
        pre_idx, post_idx = _random_synapses(rng, sizes[pre], sizes[post], prob)
        jitter = rng.integers(-abs(w) // 4, abs(w) // 4 + 1, size=pre_idx.size)
        weights = np.clip(w + jitter, 1, 255) if w > 0 else np.clip(w + jitter, -255, -1)
        delays = rng.integers(1, max_delay + 1, size=pre_idx.size) if max_delay > 1 else 1
        projs.append(CompiledProjection(
            f"{pre}->{post}", pre, post, sizes[pre], sizes[post], pre_idx, post_idx, weights, delays,
            num_weight_bits=8, weight_exp=weight_exp, sign_mode=SIGN_EXCITATORY if w > 0 else SIGN_INHIBITORY, dense=False,
        ))
    blocks = []
    core = 0
    for name in ("exc", "inh"):
        for start in range(0, sizes[name], NEURONS_PER_CORE):
            blocks.append(CoreBlock(name, start, min(sizes[name], start + NEURONS_PER_CORE), core=core, chip=core // 128, tile=((core % 128) // 4 % 8, (core % 128) // 32)))
            core += 1
    probes = [Probe(name, "spikes") for name in ("stim", "exc", "inh")]
    if probe_v:
        probes.append(Probe("exc", "v"))
    return CompiledNetwork(f"random_{n}", "loihi2", 1.0, seed, tuple(pops), tuple(projs), blocks=tuple(blocks), probes=tuple(probes))
