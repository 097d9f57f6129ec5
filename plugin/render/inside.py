"""Pictures of what a network sees inside (`look_inside`): kernels as tiles, weight histograms, the
photo's feature maps, one cell's receptive field on the photo, and the images that maximise a channel.

Each function takes the contract's data (`plugin.engine.results`: `KernelView`, `HistogramPair`,
`FeatureMap`, `MaximizedFilter`) and the arrays beside it, and returns PNG bytes drawn with Pillow:
opaque (RGB on white, readable on a dark blog too), whole (the canvas is measured from what it
holds, nothing is cut) and at most `MAX_WIDTH` pixels wide. Small arrays are enlarged
nearest-neighbour, so a 3x3 kernel or a 7x7 map stays its own cells. Words come from the report
catalogue (`plugin.words`, keys `inside_pic_*`) and are drawn in Noto Sans CJK where it is installed
(`./run.sh` installs it), so Korean labels render. `inside_pictures` draws every picture a study
has, for the API to write.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from plugin import words
from plugin.engine.results import FeatureMap, HistogramPair, InsideResult, KernelView, MaximizedFilter
from plugin.render.overlay import MAX_SIDE, REGION_COLOURS

__all__ = ["wrap_lines", "kernel_grid_png", "channel_slices_png", "histograms_png", "feature_map_grid_png", "receptive_field_png",
           "maximized_png", "inside_pictures", "map_title", "map_caption", "viridis", "font", "MAX_WIDTH", "FIELD_COLOUR",
           "SLICE_INPUTS"]

MAX_WIDTH = 1200
"""Widest picture drawn: wider than a blog's column already; a phone scales it down."""
FIELD_COLOUR = (255, 64, 129)
"""The receptive field's square on the photo: a pink no photo of a dog or a cat is."""
TRAINED_COLOUR = (37, 99, 235)
UNTRAINED_COLOUR = (234, 88, 12)
_WHITE, _INK, _MUTED, _LINE = (255, 255, 255), (17, 24, 39), (107, 114, 128), (209, 213, 219)
_PAD, _GAP = 16, 10
SLICE_INPUTS = 6
"""Input channels drawn for each kernel of a deeper layer (`channel_slices_png`)."""
_KERNEL_TILE = 56
"""A kernel tile's side: a 3x3 kernel's cells 18 pixels each, a 7x7's 8."""
_MAP_TILE = 112
"""A small feature map's side once enlarged (a 7x7 map 16 times); a larger one keeps its own size."""
_FONTS = (("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc"), ("NotoSansCJKkr-Regular.otf", "NotoSansCJKkr-Bold.otf"),
          ("NotoSansKR-Regular.otf", "NotoSansKR-Bold.otf"), ("NotoSansKR-Regular.ttf", "NotoSansKR-Bold.ttf"),
          ("AppleSDGothicNeo.ttc", "AppleSDGothicNeo.ttc"), ("malgun.ttf", "malgunbd.ttf"),
          ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"))
"""Fonts tried in order (Pillow finds a bare name in the system's font folders): Korean first."""
_VIRIDIS = ((0.0, (68, 1, 84)), (0.125, (71, 44, 122)), (0.25, (59, 81, 139)), (0.375, (44, 113, 142)),
            (0.5, (33, 144, 141)), (0.625, (39, 173, 129)), (0.75, (92, 200, 99)), (0.875, (170, 220, 50)),
            (1.0, (253, 231, 37)))
"""Matplotlib's viridis at nine points: dark violet (quiet) through teal to yellow (most active)."""

FontType = ImageFont.FreeTypeFont | ImageFont.ImageFont


# ----- drawing helpers ------------------------------------------------------------------------

@functools.cache
def font(size: int, *, bold: bool = False) -> FontType:
    """A font of `size` pixels that draws Korean where one is installed (Noto Sans CJK KR's face of
    the collection), else DejaVu Sans, else Pillow's own."""
    for regular, heavy in _FONTS:
        name = heavy if bold else regular
        try:
            first = ImageFont.truetype(name, size)
        except OSError:
            continue
        if name.endswith(".ttc"):  # a collection: the Korean face where it has one
            for index in range(10):
                try:
                    face = ImageFont.truetype(name, size, index=index)
                except OSError:
                    break
                family = " ".join(part or "" for part in face.getname())
                if "KR" in family or "Gothic" in family:
                    return face
        return first
    return ImageFont.load_default(size)


def _words(lang: str) -> dict:
    return words.section("report", lang)


def _width(text: str, face: FontType) -> int:
    left, _, right, _ = face.getbbox(text or " ")
    return int(math.ceil(right - min(0, left)))


def _line_height(face: FontType) -> int:
    return int(math.ceil(getattr(face, "size", 12) * 1.5))  # Noto Sans CJK: ascent and descent 1.45 em


def wrap_lines(text: str, face: FontType, width: int) -> list[str]:
    """`text` in lines no wider than `width` pixels, broken between words (a word wider is its own line)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            trial = f"{line} {word}" if line else word
            if line and _width(trial, face) > width:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return lines


def _png(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _number(value: float) -> str:
    """A weight or an activation as the pictures write it: four significant figures, no exponent
    for the values a network has."""
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    if abs(value) >= 100:
        return f"{value:.1f}"
    if abs(value) >= 0.001:
        return f"{value:.4g}"
    text = f"{value:.4f}"
    return text[1:] if text.startswith("-") else text  # "0.0001", never an exponent or "-0.0000"


class _Canvas:
    """A white picture with a cursor: lines of text and pieces placed top to bottom."""

    def __init__(self, width: int, height: int) -> None:
        self.image = Image.new("RGB", (max(1, width), max(1, height)), _WHITE)
        self.draw = ImageDraw.Draw(self.image)

    def text(self, xy: tuple[float, float], text: str, face: FontType, fill=_INK, anchor: str = "la") -> None:
        self.draw.text(xy, text, font=face, fill=fill, anchor=anchor)


def _caption_lines(lines: Sequence[tuple[str, FontType, tuple[int, int, int]]], width: int) -> list[tuple[str, FontType, Any]]:
    """Caption lines, each wrapped to `width` pixels, with their font and colour."""
    return [(piece, face, colour) for text, face, colour in lines if text for piece in wrap_lines(text, face, width)]


def _caption_height(lines: Sequence[tuple[str, FontType, Any]]) -> int:
    return sum(_line_height(face) for _, face, _ in lines)


def _draw_caption(canvas: _Canvas, lines: Sequence[tuple[str, FontType, Any]], x: int, y: int) -> int:
    for text, face, colour in lines:
        canvas.text((x, y), text, face, colour)
        y += _line_height(face)
    return y


def _content_width(needed: int, captions: Sequence[tuple[str, FontType, Any]]) -> int:
    """The picture's inner width: what its grid needs, or its longest caption line, at most `MAX_WIDTH`."""
    longest = max((_width(text, face) for text, face, _ in captions if text), default=0)
    return min(MAX_WIDTH - 2 * _PAD, max(needed, longest))


# ----- colours -------------------------------------------------------------------------------

@functools.cache
def _viridis_table() -> np.ndarray:
    stops = np.array([stop for stop, _ in _VIRIDIS])
    colours = np.array([colour for _, colour in _VIRIDIS], dtype=np.float64)
    ramp = np.linspace(0, 1, 256)
    return np.stack([np.interp(ramp, stops, colours[:, channel]) for channel in range(3)], axis=-1).round().astype(np.uint8)


def viridis(values: np.ndarray) -> np.ndarray:
    """Values 0..1 as RGB (uint8) along viridis: dark violet for 0, yellow for 1."""
    index = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64)) * 255, 0, 255).round().astype(np.int64)
    return _viridis_table()[index]


def _symmetric(values: np.ndarray, scale: float) -> np.ndarray:
    """Weights -scale..+scale as 0..255 around mid-grey (128 for 0), as the book scales them."""
    scale = float(scale) if scale and math.isfinite(scale) and scale > 0 else float(np.abs(values).max() or 1.0)
    return np.clip(127.5 + 127.5 * np.asarray(values, dtype=np.float64) / scale, 0, 255).round().astype(np.uint8)


def _enlarged(pixels: np.ndarray, factor: int) -> Image.Image:
    """An (H, W) or (H, W, 3) uint8 array enlarged `factor` times, nearest-neighbour."""
    picture = Image.fromarray(np.ascontiguousarray(pixels), "L" if pixels.ndim == 2 else "RGB").convert("RGB")
    if factor == 1:
        return picture
    return picture.resize((picture.width * factor, picture.height * factor), Image.Resampling.NEAREST)


def _factor(side: int, target: int) -> int:
    return max(1, target // max(1, side))


# ----- kernels -------------------------------------------------------------------------------

def _depthwise_tiles(array: np.ndarray, shown: int) -> list[np.ndarray]:
    """A depthwise kernel array as one (kh, kw) slice per shown channel, whichever way the shown
    channels lie in it: (kh, kw, shown), (kh, kw, 1, shown), (kh, kw, shown, 1) or (kh, kw, channels, multiplier)."""
    if array.ndim == 3:
        return [array[:, :, index] for index in range(min(shown, array.shape[2]))]
    if array.shape[3] == shown and array.shape[2] == 1:
        return [array[:, :, 0, index] for index in range(shown)]
    if array.shape[2] == shown and array.shape[3] == 1:
        return [array[:, :, index, 0] for index in range(shown)]
    flat = array.reshape(array.shape[0], array.shape[1], -1)
    return [flat[:, :, index] for index in range(min(shown, flat.shape[2]))]


def kernel_grid_png(kernels: np.ndarray, view: KernelView, lang: str, *, channel_order: str = "RGB") -> bytes:
    """Each shown output channel's kernel as a tile in a grid, its index under it.

    A kernel of three input channels is a colour tile (its channels as red, green and blue; give
    `channel_order="BGR"` for a model fed BGR, such as VGG16 and ResNet50 with Caffe preprocessing,
    so each tile shows the colour it responds to); a depthwise kernel or one input channel is a grey
    tile. All are scaled symmetrically, -scale..+scale around mid-grey (`view["scale"]`). A kernel of
    more input channels is drawn by `channel_slices_png`.

    Args:
        kernels: (kh, kw, in, shown) in the order of `view["shown"]` (depthwise: see `_depthwise_tiles`).
        view: the `KernelView` it came with.
        lang: the language of the picture's words.
        channel_order: the order of the input's channels, "RGB" or "BGR".
    """
    array = np.asarray(kernels, dtype=np.float64)
    shown = list(view["shown"])
    depthwise = "depthwise" in str(view.get("kind", "")).lower()
    if not depthwise and array.ndim == 4 and array.shape[2] not in (1, 3):
        return channel_slices_png(kernels, view, lang)
    t = _words(lang)
    if depthwise or array.ndim != 4 or array.shape[2] == 1:
        slices = _depthwise_tiles(array, len(shown)) if depthwise or array.ndim != 4 else [array[:, :, 0, i] for i in range(array.shape[3])]
        tiles = [_symmetric(piece, view["scale"]) for piece in slices]
        colour_note = ""
    else:
        rgb = array[:, :, ::-1, :] if channel_order.upper() == "BGR" else array
        tiles = [_symmetric(rgb[:, :, :, index], view["scale"]) for index in range(array.shape[3])]
        colour_note = t["inside_pic_colours_bgr" if channel_order.upper() == "BGR" else "inside_pic_colours_rgb"]
    shape = list(view["shape"])
    kh, kw = shape[0], shape[1]
    channels = shape[2]
    count = shape[3] * (shape[2] if depthwise else 1)
    factor = _factor(max(kh, kw), _KERNEL_TILE)
    tile_w, tile_h = kw * factor, kh * factor
    label_face = font(13)
    cell_w = max(tile_w, _width(str(max(shown, default=0)), label_face)) + _GAP
    cell_h = tile_h + _line_height(label_face) + 4
    count_tiles = len(tiles)
    columns = max(1, min(count_tiles, 16 if count_tiles > 64 else 8, (MAX_WIDTH - 2 * _PAD + _GAP) // cell_w))
    rows = math.ceil(count_tiles / columns) if count_tiles else 0
    title = t["inside_pic_kernels_all" if count_tiles >= count else "inside_pic_kernels"].format(
        layer=view["layer"], kh=kh, kw=kw, channels=1 if depthwise else channels, count=count, shown=count_tiles)
    scale_note = t["inside_pic_scale"].format(scale=_number(view["scale"]))
    captions = [(title, font(17, bold=True), _INK), (colour_note, font(14), _MUTED)]
    bar_h = 16
    width = _content_width(columns * cell_w - _GAP, [*captions, (scale_note + " " * 40, font(14), _MUTED)])
    lines = _caption_lines(captions, width)
    top = _PAD + _caption_height(lines) + 6
    legend_h = bar_h + _line_height(font(13)) + 8
    canvas = _Canvas(width + 2 * _PAD, top + legend_h + 8 + rows * cell_h + _PAD)
    _draw_caption(canvas, lines, _PAD, _PAD)
    _draw_grey_bar(canvas, _PAD, top, view["scale"], scale_note, bar_h)
    grid_top = top + legend_h + 8
    for index, (tile, channel) in enumerate(zip(tiles, shown)):
        x = _PAD + (index % columns) * cell_w
        y = grid_top + (index // columns) * cell_h
        picture = _enlarged(tile, factor)
        canvas.image.paste(picture, (x, y))
        canvas.draw.rectangle((x - 1, y - 1, x + tile_w, y + tile_h), outline=_LINE)
        canvas.text((x + tile_w / 2, y + tile_h + 3), str(channel), label_face, _MUTED, anchor="ma")
    return _png(canvas.image)


def _draw_grey_bar(canvas: _Canvas, x: int, y: int, scale: float, note: str, height: int) -> None:
    """The grey ramp the tiles are drawn with: -scale at its left, 0 (mid-grey) in its middle, +scale at its right."""
    width = 200
    ramp = np.tile(np.linspace(0, 255, width).round().astype(np.uint8), (height, 1))
    canvas.image.paste(Image.fromarray(ramp, "L").convert("RGB"), (x, y))
    canvas.draw.rectangle((x - 1, y - 1, x + width, y + height), outline=_LINE)
    face = font(13)
    below = y + height + 2
    canvas.text((x, below), "-" + _number(scale), face, _MUTED)
    canvas.text((x + width / 2, below), "0", face, _MUTED, anchor="ma")
    canvas.text((x + width, below), "+" + _number(scale), face, _MUTED, anchor="ra")
    canvas.text((x + width + 14, y + height / 2), note, font(14), _MUTED, anchor="lm")


def channel_slices_png(kernels: np.ndarray, view: KernelView, lang: str, *, inputs: int = SLICE_INPUTS) -> bytes:
    """Each shown kernel of a deeper layer as a row of grey slices, one per input channel (the first
    `inputs` of them), scaled symmetrically around mid-grey; depthwise kernels (one slice each, on
    their own channel) as `kernel_grid_png` draws them.

    Args:
        kernels: (kh, kw, in, shown) in the order of `view["shown"]`.
        view: the `KernelView` it came with.
        lang: the language of the picture's words.
        inputs: how many input channels to draw for each kernel.
    """
    t = _words(lang)
    array = np.asarray(kernels, dtype=np.float64)
    shown = list(view["shown"])
    if "depthwise" in str(view.get("kind", "")).lower() or array.ndim != 4:
        return kernel_grid_png(kernels, view, lang)  # one slice each, on its own channel: a grid of grey tiles
    columns = max(1, min(inputs, array.shape[2]))
    rows_of = [[array[:, :, channel, index] for channel in range(columns)] for index in range(min(len(shown), array.shape[3]))]
    shape = list(view["shape"])
    kh, kw = shape[0], shape[1]
    factor = _factor(max(kh, kw), _KERNEL_TILE)
    tile_w, tile_h = kw * factor, kh * factor
    label_face, head_face = font(13), font(13)
    row_label = t["inside_pic_output_channel"]
    label_w = max(_width(f"{row_label} {max(shown, default=0)}", label_face), _width(t["inside_pic_inputs"], head_face), 40) + _GAP
    cell_w = max(tile_w, _width("000", head_face)) + _GAP
    title = t["inside_pic_kernels"].format(layer=view["layer"], kh=kh, kw=kw, channels=shape[2], count=shape[3], shown=len(rows_of))
    note = t["inside_pic_slices"].format(inputs=columns, channels=shape[2])
    scale_note = t["inside_pic_scale"].format(scale=_number(view["scale"]))
    captions = [(title, font(17, bold=True), _INK), (note, font(14), _MUTED)]
    width = _content_width(label_w + columns * cell_w, [*captions, (scale_note + " " * 40, font(14), _MUTED)])
    lines = _caption_lines(captions, width)
    top = _PAD + _caption_height(lines) + 6
    bar_h = 16
    legend_h = bar_h + _line_height(font(13)) + 8
    head_h = _line_height(head_face) + 2
    row_h = tile_h + _GAP
    canvas = _Canvas(width + 2 * _PAD, top + legend_h + 8 + head_h + len(rows_of) * row_h + _PAD)
    _draw_caption(canvas, lines, _PAD, _PAD)
    _draw_grey_bar(canvas, _PAD, top, view["scale"], scale_note, bar_h)
    grid_top = top + legend_h + 8
    canvas.text((_PAD, grid_top), t["inside_pic_inputs"], head_face, _MUTED)
    for column in range(columns):
        canvas.text((_PAD + label_w + column * cell_w + tile_w / 2, grid_top), str(column), head_face, _MUTED, anchor="ma")
    for row, (pieces, channel) in enumerate(zip(rows_of, shown)):
        y = grid_top + head_h + row * row_h
        canvas.text((_PAD, y + tile_h / 2), f"{row_label} {channel}", label_face, _INK, anchor="lm")
        for column, piece in enumerate(pieces):
            x = _PAD + label_w + column * cell_w
            canvas.image.paste(_enlarged(_symmetric(piece, view["scale"]), factor), (x, y))
            canvas.draw.rectangle((x - 1, y - 1, x + tile_w, y + tile_h), outline=_LINE)
    return _png(canvas.image)


# ----- histograms ----------------------------------------------------------------------------

def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round values between `low` and `high` for an axis (about `count` of them)."""
    if not math.isfinite(low) or not math.isfinite(high) or high <= low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [round(first + i * step, 10) for i in range(int((high - first) / step + 1e-9) + 1)]


def histograms_png(pair: HistogramPair, lang: str, *, weights: str | None = None) -> bytes:
    """One layer's weights, trained against freshly initialised, as two histograms on the same bins
    (blue and orange, translucent where they overlap), each with its mean marked and its mean and
    standard deviation written, the initialiser named; the batch normalisation's scale (γ) and
    shift (β) after it as a note under the chart, where there is one.

    Args:
        pair: the `HistogramPair`.
        lang: the language of the picture's words.
        weights: the trained weights' name for the legend ("imagenet"); default "trained" alone.
    """
    t = _words(lang)
    bins = np.asarray(pair["bins"], dtype=np.float64)
    trained = np.asarray(pair["trained_counts"], dtype=np.float64)
    untrained = np.asarray(pair["untrained_counts"], dtype=np.float64)
    plot_w, plot_h = 560, 280  # narrow enough that a phone shows its words at a readable size
    left, gap_top = 70, 12
    title = t["inside_pic_hist_title"].format(layer=pair["layer"], count=f"{pair['trained']['count']:,}")
    trained_name = t["inside_pic_trained"].format(weights=weights) if weights else t["inside_pic_trained_plain"]
    legend = [(trained_name, pair["trained"], TRAINED_COLOUR),
              (t["inside_pic_untrained"].format(initializer=pair["initializer"]), pair["untrained"], UNTRAINED_COLOUR)]
    legend_face, note_face = font(17), font(16)
    notes = _batch_norm_notes(pair.get("batch_norm"), t)
    width = _content_width(left + plot_w + 10, [(title, font(20, bold=True), _INK)])
    title_lines = _caption_lines([(title, font(20, bold=True), _INK)], width)
    wrapped_legend: list[tuple[str, Any]] = []  # (line, the swatch's colour on an entry's first line, else None)
    for name, stats, colour in legend:
        said = t["inside_pic_stats"].format(mean=_number(stats["mean"]), std=_number(stats["std"]))
        whole = f"{name} · {said}"
        pieces = [whole] if _width(whole, legend_face) <= width - 28 else [*wrap_lines(name, legend_face, width - 28), said]
        wrapped_legend += [(piece, colour if index == 0 else None) for index, piece in enumerate(pieces)]
    note_lines = _caption_lines([(note, note_face, _INK) for note in notes], width)
    tick_face = font(15)
    top = _PAD + _caption_height(title_lines) + len(wrapped_legend) * _line_height(legend_face) + gap_top + _line_height(tick_face)
    axis_h = 2 * _line_height(tick_face) + 8
    height = top + plot_h + axis_h + (_caption_height(note_lines) + 8 if note_lines else 0) + _PAD
    canvas = _Canvas(width + 2 * _PAD, height)
    y = _draw_caption(canvas, title_lines, _PAD, _PAD)
    for text, colour in wrapped_legend:
        if colour is not None:
            canvas.draw.rectangle((_PAD, y + 5, _PAD + 18, y + 21), fill=colour)
        canvas.text((_PAD + 28, y), text, legend_face, _INK)
        y += _line_height(legend_face)
    x0, y0 = _PAD + left, top
    plot_w = width - left - 10
    highest = max(float(trained.max(initial=0)), float(untrained.max(initial=0)), 1.0)
    peak = highest * 1.08  # room above the tallest bar: it is seen to end
    low, high = float(bins[0]), float(bins[-1]) if len(bins) > 1 else float(bins[0]) + 1
    span = (high - low) or 1.0

    def x_at(value: float) -> float:
        return x0 + (value - low) / span * plot_w

    def y_at(count: float) -> float:
        return y0 + plot_h - count / peak * plot_h

    canvas.draw.rectangle((x0, y0, x0 + plot_w, y0 + plot_h), fill=(248, 250, 252), outline=_LINE)
    for tick in _ticks(0, highest, 4):
        canvas.draw.line((x0, y_at(tick), x0 + plot_w, y_at(tick)), fill=(229, 231, 235))
        canvas.text((x0 - 6, y_at(tick)), f"{int(tick):,}", tick_face, _MUTED, anchor="rm")
    layer = Image.new("RGBA", canvas.image.size, (0, 0, 0, 0))
    bars = ImageDraw.Draw(layer)
    for counts, colour in ((untrained, UNTRAINED_COLOUR), (trained, TRAINED_COLOUR)):
        for index, value in enumerate(counts[: len(bins) - 1]):
            if value > 0:
                bars.rectangle((x_at(bins[index]), y_at(value), x_at(bins[index + 1]), y0 + plot_h), fill=(*colour, 110))
        outline: list[tuple[float, float]] = [(x_at(bins[0]), float(y0 + plot_h))]
        for index, value in enumerate(counts[: len(bins) - 1]):
            outline += [(x_at(bins[index]), y_at(value)), (x_at(bins[index + 1]), y_at(value))]
        outline.append((x_at(bins[-1]), y0 + plot_h))
        bars.line(outline, fill=(*colour, 255), width=2)
    for stats, colour in ((pair["untrained"], UNTRAINED_COLOUR), (pair["trained"], TRAINED_COLOUR)):
        if low <= stats["mean"] <= high:
            x = x_at(stats["mean"])
            for start in range(int(y0), int(y0 + plot_h), 8):  # dashed: the mean
                bars.line((x, start, x, min(start + 4, y0 + plot_h)), fill=(*colour, 255), width=2)
    canvas.image.paste(Image.alpha_composite(canvas.image.convert("RGBA"), layer).convert("RGB"))
    canvas.draw = ImageDraw.Draw(canvas.image)
    for tick in _ticks(low, high, 5):
        x = x_at(tick)
        canvas.draw.line((x, y0 + plot_h, x, y0 + plot_h + 4), fill=_MUTED)
        canvas.text((x, y0 + plot_h + 6), _number(tick), tick_face, _MUTED, anchor="ma")
    axis_y = y0 + plot_h + 6 + _line_height(tick_face)
    canvas.text((x0 + plot_w / 2, axis_y), t["inside_pic_weights_axis"], tick_face, _INK, anchor="ma")
    canvas.text((_PAD, y0 - 2), t["inside_pic_count_axis"], tick_face, _MUTED, anchor="ld")
    if note_lines:
        _draw_caption(canvas, note_lines, _PAD, y0 + plot_h + axis_h + 8)
    return _png(canvas.image)


def _stats_of(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) and "mean" in value and "std" in value else None


def _batch_norm_notes(batch_norm: Mapping[str, Any] | None, t: dict) -> list[str]:
    """The batch normalisation's scale and shift, in words: "bn_conv1: γ mean 0.87 (std 0.31), β ..."."""
    if not batch_norm:
        return []
    gamma = next((_stats_of(batch_norm.get(key)) for key in ("gamma", "scale") if _stats_of(batch_norm.get(key))), None)
    beta = next((_stats_of(batch_norm.get(key)) for key in ("beta", "shift", "center") if _stats_of(batch_norm.get(key))), None)
    parts = []
    if gamma:
        parts.append(t["inside_pic_gamma"].format(mean=_number(gamma["mean"]), std=_number(gamma["std"])))
    if beta:
        parts.append(t["inside_pic_beta"].format(mean=_number(beta["mean"]), std=_number(beta["std"])))
    if not parts:
        return []
    return [t["inside_pic_batch_norm"].format(layer=batch_norm.get("layer", ""), values=" · ".join(parts))]


# ----- feature maps --------------------------------------------------------------------------

def _normalised(channel: np.ndarray) -> np.ndarray:
    """One channel's values as 0..1 from its own lowest to its highest (a channel that is one value is 0)."""
    values = np.nan_to_num(np.asarray(channel, dtype=np.float64))
    low, high = float(values.min(initial=0.0)), float(values.max(initial=0.0))
    return (values - low) / (high - low) if high - low > 1e-12 else np.zeros_like(values)


def map_caption(entry: FeatureMap, lang: str) -> str:
    """The line under a feature map's name: its output shape, receptive field and activation."""
    t = _words(lang)
    parts = [t["inside_pic_output"].format(shape=" x ".join(str(d) for d in entry["output_shape"]))]
    field = entry.get("receptive_field")
    if field:
        parts.append(t["inside_pic_field"].format(size=field["size"], stride=field["stride"]))
    parts.append(t["inside_pic_after_relu" if entry["after_relu"] else "inside_pic_activation_of"].format(
        activation=_activation_name(entry["activation"])))
    return " · ".join(parts)


def _activation_name(activation: str) -> str:
    """The layer a feature map is the output of, with a one-word note kept ("stem_activation (ReLU6)")
    and a sentence of the engine's dropped ("block2b_add (no ReLU)": the caption says it in words)."""
    name, _, note = str(activation).partition(" (")
    note = note.rstrip(")")
    return f"{name} ({note})" if note and " " not in note else name


def map_title(entry: FeatureMap, lang: str) -> str:
    """A feature map's name: the layer, and the stage it ends where it ends one."""
    stage = entry.get("stage")
    return entry["layer"] + (" · " + _words(lang)["inside_pic_stage"].format(stage=stage) if stage else "")


def feature_map_grid_png(array: np.ndarray, entry: FeatureMap, lang: str) -> bytes:
    """Each shown channel of one layer's output as a tile at the layer's own resolution (a small map
    enlarged nearest-neighbour to about 112 pixels), coloured along viridis from its own lowest value
    (dark violet) to its highest (yellow), with its channel index and mean activation under it; the
    layer's name, stage, output shape, receptive field and activation above.

    Args:
        array: (H, W, shown) in the order of `entry["channels"]`.
        entry: the `FeatureMap` it came with.
        lang: the language of the picture's words.
    """
    maps = np.asarray(array, dtype=np.float64)
    if maps.ndim == 2:
        maps = maps[:, :, np.newaxis]
    height, width_px, count = maps.shape
    channels = list(entry["channels"])[:count] + list(range(len(entry["channels"]), count))
    means = list(entry.get("means") or [])
    factor = _factor(max(height, width_px), _MAP_TILE if count <= 64 else _MAP_TILE // 2)
    tile_w, tile_h = width_px * factor, height * factor
    label_face = font(14)
    cell_w = max(tile_w, _width("000 · 0.000", label_face)) + _GAP
    cell_h = tile_h + _line_height(label_face) + 6
    preferred = 4 if count <= 16 else 8 if count <= 64 else 16  # 16 maps in a 4 x 4 grid: legible on a phone
    columns = max(1, min(count, preferred, (MAX_WIDTH - 2 * _PAD + _GAP) // cell_w))
    rows = math.ceil(count / columns)
    captions = [(map_title(entry, lang), font(17, bold=True), _INK), (map_caption(entry, lang), font(14), _MUTED)]
    width = _content_width(columns * cell_w - _GAP, captions)
    lines = _caption_lines(captions, width)
    top = _PAD + _caption_height(lines) + 6
    canvas = _Canvas(width + 2 * _PAD, top + rows * cell_h + _PAD)
    _draw_caption(canvas, lines, _PAD, _PAD)
    for index in range(count):
        x = _PAD + (index % columns) * cell_w
        y = top + (index // columns) * cell_h
        canvas.image.paste(_enlarged(viridis(_normalised(maps[:, :, index])), factor), (x, y))
        label = str(channels[index]) + (f" · {_number(means[index])}" if index < len(means) else "")
        canvas.text((x, y + tile_h + 3), label, label_face, _MUTED)
    return _png(canvas.image)


# ----- receptive field -----------------------------------------------------------------------

def receptive_field_png(photo: Image.Image, box: Sequence[float], *, region: Sequence[float] | None = None,
                        stages: Sequence[tuple[str, Sequence[float]]] = ()) -> bytes:
    """The photo (at most 640 pixels a side) with the square of pixels one feature-map cell sees
    drawn on it (a pink frame, the photo around it dimmed; a tiny square ringed so it is found), the
    region the model saw framed as the Grad-CAM pictures frame it, and, where `stages` are given, the
    window that the cell over the same spot sees at each later stage, growing, labelled.

    Args:
        photo: the photo.
        box: (left, top, right, bottom) in the photo's pixels; may reach outside it (padding).
        region: the part of the photo the model saw (left, top, right, bottom), or None.
        stages: (label, box) of each later stage's cell over the same spot, shallow to deep.
    """
    picture = photo.convert("RGB")
    scale = min(1.0, MAX_SIDE / max(picture.size))
    picture.thumbnail((MAX_SIDE, MAX_SIDE))
    left, top, right, bottom = (value * scale for value in box)
    inside = (max(0, math.floor(left)), max(0, math.floor(top)),
              min(picture.width, math.ceil(right)), min(picture.height, math.ceil(bottom)))
    pixels = np.asarray(picture, dtype=np.float32)
    dimmed = pixels * 0.7
    if inside[2] > inside[0] and inside[3] > inside[1]:
        dimmed[inside[1]:inside[3], inside[0]:inside[2]] = pixels[inside[1]:inside[3], inside[0]:inside[2]]
    framed = Image.fromarray(dimmed.round().astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(framed)
    if region is not None:
        r_left, r_top, r_right, r_bottom = (round(value * scale) for value in region)
        if (r_left, r_top, r_right, r_bottom) != (0, 0, picture.width, picture.height):
            draw.rectangle((r_left, r_top, r_right - 1, r_bottom - 1), outline=REGION_COLOURS["crop"], width=2)
    face = font(12, bold=True)
    labels: list[tuple[float, float, float, float]] = []
    for index, (label, stage_box) in enumerate(stages):  # the same spot seen from deeper and deeper: yellow to cyan
        share = index / max(1, len(stages) - 1)
        colour = (round(255 * (1 - share)), round(200 + 55 * share), round(255 * share))
        s_left, s_top, s_right, s_bottom = (value * scale for value in stage_box)
        draw.rectangle((s_left, s_top, s_right, s_bottom), outline=colour, width=1)
        text_w, text_h = _width(label, face), _line_height(face)
        text_x = min(max(2.0, s_left + 3), picture.width - text_w - 2)
        text_y = min(max(2.0, s_top + 2), picture.height - text_h - 2)
        spot = (text_x, text_y, text_x + text_w, text_y + text_h)
        if s_right - s_left < text_w + 6 or any(spot[0] < o[2] and o[0] < spot[2] and spot[1] < o[3] and o[1] < spot[3] for o in labels):
            continue  # a window too small for its name, or a name that would cover another's: the frame says enough
        labels.append(spot)
        draw.text((text_x + 1, text_y + 1), label, fill=(0, 0, 0), font=face)
        draw.text((text_x, text_y), label, fill=colour, font=face)
    draw.rectangle((left - 2, top - 2, right + 1, bottom + 1), outline=(0, 0, 0), width=1)
    draw.rectangle((left - 1, top - 1, right, bottom), outline=FIELD_COLOUR, width=2)
    if max(right - left, bottom - top) < 16:  # a few pixels: ring it so it is seen
        centre_x, centre_y, radius = (left + right) / 2, (top + bottom) / 2, 18
        draw.ellipse((centre_x - radius, centre_y - radius, centre_x + radius, centre_y + radius), outline=FIELD_COLOUR, width=3)
    return _png(framed)


# ----- maximised filters ---------------------------------------------------------------------

def maximized_png(images: Sequence[np.ndarray], filters: Sequence[MaximizedFilter], lang: str, *,
                  maps: Sequence[np.ndarray | None] | None = None) -> bytes:
    """The images that maximise each channel, side by side, each with its channel, the steps and
    seconds its gradient ascent took and how far the activation rose; where `maps` is given, the
    photo's own feature map for the same channel under each (viridis).

    Args:
        images: one RGB image (uint8, H x W x 3) per filter.
        filters: the `MaximizedFilter` of each.
        lang: the language of the picture's words.
        maps: for each filter, the photo's (H, W) feature map of that channel, or None.
    """
    t = _words(lang)
    count = len(images)
    per_row = max(1, min(count, 6))
    side = max(96, min(200, (MAX_WIDTH - 2 * _PAD - (per_row - 1) * _GAP) // per_row))
    label_face = font(13)
    layers = sorted({item["layer"] for item in filters})
    title = t["inside_pic_maximized_title"].format(layer=", ".join(layers))
    captions = [(title, font(17, bold=True), _INK)]
    has_maps = bool(maps) and any(item is not None for item in (maps or []))
    row_names = [t["inside_pic_maximized_row"]] + ([t["inside_pic_photo_row"]] if has_maps else [])
    width = _content_width(per_row * (side + _GAP) - _GAP, captions + [(name, label_face, _MUTED) for name in row_names])
    lines = _caption_lines(captions, width)
    top = _PAD + _caption_height(lines) + 4
    label_lines = 3
    block_h = (_line_height(label_face) + side) * (2 if has_maps else 1) + label_lines * _line_height(label_face) + _GAP
    rows = math.ceil(count / per_row) if count else 0
    canvas = _Canvas(width + 2 * _PAD, top + rows * block_h + _PAD)
    _draw_caption(canvas, lines, _PAD, _PAD)
    for index, (image, item) in enumerate(zip(images, filters)):
        x = _PAD + (index % per_row) * (side + _GAP)
        y = top + (index // per_row) * block_h
        if index % per_row == 0:
            canvas.text((_PAD, y), row_names[0], label_face, _MUTED)
        y += _line_height(label_face)
        picture = Image.fromarray(np.ascontiguousarray(np.asarray(image, dtype=np.uint8)[..., :3]), "RGB")
        canvas.image.paste(picture.resize((side, side), Image.Resampling.LANCZOS), (x, y))
        y += side + 3
        first = t["inside_pic_channel"].format(channel=item["channel"])
        for text in (first,
                     t["inside_pic_time"].format(seconds=f"{item['seconds']:.1f}", steps=item["steps"]),
                     t["inside_pic_activation"].format(start=_number(item["activation_start"]), end=_number(item["activation_end"]))):
            canvas.text((x, y), text, label_face, _INK if text is first else _MUTED)
            y += _line_height(label_face)
        if has_maps:
            if index % per_row == 0:
                canvas.text((_PAD, y), row_names[1], label_face, _MUTED)
            y += _line_height(label_face)
            photo_map = maps[index] if maps and index < len(maps) else None
            if photo_map is not None:
                coloured = viridis(_normalised(np.asarray(photo_map)))
                tile = Image.fromarray(coloured, "RGB").resize((side, side), Image.Resampling.NEAREST)
                canvas.image.paste(tile, (x, y))
    return _png(canvas.image)


# ----- every picture of a study ---------------------------------------------------------------

def inside_pictures(result: InsideResult, lang: str, *, photo: Image.Image | None = None, kernels: np.ndarray | None = None,
                    deeper_kernels: np.ndarray | None = None, feature_maps: Sequence[np.ndarray] = (),
                    maximized: Sequence[np.ndarray] = (), cell_box: Sequence[float] | None = None,
                    channel_order: str = "RGB", stage_boxes: Sequence[tuple[str, Sequence[float]]] = ()) -> dict[str, Any]:
    """Every picture a `look_inside` study has, as PNG bytes by the names `InsideResult["pictures"]`
    gives their paths under (the report reads them there): "filters", "deeper_filters",
    "histograms", "receptive_field", "maximized" (one picture each) and "feature_maps" (a list, one
    per `result["feature_maps"]` entry, in order). A view the result lacks has no entry.

    Args:
        result: the study's result.
        lang: the language of the pictures' words.
        photo, kernels, deeper_kernels, feature_maps, maximized, cell_box, stage_boxes: the arrays
            of the study (`InsideStudy`'s attributes; the photo as a PIL image).
        channel_order: the order of the model input's channels ("BGR" for Caffe preprocessing).
    """
    pictures: dict[str, Any] = {}
    if result.get("filters") and kernels is not None:
        pictures["filters"] = kernel_grid_png(kernels, result["filters"], lang, channel_order=channel_order)
    if result.get("deeper_filters") and deeper_kernels is not None:
        pictures["deeper_filters"] = channel_slices_png(deeper_kernels, result["deeper_filters"], lang)
    if result.get("histograms"):
        pictures["histograms"] = histograms_png(result["histograms"], lang, weights=None if result["untrained"] else result["weights"])
    entries = result.get("feature_maps") or []
    if entries and feature_maps:
        pictures["feature_maps"] = [feature_map_grid_png(array, entry, lang) for entry, array in zip(entries, feature_maps)]
    if photo is not None and cell_box is not None:
        region = result.get("region")
        pictures["receptive_field"] = receptive_field_png(photo, cell_box, region=region["box"] if region else None,
                                                          stages=stage_boxes)
    found = result.get("maximized") or []
    if found and maximized:
        pictures["maximized"] = maximized_png(maximized, found, lang, maps=[_photo_map(item, entries, feature_maps) for item in found])
    return pictures


def _photo_map(item: MaximizedFilter, entries: Sequence[FeatureMap], arrays: Sequence[np.ndarray]) -> np.ndarray | None:
    """The photo's own feature map of a maximised channel, where that layer's map was computed with it."""
    for entry, array in zip(entries, arrays):
        if entry["layer"] == item["layer"] and item["channel"] in entry["channels"]:
            index = list(entry["channels"]).index(item["channel"])
            if index < np.asarray(array).shape[-1]:
                return np.asarray(array)[:, :, index]
    return None
