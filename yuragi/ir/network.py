"""Populations, probes and the :class:`Network` graph; the builder API.

A :class:`Network` is immutable and always valid: constructing one runs
:func:`yuragi.ir.validate.network_problems` and raises :class:`ModelError`
listing every problem, each naming its population, projection or probe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import networkx as nx
import numpy as np

from ..errors import ModelError
from ._arrays import dataclass_equal, find_named, frozen_array
from .neurons import LIF, Model, is_input
from .plasticity import PlasticityProgram
from .projection import Projection, SparseWeights, Weights

POPULATION_VARIABLES = ("spikes", "v", "u")
PROJECTION_VARIABLES = ("w", "d", "t", "x1", "x2", "y1", "y2", "y3")
"""Projection probes: per synapse ``w`` (weight), ``d``, ``t`` (tags), shape ``(steps, nnz)``;
learning traces per neuron ``x1``, ``x2`` ``(steps, n_pre)`` and ``y1``..``y3`` ``(steps, n_post)``."""


@dataclass(frozen=True, eq=False)
class Population:
    """A group of ``size`` identical neurons (or spike sources).

    Parameters
    ----------
    name : str
        Unique population name.
    size : int
        Number of neurons (> 0).
    model : Model
        Neuron model or input model, e.g. :class:`~yuragi.ir.neurons.LIF`.
    initial_v : numpy.ndarray
        Initial membrane potential, mV: shape ``(1,)`` for all or ``(size,)``.
    """

    name: str
    size: int
    model: Model
    initial_v: np.ndarray = field(default_factory=lambda: frozen_array([0.0], np.float64))

    def __post_init__(self) -> None:
        object.__setattr__(self, "initial_v", frozen_array(np.atleast_1d(self.initial_v), np.float64))

    def __eq__(self, other: object) -> bool:
        return dataclass_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    @property
    def is_input(self) -> bool:
        """True for spike-source populations."""
        return is_input(self.model)


@dataclass(frozen=True)
class Probe:
    """Record ``variable`` of the population or projection named ``target``.

    Variables: ``spikes``, ``v``, ``u`` for populations (inputs: ``spikes``);
    ``w`` for projections.
    """

    target: str
    variable: str = "spikes"

    @property
    def key(self) -> str:
        """Unique key ``target.variable`` used in run results."""
        return f"{self.target}.{self.variable}"


@dataclass(frozen=True, eq=False)
class Network:
    """An IR network: populations (nodes) and projections (edges).

    Parameters
    ----------
    name : str
        Network name.
    populations : tuple of Population
    projections : tuple of Projection
    probes : tuple of Probe
    dt : float
        Time step, ms.
    seed : int
        Seed of every random draw (in [0, 2**32)).
    """

    name: str
    populations: tuple[Population, ...]
    projections: tuple[Projection, ...] = ()
    probes: tuple[Probe, ...] = ()
    dt: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "populations", tuple(self.populations))
        object.__setattr__(self, "projections", tuple(self.projections))
        object.__setattr__(self, "probes", tuple(self.probes))
        from .validate import network_problems

        problems = network_problems(self)
        if problems:
            head = f"network '{self.name}' is invalid: {problems[0]}"
            if len(problems) > 1:
                head += f" (and {len(problems) - 1} more problem(s))"
            raise ModelError(head, tuple(problems))
        graph = nx.MultiDiGraph(name=self.name)
        for pop in self.populations:
            graph.add_node(pop.name, population=pop)
        for proj in self.projections:
            graph.add_edge(proj.pre, proj.post, key=proj.name, projection=proj)
        object.__setattr__(self, "_graph", nx.freeze(graph))

    def __eq__(self, other: object) -> bool:
        return dataclass_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The frozen networkx graph: nodes are population names, edge keys projection names."""
        return self._graph  # type: ignore[attr-defined]

    def population(self, name: str) -> Population:
        """The population called ``name`` (ModelError if none)."""
        try:
            return find_named(self.populations, name)
        except KeyError:
            raise ModelError(f"network '{self.name}' has no population '{name}' (has: {', '.join(p.name for p in self.populations)})") from None

    def projection(self, name: str) -> Projection:
        """The projection called ``name`` (ModelError if none)."""
        try:
            return find_named(self.projections, name)
        except KeyError:
            names = ", ".join(p.name for p in self.projections) or "none"
            raise ModelError(f"network '{self.name}' has no projection '{name}' (has: {names})") from None

    def incoming(self, population: str) -> list[Projection]:
        """Projections whose target is ``population``."""
        return [p for p in self.projections if p.post == population]

    @property
    def n_neurons(self) -> int:
        """Total neurons, inputs included."""
        return sum(p.size for p in self.populations)

    @property
    def n_synapses(self) -> int:
        """Total synapses over all projections."""
        return sum(p.n_synapses for p in self.projections)


class NetworkBuilder:
    """Mutable helper that collects populations and projections, then builds a Network.

    Examples
    --------
    >>> from yuragi.ir import NetworkBuilder, LIF, PoissonInput
    >>> b = NetworkBuilder("tiny", dt=1.0, seed=3)
    >>> stim = b.input("stim", 20, PoissonInput(rate_hz=[50.0]))
    >>> exc = b.population("exc", 10, LIF(tau_mem=20.0, v_th=10.0))
    >>> b.connect(stim, exc, weights=np.full((10, 20), 2.0))
    'stim->exc'
    >>> b.probe(exc, "spikes")
    >>> net = b.build()
    """

    def __init__(self, name: str, dt: float = 1.0, seed: int = 0) -> None:
        self.name = name
        self.dt = dt
        self.seed = seed
        self._populations: list[Population] = []
        self._projections: list[Projection] = []
        self._probes: list[Probe] = []

    def population(self, name: str, size: int, model: Model | None = None, initial_v: float | Iterable[float] = 0.0) -> str:
        """Add a population of neurons; returns its name for use in :meth:`connect`."""
        self._populations.append(Population(name, size, model if model is not None else LIF(), initial_v))
        return name

    def input(self, name: str, size: int, model: Model) -> str:
        """Add a spike-source population (Poisson, spike times, raster or external)."""
        if not is_input(model):
            raise ModelError(f"population '{name}': input() needs an input model (PoissonInput, SpikeTimesInput, RasterInput, ExternalInput), got {type(model).__name__}")
        return self.population(name, size, model)

    def connect(
        self,
        pre: str,
        post: str,
        weights: Weights | float,
        delays: int | np.ndarray = 1,
        release_prob: float = 1.0,
        plasticity: PlasticityProgram | None = None,
        name: str | None = None,
    ) -> str:
        """Add a projection ``pre -> post``; a scalar weight means all-to-all with that weight.

        Returns the projection's name (default ``"pre->post"``).
        """
        name = name or f"{pre}->{post}"
        if np.isscalar(weights):
            sizes = {p.name: p.size for p in self._populations}
            if pre not in sizes or post not in sizes:
                raise ModelError(f"projection '{name}': add populations '{pre}' and '{post}' before connecting them with a scalar weight")
            weights = np.full((sizes[post], sizes[pre]), float(weights))  # type: ignore[arg-type]
        self._projections.append(Projection(name, pre, post, weights, np.asarray(delays), release_prob, plasticity))
        return name

    def connect_sparse(self, pre: str, post: str, pre_idx, post_idx, values, **kwargs) -> str:  # noqa: ANN001
        """Add a projection from coordinate lists (see :meth:`connect` for the other arguments)."""
        return self.connect(pre, post, SparseWeights(pre_idx, post_idx, values), **kwargs)

    def probe(self, target: str, variable: str = "spikes") -> None:
        """Record ``variable`` of a population (spikes, v, u) or projection (w)."""
        self._probes.append(Probe(target, variable))

    def build(self) -> Network:
        """Validate everything and return the immutable :class:`Network`."""
        return Network(self.name, tuple(self._populations), tuple(self._projections), tuple(self._probes), self.dt, self.seed)
