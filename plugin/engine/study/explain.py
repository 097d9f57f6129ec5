"""Grad-CAM: where did a model look when it chose a class?

The keras.io recipe (examples/vision/grad_cam.py) in three steps: a model that outputs the last
convolutional feature map and the class scores; the gradient of one class's score (before the
softmax) with respect to that map, taken with `tf.GradientTape`; channel weights = mean gradient,
a weighted sum of the channels, ReLU, normalised to 0..1. The result is a coarse grid (7 x 7 for
most models here), one cell per position of the last feature map, rows top to bottom. Drawing it
over the photo is `plugin.render.overlay`'s job.

The last convolutional layer is found per architecture: the last layer whose output still has
height and width (pooling, padding and dropout skipped), unless the registry entry names one.
Grad-CAM needs gradients, so it always runs on Keras.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from plugin.engine.imagenet import find_class
from plugin.engine.inference.custom import load_custom_model
from plugin.engine.inference.options import RunOptions
from plugin.engine.inference.prepared import PreparedModel, load_registry_model, prepare_batch
from plugin.engine.inference.preprocessing import get_mode
from plugin.engine.inference.runners import KerasRunner
from plugin.engine.intake.images import load_image
from plugin.engine.models.registry import get_spec
from plugin.engine.models.weights import parse_weights
from plugin.engine.results import ExpectedInput, ExplainedClass, Explanation, ImageInput, LoadedImage
from plugin.engine.study.labels import parse_expected
from plugin.errors import InvalidInputError
from plugin.limits import CAT_INDICES, DOG_INDICES

__all__ = ["explain", "last_conv_layer", "GRID_DECIMALS", "TARGETS"]

GRID_DECIMALS = 2
TARGETS = ("answer", "expected")
"""Which class a heat map explains: the model's own answer (the default) or the right answer given."""
_SKIPPED = ("MaxPooling2D", "AveragePooling2D", "ZeroPadding2D", "Dropout", "SpatialDropout2D", "Cropping2D")


def last_conv_layer(model: Any) -> str:
    """The name of the last layer whose output is a feature map (batch, height, width, channels)."""
    for layer in reversed(model.layers):
        if type(layer).__name__ in _SKIPPED:
            continue
        try:
            shape = tuple(layer.output.shape)
        except (AttributeError, ValueError):
            continue
        if len(shape) == 4 and (shape[1] or 2) > 1 and (shape[2] or 2) > 1:
            return layer.name
    raise InvalidInputError(f"Expected a convolutional model with a feature map to explain. Received: {model.name}, "
                            "whose layers have no output with height and width.")


def explain(image: ImageInput, model: str | None = None, *, class_index: int | str | None = None,
            expected: ExpectedInput = None, target: str = "answer",
            options: RunOptions = RunOptions()) -> tuple[Explanation, np.ndarray, LoadedImage]:
    """Compute a Grad-CAM heat map for one image and one model.

    Args:
        image: any form `classify_image` takes.
        model: a registry model name (ignored with `model_path`).
        class_index: a class to explain instead of `target`'s.
        expected: the right answer (an ImageNet class or, for a model file, one of its classes).
        target: "answer" (the model's top-1) or "expected" (the right answer; for "dog" or "cat",
            the group's most probable class).
        options: the weights (one for the model), random-weights consent, model file and its
            class names, preprocessing and resize, as for `classify_image`; Grad-CAM runs on
            Keras in float32 whatever the backend and precision.

    Returns:
        `(result, cam, loaded)`: the result `{"model", "class", "target", "answer", "layer",
        "heatmap", "region"}`, the heat map as a float array (0..1) over the region and the image
        as read, for drawing.
    """
    import tensorflow as tf

    if target not in TARGETS:
        raise InvalidInputError(f"Expected target to be one of {list(TARGETS)}. Received: {str(target)[:40]!r}",
                                key="explain_target", value=str(target)[:40])
    prepared = _prepare(model, options)
    preprocessing = options.preprocessing
    loaded = load_image(image)
    keras_model = cast(KerasRunner, prepared.runner).model  # Grad-CAM runs on Keras
    spec = get_spec(prepared.name) if options.model_path is None else None
    layer_name = (spec.gradcam_layer if spec and spec.gradcam_layer else None) or last_conv_layer(keras_model)
    batch = prepare_batch([loaded.image], prepared, prepared.input_mode(preprocessing), options.resize)

    probabilities = np.asarray(prepared.probabilities(batch))[0]
    answer = int(np.argmax(probabilities))
    if target == "expected" and class_index is None and expected is None:
        raise InvalidInputError("Expected the right answer (expected=...) with target='expected'. Received: no expected answer.",
                                key="explain_expected_missing")
    chosen = _class_index(class_index, expected if target == "expected" else None, prepared, probabilities)
    last = keras_model.layers[-1]
    scores_from_input = _before_softmax(last)
    grad_model = _feature_and_head_model(keras_model, layer_name, head_input=scores_from_input is not None)
    with tf.GradientTape() as tape:
        feature_map, head = grad_model(tf.convert_to_tensor(batch), training=False)
        scores = scores_from_input(head) if scores_from_input else head
        if scores.shape[-1] == 1:  # one sigmoid unit: class 1 is the unit, class 0 its opposite
            score = scores[:, 0] if chosen == 1 else -scores[:, 0]
        else:
            score = scores[:, chosen]
    gradients = tape.gradient(score, feature_map)
    channel_weights = tf.reduce_mean(gradients, axis=(0, 1, 2))
    cam = tf.nn.relu(tf.tensordot(feature_map[0], channel_weights, axes=1)).numpy().astype(np.float64)
    top = cam.max()
    cam = cam / top if top > 0 else cam
    result: Explanation = {
        "model": prepared.name,
        "class": _explained(prepared, chosen, probabilities),
        "target": "class" if class_index is not None else target,
        "answer": _explained(prepared, answer, probabilities),
        "layer": layer_name,
        "heatmap": np.round(cam, GRID_DECIMALS).tolist(),
        "region": prepared.framing(loaded.image, options.resize).describe(),
    }
    return result, cam, loaded


def _explained(prepared: PreparedModel, index: int, probabilities: np.ndarray) -> ExplainedClass:
    label, label_ko = _names(prepared, index)
    return {"index": index, "label": label, "label_ko": label_ko, "probability": round(float(probabilities[index]), 6)}


def _prepare(model: str | None, options: RunOptions) -> PreparedModel:
    if options.preprocessing is not None:
        get_mode(options.preprocessing)
    if options.model_path is not None:
        return load_custom_model(options.model_path, class_names=options.class_names, preprocessing=options.preprocessing)
    if model is None:
        raise InvalidInputError("Expected a model to explain. Received: model=None", key="no_models")
    spec = get_spec(model)
    options.require_trained("to explain a prediction", "random weights, whose heat maps mean nothing",
                            untrained=parse_weights(options.weights).untrained)
    return load_registry_model(spec.name, options.weights)  # Keras: Grad-CAM needs gradients


def _feature_and_head_model(model, layer_name: str, *, head_input: bool):
    """A model giving the named layer's feature map and the head's input (or the model's output).

    A functional model's layers are wired already. A Sequential model keeps its graph inside and
    its layers' symbolic outputs are not connected to `model.inputs` for gradients, so the same
    layers (same weights) are called again on a fresh input.
    """
    import keras

    if not isinstance(model, keras.Sequential):
        head = model.layers[-1].input if head_input else model.outputs[0]
        return keras.Model(model.inputs[0], [model.get_layer(layer_name).output, head])
    inputs = keras.Input(shape=tuple(model.inputs[0].shape[1:]))
    x, feature, head = inputs, None, None
    for layer in model.layers:
        if layer is model.layers[-1] and head_input:
            head = x
        x = layer(x)
        if layer.name == layer_name:
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


def _class_index(class_index: int | str | None, expected: ExpectedInput, prepared: PreparedModel,
                 probabilities: np.ndarray) -> int:
    classes = probabilities.size
    if class_index is not None:
        if prepared.imagenet_head and not isinstance(class_index, (int, np.integer)):
            return find_class(class_index).index
        if isinstance(class_index, bool) or not isinstance(class_index, (int, np.integer)) or not 0 <= int(class_index) < classes:
            raise InvalidInputError(f"Expected class_index from 0 to {classes - 1}. Received: class_index={class_index!r}")
        return int(class_index)
    target = parse_expected(expected, prepared.class_names)
    if target is not None and target.item is not None:
        return target.item.index
    if target is not None and target.custom_index is not None:
        return target.custom_index
    if target is not None:  # "dog" or "cat": the most probable class of the group
        group = DOG_INDICES if target.group == "dog" else CAT_INDICES
        return int(group.start + np.argmax(probabilities[group.start:group.stop]))
    return int(np.argmax(probabilities))


def _names(prepared: PreparedModel, index: int) -> tuple[str, str | None]:
    if prepared.imagenet_head:
        item = find_class(index)
        return item.label, item.label_ko
    if prepared.class_names and index < len(prepared.class_names):
        return prepared.class_names[index], None
    return f"class_{index}", None
