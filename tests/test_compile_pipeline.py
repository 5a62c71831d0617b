"""compile_network end to end, the .yrc file, the report, and `yuragi compile`."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from yuragi.cli import main
from yuragi.compiler import compile_network, load_compiled, save_compiled
from yuragi.compiler.compiled import MICROCODE, NATIVE
from yuragi.errors import CompileError, FileFormatError, UserFileExistsError
from yuragi.ir import EIF, NetworkBuilder, PoissonInput


def test_every_neuron_is_placed_once(ei_net):
    compiled, report = compile_network(ei_net, "loihi1")
    for pop in compiled.populations:
        if pop.is_input:
            continue
        cores = compiled.core_of_neurons(pop.name)
        assert (cores >= 0).all()
        covered = np.zeros(pop.size, int)
        for b in compiled.blocks_of(pop.name):
            covered[b.start:b.stop] += 1
        assert (covered == 1).all()
    assert report.cores_used >= report.lower_bound_cores >= 1
    assert compiled.n_cores == report.cores_used


def test_compiled_file_round_trip_and_rejections(tmp_path, ei_net):
    compiled, _ = compile_network(ei_net, "loihi2")
    path = tmp_path / "ei.yrc"
    save_compiled(compiled, path)
    assert load_compiled(path) == compiled
    with pytest.raises(UserFileExistsError):
        save_compiled(compiled, path)
    with zipfile.ZipFile(path) as zf:
        doc = json.loads(zf.read("compiled.json"))
        members = {n: zf.read(n) for n in zf.namelist()}
    doc["blocks"][0][2] = 10**9
    bad = tmp_path / "bad.yrc"
    with zipfile.ZipFile(bad, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, json.dumps(doc) if n == "compiled.json" else data)
    with pytest.raises(FileFormatError, match=r"blocks\[0\]: names an unknown population or an out-of-range"):
        load_compiled(bad)


def test_features_reported_per_target():
    b = NetworkBuilder("eif", dt=0.1)
    stim = b.input("stim", 4, PoissonInput([100.0]))
    e = b.population("e", 3, EIF())
    b.connect(stim, e, 1.0)
    net = b.build()
    compiled, report = compile_network(net, "loihi2")
    statuses = {(f.element, f.status) for f in report.features}
    assert ("population 'e'", MICROCODE) in statuses and ("population 'stim'", NATIVE) in statuses
    with pytest.raises(CompileError, match="EIF"):
        compile_network(net, "loihi1")


def test_report_json_and_plot(tmp_path, chain_net):
    _, report = compile_network(chain_net, "loihi1")
    d = json.loads(json.dumps(report.to_dict()))
    assert d["cores_used"] == report.cores_used and d["profile"] == "loihi1"
    assert {r["name"] for r in d["quantization"]["projections"]} == {"stim->hidden", "hidden->out"}
    png = report.plot(tmp_path / "u.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_reducing_weight_bits_increases_error(chain_net):
    errs = []
    for bits in (8, 4, 2):
        _, report = compile_network(chain_net, "loihi2", weight_bits={"stim->hidden": bits})
        errs.append(report.quantization.projection("stim->hidden").rms_rel_error)
    assert errs[0] < errs[1] < errs[2]


def test_cli_compile_writes_program_and_report(tmp_path, capsys):
    out = tmp_path / "chain.yrc"
    with pytest.raises(SystemExit) as info:
        main(["compile", "chain", "--profile", "loihi1", "-o", str(out), "--plot", str(tmp_path / "u.png")])
    assert info.value.code == 0
    assert load_compiled(out).profile == "loihi1"
    report = json.loads((tmp_path / "chain.report.json").read_text())
    assert report["cores_used"] >= 1
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(["compile", "chain", "-o", str(out)])
    assert info.value.code == 2 and "refusing to overwrite" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["compile", "chain", "--weight-bits", "stim->hidden=x"])
    assert info.value.code == 2 and "BITS must be an integer" in capsys.readouterr().err
