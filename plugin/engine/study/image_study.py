"""The study of one photo, in one place: classify it with each model, then (on request) ask each
model where it looked (Grad-CAM, or the methods asked for) and run the preprocessing experiment with the first model.

Every door (Python, tools, web app, command line, gallery) studies a photo through `study_image`:
the photo is read once, classified once per model, explained once per model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from plugin.engine.inference.options import RunOptions
from plugin.engine.intake.images import load_image
from plugin.engine.results import (
    ClassificationResult,
    ExpectedInput,
    Explanation,
    ImageInput,
    LoadedImage,
    ModelNames,
    PreprocessingStudy,
    answers,
)
from plugin.engine.study.classify import classify_image, weights_by_model
from plugin.engine.study.experiment import compare_preprocessing
from plugin.engine.study.explain import explain
from plugin.engine.study.explain.methods import get_method
from plugin.limits import DEFAULT_EXPLAIN_METHOD, DEFAULT_TOP_K

__all__ = ["ImageStudy", "study_image"]

_EXPERIMENT_TOP_K = 3


@dataclasses.dataclass
class ImageStudy:
    """What `study_image` found.

    Attributes:
        image: the photo as read.
        result: the `classify_image` result.
        explanations: the Grad-CAM results (`explain`'s): one per classified model for its answer, and one more
            for the right answer where a model missed it; or None.
        heatmaps: the heat maps of `explanations` as arrays (0..1), for drawing.
        preprocessing_study: the `compare_preprocessing` result of the first model, or None.
    """

    image: LoadedImage
    result: ClassificationResult
    explanations: list[Explanation] | None = None
    heatmaps: list[np.ndarray] = dataclasses.field(default_factory=list)
    preprocessing_study: PreprocessingStudy | None = None


def study_image(image: ImageInput, models: ModelNames = None, *, expected: ExpectedInput = None,
                explain_models: bool = False, study_preprocessing: bool = False, top_k: int = DEFAULT_TOP_K,
                methods: Sequence[str] | None = None, targets: Sequence[str | int] | None = None, metrics: bool = False,
                sanity: bool = False, options: RunOptions = RunOptions()) -> ImageStudy:
    """Classify a photo with each model; on request explain each answer and run the preprocessing experiment.

    Args:
        image, models, top_k, expected: as for `classify_image`.
        options: the weights, random-weights consent, model file, class names, preprocessing,
            backend and precision, as for `classify_image`.
        explain_models: a heat map per classified model and method for its own answer and, where an
            expected answer is given and the model's top-1 is not it, a second for the right answer
            (where the model found it), side by side.
        methods: the explanation methods (default Grad-CAM alone), one section each on a page.
        targets: the classes each model's maps explain (as `explain`'s `target`: "answer",
            "expected", "dog", "cat", a class) instead of its answer and, where it missed, the right answer.
        metrics: add each map's deletion / insertion / ROAD numbers and their baselines.
        sanity: add each map's cascading-randomisation check.
        study_preprocessing: the preprocessing experiment with the first model (registry models only).
    """
    loaded = load_image(image)
    result = classify_image(loaded, models, top_k=top_k, expected=expected, options=options)
    study = ImageStudy(image=loaded, result=result)
    answered = [outcome["model"] for outcome in answers(result["results"])]
    file = options.model_path is not None  # a file has its own weights
    per_model = {} if file else weights_by_model(options.weights, answered)
    if explain_models:
        study.explanations = []
        chosen = [get_method(method).name for method in dict.fromkeys(methods or (DEFAULT_EXPLAIN_METHOD,))]
        for method in chosen:
            for outcome in answers(result["results"]):
                name = outcome["model"]
                missed = expected is not None and not outcome.get("correct", {}).get("top1", True)
                asked = list(dict.fromkeys(targets)) if targets else ["answer", "expected"] if missed else ["answer"]
                for target in asked:
                    explained, heatmap, _ = explain(loaded, None if file else name, expected=expected, target=target,
                                                    method=method, metrics=metrics, sanity=sanity,
                                                    options=options if file else dataclasses.replace(options, weights=per_model[name]))
                    study.explanations.append(explained)
                    study.heatmaps.append(heatmap)
    if study_preprocessing and not file:
        first = answered[0]
        study.preprocessing_study = compare_preprocessing(loaded, first, top_k=_EXPERIMENT_TOP_K,
                                                          options=dataclasses.replace(options, weights=per_model[first]))
    return study
