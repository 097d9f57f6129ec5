"""The preprocessing experiment: the same photo through one model under several preprocessing
modes, to see how much the answer depends on preparing the pixels the way the weights were
trained (VGG16 wants caffe's BGR minus the mean, EfficientNet-Lite (x - 127) / 128, ...), and
brought to the input two ways: cropped as the model was evaluated, and whole (squashed)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from plugin.engine.inference.options import RunOptions
from plugin.engine.inference.prepared import load_registry_model, prepare_batch
from plugin.engine.inference.preprocessing import get_mode
from plugin.engine.intake.images import load_image
from plugin.engine.models.registry import get_spec
from plugin.engine.models.weights import parse_weights
from plugin.engine.results import ImageInput, PreprocessingMode, PreprocessingStudy, ResizeOutcome
from plugin.engine.study.classify import check_top_k
from plugin.engine.study.labels import dog_cat_verdict, verdict_labels
from plugin.engine.study.labels import top_k as rank_top_k
from plugin.errors import InvalidInputError
from plugin.limits import DEFAULT_TOP_K, RESIZES

__all__ = ["compare_preprocessing", "STUDIED_MODES"]

STUDIED_MODES = ("caffe", "tf", "torch", "none")
"""Compared with every model's own mode by default."""


def compare_preprocessing(image: ImageInput, model: str, modes: Sequence[str] | None = None, *, top_k: int = DEFAULT_TOP_K,
                          options: RunOptions = RunOptions()) -> PreprocessingStudy:
    """Classify one photo with one model under several preprocessing modes (`plugin.api.compare_preprocessing`
    says how); of `options`, the weights, the random-weights consent, the backend and the precision count."""
    spec = get_spec(model)
    top_k = check_top_k(top_k)
    if modes is None:
        modes = [*STUDIED_MODES[:3], spec.preprocessing, STUDIED_MODES[3]]
    if isinstance(modes, str) or not isinstance(modes, (list, tuple)) or not modes:
        raise InvalidInputError(f"Expected a list of preprocessing modes. Received: modes={modes!r}")
    chosen = list(dict.fromkeys(get_mode(mode).name for mode in modes))
    options.require_trained("for the preprocessing experiment", "random weights, whose answers mean nothing under any mode",
                            untrained=parse_weights(options.weights).untrained)
    loaded = load_image(image)
    prepared = load_registry_model(spec.name, options.weights, options.backend, options.precision, verdicts=verdict_labels)
    at = (loaded.image.width // 2, loaded.image.height // 2)  # the photo's centre pixel, worked through each mode
    rgb = [int(value) for value in loaded.image.convert("RGB").getpixel(at)]  # type: ignore[union-attr]
    rows: list[PreprocessingMode] = []
    for mode in chosen:
        probabilities = np.asarray(prepared.probabilities(prepare_batch([loaded.image], prepared, mode, options.resize)))[0]
        described = get_mode(mode)
        rows.append({"mode": mode, "own": mode == spec.preprocessing, "predictions": rank_top_k(probabilities, top_k),
                     "verdict": dog_cat_verdict(probabilities), "formula": described.formula,
                     "channel_order": described.channel_order, "pixel": described.on_pixel(rgb)})
    resizes: list[ResizeOutcome] = []
    for resize in RESIZES:
        probabilities = np.asarray(prepared.probabilities(prepare_batch([loaded.image], prepared, resize=resize)))[0]
        resizes.append({"resize": resize, "own": resize == prepared.resize,
                        "region": prepared.framing(loaded.image, resize).describe(),
                        "predictions": rank_top_k(probabilities, top_k), "verdict": dog_cat_verdict(probabilities)})
    return {"model": spec.name, "own_mode": spec.preprocessing, "image": loaded.describe(), "weights": prepared.weights,
            "backend": prepared.backend, "untrained": prepared.untrained, "pixel": {"at": list(at), "rgb": rgb}, "modes": rows, "resizes": resizes}
