"""The compiler's output: a network that holds only integers and layout.

A :class:`CompiledNetwork` is what every fixed-point backend (Lava, Brian2
Loihi-exact, the emulator) receives. Its integer parameters are exactly the
values given to Lava's bit-accurate processes (``PyLifModelBitAcc``,
``PyDenseModelBitAcc``, lava-nc 0.10.0, ``src/lava/proc/{lif,dense}``):

LIF (per step, integers)::

    u = sign(u*(4096-(du+1))) * (|u*(4096-(du+1))| >> 12) + (a_in << 6), wrapped to 24 bits
    v = sign(v*(4096-dv)) * (|v*(4096-dv)| >> 12) + u + (bias_mant << bias_exp), clipped to +-(2**23-1)
    spike when v > (vth << 6); then v = 0 (and held at 0 for `refractory` steps)

Dense: ``a_out[t] = (sum_j W[i, j] s_j[t-1]) << weight_exp`` (``>>`` when negative),
with ``W`` already clipped/truncated to ``num_weight_bits`` as Lava does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..ir import Probe
from ..ir._arrays import dataclass_equal, find_named, frozen_array
from ..ir.neurons import Model
from ..ir.plasticity import PlasticityProgram

# Lava's SignMode values (lava/utils/weightutils.py)
SIGN_NULL, SIGN_MIXED, SIGN_EXCITATORY, SIGN_INHIBITORY = 0, 1, 2, 3

NATIVE, MICROCODE, EMULATED = "native", "needs Loihi 2 microcode", "emulated only"


@dataclass(frozen=True, eq=False)
class CompiledPopulation:
    """One population's fixed-point parameters (Lava LIF semantics), or a spike source.

    Parameters
    ----------
    name, kind : str
        Population name and IR model kind (``LIF``, ``EIF``, ``StochasticBinary``, input kinds).
    size : int
        Number of neurons.
    du, dv : int
        12-bit current and voltage decays (Lava ``du``/``dv``).
    vth : int
        Threshold mantissa; the effective threshold is ``vth << 6``.
    bias_mant : numpy.ndarray
        13-bit signed bias mantissa per neuron (int64, shape ``(size,)``).
    bias_exp : int
        Bias exponent (effective bias ``bias_mant << bias_exp``).
    refractory : int
        Steps v is held at 0 after a spike.
    v_init, u_init : numpy.ndarray
        Initial integer state per neuron.
    scale : float
        Integer voltage units per mV (``v_int = scale * v_mV``); used only to report/decode.
    source : Model or None
        For spike sources, the IR input model (spikes are generated host-side).
    params : tuple of (str, int)
        Integer parameters specific to the neuron kind, sorted by name:
        StochasticBinary ``noise_width`` (``N`` of yuragi.fixedpoint.stochastic);
        EIF the integers of its neuron program (docs/backends.md).
    clamp : str or None
        StochasticBinary only: the name of the input population whose spikes
        replace the neuron's own samples (IR ``StochasticBinary.clamp``;
        ``yuragi.fixedpoint.stochastic``, "Clamped StochasticBinary").
    """

    name: str
    kind: str
    size: int
    du: int = 0
    dv: int = 0
    vth: int = 0
    bias_mant: np.ndarray = field(default_factory=lambda: frozen_array([0], np.int64))
    bias_exp: int = 0
    refractory: int = 0
    v_init: np.ndarray = field(default_factory=lambda: frozen_array([0], np.int64))
    u_init: np.ndarray = field(default_factory=lambda: frozen_array([0], np.int64))
    scale: float = 1.0
    source: Model | None = None
    params: tuple[tuple[str, int], ...] = ()
    clamp: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", tuple(sorted((str(k), int(v)) for k, v in dict(self.params).items())))
        for name in ("bias_mant", "v_init", "u_init"):
            value = np.broadcast_to(np.asarray(getattr(self, name), dtype=np.int64), (self.size,))
            object.__setattr__(self, name, frozen_array(value, np.int64))

    def __eq__(self, other: object) -> bool:
        return dataclass_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    @property
    def is_input(self) -> bool:
        """True for spike sources."""
        return self.source is not None

    def param(self, name: str) -> int:
        """The kind-specific integer parameter ``name`` (KeyError if the population has none)."""
        return dict(self.params)[name]


@dataclass(frozen=True, eq=False)
class CompiledProjection:
    """One projection's integer synapses (Lava Dense/Sparse semantics).

    Synapses are always held as coordinates (``pre_idx``, ``post_idx``,
    ``weights``, ``delays``, each ``(nnz,)``); ``dense`` records whether the
    IR stored the projection densely (lowered to Lava ``Dense``, where zero
    entries occupy synaptic memory too) or sparsely (``Sparse``).

    Parameters
    ----------
    weights : numpy.ndarray
        Integer weights exactly as Lava's bit-accurate Dense uses them after its
        clip/truncate (so giving them to Lava changes nothing), int64.
    num_weight_bits, weight_exp, sign_mode : int
        Lava Dense ``num_weight_bits``, ``weight_exp`` and ``sign_mode``.
    n_pre, n_post : int
        Sizes of the source and target populations.
    """

    name: str
    pre: str
    post: str
    n_pre: int
    n_post: int
    pre_idx: np.ndarray
    post_idx: np.ndarray
    weights: np.ndarray
    delays: np.ndarray
    num_weight_bits: int = 8
    weight_exp: int = 0
    sign_mode: int = SIGN_MIXED
    dense: bool = True
    release_prob: float = 1.0
    plasticity: PlasticityProgram | None = None

    def __post_init__(self) -> None:
        nnz = np.asarray(self.weights).shape[0]
        for name in ("pre_idx", "post_idx", "weights"):
            object.__setattr__(self, name, frozen_array(getattr(self, name), np.int64))
        delays = np.broadcast_to(np.asarray(self.delays, dtype=np.int64), (nnz,))
        object.__setattr__(self, "delays", frozen_array(delays, np.int64))

    def __eq__(self, other: object) -> bool:
        return dataclass_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    @property
    def nnz(self) -> int:
        """Number of synapses held."""
        return int(self.weights.shape[0])

    def dense_matrix(self) -> np.ndarray:
        """Integer weights as a dense ``(n_post, n_pre)`` matrix."""
        matrix = np.zeros((self.n_post, self.n_pre), dtype=np.int64)
        matrix[self.post_idx, self.pre_idx] = self.weights
        return matrix

    def delay_matrix(self) -> np.ndarray:
        """Delays as a dense ``(n_post, n_pre)`` matrix (1 where no synapse)."""
        matrix = np.ones((self.n_post, self.n_pre), dtype=np.int64)
        matrix[self.post_idx, self.pre_idx] = self.delays
        return matrix

    @property
    def max_delay(self) -> int:
        """Largest synaptic delay, steps."""
        return int(self.delays.max()) if self.nnz else 1


@dataclass(frozen=True)
class CoreBlock:
    """Neurons ``[start, stop)`` of one population placed on one core.

    ``core`` is the global core index; ``chip`` = core // cores_per_chip;
    ``tile`` = (x, y) position of the core's tile on its chip's mesh.
    """

    population: str
    start: int
    stop: int
    core: int
    chip: int
    tile: tuple[int, int] = (0, 0)

    @property
    def size(self) -> int:
        """Neurons in the block."""
        return self.stop - self.start


@dataclass(frozen=True)
class FeatureStatus:
    """Whether one element's feature runs natively, needs Loihi 2 microcode, or is emulated only."""

    element: str
    feature: str
    status: str
    note: str = ""


@dataclass(frozen=True, eq=False)
class CompiledNetwork:
    """Integers and layout for one hardware profile; the input of every fixed-point backend."""

    name: str
    profile: str
    dt: float
    seed: int
    populations: tuple[CompiledPopulation, ...]
    projections: tuple[CompiledProjection, ...]
    blocks: tuple[CoreBlock, ...] = ()
    probes: tuple[Probe, ...] = ()
    features: tuple[FeatureStatus, ...] = ()

    def __eq__(self, other: object) -> bool:
        return dataclass_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    def population(self, name: str) -> CompiledPopulation:
        """The compiled population called ``name``."""
        return find_named(self.populations, name)

    def projection(self, name: str) -> CompiledProjection:
        """The compiled projection called ``name``."""
        return find_named(self.projections, name)

    def blocks_of(self, population: str) -> list[CoreBlock]:
        """The core blocks of ``population``, in neuron order."""
        return sorted((b for b in self.blocks if b.population == population), key=lambda b: b.start)

    def core_of_neurons(self, population: str) -> np.ndarray:
        """Global core index of each neuron of ``population`` (int64, shape ``(size,)``)."""
        pop = self.population(population)
        cores = np.full(pop.size, -1, dtype=np.int64)
        for block in self.blocks_of(population):
            cores[block.start:block.stop] = block.core
        return cores

    @property
    def n_cores(self) -> int:
        """Distinct cores used."""
        return len({b.core for b in self.blocks})

    @property
    def n_chips(self) -> int:
        """Distinct chips used."""
        return len({b.chip for b in self.blocks})
