"""Several maps of one photo and one model side by side: the methods against each other, or one
method's maps for several targets (the dog-versus-cat contrast: `targets=("dog", "cat")`).

The photo is read once; the model is loaded once; the random and centre baselines of the metrics
are measured once per grid and shared (`plugin.engine.study.explain.metrics`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from plugin.engine.inference.options import RunOptions
from plugin.engine.intake.images import load_image
from plugin.engine.results import ExpectedInput, ExplanationComparison, ImageInput, LoadedImage
from plugin.engine.study.explain import explain
from plugin.engine.study.explain.methods import METHODS, get_method
from plugin.errors import InvalidInputError
from plugin.limits import DEFAULT_METRIC_STEPS

__all__ = ["compare_explanations", "CONTRAST_TARGETS"]

CONTRAST_TARGETS = ("dog", "cat")
"""The targets of the dog-versus-cat contrast view."""


def compare_explanations(image: ImageInput, model: str | None = None, *, methods: Sequence[str] | None = None,
                         targets: Sequence[Any] | None = None, expected: ExpectedInput = None, layer: str | None = None,
                         metrics: bool = False, steps: int = DEFAULT_METRIC_STEPS, sanity: bool = False,
                         options: RunOptions = RunOptions()) -> tuple[ExplanationComparison, list[np.ndarray], LoadedImage]:
    """Every method (or those named) for every target (default the model's answer), one photo, one model.

    Returns:
        `(result, cams, loaded)`: `{"model", "methods", "targets", "explanations"}` with the
        explanations ordered target by target, method by method; their maps as arrays; the photo.
    """
    chosen = list(METHODS) if methods is None else _unique(methods, "methods")
    for name in chosen:
        get_method(name)
    asked = ["answer"] if targets is None else _unique(targets, "targets")
    loaded = load_image(image)
    explanations, cams = [], []
    for target in asked:
        for name in chosen:
            explained, cam, _ = explain(loaded, model, expected=expected, target=target, method=name, layer=layer,
                                        metrics=metrics, steps=steps, sanity=sanity, options=options)
            explanations.append(explained)
            cams.append(cam)
    result: ExplanationComparison = {"model": explanations[0]["model"], "methods": chosen,
                                     "targets": [str(target) for target in asked], "explanations": explanations}
    return result, cams, loaded


def _unique(values: Sequence[Any], name: str) -> list:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise InvalidInputError(f"Expected {name} to be a non-empty list. Received: {type(values).__name__}",
                                key="explain_list", value=name)
    if len(values) > len(METHODS) + 4:
        raise InvalidInputError(f"Expected at most {len(METHODS) + 4} {name}. Received: {len(values)}",
                                key="explain_list_long", value=name, limit=len(METHODS) + 4)
    return list(dict.fromkeys(values))
