"""The compiler: IR network -> CompiledNetwork (integers and layout) + CompileReport.

Passes (one module each, pure functions): :mod:`.target` (validate for the
target), :mod:`.lower` (plasticity programs against the learning engine),
:mod:`.quantize`, :mod:`.partition`, :mod:`.place`; driven by
:func:`compile_network`. See docs/compiler.md.
"""

from .compiled import CompiledNetwork, CompiledPopulation, CompiledProjection, CoreBlock, FeatureStatus
from .fileio import load_compiled, save_compiled
from .pipeline import compile_network

__all__ = [
    "CompiledNetwork",
    "CompiledPopulation",
    "CompiledProjection",
    "CoreBlock",
    "FeatureStatus",
    "compile_network",
    "load_compiled",
    "save_compiled",
]
