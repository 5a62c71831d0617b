"""RunResult: the one output schema of every backend.

Spikes of every population (sparse events, dense raster on demand), probed
variables per step, and operation counters per step and per core (see
:mod:`yuragi.backends.counters`). Saved as a zip of ``.npy`` arrays plus
``result.json`` (a valid ``.npz``; never pickled).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FileFormatError
from ..ir._arrays import dataclass_equal
from ..ir.fileio import ArchiveReader, _ArrayWriter, get, open_archive, write_archive

RESULT_FORMAT = "yuragi-run-result"
RESULT_SCHEMA_VERSION = 1


@dataclass(frozen=True, eq=False)
class SpikeEvents:
    """Spikes of one population as events: neuron ``neurons[k]`` spiked at step ``steps[k]``.

    Events are sorted by (step, neuron).
    """

    size: int
    steps: np.ndarray
    neurons: np.ndarray

    @classmethod
    def from_raster(cls, raster: np.ndarray) -> "SpikeEvents":
        """Events of a ``(steps, size)`` boolean raster."""
        steps, neurons = np.nonzero(np.asarray(raster, dtype=bool))
        return cls(int(raster.shape[1]), steps.astype(np.int64), neurons.astype(np.int64))

    def raster(self, n_steps: int) -> np.ndarray:
        """Dense ``(n_steps, size)`` boolean view."""
        out = np.zeros((n_steps, self.size), dtype=bool)
        out[self.steps, self.neurons] = True
        return out

    def __eq__(self, other: object) -> bool:
        return dataclass_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    @property
    def count(self) -> int:
        """Total spikes."""
        return int(self.steps.size)


@dataclass(frozen=True, eq=False)
class RunResult:
    """What a backend returns for one run.

    Parameters
    ----------
    network, backend : str
        Names of the network and of the backend that produced the result.
    steps : int
        Steps simulated.
    dt : float
        Step, ms.
    seed : int
        Network seed.
    spikes : dict of str to SpikeEvents
        Spikes of every population, inputs included.
    probes : dict of str to numpy.ndarray
        ``"pop.v"`` etc. to a ``(steps, size)`` array (integers for fixed-point
        backends, floats for the float reference); ``"proj.w"`` to ``(steps, nnz)``.
    counters : dict of str to numpy.ndarray
        Op counter name to a ``(steps, n_cores)`` int64 array.
    meta : dict
        JSON-safe extra information (backend options, timings).
    """

    network: str
    backend: str
    steps: int
    dt: float
    seed: int
    spikes: dict[str, SpikeEvents]
    probes: dict[str, np.ndarray] = field(default_factory=dict)
    counters: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        return dataclass_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    def raster(self, population: str) -> np.ndarray:
        """Dense ``(steps, size)`` spike raster of ``population``."""
        return self.spikes[population].raster(self.steps)

    def total(self, counter: str) -> int:
        """Sum of one counter over steps and cores."""
        return int(self.counters[counter].sum())

    def rates_hz(self) -> dict[str, float]:
        """Mean firing rate of each population, Hz."""
        seconds = self.steps * self.dt / 1000.0
        return {name: ev.count / (ev.size * seconds) if seconds > 0 else 0.0 for name, ev in self.spikes.items()}

    # ------------------------------------------------------------ file I/O
    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the result (zip of ``.npy`` + ``result.json``); refuses to overwrite unless asked."""
        writer = _ArrayWriter()
        ref = writer.ref
        doc = {
            "format": RESULT_FORMAT,
            "schema_version": RESULT_SCHEMA_VERSION,
            "network": self.network,
            "backend": self.backend,
            "steps": int(self.steps),
            "dt": float(self.dt),
            "seed": int(self.seed),
            "spikes": {k: {"size": v.size, "steps": ref(v.steps), "neurons": ref(v.neurons)} for k, v in self.spikes.items()},
            "probes": {k: ref(v) for k, v in self.probes.items()},
            "counters": {k: ref(v) for k, v in self.counters.items()},
            "meta": self.meta,
        }
        return write_archive(path, doc, writer.arrays, overwrite, json_name="result.json")

    @classmethod
    def load(cls, path: str | Path) -> "RunResult":
        """Read a result written by :meth:`save` (every problem is a FileFormatError)."""
        return open_archive(path, _result_from_archive)


def _result_from_archive(reader: ArchiveReader) -> RunResult:
    doc = reader.json("result.json")
    if doc.get("format") != RESULT_FORMAT:
        raise FileFormatError(f"result.json.format: must be '{RESULT_FORMAT}' (is this a run result?)")
    if get(doc, "schema_version", "result.json", int, reader) != RESULT_SCHEMA_VERSION:
        reader.fail("result.json.schema_version", f"unknown version; this yuragi reads {RESULT_SCHEMA_VERSION}")
    steps = get(doc, "steps", "result.json", int, reader)
    spikes = {}
    for name, ev in get(doc, "spikes", "result.json", dict, reader).items():
        where = f"spikes.{name}"
        spikes[name] = SpikeEvents(
            get(ev, "size", where, int, reader),
            reader.array(get(ev, "steps", where, str, reader), f"{where}.steps", "iu", (1,)),
            reader.array(get(ev, "neurons", where, str, reader), f"{where}.neurons", "iu", (1,)),
        )
    probes = {k: reader.array(v, f"probes.{k}", "fiub") for k, v in get(doc, "probes", "result.json", dict, reader).items()}
    counters = {k: reader.array(v, f"counters.{k}", "iu", (2,)) for k, v in get(doc, "counters", "result.json", dict, reader).items()}
    return RunResult(
        get(doc, "network", "result.json", str, reader),
        get(doc, "backend", "result.json", str, reader),
        steps,
        float(get(doc, "dt", "result.json", (int, float), reader)),
        get(doc, "seed", "result.json", int, reader),
        spikes,
        probes,
        counters,
        get(doc, "meta", "result.json", dict, reader),
    )
