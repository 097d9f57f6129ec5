"""Receptive fields: which input pixels one output cell of each layer can see, walked through a Keras
model's graph from its input, as Araujo, Norris and Sim compute them ("Computing Receptive Fields
of Convolutional Neural Networks", Distill, 2019).

Along each axis a layer's field is three integers: its `size` r (pixels), its effective `stride` j
(how far apart neighbouring cells' windows are, in input pixels) and the `left` edge u of cell 0's
window (negative where padding reaches outside the image). A layer with kernel k, stride s,
dilation d and p pixels of padding before the image turns its input's (r, j, u) into

    k' = d (k - 1) + 1          (the kernel's span)
    r  = r_in + (k' - 1) j_in
    j  = s j_in
    u  = u_in - p j_in

with p = 0 for "valid" and, for "same", TensorFlow's: the total padding max((ceil(n/s) - 1) s + k' - n, 0)
for an input n wide, the smaller half before (so a strided "same" layer on an even input pads more
after than before). Cell (0, 0)'s window is centred on input pixel u + (r - 1) / 2 (pixel i's
centre at i); cell c's on that plus c j.

The rules, a table by layer type: convolutions (plain, depthwise and separable: kernel, strides,
dilation, padding), max and average pooling (the same with the pool size), global pooling (the
whole extent: one cell), ZeroPadding2D and Cropping2D (move u), merges (Add, Concatenate, Multiply,
...: the union of their inputs' windows, which must step alike; the largest where they are centred
alike), and layers that keep the geometry (batch normalisation, activations, Rescaling,
Normalization, Dropout, ...; any other layer whose output has its input's height and width is taken
to work pixel by pixel too). A layer that upsamples (UpSampling2D, Conv2DTranspose) has no integer
stride: it and what follows get no field.

The window is a box, as Distill's: it counts every input position between its edges, padding
included. So it is exact where the kernels leave no holes (a dilated kernel no wider apart than the
field it reads), and at the image's border, where a dilated kernel's outer tap falls on the padding
of a map inside the network, a cell may be said to see a few image pixels it skips (the padding
cell's box reaches into the image); it never leaves out one that counts.

A squeeze-and-excitation block multiplies each cell by channel weights made from a global pool of
the whole feature map, so strictly every cell after it depends on every pixel; like Distill and the
papers, the field here follows the local path and leaves that broadcast factor out (a merge input
of 1 x 1 cells that is broadcast over a larger map does not widen the field).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

from plugin.engine.architecture.layers import inbound_names
from plugin.engine.architecture.macs import is_nested_model
from plugin.engine.results import ReceptiveAxis, ReceptiveField

__all__ = ["Axis", "receptive_fields", "RULES", "POINTWISE"]


@dataclasses.dataclass(frozen=True)
class Axis:
    """A receptive field along one axis: `size` pixels, cells `stride` pixels apart, cell 0's window
    starting at input pixel `left`."""

    size: int = 1
    stride: int = 1
    left: int = 0

    @property
    def centre(self) -> float:
        return self.left + (self.size - 1) / 2

    def window(self, span: int, stride: int, before: int) -> Axis:
        """Through a window `span` input cells wide (dilation included), `stride` apart, with
        `before` cells of padding in front."""
        return Axis(self.size + (span - 1) * self.stride, self.stride * stride, self.left - before * self.stride)

    def record(self) -> ReceptiveAxis:
        return {"size": self.size, "stride": self.stride, "start": self.centre}


Field = tuple[Axis, Axis]
"""(height, width)."""

_IDENTITY: Field = (Axis(), Axis())


@dataclasses.dataclass(frozen=True)
class Shapes:
    """The spatial sizes (height, width) a layer takes and gives; None where a shape has no height
    and width, a size None where the model leaves it open."""

    inputs: list[tuple[int | None, int | None] | None]
    output: tuple[int | None, int | None] | None


def _same_before(size: int | None, span: int, stride: int) -> int:
    """The padding "same" puts before the first cell (TensorFlow's rule: the smaller half)."""
    if size is None:  # an open size: as for one the stride divides
        return max(span - stride, 0) // 2
    total = max((math.ceil(size / stride) - 1) * stride + span - size, 0)
    return total // 2


def _sliding(kernel: Sequence[int], strides: Sequence[int], dilation: Sequence[int], padding: str,
             field: Field, size: tuple[int | None, int | None] | None) -> Field:
    axes = []
    for axis in range(2):
        span = dilation[axis] * (kernel[axis] - 1) + 1
        before = _same_before(size[axis] if size else None, span, strides[axis]) if padding == "same" else 0
        axes.append(field[axis].window(span, strides[axis], before))
    return axes[0], axes[1]


def _pair(value: Any) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _convolution(layer, fields: list[Field], shapes: Shapes) -> Field | None:
    return _sliding(_pair(layer.kernel_size), _pair(layer.strides), _pair(getattr(layer, "dilation_rate", 1)),
                    layer.padding, fields[0], shapes.inputs[0])


def _pooling(layer, fields: list[Field], shapes: Shapes) -> Field | None:
    pool = _pair(layer.pool_size)
    return _sliding(pool, _pair(layer.strides or pool), (1, 1), layer.padding, fields[0], shapes.inputs[0])


def _global_pooling(layer, fields: list[Field], shapes: Shapes) -> Field | None:
    size = shapes.inputs[0]
    if size is None or None in size:
        return None
    height, width = (int(n) for n in size)  # type: ignore[arg-type]  # checked above
    return _sliding((height, width), (height, width), (1, 1), "valid", fields[0], size)


def _zero_padding(layer, fields: list[Field], shapes: Shapes) -> Field | None:
    (top, _), (left, _) = layer.padding
    return (dataclasses.replace(fields[0][0], left=fields[0][0].left - top * fields[0][0].stride),
            dataclasses.replace(fields[0][1], left=fields[0][1].left - left * fields[0][1].stride))


def _cropping(layer, fields: list[Field], shapes: Shapes) -> Field | None:
    (top, _), (left, _) = layer.cropping
    return (dataclasses.replace(fields[0][0], left=fields[0][0].left + top * fields[0][0].stride),
            dataclasses.replace(fields[0][1], left=fields[0][1].left + left * fields[0][1].stride))


def _merge(layer, fields: list[Field], shapes: Shapes) -> Field | None:
    """The union of the inputs' windows; inputs of 1 x 1 cells broadcast over a larger map left out."""
    kept = [field for field, size in zip(fields, shapes.inputs)
            if not (size == (1, 1) and shapes.output not in (None, (1, 1)))] or fields
    axes = []
    for axis in range(2):
        steps = {field[axis].stride for field in kept}
        if len(steps) > 1:  # windows that step differently: no one grid
            return None
        left = min(field[axis].left for field in kept)
        right = max(field[axis].left + field[axis].size for field in kept)
        axes.append(Axis(right - left, steps.pop(), left))
    return axes[0], axes[1]


def _pointwise(layer, fields: list[Field], shapes: Shapes) -> Field | None:
    return fields[0]


def _upsampling(layer, fields: list[Field], shapes: Shapes) -> Field | None:
    return None


Rule = Callable[[Any, list[Field], Shapes], "Field | None"]

POINTWISE = ("InputLayer", "BatchNormalization", "LayerNormalization", "Activation", "ReLU", "LeakyReLU", "ELU", "PReLU",
             "Softmax", "Rescaling", "Normalization", "Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout",
             "Identity", "LayerScale")
"""Layer types that work cell by cell (at inference): the field passes through."""

RULES: dict[str, Rule] = {
    **{kind: _convolution for kind in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D")},
    **{kind: _pooling for kind in ("MaxPooling2D", "AveragePooling2D")},
    **{kind: _global_pooling for kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D")},
    "ZeroPadding2D": _zero_padding,
    "Cropping2D": _cropping,
    **{kind: _merge for kind in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate")},
    **{kind: _upsampling for kind in ("UpSampling2D", "Conv2DTranspose")},
    **{kind: _pointwise for kind in POINTWISE},
}
"""How each layer type changes the field it takes (a type not here: see `_other`)."""

_GLOBAL = ("GlobalAveragePooling2D", "GlobalMaxPooling2D")


def _spatial(shape: Any, data_format: str) -> tuple[int | None, int | None] | None:
    if shape is None or len(shape) != 4 or isinstance(shape[0], (list, tuple)):
        return None
    height, width = (shape[2], shape[3]) if data_format == "channels_first" else (shape[1], shape[2])
    return (None if height is None else int(height), None if width is None else int(width))


def _shapes(layer) -> Shapes:
    data_format = getattr(layer, "data_format", None) or "channels_last"
    try:
        made = layer.output
        given = made if type(layer).__name__ == "InputLayer" else layer.input
    except (AttributeError, ValueError):  # a layer used more than once has no one input or output
        return Shapes([], None)
    given = given if isinstance(given, (list, tuple)) else [given]
    return Shapes([_spatial(getattr(t, "shape", None), data_format) for t in given],
                  _spatial(getattr(made, "shape", None), data_format))


def _other(layer, fields: list[Field], shapes: Shapes) -> Field | None:
    """A layer of a type `RULES` does not name: cell by cell where it keeps its input's height and
    width (or turns a global pool's cell into a 1 x 1 map, as a squeeze-and-excitation reshape does)."""
    if len(fields) != 1:
        return None
    given = shapes.inputs[0] if shapes.inputs else None
    if (given is not None and given == shapes.output) or (given is None and shapes.output in (None, (1, 1))):
        return fields[0]
    return None


def _output_names(container) -> list[str]:
    if not hasattr(container, "get_config") or type(container).__name__ == "Sequential":
        return [container.layers[-1].name] if container.layers else []
    outputs = container.get_config().get("output_layers") or []
    if outputs and isinstance(outputs[0], str):  # one output: ["name", 0, 0]
        outputs = [outputs]
    return [entry[0] for entry in outputs]


def _operations(container) -> list:
    """The container's layers in graph order, with the operations a functional model applies to
    tensors between them (`x + y` is a `keras.ops` Add there, not a layer)."""
    if type(container).__name__ != "Sequential" and hasattr(container, "operations"):
        return list(container.operations)
    return list(container.layers)


def _walk(container, start: Field | None, prefix: str, found: dict[str, Field | None]) -> Field | None:
    """Fields of `container`'s layers (keys `prefix` + name) from `start` at its inputs; its output's field."""
    inbound = inbound_names(container)
    own: dict[str, Field | None] = {}
    for layer in _operations(container):
        sources = inbound.get(layer.name, [])
        given = [own.get(name) for name in sources] if sources else [start]
        shapes = _shapes(layer)
        if type(layer).__name__ == "InputLayer":
            field = start
        elif any(field is None for field in given) or not given:
            field = None
        elif is_nested_model(layer):
            inner = given[0] if len(given) == 1 else _merge(layer, given, shapes)  # type: ignore[arg-type]
            field = _walk(layer, inner, f"{prefix}{layer.name}/", found)
        else:
            rule = RULES.get(type(layer).__name__, _other)
            field = rule(layer, given, shapes)  # type: ignore[arg-type]  # None ruled out above
        own[layer.name] = field
        found[prefix + layer.name] = field if (shapes.output is not None or type(layer).__name__ in _GLOBAL) else None
    ends = [own.get(name) for name in _output_names(container)]
    if not ends or any(end is None for end in ends):
        return None
    return ends[0] if len(ends) == 1 else _merge(container, ends, Shapes([], None))  # type: ignore[arg-type]


def record(field: Field) -> ReceptiveField:
    """A field as results give it: `size`, `stride`, `start` (cell (0, 0)'s centre); `height` and
    `width` too where the axes differ, the three then of the axis with the larger window."""
    height, width = field
    larger = height if height.size >= width.size else width
    recorded: ReceptiveField = {"size": larger.size, "stride": larger.stride, "start": larger.centre}
    if height != width:
        recorded["height"], recorded["width"] = height.record(), width.record()
    return recorded


def receptive_fields(model) -> dict[str, ReceptiveField]:
    """The receptive field in `model`'s input of every layer whose output has a height and width
    (and of each global pool: one cell that sees it all), by layer name; a nested model's layers as
    "outer/inner". Layers left out: those without height and width, and those no field reaches
    (after an upsampling layer, or a merge whose inputs step differently).

    Args:
        model: a built Keras model (functional, Sequential, nested models included) on
            channels-last or channels-first images.

    Returns:
        `{name: {"size", "stride", "start"}}` (see `ReceptiveField`), sizes and starts in pixels of
        the model's input.
    """
    found: dict[str, Field | None] = {}
    _walk(model, _IDENTITY, "", found)
    return {name: record(field) for name, field in found.items() if field is not None}
