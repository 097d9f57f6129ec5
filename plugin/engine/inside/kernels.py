"""The filters view: a convolution's kernels as arrays to draw, one tile per output channel.

The first convolution's kernels are what the book draws as colour tiles (VGG16 `block1_conv1`: 64
of 3x3x3; ResNet50 `conv1_conv`: 64 of 7x7x3; EfficientNet-Lite0's `stem_conv`: 32 of 3x3x3),
scaled symmetrically around zero; a deeper layer's, a chosen few with each input channel's slice.
A depthwise convolution has one spatial kernel per input channel (times its multiplier) and is
given as what it is: one single-channel kernel per output channel.

Also here, for the other views: finding a layer by name (nested models searched) and the error
that names a few layers that would do.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence

import numpy as np

from plugin.engine.architecture.macs import is_nested_model
from plugin.engine.results import KernelView
from plugin.errors import InvalidInputError

__all__ = ["FIRST_LAYER_TILES", "first_convolution", "kernel_view", "find_layer", "is_convolution",
           "unknown_layer_error"]

FIRST_LAYER_TILES = 64
"""The most output channels the first layer's view shows (all of them up to this many, the first ones beyond)."""

def is_convolution(layer) -> bool:
    """Whether a layer is a 2-D convolution whose kernels the filters view draws (Conv2D, DepthwiseConv2D)."""
    import keras

    return isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D))


def _layers(container) -> list:
    """Every layer of `container`, nested models' layers in their place (after the nested model)."""
    found = []
    for layer in container.layers:
        found.append(layer)
        if is_nested_model(layer):
            found.extend(_layers(layer))
    return found


def find_layer(model, name: str, *, accept: Callable[[object], bool] = lambda layer: True, what: str = "a layer"):
    """The layer of `model` named `name` (nested models searched) that `accept`s, or an
    `InvalidInputError` (key "unknown_layer") naming a few of those that would."""
    for layer in _layers(model):
        if layer.name == name and accept(layer):
            return layer
    raise unknown_layer_error(model, name, [layer.name for layer in _layers(model) if accept(layer)], what)


def unknown_layer_error(model, name: object, candidates: Sequence[str], what: str) -> InvalidInputError:
    """The error for a layer name the model lacks (or whose layer will not do): up to five of the
    `candidates`, the names nearest the one given or else a spread of them, in model order."""
    text = str(name)[:80]
    near = set(difflib.get_close_matches(text, candidates, n=5, cutoff=0.5))
    if near:
        choices = [candidate for candidate in candidates if candidate in near]
    else:
        step = max(1, len(candidates) // 5)
        choices = list(candidates[::step][:5])
    return InvalidInputError(f"Expected {what} of {getattr(model, 'name', 'the model')}, such as {choices}. "
                             f"Received: layer={text!r}", key="unknown_layer", layer=text, choices=", ".join(choices))


def first_convolution(model) -> str:
    """The name of the model's first Conv2D or DepthwiseConv2D, in layer order, nested models searched."""
    for layer in _layers(model):
        if is_convolution(layer):
            return layer.name
    raise InvalidInputError(f"Expected a model with a 2-D convolution (Conv2D, DepthwiseConv2D). "
                            f"Received: {getattr(model, 'name', 'a model')} with none", key="no_convolution",
                            model=str(getattr(model, "name", ""))[:80])


def kernel_view(model, layer: str, shown: int | Sequence[int] | None = None) -> tuple[KernelView, np.ndarray]:
    """A convolution's kernels for the output channels shown.

    Args:
        model: a Keras model.
        layer: the name of a Conv2D or DepthwiseConv2D layer (nested models searched).
        shown: None for every output channel up to `FIRST_LAYER_TILES` (the first ones beyond,
            as the first layer's view draws them); a number `k` for the `k` output channels whose
            kernels have the largest L2 norm (the filters that weigh most; a filter the training
            left near zero shows nothing), in channel order; or the output channels themselves.

    Returns:
        The `KernelView` and the kernels as a float32 array (kh, kw, in, shown). A depthwise
        convolution's output channel `c * multiplier + m` has one spatial kernel, on input channel
        `c`: its array is (kh, kw, 1, shown) and `KernelView.shape` (kh, kw, channels, multiplier).
        `scale` is the largest |weight| among the kernels shown: drawn from -scale to +scale, zero
        in the middle, as the book draws them.
    """
    import keras
    from keras import ops

    found = find_layer(model, layer, accept=is_convolution, what="a convolution (Conv2D, DepthwiseConv2D)")
    depthwise = isinstance(found, keras.layers.DepthwiseConv2D)
    weights = np.asarray(ops.convert_to_numpy(found.kernel), dtype=np.float32)
    kh, kw, inputs, outputs = weights.shape
    # one kernel per output channel: (kh, kw, in, out); a depthwise one's output c * multiplier + m is (c, m)
    per_output = weights.reshape(kh, kw, 1, inputs * outputs) if depthwise else weights
    total = per_output.shape[-1]
    channels = _chosen(per_output, shown)
    bad = [channel for channel in channels if not 0 <= channel < total]
    if bad:
        raise InvalidInputError(f"Expected output channels of {layer} from 0 to {total - 1}. Received: {bad[:5]}")
    kernels = np.ascontiguousarray(per_output[..., channels], dtype=np.float32)
    view: KernelView = {"layer": found.name, "kind": "depthwise" if depthwise else "conv",
                        "shape": [int(dim) for dim in weights.shape], "shown": channels,
                        "scale": float(np.abs(kernels).max()) if kernels.size else 0.0}
    return view, kernels


def _chosen(kernels: np.ndarray, shown: int | Sequence[int] | None) -> list[int]:
    total = kernels.shape[-1]
    if shown is None:
        return list(range(min(total, FIRST_LAYER_TILES)))
    if isinstance(shown, (int, np.integer)):
        norms = np.sqrt((kernels.astype(np.float64) ** 2).reshape(-1, total).sum(axis=0))
        strongest = np.argsort(-norms, kind="stable")[: max(0, int(shown))]
        return sorted(int(channel) for channel in strongest)
    return [int(channel) for channel in shown]
