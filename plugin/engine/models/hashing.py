"""File hashes, read in 1 MiB blocks: the one way the engine hashes a weights file (bundled weights,
Keras downloads, ONNX export keys).

`file_hash` remembers a digest for the file's identity (device and inode), size, modification time
and change time. The change time is what a file's owner cannot set back (`os.utime` sets the
modification time and renews the change time), so a file rewritten or replaced keeping its size and
modification time is hashed again. A change within one tick of the file system's clock can still
go unseen, and any file can change after it was hashed: where a digest decides what is stored under
it, the bytes used are read once with `copy_hashed`, which hashes what it copies (the ONNX export
worker builds from such a copy and refuses one of another digest).
"""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import stat as stat_module

__all__ = ["file_hash", "copy_hashed"]

_BLOCK = 1 << 20


def file_hash(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    """The file's hex digest by `algorithm` ("sha256" or "md5", as Keras checks downloads)."""
    found = os.stat(path)
    return _digest(os.fspath(path), (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns),
                   algorithm)


@functools.lru_cache(maxsize=64)
def _digest(path: str, identity: tuple[int, ...], algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def copy_hashed(source: str | os.PathLike[str], target: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    """Copy a regular file to `target` (a new file) and return the digest of the bytes copied.

    One read: the copy holds exactly the bytes hashed, whatever happens to `source` meanwhile (a
    file written in place while it is read, or another one moved over it).

    Raises:
        OSError: `source` cannot be read or is not a regular file (a FIFO or a device put in its
            place is refused at once, not read), or `target` exists.
    """
    digest = hashlib.new(algorithm)
    with open(os.open(source, os.O_RDONLY | os.O_NONBLOCK), "rb") as reader:
        if not stat_module.S_ISREG(os.fstat(reader.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        with open(target, "xb") as writer:
            for block in iter(lambda: reader.read(_BLOCK), b""):
                digest.update(block)
                writer.write(block)
    return digest.hexdigest()
