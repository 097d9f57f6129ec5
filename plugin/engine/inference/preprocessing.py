"""Turn RGB images into the input tensors each model expects.

Each Keras mode reproduces one of `imagenet_utils.preprocess_input`'s (the tests prove it for
every registry entry), so the engine needs no Keras import to prepare pixels:

    caffe    RGB -> BGR, then subtract the ImageNet mean per channel (VGG, ResNet v1)
    tf       scale to [-1, 1] (Inception, MobileNet, ResNet v2)
    torch    scale to [0, 1], then normalise by ImageNet mean and std per channel (DenseNet)
    builtin  pass through: the model rescales inside itself (EfficientNet, ConvNeXt)
    lite     (x - 127) / 128, RGB: the TF-Lite recipe the EfficientNet-Lite weights were trained with
    rescale  scale to [0, 1] (x / 255), common for models trained from scratch
    none     pass through raw 0..255 values
"""

from __future__ import annotations

import dataclasses

import numpy as np
from PIL import Image

from plugin import words
from plugin.engine.results import Region
from plugin.errors import InvalidInputError
from plugin.limits import CROP_WARNING_LEFT_OUT, RESIZES

__all__ = ["MODES", "PreprocessingMode", "get_mode", "Framing", "framing", "check_resize", "image_to_array", "preprocess",
           "SAMPLE_PIXEL"]

SAMPLE_PIXEL = (201, 160, 120)
"""A warm brown (a dog's coat), the pixel an architecture page works through each mode with."""

_CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)
_TORCH_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_TORCH_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
_LITE_MEAN, _LITE_STD = 127.0, 128.0


@dataclasses.dataclass(frozen=True)
class PreprocessingMode:
    """One way of preparing pixels: its channel order and the range of values the model sees.

    What it does, in words, is in the catalogue (`plugin.words`, section "preprocessing").
    """

    name: str
    channel_order: str
    value_range: tuple[float, float]
    formula: str
    """What is done to one pixel x = (R, G, B) in 0..255, as a formula (the same in every language)."""

    @property
    def description(self) -> dict[str, str]:
        """What the mode does, in every language."""
        return words.both(f"preprocessing.{self.name}")

    def describe(self) -> dict:
        return {"name": self.name, "channel_order": self.channel_order, "value_range": list(self.value_range),
                "formula": self.formula, "description": self.description}

    def on_pixel(self, rgb: tuple[int, int, int] | list[int]) -> list[float]:
        """One pixel (R, G, B in 0..255) as the model sees it, in this mode's channel order, to 3 decimals."""
        return [round(float(value), 3) for value in preprocess(np.array([[list(rgb)]], dtype=np.float32), self.name)[0, 0]]


def _range(low, high) -> tuple[float, float]:
    return round(float(np.min(low)), 3), round(float(np.max(high)), 3)


MODES: dict[str, PreprocessingMode] = {
    mode.name: mode
    for mode in (
        PreprocessingMode("caffe", "BGR", _range(0 - _CAFFE_MEAN_BGR, 255 - _CAFFE_MEAN_BGR),
                          "(B, G, R) − (103.939, 116.779, 123.68)"),
        PreprocessingMode("tf", "RGB", (-1.0, 1.0), "x / 127.5 − 1"),
        PreprocessingMode("torch", "RGB", _range((0 - _TORCH_MEAN) / _TORCH_STD, (1 - _TORCH_MEAN) / _TORCH_STD),
                          "(x / 255 − (0.485, 0.456, 0.406)) / (0.229, 0.224, 0.225)"),
        PreprocessingMode("builtin", "RGB", (0.0, 255.0), "x"),
        PreprocessingMode("lite", "RGB", ((0.0 - _LITE_MEAN) / _LITE_STD, (255.0 - _LITE_MEAN) / _LITE_STD), "(x − 127) / 128"),
        PreprocessingMode("rescale", "RGB", (0.0, 1.0), "x / 255"),
        PreprocessingMode("none", "RGB", (0.0, 255.0), "x"),
    )
}


def get_mode(name: str) -> PreprocessingMode:
    """Look up a preprocessing mode by name."""
    try:
        return MODES[name]
    except (KeyError, TypeError):
        raise InvalidInputError(f"Expected preprocessing to be one of {list(MODES)}. Received: preprocessing={name!r}") from None


@dataclasses.dataclass(frozen=True)
class Framing:
    """The part of a photo a model sees, and how it is brought to the input size.

    Attributes:
        resize: "crop" (a centred box, the model's evaluation protocol) or "whole" (the whole photo, squashed).
        box: (left, top, right, bottom) in the photo's pixels.
        interpolation: "bicubic" or "bilinear".
        crop_fraction: the box's side as a share of the photo's shorter side (1.0 for "whole").
        left_out: the share of the photo's area outside the box (0.0 for "whole").
        shape_left_out: the share of the photo's long side a square of its shorter side leaves
            out (0.25 for 4:3), whatever the protocol's border: what a panorama loses at its edges.
    """

    resize: str
    box: tuple[float, float, float, float]
    interpolation: str
    crop_fraction: float
    left_out: float
    shape_left_out: float = 0.0

    def describe(self) -> Region:
        return {"resize": self.resize, "box": [round(value, 1) for value in self.box], "interpolation": self.interpolation,
                "crop_fraction": round(self.crop_fraction, 4), "left_out": round(self.left_out, 4),
                "warning": self.shape_left_out > CROP_WARNING_LEFT_OUT}


_RESAMPLING = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}


def check_resize(resize) -> str | None:
    """Return `resize` if it is one of `RESIZES` or None (the model's own way); refuse anything else."""
    if resize is None or (isinstance(resize, str) and resize in RESIZES):
        return resize
    raise InvalidInputError(f"Expected resize to be one of {list(RESIZES)}. Received: {str(resize)[:40]!r}",
                            key="resize", value=str(resize)[:40])


def framing(width: int, height: int, input_size: tuple[int, int], *, resize: str, crop_fraction: float,
            interpolation: str) -> Framing:
    """Where a photo of `width` x `height` is cut for an input of `input_size` (height, width).

    "crop": the largest centred box with the input's shape, scaled by `crop_fraction` (for a square
    input, a square of `crop_fraction` of the shorter side: Keras's "shorter side to 256, centre
    224" is 0.875), resized with `interpolation`. "whole": the whole photo, bilinear.
    """
    if check_resize(resize) != "crop":
        return Framing("whole", (0.0, 0.0, float(width), float(height)), "bilinear", 1.0, 0.0)
    rows, columns = input_size
    scale = min(width / columns, height / rows) * crop_fraction
    box_width, box_height = columns * scale, rows * scale
    left, top = (width - box_width) / 2, (height - box_height) / 2
    shape = 1.0 - min(width / columns, height / rows) / max(width / columns, height / rows)
    return Framing("crop", (left, top, left + box_width, top + box_height), interpolation, crop_fraction,
                   1.0 - (box_width * box_height) / (width * height), shape)


def image_to_array(image: Image.Image, size: tuple[int, int], channels: int = 3, cut: Framing | None = None) -> np.ndarray:
    """Bring an RGB image to (height, width) and return float32 pixels of shape (H, W, C).

    `cut` says which part of the image and how (see `framing`); without one the whole image is
    resized (no crop), as `keras.utils.load_img(target_size=...)` does, but with bilinear rather
    than nearest-neighbour sampling. One channel means luminance (L).
    """
    height, width = size
    if channels not in (1, 3):
        raise InvalidInputError(f"Expected a model input with 1 or 3 channels. Received: {channels} channels")
    cut = cut or framing(image.width, image.height, size, resize="whole", crop_fraction=1.0, interpolation="bilinear")
    picture = image.convert("L" if channels == 1 else "RGB")
    resized = picture.resize((width, height), _RESAMPLING[cut.interpolation], box=cut.box)
    pixels = np.asarray(resized, dtype=np.float32)
    return pixels[..., np.newaxis] if channels == 1 else pixels


def preprocess(batch: np.ndarray, mode: str) -> np.ndarray:
    """Apply a preprocessing mode to RGB pixels in 0..255, shape (..., H, W, C); returns a new array."""
    get_mode(mode)
    x = np.array(batch, dtype=np.float32, copy=True)
    if mode in ("caffe", "torch") and x.shape[-1] != 3:
        raise InvalidInputError(f"Expected 3 colour channels for {mode!r} preprocessing. Received: {x.shape[-1]} channel(s)")
    if mode == "caffe":
        return x[..., ::-1] - _CAFFE_MEAN_BGR
    if mode == "tf":
        return x / 127.5 - 1.0
    if mode == "torch":
        return (x / 255.0 - _TORCH_MEAN) / _TORCH_STD
    if mode == "rescale":
        return x / 255.0
    if mode == "lite":
        return (x - _LITE_MEAN) / _LITE_STD
    return x
