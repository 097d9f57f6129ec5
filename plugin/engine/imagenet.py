"""ImageNet's 1000 classes in English and Korean, their dog/cat group, and finding a class by any
of its names: data any layer may read (the study decodes and judges with it; a report names a
folder's label with it).

The class index (1000 WordNet ids and names, in Keras's order) and the Korean names written for
this project ship inside the package (`data/imagenet_class_index.json`, `data/imagenet_ko.json`),
so decoding works offline. A class keeps Keras's name as `label` (e.g. "golden_retriever", which
code relies on) beside `label_ko` ("골든 리트리버"); `plugin.words.results.display_name` gives
what people read. The groups are `plugin.limits`' `DOG_INDICES` and `CAT_INDICES`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from importlib import resources
from typing import Any

import numpy as np

from plugin.engine.results import ExpectedRecord
from plugin.errors import InvalidInputError
from plugin.limits import CAT_INDICES, DOG_INDICES

__all__ = ["ImagenetClass", "imagenet_classes", "group_of", "find_class"]


@dataclasses.dataclass(frozen=True)
class ImagenetClass:
    """One of the 1000 classes: its index, WordNet id, Keras name and Korean name."""

    index: int
    wnid: str
    label: str
    label_ko: str

    @property
    def group(self) -> str:
        return group_of(self.index)

    def describe(self) -> ExpectedRecord:
        return {"index": self.index, "wnid": self.wnid, "label": self.label, "label_ko": self.label_ko,
                "group": self.group}


def _data(name: str) -> dict:
    return json.loads(resources.files("plugin.data").joinpath(name).read_text("utf-8"))


@functools.cache
def imagenet_classes() -> tuple[ImagenetClass, ...]:
    """The 1000 ImageNet classes, by index."""
    index, korean = _data("imagenet_class_index.json"), _data("imagenet_ko.json")
    return tuple(ImagenetClass(i, index[str(i)][0], index[str(i)][1], korean[str(i)]) for i in range(len(index)))


def group_of(index: int) -> str:
    """"dog", "cat" or "other" for an ImageNet class index."""
    return "dog" if index in DOG_INDICES else "cat" if index in CAT_INDICES else "other"


def _key(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("-", " ").split()).casefold()


@functools.cache
def _by_name() -> dict[str, int]:
    names: dict[str, int] = {}
    for item in imagenet_classes():
        for name in (item.label, item.label_ko, item.wnid):
            names.setdefault(_key(name), item.index)
    return names


def find_class(name: Any) -> ImagenetClass:
    """An ImageNet class by index (int or digits), English name ("golden retriever" or
    "golden_retriever", any case), Korean name ("골든 리트리버") or WordNet id ("n02099601")."""
    classes = imagenet_classes()
    if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
        if 0 <= int(name) < len(classes):
            return classes[int(name)]
    elif isinstance(name, str):
        text = name.strip()
        if text.isdigit() and int(text) < len(classes):
            return classes[int(text)]
        if _key(text) in _by_name():
            return classes[_by_name()[_key(text)]]
    raise InvalidInputError(
        "Expected an ImageNet class: its index (0-999), English name ('beagle'), Korean name ('비글') or WordNet "
        f"id ('n02088364'), or 'dog' or 'cat'. Received: {str(name)[:80]!r}", key="unknown_class", name=str(name)[:80])
