"""Turn RGB images into the input tensors each model expects.

Each mode reproduces one of Keras's `imagenet_utils.preprocess_input` modes (the tests prove it
for every registry entry), so the engine needs no Keras import to prepare pixels:

    caffe    RGB -> BGR, then subtract the ImageNet mean per channel (VGG, ResNet v1)
    tf       scale to [-1, 1] (Inception, MobileNet, ResNet v2)
    torch    scale to [0, 1], then normalise by ImageNet mean and std per channel (DenseNet)
    builtin  pass through: the model rescales inside itself (EfficientNet, ConvNeXt)
    rescale  scale to [0, 1] (x / 255), common for models trained from scratch
    none     pass through raw 0..255 values
"""

from __future__ import annotations

import dataclasses

import numpy as np
from PIL import Image

from plugin.errors import InvalidInputError

__all__ = ["MODES", "PreprocessingMode", "get_mode", "image_to_array", "preprocess"]

_CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)
_TORCH_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_TORCH_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


@dataclasses.dataclass(frozen=True)
class PreprocessingMode:
    """One way of preparing pixels, described for people and agents."""

    name: str
    channel_order: str
    value_range: str
    description: dict[str, str]

    def describe(self) -> dict:
        return dataclasses.asdict(self)


MODES: dict[str, PreprocessingMode] = {
    mode.name: mode
    for mode in (
        PreprocessingMode(
            "caffe", "BGR", "about -124 to 152 (mean-centred 0..255)",
            {
                "en": "Convert RGB to BGR, then subtract the ImageNet mean of each channel "
                      "(B 103.939, G 116.779, R 123.68); no scaling.",
                "ko": "RGB를 BGR로 바꾼 뒤 채널별 ImageNet 평균(B 103.939, G 116.779, R 123.68)을 뺍니다. "
                      "크기 조정(스케일링)은 하지 않습니다.",
            },
        ),
        PreprocessingMode(
            "tf", "RGB", "-1 to 1",
            {
                "en": "Scale pixel values from 0..255 to -1..1 (x / 127.5 - 1).",
                "ko": "픽셀 값을 0..255에서 -1..1로 바꿉니다 (x / 127.5 - 1).",
            },
        ),
        PreprocessingMode(
            "torch", "RGB", "about -2.1 to 2.6 (standardised)",
            {
                "en": "Scale to 0..1, then subtract the ImageNet mean (0.485, 0.456, 0.406) and "
                      "divide by the standard deviation (0.229, 0.224, 0.225) of each channel.",
                "ko": "0..1로 바꾼 뒤 채널별 ImageNet 평균(0.485, 0.456, 0.406)을 빼고 "
                      "표준편차(0.229, 0.224, 0.225)로 나눕니다.",
            },
        ),
        PreprocessingMode(
            "builtin", "RGB", "0 to 255 (the model rescales inside)",
            {
                "en": "Pass raw 0..255 RGB values: the model's first layers rescale and normalise, "
                      "so preprocess_input does nothing.",
                "ko": "0..255 RGB 값을 그대로 넣습니다. 모델 앞부분 층이 스케일링과 정규화를 하므로 "
                      "preprocess_input은 아무것도 하지 않습니다.",
            },
        ),
        PreprocessingMode(
            "rescale", "RGB", "0 to 1",
            {"en": "Scale pixel values to 0..1 (x / 255).", "ko": "픽셀 값을 0..1로 바꿉니다 (x / 255)."},
        ),
        PreprocessingMode(
            "none", "RGB", "0 to 255",
            {"en": "Pass raw 0..255 values unchanged.", "ko": "0..255 값을 바꾸지 않고 그대로 넣습니다."},
        ),
    )
}


def get_mode(name: str) -> PreprocessingMode:
    """Look up a preprocessing mode by name."""
    try:
        return MODES[name]
    except (KeyError, TypeError):
        raise InvalidInputError(f"Expected preprocessing to be one of {list(MODES)}. Received: preprocessing={name!r}") from None


def image_to_array(image: Image.Image, size: tuple[int, int], channels: int = 3) -> np.ndarray:
    """Resize an RGB image to (height, width) and return float32 pixels of shape (H, W, C).

    The whole image is resized (no crop), as `keras.utils.load_img(target_size=...)` does, but
    with bilinear rather than nearest-neighbour sampling. One channel means luminance (L).
    """
    height, width = size
    resized = image.resize((width, height), Image.Resampling.BILINEAR)
    if channels == 1:
        return np.asarray(resized.convert("L"), dtype=np.float32)[..., np.newaxis]
    if channels != 3:
        raise InvalidInputError(f"Expected a model input with 1 or 3 channels. Received: {channels} channels")
    return np.asarray(resized.convert("RGB"), dtype=np.float32)


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
    return x
