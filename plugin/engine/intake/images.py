"""Image intake: accept an image in any form a person or an agent has, return clean RGB pixels.

Accepted: a file path, an http(s) URL, a `data:` URI, a base64 string, raw bytes, a PIL image or
a numpy array. Encoded images are opened only as JPEG, PNG, GIF, WebP, BMP or TIFF (Pillow knows
many more formats, some handed to outside programs: none of them is tried). The result has EXIF
orientation applied and is 8-bit RGB: palette and transparent images are laid onto white, CMYK and
other colour spaces converted, grayscale expanded, 16-bit and float images scaled; of an animation
the first frame is taken. Decompression bombs and oversized inputs are refused before they are
decoded, and an image over `max_working_pixels` is scaled down as it is decoded (JPEG) or right
after, so one image costs a few hundred MB at most and a kept one a few MB. Images over
`max_working_pixels` are decoded one at a time in the process (small ones side by side), so
decoding holds a few hundred MB at most whatever the number of callers or cores.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import threading
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from plugin.config import Settings, get_settings
from plugin.engine.intake import sources
from plugin.engine.results import ImageInput, LoadedImage, PathInput
from plugin.errors import ImageError, InvalidInputError

__all__ = ["load_image", "load_upload", "FORMATS", "IMAGE_SUFFIXES", "bound_decoding"]

_BASE64_TEXT = re.compile(r"^[A-Za-z0-9+/=_\-\s]+$")

FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF")
"""The only formats Pillow is asked to open."""
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff")
"""File names taken as images when a folder or an archive is read: the same formats."""
_FORMAT_NAMES = "JPEG, PNG, GIF, WebP, BMP or TIFF"
_ROWS_PER_STEP = 512
_LARGE_DECODE = threading.Lock()
"""Held while an image over `max_working_pixels` is decoded and scaled down: one at a time."""


PILLOW_BLOCK_BYTES = 64 * 1024 * 1024
"""Pillow's allocation unit for pixels. Above glibc's largest threshold for mapping memory (32 MiB),
so the pixels of a large image are given back to the system once freed, whichever thread decoded
them; with Pillow's own 16 MiB, each thread's heap kept the few hundred MB of its largest image."""


def bound_decoding(settings: Settings | None = None) -> None:
    """Make Pillow refuse, process-wide, to decode an image over the pixel limit, for code that
    decodes without `load_image` (a web framework's image component): Pillow raises above twice
    `MAX_IMAGE_PIXELS`. Large images' pixels are allocated so that they are freed for good."""
    Image.MAX_IMAGE_PIXELS = (settings or get_settings()).max_image_pixels // 2
    Image.core.set_block_size(PILLOW_BLOCK_BYTES)


def load_image(source: ImageInput, *, settings: Settings | None = None) -> LoadedImage:
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
        checked = _checked(source, "PIL image", settings)
        return LoadedImage(_small_then_normal(checked, "PIL image", settings), "PIL image", "pil", None, checked.size)
    if isinstance(source, np.ndarray):
        shape = f"{source.shape} {source.dtype}"
        image = _from_array(source, settings)
        return LoadedImage(_shrunk(image, settings), f"numpy array {shape}", "array", shape, image.size)
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


def load_upload(path: PathInput, *, settings: Settings | None = None) -> LoadedImage:
    """Read a photo a door received as an upload (a file the door itself wrote, outside the image
    roots), with the same limits and checks as any image; only the file's name is ever shown.

    Args:
        path: the uploaded file, as the web framework saved it.
        settings: limits to apply; default: the settings in force.
    """
    settings = settings or get_settings()
    name = os.path.basename(os.fspath(path))[-100:]
    size = os.path.getsize(path)
    if size > settings.max_image_bytes:
        raise ImageError(f"Expected an image of at most {settings.max_image_bytes:,} bytes. Received: {name}, {size:,} bytes.",
                         key="image_too_many_bytes", source=name, limit=f"{settings.max_image_bytes:,}")
    with open(path, "rb") as handle:
        return _decode(handle.read(settings.max_image_bytes + 1), f"file {name}", settings, "file", name)


def _looks_like_base64(text: str) -> bool:
    """Base64 has no dots and a 4-character rhythm; a path to an image nearly always has a dot."""
    return (len(text) >= 32 and "." not in text and bool(_BASE64_TEXT.match(text))
            and len(re.sub(r"\s+", "", text).rstrip("=")) % 4 != 1 and not os.path.exists(text[:4096]))


def _from_path(path, settings: Settings) -> LoadedImage:
    raw = sources.read_local_file(path, max_bytes=settings.max_image_bytes, what="image file", settings=settings)
    name = os.path.basename(os.fspath(path))
    return _decode(raw, f"file {name}", settings, "file", name)


def _decode(raw: bytes, described: str, settings: Settings, kind: str, name: str | None = None) -> LoadedImage:
    where = {"source": described, "source_kind": kind, "source_name": name or ""}  # said again in the reader's language
    if len(raw) > settings.max_image_bytes:
        raise ImageError(f"Expected an image of at most {settings.max_image_bytes:,} bytes. Received: {described}, {len(raw):,} bytes.",
                         key="image_too_many_bytes", **where, limit=f"{settings.max_image_bytes:,}")
    if not raw:
        raise ImageError(f"Expected image data. Received: {described}, which is empty.", key="image_empty", **where)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the pixel count is checked below
            opened = Image.open(io.BytesIO(raw), formats=FORMATS)
    except UnidentifiedImageError as exc:
        raise ImageError(
            f"Expected an image file ({_FORMAT_NAMES}). Received: {described}, {_sniff(raw)}.",
            key="image_not_image", **where) from exc
    except Image.DecompressionBombError as exc:
        raise ImageError(f"Expected an image of at most {settings.max_image_pixels:,} pixels. Received: {described}, more.",
                         key="image_too_many_pixels", **where, width="?", height="?",
                         limit=f"{settings.max_image_pixels:,}") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(f"Expected a complete, readable image. Received: {described}, whose header could not be read.",
                         key="image_truncated", **where) from exc
    checked = _checked(opened, described, settings)
    size = checked.size
    large = size[0] * size[1] > settings.max_working_pixels
    with _LARGE_DECODE if large else contextlib.nullcontext():
        try:
            checked.seek(0)
            if checked.format == "JPEG" and large:
                checked.draft("RGB", _fitting(size, settings.max_working_pixels))  # decode at 1/2, 1/4 or 1/8 scale
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                checked.load()
        except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
            raise ImageError(
                f"Expected a complete, readable image. Received: {described}, a {opened.format or 'image'} "
                "file that could not be decoded.", key="image_truncated", source=described) from exc
        pixels, shown = _small_then_normal(checked, described, settings), _oriented(size, checked)
        if pixels is not checked:
            checked.close()  # the full-size pixels are let go before the next large image decodes
    return LoadedImage(pixels, described, kind, name, shown)


def _oriented(size: tuple[int, int], image: Image.Image) -> tuple[int, int]:
    """The size as shown: EXIF orientations 5 to 8 turn the picture a quarter."""
    try:
        turned = image.getexif().get(0x0112) in (5, 6, 7, 8)
    except (OSError, ValueError, KeyError, TypeError):
        turned = False
    return (size[1], size[0]) if turned else size


def _sniff(raw: bytes) -> str:
    """What non-image bytes are, in words, without quoting them: a format Pillow recognises by its
    signature (not opened), text, or unknown data."""
    Image.init()
    head = raw[:64]
    for name, (_factory, accept) in Image.OPEN.items():
        if name not in FORMATS and accept is not None:
            try:
                if accept(head):
                    return f"in {name} format, which is not read here"
            except Exception:  # noqa: BLE001 - a plugin's signature test is not ours to trust
                continue
    try:
        raw[:4096].decode("utf-8")
        return "which is text, not an image"
    except UnicodeDecodeError:
        return f"{len(raw):,} bytes of an unknown format"


def _fitting(size: tuple[int, int], pixels: int) -> tuple[int, int]:
    """The size, same aspect ratio, with at most `pixels` pixels."""
    scale = min(1.0, (pixels / (size[0] * size[1])) ** 0.5)
    return max(1, int(size[0] * scale)), max(1, int(size[1] * scale))


def _shrunk(image: Image.Image, settings: Settings) -> Image.Image:
    """The image, scaled down (area-averaged) to at most `max_working_pixels` if larger."""
    if image.width * image.height <= settings.max_working_pixels:
        return image
    return image.resize(_fitting(image.size, settings.max_working_pixels), Image.Resampling.BOX)


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


def _small_then_normal(image: Image.Image, described: str, settings: Settings) -> Image.Image:
    """The image in 8-bit RGB, upright, at most `max_working_pixels`: a large one is scaled down in
    its own mode first (a palette made RGB first), so the colour conversions and the white
    background behind transparency work on the small copy, not on 50 MP of RGBA."""
    orientation = _orientation(image)
    if image.width * image.height > settings.max_working_pixels:
        if image.mode == "P":
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        if image.mode in _RESIZABLE:
            image = _shrunk(image, settings)
    if orientation in _TURNS:
        image = image.transpose(_TURNS[orientation])
    return _shrunk(_normalise(image, described), settings)


_RESIZABLE = frozenset({"L", "LA", "RGB", "RGBA", "I", "F"})
"""Modes Pillow scales with area averaging, alpha kept apart from colour."""
_TURNS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
          5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
          8: Image.Transpose.ROTATE_90}
"""EXIF orientation -> the turn that shows the picture upright (as `ImageOps.exif_transpose`)."""


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112) or 1)
    except (OSError, ValueError, KeyError, TypeError):
        return 1  # a malformed EXIF block: keep the pixels as stored


def _normalise(image: Image.Image, described: str) -> Image.Image:
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
        array = _scaled_to_bytes(array, 255.0 if array.max(initial=0) <= 1.0 else 1.0)
    elif np.issubdtype(array.dtype, np.integer):
        top = int(array.max(initial=0))
        if bits is None and array.dtype == np.uint16:
            bits = 16
        if bits is None and array.dtype.itemsize > 1 and top > 255:
            bits = 16 if top <= 65535 else int(np.ceil(np.log2(top + 1)))
        if bits is not None and bits > 8:
            array = _scaled_to_bytes(array, 255.0 / (2**bits - 1))
        else:
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


def _scaled_to_bytes(array: np.ndarray, scale: float) -> np.ndarray:
    """`clip(round(array * scale), 0, 255)` as uint8, a block of rows at a time, so a large 16-bit
    or float image needs no float64 copy of itself."""
    out = np.empty(array.shape, dtype=np.uint8)
    for start in range(0, array.shape[0], _ROWS_PER_STEP):
        block = array[start:start + _ROWS_PER_STEP].astype(np.float64) * scale
        out[start:start + _ROWS_PER_STEP] = np.clip(np.rint(block), 0, 255)
    return out
