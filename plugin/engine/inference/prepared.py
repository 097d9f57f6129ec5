"""Models prepared for inference: a runner and what classification needs to know about it.

`load_registry_model` builds (or takes from the cache) a registry model on Keras or onnxruntime
(`plugin.engine.inference.onnx`: exported once, its cached file loaded), in float32 or int8;
`resolve_backend` says which one answers (`plugin.engine.inference.options` holds the rules of
backends and precisions).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from plugin.config import get_settings
from plugin.engine.inference.cache import model_cache
from plugin.engine.inference.options import check_backend, check_precision, refuse_untrained
from plugin.engine.inference.preprocessing import Framing, framing, image_to_array, preprocess
from plugin.engine.inference.runners import KerasRunner, Runner
from plugin.engine.intake.images import load_image
from plugin.engine.intake.parallel import in_threads
from plugin.engine.models.build import build_registry_model
from plugin.engine.models.registry import KERAS_PROTOCOL, ModelSpec, get_spec
from plugin.engine.models.weights import WeightsChoice, parse_weights, weights_path
from plugin.engine.results import LoadedImage
from plugin.errors import ExportError
from plugin.limits import DEFAULT_BACKEND, DEFAULT_PRECISION

__all__ = ["PreparedModel", "prepare_batch", "load_registry_model", "resolve_backend"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class PreparedModel:
    """A runner with what classification needs to know about it.

    Attributes:
        name: the model's name in results (registry name, or the model file's name).
        runner: the compiled model.
        input_size: (height, width) images are resized to.
        channels: 1 (grayscale) or 3 (RGB).
        preprocessing: a mode of `plugin.engine.inference.preprocessing`.
        weights: "imagenet", "random", or a file name.
        untrained: True when the weights are random.
        class_names: names by output index; None for ImageNet heads.
        output: how outputs become probabilities: "softmax" (already probabilities),
            "logits" (softmax applied here), "sigmoid" (independent probabilities),
            "binary" (one sigmoid unit: [1 - p, p]) or "binary_logit" (one linear unit, sigmoid
            applied here).
        precision: "float32" or "int8": what it computes with.
        precision_note: why float32 answers where int8 was asked for (the int8 model fell short
            of float32 on the check images: the numbers), else None.
        int8_agreement: where int8 was asked for, how its model agreed with float32 on the check
            images (kept or not), else None.
        resize: how a photo reaches it unless a caller says otherwise: "crop" (its evaluation
            protocol: every registry model) or "whole" (a model file not trained here).
        crop_fraction, interpolation: the protocol's centre crop and resampling (see
            `plugin.engine.inference.preprocessing.framing`).
    """

    name: str
    runner: Runner
    input_size: tuple[int, int]
    channels: int
    preprocessing: str
    weights: str
    untrained: bool
    class_names: tuple[str, ...] | None = None
    output: str = "softmax"
    precision: str = "float32"
    precision_note: str | None = None
    int8_agreement: dict | None = None
    resize: str = "crop"
    crop_fraction: float = KERAS_PROTOCOL.crop_fraction
    interpolation: str = KERAS_PROTOCOL.interpolation

    @property
    def backend(self) -> str:
        """What runs it: "keras" or "onnx"."""
        return self.runner.backend

    @property
    def imagenet_head(self) -> bool:
        return self.class_names is None

    def input_mode(self, override: str | None = None) -> str:
        """The preprocessing the model's input gets: a caller's `override` applies to ImageNet heads
        only (the study's experiment); a model file keeps the preprocessing it was trained with."""
        return override if override and self.imagenet_head else self.preprocessing

    def framing(self, image: Image.Image, resize: str | None = None) -> Framing:
        """The part of `image` this model sees with `resize` ("crop", "whole", or None: its own way)."""
        return framing(image.width, image.height, self.input_size, resize=resize or self.resize,
                       crop_fraction=self.crop_fraction, interpolation=self.interpolation)

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """Run a preprocessed batch and return class probabilities, shape (N, classes)."""
        return self.probabilities_of(self.runner(batch))

    def probabilities_of(self, outputs: np.ndarray) -> np.ndarray:
        """The model's raw outputs (N, ...) as class probabilities, shape (N, classes)."""
        raw = np.asarray(outputs).astype(np.float64)
        if self.output == "binary_logit":
            raw = 1.0 / (1.0 + np.exp(-raw))
        if self.output in ("binary", "binary_logit"):
            p = raw.reshape(len(raw), 1)
            return np.concatenate([1.0 - p, p], axis=1)
        if self.output == "logits":
            shifted = np.exp(raw - raw.max(axis=1, keepdims=True))
            return shifted / shifted.sum(axis=1, keepdims=True)
        return raw


def prepare_batch(images: Sequence[Image.Image | LoadedImage | str | os.PathLike], model: PreparedModel,
                  mode: str | None = None, resize: str | None = None) -> np.ndarray:
    """Decode, crop or squash, resize and preprocess images into one batch for `model`: the one way
    pixels reach a model.

    Args:
        images: PIL images, loaded images, or paths (read with every check of `load_image`).
        model: the model whose input size, channels, preprocessing and protocol apply.
        mode: a preprocessing mode instead of the model's own (see `PreparedModel.input_mode`).
        resize: "crop" or "whole" instead of the model's own way (see `PreparedModel.framing`).

    Returns:
        float32 array (N, H, W, C).
    """
    def pixels(image) -> np.ndarray:
        picture = image if isinstance(image, Image.Image) else load_image(image).image
        return image_to_array(picture, model.input_size, model.channels, model.framing(picture, resize))

    return preprocess(np.stack(in_threads(pixels, list(images))), mode or model.preprocessing)


def load_registry_model(name: str, weights="imagenet", backend: str = "keras", precision: str = DEFAULT_PRECISION,
                        verdicts: Callable[[np.ndarray], Sequence[str]] | None = None) -> PreparedModel:
    """Build (or take from the cache) a registry model with the given weights.

    Args:
        name: a registry model name.
        weights: "imagenet", None / "random", or a weights file path.
        backend: "keras" (the default here: Grad-CAM and fine-tuning need the Keras model), "onnx"
            (exported once, with these weights, and cached; random weights cannot be) or "auto"
            (onnxruntime where the export is cached, else Keras while it is made in the background).
        precision: "float32", or "int8": onnxruntime on the int8 model (exported and quantised
            first where needed, then cached), which needs trained weights and a backend other
            than "keras"; an int8 model that fell short of float32 is not used: float32 answers,
            and `precision_note` says why.
        verdicts: the dog/cat verdict of each row of probabilities; needed for "int8" (its check).

    Returns:
        A `PreparedModel` with an ImageNet head; its `backend` and `precision` say what runs it.
    """
    spec: ModelSpec = get_spec(name)
    choice = parse_weights(weights)
    backend = check_backend(backend)
    path = weights_path(spec, choice)
    if check_precision(precision, backend=backend, untrained=choice.untrained, model=spec.name) == "int8":
        if verdicts is None:
            raise TypeError("load_registry_model(precision='int8') needs verdicts, the dog/cat rule its check uses")
        assert path is not None  # trained weights: check_precision refuses random ones
        from plugin.engine.inference.onnx.calibration import calibration_key

        trained, rule = path, verdicts
        key = calibration_key(spec)
        runner, precision, note, agreement = model_cache.get((spec.name, *choice.cache_key, "int8", key),
                                                             lambda: _int8_runner(spec, trained, key, rule))
        return PreparedModel(name=spec.name, runner=runner, input_size=spec.input_size, channels=spec.input_shape[2],
                             preprocessing=spec.preprocessing, weights=choice.label, untrained=False,
                             precision=precision, precision_note=note, int8_agreement=agreement, **_protocol(spec))
    runner = _onnx_runner(spec, choice, path, backend) if backend != "keras" else None
    if runner is None:
        runner = model_cache.get((spec.name, *choice.cache_key), lambda: KerasRunner(build_registry_model(spec, path)))
    return PreparedModel(
        name=spec.name, runner=runner, input_size=spec.input_size, channels=spec.input_shape[2],
        preprocessing=spec.preprocessing, weights=choice.label, untrained=choice.untrained, **_protocol(spec),
    )


def _protocol(spec: ModelSpec) -> dict:
    """A registry model's way of bringing a photo to its input: its evaluation protocol."""
    return {"resize": "crop", "crop_fraction": spec.protocol.crop_fraction, "interpolation": spec.protocol.interpolation}


def _int8_runner(spec: ModelSpec, path: str, key: str,
                 verdicts: Callable[[np.ndarray], Sequence[str]]) -> tuple[Runner, str, str | None, dict]:
    """The int8 runner of a registry model with a weights file, or the float32 one and why; and the
    int8 model's agreement with float32."""
    from plugin.engine.inference import onnx as engine_onnx
    from plugin.engine.inference.onnx import calibration, int8

    if spec.name in engine_onnx.UNSUPPORTED:
        raise ExportError(f"Expected {spec.name} to export to ONNX for int8. Received: {engine_onnx.UNSUPPORTED[spec.name]}.",
                          key="onnx_unsupported", model=spec.name)
    fp32 = Path(engine_onnx.export_cached(spec.name, path)["path"])
    target, record = int8.ensure_int8(spec.name, fp32, key,
                                      lambda: (calibration.calibration_batch(spec), calibration.check_batch(spec)), verdicts)
    if record["kept"]:
        return engine_onnx.OnnxRunner(target), "int8", None, record["agreement"]
    return engine_onnx.OnnxRunner(fp32), "float32", int8.refusal_message(record), record["agreement"]


def resolve_backend(name: str, weights="imagenet", backend: str = DEFAULT_BACKEND) -> str:
    """What `load_registry_model(name, weights, backend)` runs the model on now: "onnx" or "keras".

    "onnx" exports the model first where its export is not cached; "auto" starts that export in
    the background and says "keras" until it is done.
    """
    spec = get_spec(name)
    backend = check_backend(backend)
    if backend == "keras":
        return "keras"
    return "onnx" if _onnx_file(spec, weights_path(spec, parse_weights(weights)), backend) else "keras"


def _onnx_file(spec: ModelSpec, path: str | None, backend: str) -> str | None:
    """The exported file "onnx" or "auto" runs, or None where "auto" answers with Keras."""
    from plugin.engine.inference import onnx as engine_onnx

    if path is None or spec.name in engine_onnx.UNSUPPORTED:
        if backend == "auto":
            return None
        if path is None:
            raise refuse_untrained(f"(imagenet or a weights file) to run {spec.name} on onnxruntime",
                                   "random weights, which differ at every build and are never exported",
                                   "Use backend='keras' or 'auto'.", key="onnx_random_weights", model=spec.name)
        raise ExportError(f"Expected {spec.name} to export to ONNX. Received: {engine_onnx.UNSUPPORTED[spec.name]}. "
                          "Use backend='keras' or 'auto'.", key="onnx_unsupported", model=spec.name)
    if backend == "onnx":
        return engine_onnx.export_cached(spec.name, path)["path"]
    export = engine_onnx.cached_export(spec.name, path)
    if export is None and get_settings().auto_export:
        engine_onnx.request_export(spec.name, path)
    return None if export is None else str(export)


def _onnx_runner(spec: ModelSpec, choice: WeightsChoice, path: str | None, backend: str):
    """The onnxruntime runner for "onnx" or "auto", or None where "auto" answers with Keras."""
    from plugin.engine.inference.onnx import OnnxRunner

    export = _onnx_file(spec, path, backend)
    if export is None:
        return None
    try:
        return model_cache.get((spec.name, *choice.cache_key, "onnx", export), lambda: OnnxRunner(export))
    except ExportError:
        if backend == "auto":
            log.warning("The cached ONNX export of %s could not be loaded; Keras answers.", spec.name, exc_info=True)
            return None
        raise
