"""Exports started by `backend="auto"`: one at a time, in a background thread, each tried once.

While a model exports, `auto` answers with Keras; once the file is cached, with onnxruntime. A
failed export is remembered (and logged) for the life of the process, so `auto` does not start it
again on every call. The weights are hashed once, when the export is requested, and the export is
made under that key from those bytes or refused (`export_cached(..., sha256=...)`), never under the
key of bytes the file had before it changed.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
from pathlib import Path

from plugin.engine.inference.onnx.cache import cache_path, export_cached, weights_sha256

__all__ = ["request_export", "export_state", "exports_under_way"]

log = logging.getLogger(__name__)

_lock = threading.Lock()
_states: dict[Path, str] = {}
_names: dict[Path, str] = {}
_queue: collections.deque = collections.deque()
_worker: threading.Thread | None = None


def request_export(spec_name: str, weights_path: str) -> str:
    """Start exporting a model with these weights in the background, unless it is cached, under way or
    failed before; return its state ("ready", "queued", "exporting" or "failed")."""
    global _worker
    sha256 = weights_sha256(spec_name, weights_path)
    target = cache_path(spec_name, weights_path, sha256)
    with _lock:
        state = _states.get(target)
        if state in ("queued", "exporting", "failed"):
            return state
        if target.is_file():
            return "ready"
        _states[target] = "queued"
        _names[target] = spec_name
        _queue.append((spec_name, weights_path, sha256, target))
        if _worker is None:
            _worker = threading.Thread(target=_export_all, name="onnx-export", daemon=True)
            _worker.start()
        return "queued"


def export_state(spec_name: str, weights_path: str | os.PathLike[str] | None) -> str:
    """"ready" (cached), "queued", "exporting", "failed" (this process tried) or "none"."""
    if weights_path is None:
        return "none"
    target = cache_path(spec_name, weights_path)
    if target.is_file():
        return "ready"
    with _lock:
        return _states.get(target, "none")


def exports_under_way() -> list[str]:
    """The models this process is exporting or has queued, in the order asked (what a command that
    ends now leaves running: the export goes on after it, see `export.run_worker`)."""
    with _lock:
        return [_names[target] for target, state in _states.items() if state in ("queued", "exporting")]


def _export_all() -> None:
    global _worker
    while True:
        with _lock:
            if not _queue:
                _worker = None
                return
            spec_name, weights_path, sha256, target = _queue.popleft()
            _states[target] = "exporting"
        try:
            record = export_cached(spec_name, weights_path, sha256=sha256)
        except Exception:  # noqa: BLE001 - a background export must not end the thread; Keras answers instead
            log.warning("Exporting %s to ONNX failed; it keeps running on Keras.", spec_name, exc_info=True)
            state = "failed"
        else:
            log.info("Exported %s to ONNX in %s s.", spec_name, record.get("seconds", 0))
            state = "ready"
        with _lock:
            if state == "ready":
                _states.pop(target, None)
            else:
                _states[target] = state
