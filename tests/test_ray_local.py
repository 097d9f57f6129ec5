"""One local Ray instance per process (issue 35): two evaluations at once both answer, as the local
engine does; a later one reuses the instance; it listens on loopback only; and nothing of it is
left once the process ends. No timing is asserted here (the waits are the benchmark's)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.conftest import REPO


def test_a_local_ray_is_shared_by_concurrent_calls_kept_on_loopback_and_gone_at_exit(labelled_photos, tmp_path):
    pytest.importorskip("ray", reason="Ray is the optional extra '.[ray]' (./test.sh installs it)")
    environment = {key: value for key, value in os.environ.items() if key != "RAY_ADDRESS"}
    run = subprocess.run([sys.executable, "-m", "tests.ray_local_probe", str(labelled_photos), str(tmp_path / "out")],
                         cwd=REPO, capture_output=True, text=True, timeout=600, env={**environment, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert run.returncode == 0, run.stderr[-3000:]
    said = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(said["local"]) == 16 and said["concurrent"] == [said["local"], said["local"]] and said["again"] == said["local"]
    assert said["kept"] and said["same_node"]  # the third call ran on the instance the first two started
    assert said["listening"] and set(said["listening"]) <= {"127.0.0.1", "::ffff:127.0.0.1"}, said["listening"]
    assert said["temp_dir"] and not Path(said["temp_dir"]).exists()  # its session folder went with it
    assert not [pid for pid in said["ray_pids"] if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
