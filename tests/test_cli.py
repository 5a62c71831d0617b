"""CLI exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from yuragi.cli import main

YURAGI = str(Path(sys.executable).with_name("yuragi"))


def run(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def test_help_lists_commands(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("info", "models", "export", "validate", "demo"):
        assert command in out


def test_info_json(capsys):
    code, out, _ = run(capsys, "info", "--json")
    data = json.loads(out)
    assert code == 0 and data["lava-nc"] == "0.10.0" and "loihi1" in data["hardware_profiles"]


def test_models_lists_builtins(capsys):
    code, out, _ = run(capsys, "models", "--json")
    assert code == 0 and {m["name"] for m in json.loads(out)} >= {"chain", "ei_balanced"}


def test_export_then_validate(tmp_path, capsys):
    path = tmp_path / "chain.yrg"
    code, out, _ = run(capsys, "export", "chain", "-o", str(path))
    assert code == 0 and path.exists()
    code, out, _ = run(capsys, "validate", str(path), "--json")
    summary = json.loads(out)
    assert code == 0 and summary["valid"] and summary["synapses"] == 16 * 32 + 32 * 8
    code, out, _ = run(capsys, "validate", str(path))
    assert code == 0 and "valid" in out and "hidden" in out


def test_export_refuses_to_overwrite(tmp_path, capsys):
    path = tmp_path / "mine.yrg"
    path.write_text("precious")
    code, _, err = run(capsys, "export", "chain", "-o", str(path))
    assert code == 2 and err.count("\n") == 1 and "refusing to overwrite" in err
    assert path.read_text() == "precious"
    code, _, _ = run(capsys, "export", "chain", "-o", str(path), "--force")
    assert code == 0


def test_invalid_file_exit_2_one_line_per_problem(tmp_path, capsys):
    path = tmp_path / "n.yrg"
    run(capsys, "export", "chain", "-o", str(path))
    with zipfile.ZipFile(path) as zf:
        doc = json.loads(zf.read("network.json"))
        members = {n: zf.read(n) for n in zf.namelist()}
    doc["populations"][1]["model"]["params"]["tau_mem"] = -1.0
    doc["projections"][1]["post"] = "ghost"
    bad = tmp_path / "bad.yrg"
    with zipfile.ZipFile(bad, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, json.dumps(doc) if name == "network.json" else data)
    code, _, err = run(capsys, "validate", str(bad))
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 2
    assert "population 'hidden': field 'tau_mem'" in lines[0]
    assert "projection 'hidden->out': field 'post' names population 'ghost'" in lines[1]
    assert "Traceback" not in err


def test_unknown_source_and_missing_file(tmp_path, capsys):
    code, _, err = run(capsys, "validate", "nonsense_model")
    assert code == 2 and "neither a file nor a built-in model" in err and err.count("\n") == 1
    code, _, err = run(capsys, "validate", str(tmp_path / "gone.yrg"))
    assert code == 2 and "no such file" in err


def test_usage_error_exit_2(capsys):
    code, _, err = run(capsys, "export", "chain")
    assert code == 2 and "Missing option" in err


def test_real_entry_point_exit_codes(tmp_path):
    """The installed `yuragi` script: 0 on success, 2 with one stderr line and no traceback on error."""
    env = {**os.environ, "COLUMNS": "200"}
    ok = subprocess.run([YURAGI, "validate", "chain"], capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    junk = tmp_path / "junk.yrg"
    junk.write_bytes(b"\x00" * 50)
    bad = subprocess.run([YURAGI, "validate", str(junk)], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    debug = subprocess.run([YURAGI, "--debug", "validate", str(junk)], capture_output=True, text=True, env=env)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_run_and_verify_commands(tmp_path, capsys):
    out, png = tmp_path / "r.npz", tmp_path / "r.png"
    code, stdout, err = run(capsys, "run", "chain", "--steps", "200", "-o", str(out), "--plot", str(png), "--json")
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["backend"] == "emulator" and summary["counters"]["synaptic_ops"] > 0
    from yuragi.backends import RunResult

    loaded = RunResult.load(out)
    assert loaded.steps == 200 and loaded.spikes["stim"].count > 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    code, stdout, err = run(capsys, "verify", "chain", "--backend", "emulator", "--against", "brian2", "--steps", "200", "--json")
    assert code == 0, err
    assert json.loads(stdout)["exact"]["equal"] is True
    code, _, err = run(capsys, "verify", "chain", "--backend", "lava", "--against", "lava")
    assert code == 2 and "must differ" in err
    code, _, err = run(capsys, "run", "chain", "--input", "stim=nofile.npy")
    assert code == 2 and "--input stim=nofile.npy: cannot read" in err
