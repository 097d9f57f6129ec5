"""Which layer's feature map a CAM method explains, and why.

By default the registry's choice where it names one, else the last layer whose output still has
height and width (pooling, padding and dropout skipped): the last feature map, where the class
evidence is most semantic and still has a place. `layer=` asks for another by name; a name that
is not a feature-map layer is refused with the candidates nearest to it.
"""

from __future__ import annotations

import difflib
from typing import Any

from plugin.errors import InvalidInputError

__all__ = ["last_conv_layer", "feature_layers", "choose_layer", "LAYER_REASONS"]

LAYER_REASONS = ("registry", "last_feature_map", "asked")
"""Why a layer was used: the registry names it, it is the model's last feature map, or the caller asked."""

_SKIPPED = ("MaxPooling2D", "AveragePooling2D", "ZeroPadding2D", "Dropout", "SpatialDropout2D", "Cropping2D")


def feature_layers(model: Any) -> list[str]:
    """The names of the layers whose output is a feature map (batch, height, width, channels) with
    more than one cell, in network order."""
    names = []
    for layer in model.layers:
        try:
            shape = tuple(layer.output.shape)
        except (AttributeError, ValueError):
            continue
        if len(shape) == 4 and (shape[1] or 2) > 1 and (shape[2] or 2) > 1 and type(layer).__name__ != "InputLayer":
            names.append(layer.name)
    return names


def last_conv_layer(model: Any) -> str:
    """The name of the last layer whose output is a feature map (batch, height, width, channels)."""
    by_name = {layer.name: layer for layer in model.layers}
    for name in reversed(feature_layers(model)):
        if type(by_name[name]).__name__ not in _SKIPPED:
            return name
    raise InvalidInputError(f"Expected a convolutional model with a feature map to explain. Received: {model.name}, "
                            "whose layers have no output with height and width.", key="explain_no_feature_map")


def choose_layer(model: Any, asked: str | None, registry_layer: str | None) -> tuple[str, str]:
    """The layer to explain and why (one of `LAYER_REASONS`)."""
    if asked is None:
        if registry_layer:
            return registry_layer, "registry"
        return last_conv_layer(model), "last_feature_map"
    candidates = feature_layers(model)
    if isinstance(asked, str) and asked in candidates:
        return asked, "asked"
    received = str(asked)[:60]
    nearest = difflib.get_close_matches(received, candidates, n=5, cutoff=0.4) or candidates[-5:]
    raise InvalidInputError(f"Expected layer to be one of the model's feature-map layers, such as {nearest}. "
                            f"Received: layer={received!r}", key="explain_layer", value=received,
                            candidates=", ".join(nearest))
