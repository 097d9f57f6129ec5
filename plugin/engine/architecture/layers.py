"""One row of facts per layer of a built Keras model, like `model.summary()` but as data.

Each row has the layer's name, type, output shape, parameters, multiply-accumulates, whether
it trains, its activation, its kernel (for convolutions and dense layers) and the layers it
takes input from (summary's "Connected to"), and, where the caller computed them
(`plugin.engine.architecture.receptive`), its receptive field. Nested models are one row, or,
expanded, one row per inner layer with the nested model's name as `parent`.
"""

from __future__ import annotations

import dataclasses
from typing import cast

from plugin.engine.architecture.macs import is_nested_model, layer_macs
from plugin.engine.results import LayerRow, ReceptiveField

__all__ = ["LayerFacts", "layer_facts", "inbound_names", "weight_count"]

CONV_KINDS = ("Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D",
              "SeparableConv2D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")


@dataclasses.dataclass(frozen=True)
class LayerFacts:
    """Facts about one layer (see the module docstring)."""

    name: str
    type: str
    output_shape: list | None
    params: int
    trainable_params: int
    macs: int
    trainable: bool
    activation: str | None
    kernel: str | None
    inbound: list[str]
    parent: str | None = None
    receptive_field: ReceptiveField | None = None

    def row(self) -> LayerRow:
        """The `layers` row of `describe_architecture`."""
        record = dataclasses.asdict(self)
        if record["parent"] is None:
            del record["parent"]
        return cast(LayerRow, record)


def _output_shape(layer) -> list | None:
    try:
        output = layer.output
    except (AttributeError, ValueError):
        return None
    if isinstance(output, (list, tuple)):
        return [list(t.shape) for t in output]
    return list(output.shape)


def _activation(layer) -> str | None:
    kind = type(layer).__name__
    if kind in ("ReLU", "Softmax", "LeakyReLU", "ELU", "PReLU"):
        return kind.lower()
    activation = getattr(layer, "activation", None)
    if activation is None:
        return None
    name = getattr(activation, "__name__", None) or getattr(activation, "name", None) or str(activation)
    return None if name == "linear" and kind not in ("Activation",) else name


def _kernel(layer) -> str | None:
    """The layer's kernel in the papers' notation: "3x3/2, 64", "3x3 depthwise", "fc, 4096"."""
    kind = type(layer).__name__
    if is_nested_model(layer):
        inner = [text for text in (_kernel(sub) for sub in layer.layers) if text]
        return ", ".join(inner) or None
    if kind in CONV_KINDS:
        size = "x".join(str(k) for k in getattr(layer, "kernel_size", ()))
        strides = getattr(layer, "strides", (1,))
        stride = f"/{strides[0]}" if strides and strides[0] != 1 else ""
        groups = getattr(layer, "groups", 1) or 1
        if kind.startswith("Depthwise") or (groups > 1 and groups == getattr(layer, "filters", 0)):
            return f"{size}{stride} depthwise"
        if kind.startswith("Separable"):
            return f"{size}{stride} separable, {layer.filters}"
        return f"{size}{stride}, {layer.filters}" + (f", {groups} groups" if groups > 1 else "")
    if kind == "Dense":
        return f"fc, {layer.units}"
    if kind in ("MaxPooling2D", "AveragePooling2D", "MaxPooling1D", "AveragePooling1D"):
        size = "x".join(str(k) for k in layer.pool_size)
        return f"{size}/{layer.strides[0]} {'max' if kind.startswith('Max') else 'avg'} pool"
    if kind in ("GlobalAveragePooling2D", "GlobalAveragePooling1D"):
        return "global avg pool"
    if kind in ("GlobalMaxPooling2D", "GlobalMaxPooling1D"):
        return "global max pool"
    if kind == "Flatten":
        return "flatten"
    return None


def inbound_names(model) -> dict[str, list[str]]:
    """For each layer of `model`, the names of the layers it takes input from ("Connected to").

    Keras keeps the graph in private attributes (`_inbound_nodes`, `_keras_history`); its public
    form is the model's configuration, whose `inbound_nodes` name each input's source layer in a
    `keras_history`. A Sequential model's configuration has no graph: each layer takes the one before.
    """
    config = model.get_config() if hasattr(model, "get_config") else {}
    entries = config.get("layers", []) if isinstance(config, dict) else []
    if entries and not any("inbound_nodes" in entry for entry in entries):
        previous: list[str] = []
        found = {}
        for layer in model.layers:
            found[layer.name] = previous
            previous = [layer.name]
        return found
    found = {}
    for entry in entries:
        names: list[str] = []
        _histories(entry.get("inbound_nodes", []), names)
        found[entry.get("name") or entry.get("config", {}).get("name")] = names
    return found


def _histories(node, names: list[str]) -> None:
    if isinstance(node, dict):
        history = node.get("keras_history") if node.get("keras_history") else None
        if history is None and isinstance(node.get("config"), dict):
            history = node["config"].get("keras_history")
        if history:
            if history[0] not in names:
                names.append(history[0])
            return
        for value in node.values():
            _histories(value, names)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _histories(value, names)


def weight_count(variable) -> int:
    """Number of values in a weight variable."""
    size = 1
    for dim in variable.shape:
        size *= int(dim)
    return size


def _facts(layer, parent: str | None, inbound: list[str], field: ReceptiveField | None) -> LayerFacts:
    return LayerFacts(
        name=layer.name,
        type=type(layer).__name__,
        output_shape=_output_shape(layer),
        params=int(layer.count_params()) if layer.built else 0,
        trainable_params=int(sum(weight_count(w) for w in layer.trainable_weights)),
        macs=int(layer_macs(layer)),
        trainable=bool(layer.trainable),
        activation=_activation(layer),
        kernel=_kernel(layer),
        inbound=inbound,
        parent=parent,
        receptive_field=field,
    )


def layer_facts(model, *, expand_nested: bool = False,
                fields: dict[str, ReceptiveField] | None = None) -> list[LayerFacts]:
    """Facts for every layer of `model`, in order; nested models expanded when asked.

    Args:
        model: a built Keras model.
        expand_nested: one row per layer of each nested model, not one for the whole.
        fields: `receptive_fields(model)`, to give each row its receptive field (None: none).
    """
    rows: list[LayerFacts] = []
    fields = fields or {}

    def walk(container, parent: str | None) -> None:
        inbound = inbound_names(container)
        for layer in container.layers:
            if expand_nested and is_nested_model(layer):
                walk(layer, layer.name if parent is None else f"{parent}/{layer.name}")
            else:
                key = layer.name if parent is None else f"{parent}/{layer.name}"
                rows.append(_facts(layer, parent, inbound.get(layer.name, []), fields.get(key)))

    walk(model, None)
    return rows
