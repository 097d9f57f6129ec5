"""Which class a heat map explains: the model's answer, the right answer, a whole group, or a class.

`target` takes "answer" (the model's own top-1, the default), "expected" (the right answer given:
for "dog" or "cat", the whole group), "dog" or "cat" (the sum of the group's classes, the verdict's
groups: `plugin.limits.DOG_INDICES`, `CAT_INDICES`), or an ImageNet class by name or index (for a
model file, one of its class names or an index). A group's score is the sum of its probabilities
(or, for gradients, the log-sum-exp of its logits, the group's score before the softmax).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from plugin.engine.imagenet import find_class
from plugin.engine.inference.prepared import PreparedModel
from plugin.engine.results import ExpectedInput, ExplainedClass
from plugin.engine.study.labels import parse_expected
from plugin.errors import InvalidInputError
from plugin.limits import CAT_INDICES, DOG_INDICES

__all__ = ["TARGETS", "Target", "resolve_target", "explained_class"]

TARGETS = ("answer", "expected", "dog", "cat")
"""The named targets; any other value is a class (a name or an index)."""

_GROUPS = {"dog": DOG_INDICES, "cat": CAT_INDICES}
_GROUP_KO = {"dog": "개", "cat": "고양이"}


@dataclasses.dataclass(frozen=True)
class Target:
    """The classes a map explains: one index, or a group's indices.

    Attributes:
        kind: "answer", "expected", "dog", "cat" or "class": what the caller asked for.
        indices: the output indices whose probabilities are summed (one for a class).
        group: "dog" or "cat" where a whole group is explained, else None.
    """

    kind: str
    indices: tuple[int, ...]
    group: str | None = None

    @property
    def index(self) -> int | None:
        return self.indices[0] if self.group is None else None


def resolve_target(target: Any, *, class_index: int | str | None, expected: ExpectedInput, prepared: PreparedModel,
                   probabilities: np.ndarray) -> Target:
    """The `Target` a caller's `target` (or `class_index`, which wins) names for this model and photo."""
    classes = probabilities.size
    if class_index is not None:
        return Target("class", (_class(class_index, prepared, classes),))
    if isinstance(target, bool) or not isinstance(target, (str, int, np.integer)) or target == "":
        raise InvalidInputError(f"Expected target to be one of {list(TARGETS)}, a class name or a class index. "
                                f"Received: {str(target)[:40]!r}", key="explain_target", value=str(target)[:40])
    if target == "answer":
        return Target("answer", (int(np.argmax(probabilities)),))
    if target == "expected":
        if expected is None:
            raise InvalidInputError("Expected the right answer (expected=...) with target='expected'. "
                                    "Received: no expected answer.", key="explain_expected_missing")
        right = parse_expected(expected, prepared.class_names)
        assert right is not None
        if right.item is not None:
            return Target("expected", (right.item.index,))
        if right.custom_index is not None:
            return Target("expected", (right.custom_index,))
        return _group("expected", right.group, prepared)
    if target in _GROUPS:
        return _group(str(target), str(target), prepared)
    return Target("class", (_class(int(target) if isinstance(target, np.integer) else target, prepared, classes),))


def _group(kind: str, group: str, prepared: PreparedModel) -> Target:
    if not prepared.imagenet_head:
        raise InvalidInputError(f"Expected a class of the model's own {list((prepared.class_names or ())[:20])} for a model "
                                f"file. Received: target={group!r}, an ImageNet group.", key="explain_group_custom",
                                value=group)
    indices = _GROUPS[group]
    return Target(kind, tuple(indices), group=group)


def _class(name: int | str, prepared: PreparedModel, classes: int) -> int:
    if isinstance(name, str) and name.strip().lstrip("-").isdigit():
        name = int(name.strip())
    if prepared.imagenet_head and not isinstance(name, (int, np.integer)):
        return find_class(name).index
    if not prepared.imagenet_head and isinstance(name, str) and prepared.class_names and name.strip() in prepared.class_names:
        return list(prepared.class_names).index(name.strip())
    if isinstance(name, bool) or not isinstance(name, (int, np.integer)) or not 0 <= int(name) < classes:
        raise InvalidInputError(f"Expected a class index from 0 to {classes - 1} or a class name. Received: {str(name)[:40]!r}",
                                key="explain_class", value=str(name)[:40], limit=classes - 1)
    return int(name)


def explained_class(target: Target, prepared: PreparedModel, probabilities: np.ndarray) -> ExplainedClass:
    """The class (or group) explained as results say it: index (None for a group), names, probability."""
    if target.group is not None:
        probability = float(probabilities[list(target.indices)].sum())
        return {"index": None, "label": target.group, "label_ko": _GROUP_KO[target.group],
                "probability": round(probability, 6), "group": target.group, "classes": len(target.indices)}
    index = target.indices[0]
    label, label_ko = class_names(prepared, index)
    return {"index": index, "label": label, "label_ko": label_ko, "probability": round(float(probabilities[index]), 6)}


def class_names(prepared: PreparedModel, index: int) -> tuple[str, str | None]:
    """A class's name and Korean name (None for a model file's classes)."""
    if prepared.imagenet_head:
        item = find_class(index)
        return item.label, item.label_ko
    if prepared.class_names and index < len(prepared.class_names):
        return prepared.class_names[index], None
    return f"class_{index}", None
