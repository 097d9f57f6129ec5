"""A user's own classifier file, prepared for classification: the file loaded safely
(`plugin.engine.models.files`) and cached, its input size and channels read from the model, its
class names and preprocessing from the caller or from the file's sidecar (`<file>.json`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from plugin.config import get_settings
from plugin.engine.inference.cache import model_cache
from plugin.engine.inference.prepared import PreparedModel
from plugin.engine.inference.preprocessing import MODES, get_mode
from plugin.engine.inference.runners import KerasRunner
from plugin.engine.intake.sources import resolve_local_path
from plugin.engine.models.files import MODEL_SUFFIXES, load_keras_file
from plugin.errors import InvalidInputError
from plugin.limits import RESIZES

__all__ = ["load_custom_model", "load_model_file", "sidecar"]

_MAX_SIDECAR_BYTES = 1024 * 1024
_DEFAULT_SIZE = 224


def _output_kind(model, classes: int) -> str:
    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    activation_name = getattr(activation, "__name__", str(activation or "")).lower()
    if type(last).__name__ == "Softmax" or "softmax" in activation_name:
        return "softmax"
    if "sigmoid" in activation_name:
        return "binary" if classes == 1 else "sigmoid"
    return "binary_logit" if classes == 1 else "logits"


def load_model_file(model_path) -> tuple[Path, KerasRunner]:
    """Load (or take from the cache) a user's single-input image model file, safely.

    Args:
        model_path: a `.keras` or `.h5` file below the allowed roots.

    Returns:
        The file's resolved path and its `Runner`.
    """
    path = resolve_local_path(model_path, what="model file")
    if not path.name.lower().endswith(MODEL_SUFFIXES):
        raise InvalidInputError(f"Expected a model file ending in .keras or .h5. Received: {os.fspath(model_path)!r}")
    stat = path.stat()
    if stat.st_size > get_settings().max_model_bytes:
        raise InvalidInputError(f"Expected a model file of at most {get_settings().max_model_bytes:,} bytes. Received: {path.name}, {stat.st_size:,} bytes.")
    runner = model_cache.get(("file", str(path), stat.st_mtime_ns, stat.st_size), lambda: _prepare(str(path)))
    return path, runner


def sidecar(path: Path) -> dict:
    """What a model file's companion `<file>.json` records (fine_tune writes it): its class names
    and preprocessing, so classifying with the file needs neither. {} when there is none."""
    companion = path.with_name(path.name + ".json")
    if not companion.is_file() or companion.stat().st_size > _MAX_SIDECAR_BYTES:
        return {}
    try:
        data = json.loads(companion.read_text("utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    names = data.get("class_names")
    return {"class_names": [str(n) for n in names] if isinstance(names, list) and all(isinstance(n, str) for n in names) else None,
            "preprocessing": data.get("preprocessing") if data.get("preprocessing") in MODES else None,
            "protocol": _protocol(data.get("protocol"))}


def _protocol(recorded) -> dict:
    """The way photos reached the model when it was trained here (`resize`, `crop_fraction`,
    `interpolation`), where the companion records a valid one; else {} (the whole photo)."""
    if not isinstance(recorded, dict) or recorded.get("resize") not in RESIZES:
        return {}
    fraction, interpolation = recorded.get("crop_fraction"), recorded.get("interpolation")
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.1 <= fraction <= 1.0 \
            or interpolation not in ("bicubic", "bilinear"):
        return {}
    return {"resize": recorded["resize"], "crop_fraction": float(fraction), "interpolation": interpolation}


def load_custom_model(model_path, *, class_names=None, preprocessing=None) -> PreparedModel:
    """Load a user's classifier file and prepare it for classification.

    Args:
        model_path: a `.keras` or `.h5` file below the allowed roots.
        class_names: names by output index; for a single sigmoid unit, [negative, positive].
            Default: those recorded beside the file (`<file>.json`, written by fine_tune), else
            "class_0", "class_1", ...
        preprocessing: "caffe", "tf", "torch", "lite", "rescale" or "none": it must match how
            the model was trained. Default: the one recorded beside the file; required otherwise.

    Returns:
        A `PreparedModel` named after the file.
    """
    recorded = sidecar(resolve_local_path(model_path, what="model file"))
    class_names = class_names if class_names is not None else recorded.get("class_names")
    preprocessing = preprocessing if preprocessing is not None else recorded.get("preprocessing")
    if preprocessing is None:
        raise InvalidInputError(
            "Expected preprocessing for a custom model, matching its training: one of 'caffe', 'tf', "
            "'torch', 'rescale' (x / 255) or 'none'. Received: preprocessing=None", key="preprocessing_needed")
    if preprocessing == "builtin":
        preprocessing = "none"
    get_mode(preprocessing)
    path, runner = load_model_file(model_path)
    model = runner.model
    output_shape = tuple(model.outputs[0].shape)
    if len(output_shape) != 2:
        raise InvalidInputError(f"Expected a classifier whose output has shape (batch, classes). Received: {path.name} with output shape {output_shape}.")
    input_shape = runner.input_shape
    height, width, channels = (input_shape[1] or _DEFAULT_SIZE), (input_shape[2] or _DEFAULT_SIZE), input_shape[3]
    classes = int(output_shape[-1])
    output = _output_kind(model, classes)
    names = _class_names(class_names, classes, path.name)
    return PreparedModel(
        name=path.name, runner=runner, input_size=(height, width), channels=channels,
        preprocessing=preprocessing, weights="file", untrained=False, class_names=names, output=output,
        **{"resize": "whole", **recorded.get("protocol", {})},
    )


def _prepare(path: str) -> KerasRunner:
    model = load_keras_file(path)
    name = os.path.basename(path)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise InvalidInputError(f"Expected a model with one image input and one output. Received: {name} with {len(model.inputs)} inputs and {len(model.outputs)} outputs.")
    input_shape = tuple(model.inputs[0].shape)
    if len(input_shape) != 4 or input_shape[3] not in (1, 3):
        raise InvalidInputError(f"Expected a model input of shape (batch, height, width, 1 or 3). Received: {name} with input shape {input_shape}.")
    return KerasRunner(model)


def _class_names(class_names, classes: int, file_name: str) -> tuple[str, ...]:
    expected = 2 if classes == 1 else classes
    if class_names is None:
        return tuple(f"class_{i}" for i in range(expected))
    if isinstance(class_names, str):
        class_names = [name.strip() for name in class_names.split(",")]
    names = tuple(str(name) for name in class_names)
    if len(names) != expected:
        hint = " (one sigmoid unit: give [negative, positive])" if classes == 1 else ""
        raise InvalidInputError(f"Expected {expected} class names for {file_name}{hint}. Received: {len(names)} ({list(names)[:10]}).",
                                key="class_names_count", name=file_name, expected=expected, count=len(names))
    return names
