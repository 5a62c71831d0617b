"""Helpers shared by the two Brian2 modes: code-generation target, clocks, monitors."""

from __future__ import annotations

import contextlib
import re
import time
from typing import Iterator

import numpy as np

from ...errors import BackendError

#: Brian2 code-generation target. Only ``numpy``: it needs no compiler and
#: runs these networks at ~1 ms/step. Brian2's ``cython`` target was measured
#: and rejected: it compiles every code object (our constants are inlined, so
#: every network is new code) -- minutes on a fresh 2-core machine -- and
#: brian2 2.9.0's Cython ``_clip`` does not accept the int64 expressions of
#: the exact mode ("Invalid use of fused types").
TARGET = "numpy"


def brian2_module():  # noqa: ANN201
    """Import Brian2 (slow, so only when a run starts), or a BackendError saying how to get it."""
    try:
        import brian2
    except ImportError as exc:  # pragma: no cover - brian2 is a dependency
        raise BackendError(f"the brian2 backend needs the 'brian2' package ({exc}); install it with 'pip install brian2'") from exc
    return brian2


@contextlib.contextmanager
def codegen_target(target: str = TARGET) -> Iterator[None]:
    """Run Brian2 with ``prefs.codegen.target = target``, restoring the previous value after."""
    b2 = brian2_module()
    previous = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    try:
        yield
    finally:
        b2.prefs.codegen.target = previous


_IDENT = re.compile(r"[^A-Za-z0-9_]")


def brian_name(kind: str, index: int, label: str) -> str:
    """A Brian2 object name (an identifier) for element ``label``; ``*`` makes Brian2 uniquify it."""
    return f"yuragi_{kind}{index}_{_IDENT.sub('_', label)[:40]}*"


def spike_generator(b2, raster: np.ndarray, dt_ms: float, clock, name: str):  # noqa: ANN001, ANN201
    """A SpikeGeneratorGroup emitting raster row ``t`` at step ``t`` (time ``t * dt``)."""
    steps, neurons = np.nonzero(np.asarray(raster, dtype=bool))
    return b2.SpikeGeneratorGroup(
        raster.shape[1], neurons.astype(np.int64), steps.astype(np.float64) * dt_ms * b2.ms, clock=clock, name=name,
    )


def monitor_raster(monitor, size: int, steps: int, dt_seconds: float) -> np.ndarray:  # noqa: ANN001
    """The ``(steps, size)`` boolean raster a SpikeMonitor recorded (spike time ``t * dt`` -> row ``t``)."""
    raster = np.zeros((steps, size), dtype=bool)
    idx = np.asarray(monitor.i[:], dtype=np.int64)
    if idx.size:
        rows = np.rint(np.asarray(monitor.t_[:], dtype=np.float64) / dt_seconds).astype(np.int64)
        raster[rows, idx] = True
    return raster


def run_network(b2, objects: list, steps: int, dt_ms: float, progress: bool) -> float:  # noqa: ANN001
    """Run a Brian2 Network of ``objects`` for exactly ``steps`` steps; returns wall seconds."""
    net = b2.Network(*objects)
    start = time.perf_counter()
    net.run(steps * dt_ms * b2.ms, report="text" if progress else None, namespace={})
    return time.perf_counter() - start


def check_monitor_length(monitor, steps: int, what: str) -> None:  # noqa: ANN001
    """Fail loudly if Brian2 ran a different number of steps than asked (it never should)."""
    got = len(monitor.t[:])
    if got != steps:
        raise BackendError(f"brian2 backend: internal error, {what} recorded {got} steps instead of {steps}")


def make_synapses(b2, source, target, *, pre: np.ndarray, post: np.ndarray, delays: np.ndarray, dt_ms: float, **kwargs):  # noqa: ANN001, ANN201
    """Synapses ``pre[k] -> post[k]`` delayed by ``delays[k] - 1`` steps.

    A delay-0 Brian2 synapse acts after this step's update, i.e. Lava Dense's
    one-step buffer, so IR delay ``d`` becomes ``(d - 1) * dt``. One shared
    delay is used when all are equal (Brian2's faster homogeneous path).
    ``kwargs`` go to ``Synapses`` (model, on_pre, clock, name, ...).
    """
    uniform = bool((delays == delays[0]).all())
    syn = b2.Synapses(source, target, delay=(int(delays[0]) - 1) * dt_ms * b2.ms if uniform else None, **kwargs)
    syn.connect(i=pre, j=post)
    if not uniform:
        syn.delay = (delays - 1).astype(np.float64) * dt_ms * b2.ms
    return syn
