"""Synaptic transmission in the general step engine: one :class:`Delivery` per projection.

Each presynaptic spike of step ``row`` reads its synapses with the weights
given (the projection's current weights) and its input reaches the
postsynaptic neurons at step ``row + delay``, through a ring buffer of
future input ``ring[(row + delay) % D, column]`` (int64 sums, one column
per neuron of the network's neuron populations). As in Lava's Dense /
DelayDense (docs/backends.md), the contributions are summed per (projection,
emission step, delay) and the sum is shifted by ``weight_exp``. With
``release_prob < 1``, synapse ``k`` (COO index) transmits only where
:func:`yuragi.fixedpoint.release_mask` says so.

Two layouts give the same sums: a dense ``(n_post, n_pre)`` matrix for
small and medium projections with one delay and no release draws (a column
gather per step), else synapses grouped by presynaptic neuron (CSR), summed
by (delay, postsynaptic neuron) with ``bincount``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...fixedpoint import release_mask
from .kernels import _expand

#: Largest projection (n_pre x n_post entries) held as a dense matrix.
DENSE_LIMIT = 1 << 20


def _shift(values: np.ndarray, weight_exp: int) -> np.ndarray:
    """Lava's ``a_accum << weight_exp`` (``>>`` arithmetic when negative)."""
    return values << weight_exp if weight_exp > 0 else values >> -weight_exp


class Delivery:
    """Transmission of one projection into the ring buffer.

    Parameters
    ----------
    proj : CompiledProjection
    index : int
        Index of the projection in the network (its RNG stream for release draws).
    column : int
        Ring column of the projection's postsynaptic neuron 0.
    weights : numpy.ndarray
        Initial integer weights per synapse (COO order, int64).
    """

    def __init__(self, proj: Any, index: int, column: int, weights: np.ndarray) -> None:
        self.proj = proj
        self.index = index
        self.columns = slice(column, column + proj.n_post)
        self.weight_exp = int(proj.weight_exp)
        self.release = float(proj.release_prob) < 1.0
        self.delays, delay_idx = np.unique(proj.delays, return_inverse=True)
        self.dense = self.delays.size <= 1 and not self.release and proj.n_pre * proj.n_post <= DENSE_LIMIT
        if self.dense:
            self.matrix = np.zeros((proj.n_post, proj.n_pre), dtype=np.int64)
            self.set_weights(weights)
        else:
            self.order = np.argsort(proj.pre_idx, kind="stable")
            self.indptr = np.zeros(proj.n_pre + 1, dtype=np.int64)
            np.cumsum(np.bincount(proj.pre_idx, minlength=proj.n_pre), out=self.indptr[1:])
            self.key = delay_idx.astype(np.int64) * proj.n_post + proj.post_idx
            self.n_keys = self.delays.size * proj.n_post

    def set_weights(self, weights: np.ndarray) -> None:
        """Tell the delivery that the weights changed (the dense layout copies them)."""
        if self.dense:
            self.matrix[self.proj.post_idx, self.proj.pre_idx] = weights

    def deliver(self, ring: np.ndarray, row: int, pre_spikes: np.ndarray, weights: np.ndarray, seed: int) -> None:
        """Add the input caused by the spikes of step ``row`` (absolute) into ``ring``.

        ``pre_spikes`` is the presynaptic population's bool spikes of the step,
        ``weights`` the current weights (used by the CSR layout; the dense one
        holds them since the last :meth:`set_weights`).
        """
        spiking = np.flatnonzero(pre_spikes)
        if not spiking.size or not self.proj.nnz:
            return
        n_slots = ring.shape[0]
        if self.dense:
            a = self.matrix[:, spiking].sum(axis=1)
            ring[(row + int(self.delays[0])) % n_slots, self.columns] += _shift(a, self.weight_exp)
            return
        entries, _ = _expand(self.indptr, spiking)
        syn = self.order[entries]
        if self.release:
            syn = syn[release_mask(self.proj.release_prob, seed, self.index, row, syn)]
            if not syn.size:
                return
        # exact: |sum| < 2**53 for 9-bit weights and any realistic fan-in
        sums = np.bincount(self.key[syn], weights=weights[syn], minlength=self.n_keys).astype(np.int64)
        a = _shift(sums.reshape(self.delays.size, self.proj.n_post), self.weight_exp)
        ring[(row + self.delays) % n_slots, self.columns] += a
