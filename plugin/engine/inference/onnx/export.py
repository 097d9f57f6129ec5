"""Export a registry model to ONNX in a child process (`plugin.engine.inference.onnx.worker`), never in this one.

One export runs at a time per process, and a lock file next to the target keeps two processes from
exporting the same file at once. The file appears whole or not at all: the worker writes a temporary
file in the target's folder, checks it against Keras and moves it into place. The worker builds the
model from a private copy of the weights file, hashed as it is copied; given the digest the caller
keyed the target on (`run_worker(..., sha256=...)`), it refuses a file that no longer has it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from plugin import errors
from plugin.engine.inference.onnx.worker import EXPORT_TIMEOUT_S, STAGES, temporary_path, weights_folder
from plugin.engine.models.registry import get_spec
from plugin.errors import ExportError, InvalidInputError

__all__ = ["export_onnx", "export_lock", "run_worker", "EXPORT_TIMEOUT_S"]


Progress = Callable[[int, int, str], None]

log = logging.getLogger(__name__)
_process_lock = threading.Lock()


def export_onnx(spec_name: str, weights_path: str | os.PathLike | None, target_path: str | os.PathLike,
                progress: Progress | None = None) -> dict:
    """Export a registry model with the given weights to an `.onnx` file, replacing any file there.

    Args:
        spec_name: a registry model name.
        weights_path: a weights file that fits the model (as `plugin.engine.models.weights.weights_path`
            gives), or None for random weights.
        target_path: the file to write; its folder is created.
        progress: called as `progress(step, steps, stage)` as the worker reaches each stage.

    Returns:
        `{"model", "weights_sha256", "path", "seconds", "stage_seconds", "size_bytes", "peak_rss_bytes",
        "max_abs_diff"}`: the SHA-256 of the weights the model was built from (None for random
        weights), the worker's wall time (in all and per stage: start, build, convert, check), its
        peak memory, and the largest difference from Keras on a fixed random batch.
    """
    target = Path(target_path)
    with export_lock(target) as lock:
        return run_worker(spec_name, weights_path, target, progress, lock=lock)


@contextlib.contextmanager
def export_lock(target: Path):
    """Hold this process's export lock and the lock file next to `target` (removed on release); gives
    the lock file's descriptor, which `run_worker(..., lock=)` hands to the worker, so that the file
    stays locked while the worker runs, even after this process has ended."""
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = target.with_name(target.name + ".lock")
    with _process_lock:
        while True:
            handle = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(handle, fcntl.LOCK_EX)
            with contextlib.suppress(FileNotFoundError):
                if os.stat(lock_path).st_ino == os.fstat(handle).st_ino:
                    break  # not a lock file its previous holder removed while we waited
            os.close(handle)
        try:
            yield handle
        finally:
            lock_path.unlink(missing_ok=True)
            os.close(handle)


def run_worker(spec_name: str, weights_path, target: Path, progress: Progress | None = None,
               sha256: str | None = None, lock: int | None = None) -> dict:
    """Run the export worker for one file (the caller holds `export_lock(target)`).

    A worker outlives a process that ends while it works (a command that answered and exited while
    `backend="auto"` exported in the background): it finishes, puts the file in place for the next
    command and, holding `lock`, keeps other processes from exporting the same file meanwhile.

    Args:
        sha256: the digest of the weights `target` is keyed on: the worker refuses (an `ExportError`)
            a weights file whose bytes, read once into its private copy, have another.
        lock: the descriptor `export_lock` gave, passed on to the worker.
    """
    spec = get_spec(spec_name)
    if weights_path is not None and not Path(weights_path).is_file():
        raise InvalidInputError(f"Expected a weights file for {spec.name}. Received: {Path(weights_path).name!r}, "
                                "which is not a file.", key="weights_missing", model=spec.name)
    command = [sys.executable, "-m", "plugin.engine.inference.onnx.worker", spec.name, os.fspath(weights_path or ""), str(target),
               sha256 or ""]
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}
    messages, reached = [], []
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stderr:
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=environment,
                              pass_fds=() if lock is None else (lock,)) as worker:
            timed_out = threading.Event()

            def stop() -> None:
                timed_out.set()
                worker.kill()

            timer = threading.Timer(EXPORT_TIMEOUT_S, stop)
            timer.start()
            try:
                assert worker.stdout is not None  # stdout=PIPE
                for line in worker.stdout:
                    with contextlib.suppress(json.JSONDecodeError):
                        message = json.loads(line)
                        messages.append(message)
                        reached.append(time.perf_counter())
                        if progress and "stage" in message:
                            progress(STAGES.index(message["stage"]) + 1, len(STAGES), message["stage"])
            except BaseException:
                worker.kill()  # e.g. the progress callback raised, or KeyboardInterrupt
                raise
            finally:
                timer.cancel()
        temporary_path(target, worker.pid).unlink(missing_ok=True)  # these two are left behind only by a killed worker
        shutil.rmtree(weights_folder(target, worker.pid), ignore_errors=True)
        if worker.returncode != 0 and not any("error" in m for m in messages):
            stderr.seek(0)
            log.warning("ONNX export worker for %s failed; its last output:\n%s", spec.name, stderr.read()[-4000:])
    for message in messages:
        if "result" in message:
            steps = ["start", *(m["stage"] for m in messages if "stage" in m)]
            seconds = {step: round(end - begin, 2) for step, begin, end in zip(steps, [started, *reached], reached)}
            return {**message["result"], "path": str(target), "seconds": round(reached[-1] - started, 2),
                    "stage_seconds": seconds}
    reported = next((m["error"] for m in messages if "error" in m), None)
    raise _error(spec.name, worker.returncode, reported, timed_out.is_set())


def _error(model: str, returncode: int, reported: dict | None, timed_out: bool) -> errors.PluginError:
    """The worker's failure as a PluginError: its own type where it raised one, else an ExportError."""
    if reported and reported.get("plugin_error"):
        cls = getattr(errors, reported["type"], None)
        if isinstance(cls, type) and issubclass(cls, errors.PluginError):
            return cls(reported["message"], key=reported.get("key"), **reported.get("params", {}))
    if timed_out:
        what = f"the export took longer than {EXPORT_TIMEOUT_S} s and was stopped"
    elif reported:
        what = f"the conversion failed ({reported['message']})"
    elif returncode < 0:
        what = f"the export worker was killed by signal {-returncode}" + (" (out of memory?)" if returncode == -9 else "")
    else:
        what = f"the export worker stopped with exit status {returncode}"
    return ExportError(f"Expected {model} to export to ONNX. Received: {what}.", key="onnx_export_failed", model=model)
