"""What a caller can use here: every registry model with the state of its ImageNet weights on this
machine, of its ONNX export and of its int8 model."""

from __future__ import annotations

from plugin.engine.inference import onnx as engine_onnx
from plugin.engine.models.registry import MODELS, ModelSpec
from plugin.engine.models.weights import ready_imagenet_file, weights_status
from plugin.engine.results import Int8State, ModelList, OnnxState

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
        "exporting", "failed" (in this process) or "none" yet. `int8` says whether its int8 model
        is "ready", was "refused" (it fell short of float32: precision="int8" answers in float32)
        or is "none" yet, with its measured `agreement` with float32 once checked.
    """
    return {"models": [{**spec.describe(weights_status(spec)), "onnx": _onnx_state(spec), "int8": _int8_state(spec)}
                       for spec in MODELS.values()]}


def _onnx_state(spec: ModelSpec) -> OnnxState:
    if spec.name in engine_onnx.UNSUPPORTED:
        return {"exports": False, "imagenet_export": "none", "reason": engine_onnx.UNSUPPORTED[spec.name]}
    weights = ready_imagenet_file(spec)
    return {"exports": True, "imagenet_export": engine_onnx.export_state(spec.name, weights)}


def _int8_state(spec: ModelSpec) -> Int8State:
    from plugin.engine.inference.onnx import calibration, int8

    weights = ready_imagenet_file(spec)
    fp32 = engine_onnx.cached_export(spec.name, weights) if weights is not None and spec.name not in engine_onnx.UNSUPPORTED else None
    if fp32 is None:
        return {"state": "none"}
    record = int8.read_record(int8.int8_path(spec.name, fp32, calibration.calibration_key(spec)))
    if record is None:
        return {"state": "none"}
    return {"state": "ready" if record["kept"] else "refused", "agreement": record["agreement"]}
