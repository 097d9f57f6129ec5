"""Built models, ready for inference, cached per (model, weights, backend) and safe for concurrent callers.

A model is built once per key: concurrent callers asking for the same key wait for the one build.
On Keras, each model gets a compiled inference function (a `tf.function` with a batch dimension of
any size, traced once and warmed up on first use), which runs one image about three times faster
than `model.predict`. On onnxruntime (`plugin.engine.onnx`), the model is exported once and its
cached file loaded. Either way, requests that arrive together run as one batch (`Batcher`).
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import os
import threading
import warnings
from collections.abc import Callable

import numpy as np

from plugin.config import get_settings
from plugin.engine.batching import Batcher
from plugin.engine.registry import ModelSpec, get_spec
from plugin.engine.weights import WeightsChoice, parse_weights, weights_path
from plugin.errors import ExportError, InvalidInputError
from plugin.limits import BACKENDS, DEFAULT_BACKEND

__all__ = ["Runner", "PreparedModel", "load_registry_model", "resolve_backend", "check_backend", "cache_info", "model_cache", "BATCH_SIZE"]

BATCH_SIZE = 16
"""Images one inference call runs at most; larger batches are run in slices of this size."""

log = logging.getLogger(__name__)


class Runner:
    """A built Keras model and its compiled inference function.

    The function is compiled and warmed up on first use, so a model built only to be described
    costs no compilation.
    """

    backend = "keras"

    def __init__(self, model) -> None:
        self.model = model
        self._infer = None
        self._lock = threading.Lock()
        self.batcher = Batcher(self._run)

    @property
    def infer(self) -> Callable:
        """The compiled inference function (a `tf.function` traced once for any batch size)."""
        return self.compile()

    def compile(self) -> Callable:
        """Compile and warm up the inference function if not done yet; return it."""
        with self._lock:
            if self._infer is None:
                self._infer = _compile(self.model)
            return self._infer

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Run a float32 batch (N, H, W, C) and return the model's raw outputs as numpy."""
        return self.batcher(batch)

    def _run(self, batch: np.ndarray) -> np.ndarray:
        infer = self.infer
        outputs = [np.asarray(infer(batch[i:i + BATCH_SIZE])) for i in range(0, len(batch), BATCH_SIZE)]
        return np.concatenate(outputs, axis=0)

    @property
    def input_shape(self) -> tuple:
        return tuple(self.model.inputs[0].shape)


def _compile(model) -> Callable:
    import tensorflow as tf

    shape = tuple(model.inputs[0].shape)
    signature = tf.TensorSpec([None, *shape[1:]], tf.float32)

    @tf.function(input_signature=[signature], reduce_retracing=True)
    def infer(x):
        return model(x, training=False)

    warm_shape = [1] + [dim if dim is not None else 224 for dim in shape[1:]]
    infer(np.zeros(warm_shape, dtype=np.float32))
    return infer


@dataclasses.dataclass(frozen=True)
class PreparedModel:
    """A runner with what classification needs to know about it.

    Attributes:
        name: the model's name in results (registry name, or the model file's name).
        runner: the compiled model.
        input_size: (height, width) images are resized to.
        channels: 1 (grayscale) or 3 (RGB).
        preprocessing: a mode of `plugin.engine.preprocessing`.
        weights: "imagenet", "random", or a file name.
        untrained: True when the weights are random.
        class_names: names by output index; None for ImageNet heads.
        output: how outputs become probabilities: "softmax" (already probabilities),
            "logits" (softmax applied here), "sigmoid" (independent probabilities),
            "binary" (one sigmoid unit: [1 - p, p]) or "binary_logit" (one linear unit, sigmoid
            applied here).
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

    @property
    def backend(self) -> str:
        """What runs it: "keras" or "onnx"."""
        return self.runner.backend

    @property
    def imagenet_head(self) -> bool:
        return self.class_names is None

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """Run a preprocessed batch and return class probabilities, shape (N, classes)."""
        raw = self.runner(batch).astype(np.float64)
        if self.output == "binary_logit":
            raw = 1.0 / (1.0 + np.exp(-raw))
        if self.output in ("binary", "binary_logit"):
            p = raw.reshape(len(raw), 1)
            return np.concatenate([1.0 - p, p], axis=1)
        if self.output == "logits":
            shifted = np.exp(raw - raw.max(axis=1, keepdims=True))
            return shifted / shifted.sum(axis=1, keepdims=True)
        return raw


class ModelCache:
    """Least-recently-used cache of runners with one build per key, whatever the concurrency."""

    def __init__(self) -> None:
        self._entries: collections.OrderedDict = collections.OrderedDict()
        self._key_locks: dict = {}
        self._lock = threading.Lock()
        self.builds = 0

    def get(self, key, build: Callable[[], Runner]) -> Runner:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    return self._entries[key]
            try:
                runner = build()
            except BaseException:
                with self._lock:  # a failed build leaves nothing behind: the next call builds afresh
                    if self._key_locks.get(key) is key_lock:
                        del self._key_locks[key]
                raise
            with self._lock:
                self.builds += 1
                self._entries[key] = runner
                self._entries.move_to_end(key)
                while len(self._entries) > max(1, get_settings().model_cache_size):
                    evicted, _ = self._entries.popitem(last=False)
                    self._key_locks.pop(evicted, None)
            return runner

    def keys(self) -> list:
        with self._lock:
            return list(self._entries)


model_cache = ModelCache()


def load_registry_model(name: str, weights="imagenet", backend: str = "keras") -> PreparedModel:
    """Build (or take from the cache) a registry model with the given weights.

    Args:
        name: a registry model name.
        weights: "imagenet", None / "random", or a weights file path.
        backend: "keras" (the default here: Grad-CAM and fine-tuning need the Keras model), "onnx"
            (exported once, with these weights, and cached; random weights cannot be) or "auto"
            (onnxruntime where the export is cached, else Keras while it is made in the background).

    Returns:
        A `PreparedModel` with an ImageNet head; its `backend` says which one runs it.
    """
    spec: ModelSpec = get_spec(name)
    choice = parse_weights(weights)
    backend = check_backend(backend)
    path = weights_path(spec, choice)
    runner = _onnx_runner(spec, choice, path, backend) if backend != "keras" else None
    if runner is None:
        runner = model_cache.get((spec.name, *choice.cache_key), lambda: Runner(_build_with_weights(spec, path)))
    return PreparedModel(
        name=spec.name, runner=runner, input_size=spec.input_size, channels=spec.input_shape[2],
        preprocessing=spec.preprocessing, weights=choice.label, untrained=choice.untrained,
    )


def check_backend(backend, *, model_file: bool = False) -> str:
    """Return `backend` if it is one of `BACKENDS` (None: the default); refuse anything else, and
    "onnx" for a model file of one's own (`model_file`), which only Keras runs."""
    if backend is None:
        return DEFAULT_BACKEND
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise InvalidInputError(f"Expected backend to be one of {list(BACKENDS)}. Received: {str(backend)[:40]!r}",
                                key="backend", value=str(backend)[:40])
    if model_file and backend == "onnx":
        raise InvalidInputError("Expected registry models with backend='onnx'. Received: a model file, which runs on "
                                "Keras; use backend='auto' or 'keras'.", key="onnx_model_file")
    return backend


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
    from plugin.engine import onnx as engine_onnx

    if path is None or spec.name in engine_onnx.UNSUPPORTED:
        if backend == "auto":
            return None
        if path is None:
            raise InvalidInputError(
                f"Expected trained weights (imagenet or a weights file) to run {spec.name} on onnxruntime. Received: random "
                "weights, which differ at every build and are never exported. Use backend='keras' or 'auto'.",
                key="onnx_random_weights", model=spec.name)
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
    from plugin.engine.onnx import OnnxRunner

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


def _build_with_weights(spec: ModelSpec, path: str | None):
    """Build a registry model; a weights file that does not fill every layer is an error,
    never a model that is partly random."""
    if path is None:
        return spec.build(None)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = spec.build(path)
    except (ValueError, OSError, KeyError) as exc:
        raise InvalidInputError(
            f"Expected a weights file that fits {spec.name}. Received: {os.path.basename(path)!r}, "
            f"which Keras could not load into it ({str(exc).splitlines()[0][:300]}).",
            key="weights_misfit", model=spec.name, file=os.path.basename(path)) from exc
    partial = [str(w.message) for w in caught if "freshly-initialized" in str(w.message) or "Skipping" in str(w.message)]
    if partial:
        raise InvalidInputError(
            f"Expected a weights file that fits {spec.name}. Received: {os.path.basename(path)!r}, which left "
            f"layers with random weights ({partial[0][:200]}).", key="weights_misfit", model=spec.name,
            file=os.path.basename(path))
    return model


def cache_info() -> dict:
    """Which models are built and held in memory, and how many builds happened so far."""
    return {"models": [list(map(str, key)) for key in model_cache.keys()], "builds": model_cache.builds}
