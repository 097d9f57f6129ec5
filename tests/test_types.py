"""The typed contracts hold: mypy (configured in pyproject.toml: plugin/, Python 3.10) finds no error.

Results are TypedDicts (`plugin.engine.results`) and public functions have typed parameters; a
change that breaks a field name or passes the wrong shape to a renderer fails here.
"""

import subprocess
import sys

from tests.conftest import REPO


def test_mypy_finds_no_error():
    out = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Success" in out.stdout, out.stdout
