"""The intermediate representation: networks of populations and projections.

See docs/ir.md. Everything here is an immutable value except
:class:`NetworkBuilder`, the convenience for writing networks in a few lines.
"""

from .fileio import load_network, save_network
from .network import Network, NetworkBuilder, Population, Probe
from .neurons import (
    EIF,
    LIF,
    ExternalInput,
    PoissonInput,
    RasterInput,
    SpikeTimesInput,
    StochasticBinary,
    is_input,
)
from .plasticity import PlasticityProgram, Trace, parse_rule
from .projection import Projection, SparseWeights

__all__ = [
    "EIF",
    "LIF",
    "ExternalInput",
    "Network",
    "NetworkBuilder",
    "PlasticityProgram",
    "PoissonInput",
    "Population",
    "Probe",
    "Projection",
    "RasterInput",
    "SparseWeights",
    "SpikeTimesInput",
    "StochasticBinary",
    "Trace",
    "is_input",
    "load_network",
    "parse_rule",
    "save_network",
]
