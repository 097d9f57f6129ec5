"""The code keeps its shape: layers import downward only (import-linter), the linter passes, the
package's folders are the layers, and the wheel carries every module."""

import subprocess
import sys
from pathlib import Path

import plugin
from tests.conftest import REPO

BIN = Path(sys.executable).parent


def test_layers_import_downward_only():
    out = subprocess.run([str(BIN / "lint-imports"), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_ruff_finds_nothing():
    out = subprocess.run([str(BIN / "ruff"), "check", "--no-cache", "."], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_folders_are_the_layers():
    package = Path(plugin.__file__).parent
    folders = sorted(p.name for p in package.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert folders == ["data", "doors", "engine", "examples", "render", "words"]
    top = sorted(p.name for p in package.glob("*.py"))
    assert top == ["__init__.py", "api.py", "config.py", "errors.py", "files.py", "limits.py"]  # files: writing whole or not at all, for every layer
    engine = sorted(p.name for p in (package / "engine").iterdir() if p.is_dir() and p.name != "__pycache__")
    assert engine == ["architecture", "inference", "inside", "intake", "models", "study"]
