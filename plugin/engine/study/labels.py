"""The study's dog/cat verdict, top-k decoding, and the right answer a caller gives.

A prediction keeps Keras's name as `label` (e.g. "golden_retriever", which code relies on) and adds
`label_ko` ("골든 리트리버"), from `plugin.engine.imagenet`; `plugin.words.results.display_name`
gives what people read.

The verdict answers the study question "dog or cat?" with groups taken from WordNet's hierarchy:
dog = the domestic dog's subtree (ImageNet 151-268), cat = the cat family (felids: the domestic
cats 281-285 and the wild cats 286-293, lynx and cougar among them, said to be wild). Each group's
score is the sum of its classes' probabilities; "other" scores its single likeliest class, not the
sum of the 867 others: a model torn between twelve dog breeds still sees a dog. A group counts
when it beats the likeliest other class and is plausible: it holds the top-1 class, or at least
`PLAUSIBLE_GROUP` of the probability. The larger group that counts is the verdict; where none
counts, the photo is "other". So a top-1 dog breed or cat is never "other" (its group holds at
least the top-1's probability, more than any other class), and an unsure model that spreads a
little over many breeds (a corner of the cat photo: 19 % over dog breeds, top-1 Egyptian cat; horse,
giraffe and painting crops put 6-12 % on dogs, none of them near the top) does not make a dog.
The groups and the share are `plugin.limits`' (`DOG_INDICES`, `CAT_INDICES`, `WILD_CAT_INDICES`,
`PLAUSIBLE_GROUP`), which `plugin.words.results` says the rule with.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from plugin.engine.imagenet import ImagenetClass, find_answer, group_of, imagenet_classes
from plugin.engine.results import ExpectedInput, ExpectedRecord, Prediction, Verdict, VerdictScores
from plugin.errors import InvalidInputError
from plugin.limits import CAT_INDICES, DOG_INDICES, PLAUSIBLE_GROUP, WILD_CAT_INDICES
from plugin.words.results import verdict_basis

__all__ = ["GROUPS", "Expected", "top_k", "rank_of", "dog_cat_verdict", "verdict_labels", "parse_expected"]

GROUPS = ("dog", "cat")


@dataclasses.dataclass(frozen=True)
class Expected:
    """The right answer a caller gives: one class, or a whole group ("dog" or "cat")."""

    group: str
    item: ImagenetClass | None = None
    custom_index: int | None = None
    custom_label: str | None = None

    def describe(self) -> ExpectedRecord:
        if self.item is not None:
            return self.item.describe()
        if self.custom_index is not None:
            return {"index": self.custom_index, "label": self.custom_label, "group": None}
        return {"group": self.group}


def parse_expected(expected: ExpectedInput, class_names: Sequence[str] | None = None) -> Expected | None:
    """Check an `expected` argument: an ImageNet class or the dog or cat group, by the names students
    write ("beagle", "비글 강아지", "Persian", "냥이", "puppy": see `plugin.engine.imagenet.find_answer`,
    whose errors name the classes a word could mean); for a model with its own classes, one of its
    class names or an index."""
    if expected is None:
        return None
    if class_names is not None:
        names = [str(name) for name in class_names]
        if isinstance(expected, str) and expected.strip() in names:
            index = names.index(expected.strip())
        elif isinstance(expected, (int, np.integer)) and not isinstance(expected, bool) and 0 <= int(expected) < len(names):
            index = int(expected)
        else:
            raise InvalidInputError(f"Expected one of the model's classes {names[:20]} or its index. Received: "
                                    f"expected={str(expected)[:80]!r}", key="unknown_class", name=str(expected)[:80])
        return Expected(group="custom", custom_index=index, custom_label=names[index])
    found = find_answer(expected)
    if isinstance(found, str):
        return Expected(group=found)
    return Expected(group=found.group, item=found)


def top_k(probabilities: np.ndarray, k: int, class_names: Sequence[str] | None = None) -> list[Prediction]:
    """Rank the k most probable classes.

    Args:
        probabilities: one row of class probabilities.
        k: how many to return (capped at the number of classes).
        class_names: names by index; default: the ImageNet classes (with WordNet ids and Korean names).

    Returns:
        `[{"rank", "label", "label_ko", "class_id", "index", "probability"}]`, most probable first;
        `class_id` is the WordNet id for ImageNet, `label_ko` the Korean name; both None for custom classes.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64).ravel()
    k = min(k, probabilities.size)
    order = np.argsort(-probabilities, kind="stable")[:k]
    imagenet = imagenet_classes() if class_names is None else None
    ranked: list[Prediction] = []
    for rank, position in enumerate(order, start=1):
        index = int(position)
        class_id: str | None
        label_ko: str | None
        if imagenet is not None:
            item = imagenet[index]
            class_id, label, label_ko = item.wnid, item.label, item.label_ko
        else:
            assert class_names is not None
            class_id, label, label_ko = None, str(class_names[index]), None
        ranked.append({"rank": rank, "label": label, "label_ko": label_ko, "class_id": class_id, "index": index,
                       "probability": round(float(probabilities[index]), 6)})
    return ranked


def rank_of(probabilities: np.ndarray, indices: Sequence[int]) -> int:
    """The best (lowest) 1-based rank any of `indices` has among all classes."""
    probabilities = np.asarray(probabilities, dtype=np.float64).ravel()
    best = max(float(probabilities[i]) for i in indices)
    return int(np.sum(probabilities > best)) + 1


def verdict_labels(rows: np.ndarray) -> list[str]:
    """The verdict label ("dog", "cat" or "other") of each row of ImageNet probabilities: the rule
    an int8 model's check compares with float32's."""
    return [dog_cat_verdict(row)["label"] for row in rows]


def dog_cat_verdict(probabilities: np.ndarray) -> Verdict:
    """Dog, cat or other: the dog group's and the cat family's summed probabilities against the
    single likeliest other class (see the module docstring); the largest names the verdict.

    Returns:
        `{"label": "dog"|"cat"|"other", "probability", "scores": {"dog", "cat", "other"}, "basis",
        "top1_group", "other_class": {"index", "label", "label_ko"}}`: `scores.other` is the likeliest
        other class's probability (`other_class`), `basis` the comparison in one English sentence,
        `top1_group` the top-1 class's group ("dog", "cat", "wild cat" or "other").
    """
    probabilities = np.asarray(probabilities, dtype=np.float64).ravel()
    dog = float(probabilities[DOG_INDICES.start:DOG_INDICES.stop].sum())
    cat = float(probabilities[CAT_INDICES.start:CAT_INDICES.stop].sum())
    rest = probabilities.copy()
    rest[DOG_INDICES.start:DOG_INDICES.stop] = rest[CAT_INDICES.start:CAT_INDICES.stop] = -1.0
    other_index = int(np.argmax(rest))
    scores: VerdictScores = {"dog": round(dog, 6), "cat": round(cat, 6), "other": round(float(rest[other_index]), 6)}
    top1 = int(np.argmax(probabilities))
    counted = [group for group in GROUPS if _counts(group, scores, top1)]
    label = max(counted, key=lambda name: scores[name]) if counted else "other"  # type: ignore[literal-required]
    other = imagenet_classes()[other_index]
    verdict: Verdict = {"label": label, "probability": scores[label],  # type: ignore[literal-required]
                        "scores": scores, "basis": "", "top1_group": _top1_group(top1),
                        "other_class": {"index": other.index, "label": other.label, "label_ko": other.label_ko}}
    verdict["basis"] = verdict_basis(verdict)
    return verdict


def _counts(group: str, scores: VerdictScores, top1: int) -> bool:
    """Whether a group is a candidate verdict: it beats the likeliest other class and is plausible
    (it holds the top-1 class, or at least `PLAUSIBLE_GROUP` of the probability)."""
    share: float = scores[group]  # type: ignore[literal-required]
    return share > scores["other"] and (share >= PLAUSIBLE_GROUP or group_of(top1) == group)


def _top1_group(index: int) -> str:
    return "wild cat" if index in WILD_CAT_INDICES else group_of(index)
