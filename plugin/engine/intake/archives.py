"""Unpack an uploaded zip of labelled photos, safely: only image files, only under the folder made
for it, within a count and a size budget (a zip bomb or a path like ../../x is refused)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from plugin.engine.intake.images import IMAGE_SUFFIXES
from plugin.errors import InvalidInputError
from plugin.limits import MAX_EVALUATION_IMAGES

__all__ = ["extract_images", "MAX_UNPACKED_BYTES"]

MAX_UNPACKED_BYTES = 512 * 1024 * 1024


def extract_images(archive: str | os.PathLike, into: Path) -> Path:
    """Unpack the images of a zip (sub-folders name the labels) into a new folder below `into`.

    Returns:
        The folder, named after the archive (`photos.zip` -> `photos`) inside a folder named by its
        content. It appears whole or not at all: a refused zip leaves nothing behind.
    """
    path = Path(archive)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
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
