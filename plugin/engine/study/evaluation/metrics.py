"""From per-image records to what a study group asks: how often is each model right?

Per model: dog/cat accuracy from the verdict; top-1 and top-5 accuracy where the labels are
ImageNet classes (or a model file's classes); a confusion matrix (dog, cat, other, or the classes
themselves when there are few); precision and recall per label; the mistakes. A metric that does
not apply is None.
"""

from __future__ import annotations

from plugin.engine.imagenet import imagenet_classes
from plugin.engine.results import ClassScore, Mistake, ModelSummary
from plugin.engine.study.evaluation.dataset import Meaning
from plugin.limits import MAX_MISTAKES

__all__ = ["summarise", "GROUP_LABELS", "MAX_CLASS_MATRIX"]

GROUP_LABELS = ("dog", "cat", "other")
MAX_CLASS_MATRIX = 8
"""Up to this many ImageNet classes, the confusion matrix is drawn by class (plus "other")."""


def _accuracy(hits: list[bool]) -> float | None:
    return round(sum(hits) / len(hits), 4) if hits else None


def summarise(model: str, records: list[dict], meanings: dict[str, Meaning], *, custom: bool,
              class_names: tuple[str, ...] | None, timing: tuple[int, float] | None) -> ModelSummary:
    """The evaluation of one model from its records (one per image); `timing` is (images, seconds)
    classified in this run (None when the log already held them all)."""
    verdict_hits: list[bool] = []
    top1_hits: list[bool] = []
    top5_hits: list[bool] = []
    class_labels = [label for label, meaning in meanings.items() if meaning.item is not None or meaning.custom is not None]
    by_class = len(class_labels) == len(meanings) and len(meanings) <= MAX_CLASS_MATRIX
    matrix_labels = list(meanings) + (["other"] if by_class and not custom else []) if by_class else list(GROUP_LABELS)
    counts = [[0] * len(matrix_labels) for _ in matrix_labels]
    mistakes: list[Mistake] = []
    for record in records:
        meaning = meanings[record["label"]]
        top_indices = [index for index, _ in record["top"]]
        predicted_class = _class_label(record, meanings, custom, class_names)
        if meaning.group in GROUP_LABELS and record["group"] is not None:
            verdict_hits.append(record["group"] == meaning.group)
        target = _target_index(meaning, custom, class_names)
        if target is not None:
            top1_hits.append(top_indices[0] == target)
            top5_hits.append(target in top_indices[:5])
        row: int | None
        column: int | None
        if by_class:
            row, column = matrix_labels.index(record["label"]), matrix_labels.index(predicted_class)
        elif meaning.group in GROUP_LABELS and record["group"] in GROUP_LABELS:
            row, column = GROUP_LABELS.index(meaning.group), GROUP_LABELS.index(record["group"])
        else:
            row = column = None
        if row is not None and column is not None:
            counts[row][column] += 1
        if target is not None:
            wrong = top_indices[0] != target
        else:  # a "dog" or "cat" label: judged on the verdict
            wrong = record["group"] != meaning.group
        if wrong:
            mistakes.append(_mistake(record, meaning, custom, class_names))
    per_class: list[ClassScore] = []
    for index, label in enumerate(matrix_labels):
        predicted = sum(row[index] for row in counts)
        actual = sum(counts[index])
        if actual == 0 and predicted == 0:
            continue
        per_class.append({"label": label, "support": actual,
                          "precision": round(counts[index][index] / predicted, 4) if predicted else None,
                          "recall": round(counts[index][index] / actual, 4) if actual else None})
    mistakes.sort(key=lambda m: -m["probability"])
    return {
        "model": model,
        "images": len(records),
        "accuracy": {"verdict": _accuracy(verdict_hits), "top1": _accuracy(top1_hits),
                     # top-5 of a model with 5 classes or fewer is always right: it says nothing
                     "top5": _accuracy(top5_hits) if not custom or len(class_names or ()) > 5 else None},
        "confusion_matrix": {"labels": matrix_labels, "counts": counts},
        "per_class": per_class,
        "mistakes": mistakes[:MAX_MISTAKES],
        "mistake_count": len(mistakes),
        "images_per_second": round(timing[0] / timing[1], 2) if timing and timing[0] and timing[1] > 0 else None,
    }


def _target_index(meaning: Meaning, custom: bool, class_names) -> int | None:
    if custom:
        return list(class_names).index(meaning.custom) if meaning.custom is not None else None
    return meaning.item.index if meaning.item is not None else None


def _class_label(record: dict, meanings: dict[str, Meaning], custom: bool, class_names) -> str:
    """The predicted class as one of the labels (or "other")."""
    top = record["top"][0][0]
    for label, meaning in meanings.items():
        if _target_index(meaning, custom, class_names) == top:
            return label
    return record["answer"] if custom and record["answer"] in meanings else "other"


def _mistake(record: dict, meaning: Meaning, custom: bool, class_names) -> Mistake:
    index, probability = record["top"][0]
    if custom:
        answer, answer_ko = class_names[index], None
    else:
        item = imagenet_classes()[index]
        answer, answer_ko = item.label, item.label_ko
    return {"image": record["image"], "path": record["path"], "expected": meaning.label, "answer": answer,
            "answer_ko": answer_ko, "group": record["group"], "probability": probability}
