"""Host-side spike sources: the input rasters every backend injects.

All backends receive the *same* boolean raster for each input population,
computed here from the IR input model and the counter-based RNG of
:mod:`yuragi.rng`, so inputs never differ between backends.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..errors import BackendError
from ..ir.neurons import ExternalInput, PoissonInput, RasterInput, SpikeTimesInput
from ..rng import STREAM_INPUT, bernoulli, probability_threshold


def input_raster(model: object, size: int, stream_index: int, steps: int, seed: int, dt: float, name: str = "input", external: np.ndarray | None = None, start: int = 0) -> np.ndarray:
    """Boolean ``(steps, size)`` raster of one spike source: its rows ``[start, start + steps)``.

    Parameters
    ----------
    model : PoissonInput, SpikeTimesInput, RasterInput or ExternalInput
        The IR input model.
    size : int
        Neurons in the population.
    stream_index : int
        Index of the population in its network (selects the RNG stream).
    steps : int
        Steps to generate.
    seed : int
        Network seed.
    dt : float
        Step, ms (for Poisson rates).
    name : str
        Population name, for error messages.
    external : numpy.ndarray, optional
        The raster of an :class:`ExternalInput` (``(steps, size)`` bool or 0/1;
        its row 0 is row ``start`` of the run).
    start : int
        First row to generate (a session continuing a run); generated sources
        continue their own sequence, so rows do not depend on how a run is split.
    """
    rows = start + np.arange(steps, dtype=np.int64)
    if isinstance(model, PoissonInput):
        threshold = probability_threshold(np.broadcast_to(model.rate_hz * dt / 1000.0, (size,)))
        t = rows.astype(np.uint32)[:, None]
        i = np.arange(size, dtype=np.uint32)[None, :]
        return bernoulli(seed, STREAM_INPUT + stream_index, t, i, threshold[None, :])
    if isinstance(model, SpikeTimesInput):
        raster = np.zeros((steps, size), dtype=bool)
        keep = (model.steps >= start) & (model.steps < start + steps)
        raster[model.steps[keep] - start, model.indices[keep]] = True
        return raster
    if isinstance(model, RasterInput):
        data = model.raster
        if model.loop:
            return data[rows % data.shape[0]].copy()
        raster = np.zeros((steps, size), dtype=bool)
        inside = rows < data.shape[0]
        raster[inside] = data[rows[inside]]
        return raster
    if isinstance(model, ExternalInput):
        if external is None:
            raise BackendError(f"population '{name}' is an ExternalInput: give its spikes (--input {name}=FILE.npy, shape (steps, {size}))")
        array = np.asarray(external)
        if array.ndim != 2 or array.shape[1] != size or array.shape[0] < steps:
            raise BackendError(f"input for population '{name}' must have shape (>= {steps}, {size}), got {array.shape}")
        if array.dtype.kind not in "biu" or (array.dtype.kind != "b" and not np.isin(array, (0, 1)).all()):
            raise BackendError(f"input for population '{name}' must hold 0/1 or booleans")
        return array[:steps].astype(bool)
    raise BackendError(f"population '{name}': {type(model).__name__} is not an input model")


def source_rasters(sources: list[tuple[int, str, int, object]], steps: int, seed: int, dt: float, external: Mapping[str, np.ndarray] | None = None, start: int = 0) -> dict[str, np.ndarray]:
    """Rasters of spike sources given as ``(stream index, name, size, input model)``.

    ``external`` gives the spikes of ExternalInput populations; naming any other
    population there is an error (its spikes come from its own model).
    """
    external = dict(external or {})
    out = {}
    for index, name, size, model in sources:
        if name in external and not isinstance(model, ExternalInput):
            raise BackendError(f"--input names population '{name}', whose spikes come from its {type(model).__name__} model; only ExternalInput populations take given spikes")
        out[name] = input_raster(model, size, index, steps, seed, dt, name, external.pop(name, None), start)
    if external:
        raise BackendError(f"--input names population(s) {', '.join(sorted(external))} that are not inputs of this network")
    return out


def network_input_rasters(compiled: object, steps: int, external: Mapping[str, np.ndarray] | None = None, start: int = 0) -> dict[str, np.ndarray]:
    """Rasters of every input population of a CompiledNetwork for rows ``[start, start + steps)`` (keyed by population name)."""
    sources = [(i, p.name, p.size, p.source) for i, p in enumerate(compiled.populations) if p.is_input]  # type: ignore[attr-defined]
    return source_rasters(sources, steps, compiled.seed, compiled.dt, external, start)  # type: ignore[attr-defined]
