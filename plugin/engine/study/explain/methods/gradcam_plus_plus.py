"""Grad-CAM++ (Chattopadhyay et al. 2018): each channel's weight sums its positive gradients, each
cell's weighted by alpha = g^2 / (2 g^2 + sum(A) g^3) (the closed form for an exponential score,
as pytorch-grad-cam and tf-keras-vis compute it), so several separate objects of a class all count."""

from __future__ import annotations

import numpy as np

from plugin.engine.study.explain.context import ExplainContext, normalise
from plugin.engine.study.explain.methods import ExplanationMethod

__all__ = ["METHOD", "gradcam_plus_plus"]


def gradcam_plus_plus(context: ExplainContext) -> np.ndarray:
    activations, gradients = context.gradients()
    squared, cubed = gradients ** 2, gradients ** 3
    denominator = 2 * squared + activations.sum(axis=(0, 1)) * cubed
    alpha = np.divide(squared, denominator, out=np.zeros_like(squared), where=np.abs(denominator) > 1e-12)
    weights = (alpha * np.maximum(gradients, 0)).sum(axis=(0, 1))
    return normalise(activations @ weights)


METHOD = ExplanationMethod(name="gradcam++", title="Grad-CAM++", needs="gradients", compute=gradcam_plus_plus,
                           citation="Chattopadhyay et al., Grad-CAM++, WACV 2018")
