"""What an explanation method works with: the photo's pixels as the model saw them, the class to
explain, and the model as a method may ask it (scores of many masked photos on any backend; one
layer's feature map on Keras or onnxruntime; gradients on Keras, or on onnxruntime from the weights
of a linear head after the last feature map: `plugin.engine.inference.onnx.head`).

Every perturbation happens on pixels (0..255, the region the model saw at its input size), then
the model's own preprocessing is applied, so a grey patch is the same grey for every model: the
ImageNet mean colour (`BASELINE_RGB`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import weakref
from collections.abc import Callable
from typing import Any, cast

import numpy as np
from PIL import Image

from plugin.engine.inference.cache import ModelCache
from plugin.engine.inference.prepared import PreparedModel
from plugin.engine.inference.preprocessing import preprocess
from plugin.engine.inference.runners import KerasRunner
from plugin.engine.study.explain.targets import Target
from plugin.limits import EXPLAIN_BATCH

__all__ = ["ExplainContext", "BASELINE_RGB", "upsample", "normalise", "graph_head_layer"]

_KEPT_BATCHES = 8
"""The last large batches whose probabilities a model keeps (by their pixels' digest)."""
BASELINE_RGB = (123.68, 116.78, 103.94)
"""The ImageNet mean colour: what occlusion, Score-CAM and deletion put where a pixel is taken away."""


@dataclasses.dataclass
class ExplainContext:
    """One photo, one model, one target, one layer.

    Attributes:
        prepared: the model that scores masked photos (Keras or onnxruntime, float32 or int8).
        keras_model: the Keras model for gradients (None where onnxruntime answers all: the
            method needs none, or the layer is followed by a linear head); activations come from
            onnxruntime where it scores.
        pixels: the region the model saw, resized to its input: float32 (H, W, C), 0..255.
        mode: the preprocessing applied to pixels.
        target: the classes explained.
        layer: the feature-map layer CAM methods use.
        cached: whether models derived from `keras_model` are kept for the process (False for the
            sanity check's randomised copies).
    """

    prepared: PreparedModel
    keras_model: Any
    pixels: np.ndarray
    mode: str
    target: Target
    layer: str | None
    cached: bool = True
    _cache: dict = dataclasses.field(default_factory=dict, repr=False)

    @property
    def baseline(self) -> np.ndarray:
        """The grey photo: every pixel the ImageNet mean colour."""
        colour = np.array(BASELINE_RGB if self.pixels.shape[-1] == 3 else (float(np.mean(BASELINE_RGB)),), np.float32)
        return np.broadcast_to(colour, self.pixels.shape).astype(np.float32)

    def inputs(self, pixels: np.ndarray) -> np.ndarray:
        """Pixels (N, H, W, C) as the model's input."""
        return preprocess(pixels, self.mode)

    def probabilities(self, pixels: np.ndarray) -> np.ndarray:
        """Class probabilities (N, classes) of pixel batches, run in batches of `EXPLAIN_BATCH`.

        A photo or two on a Keras model whose inference function is not traced yet run eagerly:
        tracing costs Lite0 0.7 s, more than the call (what a one-off `launch.py explain` waits for).
        Larger batches (occlusion's hidden photos, the metrics' curves) are kept for the model a
        while, by their pixels' digest: a second target on the same photo (a dog and a cat) asks
        for the same photos, and its occlusion and baselines then cost no inference.
        """
        runner = self.prepared.runner
        if len(pixels) <= 2 and isinstance(runner, KerasRunner) and not runner.compiled:
            return self.prepared.probabilities_of(runner.model(self.inputs(pixels), training=False))
        if not self.cached:  # a randomised copy (the sanity check): its weights change between calls
            return self._batched(pixels)
        key = (self.mode, pixels.shape, hashlib.blake2b(np.ascontiguousarray(pixels, np.float32).data, digest_size=16).digest())
        kept = _derived(runner, ("probabilities",), lambda: ModelCache(size=_KEPT_BATCHES))
        return kept.get(key, lambda: _read_only(self._batched(pixels)))

    def _batched(self, pixels: np.ndarray) -> np.ndarray:
        parts = [self.prepared.probabilities(self.inputs(pixels[start:start + EXPLAIN_BATCH]))
                 for start in range(0, len(pixels), EXPLAIN_BATCH)]
        return np.concatenate(parts)

    def scores(self, pixels: np.ndarray) -> np.ndarray:
        """The target's probability (summed over a group) for each photo of a pixel batch (N,)."""
        return self.probabilities(pixels)[:, list(self.target.indices)].sum(axis=1)

    @property
    def layer_name(self) -> str:
        if self.layer is None:
            raise TypeError("this method uses no layer")
        return self.layer

    def activations(self) -> np.ndarray:
        """The layer's feature map for the photo: (h, w, channels)."""
        if "activations" not in self._cache:
            batch = self.inputs(self.pixels[np.newaxis])
            if self.prepared.backend == "onnx":
                features, _ = self._feature_session()(batch)
            else:
                model = _gradient_model(self.keras_model, self.layer_name, head_input=False, cached=self.cached)
                features = np.asarray(model(batch, training=False)[0])
            self._cache["activations"] = features[0].astype(np.float64)
        return self._cache["activations"]

    def gradients(self) -> tuple[np.ndarray, np.ndarray]:
        """The layer's feature map and the gradient of the target's score (before the softmax; a
        group's is the log-sum-exp of its classes') with respect to it, both (h, w, channels)."""
        if "gradients" not in self._cache and self.keras_model is None and self.prepared.backend == "onnx":
            session = self._feature_session()
            if session.head is None:
                raise TypeError(f"no linear head after {self.layer_name!r} in the exported graph: gradients need Keras")
            features, outputs = session(self.inputs(self.pixels[np.newaxis]))
            probabilities = self.prepared.probabilities_of(outputs)[0]
            self._cache["activations"] = features[0].astype(np.float64)
            self._cache["gradients"] = (self._cache["activations"],
                                        session.head.gradients(features[0], probabilities, list(self.target.indices)))
        if "gradients" not in self._cache:
            import tensorflow as tf

            model = self.keras_model if self.keras_model is not None else cast(KerasRunner, self.prepared.runner).model
            last = model.layers[-1]
            before_softmax = _before_softmax(last)
            gradient_model = _gradient_model(model, self.layer_name, head_input=before_softmax is not None, cached=self.cached)
            indices = list(self.target.indices)
            with tf.GradientTape() as tape:
                feature_map, head = gradient_model(tf.convert_to_tensor(self.inputs(self.pixels[np.newaxis])), training=False)
                scores = before_softmax(head) if before_softmax else head
                if scores.shape[-1] == 1:  # one sigmoid unit: class 1 is the unit, class 0 its opposite
                    score = scores[:, 0] if indices == [1] else -scores[:, 0]
                elif len(indices) == 1:
                    score = scores[:, indices[0]]
                elif before_softmax:
                    score = tf.reduce_logsumexp(tf.gather(scores, indices, axis=1), axis=1)
                else:
                    score = tf.math.log(tf.reduce_sum(tf.gather(scores, indices, axis=1), axis=1) + 1e-12)
            gradients = tape.gradient(score, feature_map)
            self._cache["gradients"] = (np.asarray(feature_map[0], np.float64), np.asarray(gradients[0], np.float64))
        return self._cache["gradients"]

    def _feature_session(self):
        from plugin.engine.inference.onnx.features import FeatureSession

        runner = cast(Any, self.prepared.runner)
        return _derived(runner, ("features", self.layer_name), lambda: FeatureSession(runner.path, self.layer_name))

    def upsample(self, grid: np.ndarray) -> np.ndarray:
        """A map over the layer's cells as a map over the input's pixels (H, W), bilinear."""
        height, width = self.pixels.shape[:2]
        return upsample(grid, height, width)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)  # kept and handed to every caller
    return array


def graph_head_layer(prepared: PreparedModel) -> str | None:
    """The layer an onnxruntime model's graph names as its last feature map before a linear head
    (read once per model and process), or None. The session that found it then serves that layer's
    feature map: the graph is read once."""
    from plugin.engine.inference.onnx.features import head_session

    runner = cast(Any, prepared.runner)
    session = _derived(runner, ("head",), lambda: head_session(runner.path))
    if session is None:
        return None
    _derived(runner, ("features", session.head.layer), lambda: session)
    return session.head.layer


def upsample(grid: np.ndarray, height: int, width: int) -> np.ndarray:
    """A 2-D map resized to (height, width), bilinear, as float64."""
    picture = Image.fromarray(np.asarray(grid, np.float32), mode="F")
    return np.asarray(picture.resize((width, height), Image.Resampling.BILINEAR), np.float64)


def normalise(cam: np.ndarray) -> np.ndarray:
    """Negative values to 0, then scaled to 0..1 by the largest (all zeros stay zeros)."""
    cam = np.maximum(np.nan_to_num(np.asarray(cam, np.float64)), 0.0)
    top = cam.max() if cam.size else 0.0
    return cam / top if top > 0 else cam


def _gradient_model(model, layer: str, *, head_input: bool, cached: bool = True):
    """A model giving the named layer's feature map and the head's input (or the model's output);
    kept for the process where `model` is (a cached model's, not a randomised copy's)."""
    if cached:
        return _derived(model, ("gradient", layer, head_input),
                        lambda: _gradient_model(model, layer, head_input=head_input, cached=False))
    import keras

    if isinstance(model, keras.Sequential):
        return _sequential_model(model, layer, head_input=head_input)
    head = model.layers[-1].input if head_input else model.outputs[0]
    return keras.Model(model.inputs[0], [model.get_layer(layer).output, head])


def _derived(owner: Any, key: tuple, make: Callable[[], Any]) -> Any:
    """What is made once from a cached model or runner (a gradient model, a feature session), kept as
    long as the owner lives and no longer: beside it, not in the model cache, whose slots are for
    the models themselves (three models' gradient models would push their own models out)."""
    with _derived_lock:
        made = _derived_by_owner.setdefault(owner, {})
        if key not in made:
            made[key] = make()
        return made[key]


_derived_by_owner: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_derived_lock = threading.Lock()


def _sequential_model(model, layer: str, *, head_input: bool):
    """A Sequential model keeps its graph inside and its layers' symbolic outputs are not connected to
    `model.inputs` for gradients, so the same layers (same weights) are called again on a fresh input."""
    import keras

    inputs = keras.Input(shape=tuple(model.inputs[0].shape[1:]))
    x, feature, head = inputs, None, None
    for part in model.layers:
        if part is model.layers[-1] and head_input:
            head = x
        x = part(x)
        if part.name == layer:
            feature = x
    return keras.Model(inputs, [feature, head if head_input else x])


def _before_softmax(last):
    """A function giving the class scores before the softmax from the last layer's input, or None
    when the last layer is not a softmax (its outputs are then explained as they are)."""
    kind = type(last).__name__
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    if kind == "Dense" and activation == "softmax":
        import keras

        return lambda inputs: keras.ops.matmul(inputs, last.kernel) + (last.bias if last.use_bias else 0)
    if kind == "Softmax" or (kind == "Activation" and activation == "softmax"):
        return lambda inputs: inputs
    return None
