"""What to evaluate: labelled images from a folder whose sub-folders name the labels, or from a
CSV or JSON list of (image, label); every image below the allowed roots. And what each label
means: "dog" or "cat" (the study's verdict), an ImageNet class (for top-1 and top-5 too), or,
for a model file of one's own, one of its class names."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from pathlib import Path

from plugin.engine.imagenet import ImagenetClass
from plugin.engine.intake.images import IMAGE_SUFFIXES
from plugin.engine.intake.sources import resolve_local_dir, resolve_local_path
from plugin.engine.study.labels import parse_expected
from plugin.errors import InvalidInputError, PluginError
from plugin.limits import MAX_EVALUATION_IMAGES

__all__ = ["Item", "Meaning", "read_source", "interpret", "group_label"]

_MAX_LIST_BYTES = 4 * 1024 * 1024
_REASONS = {"path_outside_roots": "a path outside them", "path_missing": "a file that does not exist"}


@dataclasses.dataclass(frozen=True)
class Item:
    """One labelled image: its real path, its label, and its name relative to the source (for people)."""

    path: str
    label: str
    name: str
    origin: str | None = None
    """Where a list's entry came from ("photos.csv #3"), which errors name instead of its
    cells: a list's cells are the caller's data, never echoed."""


@dataclasses.dataclass(frozen=True)
class Meaning:
    """What a label stands for: a group ("dog", "cat", "other"), an ImageNet class, or a class of a model file."""

    label: str
    group: str | None
    item: ImagenetClass | None = None
    custom: str | None = None

    def describe(self) -> dict:
        return {"label": self.label, "group": self.group, "index": self.item.index if self.item else None,
                "label_ko": self.item.label_ko if self.item else None}


def read_source(source, labels: dict | None = None) -> tuple[list[Item], str]:
    """The labelled images of a folder (sub-folders name the labels) or of a CSV/JSON list.

    Args:
        source: a folder, or a `.csv` (columns image, label) or `.json` file (a list of
            {"image", "label"} or [image, label]; or {label: [images]}), below the allowed roots.
            Images in a list are relative to the list's folder.
        labels: optional renaming of labels, e.g. {"kitties": "cat"}.

    Returns:
        `(items, description)`: items sorted by label then path.
    """
    if labels is not None and not isinstance(labels, dict):
        raise InvalidInputError(f"Expected labels as a mapping from names in the source to labels. Received: {type(labels).__name__}")
    text = os.fspath(source) if isinstance(source, (str, os.PathLike)) else None
    if text is None:
        raise InvalidInputError(f"Expected a folder or a .csv/.json list of images. Received: {type(source).__name__}")
    if text.lower().endswith((".csv", ".json")):
        path = resolve_local_path(text, what="list of images")
        pairs = _read_list(path)
        base = path.parent
    else:
        base = resolve_local_dir(text, what="folder of images")
        pairs = [(str(image), folder.name) for folder in sorted(p for p in base.iterdir() if p.is_dir())
                 for image in sorted(folder.rglob("*")) if image.is_file() and image.suffix.lower() in IMAGE_SUFFIXES]
    if not pairs:
        raise InvalidInputError(f"Expected labelled images (sub-folders named after their labels, or a list). Received: "
                                f"none in {Path(text).name!r}.", key="no_images", name=Path(text).name)
    if len(pairs) > MAX_EVALUATION_IMAGES:
        raise InvalidInputError(f"Expected at most {MAX_EVALUATION_IMAGES} images to evaluate. Received: {len(pairs)}.",
                                key="too_many_images", limit=MAX_EVALUATION_IMAGES, count=len(pairs))
    listed = text.lower().endswith((".csv", ".json"))
    items = []
    for row, (image, label) in enumerate(pairs, 1):
        origin = f"{Path(text).name} #{row}" if listed else None  # the list and its entry, in any language
        try:
            real = resolve_local_path(image if os.path.isabs(image) else base / image, what="image file")
        except PluginError as exc:
            if not listed:
                raise
            raise type(exc)(f"Expected the image of {origin} to be a file below the allowed folders. Received: "
                            f"{_REASONS.get(exc.key or '', 'a path that cannot be used')}.", key="list_entry",
                            where=origin) from exc
        label = str(labels.get(label, label) if labels else label).strip()
        if not label:
            raise InvalidInputError(f"Expected a label for every image. Received: none for {origin or repr(Path(image).name)}.")
        items.append(Item(str(real), label, os.path.relpath(real, base) if real.is_relative_to(base) else real.name, origin))
    items.sort(key=lambda item: (item.label, item.name))
    return items, Path(text).name


def _read_list(path: Path) -> list[tuple[str, str]]:
    if path.stat().st_size > _MAX_LIST_BYTES:
        raise InvalidInputError(f"Expected a list of images under {_MAX_LIST_BYTES:,} bytes. Received: {path.name}.")
    text = path.read_text("utf-8")
    if path.suffix.lower() == ".csv":
        rows = [row for row in csv.reader(io.StringIO(text)) if row and any(cell.strip() for cell in row)]
        if rows and [cell.strip().lower() for cell in rows[0][:2]] == ["image", "label"]:
            rows = rows[1:]
        if any(len(row) < 2 for row in rows):
            raise InvalidInputError(f"Expected two columns, image and label, in {path.name}. Received: a row with fewer.")
        return [(row[0].strip(), row[1].strip()) for row in rows]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"Expected JSON in {path.name}. Received: text that does not parse ({exc.msg}).") from exc
    if isinstance(data, dict):
        return [(str(image), str(label)) for label, images in data.items() for image in (images if isinstance(images, list) else [])]
    pairs = []
    for entry in data if isinstance(data, list) else []:
        if isinstance(entry, dict) and "image" in entry and "label" in entry:
            pairs.append((str(entry["image"]), str(entry["label"])))
        elif isinstance(entry, (list, tuple)) and len(entry) == 2:
            pairs.append((str(entry[0]), str(entry[1])))
        else:
            raise InvalidInputError(f"Expected entries like {{\"image\": ..., \"label\": ...}} in {path.name}. Received: "
                                    f"entry {len(pairs) + 1}, a {type(entry).__name__} of another shape.")
    return pairs


def interpret(labels: list[str], class_names: list[str] | None = None, origins: dict[str, str] | None = None) -> dict[str, Meaning]:
    """What each label means, for ImageNet models (class_names None) or a model with its own classes.
    `origins` names where a list's labels came from, for errors to say instead of the label."""
    meanings = {}
    for label in labels:
        if class_names is not None:
            names = [str(name) for name in class_names]
            if label in names:
                meanings[label] = Meaning(label, group_label(label), custom=label)
                continue
        expected = None
        try:
            expected = parse_expected(label)
        except InvalidInputError:
            pass
        if expected is None:
            raise InvalidInputError(
                f"Expected labels that are 'dog', 'cat', ImageNet classes (English or Korean names, WordNet ids)"
                f"{' or the model classes ' + str(class_names[:10]) if class_names else ''}. Received: "
                f"{'the label of ' + origins[label] if origins and label in origins else repr(label)}.",
                key="unknown_class", name=(origins or {}).get(label) or label[:80])
        meanings[label] = Meaning(label, expected.group, item=expected.item)
    return meanings


def group_label(name: str) -> str | None:
    """'dog' or 'cat' for a class name that says so (a fine-tuned head's classes), else None."""
    folded = name.strip().casefold()
    return {"dog": "dog", "개": "dog", "cat": "cat", "고양이": "cat"}.get(folded) if folded else None

