"""The weight-histogram view: a layer's trained kernel against the same layer freshly initialised.

The book (혼자 공부하는 머신러닝+딥러닝 8-3) draws the first layer's weights as a histogram, trained
and untrained: training spreads them wider and moves their centre. Here the untrained kernel is
what building the architecture anew would draw: the layer's own `kernel_initializer` (for a
depthwise convolution its `depthwise_initializer`), with a fixed seed, on the kernel's shape. Both
are counted on the same bin edges. Where a BatchNormalization takes the layer's output directly,
its trained scale (gamma) and shift (beta) come too: they start at 1 and 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from plugin.engine.architecture.layers import inbound_names
from plugin.engine.architecture.macs import is_nested_model
from plugin.engine.inside.kernels import find_layer
from plugin.engine.results import HistogramPair, WeightStats

__all__ = ["SEED", "weight_histograms", "weight_stats", "initializer_name"]

SEED = 0
"""The seed of the fresh initialisation: the same untrained weights every time."""


def _has_kernel(layer) -> bool:
    return _kernel(layer) is not None and _initializer(layer) is not None


def _initializer(layer):
    """The layer's kernel initialiser (a depthwise convolution's `depthwise_initializer`)."""
    return getattr(layer, "depthwise_initializer", None) or getattr(layer, "kernel_initializer", None)


def _kernel(layer):
    try:
        return layer.kernel
    except (AttributeError, ValueError):
        return None


def weight_histograms(model, layer: str, bins: int = 60) -> HistogramPair:
    """The named layer's trained kernel against a fresh initialisation of the same shape.

    Args:
        model: a Keras model.
        layer: a layer with a kernel (a convolution, depthwise or not, or a dense layer; nested
            models searched).
        bins: the number of bins, over the range of both kernels together.

    Returns:
        The `HistogramPair`: the bin edges, both counts and `WeightStats`, the initialiser as Keras
        names it ("GlorotUniform", "HeNormal"; a plain VarianceScaling with its settings:
        "VarianceScaling (scale 2.0, fan_out, truncated_normal)"), and `batch_norm`
        (`{"layer", "gamma", "beta"}`, each a `WeightStats` or None where the layer has no such
        weight) for the BatchNormalization that takes this layer's output directly, else None.
    """
    from keras import ops

    found = find_layer(model, layer, accept=_has_kernel, what="a layer with a kernel (a convolution or dense layer)")
    variable, initializer = found.kernel, _initializer(found)
    trained = np.asarray(ops.convert_to_numpy(variable), dtype=np.float64).ravel()
    fresh = type(initializer).from_config({**initializer.get_config(), "seed": SEED})
    untrained = np.asarray(ops.convert_to_numpy(fresh(tuple(variable.shape), dtype="float32")), dtype=np.float64).ravel()
    edges = np.histogram_bin_edges(np.concatenate([trained, untrained]), bins=bins)
    return {
        "layer": found.name,
        "initializer": initializer_name(initializer),
        "bins": [float(edge) for edge in edges],
        "trained": weight_stats(trained),
        "untrained": weight_stats(untrained),
        "trained_counts": [int(count) for count in np.histogram(trained, bins=edges)[0]],
        "untrained_counts": [int(count) for count in np.histogram(untrained, bins=edges)[0]],
        "batch_norm": _batch_norm_after(model, found),
    }


def weight_stats(values) -> WeightStats:
    """Count, mean, standard deviation, minimum and maximum of some weights (6 significant digits)."""
    array = np.asarray(values, dtype=np.float64).ravel()
    if not array.size:
        return {"count": 0, "mean": 0.0, "std": 0.0, "min": 0.0, "max": 0.0}
    return {"count": int(array.size), "mean": _short(array.mean()), "std": _short(array.std()),
            "min": _short(array.min()), "max": _short(array.max())}


def _short(value) -> float:
    return float(f"{float(value):.6g}")


def initializer_name(initializer) -> str:
    """The initialiser as Keras names it: its class name, and for VarianceScaling itself (not a
    named kind of it, such as HeNormal) its scale, mode and distribution."""
    kind = type(initializer).__name__
    if kind != "VarianceScaling":
        return kind
    config = initializer.get_config()
    return f"{kind} (scale {config.get('scale')}, {config.get('mode')}, {config.get('distribution')})"


def _batch_norm_after(model, layer) -> dict[str, Any] | None:
    """The trained gamma and beta of the BatchNormalization that is the layer's one consumer."""
    from keras import ops

    container = _container(model, layer) or model
    consumers = [name for name, sources in inbound_names(container).items() if layer.name in sources]
    if len(consumers) != 1:
        return None
    following = container.get_layer(consumers[0])
    if type(following).__name__ != "BatchNormalization":
        return None

    def stats(variable) -> WeightStats | None:
        return None if variable is None else weight_stats(ops.convert_to_numpy(variable))

    return {"layer": following.name, "gamma": stats(getattr(following, "gamma", None)),
            "beta": stats(getattr(following, "beta", None))}


def _container(model, layer):
    """The model (or nested model) whose own layers include `layer`."""
    if any(inner is layer for inner in model.layers):
        return model
    for inner in model.layers:
        if is_nested_model(inner):
            found = _container(inner, layer)
            if found is not None:
                return found
    return None
