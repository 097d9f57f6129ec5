"""What the pickers offer: every registry model (saying which weights are ready), the evaluation
engines, the preprocessing modes."""

from __future__ import annotations

from plugin import api, words

__all__ = ["MODEL_CHOICES", "PREPROCESSING_CHOICES", "model_choices", "engine_choices", "resize_choices", "ray_installed"]

MODEL_CHOICES = list(api.MODEL_NAMES)
PREPROCESSING_CHOICES = [mode for mode in api.PREPROCESSING_MODES if mode != "builtin"]


def _texts(lang: str) -> dict:
    return words.section("ui", lang if lang in words.LANGUAGES else words.default_lang())


def engine_choices(lang: str) -> list[tuple[str, str]]:
    """The evaluation engines, named in the language; Ray only where it is installed."""
    return [(_texts(lang)[f"engine_{name}"], name) for name in api.ENGINES if name != "ray" or ray_installed()]


def resize_choices(lang: str) -> list[tuple[str, str]]:
    """The ways a photo reaches a model ("crop", "whole"), named in the language."""
    return [(_texts(lang)[f"resize_{name}"], name) for name in api.RESIZES]


def model_choices(lang: str) -> list[tuple[str, str]]:
    """Every registry model for a picker: ready ones by name, others with what is missing."""
    t = _texts(lang)
    choices = []
    for model in api.list_models()["models"]:
        weights, name = model["weights"], model["name"]
        if weights["available"]:
            label = name
        elif weights["source"] == "download":
            label = t["choice_download"].format(model=name, size=f"{weights['size_mb']:g}")
        else:
            label = t["choice_no_weights"].format(model=name)
        choices.append((label, name))
    return choices


def ray_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None
