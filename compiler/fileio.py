"""The compiled-program file (``.yrc``): a zip of ``compiled.json`` + ``.npy`` arrays.

Like the ``.yrg`` model file it is never unpickled; every inconsistency is a
:class:`~yuragi.errors.FileFormatError` naming the member or field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FileFormatError
from ..ir import Probe
from ..ir.fileio import ArchiveReader, _ArrayWriter, _model_from_json, _model_to_json, get, open_archive, write_archive
from ..ir.plasticity import PlasticityProgram
from .compiled import CompiledNetwork, CompiledPopulation, CompiledProjection, CoreBlock, FeatureStatus

COMPILED_FORMAT = "yuragi-compiled"
COMPILED_SCHEMA_VERSION = 1

_POP_INTS = ("size", "du", "dv", "vth", "bias_exp", "refractory")
_PROJ_INTS = ("n_pre", "n_post", "num_weight_bits", "weight_exp", "sign_mode")
_PROJ_ARRAYS = ("pre_idx", "post_idx", "weights", "delays")


def compiled_to_json(c: CompiledNetwork, writer: _ArrayWriter) -> dict:
    """The ``compiled.json`` document of ``c``; arrays go to ``writer``."""
    return {
        "format": COMPILED_FORMAT,
        "schema_version": COMPILED_SCHEMA_VERSION,
        "name": c.name,
        "profile": c.profile,
        "dt": float(c.dt),
        "seed": int(c.seed),
        "populations": [
            {
                "name": p.name,
                "kind": p.kind,
                **{k: int(getattr(p, k)) for k in _POP_INTS},
                "scale": float(p.scale),
                "params": dict(p.params),
                "bias_mant": writer.ref(p.bias_mant),
                "v_init": writer.ref(p.v_init),
                "u_init": writer.ref(p.u_init),
                "source": _model_to_json(p.source, writer) if p.source is not None else None,
                **({"clamp": p.clamp} if p.clamp is not None else {}),
            }
            for p in c.populations
        ],
        "projections": [
            {
                "name": p.name,
                "pre": p.pre,
                "post": p.post,
                **{k: int(getattr(p, k)) for k in _PROJ_INTS},
                **{k: writer.ref(getattr(p, k)) for k in _PROJ_ARRAYS},
                "dense": bool(p.dense),
                "release_prob": float(p.release_prob),
                "plasticity": p.plasticity.to_dict() if p.plasticity is not None else None,
            }
            for p in c.projections
        ],
        "blocks": [[b.population, b.start, b.stop, b.core, b.chip, list(b.tile)] for b in c.blocks],
        "probes": [{"target": p.target, "variable": p.variable} for p in c.probes],
        "features": [[f.element, f.feature, f.status, f.note] for f in c.features],
    }


def save_compiled(c: CompiledNetwork, path: str | Path, overwrite: bool = False) -> Path:
    """Write a compiled network; never overwrites an existing file unless ``overwrite``."""
    writer = _ArrayWriter()
    return write_archive(path, compiled_to_json(c, writer), writer.arrays, overwrite, json_name="compiled.json")


def _int_array(reader: ArchiveReader, ref: Any, where: str) -> np.ndarray:
    return reader.array(ref, where, "iu", (1,)).astype(np.int64)


def _compiled_from_archive(reader: ArchiveReader) -> CompiledNetwork:
    doc = reader.json("compiled.json")
    if doc.get("format") != COMPILED_FORMAT:
        raise FileFormatError(f"compiled.json.format: must be '{COMPILED_FORMAT}' (is this a compiled program?)")
    if get(doc, "schema_version", "compiled.json", int, reader) != COMPILED_SCHEMA_VERSION:
        reader.fail("compiled.json.schema_version", f"unknown version; this yuragi reads {COMPILED_SCHEMA_VERSION}")
    pops = []
    for i, p in enumerate(get(doc, "populations", "compiled.json", list, reader)):
        where = f"populations[{i}]"
        ints = {k: get(p, k, where, int, reader) for k in _POP_INTS}
        if ints["size"] <= 0:
            reader.fail(f"{where}.size", "must be > 0")
        source_doc = get(p, "source", where, (dict, type(None)), reader)
        arrays = {k: _int_array(reader, get(p, k, where, str, reader), f"{where}.{k}") for k in ("bias_mant", "v_init", "u_init")}
        for k, a in arrays.items():
            if a.shape != (ints["size"],):
                reader.fail(f"{where}.{k}", f"must have shape ({ints['size']},), got {a.shape}")
        params = get(p, "params", where, dict, reader)
        for key, value in params.items():
            if not isinstance(value, int) or isinstance(value, bool):
                reader.fail(f"{where}.params.{key}", f"must be an integer, got {value!r}")
        clamp = get(p, "clamp", where, (str, type(None)), reader) if "clamp" in p else None
        pops.append(
            CompiledPopulation(
                get(p, "name", where, str, reader), get(p, "kind", where, str, reader), **ints, params=tuple(params.items()), clamp=clamp,
                scale=float(get(p, "scale", where, (int, float), reader)), **arrays,
                source=_model_from_json(source_doc, f"{where}.source", reader) if source_doc is not None else None,
            )
        )
    sizes = {p.name: p.size for p in pops}
    inputs = {p.name for p in pops if p.is_input}
    for i, p in enumerate(pops):
        if p.clamp is not None and (p.kind != "StochasticBinary" or p.clamp not in inputs or sizes[p.clamp] != p.size):
            reader.fail(f"populations[{i}].clamp", f"'{p.clamp}' must name an input population of {p.size} neurons, on a StochasticBinary population")
    projs = []
    for i, p in enumerate(get(doc, "projections", "compiled.json", list, reader)):
        where = f"projections[{i}]"
        ints = {k: get(p, k, where, int, reader) for k in _PROJ_INTS}
        arrays = {k: _int_array(reader, get(p, k, where, str, reader), f"{where}.{k}") for k in _PROJ_ARRAYS}
        pre, post = get(p, "pre", where, str, reader), get(p, "post", where, str, reader)
        if sizes.get(pre) != ints["n_pre"] or sizes.get(post) != ints["n_post"]:
            reader.fail(where, f"pre/post '{pre}'/'{post}' do not match populations of sizes n_pre={ints['n_pre']}, n_post={ints['n_post']}")
        nnz = arrays["weights"].shape[0]
        if any(a.shape != (nnz,) for a in arrays.values()):
            reader.fail(where, "pre_idx, post_idx, weights and delays must have equal length")
        if nnz and (arrays["pre_idx"].min() < 0 or arrays["pre_idx"].max() >= ints["n_pre"] or arrays["post_idx"].min() < 0 or arrays["post_idx"].max() >= ints["n_post"]):
            reader.fail(where, "synapse indices out of range")
        if nnz and arrays["delays"].min() < 1:
            reader.fail(f"{where}.delays", "must be >= 1")
        plast = get(p, "plasticity", where, (dict, type(None)), reader)
        projs.append(
            CompiledProjection(
                get(p, "name", where, str, reader), pre, post, ints["n_pre"], ints["n_post"], **arrays,
                num_weight_bits=ints["num_weight_bits"], weight_exp=ints["weight_exp"], sign_mode=ints["sign_mode"],
                dense=get(p, "dense", where, bool, reader), release_prob=float(get(p, "release_prob", where, (int, float), reader)),
                plasticity=PlasticityProgram.from_dict(plast) if plast is not None else None,
            )
        )
    blocks = []
    for i, b in enumerate(get(doc, "blocks", "compiled.json", list, reader)):
        if not (isinstance(b, list) and len(b) == 6 and isinstance(b[0], str) and all(isinstance(x, int) and not isinstance(x, bool) for x in b[1:5])
                and isinstance(b[5], list) and len(b[5]) == 2 and all(isinstance(x, int) for x in b[5])):
            reader.fail(f"blocks[{i}]", "must be [population, start, stop, core, chip, [tile_x, tile_y]]")
        if b[0] not in sizes or not 0 <= b[1] < b[2] <= sizes[b[0]] or b[3] < 0 or b[4] < 0:
            reader.fail(f"blocks[{i}]", "names an unknown population or an out-of-range neuron slice/core")
        blocks.append(CoreBlock(b[0], b[1], b[2], b[3], b[4], (b[5][0], b[5][1])))
    probes = tuple(Probe(get(p, "target", f"probes[{i}]", str, reader), get(p, "variable", f"probes[{i}]", str, reader)) for i, p in enumerate(get(doc, "probes", "compiled.json", list, reader)))
    features = []
    for i, f in enumerate(get(doc, "features", "compiled.json", list, reader)):
        if not (isinstance(f, list) and len(f) == 4 and all(isinstance(x, str) for x in f)):
            reader.fail(f"features[{i}]", "must be [element, feature, status, note]")
        features.append(FeatureStatus(*f))
    return CompiledNetwork(
        get(doc, "name", "compiled.json", str, reader), get(doc, "profile", "compiled.json", str, reader),
        float(get(doc, "dt", "compiled.json", (int, float), reader)), get(doc, "seed", "compiled.json", int, reader),
        tuple(pops), tuple(projs), tuple(blocks), probes, tuple(features),
    )


def load_compiled(path: str | Path) -> CompiledNetwork:
    """Read a compiled network written by :func:`save_compiled`."""
    return open_archive(path, _compiled_from_archive)
