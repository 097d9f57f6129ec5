"""ImageNet class names, top-k decoding and the study's dog/cat verdict.

The class index (1000 WordNet ids and names, in Keras's order) ships inside the package as
`data/imagenet_class_index.json`, so decoding works offline.

The verdict answers the study question "dog or cat?": ImageNet indices 151-268 are dog breeds,
281-285 domestic cats; every other class is "other". Each group's probability is the sum of its
classes' probabilities.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

import numpy as np

__all__ = ["DOG_INDICES", "CAT_INDICES", "imagenet_classes", "top_k", "dog_cat_verdict"]

DOG_INDICES = range(151, 269)
CAT_INDICES = range(281, 286)


@functools.cache
def imagenet_classes() -> tuple[tuple[str, str], ...]:
    """Return the 1000 ImageNet classes as (WordNet id, name), by index."""
    text = resources.files("plugin").joinpath("data/imagenet_class_index.json").read_text("utf-8")
    index = json.loads(text)
    return tuple((index[str(i)][0], index[str(i)][1]) for i in range(len(index)))


def top_k(probabilities: np.ndarray, k: int, class_names=None) -> list[dict]:
    """Rank the k most probable classes.

    Args:
        probabilities: one row of class probabilities.
        k: how many to return (capped at the number of classes).
        class_names: names by index; default: the ImageNet classes (with WordNet ids).

    Returns:
        `[{"rank", "label", "class_id", "index", "probability"}]`, most probable first;
        `class_id` is the WordNet id for ImageNet and None for custom classes.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64).ravel()
    k = min(k, probabilities.size)
    order = np.argsort(-probabilities, kind="stable")[:k]
    imagenet = imagenet_classes() if class_names is None else None
    ranked = []
    for rank, index in enumerate(order, start=1):
        index = int(index)
        if imagenet is not None:
            class_id, label = imagenet[index]
        else:
            class_id, label = None, str(class_names[index])
        ranked.append({"rank": rank, "label": label, "class_id": class_id, "index": index,
                       "probability": round(float(probabilities[index]), 6)})
    return ranked


def dog_cat_verdict(probabilities: np.ndarray) -> dict:
    """Sum ImageNet probabilities into dog, cat and other, and name the largest.

    Returns:
        `{"label": "dog"|"cat"|"other", "probability", "scores": {"dog", "cat", "other"}}`.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64).ravel()
    dog = float(probabilities[DOG_INDICES.start:DOG_INDICES.stop].sum())
    cat = float(probabilities[CAT_INDICES.start:CAT_INDICES.stop].sum())
    other = max(0.0, float(probabilities.sum()) - dog - cat)
    scores = {"dog": round(dog, 6), "cat": round(cat, 6), "other": round(other, 6)}
    label = max(scores, key=scores.get)
    return {"label": label, "probability": scores[label], "scores": scores}
