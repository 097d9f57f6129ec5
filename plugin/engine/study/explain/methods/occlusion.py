"""Occlusion (Zeiler & Fergus 2014): a grey square slides over the photo; a place is as important
as the class's score falls when it is hidden. The square is an eighth of the input's side, moved by
half its side (13 x 13 places at 224), all hidden photos run as batches: no layer, no gradients,
any backend. The map is each input pixel's mean fall over the squares that hid it, averaged over
cells of the stride's size."""

from __future__ import annotations

import numpy as np

from plugin.engine.study.explain.context import ExplainContext, normalise
from plugin.engine.study.explain.methods import ExplanationMethod

__all__ = ["METHOD", "occlusion", "PATCH_SHARE"]

PATCH_SHARE = 1 / 7
"""The grey square's side as a share of the input's side (32 pixels at 224)."""


def occlusion(context: ExplainContext) -> np.ndarray:
    height, width = context.pixels.shape[:2]
    patch = max(2, round(min(height, width) * PATCH_SHARE))
    stride = max(1, patch // 2)
    tops = range(0, height - patch + 1, stride)
    lefts = range(0, width - patch + 1, stride)
    places = [(top, left) for top in tops for left in lefts]
    hidden = np.repeat(context.pixels[np.newaxis], len(places), axis=0)
    baseline = context.baseline
    for number, (top, left) in enumerate(places):
        hidden[number, top:top + patch, left:left + patch] = baseline[top:top + patch, left:left + patch]
    falls = context.scores(context.pixels[np.newaxis])[0] - context.scores(hidden)
    total, count = np.zeros((height, width)), np.zeros((height, width))
    for fall, (top, left) in zip(falls, places):
        total[top:top + patch, left:left + patch] += fall
        count[top:top + patch, left:left + patch] += 1
    per_pixel = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    rows, columns = height // stride, width // stride
    cells = per_pixel[:rows * stride, :columns * stride].reshape(rows, stride, columns, stride).mean(axis=(1, 3))
    return normalise(cells)


METHOD = ExplanationMethod(name="occlusion", title="Occlusion", needs="scores", compute=occlusion, uses_layer=False,
                           citation="Zeiler & Fergus, Visualizing and Understanding Convolutional Networks, ECCV 2014")
