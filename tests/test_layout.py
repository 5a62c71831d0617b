"""The card's layout installs as one package, editable or not, importable from any directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMPORTS = "import lava, brian2, yuragi.compiler, yuragi.backends, yuragi.models, yuragi.hw_profiles, yuragi.ir; print(yuragi.hw_profiles.available_profiles())"


def test_editable_install_imports_from_any_directory(tmp_path):
    out = subprocess.run([sys.executable, "-c", IMPORTS], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "loihi1" in out.stdout and "loihi2" in out.stdout


def test_regular_install_imports_from_any_directory(tmp_path):
    """`pip install .` (a real wheel, not editable) maps compiler/ backends/ models/ hw_profiles/ into yuragi."""
    target = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(ROOT)],
        capture_output=True, text=True,
    )
    assert build.returncode == 0, build.stderr
    code = f"import sys; sys.path.insert(0, {str(target)!r}); " + IMPORTS + "; import yuragi; assert yuragi.__file__.startswith(" + repr(str(target)) + ")"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "loihi1" in out.stdout
