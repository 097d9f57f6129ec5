"""The photos int8 models are calibrated on and checked against float32 with: licensed photos that
come with the project (`plugin/examples`, sources and licences in its SOURCES.md), each cropped at
several sizes and places and flipped, as a camera or a user's crop would frame it, then brought to
the model's input as every photo is: its evaluation protocol's centre crop.

The two sets share no photo: a model is checked on photos its calibration never saw.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageOps

from plugin.config import EXAMPLES_DIR
from plugin.engine.inference.preprocessing import framing, image_to_array, preprocess
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


def _batch(names: Sequence[str], scales: Sequence[float], spec: ModelSpec) -> np.ndarray:
    size, channels, mode = _input(spec)
    pictures = []
    for name in names:
        with Image.open(EXAMPLES_DIR / name) as opened:
            pictures += framings(opened.convert("RGB"), scales)

    def pixels(picture: Image.Image) -> np.ndarray:
        cut = framing(picture.width, picture.height, size, resize="crop", crop_fraction=spec.protocol.crop_fraction,
                      interpolation=spec.protocol.interpolation)
        return image_to_array(picture, size, channels, cut)

    return preprocess(np.stack([pixels(picture) for picture in pictures]), mode).astype(np.float32)


def _input(spec: ModelSpec) -> tuple[tuple[int, int], int, str]:
    return spec.input_size, spec.input_shape[2], spec.preprocessing


def calibration_batch(spec: ModelSpec) -> np.ndarray:
    """The calibration images, as a registry model takes them (protocol, size, channels, preprocessing)."""
    return _batch(CALIBRATION_PHOTOS, _CALIBRATION_SCALES, spec)


def check_batch(spec: ModelSpec) -> np.ndarray:
    """The held-out check images, as a registry model takes them."""
    return _batch(CHECK_PHOTOS, _CHECK_SCALES, spec)


def calibration_key(spec: ModelSpec) -> str:
    """Names a registry model's calibration without making it: the photos' bytes, the framings and
    the model's input and protocol (an int8 file's name holds it, so a changed photo makes a new file)."""
    size, channels, mode = _input(spec)
    found = hashlib.sha256(json.dumps([list(size), channels, mode, _CALIBRATION_SCALES, _CHECK_SCALES,
                                       spec.protocol.describe()]).encode())
    for name in (*CALIBRATION_PHOTOS, *CHECK_PHOTOS):
        found.update(name.encode() + file_hash(EXAMPLES_DIR / name).encode())
    return found.hexdigest()[:16]
