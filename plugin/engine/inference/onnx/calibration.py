"""The photos int8 models are calibrated on and checked against float32 with: licensed photos that
come with the project (`plugin/examples`, sources and licences in its SOURCES.md), each cropped at
several sizes and places and flipped, as a camera or a user's crop would frame it.

The two sets share no photo: a model is checked on photos its calibration never saw.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageOps

from plugin.config import EXAMPLES_DIR
from plugin.engine.inference.preprocessing import image_to_array, preprocess
from plugin.engine.models.hashing import file_hash
from plugin.engine.models.registry import ModelSpec

__all__ = ["CALIBRATION_PHOTOS", "CHECK_PHOTOS", "calibration_batch", "check_batch", "calibration_key"]

CALIBRATION_PHOTOS = ("dog_bicycle.jpg", "cat_chelsea.png", "eagle.jpg", "giraffe.jpg", "horses.jpg", "coffee.jpg")
"""A dog, a cat, a bird, wild and farm animals, an object: 22 framings each, 132 images."""

CHECK_PHOTOS = ("person_dog_horse.jpg", "kite.jpg", "scream.jpg", "astronaut.jpg", "rocket.jpg")
"""Held out: a dog with a person and a horse, a beach, a painting, a portrait, a rocket: 32 framings
each, 160 images."""

_CALIBRATION_SCALES = (1.0, 0.75, 0.55)
_CHECK_SCALES = (1.0, 0.75, 0.55, 0.4)


def framings(image: Image.Image, scales: Sequence[float]) -> list[Image.Image]:
    """The whole photo and, at each smaller scale, crops at the four corners and the centre; each
    also mirrored."""
    width, height = image.size
    crops = []
    for scale in scales:
        w, h = round(width * scale), round(height * scale)
        corners = [((width - w) // 2, (height - h) // 2)]
        if scale < 1.0:
            corners += [(0, 0), (width - w, 0), (0, height - h), (width - w, height - h)]
        for x, y in corners:
            crop = image.crop((x, y, x + w, y + h))
            crops += [crop, ImageOps.mirror(crop)]
    return crops


def _batch(names: Sequence[str], scales: Sequence[float], size: tuple[int, int], channels: int, mode: str) -> np.ndarray:
    pictures = []
    for name in names:
        with Image.open(EXAMPLES_DIR / name) as opened:
            pictures += framings(opened.convert("RGB"), scales)
    return preprocess(np.stack([image_to_array(picture, size, channels) for picture in pictures]), mode).astype(np.float32)


def _input(spec: ModelSpec) -> tuple[tuple[int, int], int, str]:
    return spec.input_size, spec.input_shape[2], spec.preprocessing


def calibration_batch(spec: ModelSpec) -> np.ndarray:
    """The calibration images, as a registry model takes them (size, channels, preprocessing)."""
    return _batch(CALIBRATION_PHOTOS, _CALIBRATION_SCALES, *_input(spec))


def check_batch(spec: ModelSpec) -> np.ndarray:
    """The held-out check images, as a registry model takes them."""
    return _batch(CHECK_PHOTOS, _CHECK_SCALES, *_input(spec))


def calibration_key(spec: ModelSpec) -> str:
    """Names a registry model's calibration without making it: the photos' bytes, the framings and
    the model's input (an int8 file's name holds it, so a changed photo makes a new file)."""
    size, channels, mode = _input(spec)
    found = hashlib.sha256(json.dumps([list(size), channels, mode, _CALIBRATION_SCALES, _CHECK_SCALES]).encode())
    for name in (*CALIBRATION_PHOTOS, *CHECK_PHOTOS):
        found.update(name.encode() + file_hash(EXAMPLES_DIR / name).encode())
    return found.hexdigest()[:16]
