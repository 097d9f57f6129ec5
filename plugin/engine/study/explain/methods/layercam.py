"""LayerCAM (Jiang et al. 2021): every cell of every channel weighted by its own positive gradient,
then summed over channels; finer than Grad-CAM's one weight per channel, and usable at earlier layers."""

from __future__ import annotations

import numpy as np

from plugin.engine.study.explain.context import ExplainContext, normalise
from plugin.engine.study.explain.methods import ExplanationMethod

__all__ = ["METHOD", "layercam"]


def layercam(context: ExplainContext) -> np.ndarray:
    activations, gradients = context.gradients()
    return normalise((np.maximum(gradients, 0) * activations).sum(axis=-1))


METHOD = ExplanationMethod(name="layercam", title="LayerCAM", needs="gradients", compute=layercam,
                           citation="Jiang et al., LayerCAM, IEEE TIP 2021")
