"""Brian2 backend: Loihi-exact integer mode and the float reference of the IR.

- :func:`run` (``backend="brian2"``): a CompiledNetwork with exactly the integer
  semantics of docs/backends.md (bit-exact with Lava's fixed-point models);
  see :mod:`yuragi.backends.brian2.exact`.
- :func:`run_float` (``backend="brian2-float"``): the IR Network in continuous
  time with its physical units; see :mod:`yuragi.backends.brian2.reference`.

Brian2 runs on its ``numpy`` code-generation target (no compiler needed;
see ``_common.TARGET`` for why not Cython).
"""

from __future__ import annotations

from .exact import run
from .reference import run_float

name = "brian2"

__all__ = ["name", "run", "run_float"]
