"""The feature-map view: what each chosen layer outputs for the photo, its most active channels first.

By default the layers are the first convolution's activated output (the ReLU after it where the
model applies one as a layer of its own: ResNet50's `conv1_relu`; VGG's convolutions have theirs
inside) and the end of each stage the paper draws (`plugin.engine.architecture.stages`: ResNet50's
conv1, conv2_x ... conv5_x, VGG16's block1 ... block5, EfficientNet-Lite's stem and block1 ...
block7). Every map comes from one forward pass of one model with all the outputs asked for.

Each map says truthfully whether its values are after a ReLU: a convolution with the ReLU inside,
an Activation or ReLU layer, or a layer that only moves values (a pooling, a padding, a dropout)
after one. An addition is not (ResNet's ReLU after the addition is its own layer, `..._out`;
EfficientNet's blocks end on a linear projection, without one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from plugin.engine.architecture.layers import inbound_names, layer_facts
from plugin.engine.architecture.stages import group_stages
from plugin.engine.inside.kernels import first_convolution, unknown_layer_error
from plugin.engine.results import FeatureMap, ReceptiveField

__all__ = ["default_layers", "feature_maps", "relu_state", "map_layers"]

SKIPPED_STAGES = ("preprocessing", "head", "classifier")
"""Stages whose end is no feature map to show: the input's rescaling, and what follows the last map."""

RELU_FUNCTIONS = {"relu": "ReLU", "relu6": "ReLU6"}
"""The activation functions that are a ReLU, and how a map names them."""

MOVERS = ("MaxPooling2D", "AveragePooling2D", "ZeroPadding2D", "Cropping2D", "Dropout", "SpatialDropout2D",
          "UpSampling2D", "Identity")
"""Layers that only move, pick or average values: after a ReLU where their input is."""

NORMALISERS = ("BatchNormalization", "LayerNormalization", "GroupNormalization")

NOT_SHOWN = ("InputLayer", "ZeroPadding2D", "Rescaling", "Normalization", "Resizing", "CenterCrop")
"""Layers whose output is the input padded or prepared, not what the network computed: never a
stage's map (a model file's stages go by resolution, and a padding changes it)."""


def map_layers(model) -> list[str]:
    """The model's own layers with a feature map (a 4-D output: batch, height, width, channels), in order."""
    names = []
    for layer in model.layers:
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError):  # a layer used twice, or a nested model's many outputs
            continue
        if len(shape) == 4 and type(layer).__name__ != "InputLayer":
            names.append(layer.name)
    return names


def default_layers(model, family: str | None) -> list[tuple[str, str | None]]:
    """The first convolution's activated output and each stage's last feature map, with the stage's name.

    Args:
        model: a Keras model.
        family: the registry family whose stage rules apply (`STAGE_RULES`), or None for a model
            file (one stage per resolution).

    Returns:
        `(layer name, stage name or None)` in model order; the first convolution's entry has its
        stage's name where it ends that stage (ResNet50's `conv1_relu` ends conv1), else None.
    """
    rows = layer_facts(model)
    four_d = {row.name for row in rows if _is_map(row.output_shape) and row.type not in NOT_SHOWN}
    body = [row for row in rows if row.type != "InputLayer"]
    ends: list[tuple[str, str | None]] = []
    start = 0
    for stage in group_stages(rows, family):  # consecutive runs of the layers, in model order
        members, start = body[start: start + stage["layers"]], start + stage["layers"]
        last = next((row.name for row in reversed(members) if row.name in four_d), None)
        if stage["name"] not in SKIPPED_STAGES and last is not None and all(last != name for name, _ in ends):
            ends.append((last, stage["name"]))
    chosen: list[tuple[str, str | None]] = []
    first = first_convolution(model)
    if any(layer.name == first for layer in model.layers):  # a nested model's layer has no output of the model's
        activated = _activated(model, first, inbound_names(model))
        if activated in four_d and all(activated != name for name, _ in ends):
            chosen.append((activated, None))
    order = {row.name: index for index, row in enumerate(rows)}
    return sorted(chosen + ends, key=lambda entry: order[entry[0]])


def _is_map(shape) -> bool:
    return bool(shape) and not isinstance(shape[0], list) and len(shape) == 4


def _activated(model, name: str, inbound: Mapping[str, list[str]]) -> str:
    """The first convolution's output once activated: the conv itself where its ReLU is inside, else
    the end of the batch normalisation and activation that follow it alone (at most three layers)."""
    if relu_state(model, name, inbound)[0]:
        return name
    current = name
    for _ in range(3):
        consumers = [layer for layer, sources in inbound.items() if current in sources]
        if len(consumers) != 1:
            break
        following = model.get_layer(consumers[0])
        kind = type(following).__name__
        if kind in NORMALISERS:
            current = following.name
            continue
        if kind in ("Activation", "ReLU", "LeakyReLU", "ELU", "PReLU"):
            return following.name
        break
    return current


def relu_state(model, name: str, inbound: Mapping[str, list[str]]) -> tuple[bool, str]:
    """Whether the named layer's output is after a ReLU, and what the map says about it:
    "block1_conv1 (ReLU inside)", "conv1_relu", "stem_activation (ReLU6)", "block1_pool (after
    block1_conv2's ReLU)", "conv2_block1_add (no ReLU)", "block1a_activation (swish)"."""
    source, said = _relu(model, name, inbound)
    return source is not None, said


def _relu(model, name: str, inbound: Mapping[str, list[str]]) -> tuple[str | None, str]:
    """(the ReLU the values come from, as a later layer names it, or None; what the map says)."""
    layer = model.get_layer(name)
    kind = type(layer).__name__
    function = _function(layer)
    if kind == "ReLU":
        if float(getattr(layer, "negative_slope", 0.0) or 0.0) != 0.0:
            return None, f"{name} (leaky ReLU)"
        relu = "ReLU6" if getattr(layer, "max_value", None) == 6 else "ReLU"
        return _activation_layer(name, relu)
    if kind == "Activation":
        if function in RELU_FUNCTIONS:
            return _activation_layer(name, RELU_FUNCTIONS[function])
        return None, f"{name} ({function})"
    if function in RELU_FUNCTIONS:
        return f"{name}'s {RELU_FUNCTIONS[function]}", f"{name} ({RELU_FUNCTIONS[function]} inside)"
    sources = inbound.get(name, [])
    if kind in MOVERS and len(sources) == 1:
        source, _ = _relu(model, sources[0], inbound)
        if source is not None:
            return source, f"{name} (after {source})"
    if kind == "Concatenate" and sources and all(_relu(model, source, inbound)[0] for source in sources):
        return f"the ReLUs before {name}", f"{name} (its inputs after a ReLU)"
    if function and function != "linear":
        return None, f"{name} ({function})"
    return None, f"{name} (no ReLU)"


def _activation_layer(name: str, relu: str) -> tuple[str, str]:
    """An activation layer as a map names it: by its name where that says which ReLU, else with the ReLU said."""
    said = name if relu.lower() in name.lower() else f"{name} ({relu})"
    return (name if said == name else f"{name}'s {relu}"), said


def _function(layer) -> str | None:
    activation = getattr(layer, "activation", None)
    if activation is None:
        return None
    return getattr(activation, "__name__", None) or str(activation)


def feature_maps(model, batch: np.ndarray, layers: Sequence[tuple[str, str | None]], *, top: int,
                 fields: Mapping[str, ReceptiveField] | None, all_channels: bool = False,
                 ) -> tuple[list[FeatureMap], list[np.ndarray]]:
    """The photo's feature maps at the named layers, from one forward pass.

    Args:
        model: a Keras model (functional or Sequential; its own layers, not a nested model's).
        batch: the preprocessed photo, (1, H, W, C) float32 (the first image of a larger batch is used).
        layers: `(layer name, stage name or None)`, as `default_layers` gives them; a name twice is shown once.
        top: how many channels each map shows: the most active (largest mean activation) first.
        fields: receptive fields by layer name (`receptive.receptive_fields`); a layer missing: None.
        all_channels: every channel of each layer, most active first, not only the `top`.

    Returns:
        One `FeatureMap` per layer, and its array (H, W, channels shown) float32, channels in the
        map's `channels` order.

    Raises:
        InvalidInputError: a name that is not one of the model's layers with a 4-D output (key
            "unknown_layer", with a few that are).
    """
    import keras

    candidates = map_layers(model)
    known = set(candidates)
    asked: list[tuple[str, str | None]] = []
    for name, stage in layers:
        if name not in known:
            raise unknown_layer_error(model, name, candidates, "a layer with a feature map (a 4-D output)")
        if all(name != seen for seen, _ in asked):
            asked.append((name, stage))
    extractor = _extractor(model, [name for name, _ in asked])
    outputs = extractor(np.asarray(batch[:1], dtype=np.float32), training=False)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    inbound = inbound_names(model)
    maps: list[FeatureMap] = []
    arrays: list[np.ndarray] = []
    for (name, stage), output in zip(asked, outputs):
        values = np.asarray(keras.ops.convert_to_numpy(output), dtype=np.float32)[0]
        means = values.mean(axis=(0, 1), dtype=np.float64)
        order = np.argsort(-means, kind="stable")
        shown = order if all_channels else order[: max(1, int(top))]
        after, activation = relu_state(model, name, inbound)
        maps.append({"layer": name, "stage": stage, "output_shape": [int(dim) for dim in values.shape],
                     "after_relu": after, "activation": activation, "channels": [int(c) for c in shown],
                     "means": [float(f"{means[c]:.6g}") for c in shown],
                     "receptive_field": (fields or {}).get(name)})
        arrays.append(np.ascontiguousarray(values[..., shown], dtype=np.float32))
    return maps, arrays


def _extractor(model, names: list[str]):
    """One model from the input to every named layer's output: one forward pass gives them all."""
    import keras

    return keras.Model(model.inputs[0], [model.get_layer(name).output for name in names])
