"""Read untrusted file paths, URLs and data URIs into bytes, within the configured bounds.

Local files are read only below the configured roots (symbolic links are resolved first, so a
link cannot lead out). URLs are downloaded by `plugin.engine.intake.download`, whose `fetch_url` is
re-exported here: http(s) only, public addresses only (or configured trusted networks), connected
to the address that was checked, every redirect re-checked, within one deadline and a size cap.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import urllib.parse
from pathlib import Path

from plugin.config import Settings, get_settings
from plugin.engine.intake.download import fetch_url
from plugin.errors import AccessDeniedError, ImageError, InvalidInputError
from plugin.limits import MAX_PATH_CHARS

__all__ = ["read_local_file", "resolve_local_path", "resolve_local_dir", "find_under_roots", "fetch_url", "decode_data_uri", "decode_base64",
           "shown", "readable"]

_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*?),(?P<data>.*)$", re.S)


def shown(path: str | os.PathLike, settings: Settings | None = None) -> str:
    """A path as an error or result may show it to a remote caller: relative to the root it lies
    in (`photos/cat.jpg`), else its name alone; never the server's folders."""
    text = os.fspath(path)
    try:
        real = Path(os.path.realpath(text))
        for root in (settings or get_settings()).readable_roots:
            if real.is_relative_to(root):
                return real.relative_to(root).as_posix()[-200:] or "."
    except (OSError, ValueError):
        pass
    return os.path.basename(text)[-200:]


def readable(real: Path, settings: Settings) -> bool:
    """Whether a real path lies below a readable root. Below the web sessions' folder only a root
    inside it counts (a session's own folder, granted for its calls): no root above it, such as
    the working directory or the output folder, opens one session's files to anyone else."""
    sessions = settings.sessions_dir
    return any(real.is_relative_to(root) and (not real.is_relative_to(sessions) or (root != sessions and root.is_relative_to(sessions)))
               for root in settings.readable_roots)


def _below_roots(path: str | os.PathLike, what: str, settings: Settings) -> tuple[str, Path]:
    text = os.fspath(path)
    if not isinstance(text, str):
        raise InvalidInputError(f"Expected a path to the {what} as text. Received: {type(text).__name__}")
    name = os.path.basename(text)[-200:]
    if "\x00" in text:
        raise InvalidInputError(f"Expected a path to the {what}. Received: a path containing a NUL byte.")
    if len(text) > MAX_PATH_CHARS:
        raise InvalidInputError(f"Expected a path to the {what} of at most {MAX_PATH_CHARS} characters. "
                                f"Received: {len(text):,} characters.")
    try:
        real = Path(os.path.realpath(text))
        inside = readable(real, settings)
        exists = inside and real.exists()
    except (OSError, ValueError) as exc:  # a name too long for the file system, a loop of links
        raise InvalidInputError(f"Expected a path to the {what} that the file system can use. Received: {name!r} "
                                f"({os.strerror(code) if (code := getattr(exc, 'errno', None)) else type(exc).__name__}).") from exc
    if not inside:
        raise AccessDeniedError(
            f"Expected the {what} to lie below one of the allowed folders. Received: {name!r}, which does not. "
            "Move it there or add its folder to the roots (CNNLAB_IMAGE_ROOTS or --image-root).",
            key="path_outside_roots", name=name)
    if not exists:
        raise InvalidInputError(f"Expected the {what} to exist. Received: {shown(real, settings)!r}, which does not exist.",
                                key="path_missing", name=name)
    return text, real


def find_under_roots(name: str, settings: Settings | None = None) -> Path | None:
    """The first image root holding a folder of this relative `name`, as a path; None when no root
    does (or the name is absolute)."""
    if not name or os.path.isabs(name):
        return None
    for root in (settings or get_settings()).image_roots:
        try:
            if (root / name).is_dir():
                return root / name
        except (OSError, ValueError):
            return None
    return None


def resolve_local_dir(path: str | os.PathLike, *, what: str = "folder", settings: Settings | None = None) -> Path:
    """Return the real path of an existing folder below one of the allowed roots. A relative path
    that names no folder of the working directory is looked for under the image roots ("eval" is
    `<root>/eval`), as a web user, who knows no working directory, means it."""
    settings = settings or get_settings()
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else path
    if isinstance(text, str) and "\x00" not in text and len(text) <= MAX_PATH_CHARS and not os.path.isdir(text):
        path = find_under_roots(text, settings) or path
    text, real = _below_roots(path, what, settings)
    if not real.is_dir():
        raise InvalidInputError(f"Expected the {what} to be a folder. Received: {shown(real)!r}, which is not a folder.")
    return real


def resolve_local_path(path: str | os.PathLike, *, what: str = "file", settings: Settings | None = None) -> Path:
    """Return the real path of an existing regular file below one of the allowed roots.

    Args:
        path: a path, absolute or relative to the working directory.
        what: what the file is, for error messages ("image", "model file").
        settings: limits to apply; default: the settings in force.

    Returns:
        The resolved path.
    """
    text, real = _below_roots(path, what, settings or get_settings())
    if not real.is_file():
        raise InvalidInputError(f"Expected the {what} to be a regular file. Received: {shown(real)!r}, which is not a file.")
    return real


def read_local_file(path: str | os.PathLike, *, max_bytes: int, what: str = "file",
                    settings: Settings | None = None) -> bytes:
    """Read a file below the allowed roots, refusing files over `max_bytes`."""
    real = resolve_local_path(path, what=what, settings=settings)
    size = real.stat().st_size
    if size > max_bytes:
        raise ImageError(f"Expected the {what} to be at most {max_bytes:,} bytes. Received: {shown(real)!r}, {size:,} bytes.")
    with open(real, "rb") as handle:
        return handle.read(max_bytes + 1)


def decode_data_uri(uri: str, *, max_bytes: int) -> tuple[bytes, str | None]:
    """Decode a `data:` URI; return its bytes and media type."""
    match = _DATA_URI.match(uri.strip())
    if not match:
        raise ImageError(f"Expected a data URI like 'data:image/png;base64,...'. Received: {uri[:60]!r}...")
    params = match["params"] or ""
    data = match["data"]
    if ";base64" in params:
        raw = decode_base64(data, max_bytes=max_bytes, what="data URI")
    else:
        raw = urllib.parse.unquote_to_bytes(data)
    if len(raw) > max_bytes:
        raise ImageError(f"Expected an image of at most {max_bytes:,} bytes. Received: a data URI of {len(raw):,} bytes.")
    return raw, match["mime"]


def decode_base64(text: str, *, max_bytes: int, what: str = "base64 string") -> bytes:
    """Decode standard or URL-safe base64, refusing oversized input before decoding."""
    compact = re.sub(r"\s+", "", text)
    if len(compact) * 3 // 4 > max_bytes:
        raise ImageError(f"Expected an image of at most {max_bytes:,} bytes. Received: a {what} of about {len(compact) * 3 // 4:,} bytes.")
    compact += "=" * (-len(compact) % 4)
    try:
        if "-" in compact or "_" in compact:
            return base64.urlsafe_b64decode(compact)
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageError(f"Expected valid base64. Received: a {what} that does not decode ({exc}).") from exc
