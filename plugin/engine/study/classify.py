"""Classify images with one or several models and say whether they agree.

`classify_image` and `classify_images` share one path: images are read and checked first (so a
bad one fails before any model is built), then each model runs the whole batch at once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from plugin import words
from plugin.engine.inference.custom import load_custom_model
from plugin.engine.inference.options import RunOptions
from plugin.engine.inference.prepared import PreparedModel, load_registry_model, prepare_batch
from plugin.engine.inference.preprocessing import get_mode
from plugin.engine.intake.images import load_image
from plugin.engine.intake.parallel import in_threads
from plugin.engine.models.defaults import default_models
from plugin.engine.models.registry import get_spec
from plugin.engine.models.weights import parse_weights, ready_list
from plugin.engine.results import (
    BatchClassificationResult,
    ClassificationResult,
    Correctness,
    ExpectedInput,
    Fallback,
    ImageInput,
    Int8Agreement,
    LoadedImage,
    ModelEntry,
    ModelFailure,
    ModelNames,
    ModelOutcome,
    WeightsByModel,
    WeightsInput,
    answers,
)
from plugin.engine.study.agreement import agreement
from plugin.engine.study.labels import (
    Expected,
    dog_cat_verdict,
    parse_expected,
    rank_of,
    verdict_labels,
)
from plugin.engine.study.labels import top_k as rank_top_k
from plugin.errors import CANNOT_ANSWER, InvalidInputError, PluginError
from plugin.limits import (
    CAT_INDICES,
    DEFAULT_MODELS,
    DEFAULT_PRECISION,
    DEFAULT_TOP_K,
    DOG_INDICES,
    MAX_IMAGES_PER_CALL,
    MAX_MODELS_PER_CALL,
    MAX_TOP_K,
)
from plugin.words.results import sentence

__all__ = ["classify_image", "classify_images", "check_model_names", "check_top_k", "weights_by_model", "model_failure",
           "none_can_answer"]


def classify_image(image: ImageInput, models: ModelNames = None, *, top_k: int = DEFAULT_TOP_K, expected: ExpectedInput = None,
                   options: RunOptions = RunOptions()) -> ClassificationResult:
    """Classify one image with each model, give the dog/cat verdict and say whether the models agree
    (`plugin.api.classify_image` says how)."""
    return _classify([image], models, top_k, expected, options, single=True)[0]


def classify_images(images: Sequence[ImageInput], models: ModelNames = None, *, top_k: int = DEFAULT_TOP_K,
                    expected: ExpectedInput = None, options: RunOptions = RunOptions()) -> BatchClassificationResult:
    """Classify several images (at most `MAX_IMAGES_PER_CALL`) in batches, as `classify_image` does one."""
    if isinstance(images, (str, bytes)) or not isinstance(images, Sequence):
        raise InvalidInputError(f"Expected a list of images. Received: {type(images).__name__}")
    return {"images": _classify(list(images), models, top_k, expected, options, single=False)}


def _classify(images: list[ImageInput], models: ModelNames, top_k: int, expected: ExpectedInput, options: RunOptions, *,
              single: bool) -> list[ClassificationResult]:
    top_k = check_top_k(top_k)
    if not images:
        raise InvalidInputError("Expected at least one image. Received: an empty list", key="image_missing")
    if len(images) > MAX_IMAGES_PER_CALL:
        raise InvalidInputError(f"Expected at most {MAX_IMAGES_PER_CALL} images per call. Received: {len(images)}",
                                key="too_many_images", limit=MAX_IMAGES_PER_CALL, count=len(images))
    weights, model_path, preprocessing = options.weights, options.model_path, options.preprocessing
    if preprocessing is not None:
        get_mode(preprocessing)
    fallback: Fallback | None = None
    if model_path is None:
        if models is None and isinstance(weights, dict):
            models = list(weights)
        names, fallback = default_models(weights) if models is None else (check_model_names(models), None)
        if options.class_names is not None:
            raise InvalidInputError("Expected class_names only with model_path (registry models use the ImageNet classes). Received: class_names without model_path")
        per_model = weights_by_model(weights, names)
        options.require_trained(
            "for classification", "weights=None or 'random' (random initialisation), whose predictions mean nothing",
            untrained=any(parse_weights(choice).untrained for choice in per_model.values()),
            advice="Pass allow_random_weights=True to run untrained models anyway (results then say \"untrained\": true), "
                   "use weights='imagenet', or a weights file.")

    target = parse_expected(expected) if model_path is None else None  # a bad answer fails before any work

    loaded = in_threads(lambda pair: _load(pair[1], pair[0], single), list(enumerate(images)))

    missing: dict[str, ModelFailure] = {}
    if model_path is not None:
        prepared = [load_custom_model(model_path, class_names=options.class_names, preprocessing=preprocessing)]
        target = parse_expected(expected, prepared[0].class_names)
    else:
        prepared, missing = _load_models(names, per_model, options.backend, options.precision)

    outcomes = {model.name: _run(model, loaded, top_k, preprocessing, target, options.resize) for model in prepared}
    records: list[ClassificationResult] = []
    for i, image in enumerate(loaded):
        results: list[ModelEntry] = [outcomes[name][i] if name in outcomes else missing[name]
                                     for name in (names if model_path is None else list(outcomes))]
        record: ClassificationResult = {"image": image.describe(), "results": results,
                                        "agreement": agreement(answers(results))}
        if target is not None:
            record["expected"] = target.describe()
        record["agreement"]["summary"] = sentence(record, "en")
        records.append(record)
    if fallback:
        note = fallback.pop("note")
        for record in records:
            record["note"], record["fallback"] = note, fallback.copy()
    return records


def _load_models(names: list[str], per_model: dict[str, WeightsInput], backend: str,
                 precision: str = DEFAULT_PRECISION) -> tuple[list[PreparedModel], dict[str, ModelFailure]]:
    """Each model that can answer, and an error entry for each that cannot (`CANNOT_ANSWER`).

    One model asked: its error is the request's. Several: the request fails only when none can
    answer, with an error that names each model's problem and the models that can answer now.
    """
    prepared: list[PreparedModel] = []
    problems: dict[str, PluginError] = {}
    for name in names:
        try:
            prepared.append(load_registry_model(name, per_model[name], backend, precision, verdicts=verdict_labels))
        except CANNOT_ANSWER as exc:
            if len(names) == 1:
                raise
            problems[name] = exc
    if not prepared:
        raise none_can_answer(problems)
    return prepared, {name: model_failure(name, exc) for name, exc in problems.items()}


def none_can_answer(problems: dict[str, PluginError]) -> PluginError:
    """The error of a request where no model can answer: each model's problem in a few words, and
    the models that can answer now."""
    first = next(iter(problems.values()))
    failed = "; ".join(f"{name}: {_why(exc)}" for name, exc in problems.items())
    ready = ready_list()
    return type(first)(f"Expected at least one model that can answer. Received: {failed}. Models that can answer "
                       f"now: {ready}.", key="no_model_answers", failed=", ".join(problems), ready=ready)


def model_failure(name: str, exc: PluginError) -> ModelFailure:
    """The entry that stands in a result for a model that could not answer."""
    error: ModelFailure = {"model": name, "error": {"type": exc.type, "message": str(exc)}}
    if exc.key:
        error["error"]["key"], error["error"]["params"] = exc.key, dict(exc.params)
    return error


def _why(exc: PluginError) -> str:
    """Why one model cannot answer, in a few words (its own error says how to fix it)."""
    if exc.key in ("weights_offline", "weights_download_failed"):
        return f"its ImageNet weights are not on this machine ({exc.params['size']} MiB to download)"
    if exc.key == "weights_none":
        return "architecture only, no ImageNet weights"
    return str(exc).split("Received: ", 1)[-1].split(". ", 1)[0]


def weights_by_model(weights: WeightsByModel, names: list[str]) -> dict[str, WeightsInput]:
    """The weights argument for each model: one for all, or a dict by model name."""
    if not isinstance(weights, dict):
        return dict.fromkeys(names, weights)
    known = {get_spec(name).name: choice for name, choice in weights.items()}
    stray = sorted(set(known) - set(names))
    if stray:
        raise InvalidInputError(f"Expected weights only for the models that run ({names}). Received weights for {stray}.")
    return {name: known.get(name, "imagenet") for name in names}


def _load(image: ImageInput, index: int, single: bool) -> LoadedImage:
    try:
        return load_image(image)
    except PluginError as exc:
        if single:
            raise
        raise exc.prefixed(f"images[{index}]: ") from exc


def check_top_k(top_k: Any) -> int:
    """Return `top_k` as an int if it is an integer from 1 to `MAX_TOP_K`; refuse anything else."""
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or not 1 <= int(top_k) <= MAX_TOP_K:
        raise InvalidInputError(f"Expected top_k to be an integer from 1 to {MAX_TOP_K}. Received: top_k={top_k!r}",
                                key="top_k", limit=MAX_TOP_K, value=repr(top_k)[:40])
    return int(top_k)


def check_model_names(models: ModelNames) -> list[str]:
    """Registry names for a `models` argument (a list, a comma-separated string, or None for the
    study's pair), each checked, duplicates dropped; at most `MAX_MODELS_PER_CALL` names."""
    if models is None:
        models = list(DEFAULT_MODELS)
    if isinstance(models, str):
        models = [part for part in (piece.strip() for piece in models.split(",")) if part]
    if not isinstance(models, Sequence) or not models:
        raise InvalidInputError(f"Expected a non-empty list of model names. Received: models={models!r}", key="no_models")
    if len(models) > MAX_MODELS_PER_CALL:
        raise InvalidInputError(f"Expected at most {MAX_MODELS_PER_CALL} models. Received: {len(models)}",
                                key="too_many_models", limit=MAX_MODELS_PER_CALL, count=len(models))
    names: list[str] = []
    for model in models:
        name = get_spec(model).name
        if name not in names:
            names.append(name)
    return names


def _run(model: PreparedModel, images: list[LoadedImage], top_k: int, preprocessing_override: str | None,
         target: Expected | None, resize: str | None) -> list[ModelOutcome]:
    mode = model.input_mode(preprocessing_override)
    batch = prepare_batch([image.image for image in images], model, mode, resize)
    model.runner.compile()  # compilation is a one-off cost, not inference time
    started = time.perf_counter()
    probabilities = model.probabilities(batch)
    per_image_ms = (time.perf_counter() - started) * 1000.0 / len(images)
    results: list[ModelOutcome] = []
    for image, row in zip(images, probabilities):
        result: ModelOutcome = {
            "model": model.name,
            "weights": model.weights,
            "untrained": model.untrained,
            "predictions": rank_top_k(row, top_k, model.class_names),
            "verdict": dog_cat_verdict(row) if model.imagenet_head else None,
            "inference_ms": round(per_image_ms, 2),
            "backend": model.backend,
            "precision": model.precision,
            "input_size": list(model.input_size),
            "preprocessing": mode,
            "region": model.framing(image.image, resize).describe(),
        }
        if model.untrained:
            result["note"] = words.text("results.untrained_note", "en")
        if model.int8_agreement is not None:
            result["int8_agreement"] = cast(Int8Agreement, model.int8_agreement)
        if model.precision_note:
            result["precision_note"] = model.precision_note
        if target is not None:
            result["correct"], result["expected_rank"] = _judge(row, result, target)
        results.append(result)
    return results


def _judge(probabilities: np.ndarray, result: ModelOutcome, target: Expected) -> tuple[Correctness, int]:
    """Whether a model's answer is right at top-1, within the top 5 and on the verdict, and the
    rank the right answer got (for "dog" or "cat": the best rank of any class of the group)."""
    if target.item is not None:
        indices = [target.item.index]
    elif target.custom_index is not None:
        indices = [target.custom_index]
    else:
        indices = list(DOG_INDICES if target.group == "dog" else CAT_INDICES)
    rank = rank_of(probabilities, indices)
    verdict = result["verdict"]["label"] == target.group if result["verdict"] and target.group != "custom" else None
    top1 = rank == 1
    if target.item is None and target.custom_index is None and verdict is not None:
        top1 = top1 and verdict  # "dog" or "cat" asked: the page never says right at top-1 beside a wrong verdict
    return {"top1": top1, "top5": rank <= 5, "verdict": verdict}, rank
