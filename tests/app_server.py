"""The web app started as a user starts it (`python app.py`, the port in GRADIO_SERVER_PORT), in a
subprocess on a free port, offline (its downloads go through a proxy on a closed port), and what
the tests read of that process: its threads, CPU time and memory."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

from plugin.config import EXAMPLES_DIR
from tests.conftest import REPO

OFFLINE_PROXY = "http://127.0.0.1:9"  # a closed port: no download can succeed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_app(out: Path, *arguments: str, **environment: str):
    """The app serving `out` (its output folder) with the bundled examples as its image root, until
    the block ends; `arguments` go to app.py, `environment` (CNNLAB_* settings) to its process.

    Yields:
        `SimpleNamespace(url, out, pid)`.
    """
    port = free_port()
    log = open(out / "server.log", "w")
    process = subprocess.Popen(
        [sys.executable, str(REPO / "app.py"), "--image-root", str(EXAMPLES_DIR), "--output-dir", str(out), *arguments],
        cwd=out, stdout=log, stderr=subprocess.STDOUT,
        # No background ONNX export: every door answers from the same Keras model (the export is tested in test_onnx.py).
        env={**os.environ, "GRADIO_SERVER_PORT": str(port), "CNNLAB_AUTO_EXPORT": "0", "TF_CPP_MIN_LOG_LEVEL": "3",
             "GRADIO_ANALYTICS_ENABLED": "False",
             "HTTPS_PROXY": OFFLINE_PROXY, "https_proxy": OFFLINE_PROXY, "NO_PROXY": "127.0.0.1,localhost", **environment})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"the app exited: {(out / 'server.log').read_text()[-2000:]}") from None
            time.sleep(0.2)  # polled until the deadline: the tests start as soon as the app answers
    else:
        process.kill()
        raise RuntimeError("the app did not start within 180 s")
    try:
        yield SimpleNamespace(url=url, out=out, pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _status(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field))


def threads(pid: int) -> int:
    return _status(pid, "Threads:")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def resident_mb(pid: int) -> float:
    return _status(pid, "VmRSS:") / 1024


@contextlib.contextmanager
def peak_memory(pid: int, since: float | None = None):
    """The most the process's resident memory grew by during the block, in MB (`.mb` once it ends),
    over what it held as the block began, or over `since` (MB, an earlier `resident_mb`): its peak
    is reset first (Linux's clear_refs), then read."""
    with open(f"/proc/{pid}/clear_refs", "w") as refs:
        refs.write("5")
    grown = SimpleNamespace(mb=0.0)
    before = resident_mb(pid) if since is None else since
    yield grown
    grown.mb = _status(pid, "VmHWM:") / 1024 - before
