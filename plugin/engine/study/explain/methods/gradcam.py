"""Grad-CAM (Selvaraju et al. 2017), as keras.io's recipe: channel weights are the mean gradient
of the class score over the feature map's cells; the map is the ReLU of the weighted channel sum."""

from __future__ import annotations

import numpy as np

from plugin.engine.study.explain.context import ExplainContext, normalise
from plugin.engine.study.explain.methods import ExplanationMethod

__all__ = ["METHOD", "gradcam"]


def gradcam(context: ExplainContext) -> np.ndarray:
    activations, gradients = context.gradients()
    weights = gradients.mean(axis=(0, 1))
    return normalise(activations @ weights)


METHOD = ExplanationMethod(name="gradcam", title="Grad-CAM", needs="gradients", compute=gradcam,
                           citation="Selvaraju et al., Grad-CAM, ICCV 2017")
