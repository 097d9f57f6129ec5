"""Unpack an uploaded zip of labelled photos, safely: only image files, only under the folder made
for it, within a count and a size budget (a zip bomb or a path like ../../x is refused)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import stat
import struct
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from plugin.engine.intake.images import IMAGE_SUFFIXES
from plugin.errors import InvalidInputError
from plugin.limits import MAX_EVALUATION_IMAGES

__all__ = ["extract_images", "MAX_UNPACKED_BYTES", "MAX_ZIP_ENTRIES"]

MAX_UNPACKED_BYTES = 512 * 1024 * 1024
MAX_ZIP_ENTRIES = 4 * MAX_EVALUATION_IMAGES
"""Entries a zip may list (its images, their folders, a few other files): counted before it is parsed."""
MAX_ZIP_DIRECTORY_BYTES = 16 * 1024 * 1024
_TAIL = 22 + 65535 + 20  # the end record, its longest comment, and the zip64 locator before it
_END, _ZIP64_END, _ZIP64_LOCATOR = b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07"


def extract_images(archive: str | os.PathLike, into: Path) -> Path:
    """Unpack the images of a zip (sub-folders name the labels) into a new folder below `into`.

    Returns:
        The folder, named after the archive (`photos.zip` -> `photos`) inside a folder named by its
        content. It appears whole or not at all: a refused zip leaves nothing behind.
    """
    path = Path(archive)
    _check_directory(path)  # before zipfile reads every entry of a directory of millions
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:  # streamed: a zip of hundreds of MB is never held in memory
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(chunk)
    digest = hasher.hexdigest()[:16]
    stem = re.sub(r"[^\w.-]", "_", path.stem)[:60].strip("._") or "photos"
    folder = into / f"zip-{digest}" / stem
    if folder.is_dir():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=folder.parent))
    try:
        _unpack(path, staging)
        try:
            os.replace(staging, folder)
        except OSError:
            if not folder.is_dir():  # else the same zip was unpacked by a request beside this one
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not folder.is_dir():
            with contextlib.suppress(OSError):
                folder.parent.rmdir()  # only when empty
    return folder


def _check_directory(path: Path) -> None:
    """Refuse a zip whose central directory lists more than `MAX_ZIP_ENTRIES` entries or spans more
    than `MAX_ZIP_DIRECTORY_BYTES`, read from its end record alone (zip64 too)."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        handle.seek(max(0, size - _TAIL))
        tail = handle.read()
        at = tail.rfind(_END)
        if at < 0 or len(tail) < at + 22:
            raise InvalidInputError(f"Expected a zip file. Received: {path.name}, which is not one.", key="not_zip", name=path.name)
        entries, directory = struct.unpack("<HI", tail[at + 10:at + 16])
        locator = tail[at - 20:at] if at >= 20 else b""
        if (entries == 0xFFFF or directory == 0xFFFFFFFF) and locator[:4] == _ZIP64_LOCATOR:
            handle.seek(struct.unpack("<Q", locator[8:16])[0])
            record = handle.read(56)
            if record[:4] == _ZIP64_END and len(record) == 56:
                entries, directory = struct.unpack("<QQ", record[32:48])
    if entries > MAX_ZIP_ENTRIES or directory > MAX_ZIP_DIRECTORY_BYTES:
        raise InvalidInputError(f"Expected a zip of at most {MAX_ZIP_ENTRIES:,} entries. Received: {path.name}, which lists "
                                f"{entries:,} ({directory:,} bytes of directory).", key="zip_too_many_entries",
                                name=path.name, limit=f"{MAX_ZIP_ENTRIES:,}", count=f"{entries:,}")


def _unpack(path: Path, folder: Path) -> None:
    try:
        with zipfile.ZipFile(path) as zipped:
            members = [info for info in zipped.infolist() if not info.is_dir()]
            images = [info for info in members if PurePosixPath(info.filename).suffix.lower() in IMAGE_SUFFIXES]
            if not images:
                raise InvalidInputError("Expected a zip of photos in sub-folders named after their labels. Received: no images in it.",
                                        key="no_images", name=path.name)
            if len(images) > MAX_EVALUATION_IMAGES:
                raise InvalidInputError(f"Expected at most {MAX_EVALUATION_IMAGES} images in the zip. Received: {len(images)}.",
                                        key="too_many_images", limit=MAX_EVALUATION_IMAGES, count=len(images))
            if sum(info.file_size for info in images) > MAX_UNPACKED_BYTES:
                raise InvalidInputError(f"Expected the zip's images to unpack to at most {MAX_UNPACKED_BYTES:,} bytes. "
                                        "Received: more.")
            for info in images:
                parts = PurePosixPath(info.filename.replace("\\", "/")).parts
                if info.filename.startswith("/") or ".." in parts or len(parts) < 2 or stat.S_ISLNK(info.external_attr >> 16):
                    raise InvalidInputError(f"Expected label/image paths inside the zip. Received: {info.filename[:100]!r}.")
                target = folder.joinpath(*parts[-2:])
                target.parent.mkdir(parents=True, exist_ok=True)
                with zipped.open(info) as source, open(target, "wb") as out:
                    remaining = info.file_size + 1
                    while chunk := source.read(min(1 << 20, remaining)):
                        remaining -= len(chunk)
                        if remaining <= 0:
                            raise InvalidInputError(f"Expected {info.filename[:100]!r} to unpack to its stated size. Received: more.")
                        out.write(chunk)
    except zipfile.BadZipFile as exc:
        raise InvalidInputError(f"Expected a zip file. Received: {path.name}, which is not one.") from exc
    except OSError as exc:  # a name too long for the file system, a full disk: said without the server's folders
        raise InvalidInputError(f"Expected a zip whose photos this server can unpack. Received: {path.name}, whose "
                                f"files could not be written ({os.strerror(exc.errno) if exc.errno else type(exc).__name__}).",
                                key="zip_unpack_failed", name=path.name) from exc
