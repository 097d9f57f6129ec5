"""compare_models: registry models side by side (size, cost, published accuracy, speed measured
here) and, given an image, each model's predictions and verdict."""

from __future__ import annotations

import os
import platform
import statistics
import time
from typing import Any, cast

import numpy as np

from plugin.engine.architecture.describe import describe, load_subject
from plugin.engine.inference.options import RunOptions
from plugin.engine.intake.images import load_image
from plugin.engine.models.defaults import default_models
from plugin.engine.models.registry import get_spec
from plugin.engine.results import (
    ClassificationResult,
    ComparisonResult,
    ComparisonRow,
    Fallback,
    ImageInput,
    ModelEntry,
    ModelNames,
    answers,
    is_failure,
)
from plugin.engine.study.classify import check_model_names, classify_image, model_failure
from plugin.errors import CANNOT_ANSWER, InvalidInputError
from plugin.limits import DEFAULT_TOP_K, TIMING_RUNS

__all__ = ["compare_models"]

_CLASSIFY_OPTIONS = ("top_k", "weights", "allow_random_weights", "preprocessing", "resize")


def compare_models(models: ModelNames = None, image: ImageInput | None = None, **classify_options: Any) -> ComparisonResult:
    """Compare registry models side by side; with an image, also their predictions.

    Args:
        models: registry model names (see `list_models()`); None for VGG16 and ResNet50 (with an
            image to classify: EfficientNetLite0 where their ImageNet weights are not ready, as
            `classify_image` does, with a `note`).
        image: optional image (path, URL, data URI, bytes...) to classify with every model.
        **classify_options: `top_k`, `weights`, `allow_random_weights`, `preprocessing`, `resize`, as for
            `classify_image`; used only with an image.

    Returns:
        `{"models": [{"model", "family", "input_shape", "total_params", "macs", "flops", "depth",
        "size_mb", "published": {"top1", "top5", "multiply_adds", "source"}, "inference_ms",
        ("weights", "untrained", "predictions", "verdict" with an image, or "error" for a model
        that could not answer it)}], "timing": {...},
        ("image", "agreement" with an image)}`. `inference_ms` is the median of several runs of
        one image through the compiled model on this machine, whatever the weights.
    """
    unknown = set(classify_options) - set(_CLASSIFY_OPTIONS)
    if unknown:
        raise InvalidInputError(f"Expected options among {list(_CLASSIFY_OPTIONS)}. Received: {sorted(unknown)}")
    fallback: Fallback | None = None
    if models is None and image is not None:
        names, fallback = default_models(classify_options.get("weights", "imagenet"))
    else:
        names = check_model_names(models)
    loaded = load_image(image) if image is not None else None  # a bad image fails before any model is built
    given = dict(classify_options)
    top_k = given.pop("top_k", DEFAULT_TOP_K)
    classified = _classify(loaded, names, top_k, RunOptions(**given)) if loaded is not None else None
    rows: list[ComparisonRow] = []
    for name in names:
        spec = get_spec(name)
        # with an image, the model classification built (Keras keeps it cached) is described and timed too
        subject = load_subject(name, weights=_keras_weights(classified, name), runnable=True)
        facts = describe(subject)
        rows.append({
            "model": name,
            "family": spec.family,
            "input_shape": facts["input_shape"][1:],
            "total_params": facts["total_params"],
            "macs": facts["macs"],
            "flops": facts["flops"],
            "depth": facts["depth"],
            "size_mb": facts["size_mb"],
            "published": {"top1": spec.published.top1, "top5": spec.published.top5,
                          "multiply_adds": spec.published.multiply_adds, "source": spec.published.source,
                          "source_key": spec.published.source_key},
            "inference_ms": _time_one_image(subject.runner),
        })
    machine = _machine()
    result: ComparisonResult = {
        "models": rows,
        "timing": {"runs": TIMING_RUNS, "statistic": "median", "batch": 1, "machine": machine["machine"],
                   "device": machine["device"]},
    }
    if classified is not None:
        for row, outcome in zip(rows, classified["results"]):
            if is_failure(outcome):
                row["error"] = outcome["error"]
                continue
            row["weights"], row["untrained"] = outcome["weights"], outcome["untrained"]
            row["predictions"], row["verdict"] = outcome["predictions"], outcome["verdict"]
        result["image"] = classified["image"]
        if "agreement" in classified:
            result["agreement"] = classified["agreement"]
    if fallback:
        result["note"] = fallback.pop("note")
        result["fallback"] = fallback
    return result


def _classify(image: Any, names: list[str], top_k: int, options: RunOptions) -> ClassificationResult:
    """The photo classified by each model. Where none of them can answer it (no weights on this
    machine), a result whose entries each say why, with no agreement: the comparison's other
    columns need no trained weights, so it stands, as a classification with one answer does."""
    try:
        return classify_image(image, names, top_k=top_k, options=options)
    except CANNOT_ANSWER as exc:
        if len(names) == 1:  # its own error
            entries: list[ModelEntry] = [model_failure(names[0], exc)]
        else:
            entries = [_one(image, name, top_k, options) for name in names]
    return cast(ClassificationResult, {"image": image.describe(), "results": entries})


def _one(image: Any, name: str, top_k: int, options: RunOptions) -> ModelEntry:
    """One model's entry for the photo: its answer, or why it has none."""
    try:
        return classify_image(image, [name], top_k=top_k, options=options)["results"][0]
    except CANNOT_ANSWER as exc:
        return model_failure(name, exc)


def _keras_weights(classified: ClassificationResult | None, name: str) -> str | None:
    """The weights the classification ran `name` with, where Keras ran it (its model is then cached);
    None otherwise: the architecture and the timing need no trained weights."""
    for outcome in answers(classified["results"]) if classified else []:
        if outcome["model"] == name and outcome.get("backend") == "keras":
            return "imagenet" if outcome["weights"] == "imagenet" else None
    return None


def _time_one_image(runner) -> float:
    batch = np.zeros((1, *runner.input_shape[1:]), dtype=np.float32)
    runner(batch)  # compile and warm up
    times = []
    for _ in range(TIMING_RUNS):
        started = time.perf_counter()
        runner(batch)
        times.append((time.perf_counter() - started) * 1000.0)
    return round(statistics.median(times), 2)


def _machine() -> dict[str, Any]:
    """The machine the times were measured on: `machine` in words, and `device` as data."""
    import tensorflow as tf

    device = {"arch": platform.machine(), "cpus": os.cpu_count(), "gpus": len(tf.config.list_physical_devices("GPU")),
              "system": platform.system(), "tensorflow": tf.__version__}
    kind = f"{device['gpus']} GPU" if device["gpus"] else f"CPU, {device['cpus']} cores"
    return {"machine": f"{device['arch']} {kind}, {device['system']}, TensorFlow {device['tensorflow']}", "device": device}
