"""Backends: Lava (real processes), Brian2 (Loihi-exact and float reference), the emulator.

All return a :class:`~yuragi.backends.result.RunResult`; see docs/backends.md.
Backends are imported lazily (Lava and Brian2 take seconds to import).
"""

from __future__ import annotations

from importlib import import_module

from .base import BACKENDS, get_backend, register
from .result import RunResult, SpikeEvents

FIXED_POINT_BACKENDS = ("emulator", "lava", "brian2")
FLOAT_BACKENDS = ("brian2-float",)

register("emulator", lambda: import_module("yuragi.backends.emulator"))
register("lava", lambda: import_module("yuragi.backends.lava"))
register("brian2", lambda: import_module("yuragi.backends.brian2"))

__all__ = ["BACKENDS", "FIXED_POINT_BACKENDS", "FLOAT_BACKENDS", "RunResult", "SpikeEvents", "get_backend", "register"]
