"""The .yrg file: round trip (property test), every rejection, and a byte/field fuzz."""

from __future__ import annotations

import io
import json
import random
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yuragi.errors import FileFormatError, ModelError, UserFileExistsError, YuragiError
from yuragi.ir import (
    EIF,
    LIF,
    ExternalInput,
    Network,
    NetworkBuilder,
    PlasticityProgram,
    PoissonInput,
    RasterInput,
    SpikeTimesInput,
    StochasticBinary,
    Trace,
    load_network,
    save_network,
)
from yuragi.ir import fileio

finite = st.floats(-100, 100, allow_nan=False, width=64)
positive = st.floats(0.1, 200, allow_nan=False)


@st.composite
def neuron_models(draw):
    kind = draw(st.sampled_from(["LIF", "EIF", "SB"]))
    if kind == "LIF":
        v_th = draw(positive)
        return LIF(draw(positive), draw(positive), v_th, draw(st.floats(-50, 0)), draw(finite), draw(st.integers(0, 5)))
    if kind == "EIF":
        return EIF(draw(positive), draw(positive), draw(positive), 10.0, 20.0, -5.0, draw(finite), draw(st.integers(0, 3)))
    return StochasticBinary(draw(positive), draw(finite))


@st.composite
def input_models(draw, size):
    kind = draw(st.sampled_from(["poisson", "times", "raster", "external"]))
    if kind == "poisson":
        return PoissonInput(draw(st.lists(st.floats(0, 500), min_size=size, max_size=size)))
    if kind == "times":
        n = draw(st.integers(0, 6))
        return SpikeTimesInput(draw(st.lists(st.integers(0, 50), min_size=n, max_size=n)), draw(st.lists(st.integers(0, size - 1), min_size=n, max_size=n)))
    if kind == "raster":
        steps = draw(st.integers(1, 4))
        return RasterInput(np.array(draw(st.lists(st.booleans(), min_size=steps * size, max_size=steps * size))).reshape(steps, size), draw(st.booleans()))
    return ExternalInput()


@st.composite
def networks(draw):
    b = NetworkBuilder(draw(st.sampled_from(["n", "net_1", "x.y"])), dt=draw(st.sampled_from([0.1, 0.5, 1.0])), seed=draw(st.integers(0, 2**32 - 1)))
    names = []
    for i in range(draw(st.integers(1, 4))):
        size = draw(st.integers(1, 5))
        if i == 0 and draw(st.booleans()):
            b.input(f"in{i}", size, draw(input_models(size)))
        else:
            b.population(f"p{i}", size, draw(neuron_models()), initial_v=draw(st.lists(finite, min_size=size, max_size=size)))
            b.probe(f"p{i}", "spikes")
        names.append((f"in{i}" if b._populations[-1].is_input else f"p{i}", size))
    targets = [(n, s) for n, s in names if not n.startswith("in")]
    rule = PlasticityProgram(dw="2^-3*x1*y0 - 3*2^-5*y1*x0", x1=Trace(16, 8), y1=Trace(20, 5.5), t_epoch=2)
    for k in range(draw(st.integers(0, 4))):
        if not targets:
            break
        pre, n_pre = draw(st.sampled_from(names))
        post, n_post = draw(st.sampled_from(targets))
        plastic = rule if draw(st.booleans()) else None
        rp = 1.0 if plastic else draw(st.sampled_from([1.0, 0.5, 0.25]))  # plastic: release 1, delays 1
        if draw(st.booleans()):
            w = np.array(draw(st.lists(finite, min_size=n_pre * n_post, max_size=n_pre * n_post))).reshape(n_post, n_pre)
            delays = 1 if plastic else draw(st.integers(1, 9))
            b.connect(pre, post, w, delays=delays, release_prob=rp, plasticity=plastic, name=f"c{k}")
        else:
            pairs = draw(st.lists(st.tuples(st.integers(0, n_pre - 1), st.integers(0, n_post - 1)), unique=True, max_size=6))
            values = draw(st.lists(finite, min_size=len(pairs), max_size=len(pairs)))
            delays = np.array(draw(st.lists(st.integers(1, 1 if plastic else 5), min_size=len(pairs), max_size=len(pairs))), dtype=np.int64)
            b.connect_sparse(pre, post, [p for p, _ in pairs], [q for _, q in pairs], values, delays=delays, release_prob=rp, plasticity=plastic, name=f"c{k}")
    return b.build()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(net=networks())
def test_round_trip_gives_equal_network(net, tmp_path_factory):
    path = tmp_path_factory.mktemp("rt") / "net.yrg"
    save_network(net, path)
    assert load_network(path) == net


def test_round_trip_of_examples(tmp_path, ei_net, chain_net):
    for net in (ei_net, chain_net):
        path = tmp_path / f"{net.name}.yrg"
        save_network(net, path)
        loaded = load_network(path)
        assert loaded == net
        assert loaded.projection("stim->exc" if net.name == "ei_balanced" else "stim->hidden").is_sparse == (net.name == "ei_balanced")


def test_never_overwrites_without_asking(tmp_path, chain_net):
    path = tmp_path / "a.yrg"
    path.write_bytes(b"user data")
    with pytest.raises(UserFileExistsError, match="exists; refusing to overwrite"):
        save_network(chain_net, path)
    assert path.read_bytes() == b"user data"
    save_network(chain_net, path, overwrite=True)
    assert load_network(path) == chain_net


# ----------------------------------------------------------------- rejections
def _write_archive(path, doc, arrays):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("network.json", json.dumps(doc))
        for name, array in arrays.items():
            buf = io.BytesIO()
            np.save(buf, array)
            zf.writestr(name, buf.getvalue())


def _parts(net):
    writer = fileio._ArrayWriter()
    doc = fileio.network_to_json(net, writer)
    return doc, writer.arrays


def _ref(doc, *path):
    node = doc
    for key in path:
        node = node[key]
    return node


@pytest.fixture
def parts(chain_net):
    return _parts(chain_net)


def _expect(tmp_path, doc, arrays, exc, pattern):
    path = tmp_path / "bad.yrg"
    _write_archive(path, doc, arrays)
    with pytest.raises(exc, match=pattern):
        load_network(path)


def test_unknown_schema_version(tmp_path, parts):
    doc, arrays = parts
    doc["schema_version"] = 99
    _expect(tmp_path, doc, arrays, FileFormatError, r"network.json.schema_version: unknown schema version 99; this yuragi reads version 1")


def test_truncated_and_corrupt_zip(tmp_path, chain_net):
    path = tmp_path / "ok.yrg"
    save_network(chain_net, path)
    data = path.read_bytes()
    (tmp_path / "trunc.yrg").write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError, match="trunc.yrg: corrupt or truncated archive"):
        load_network(tmp_path / "trunc.yrg")
    (tmp_path / "junk.yrg").write_bytes(b"not a zip at all")
    with pytest.raises(FileFormatError, match="junk.yrg: corrupt or truncated archive"):
        load_network(tmp_path / "junk.yrg")
    with pytest.raises(FileFormatError, match="nothere.yrg: no such file"):
        load_network(tmp_path / "nothere.yrg")


def test_missing_array(tmp_path, parts):
    doc, arrays = parts
    ref = _ref(doc, "projections", 0, "weights", "dense")
    del arrays[ref]
    _expect(tmp_path, doc, arrays, FileFormatError, rf"{ref}: member is missing from the archive")


def test_wrong_dtype_and_shape(tmp_path, parts):
    doc, arrays = parts
    ref = _ref(doc, "projections", 0, "delays")
    arrays[ref] = np.array(1.5)
    _expect(tmp_path, doc, arrays, FileFormatError, r"projections\[0\].delays .*has dtype float64, expected integer or unsigned integer")
    doc, arrays = _parts(load_network_copy(parts))
    ref = _ref(doc, "projections", 0, "weights", "dense")
    arrays[ref] = np.zeros((3, 3, 3))
    _expect(tmp_path, doc, arrays, FileFormatError, r"projections\[0\].weights.dense .*has 3 dimensions, expected 2")
    doc, arrays = _parts(load_network_copy(parts))
    ref = _ref(doc, "projections", 0, "weights", "dense")
    arrays[ref] = np.zeros((3, 3))
    _expect(tmp_path, doc, arrays, ModelError, r"projection 'stim->hidden': field 'weights' must have shape \(n_post, n_pre\) = \(32, 16\), got \(3, 3\)")
    doc, arrays = _parts(load_network_copy(parts))
    ref = _ref(doc, "populations", 1, "initial_v")
    arrays[ref] = np.array(["a", "b"])
    _expect(tmp_path, doc, arrays, FileFormatError, r"populations\[1\].initial_v .*has dtype <U1, expected float")


def load_network_copy(parts):
    from yuragi.models.examples import chain

    return chain(seed=1)


def test_object_arrays_are_never_unpickled(tmp_path, parts):
    doc, arrays = parts
    ref = _ref(doc, "projections", 0, "weights", "dense")
    path = tmp_path / "pickle.yrg"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("network.json", json.dumps(doc))
        for name, array in arrays.items():
            buf = io.BytesIO()
            np.save(buf, np.array([{"evil": 1}], dtype=object) if name == ref else array, allow_pickle=True)
            zf.writestr(name, buf.getvalue())
    with pytest.raises(FileFormatError, match=rf"projections\[0\].weights.dense \({ref}\): is not a readable .npy array"):
        load_network(path)


def test_nan_and_inf(tmp_path, parts):
    doc, arrays = parts
    ref = _ref(doc, "projections", 1, "weights", "dense")
    arrays[ref] = arrays[ref].copy()
    arrays[ref][0, 0] = np.inf
    _expect(tmp_path, doc, arrays, FileFormatError, r"projections\[1\].weights.dense .*contains NaN or inf")
    doc, arrays = _parts(load_network_copy(parts))
    path = tmp_path / "nan.yrg"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("network.json", json.dumps(doc).replace('"dt": 1.0', '"dt": NaN'))
        for name, array in arrays.items():
            buf = io.BytesIO()
            np.save(buf, array)
            zf.writestr(name, buf.getvalue())
    with pytest.raises(FileFormatError, match="network.json: is not valid JSON .*non-finite number NaN"):
        load_network(path)


def test_negative_size(tmp_path, parts):
    doc, arrays = parts
    doc["populations"][1]["size"] = -4
    _expect(tmp_path, doc, arrays, FileFormatError, r"populations\[1\].size: must be > 0, got -4")


def test_duplicate_names_in_file(tmp_path, parts):
    doc, arrays = parts
    doc["populations"][2]["name"] = "hidden"
    _expect(tmp_path, doc, arrays, ModelError, r"population name 'hidden' is used more than once")


def test_projection_to_missing_population_in_file(tmp_path, parts):
    doc, arrays = parts
    doc["projections"][1]["post"] = "ghost"
    _expect(tmp_path, doc, arrays, ModelError, r"projection 'hidden->out': field 'post' names population 'ghost', which does not exist")


def test_wrong_json_types_and_unknown_fields(tmp_path, parts):
    doc, arrays = parts
    doc["populations"][1]["model"]["params"]["tau_mem"] = "fast"
    _expect(tmp_path, doc, arrays, FileFormatError, r"populations\[1\].model.params.tau_mem: must be an integer or a number, got str")
    doc, arrays = _parts(load_network_copy(parts))
    doc["populations"][1]["model"]["params"]["colour"] = 3
    _expect(tmp_path, doc, arrays, FileFormatError, r"populations\[1\].model.params: unknown parameter\(s\) colour for LIF")
    doc, arrays = _parts(load_network_copy(parts))
    doc["populations"][1]["model"]["kind"] = "HH"
    _expect(tmp_path, doc, arrays, FileFormatError, r"populations\[1\].model.kind: unknown model 'HH'")
    doc, arrays = _parts(load_network_copy(parts))
    doc["projections"][0]["plasticity"] = {"dw": "x1*z9"}
    _expect(tmp_path, doc, arrays, ModelError, r"unknown symbol 'z9'")
    doc, arrays = _parts(load_network_copy(parts))
    del doc["seed"]
    _expect(tmp_path, doc, arrays, FileFormatError, r"network.json.seed: is missing")


def test_zip_bomb_guard(tmp_path, parts, monkeypatch):
    doc, arrays = parts
    ref = _ref(doc, "projections", 0, "weights", "dense")
    arrays[ref] = np.zeros((32, 16 * 64))  # compresses to almost nothing
    monkeypatch.setattr(fileio, "MAX_MEMBER_BYTES", 100_000)
    _expect(tmp_path, doc, arrays, FileFormatError, rf"{ref}: member is \d+ bytes uncompressed, over the limit of 100000 \(zip bomb guard\)")


def test_zip_bomb_guard_does_not_trust_header_sizes(tmp_path, parts, monkeypatch):
    """A member whose header claims a small size but inflates to more is stopped while reading."""
    doc, arrays = parts
    ref = _ref(doc, "projections", 0, "weights", "dense")
    arrays[ref] = np.zeros((32, 16 * 64))
    path = tmp_path / "liar.yrg"
    _write_archive(path, doc, arrays)
    monkeypatch.setattr(fileio, "MAX_MEMBER_BYTES", 100_000)
    original = zipfile.ZipFile.infolist

    def lying_infolist(self):
        infos = original(self)
        for info in infos:
            if info.filename == ref:
                info.file_size = 10
        return infos

    monkeypatch.setattr(zipfile.ZipFile, "infolist", lying_infolist)
    with pytest.raises(YuragiError, match=r"zip bomb guard|corrupt or truncated"):
        load_network(path)


# ----------------------------------------------------------------- fuzz
def _mutate_json(doc, rng):
    """Replace one random leaf or container of ``doc`` with a random wrong value."""
    nodes = []

    def walk(node, path):
        nodes.append(path)
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, path + [k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + [i])

    walk(doc, [])
    path = rng.choice(nodes[1:])
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    choices = [None, True, -1, 0, 2**70, 1e308, "x", "arrays/0.npy", [], {}, [1, 2], {"kind": "LIF"}, -0.5, "", "LIF"]
    if rng.random() < 0.2 and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = rng.choice(choices)
    return doc


def test_fuzz_never_escapes_yuragi_errors(tmp_path, chain_net, ei_net):
    """3000 mutated files: each either loads to a valid network or raises a YuragiError."""
    rng = random.Random(1234)
    path = tmp_path / "good.yrg"
    save_network(ei_net, path)
    good = path.read_bytes()
    doc0, arrays0 = _parts(chain_net)
    outcomes = {"loaded": 0, "rejected": 0}
    for i in range(3000):
        target = tmp_path / f"f{i % 7}.yrg"
        if i % 2 == 0:
            data = bytearray(good)
            for _ in range(rng.randint(1, 8)):
                pos = rng.randrange(len(data))
                data[pos] = rng.randrange(256)
            if rng.random() < 0.1:
                data = data[: rng.randrange(len(data))]
            target.write_bytes(bytes(data))
        else:
            doc = _mutate_json(json.loads(json.dumps(doc0)), rng)
            arrays = dict(arrays0)
            if rng.random() < 0.3:
                key = rng.choice(sorted(arrays))
                arrays[key] = rng.choice([np.zeros(3), np.array([np.nan]), np.array([True]), np.zeros((2, 2, 2)), np.array(["s"]), np.array(-7)])
            _write_archive(target, doc, arrays)
        try:
            net = load_network(target)
        except YuragiError as exc:
            assert str(exc).startswith(str(target)), exc
            outcomes["rejected"] += 1
        else:
            assert isinstance(net, Network)
            outcomes["loaded"] += 1
    assert outcomes["rejected"] > 1000 and sum(outcomes.values()) == 3000
