"""Heat maps side by side in one picture: a row per target, a column per method, each overlay with
its caption (and, where measured, the map's lead over a random map) under it. The picture a
Markdown post or a chat shows for `compare_explanations`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from plugin import words
from plugin.render.inside import font, wrap_lines
from plugin.render.overlay import overlay_image, png_bytes, write_by_content
from plugin.words.results import gradcam_caption, metrics_sentence, sanity_sentence

__all__ = ["explanation_grid", "write_explanation_grid", "TILE"]

TILE = 280
"""Each overlay's longer side in the grid, pixels."""
_PAD, _TEXT = 12, 14


def explanation_grid(photo: Image.Image, comparison: Mapping[str, Any], cams: Sequence[Any], lang: str | None = None) -> Image.Image:
    """The comparison's overlays in a grid (targets down, methods across) with their captions."""
    lang = words.check_lang(lang)
    explanations = comparison["explanations"]
    columns = max(1, len(comparison["methods"]))
    rows = max(1, (len(explanations) + columns - 1) // columns)
    face = font(_TEXT)
    tiles, captions = [], []
    for explained, cam in zip(explanations, cams):
        tile = overlay_image(photo, cam, explained["region"]["box"])
        tile.thumbnail((TILE, TILE))
        tiles.append(tile)
        lines = [gradcam_caption(explained, lang)]
        if "metrics" in explained and "better_than_random" in explained["metrics"]:
            lines.append(metrics_sentence(explained["metrics"], lang))
        if "sanity" in explained:
            lines.append(sanity_sentence(explained["sanity"], lang))
        captions.append([line for text in lines for line in wrap_lines(text, face, TILE)])
    tile_height = max(tile.height for tile in tiles)
    caption_height = max(len(lines) for lines in captions) * int(_TEXT * 1.5)
    cell_height = tile_height + _PAD // 2 + caption_height
    picture = Image.new("RGB", (_PAD + columns * (TILE + _PAD), _PAD + rows * (cell_height + _PAD)), "white")
    draw = ImageDraw.Draw(picture)
    for number, (tile, lines) in enumerate(zip(tiles, captions)):
        left = _PAD + (number % columns) * (TILE + _PAD)
        top = _PAD + (number // columns) * (cell_height + _PAD)
        picture.paste(tile, (left + (TILE - tile.width) // 2, top))
        y = top + tile_height + _PAD // 2
        for line in lines:
            draw.text((left, y), line, fill=(34, 34, 34), font=face)
            y += int(_TEXT * 1.5)
    return picture


def write_explanation_grid(photo: Image.Image, comparison: Mapping[str, Any], cams: Sequence[Any],
                           lang: str | None = None) -> Path:
    """Write the grid into the output folder's `explanations/` (named by content) and return its path."""
    data = png_bytes(explanation_grid(photo, comparison, cams, lang))
    return write_by_content("explanations", comparison["model"], "compare", data)
