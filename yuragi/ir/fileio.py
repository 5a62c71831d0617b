"""The ``.yrg`` model file: a zip of ``network.json`` plus one ``.npy`` per array.

Reading never unpickles (``numpy.load(..., allow_pickle=False)``), never
trusts a size the archive claims (members are read with a byte limit), and
turns every inconsistency into :class:`~yuragi.errors.FileFormatError` (or
:class:`~yuragi.errors.ModelError` for a well-formed file that describes an
invalid network) naming the member or JSON field. See docs/file-format.md.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FileFormatError, ModelError, UserFileExistsError, YuragiError
from .network import Network, Population, Probe
from .neurons import ALL_MODELS
from .plasticity import PlasticityProgram
from .projection import Projection, SparseWeights

FORMAT = "yuragi-network"
SCHEMA_VERSION = 1
MAX_MEMBER_BYTES = int(os.environ.get("YURAGI_MAX_MEMBER_BYTES", 2**31))
MAX_JSON_BYTES = 64 * 2**20
MAX_MEMBERS = 100_000


# ------------------------------------------------------------------ writing
class _ArrayWriter:
    """Collects arrays to be written as numbered ``.npy`` members."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def ref(self, array: np.ndarray) -> str:
        member = f"arrays/{len(self.arrays)}.npy"
        self.arrays[member] = np.asarray(array, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)
        return member


def _model_to_json(model: Any, writer: _ArrayWriter) -> dict:
    params: dict[str, Any] = {}
    for f in dataclasses.fields(model):
        value = getattr(model, f.name)
        params[f.name] = writer.ref(value) if isinstance(value, np.ndarray) else value
    return {"kind": model.KIND, "params": params}


def _weights_to_json(weights: Any, writer: _ArrayWriter) -> dict:
    if isinstance(weights, SparseWeights):
        return {"sparse": {"pre": writer.ref(weights.pre), "post": writer.ref(weights.post), "values": writer.ref(weights.values)}}
    return {"dense": writer.ref(weights)}


def network_to_json(net: Network, writer: _ArrayWriter) -> dict:
    """The ``network.json`` document of ``net``; arrays go to ``writer``."""
    from .. import __version__

    return {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "yuragi_version": __version__,
        "name": net.name,
        "dt": float(net.dt),
        "seed": int(net.seed),
        "populations": [
            {"name": p.name, "size": int(p.size), "model": _model_to_json(p.model, writer), "initial_v": writer.ref(p.initial_v)}
            for p in net.populations
        ],
        "projections": [
            {
                "name": p.name,
                "pre": p.pre,
                "post": p.post,
                "weights": _weights_to_json(p.weights, writer),
                "delays": writer.ref(p.delays),
                "release_prob": float(p.release_prob),
                "plasticity": p.plasticity.to_dict() if p.plasticity is not None else None,
            }
            for p in net.projections
        ],
        "probes": [{"target": p.target, "variable": p.variable} for p in net.probes],
    }


def write_archive(path: str | Path, document: dict, arrays: dict[str, np.ndarray], overwrite: bool = False, json_name: str = "network.json") -> Path:
    """Write a zip of ``json_name`` + ``.npy`` arrays atomically; refuse to overwrite unless asked."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise UserFileExistsError(f"{path} exists; refusing to overwrite it (pass overwrite=True / --force)")
    if path.parent and not path.parent.exists():
        raise YuragiError(f"{path}: folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".yuragi-", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(json_name, json.dumps(document, indent=1, allow_nan=False))
            for member, array in arrays.items():
                buf = io.BytesIO()
                np.save(buf, array, allow_pickle=False)
                zf.writestr(member, buf.getvalue())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def save_network(net: Network, path: str | Path, overwrite: bool = False) -> Path:
    """Save ``net`` as a ``.yrg`` file; never overwrites an existing file unless ``overwrite``."""
    writer = _ArrayWriter()
    document = network_to_json(net, writer)
    return write_archive(path, document, writer.arrays, overwrite)


# ------------------------------------------------------------------ reading
class ArchiveReader:
    """Reads JSON fields and ``.npy`` members of a yuragi zip, naming what is wrong."""

    def __init__(self, zf: zipfile.ZipFile, label: str) -> None:
        self.zf = zf
        self.label = label
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            self.fail("archive", f"has {len(infos)} members (limit {MAX_MEMBERS})")
        self.members = {info.filename: info for info in infos}

    def fail(self, where: str, message: str) -> None:
        raise FileFormatError(f"{self.label}: {where}: {message}")

    def read_member(self, name: str, limit: int) -> bytes:
        info = self.members.get(name)
        if info is None:
            self.fail(name, "member is missing from the archive")
        if info.file_size > limit:
            self.fail(name, f"member is {info.file_size} bytes uncompressed, over the limit of {limit} (zip bomb guard)")
        with self.zf.open(info) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            self.fail(name, f"member inflates beyond the limit of {limit} bytes (zip bomb guard)")
        return data

    def json(self, name: str) -> dict:
        raw = self.read_member(name, MAX_JSON_BYTES)
        try:
            doc = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, json.JSONDecodeError, ValueError, RecursionError) as exc:
            self.fail(name, f"is not valid JSON ({exc})")
        if not isinstance(doc, dict):
            self.fail(name, "must hold a JSON object")
        return doc

    def array(self, ref: Any, where: str, kinds: str, ndim: tuple[int, ...] | None = None) -> np.ndarray:
        """Load the ``.npy`` member named by ``ref``; check dtype kind (e.g. ``'f'``, ``'iu'``, ``'b'``) and ndim."""
        if not isinstance(ref, str):
            self.fail(where, f"must name an array member (a string), got {type(ref).__name__}")
        data = self.read_member(ref, MAX_MEMBER_BYTES)
        try:
            array = np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError, EOFError, TypeError, SyntaxError) as exc:
            self.fail(f"{where} ({ref})", f"is not a readable .npy array ({exc})")
        if not isinstance(array, np.ndarray):
            self.fail(f"{where} ({ref})", "is not a single array")
        if array.dtype.kind not in kinds:
            self.fail(f"{where} ({ref})", f"has dtype {array.dtype}, expected {_kind_names(kinds)}")
        if ndim is not None and array.ndim not in ndim:
            self.fail(f"{where} ({ref})", f"has {array.ndim} dimensions, expected {' or '.join(map(str, ndim))}")
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            self.fail(f"{where} ({ref})", "contains NaN or inf")
        return array


def _reject_constant(name: str) -> None:
    raise ValueError(f"non-finite number {name} is not allowed")


def _kind_names(kinds: str) -> str:
    names = {"f": "float", "i": "integer", "u": "unsigned integer", "b": "bool"}
    return " or ".join(names[k] for k in kinds)


def get(doc: Any, key: str, where: str, kind: type | tuple[type, ...], reader: ArchiveReader) -> Any:
    """``doc[key]`` checked to be of ``kind`` (bool is never accepted as a number)."""
    if not isinstance(doc, dict):
        reader.fail(where, f"must be a JSON object, got {type(doc).__name__}")
    if key not in doc:
        reader.fail(f"{where}.{key}", "is missing")
    value = doc[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    numeric = any(k in (int, float) for k in kinds)
    if isinstance(value, bool) and bool not in kinds:
        reader.fail(f"{where}.{key}", f"must be {_type_names(kinds)}, got a boolean")
    if not isinstance(value, kinds):
        reader.fail(f"{where}.{key}", f"must be {_type_names(kinds)}, got {type(value).__name__}")
    if numeric and isinstance(value, float) and not math.isfinite(value):
        reader.fail(f"{where}.{key}", "must be finite")
    return value


def _type_names(kinds: tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", list: "a list", dict: "an object", bool: "a boolean", type(None): "null"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _model_from_json(doc: Any, where: str, reader: ArchiveReader) -> Any:
    kind = get(doc, "kind", where, str, reader)
    cls = ALL_MODELS.get(kind)
    if cls is None:
        reader.fail(f"{where}.kind", f"unknown model '{kind}' (known: {', '.join(ALL_MODELS)})")
    params = get(doc, "params", where, dict, reader)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - set(fields))
    if unknown:
        reader.fail(f"{where}.params", f"unknown parameter(s) {', '.join(unknown)} for {kind} (allowed: {', '.join(fields) or 'none'})")
    values: dict[str, Any] = {}
    template = cls()
    for name in fields:
        default = getattr(template, name)
        if isinstance(default, np.ndarray):
            kinds = {"f": "fiu", "i": "iu", "b": "b"}[default.dtype.kind]
            values[name] = reader.array(get(params, name, f"{where}.params", str, reader), f"{where}.params.{name}", kinds)
        elif default is None:  # an optional name (StochasticBinary.clamp); files written before it existed omit it
            values[name] = get(params, name, f"{where}.params", (str, type(None)), reader) if name in params else None
        elif isinstance(default, bool):
            values[name] = get(params, name, f"{where}.params", bool, reader)
        elif isinstance(default, int):
            values[name] = get(params, name, f"{where}.params", int, reader)
        else:
            values[name] = float(get(params, name, f"{where}.params", (int, float), reader))
    try:
        return cls(**values)
    except (ValueError, TypeError, OverflowError) as exc:
        reader.fail(where, f"cannot build {kind}: {exc}")


def _weights_from_json(doc: Any, where: str, reader: ArchiveReader) -> Any:
    if not isinstance(doc, dict) or len(doc) != 1 or next(iter(doc)) not in ("dense", "sparse"):
        reader.fail(where, "must be {\"dense\": array} or {\"sparse\": {pre, post, values}}")
    if "dense" in doc:
        return reader.array(doc["dense"], f"{where}.dense", "fiu", (2,))
    sparse = get(doc, "sparse", where, dict, reader)
    arrays = {k: reader.array(get(sparse, k, f"{where}.sparse", str, reader), f"{where}.sparse.{k}", "iu" if k != "values" else "fiu", (1,)) for k in ("pre", "post", "values")}
    return SparseWeights(arrays["pre"], arrays["post"], arrays["values"])


def network_from_json(doc: dict, reader: ArchiveReader) -> Network:
    """Build a Network from a parsed ``network.json`` (validated field by field)."""
    fmt = doc.get("format")
    if fmt != FORMAT:
        reader.fail("network.json.format", f"must be '{FORMAT}', got {fmt!r}")
    version = get(doc, "schema_version", "network.json", int, reader)
    if version != SCHEMA_VERSION:
        reader.fail("network.json.schema_version", f"unknown schema version {version}; this yuragi reads version {SCHEMA_VERSION}")
    name = get(doc, "name", "network.json", str, reader)
    dt = float(get(doc, "dt", "network.json", (int, float), reader))
    seed = get(doc, "seed", "network.json", int, reader)
    populations = []
    for i, p in enumerate(get(doc, "populations", "network.json", list, reader)):
        where = f"populations[{i}]"
        size = get(p, "size", where, int, reader)
        if size <= 0:
            reader.fail(f"{where}.size", f"must be > 0, got {size}")
        populations.append(
            Population(
                get(p, "name", where, str, reader),
                size,
                _model_from_json(get(p, "model", where, dict, reader), f"{where}.model", reader),
                reader.array(get(p, "initial_v", where, str, reader), f"{where}.initial_v", "fiu", (1,)),
            )
        )
    projections = []
    for i, p in enumerate(get(doc, "projections", "network.json", list, reader)):
        where = f"projections[{i}]"
        plasticity_doc = get(p, "plasticity", where, (dict, type(None)), reader)
        projections.append(
            Projection(
                get(p, "name", where, str, reader),
                get(p, "pre", where, str, reader),
                get(p, "post", where, str, reader),
                _weights_from_json(get(p, "weights", where, dict, reader), f"{where}.weights", reader),
                reader.array(get(p, "delays", where, str, reader), f"{where}.delays", "iu", (0, 1, 2)),
                float(get(p, "release_prob", where, (int, float), reader)),
                PlasticityProgram.from_dict(plasticity_doc) if plasticity_doc is not None else None,
            )
        )
    probes = []
    for i, p in enumerate(get(doc, "probes", "network.json", list, reader)):
        probes.append(Probe(get(p, "target", f"probes[{i}]", str, reader), get(p, "variable", f"probes[{i}]", str, reader)))
    return Network(name, tuple(populations), tuple(projections), tuple(probes), dt, seed)


def open_archive(path: str | Path, reading: Any) -> Any:
    """Open the zip at ``path`` and call ``reading(ArchiveReader)``; every failure becomes a yuragi error."""
    path = Path(path)
    label = str(path)
    if not path.is_file():
        raise FileFormatError(f"{label}: no such file")
    try:
        with zipfile.ZipFile(path) as zf:
            return reading(ArchiveReader(zf, label))
    except ModelError as exc:
        raise type(exc)(f"{label}: {exc}", tuple(exc.problems)) from None
    except YuragiError as exc:
        if str(exc).startswith(label):
            raise
        raise type(exc)(f"{label}: {exc}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError, TypeError, OverflowError, NotImplementedError, RuntimeError) as exc:
        # Safety net for damage the field checks cannot see (a corrupt deflate stream, a bad CRC...).
        raise FileFormatError(f"{label}: corrupt or truncated archive ({type(exc).__name__}: {exc})") from None


def load_network(path: str | Path) -> Network:
    """Load a ``.yrg`` file written by :func:`save_network`."""
    return open_archive(path, lambda reader: network_from_json(reader.json("network.json"), reader))
