"""Files written whole or not at all, and caches of them kept to a size.

A writer fills a temporary file in the target's own folder (so that moving it into place is one
`os.replace`, atomic on every file system) and moves it over the target only once it is complete:
a reader sees the old file or the new one, never half of one, and a writer that fails removes its
temporary and leaves the old file as it was. A process killed while writing leaves at most a
hidden temporary file beside the target.

    >>> write_atomically(path, page)  # doctest: +SKIP
    >>> with atomic_path(path, suffix=".keras") as temporary:  # doctest: +SKIP
    ...     model.save(temporary)  # a library that takes a path
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["atomic_path", "write_atomically", "forget_least_recent"]

_TRIES = 100


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], *, mode: int | None = 0o644, suffix: str = ".part",
                temporary: str | os.PathLike[str] | None = None) -> Iterator[Path]:
    """A temporary path beside `target` for the block to write; moved over `target` when the block
    ends without an error, removed when it raises (the error goes on).

    Whatever the block does with the temporary before it ends (check it, measure it) happens before
    `target` changes.

    Args:
        target: the file to write; its folder must exist.
        mode: the permissions the file gets when it is moved into place (the temporary is private
            until then); None keeps what a new file gets from the umask, as `open` gives it.
        suffix: how the temporary's name ends, for libraries that read it (Keras wants `.keras`
            or `.weights.h5`).
        temporary: the temporary's name, in `target`'s folder, where another process must find it
            (to remove it after killing the writer); it is not created here. By default a fresh,
            hidden name, created empty here.

    Yields:
        The temporary path.
    """
    target = Path(target)
    if temporary is None:
        path = _fresh(target, suffix, 0o666 if mode is None else 0o600)
    else:
        path = Path(temporary)
    try:
        yield path
        if mode is not None:
            os.chmod(path, mode)
        os.replace(path, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def write_atomically(path: str | os.PathLike[str], data: bytes | str, *, mode: int | None = 0o644) -> None:
    """Write `data` (text as UTF-8) to `path` whole or not at all.

    Args:
        path: the file to write; its folder must exist.
        data: the file's content.
        mode: the file's permissions; None keeps what a new file gets from the umask.
    """
    content = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_path(path, mode=mode) as temporary, open(temporary, "wb") as out:
        out.write(content)


def _fresh(target: Path, suffix: str, mode: int) -> Path:
    """A new, empty, hidden file beside `target`, made with `mode` (less the umask)."""
    for _ in range(_TRIES):
        path = target.with_name(f".{target.name[:60]}.{secrets.token_hex(6)}{suffix}")
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"Expected a free temporary name beside {target.name}. Received: {_TRIES} names taken.")


def forget_least_recent(files: Iterable[Path], keep: Path, limit: int) -> list[str]:
    """Delete the least recently used of `files` (oldest modification time first; a cache renews a
    file's time when it is used) until they and `keep` hold at most `limit` bytes; `keep`, the file
    just made, is never deleted. Returns the names deleted."""
    kept = sorted((path for path in files if path != keep), key=lambda path: path.stat().st_mtime)
    total = sum(path.stat().st_size for path in kept) + (keep.stat().st_size if keep.is_file() else 0)
    deleted = []
    for path in kept:
        if total <= limit:
            break
        size = path.stat().st_size
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            deleted.append(path.name)
        total -= size
    return deleted
