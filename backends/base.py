"""The backend interface and registry.

A backend turns a :class:`~yuragi.compiler.compiled.CompiledNetwork` (the
Brian2 float reference: an IR :class:`~yuragi.ir.Network`) plus input spikes
into a :class:`~yuragi.backends.result.RunResult`. Every backend:

- takes its input rasters from :func:`yuragi.backends.inputs.network_input_rasters`,
- records all spikes and only the probed variables,
- computes op counters with :func:`yuragi.backends.counters.count_ops`.

Step convention: result step ``t`` (0-based) is Lava time step ``t + 1``.
Input raster row ``t`` is emitted at step ``t``; a spike emitted at step
``t`` through a synapse of delay ``d`` reaches the postsynaptic current at
step ``t + d``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Protocol

import numpy as np

from ..errors import BackendError
from .result import RunResult


class Backend(Protocol):
    """What every backend module provides."""

    name: str

    def run(self, program: Any, steps: int, inputs: Mapping[str, np.ndarray] | None = None, progress: bool = False) -> RunResult:
        """Run ``steps`` steps and return the result."""


def check_steps(steps: object) -> int:
    """Validate a step count (a positive integer)."""
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps <= 0:
        raise BackendError(f"steps must be a positive integer, got {steps!r}")
    return int(steps)


BACKENDS: dict[str, Callable[[], Any]] = {}


def register(name: str, loader: Callable[[], Any]) -> None:
    """Register a backend module loader (imported lazily: Lava and Brian2 are slow to import)."""
    BACKENDS[name] = loader


def get_backend(name: str) -> Any:
    """The backend called ``name`` (BackendError listing the names if unknown)."""
    loader = BACKENDS.get(name)
    if loader is None:
        raise BackendError(f"unknown backend '{name}' (available: {', '.join(BACKENDS)})")
    return loader()
