"""Multiply-accumulate counts (MACs) of Keras layers, for one image.

Counted, as the papers count "multiply-adds" (FLOPs = 2 x MACs):

    Conv1D/2D/3D        output positions x kernel height x width x (input channels / groups) x filters
    DepthwiseConv1D/2D  output positions x kernel height x width x input channels x depth multiplier
    SeparableConv1D/2D  its depthwise part plus its 1x1 pointwise part
    Conv2DTranspose     input positions x kernel height x width x input channels x filters
    Dense               (positions it is applied at) x input features x units

Not counted (0): batch and layer normalisation (folded into the preceding convolution at
inference), activations, pooling, element-wise adds, multiplies and concatenations, reshapes,
dropout. These are cheap next to convolutions and the papers leave them out too; bias additions
are left out for the same reason. Nested models are counted layer by layer.
"""

from __future__ import annotations

import math

__all__ = ["layer_macs", "is_nested_model"]


def is_nested_model(layer) -> bool:
    """Whether a layer is itself a model (a Sequential or functional block used as one layer)."""
    return hasattr(layer, "layers") and hasattr(layer, "inputs")


def _shape(tensor) -> tuple:
    return tuple(tensor.shape)


def _positions(shape: tuple) -> int:
    """Spatial positions of a (batch, ..., channels) shape: the product of the middle dimensions."""
    return math.prod(int(d) for d in shape[1:-1] if d is not None)


def layer_macs(layer) -> int:
    """Multiply-accumulates of one layer for one input image (0 for layers that are not counted)."""
    kind = type(layer).__name__
    if is_nested_model(layer):
        return sum(layer_macs(inner) for inner in layer.layers)
    if kind in ("SeparableConv1D", "SeparableConv2D"):
        depthwise = math.prod(layer.depthwise_kernel.shape)
        pointwise = math.prod(layer.pointwise_kernel.shape)
        return _positions(_shape(layer.output)) * (depthwise + pointwise)
    if kind in ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"):
        return _positions(_shape(layer.input)) * math.prod(layer.kernel.shape)
    if kind in ("Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D", "Dense"):
        return _positions(_shape(layer.output)) * math.prod(layer.kernel.shape)
    return 0
