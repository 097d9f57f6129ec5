"""Exported models kept in KERAS_HOME/models/onnx, one file per model, weights and library versions.

A file's name is the model's name and a hash of the weights file's SHA-256, the versions of Keras,
TensorFlow, tf2onnx and onnxruntime, and `EXPORT_VERSION`: changed weights or libraries give a new
file, never a stale one. Random weights differ at every build, so they are never cached here (export
them with `export_onnx` into a folder of your own).

A file is built from exactly the bytes whose SHA-256 its name holds. The weights file may be a
caller's, rewritten by whoever can write it after it was hashed, so `export_cached` hashes it once
and hands that digest to the worker, which copies the file while hashing it, builds from the copy
and refuses bytes of another digest. An export of swapped weights is then refused, never stored
under the key of the bytes the file had (nor is the int8 model made from it, keyed by its name).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
from importlib import metadata
from pathlib import Path

from plugin.config import get_settings
from plugin.engine.inference.onnx.export import Progress, export_lock, run_worker
from plugin.engine.models.hashing import file_hash
from plugin.engine.models.registry import get_spec
from plugin.engine.models.weights import keras_cache_dir
from plugin.errors import InvalidInputError
from plugin.files import forget_least_recent

__all__ = ["EXPORT_VERSION", "onnx_cache_dir", "versions", "weights_sha256", "cache_path", "cached_export", "export_cached",
           "evict"]

EXPORT_VERSION = 1
"""Bump when the worker changes what it writes (route, input name, opset, patches)."""

_VERSIONED = ("keras", "tensorflow", "tf2onnx", "onnxruntime")


def onnx_cache_dir() -> Path:
    """The folder exports are cached in: `onnx` inside the Keras models folder."""
    return keras_cache_dir() / "onnx"


@functools.cache
def versions() -> dict[str, str]:
    """The installed versions of the libraries that decide what an export holds and how it runs
    (read once: `cache_path` runs on every call with backend "auto")."""
    found = {}
    for distribution in _VERSIONED:
        try:
            found[distribution] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            found[distribution] = "absent"
    return found


def weights_sha256(spec_name: str, weights_path: str | os.PathLike | None) -> str:
    """The SHA-256 of the weights file an export of a registry model is keyed on; random weights (None)
    are refused: they are never cached."""
    if weights_path is None:
        name = get_spec(spec_name).name
        raise InvalidInputError(f"Expected a weights file to cache the ONNX export of {name} under. Received: "
                                "random weights, which differ at every build; export them with export_onnx into a "
                                "folder of your own.", key="onnx_random_weights", model=name)
    return file_hash(weights_path)


def cache_path(spec_name: str, weights_path: str | os.PathLike | None, sha256: str | None = None) -> Path:
    """Where the export of a registry model with these weights is cached (whether or not it is there).

    Args:
        spec_name: a registry model name.
        weights_path: the weights file the model is built with (`plugin.engine.models.weights.weights_path`).
        sha256: the file's `weights_sha256` where the caller has it already (the file is then not read).
    """
    spec = get_spec(spec_name)
    identity = {"model": spec.name, "weights_sha256": sha256 or weights_sha256(spec.name, weights_path),
                "versions": versions(), "export_version": EXPORT_VERSION}
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]
    return onnx_cache_dir() / f"{spec.name.lower()}-{digest}.onnx"


def cached_export(spec_name: str, weights_path: str | os.PathLike | None) -> Path | None:
    """The cached export of a registry model with these weights, or None when there is none yet
    (its time stamp is renewed: the cache forgets the least recently used first)."""
    path = cache_path(spec_name, weights_path)
    if not path.is_file():
        return None
    with contextlib.suppress(OSError):
        os.utime(path)
    return path


def evict(keep: Path, limit: int) -> list[str]:
    """Delete the least recently used exports until the cache holds at most `limit` bytes (never
    `keep`, the one just made); return the names deleted. Callers' own weights make new exports
    without end, so the cache is bounded (`Settings.max_onnx_cache_bytes`)."""
    return forget_least_recent(onnx_cache_dir().glob("*.onnx"), keep, limit)


def export_cached(spec_name: str, weights_path: str | os.PathLike | None, progress: Progress | None = None,
                  sha256: str | None = None) -> dict:
    """The cached export, exporting it first (in a worker process) when it is not there.

    The weights are hashed once, here, and the worker builds from a copy of exactly those bytes or
    refuses with an `ExportError` (the file changed after it was hashed): nothing is stored under a
    key but an export of the key's bytes.

    Args:
        spec_name: a registry model name.
        weights_path: the weights file.
        progress: as `export_onnx`'s.
        sha256: the file's `weights_sha256` where the caller has it already (the key it recorded).

    Returns:
        `{"path", "cached"}`, and after an export the worker's figures (see `export_onnx`).
    """
    sha256 = sha256 or weights_sha256(spec_name, weights_path)
    target = cache_path(spec_name, weights_path, sha256)
    if target.is_file():
        return {"path": str(target), "cached": True}
    with export_lock(target) as lock:
        if target.is_file():  # another process exported it while we waited
            return {"path": str(target), "cached": True}
        made = {**run_worker(spec_name, weights_path, target, progress, sha256=sha256, lock=lock), "cached": False}
    evict(target, get_settings().max_onnx_cache_bytes)
    return made
