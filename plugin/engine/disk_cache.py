"""What is derived from this code, its libraries and an input, kept on disk between processes: an
architecture's facts and diagram, a drawing's Markdown pictures. Once any process has made them, a
fresh `launch.py report architecture ResNet50` needs neither TensorFlow nor CairoSVG.

An entry is keyed by what it derives from (the caller's identity: a model and its options, a
drawing's text), by the code (a digest of the package's Python files and word catalogues) and by
the libraries' versions, so a change to any of them makes a new entry instead of a stale answer.
Entries live beside the weights and ONNX exports (KERAS_HOME/models/derived), each one file written
whole or not at all; beyond `Settings.max_derived_cache_bytes` the least recently used are deleted.
A folder that cannot be written (a read-only home) only means nothing is kept.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from plugin.config import get_settings
from plugin.engine.models.weights import keras_cache_dir
from plugin.files import forget_least_recent, write_atomically

__all__ = ["cached", "load", "store", "cache_dir", "code_digest"]

_LIBRARIES = ("keras", "tensorflow", "pydot", "cairosvg", "pillow", "numpy")
_PACKAGE = Path(__file__).resolve().parents[1]
log = logging.getLogger(__name__)


def cache_dir() -> Path:
    return keras_cache_dir() / "derived"


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the package's Python files and word catalogues (3 ms)."""
    digest = hashlib.sha256()
    for path in sorted([*_PACKAGE.rglob("*.py"), *_PACKAGE.glob("words/*.json")]):
        digest.update(str(path.relative_to(_PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def _versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in _LIBRARIES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def _path(kind: str, identity: dict) -> Path:
    key = json.dumps({"kind": kind, "identity": identity, "code": code_digest(), "versions": _versions()},
                     sort_keys=True, default=str)
    return cache_dir() / kind / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.bin"


def load(kind: str, identity: dict) -> list[bytes] | None:
    """The parts stored under `identity`, or None (its time stamp is renewed: the least recently used go first)."""
    path = _path(kind, identity)
    try:
        data = path.read_bytes()
        header, _, body = data.partition(b"\n")
        sizes = json.loads(header)["sizes"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if sum(sizes) != len(body):
        return None  # not a file this module wrote whole
    with contextlib.suppress(OSError):
        os.utime(path)
    parts, start = [], 0
    for size in sizes:
        parts.append(body[start:start + size])
        start += size
    return parts


def store(kind: str, identity: dict, parts: list[bytes]) -> None:
    """Keep `parts` under `identity`; then forget the least recently used beyond the cache's size."""
    path = _path(kind, identity)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps({"sizes": [len(part) for part in parts]}).encode() + b"\n" + b"".join(parts))
        forget_least_recent(cache_dir().glob("*/*.bin"), path, get_settings().max_derived_cache_bytes)
    except OSError as exc:
        log.info("Could not keep a derived file in %s: %s", cache_dir(), exc)


def cached(kind: str, identity: dict, make: Callable[[], list[bytes]]) -> list[bytes]:
    """The parts stored under `identity`, made (and stored) first where there are none."""
    parts = load(kind, identity)
    if parts is None:
        parts = make()
        store(kind, identity, parts)
    return parts
