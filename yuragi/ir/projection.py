"""Projections (edges of the IR graph): weights, delays, release probability, plasticity.

Weights are in mV/ms for LIF/EIF targets (the jump of the post neuron's
current ``u`` per presynaptic spike) and dimensionless for StochasticBinary
targets. Dense matrices have shape ``(n_post, n_pre)`` as in Lava's Dense and
NIR's Linear. Delays are integer steps >= 1: a spike emitted at step ``t``
reaches the postsynaptic current at step ``t + delay`` (1 is Loihi's minimum).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ModelError
from ._arrays import dataclass_equal, frozen_array
from .plasticity import PlasticityProgram


@dataclass(frozen=True, eq=False)
class SparseWeights:
    """Sparse weights in coordinate form.

    Parameters
    ----------
    pre, post : numpy.ndarray
        Presynaptic and postsynaptic neuron index of each synapse (int64, shape ``(nnz,)``).
    values : numpy.ndarray
        Weight of each synapse (float64, shape ``(nnz,)``), units as the projection's.
    """

    pre: np.ndarray
    post: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "pre", frozen_array(np.atleast_1d(self.pre), np.int64))
        object.__setattr__(self, "post", frozen_array(np.atleast_1d(self.post), np.int64))
        object.__setattr__(self, "values", frozen_array(np.atleast_1d(self.values), np.float64))

    def __eq__(self, other: object) -> bool:
        return dataclass_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    @property
    def nnz(self) -> int:
        """Number of stored synapses."""
        return int(self.values.shape[0])

    def to_dense(self, n_post: int, n_pre: int) -> np.ndarray:
        """Dense ``(n_post, n_pre)`` matrix with zeros where no synapse exists."""
        dense = np.zeros((n_post, n_pre), dtype=np.float64)
        dense[self.post, self.pre] = self.values
        return dense


Weights = np.ndarray | SparseWeights


@dataclass(frozen=True, eq=False)
class Projection:
    """A set of synapses from population ``pre`` to population ``post``.

    Parameters
    ----------
    name : str
        Unique projection name.
    pre, post : str
        Names of the source and target populations.
    weights : numpy.ndarray or SparseWeights
        Dense ``(n_post, n_pre)`` float matrix, or sparse coordinates.
    delays : numpy.ndarray
        Integer delays in steps (>= 1): a scalar (shape ``()``) for all
        synapses, or one per synapse (the dense matrix's shape, or ``(nnz,)``).
    release_prob : float
        Probability in (0, 1] that a presynaptic spike is transmitted by each
        synapse (synaptic stochasticity; 1 = reliable).
    plasticity : PlasticityProgram or None
        Learning-engine program updating this projection's weights.
    """

    name: str
    pre: str
    post: str
    weights: Weights
    delays: np.ndarray = field(default_factory=lambda: frozen_array(1, np.int64))
    release_prob: float = 1.0
    plasticity: PlasticityProgram | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.weights, SparseWeights):
            object.__setattr__(self, "weights", frozen_array(self.weights, np.float64))
        delays = np.asarray(self.delays)
        if delays.dtype.kind == "f" and np.all(np.isfinite(delays)) and np.all(delays == np.round(delays)):
            delays = delays.astype(np.int64)
        if delays.dtype.kind not in "iu":
            raise ModelError(f"projection '{self.name}': field 'delays' must be integer steps, got dtype {delays.dtype}")
        object.__setattr__(self, "delays", frozen_array(delays, np.int64))

    def __eq__(self, other: object) -> bool:
        return dataclass_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    @property
    def is_sparse(self) -> bool:
        """True when the weights are stored in coordinate form."""
        return isinstance(self.weights, SparseWeights)

    @property
    def n_synapses(self) -> int:
        """Number of synapses: stored coordinates, or non-zero dense entries."""
        if isinstance(self.weights, SparseWeights):
            return self.weights.nnz
        return int(np.count_nonzero(self.weights))

    def dense_weights(self, n_post: int, n_pre: int) -> np.ndarray:
        """The weights as a dense ``(n_post, n_pre)`` float matrix."""
        if isinstance(self.weights, SparseWeights):
            return self.weights.to_dense(n_post, n_pre)
        return np.asarray(self.weights)

    @property
    def max_delay(self) -> int:
        """Largest delay in steps."""
        return int(self.delays.max()) if self.delays.size else 1
