"""What a caller can use here: every registry model with the state of its ImageNet weights on this
machine and of its ONNX export."""

from __future__ import annotations

from plugin.engine.inference import onnx as engine_onnx
from plugin.engine.models.registry import MODELS, ModelSpec
from plugin.engine.models.weights import ready_imagenet_file, weights_status
from plugin.engine.results import ModelList, OnnxState

__all__ = ["list_models"]


def list_models() -> ModelList:
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
    return {"models": [{**spec.describe(weights_status(spec)), "onnx": _onnx_state(spec)} for spec in MODELS.values()]}


def _onnx_state(spec: ModelSpec) -> OnnxState:
    if spec.name in engine_onnx.UNSUPPORTED:
        return {"exports": False, "imagenet_export": "none", "reason": engine_onnx.UNSUPPORTED[spec.name]}
    weights = ready_imagenet_file(spec)
    return {"exports": True, "imagenet_export": engine_onnx.export_state(spec.name, weights)}
