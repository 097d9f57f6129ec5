"""Draw a Grad-CAM heat map over the photo it explains, and keep the picture in the output folder.

The coarse grid is smoothed up to the photo's size, coloured from blue (cold) through green and
yellow to red (hot), and blended with the photo so the animal stays visible.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
from PIL import Image

from plugin.config import get_settings
from plugin.files import write_atomically

__all__ = ["overlay_image", "overlay_png", "write_overlay", "heat_colours", "MAX_SIDE"]

MAX_SIDE = 640
_HEAT_OPACITY = 0.45


def heat_colours(values: np.ndarray) -> np.ndarray:
    """Values 0..1 as RGB 0..255 along the 'jet' ramp: blue, cyan, green, yellow, red."""
    v = np.clip(values, 0.0, 1.0)[..., np.newaxis]
    ramp = np.concatenate([np.clip(1.5 - np.abs(4 * v - 3), 0, 1), np.clip(1.5 - np.abs(4 * v - 2), 0, 1),
                           np.clip(1.5 - np.abs(4 * v - 1), 0, 1)], axis=-1)
    return (ramp * 255).astype(np.uint8)


def overlay_image(photo: Image.Image, heatmap) -> Image.Image:
    """The photo (at most 640 px a side) with the heat map blended over it."""
    picture = photo.convert("RGB")
    picture.thumbnail((MAX_SIDE, MAX_SIDE))
    grid = np.asarray(heatmap, dtype=np.float32)
    smooth = Image.fromarray(grid, mode="F").resize(picture.size, Image.Resampling.BICUBIC)
    heat = heat_colours(np.asarray(smooth))
    blended = (np.asarray(picture, dtype=np.float32) * (1 - _HEAT_OPACITY) + heat * _HEAT_OPACITY)
    return Image.fromarray(np.clip(blended, 0, 255).astype(np.uint8), "RGB")


def overlay_png(photo: Image.Image, heatmap) -> bytes:
    buffer = io.BytesIO()
    overlay_image(photo, heatmap).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def write_overlay(photo: Image.Image, heatmap, model: str, class_index: int) -> Path:
    """Write the overlay into the output folder's `explanations/` and return its path (named by
    content, so the same explanation is one file)."""
    data = overlay_png(photo, heatmap)
    digest = hashlib.sha256(data).hexdigest()[:16]
    folder = get_settings().output_dir / "explanations"
    folder.mkdir(parents=True, exist_ok=True)
    safe_model = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in model)[:60]
    path = folder / f"{safe_model}-{class_index}-{digest}.png"
    if not path.exists():
        write_atomically(path, data)
    return path
