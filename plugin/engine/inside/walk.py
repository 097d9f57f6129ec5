"""One output value of the first convolution, walked through with its real numbers (CNN Explainer's
formula view).

    patch (kh x kw x in of the preprocessed photo, zeros where padding reaches outside it)
      x kernel slice of the channel  ->  products  ->  sum  + bias  = conv
      -> batch normalisation  (x - mean) / sqrt(var + eps) * gamma + beta
      -> activation           ReLU, ReLU6 or swish, as the model names it
      -> max pool             the window of the model's own activations around the cell, its max

The first convolution is `kernels.first_convolution`'s (the layer the filters view draws): a Conv2D,
whose patch spans every input channel of its group, or a DepthwiseConv2D, whose patch is one input
channel; inside a nested model, walked there on the input the outer model gives it. Each step after
the convolution is read from the graph (the layers that take the convolution's
output, one after another), not assumed. The walk ends at the number the model computes: one pass
of a `keras.Model` with every intermediate output gives each step's own value beside the walk's.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from plugin.engine.architecture.layers import inbound_names
from plugin.engine.architecture.macs import is_nested_model
from plugin.engine.inside.kernels import first_convolution
from plugin.engine.results import PatchWalk
from plugin.errors import InvalidInputError

__all__ = ["walk_patch"]

_DECIMALS = 8
"""Decimals of the walk's single numbers (sum, bias, each step's input, value and the model's)."""
_ROUNDED = ("input", "value", "model_value")
_BN_FORMULA = "(x − μ) / √(σ² + ε) · γ + β"
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def walk_patch(model, batch: np.ndarray, cell: Sequence[int] | None = None, channel: int | None = None) -> PatchWalk:
    """Trace one output value of `model`'s first convolution back to its input window.

    Args:
        model: a Keras functional model.
        batch: the preprocessed batch (the model's input); its first image is walked.
        cell: the (row, column) of the convolution's output; default the most active cell of
            `channel` after the activation the model applies.
        channel: the output channel; default the most active (by mean activation after the
            activation).

    Returns:
        The `PatchWalk`: the patch, kernel slice, products, sum, bias and conv value, then each
        step the model applies (batch norm, activation, max pool), ending at `value`, beside
        `model_value` read from the model's own output of the last step's layer.
    """
    import keras

    name = first_convolution(model)
    model, batch = _container(model, name, batch[:1])
    conv = model.get_layer(name)
    if conv.data_format != "channels_last":
        raise InvalidInputError(f"Expected the first convolution to take channels last. Received: {conv.data_format}",
                                key="inside_channels_first", layer=conv.name)
    graph = inbound_names(model)
    padding_before, source = _input_offset(model, conv, graph)
    chain = _following(model, conv, graph)
    wanted = [conv.name] + [step.layer.name for step in chain if step.layer.name != conv.name]
    if source is not None:
        wanted.append(source)
    probe = keras.Model(model.inputs, [model.get_layer(name).output for name in wanted])
    outputs = dict(zip(wanted, (np.asarray(out) for out in _as_list(probe([batch], training=False)))))
    image = np.asarray(outputs[source] if source is not None else batch)[0].astype(np.float64)

    reference = conv.name  # the output the default cell is chosen on: after the activation, before the pool
    for step in chain:
        if step.kind != "max_pool":
            reference = step.layer.name
    channel, cell = _choose(outputs[reference][0], channel, cell)
    row, column = cell

    inputs, kernel = _slices(conv, channel)
    kh, kw = kernel.shape[:2]
    stride_h, stride_w = conv.strides
    dilation_h, dilation_w = conv.dilation_rate
    pad_top, pad_left = _padding_before(conv, image.shape[:2])
    rows = [row * stride_h - pad_top - padding_before[0] + i * dilation_h for i in range(kh)]
    columns = [column * stride_w - pad_left - padding_before[1] + j * dilation_w for j in range(kw)]
    patch = _window(image[..., inputs], rows, columns)
    products = patch * kernel
    total = float(products.sum())
    bias = float(np.asarray(conv.bias)[channel]) if conv.use_bias else 0.0
    value = total + bias

    steps: list[dict[str, Any]] = []
    for step in chain:
        said = _STEPS[step.kind](step, value, outputs, (row, column), channel)
        value = said["value"]  # the next step takes the full number; the result says it to `_DECIMALS`
        steps.append({key: round(number, _DECIMALS) if key in _ROUNDED else number for key, number in said.items()})
    last = chain[-1].layer.name if chain else conv.name
    model_value = _model_value(outputs, last, steps, (row, column), channel)
    return {
        "layer": conv.name, "channel": int(channel), "cell": [int(row), int(column)],
        "patch": _rounded(patch), "kernel": _rounded(kernel), "products": _rounded(products),
        "sum": round(total, _DECIMALS), "bias": round(bias, _DECIMALS), "conv": round(total + bias, _DECIMALS),
        "steps": steps, "value": round(value, _DECIMALS), "model_value": round(model_value, _DECIMALS),
        "model_layer": last, "difference": abs(value - model_value),
    }


# ----- the graph ------------------------------------------------------------------------------

def _container(model, name: str, batch: np.ndarray) -> tuple[Any, np.ndarray]:
    """The model whose own layer `name` is (`model`, or a model nested in it) and its input for
    `batch`, read from the outer model where the layer is nested."""
    import keras

    if any(layer.name == name for layer in model.layers):
        return model, batch
    for layer in model.layers:
        if is_nested_model(layer) and _holds(layer, name):
            inner = keras.Model(model.inputs, layer.input)([batch], training=False)
            return _container(layer, name, np.asarray(inner))
    raise InvalidInputError(f"Expected the layer {name!r} in the model. Received: a model without it")


def _holds(model, name: str) -> bool:
    return any(layer.name == name or (is_nested_model(layer) and _holds(layer, name)) for layer in model.layers)


def _consumers(graph: dict[str, list[str]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, sources in graph.items():
        for source in sources:
            found.setdefault(source, []).append(name)
    return found


def _input_offset(model, conv, graph: dict[str, list[str]]) -> tuple[tuple[int, int], str | None]:
    """The zero padding added before `conv` by ZeroPadding2D layers between the model's input and
    it ((top, left)), and None; or, where other layers lie between (a rescaling inside the model),
    (0, 0) and the name of the layer whose output `conv` takes, read from the model instead."""
    import keras

    top = left = 0
    sources = graph.get(conv.name, [])
    if not sources:  # a Sequential model's first layer: its input is the model's
        return (0, 0), None
    name = sources[0] if len(sources) == 1 else None
    while name is not None:
        layer = model.get_layer(name)
        if isinstance(layer, keras.layers.InputLayer):
            return (top, left), None
        if not isinstance(layer, keras.layers.ZeroPadding2D):
            break
        (pad_top, _), (pad_left, _) = layer.padding
        top, left = top + pad_top, left + pad_left
        sources = graph.get(name, [])
        name = sources[0] if len(sources) == 1 else None
    sources = graph.get(conv.name, [])
    if len(sources) != 1:
        raise InvalidInputError(f"Expected the first convolution to take one input. Received: {sources}")
    return (0, 0), sources[0]


def _step_kind(layer) -> str | None:
    import keras

    if isinstance(layer, keras.layers.BatchNormalization):
        return "batch_norm"
    if isinstance(layer, (keras.layers.Activation, keras.layers.ReLU, keras.layers.LeakyReLU)):
        return "activation"
    if isinstance(layer, keras.layers.MaxPooling2D):
        return "max_pool"
    return None


@dataclasses.dataclass(frozen=True)
class _Step:
    """One step after the convolution: its layer and kind, the layer whose output it takes
    (`source`), and the zeros a ZeroPadding2D between them adds before it (top, left)."""

    layer: Any
    kind: str
    source: str
    padding: tuple[int, int] = (0, 0)


def _following(model, conv, graph: dict[str, list[str]]) -> list[_Step]:
    """The steps applied to `conv`'s output, in order: its own activation where it has one, then
    each layer that alone takes the previous one's output while it is a batch normalisation, an
    activation, or a max pool (perhaps after a ZeroPadding2D), stopping after the pool."""
    import keras

    consumers = _consumers(graph)
    chain: list[_Step] = []
    if _activation_name(conv) not in ("linear", None):
        chain.append(_Step(conv, "activation", conv.name))
    name = conv.name
    while True:
        after = consumers.get(name, [])
        if len(after) != 1:
            return chain
        layer = model.get_layer(after[0])
        if isinstance(layer, keras.layers.ZeroPadding2D):
            following = consumers.get(layer.name, [])
            if len(following) == 1 and _step_kind(model.get_layer(following[0])) == "max_pool":
                (top, _), (left, _) = layer.padding
                chain.append(_Step(model.get_layer(following[0]), "max_pool", name, (top, left)))
            return chain
        kind = _step_kind(layer)
        if kind is None:
            return chain
        chain.append(_Step(layer, kind, name))
        if kind == "max_pool":
            return chain
        name = layer.name


# ----- the convolution ------------------------------------------------------------------------

def _as_list(outputs) -> list:
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _choose(reference: np.ndarray, channel: int | None, cell: Sequence[int] | None) -> tuple[int, tuple[int, int]]:
    """The channel (most active by mean where not given) and cell (its most active where not given)."""
    height, width, channels = reference.shape
    if channel is None:
        channel = int(np.argmax(reference.mean(axis=(0, 1))))
    elif not 0 <= int(channel) < channels:
        raise InvalidInputError(f"Expected a channel of the first convolution in 0..{channels - 1}. Received: channel={channel}",
                                key="inside_channel", value=channel, last=channels - 1)
    channel = int(channel)
    if cell is None:
        found = np.unravel_index(int(np.argmax(reference[..., channel])), (height, width))
        return channel, (int(found[0]), int(found[1]))
    if len(cell) != 2 or not (0 <= int(cell[0]) < height and 0 <= int(cell[1]) < width):
        raise InvalidInputError(f"Expected a cell (row, column) of the first convolution's {height} x {width} output. "
                                f"Received: cell={list(cell)[:4]}", key="inside_cell", value=str(list(cell)[:4]),
                                height=height, width=width)
    return channel, (int(cell[0]), int(cell[1]))


def _slices(conv, channel: int) -> tuple[slice, np.ndarray]:
    """The input channels output `channel` of `conv` reads, and its kernel over them (kh, kw, in):
    all the inputs (of its group) for a Conv2D, one for a DepthwiseConv2D (`channel` // multiplier)."""
    import keras

    kernel = np.asarray(conv.kernel, dtype=np.float64)
    if isinstance(conv, keras.layers.DepthwiseConv2D):
        source, multiple = divmod(channel, kernel.shape[3])
        return slice(source, source + 1), kernel[:, :, source:source + 1, multiple]
    per_group, filters = kernel.shape[2], kernel.shape[3]
    group = channel // (filters // conv.groups)
    return slice(group * per_group, (group + 1) * per_group), kernel[..., channel]


def _padding_before(layer, size: tuple[int, int]) -> tuple[int, int]:
    """The zeros "same" padding puts before the input (top, left), as TensorFlow pads: the total
    that keeps ceil(size / stride) outputs, the smaller half before (asymmetric for stride 2)."""
    if layer.padding != "same":
        return 0, 0
    kernel = layer.kernel_size if hasattr(layer, "kernel_size") else layer.pool_size
    dilation = getattr(layer, "dilation_rate", (1, 1))
    before = []
    for extent, k, s, d in zip(size, kernel, layer.strides, dilation):
        reach = (k - 1) * d + 1
        total = max((math.ceil(extent / s) - 1) * s + reach - extent, 0)
        before.append(total // 2)
    return before[0], before[1]


def _window(image: np.ndarray, rows: list[int], columns: list[int], outside: float = 0.0) -> np.ndarray:
    """The values of `image` (H, W, C) at `rows` x `columns`; `outside` where they lie off it."""
    height, width = image.shape[:2]
    window = np.full((len(rows), len(columns)) + image.shape[2:], outside, dtype=np.float64)
    for i, r in enumerate(rows):
        for j, c in enumerate(columns):
            if 0 <= r < height and 0 <= c < width:
                window[i, j] = image[r, c]
    return window


def _rounded(array: np.ndarray) -> list:
    """Nested lists of `array`'s values to 7 significant digits (float32's precision): a kernel
    weight of 0.00618 keeps its digits beside a caffe pixel of 130.32."""
    return np.vectorize(lambda value: float(f"{value:.7g}"), otypes=[float])(array).tolist()


# ----- the steps ------------------------------------------------------------------------------

def _model_value(outputs: dict[str, np.ndarray], layer: str, steps: list[dict[str, Any]], cell: tuple[int, int],
                 channel: int) -> float:
    if steps and steps[-1]["name"] == "max_pool":
        pooled_row, pooled_column = steps[-1]["pooled_cell"]
        return float(outputs[layer][0, pooled_row, pooled_column, channel])
    return float(outputs[layer][0, cell[0], cell[1], channel])


def _batch_norm(step: _Step, x: float, outputs, cell, channel) -> dict[str, Any]:
    layer = step.layer
    mean = float(np.asarray(layer.moving_mean)[channel])
    variance = float(np.asarray(layer.moving_variance)[channel])
    gamma = float(np.asarray(layer.gamma)[channel]) if layer.scale else 1.0
    beta = float(np.asarray(layer.beta)[channel]) if layer.center else 0.0
    epsilon = float(layer.epsilon)
    value = (x - mean) / math.sqrt(variance + epsilon) * gamma + beta
    return {"name": "batch_norm", "layer": layer.name, "formula": _BN_FORMULA, "input": x,
            "mean": mean, "variance": variance, "epsilon": epsilon, "gamma": gamma, "beta": beta,
            "value": value, "model_value": float(outputs[layer.name][0, cell[0], cell[1], channel])}


def _activation_name(layer) -> str | None:
    """What an activation layer (or a layer's own `activation`) computes, by Keras's name for it."""
    import keras

    if isinstance(layer, keras.layers.ReLU):
        if layer.max_value is not None and float(layer.max_value) == 6.0 and not layer.negative_slope and not layer.threshold:
            return "relu6"
        return "relu" if not layer.negative_slope and not layer.threshold and layer.max_value is None else "relu_layer"
    if isinstance(layer, keras.layers.LeakyReLU):
        return "leaky_relu"
    function = getattr(layer, "activation", None)
    if function is None:
        return None
    name = getattr(function, "__name__", str(function))
    return "swish" if name == "silu" else name  # Keras's two names for x · σ(x); EfficientNet says swish


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


_FUNCTIONS: dict[str, tuple[str, Callable[[float], float]]] = {
    "relu": ("max(0, x)", lambda x: max(0.0, x)),
    "relu6": ("min(max(0, x), 6)", lambda x: min(max(0.0, x), 6.0)),
    "swish": ("x · σ(x) = x / (1 + e^(−x))", lambda x: x * _sigmoid(x)),
    "sigmoid": ("σ(x) = 1 / (1 + e^(−x))", _sigmoid),
    "tanh": ("tanh(x)", math.tanh),
    "elu": ("x if x > 0 else e^x − 1", lambda x: x if x > 0 else math.expm1(x)),
    "linear": ("x", lambda x: x),
}
"""Activations a walk says with a formula; any other is computed by Keras's own function."""


def _activate(layer, name: str, x: float) -> tuple[str, float]:
    """The formula and value of `layer`'s activation at `x`."""
    import keras

    if name in _FUNCTIONS:
        formula, function = _FUNCTIONS[name]
        return formula, function(x)
    if name == "leaky_relu":
        slope = float(layer.negative_slope)
        return f"x if x ≥ 0 else {slope:g} · x", x if x >= 0 else slope * x
    if name == "relu_layer":
        formula = f"ReLU(x; max {layer.max_value}, slope {layer.negative_slope:g}, threshold {layer.threshold:g})"
        return formula, float(np.asarray(layer(np.array([[x]], dtype=np.float32)))[0, 0])
    function = getattr(layer, "activation", None) or keras.activations.get(name)
    return f"{name}(x)", float(np.asarray(function(np.array([[x]], dtype=np.float32)))[0, 0])


def _activation(step: _Step, x: float, outputs, cell, channel) -> dict[str, Any]:
    layer = step.layer
    name = _activation_name(layer) or "linear"
    formula, value = _activate(layer, name, x)
    return {"name": "activation", "layer": layer.name, "function": name, "formula": formula, "input": x,
            "value": value, "model_value": float(outputs[layer.name][0, cell[0], cell[1], channel])}


def _max_pool(step: _Step, x: float, outputs, cell, channel) -> dict[str, Any]:
    """The pooled cell the walked value falls into (the one it wins, where it wins one), its window
    of the model's own activations (the walked cell holding the walk's value), and their max."""
    layer, padding = step.layer, step.padding
    activations = outputs[step.source][0, ..., channel].astype(np.float64)
    pool_h, pool_w = layer.pool_size
    stride_h, stride_w = layer.strides
    same_top, same_left = _padding_before(layer, activations.shape)
    top, left = padding[0] + same_top, padding[1] + same_left
    pooled = outputs[layer.name][0]
    row, column = cell
    candidates = [(p, q) for p in range(pooled.shape[0]) for q in range(pooled.shape[1])
                  if 0 <= row - (p * stride_h - top) < pool_h and 0 <= column - (q * stride_w - left) < pool_w]
    outside = 0.0 if layer.padding == "valid" else -math.inf  # ZeroPadding2D's zeros; "same" leaves them out
    windows = []
    for p, q in candidates:
        rows = [p * stride_h - top + i for i in range(pool_h)]
        columns = [q * stride_w - left + j for j in range(pool_w)]
        window = _window(activations[..., np.newaxis], rows, columns, outside)[..., 0]
        window[row - rows[0], column - columns[0]] = x
        windows.append((window, rows[0], columns[0], (p, q)))
    won = [entry for entry in windows if x >= entry[0].max()]
    window, first_row, first_column, (p, q) = (won or windows)[0]
    best = np.unravel_index(int(np.argmax(window)), window.shape)
    value = float(window.max())
    return {"name": "max_pool", "layer": layer.name, "formula": f"max(x₁, …, x{pool_h * pool_w})".translate(_SUBSCRIPTS),
            "pool_size": [pool_h, pool_w], "strides": [stride_h, stride_w], "input": x,
            "window": [[None if math.isinf(v) else float(f"{v:.7g}") for v in line] for line in window],
            "window_origin": [first_row, first_column], "position": [row - first_row, column - first_column],
            "max_at": [int(best[0]), int(best[1])], "walked_is_max": bool(won), "pooled_cell": [p, q],
            "value": value, "model_value": float(pooled[p, q, channel])}


_STEPS: dict[str, Callable[..., dict[str, Any]]] = {"batch_norm": _batch_norm, "activation": _activation, "max_pool": _max_pool}
"""How each step is walked: from the layer, the value so far, the model's outputs, the cell and channel."""
