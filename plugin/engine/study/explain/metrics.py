"""Numbers that say whether a heat map means anything, each beside the same number for a random map
and a centre-weighted map of the same coarseness.

- Deletion and insertion (Petsiuk et al. 2018, RISE): the photo's pixels are ranked by the map
  (upsampled to the input, bilinear); deletion replaces the most important first with the grey
  baseline, insertion puts them back first onto a blurred copy, in `steps` equal steps. The
  class's probability at each step is the curve; its area (trapezoid over the share 0..1) is the
  AUC. A good map has a low deletion AUC (the score falls at once) and a high insertion AUC.
- ROAD (Rong et al. 2022): the most relevant (MoRF) or least relevant (LeRF) pixels, at each share
  of `ROAD_PERCENTILES`, are removed and filled by noisy linear imputation
  (`plugin.engine.study.explain.imputation`); the score is the mean of (LeRF − MoRF) / 2, as
  pytorch-grad-cam's `ROADCombined`: higher is better.
- `score` = insertion AUC − deletion AUC, one number per map; `better_than_random` and
  `better_than_centre` are its lead over the baselines' ("이 지도는 무작위보다 0.18 낫습니다").

The random map is uniform noise on the map's own grid (fixed seed); the centre map a Gaussian
whose standard deviation is a quarter of the side, as photographers put a subject in the middle.
"""

from __future__ import annotations

import hashlib

import numpy as np
from PIL import Image, ImageFilter

from plugin.engine.inference.cache import ModelCache
from plugin.engine.intake.parallel import in_threads
from plugin.engine.results import CurveMetrics, MapMetrics
from plugin.engine.study.explain.context import ExplainContext
from plugin.engine.study.explain.imputation import impute
from plugin.limits import ROAD_PERCENTILES

__all__ = ["map_metrics", "random_map", "centre_map", "curve_auc", "removal_order", "BLUR_RADIUS", "METRIC_DECIMALS"]

BLUR_RADIUS = 10
"""The Gaussian blur (pixels at the input's size) of the photo insertion starts from."""
METRIC_DECIMALS = 4
_SEED = 0
_baselines = ModelCache(size=32)
"""Each baseline's probabilities, by photo, model, kind, grid and steps."""


def map_metrics(context: ExplainContext, cam: np.ndarray, steps: int, *, baselines: bool = True) -> MapMetrics:
    """Deletion, insertion and ROAD for a map, and (with `baselines`) for the random and centre maps
    of its grid."""
    result = _measure(context, cam, steps)
    if baselines:
        shape = np.asarray(cam).shape
        random_result = _baseline(context, "random", shape, steps)
        centre_result = _baseline(context, "centre", shape, steps)
        result["baselines"] = {"random": random_result, "centre": centre_result}
        result["better_than_random"] = round(result["score"] - random_result["score"], METRIC_DECIMALS)
        result["better_than_centre"] = round(result["score"] - centre_result["score"], METRIC_DECIMALS)
    return result


def _baseline(context: ExplainContext, kind: str, shape: tuple[int, ...], steps: int) -> MapMetrics:
    """A baseline map's numbers. Its photos (deleted, inserted, imputed) and their probabilities are
    measured once per photo, model, grid and steps: a comparison of methods, or of targets (a dog
    and a cat: the same photos, other classes summed), shares them."""
    key = (hashlib.blake2b(context.pixels.tobytes(), digest_size=16).hexdigest(), context.mode, context.prepared.name,
           context.prepared.backend, context.prepared.precision, context.prepared.weights, kind, shape, steps)
    grid = random_map(shape) if kind == "random" else centre_map(shape)
    probabilities = _baselines.get(key, lambda: context.probabilities(_photos(context, grid, steps)))
    return _numbers(probabilities[:, list(context.target.indices)].sum(axis=1), steps)


def random_map(shape: tuple[int, ...]) -> np.ndarray:
    """Uniform noise on a grid of `shape` (the same for every call: seed 0)."""
    return np.random.default_rng(_SEED).random(shape)


def centre_map(shape: tuple[int, ...]) -> np.ndarray:
    """A Gaussian bump in the middle of a grid of `shape`, standard deviation a quarter of each side."""
    rows, columns = shape
    down = (np.arange(rows) + 0.5 - rows / 2) / (rows / 4)
    across = (np.arange(columns) + 0.5 - columns / 2) / (columns / 4)
    return np.exp(-0.5 * (down[:, np.newaxis] ** 2 + across[np.newaxis, :] ** 2))


def removal_order(saliency: np.ndarray) -> np.ndarray:
    """Pixel numbers (row-major) from the most to the least important; ties in a fixed random order."""
    jitter = np.random.default_rng(_SEED).random(saliency.size) * 1e-9
    return np.argsort(-(saliency.ravel() + jitter), kind="stable")


def curve_auc(values: np.ndarray) -> float:
    """The area under a curve sampled at equal shares from 0 to 1 (trapezoid rule)."""
    values = np.asarray(values, np.float64)
    return float(((values[1:] + values[:-1]) / 2).sum() / (len(values) - 1))


def _measure(context: ExplainContext, cam: np.ndarray, steps: int) -> MapMetrics:
    return _numbers(context.scores(_photos(context, cam, steps)), steps)


def _photos(context: ExplainContext, cam: np.ndarray, steps: int) -> np.ndarray:
    """The photos the numbers score: `steps + 1` with the map's most important pixels deleted (grey),
    as many inserted into a blurred photo, and for each ROAD percentile the most and the least
    important removed and imputed."""
    pixels = context.pixels
    height, width, channels = pixels.shape
    order = removal_order(context.upsample(cam))
    counts = np.round(np.linspace(0, height * width, steps + 1)).astype(int)
    flat, grey = pixels.reshape(-1, channels), context.baseline.reshape(-1, channels)
    blurred = _blur(pixels).reshape(-1, channels)
    deleted, inserted = [], []
    for count in counts:
        chosen = order[:count]
        without = flat.copy()
        without[chosen] = grey[chosen]
        deleted.append(without.reshape(pixels.shape))
        added = blurred.copy()
        added[chosen] = flat[chosen]
        inserted.append(added.reshape(pixels.shape))
    masks = []
    for percentile in ROAD_PERCENTILES:
        count = round(height * width * percentile / 100)
        for chosen in (order[:count], order[::-1][:count]):  # most relevant first, then least relevant first
            removed = np.zeros(height * width, dtype=bool)
            removed[chosen] = True
            masks.append(removed.reshape(height, width))
    road = in_threads(lambda job: impute(pixels, job[1], np.random.default_rng(_SEED + job[0])), list(enumerate(masks)))
    return np.stack(deleted + inserted + road)


def _numbers(scores: np.ndarray, steps: int) -> MapMetrics:
    """Deletion, insertion and ROAD from the target's score on each of `_photos`."""
    deletion, insertion = scores[:steps + 1], scores[steps + 1:2 * (steps + 1)]
    most, least = scores[2 * (steps + 1)::2], scores[2 * (steps + 1) + 1::2]
    deletion_auc, insertion_auc = curve_auc(deletion), curve_auc(insertion)
    return {
        "steps": steps,
        "deletion": _curve(deletion, deletion_auc),
        "insertion": _curve(insertion, insertion_auc),
        "road": {"score": round(float(np.mean(least - most) / 2), METRIC_DECIMALS),
                 "percentiles": list(ROAD_PERCENTILES),
                 "most_relevant_first": [round(float(value), METRIC_DECIMALS) for value in most],
                 "least_relevant_first": [round(float(value), METRIC_DECIMALS) for value in least]},
        "score": round(insertion_auc - deletion_auc, METRIC_DECIMALS),
    }


def _curve(values: np.ndarray, auc: float) -> CurveMetrics:
    return {"auc": round(auc, METRIC_DECIMALS), "curve": [round(float(value), METRIC_DECIMALS) for value in values]}


def _blur(pixels: np.ndarray) -> np.ndarray:
    if pixels.shape[-1] == 1:
        picture = Image.fromarray(np.clip(pixels[..., 0], 0, 255).astype(np.uint8), mode="L")
        return np.asarray(picture.filter(ImageFilter.GaussianBlur(BLUR_RADIUS)), np.float32)[..., np.newaxis]
    picture = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="RGB")
    return np.asarray(picture.filter(ImageFilter.GaussianBlur(BLUR_RADIUS)), np.float32)
