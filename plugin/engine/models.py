"""What a caller can use here: every registry model with the state of its ImageNet weights on this
machine, and the models that answer when a caller names none."""

from __future__ import annotations

from plugin import words
from plugin.engine.registry import MODELS, get_spec
from plugin.engine.weights import parse_weights, ready_imagenet_file, weights_status
from plugin.limits import DEFAULT_MODELS, FALLBACK_MODEL

__all__ = ["list_models", "default_models", "fallback_note"]


def list_models() -> dict:
    """List every model in the registry with its input, preprocessing, weights and published figures.

    Returns:
        `{"models": [{"name", "family", "input_shape", "preprocessing", "weights": {"available",
        "source", "size_mb", "options"}, "onnx": {"exports", "imagenet_export", "reason"?},
        "published", "paper", "note"?}]}`: `available` says whether the ImageNet weights are ready
        on this machine, `source` is "bundled" (they come with the project), "keras cache"
        (downloaded before) or "download" (`size_mb` MB at first use). `onnx.exports` says whether
        the model runs on onnxruntime (else `reason`, and every backend answers with Keras);
        `imagenet_export` whether its export with ImageNet weights is "ready" (cached), "queued",
        "exporting", "failed" (in this process) or "none" yet.
    """
    return {"models": [spec.describe(weights_status(spec)) | {"onnx": _onnx_state(spec)} for spec in MODELS.values()]}


def _onnx_state(spec) -> dict:
    from plugin.engine import onnx as engine_onnx

    if spec.name in engine_onnx.UNSUPPORTED:
        return {"exports": False, "imagenet_export": "none", "reason": engine_onnx.UNSUPPORTED[spec.name]}
    weights = ready_imagenet_file(spec)
    return {"exports": True, "imagenet_export": engine_onnx.export_state(spec.name, weights)}


def default_models(weights="imagenet") -> tuple[list[str], dict | None]:
    """The models that answer when a caller names none, and why, when they are not the usual pair.

    The study's pair (VGG16 and ResNet50) where their ImageNet weights are ready, or random or
    file weights are asked for; otherwise EfficientNet-Lite0, whose weights come with the project,
    so a fresh offline machine still gives a real answer.

    Returns:
        `(names, fallback)`: `fallback` is None, or `{"model", "instead_of", "download_mb",
        "note"}` (the note in English; `fallback_note` says it in any language).
    """
    pair = list(DEFAULT_MODELS)
    if isinstance(weights, dict) or parse_weights(weights).kind != "imagenet":
        return pair, None
    missing = {name: get_spec(name).published.size_mb for name in pair if not weights_status(get_spec(name))["available"]}
    if not missing:
        return pair, None
    fallback = {"model": FALLBACK_MODEL, "instead_of": pair, "download_mb": missing}
    return [FALLBACK_MODEL], fallback | {"note": fallback_note(fallback, "en")}


def fallback_note(fallback: dict, lang: str) -> str:
    """Why another model answered, in `lang`."""
    sizes = ", ".join(f"{name} {size:g} MiB" for name, size in fallback["download_mb"].items())
    return words.text("results.fallback_note", lang, fallback=fallback["model"], pair=" and ".join(fallback["instead_of"]),
                      missing=sizes)
