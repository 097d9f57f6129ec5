"""The sanity check of Adebayo et al. (2018, "Sanity Checks for Saliency Maps"): a map that explains
the model must change when the model's learnt weights are destroyed.

Cascading randomisation: a copy of the model has its top layers with weights (the classifier
first, then down through the network, `SANITY_CASCADE` of them at each step) drawn afresh from a
normal distribution with each kernel's own standard deviation (biases to zero); the method makes
its map again on the copy, and Spearman's rank correlation with the original map says how much is
left of it. A method whose map keeps a rank correlation of `SANITY_FLAG` or more at the last step
does not depend on what the model learnt: it is flagged. The model that answers is never changed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from plugin.engine.inference.runners import KerasRunner
from plugin.engine.results import SanityCheck, SanityStep
from plugin.engine.study.explain.context import ExplainContext
from plugin.engine.study.explain.methods import ExplanationMethod
from plugin.limits import SANITY_CASCADE, SANITY_FLAG

__all__ = ["sanity_check", "rank_correlation"]

_SEED = 0


def sanity_check(context: ExplainContext, method: ExplanationMethod, cam: np.ndarray, keras_model: Any) -> SanityCheck:
    """Re-make `method`'s map with the top layers of a copy of `keras_model` randomised, step by step."""
    import keras

    copy = keras.models.clone_model(keras_model)
    copy.set_weights(keras_model.get_weights())
    weighted = [layer for layer in copy.layers if _kernel(layer) is not None]
    rng = np.random.default_rng(_SEED)
    steps: list[SanityStep] = []
    done = 0
    randomised = dataclasses.replace(context.prepared, runner=KerasRunner(copy))  # traced once: the steps assign its weights
    for count in SANITY_CASCADE:
        for layer in reversed(weighted[max(0, len(weighted) - count):len(weighted) - done]):
            _randomise(layer, rng)
        done = min(count, len(weighted))
        again = ExplainContext(prepared=randomised, keras_model=copy, pixels=context.pixels, mode=context.mode,
                               target=context.target, layer=context.layer, cached=False)
        steps.append({"randomised": [layer.name for layer in reversed(weighted[len(weighted) - done:])],
                      "rank_correlation": round(rank_correlation(cam, method.compute(again)), 4)})
    last = steps[-1]["rank_correlation"]
    return {"steps": steps, "flagged": bool(last >= SANITY_FLAG), "threshold": SANITY_FLAG}


def rank_correlation(first: np.ndarray, second: np.ndarray) -> float:
    """Spearman's rank correlation of two maps of the same grid (0 where either is constant)."""
    from scipy.stats import spearmanr

    a, b = np.asarray(first, np.float64).ravel(), np.asarray(second, np.float64).ravel()
    if a.shape != b.shape or np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)


def _kernel(layer):
    for name in ("kernel", "depthwise_kernel"):
        if getattr(layer, name, None) is not None:
            return getattr(layer, name)
    return None


def _randomise(layer, rng: np.random.Generator) -> None:
    kernel = _kernel(layer)
    values = np.asarray(kernel)
    kernel.assign(rng.normal(0.0, float(values.std()) or 0.05, values.shape).astype(values.dtype))
    bias = getattr(layer, "bias", None)
    if bias is not None:
        bias.assign(np.zeros(tuple(bias.shape), dtype=np.asarray(bias).dtype))
