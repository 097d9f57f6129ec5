"""Score-CAM (Wang et al. 2020): each channel of the feature map, upsampled and scaled to 0..1, masks
the photo (what it leaves dark becomes the grey baseline); its weight is how much of the class's
score the masked photo keeps above the grey photo's (the channel's "increase of confidence"). No
gradients: every masked photo is a forward pass, run in batches on any backend (onnxruntime, int8).
The `SCORECAM_CHANNELS` most active channels are used; the rest are nearly silent on a photo."""

from __future__ import annotations

import numpy as np

from plugin.engine.study.explain.context import ExplainContext, normalise
from plugin.engine.study.explain.methods import ExplanationMethod
from plugin.limits import SCORECAM_CHANNELS

__all__ = ["METHOD", "scorecam"]


def scorecam(context: ExplainContext) -> np.ndarray:
    activations = context.activations()
    ranked = np.argsort(activations.mean(axis=(0, 1)))[::-1][:SCORECAM_CHANNELS]
    strongest = [int(channel) for channel in ranked if activations[..., channel].max() > activations[..., channel].min()]
    if not strongest:
        return np.zeros(activations.shape[:2])
    masks = np.stack([_mask(context.upsample(activations[..., channel])) for channel in strongest])[..., np.newaxis]
    baseline = context.baseline
    masked = (context.pixels * masks + baseline * (1 - masks)).astype(np.float32)
    scores = context.scores(masked)
    weights = np.maximum(scores - context.scores(baseline[np.newaxis])[0], 0)
    if weights.sum() <= 0:  # no channel keeps more than the grey photo: weigh by the scores themselves
        weights = scores
    return normalise(activations[..., strongest] @ weights)


def _mask(values: np.ndarray) -> np.ndarray:
    low, high = values.min(), values.max()
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


METHOD = ExplanationMethod(name="scorecam", title="Score-CAM", needs="activations", compute=scorecam,
                           citation="Wang et al., Score-CAM, CVPR Workshops 2020")
