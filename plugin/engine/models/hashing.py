"""File hashes, read in 1 MiB blocks and remembered for a file's size and modification time: the
one way the engine hashes a weights file (bundled weights, Keras downloads, ONNX export keys)."""

from __future__ import annotations

import functools
import hashlib
import os

__all__ = ["file_hash"]


def file_hash(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    """The file's hex digest by `algorithm` ("sha256" or "md5", as Keras checks downloads)."""
    stat = os.stat(path)
    return _digest(os.fspath(path), stat.st_size, stat.st_mtime_ns, algorithm)


@functools.lru_cache(maxsize=64)
def _digest(path: str, size: int, mtime_ns: int, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
