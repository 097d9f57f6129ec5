"""How long an explanation takes, warm (each model built, traced and its export loaded by a first
call): Grad-CAM for the three Lite models on one photo; Score-CAM and occlusion for Lite0 on
onnxruntime (one forward pass per batch of masks); and the deletion / insertion / ROAD metrics with
20 steps: of the first map of a photo (with its random and centre baselines, measured once per
photo) and of each further map (the baselines shared, as a page comparing methods shares them)."""

from __future__ import annotations

import statistics
import time

from PIL import Image, ImageOps

__all__ = ["explain_speed", "LITES"]

LITES = ("EfficientNetLite0", "EfficientNetLite1", "EfficientNetLite2")


def explain_speed(jpeg_path: str, runs: int = 3) -> dict:
    """The median of `runs` warm calls of each action, in seconds, each on a photo of its own (turned
    a little): a model keeps its last large batches' probabilities, so the same photo again would
    measure that memory, not the work."""
    from plugin.api import explain_image

    photo = Image.open(jpeg_path).convert("RGB")

    def timed(call) -> float:
        call(ImageOps.mirror(photo))  # built, traced, exported: not timed
        seconds = []
        for turn in range(runs):
            fresh = photo.rotate(turn + 1)
            started = time.perf_counter()
            call(fresh)
            seconds.append(time.perf_counter() - started)
        return round(statistics.median(seconds), 3)

    lite = LITES[0]
    result = {
        "gradcam_three_lites_s": timed(lambda image: [explain_image(image, name) for name in LITES]),
        "scorecam_onnx_s": timed(lambda image: explain_image(image, lite, method="scorecam", backend="onnx")),
        "occlusion_onnx_s": timed(lambda image: explain_image(image, lite, method="occlusion", backend="onnx")),
    }
    first, again = [], []
    for turn in range(runs):  # a photo of its own each time (turned a little), so its baselines are measured afresh
        fresh = ImageOps.mirror(photo).rotate(turn + 1)
        first.append(explain_image(fresh, lite, method="eigencam", backend="onnx", metrics=True)["metrics"]["seconds"])
        again.append(explain_image(fresh, lite, method="scorecam", backend="onnx", metrics=True)["metrics"]["seconds"])
    result["metrics_first_map_s"] = round(statistics.median(first), 3)
    result["metrics_per_map_s"] = round(statistics.median(again), 3)
    result["runs"] = runs
    return result
