"""Image intake: accept an image in any form a person or an agent has, return clean RGB pixels.

Accepted: a file path, an http(s) URL, a `data:` URI, a base64 string, raw bytes, a PIL image or
a numpy array. The result has EXIF orientation applied and is 8-bit RGB: palette and
transparent images are laid onto white, CMYK and other colour spaces converted, grayscale
expanded, 16-bit and float images scaled; of an animation the first frame is taken. Decompression
bombs and oversized inputs are refused before they are decoded.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from plugin import words
from plugin.config import Settings, get_settings
from plugin.engine.intake import sources
from plugin.errors import ImageError, InvalidInputError

__all__ = ["LoadedImage", "load_image", "source_text"]

_BASE64_TEXT = re.compile(r"^[A-Za-z0-9+/=_\-\s]+$")


@dataclasses.dataclass(frozen=True)
class LoadedImage:
    """A decoded image ready for preprocessing.

    Attributes:
        image: 8-bit RGB PIL image, orientation applied.
        source: what was received, in English ("file cat.jpg", "URL ...").
        kind: the form it came in: "file", "url", "data_uri", "base64", "bytes", "pil" or "array".
        name: the file's name, the URL, the byte count or the array's shape (None for the others).
    """

    image: Image.Image
    source: str
    kind: str = "file"
    name: str | None = None

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    def describe(self) -> dict:
        """The `image` record of a classification result."""
        return {"width": self.width, "height": self.height, "source": self.source, "kind": self.kind, "name": self.name}


def source_text(image: dict, lang: str) -> str:
    """Where an image came from (its result record), in `lang`: "파일 cat.jpg", "URL https://..."."""
    if not image.get("kind"):
        return image["source"]
    return words.text(f"image_sources.{image['kind']}", lang, name=image.get("name") or "")


def load_image(source, *, settings: Settings | None = None) -> LoadedImage:
    """Read an image from any supported form and normalise it to 8-bit RGB.

    Args:
        source: path (str or PathLike), http(s) URL, data URI, base64 string, bytes,
            PIL image or numpy array (H x W, H x W x 1/3/4; uint8, uint16 or float).
        settings: limits to apply; default: the settings in force.

    Returns:
        A `LoadedImage`.
    """
    settings = settings or get_settings()
    if isinstance(source, LoadedImage):
        return source
    if isinstance(source, Image.Image):
        return LoadedImage(_normalise(_checked(source, "PIL image", settings), "PIL image"), "PIL image", "pil")
    if isinstance(source, np.ndarray):
        shape = f"{source.shape} {source.dtype}"
        return LoadedImage(_from_array(source, settings), f"numpy array {shape}", "array", shape)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _decode(bytes(source), f"{len(source):,} bytes", settings, "bytes", f"{len(source):,}")
    if isinstance(source, os.PathLike):
        return _from_path(source, settings)
    if not isinstance(source, str):
        raise InvalidInputError(
            "Expected an image as a path, URL, data URI, base64 string, bytes, PIL image or numpy "
            f"array. Received: {type(source).__name__}"
        )
    text = source.strip()
    if not text:
        raise InvalidInputError("Expected an image path, URL or data URI. Received: an empty string")
    if text[:5].lower() == "data:":
        raw, _mime = sources.decode_data_uri(text, max_bytes=settings.max_image_bytes)
        return _decode(raw, "data URI", settings, "data_uri")
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text):
        raw = sources.fetch_url(text, settings=settings)
        return _decode(raw, f"URL {text}", settings, "url", text)
    if _looks_like_base64(text):
        raw = sources.decode_base64(text, max_bytes=settings.max_image_bytes)
        return _decode(raw, "base64 string", settings, "base64")
    return _from_path(text, settings)


def _looks_like_base64(text: str) -> bool:
    """Base64 has no dots and a 4-character rhythm; a path to an image nearly always has a dot."""
    return (len(text) >= 32 and "." not in text and bool(_BASE64_TEXT.match(text))
            and len(re.sub(r"\s+", "", text).rstrip("=")) % 4 != 1 and not os.path.exists(text[:4096]))


def _from_path(path, settings: Settings) -> LoadedImage:
    raw = sources.read_local_file(path, max_bytes=settings.max_image_bytes, what="image file", settings=settings)
    name = os.path.basename(os.fspath(path))
    return _decode(raw, f"file {name}", settings, "file", name)


def _decode(raw: bytes, described: str, settings: Settings, kind: str, name: str | None = None) -> LoadedImage:
    if len(raw) > settings.max_image_bytes:
        raise ImageError(f"Expected an image of at most {settings.max_image_bytes:,} bytes. Received: {described}, {len(raw):,} bytes.",
                         key="image_too_many_bytes", source=described, limit=f"{settings.max_image_bytes:,}")
    if not raw:
        raise ImageError(f"Expected image data. Received: {described}, which is empty.", key="image_empty", source=described)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(raw))
    except UnidentifiedImageError as exc:
        raise ImageError(
            "Expected an image file (JPEG, PNG, GIF, WebP, BMP or TIFF). "
            f"Received: {described} that is not a known image format (starts with {raw[:12]!r}).",
            key="image_not_image", source=described) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"Expected an image of at most {settings.max_image_pixels:,} pixels. Received: {described}: {exc}",
                         key="image_too_many_pixels", source=described, width="?", height="?",
                         limit=f"{settings.max_image_pixels:,}") from exc
    checked = _checked(opened, described, settings)
    try:
        checked.seek(0)
        checked.load()
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(
            f"Expected a complete, readable image. Received: {described}, a {opened.format or 'image'} "
            f"file that could not be decoded ({exc}).", key="image_truncated", source=described) from exc
    return LoadedImage(_normalise(checked, described), described, kind, name)


def _checked(image: Image.Image, described: str, settings: Settings) -> Image.Image:
    pixels = image.width * image.height
    if pixels > settings.max_image_pixels:
        raise ImageError(
            f"Expected an image of at most {settings.max_image_pixels:,} pixels. "
            f"Received: {described}, {image.width} x {image.height} = {pixels:,} pixels (refused as a possible decompression bomb).",
            key="image_too_many_pixels", source=described, width=image.width, height=image.height,
            limit=f"{settings.max_image_pixels:,}")
    if image.width < 1 or image.height < 1:
        raise ImageError(f"Expected an image with pixels. Received: {described}, {image.width} x {image.height}.")
    return image


def _normalise(image: Image.Image, described: str) -> Image.Image:
    try:
        image = ImageOps.exif_transpose(image)
    except (OSError, ValueError, KeyError, TypeError):
        pass  # a malformed EXIF block: keep the pixels as stored
    mode = image.mode
    if mode == "RGB":
        return image.copy()
    if mode.startswith("I;16"):
        return _from_array(np.asarray(image), None, bits=16)
    if mode in ("I", "F"):
        return _from_array(np.asarray(image), None)
    if mode == "P":
        image = image.convert("RGBA") if "transparency" in image.info else image.convert("RGB")
        mode = image.mode
    if mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode in ("L", "RGB") and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    try:
        return image.convert("RGB")
    except (ValueError, OSError) as exc:
        raise ImageError(f"Expected an image in a convertible colour mode. Received: {described} in mode {mode}.") from exc


def _from_array(array: np.ndarray, settings: Settings | None, *, bits: int | None = None) -> Image.Image:
    """Make an RGB image from a numpy array of pixels.

    uint8 is taken as is, uint16 as 16-bit, wider integers by their range; floats in [0, 1]
    are scaled to [0, 255], other floats clipped to it.
    """
    if settings is not None:
        if array.ndim >= 2 and array.shape[0] * array.shape[1] > settings.max_image_pixels:
            raise ImageError(f"Expected an image of at most {settings.max_image_pixels:,} pixels. Received: an array of shape {array.shape}.")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)) or array.size == 0:
        raise ImageError(f"Expected an array of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4). Received: shape {array.shape}.")
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    elif np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise ImageError("Expected finite pixel values. Received: an array with NaN or infinity.")
        scale = 255.0 if array.max(initial=0) <= 1.0 else 1.0
        array = np.clip(np.rint(array * scale), 0, 255).astype(np.uint8)
    elif np.issubdtype(array.dtype, np.integer):
        top = int(array.max(initial=0))
        if bits is None and array.dtype == np.uint16:
            bits = 16
        if bits is None and array.dtype.itemsize > 1 and top > 255:
            bits = 16 if top <= 65535 else int(np.ceil(np.log2(top + 1)))
        if bits is not None and bits > 8:
            array = (array.astype(np.float64) * (255.0 / (2**bits - 1))).round()
        array = np.clip(array, 0, 255).astype(np.uint8)
    else:
        raise ImageError(f"Expected numeric pixel values. Received: dtype {array.dtype}.")
    if array.ndim == 2:
        return Image.fromarray(array, "L").convert("RGB")
    if array.shape[2] == 4:
        rgba = Image.fromarray(np.ascontiguousarray(array), "RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return Image.fromarray(np.ascontiguousarray(array), "RGB")
