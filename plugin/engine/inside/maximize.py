"""What a filter wants to see: for each of a few channels of a layer, the image that maximises the
channel's mean activation, found by gradient ascent from grey noise as keras.io's "Visualizing what
convnets learn" does (normalised gradients, a fixed learning rate, a fixed seed, the border cropped).

Two differences from that example, both so that any registry model and any model file works:

* The ascent moves the picture itself, RGB in 0..255 as a photo is, and puts it through the model's
  own preprocessing inside each step ("lite" (x − 127) / 128, "caffe" BGR less the ImageNet mean,
  ...: every mode is a fixed linear map per pixel, applied as one). So the picture needs no
  preprocessing undone afterwards, and a step is the same size in pixel levels for every model.
* All channels are one batch: image i is scored by channel i, and one gradient call per step moves
  them all (the images do not interact: the model runs in inference mode).
* A layer that is a ReLU (ResNet's `conv5_block3_out`, Lite0's `top_activation`, VGG's convolutions)
  is climbed on the number before its ReLU, as keras.io's example climbs a layer without one: a
  channel at 0 everywhere on grey noise has no gradient through it (Lite0's last layer: most).

It stops after `steps` steps or at the first step that ends past `seconds`, whichever comes first,
and says how many it took.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from plugin.engine.architecture.layers import inbound_names
from plugin.engine.inference.preprocessing import get_mode, preprocess
from plugin.engine.results import MaximizedFilter
from plugin.errors import InvalidInputError
from plugin.limits import MAX_MAXIMIZE_CHANNELS, MAXIMIZE_SECONDS, MAXIMIZE_STEPS

__all__ = ["maximize_filters", "LEARNING_RATE", "NOISE", "BORDER"]

LEARNING_RATE = 4.0
"""Each step's size, as the root mean square of the change in pixel levels (0..255): the step of
keras.io's example (10.0 on [-1, 1] inputs of 180 x 180 with an L2-normalised gradient), per pixel."""

NOISE = 16.0
"""The starting image: grey (128) plus uniform noise of this many pixel levels either way (keras.io's
example: (uniform − 0.5) · 0.25 on [-1, 1], the same)."""

BORDER = 25
"""Pixels cropped from each side of the picture, as keras.io's example crops its 180 x 180 images:
the border, which fewer of the layer's cells see, stays noisy."""

_EDGE_CELLS = 2
"""Cells at each edge of the layer's output left out of the mean activation (keras.io's example's 2,
on a map of 23 x 23)..."""
_EDGE_CROPPED_FROM = 12
"""...where the map is at least this many cells across: a 7 x 7 map (a stage's end) keeps its
edges, which would otherwise be 40 of its 49 cells."""


def maximize_filters(model, layer: str, channels: Sequence[int], *, seed: int = 0, seconds: float | None = None,
                     steps: int | None = None, preprocessing: str = "tf", learning_rate: float = LEARNING_RATE,
                     border: int = BORDER) -> tuple[list[MaximizedFilter], list[np.ndarray]]:
    """For each channel of `layer`, the input picture that maximises its mean activation.

    Args:
        model: a Keras functional model.
        layer: the layer whose output channels are maximised.
        channels: the channel indices, at most `MAX_MAXIMIZE_CHANNELS`.
        seed: the noise's seed (the same seed, the same pictures).
        seconds: the time budget (default `MAXIMIZE_SECONDS`).
        steps: the most steps (default `MAXIMIZE_STEPS`).
        preprocessing: the model's input preprocessing mode (`PreparedModel.input_mode()`: "lite",
            "caffe", ...); the default "tf" is keras.io's example's [-1, 1].
        learning_rate: each step's size in pixel levels (root mean square).
        border: pixels cropped from each side of the pictures.

    Returns:
        `(found, pictures)`: one `MaximizedFilter` per channel (the steps taken, the seconds,
        the channel's mean activation at the start and the end), and one picture per channel,
        uint8 RGB (H − 2·border) x (W − 2·border) x 3, contrast-stretched as keras.io's example does.
    """
    import keras
    import tensorflow as tf

    get_mode(preprocessing)
    channels = [int(channel) for channel in channels]
    if not channels:
        return [], []
    try:
        target = model.get_layer(layer)
    except ValueError:
        raise InvalidInputError(f"Expected a layer of the model to maximise. Received: layer={str(layer)[:80]!r}",
                                key="inside_maximize_layer", value=str(layer)[:80]) from None
    depth = int(target.output.shape[-1])
    if len(channels) > MAX_MAXIMIZE_CHANNELS or not all(0 <= channel < depth for channel in channels):
        raise InvalidInputError(f"Expected at most {MAX_MAXIMIZE_CHANNELS} channels of {layer!r} in 0..{depth - 1}. "
                                f"Received: channels={channels[:20]}", key="inside_maximize_channels", layer=layer,
                                last=depth - 1, limit=MAX_MAXIMIZE_CHANNELS)
    budget = MAXIMIZE_SECONDS if seconds is None else float(seconds)
    most = MAXIMIZE_STEPS if steps is None else int(steps)
    height, width, colours = (int(size) for size in model.inputs[0].shape[1:])
    matrix, offset = _as_linear(preprocessing, colours)

    started = time.perf_counter()
    source, climbed, activate = _climbed(model, target)
    probe = keras.Model(model.inputs, source)
    rank = len(target.output.shape)
    chosen = tf.constant(np.eye(depth, dtype=np.float32)[channels].reshape((len(channels),) + (1,) * (rank - 2) + (depth,)))
    transform, shift = tf.constant(matrix), tf.constant(offset)

    def mean(values):
        """Each image's mean of its own channel (image i, channel i), edges left out."""
        if len(values.shape) == 4 and min(values.shape[1:3]) >= _EDGE_CROPPED_FROM:
            values = values[:, _EDGE_CELLS:-_EDGE_CELLS, _EDGE_CELLS:-_EDGE_CELLS, :]
        picked = tf.reduce_sum(values * chosen, axis=-1)
        return tf.reduce_mean(picked, axis=list(range(1, len(picked.shape)))) if len(picked.shape) > 1 else picked

    def scores(pictures):
        """What is climbed (before a ReLU, see `_climbed`) and the layer's own mean activation."""
        before = climbed(probe([tf.tensordot(pictures, transform, axes=1) + shift], training=False))
        return mean(before), mean(activate(before))

    @tf.function
    def ascend(pictures):
        with tf.GradientTape() as tape:
            tape.watch(pictures)
            climb, activation = scores(pictures)
            total = tf.reduce_sum(climb)  # inside the tape; each image's score depends on its own picture only
        gradient = tape.gradient(total, pictures)
        size = tf.sqrt(tf.reduce_mean(tf.square(gradient), axis=(1, 2, 3), keepdims=True)) + 1e-8
        return pictures + learning_rate * gradient / size, activation

    noise = np.random.default_rng(seed).uniform(-NOISE, NOISE, (len(channels), height, width, colours))
    pictures = tf.constant((128.0 + noise).astype(np.float32))
    start = None
    taken = 0
    while taken < most:
        pictures, score = ascend(pictures)
        taken += 1
        if start is None:
            start = score.numpy()
        if time.perf_counter() - started > budget:
            break
    end = scores(pictures)[1].numpy()
    start = end if start is None else start
    elapsed = round(time.perf_counter() - started, 3)
    found: list[MaximizedFilter] = [
        {"layer": layer, "channel": channel, "steps": taken, "seconds": elapsed,
         "activation_start": round(float(start[index]), 6), "activation_end": round(float(end[index]), 6)}
        for index, channel in enumerate(channels)]
    return found, [_picture(picture, border) for picture in pictures.numpy()]


def _climbed(model, target) -> tuple[Any, Callable, Callable]:
    """What the ascent climbs for `target`: `(source, climbed, activate)`, the tensor a probe
    model outputs, what is climbed from it, and the layer's own output from that.

    A ReLU or ReLU6 (an activation layer, or a convolution's own activation) is climbed on its
    input, which it passes on unchanged where positive: a channel that is 0 everywhere on grey
    noise has no gradient through the ReLU, and ReLU6's stops at 6. Any other layer is climbed on
    its own output. The activation reported is always the layer's own.
    """
    import keras

    def unchanged(values):
        return values

    sources = inbound_names(model).get(target.name, [])
    if _is_relu(target) and len(sources) == 1:
        if isinstance(target, keras.layers.Conv2D) and target.groups == 1:
            def convolve(values):
                out = target.convolution_op(values, target.kernel)
                return out + target.bias if target.use_bias else out
            return model.get_layer(sources[0]).output, convolve, target.activation
        if isinstance(target, (keras.layers.Activation, keras.layers.ReLU)):
            return model.get_layer(sources[0]).output, unchanged, target
    return target.output, unchanged, unchanged


def _is_relu(layer) -> bool:
    import keras

    if isinstance(layer, keras.layers.ReLU):
        return not layer.negative_slope and not layer.threshold
    function = getattr(layer, "activation", None)
    return getattr(function, "__name__", None) in ("relu", "relu6")


def _as_linear(mode: str, colours: int) -> tuple[np.ndarray, np.ndarray]:
    """The preprocessing `mode` as one linear map per pixel: preprocess(x) = x @ matrix + offset,
    read off the mode itself (every mode is one: a scale, a shift and perhaps a channel swap)."""
    offset = preprocess(np.zeros((1, colours), dtype=np.float32), mode)[0]
    matrix = preprocess(np.eye(colours, dtype=np.float32), mode) - offset
    return matrix.astype(np.float32), offset.astype(np.float32)


def _picture(pixels: np.ndarray, border: int) -> np.ndarray:
    """keras.io's `deprocess_image`: centre, scale the deviation to 0.15, crop the border, add 0.5,
    clip to 0..1 and bring to uint8 (the picture is RGB already)."""
    picture = pixels.astype(np.float64)
    picture = (picture - picture.mean()) / (picture.std() + 1e-5) * 0.15
    if border and picture.shape[0] > 2 * border and picture.shape[1] > 2 * border:
        picture = picture[border:-border, border:-border]
    picture = np.clip(picture + 0.5, 0.0, 1.0)
    if picture.shape[-1] == 1:
        picture = np.repeat(picture, 3, axis=-1)
    return (picture * 255).astype(np.uint8)
