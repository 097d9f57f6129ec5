"""Eigen-CAM (Muhammad & Yeasin 2020): the feature map's first principal component, projected back
onto its cells. No gradients and no class: it shows what the layer responds to most, whatever the
answer, so it runs on onnxruntime too."""

from __future__ import annotations

import numpy as np

from plugin.engine.study.explain.context import ExplainContext, normalise
from plugin.engine.study.explain.methods import ExplanationMethod

__all__ = ["METHOD", "eigencam"]


def eigencam(context: ExplainContext) -> np.ndarray:
    activations = context.activations()
    rows, columns, channels = activations.shape
    flat = activations.reshape(rows * columns, channels)
    centred = flat - flat.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    projection = centred @ components[0]
    if np.corrcoef(projection, flat.sum(axis=1))[0, 1] < 0:  # an eigenvector's sign is arbitrary: point it at the activity
        projection = -projection
    return normalise(projection.reshape(rows, columns))


METHOD = ExplanationMethod(name="eigencam", title="Eigen-CAM", needs="activations", compute=eigencam,
                           class_specific=False, citation="Muhammad & Yeasin, Eigen-CAM, IJCNN 2020")
