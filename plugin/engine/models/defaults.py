"""The models that answer when a caller names none, and why, in words."""

from __future__ import annotations

from plugin.engine.models.registry import get_spec
from plugin.engine.models.weights import parse_weights, weights_status
from plugin.engine.results import Fallback, WeightsByModel
from plugin.limits import DEFAULT_MODELS, FALLBACK_MODEL
from plugin.words.results import fallback_note

__all__ = ["default_models"]


def default_models(weights: WeightsByModel = "imagenet") -> tuple[list[str], Fallback | None]:
    """The models that answer when a caller names none, and why, when they are not the usual pair.

    The study's pair (VGG16 and ResNet50) where their ImageNet weights are ready, or random or
    file weights are asked for; otherwise EfficientNet-Lite0, whose weights come with the project,
    so a fresh offline machine still gives a real answer.

    Returns:
        `(names, fallback)`: `fallback` is None, or `{"model", "instead_of", "download_mb",
        "note"}` (the note in English; `plugin.words.results.fallback_note` says it in any language).
    """
    pair = list(DEFAULT_MODELS)
    if isinstance(weights, dict) or parse_weights(weights).kind != "imagenet":
        return pair, None
    missing = {name: get_spec(name).published.size_mb for name in pair if not weights_status(get_spec(name))["available"]}
    if not missing:
        return pair, None
    fallback: Fallback = {"model": FALLBACK_MODEL, "instead_of": pair, "download_mb": missing}
    return [FALLBACK_MODEL], {**fallback, "note": fallback_note(fallback, "en")}

