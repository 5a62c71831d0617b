"""Stochastic binary neurons and stochastic synaptic release, in integers.

**StochasticBinary neuron** (a Loihi 2 microcode neuron; Loihi 1 has no
per-neuron PRNG it could use this way). Its current ``u`` follows the LIF
``u`` update of Lava's ``PyLifModelBitAcc`` with the population's ``du``
(the compiler sets ``du = 4095``: ``u`` holds only this step's input,
``u = a_in << 6``). With ``x = u + (bias_mant << bias_exp)`` and the
population's integer noise width ``N``, it spikes at step ``row`` when::

    r = (hash32(seed, STREAM_NEURON + pop_index, row, i) * N) >> 32     # uniform in [0, N)
    spike  <=>  r < x + N // 2

so ``P(spike) = clip((x + N//2) / N, 0, 1)`` up to the rounding of the
multiply-high (exactly ``ceil(k * 2**32 / N) / 2**32`` for ``k = x + N//2``
in ``[0, N]``). This is a *piecewise-linear* activation: the compiler sets
``N = 4 T S`` (T the temperature, S integer units per input unit), which
matches the slope 1/(4T) of the logistic ``sigmoid(h / T)`` at h = 0 --
not the logistic itself (see docs/plasticity.md for the measured gap).

**Clamped StochasticBinary** (``StochasticBinary(clamp=...)``): the spikes
of step ``row`` are those of the clamp input population at ``row`` (neuron
``i`` copies input neuron ``i``); ``u``, ``x`` and ``probability7(x, N)`` are
computed from the neuron's own input exactly as above, and the neuron still
draws its random number ``r`` (and throws it away), so a clamped population
makes the same draws as a free one and the ``random_draws`` counter is one
per neuron per step either way (:func:`stochastic_binary_spikes` with
``clamp=``).

**Release** (transmission failure): synapse ``k`` of projection ``p``
transmits a presynaptic spike of step ``row`` when
``hash32(seed, STREAM_RELEASE + p, row, k) < floor(release_prob * 2**32)``.
"""

from __future__ import annotations

import numpy as np

from ..rng import STREAM_NEURON, STREAM_RELEASE, hash32, probability_threshold

#: The post-probability factor handed to the learning engine has 7 bits (W_TRACE).
PROB_BITS = 7


def uniform_below(h: np.ndarray, n: int) -> np.ndarray:
    """``(h * n) >> 32`` for uint32 draws ``h``: uniform integers in ``[0, n)`` (int64)."""
    return ((np.asarray(h, dtype=np.uint64) * np.uint64(n)) >> np.uint64(32)).astype(np.int64)


def stochastic_binary_spikes(x: np.ndarray, noise_width: int, seed: int, pop_index: int, row: int, index: np.ndarray | None = None,
                             clamp: np.ndarray | None = None) -> np.ndarray:
    """Spikes of a StochasticBinary population at step ``row``.

    Parameters
    ----------
    x : numpy.ndarray
        Integer drive ``u + (bias_mant << bias_exp)`` per neuron, shape ``(..., n)``
        (a leading batch axis shares the draws only if the caller wants it to:
        pass distinct ``seed`` values per sample otherwise).
    noise_width : int
        ``N`` in integer units of ``x``, in ``[2, 2**31]``.
    seed, pop_index, row : int
        Network seed, index of the population in the network, step (row of the run).
    index : numpy.ndarray, optional
        Neuron indices (default ``arange(n)``).
    clamp : numpy.ndarray, optional
        The clamp population's spikes of step ``row`` (bool, the shape of
        ``x``): returned as the spikes, after the draw is made (module
        docstring, "Clamped StochasticBinary").

    Returns
    -------
    numpy.ndarray of bool, the shape of ``x``.
    """
    x = np.asarray(x, dtype=np.int64)
    idx = np.arange(x.shape[-1], dtype=np.uint32) if index is None else np.asarray(index, dtype=np.uint32)
    r = uniform_below(hash32(seed, STREAM_NEURON + pop_index, row, idx), noise_width)
    if clamp is not None:
        return np.array(np.broadcast_to(np.asarray(clamp, dtype=bool), x.shape))
    return r < x + (noise_width >> 1)


def probability7(x: np.ndarray, noise_width: int) -> np.ndarray:
    """The neuron's firing probability in 7 bits: ``clip(((x + N//2) * 128) // N, 0, 127)`` (int64)."""
    x = np.asarray(x, dtype=np.int64)
    return np.clip(((x + (noise_width >> 1)) << PROB_BITS) // noise_width, 0, (1 << PROB_BITS) - 1)


def release_mask(release_prob: float, seed: int, proj_index: int, row: int, synapse: np.ndarray) -> np.ndarray:
    """Which of the synapses ``synapse`` (indices in the projection) transmit a spike of step ``row``."""
    threshold = probability_threshold(release_prob)
    return hash32(seed, STREAM_RELEASE + proj_index, row, np.asarray(synapse, dtype=np.uint32)).astype(np.uint64) < threshold
