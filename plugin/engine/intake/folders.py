"""Folders of labelled photos below the image roots: a folder named without a path is looked for
under the roots, and the labelled folders there are listed for a picker.

A labelled folder holds at least two sub-folders with photos in them, each named after its label
(`cat/`, `dog/`). Listing looks a few levels below each root and stops after a bounded number of
folders, so a root as large as a home folder costs little; hidden folders, virtual environments
and the output folder are not entered.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypedDict

from plugin.config import Settings, get_settings
from plugin.engine.intake.images import IMAGE_SUFFIXES
from plugin.limits import LABELLED_FOLDER_DEPTH, MAX_SCANNED_FOLDERS

__all__ = ["LabelledFolder", "labelled_folders"]

_SKIPPED = {"node_modules", "__pycache__", "site-packages", "venv", ".venv"}
_MIN_LABELS = 2


class LabelledFolder(TypedDict):
    """A folder of labelled photos: its path below its root (what to ask for), the root's name, its labels."""

    name: str
    root: str
    labels: list[str]


def labelled_folders(settings: Settings | None = None) -> list[LabelledFolder]:
    """The labelled folders below the image roots, root by root, nearest first."""
    settings = settings or get_settings()
    found: list[LabelledFolder] = []
    budget = MAX_SCANNED_FOLDERS
    avoid = {settings.output_dir.resolve()}
    for root in settings.image_roots:
        level = [root]
        for depth in range(LABELLED_FOLDER_DEPTH + 1):
            following = []
            for folder in level:
                if budget <= 0:
                    return found
                budget -= 1
                children = _subfolders(folder, avoid)
                labels = [child.name for child in children if _has_photos(child)]
                if len(labels) >= _MIN_LABELS:
                    found.append({"name": folder.relative_to(root).as_posix() if folder != root else ".", "root": root.name,
                                  "labels": sorted(labels)})
                if depth < LABELLED_FOLDER_DEPTH:
                    following.extend(children)
            level = following
    return found


def _subfolders(folder: Path, avoid: set[Path]) -> list[Path]:
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return []
    return [Path(entry.path) for entry in entries
            if entry.is_dir(follow_symlinks=False) and not entry.name.startswith(".") and entry.name not in _SKIPPED
            and Path(entry.path).resolve() not in avoid]


def _has_photos(folder: Path, look: int = 50) -> bool:
    """Whether one of the folder's first `look` entries is a photo."""
    try:
        with os.scandir(folder) as entries:
            for index, entry in enumerate(entries):
                if index >= look:
                    return False
                if entry.is_file(follow_symlinks=False) and os.path.splitext(entry.name)[1].lower() in IMAGE_SUFFIXES:
                    return True
    except OSError:
        return False
    return False
