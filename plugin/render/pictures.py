"""Pictures as files for the Markdown version: blog editors take PNG and JPEG, not SVG.

SVG drawings (charts, the residual block, plot_model diagrams) are rasterised with CairoSVG; the
Korean words need a CJK font (Noto Sans CJK, installed by ./run.sh), named first in every drawing.
Every picture is flattened onto white: on a blog read in dark mode, dark words on a transparent
picture would vanish.
A drawing taller than a blog picture should be (a ResNet diagram is tens of thousands of pixels)
is cut into pieces from top to bottom, each at full size, so its text stays legible. CairoSVG
draws the whole drawing whatever part is asked for, so it draws bands as tall as a Cairo surface
may be (and as large as Pillow's bomb limit lets it read back), each from a copy of a Graphviz
drawing that keeps only the nodes and edges the band shows, and Pillow cuts them. That takes
seconds for a ResNet, so the pieces are kept: the last drawings' in memory (a page is often made
again for the same model), and every drawing's on disk (`disk_cache`, keyed by the drawing's text),
for the next process.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import math
import re
import xml.etree.ElementTree as ET

from PIL import Image

from plugin.engine import disk_cache
from plugin.errors import RenderError

__all__ = ["svg_to_png", "svg_to_pngs", "piece_bounds", "jpeg", "data_uri", "FONT_FAMILY", "MAX_PIECE_PX", "MAX_PIECE_WIDTH_PX"]

FONT_FAMILY = "'Noto Sans CJK KR', 'Noto Sans KR', 'Apple SD Gothic Neo', 'Malgun Gothic', sans-serif"
MAX_PIECE_PX = 4000
MAX_PIECE_WIDTH_PX = 1600
"""Widest picture a blog is given: a wider drawing is drawn smaller (a blog would shrink it anyway)."""
_GAP = 6.0
"""Pixels kept clear above and below a node where a drawing is cut (its stroke and shadow)."""
_BAND_PX = 30000
"""Tallest band drawn at once (Cairo's image surfaces stop at 32767 pixels a side)."""
_SVG = "http://www.w3.org/2000/svg"
_UNITS = {"": 1.0, "px": 1.0, "pt": 96 / 72, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4}


def _length(value: str | None) -> float | None:
    match = re.fullmatch(r"\s*([0-9.]+)\s*(px|pt|in|cm|mm|)\s*", value or "")
    return float(match[1]) * _UNITS[match[2]] if match else None


def svg_to_pngs(svg: str | bytes, *, scale: float = 1.0, max_piece: int = MAX_PIECE_PX,
                max_width: int = MAX_PIECE_WIDTH_PX) -> list[bytes]:
    """Rasterise an SVG drawing at `scale` (less where the drawing would be wider than `max_width`
    pixels), cut into pieces no taller than `max_piece` pixels; a Graphviz drawing is cut only
    between its nodes, so each layer's box is whole in exactly one piece."""
    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    try:
        return list(_pieces(text, scale, max_piece, max_width))
    except Exception as exc:  # CairoSVG, Pillow and the XML parser raise plain exceptions
        raise RenderError(f"Expected an SVG drawing CairoSVG can rasterise. Received: {type(exc).__name__}: {exc}") from exc


def piece_bounds(svg: str, *, scale: float = 1.0, max_piece: int = MAX_PIECE_PX,
                 max_width: int = MAX_PIECE_WIDTH_PX) -> tuple[list[tuple[float, float]], list[tuple[float, float]], float]:
    """Where `svg_to_pngs` cuts a Graphviz drawing: `(bands, nodes, scale)`, the bands and the
    nodes' vertical extents in the drawing's pixels (before `scale`), and the scale it draws at."""
    ET.register_namespace("", _SVG)
    layout = _Layout(ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", svg, flags=re.I)), scale, max_piece, max_width)
    return layout.bands(), layout.nodes, layout.scale


class _Layout:
    """A drawing's size, the scale it is drawn at, and (for Graphviz) its nodes, in pixels."""

    def __init__(self, root: ET.Element, scale: float, max_piece: int, max_width: int) -> None:
        self.root = root
        box = [float(v) for v in re.split(r"[\s,]+", root.get("viewBox", "").strip())] if root.get("viewBox") else None
        width, height = _length(root.get("width")), _length(root.get("height"))
        if box is None:
            box = [0.0, 0.0, width or 600.0, height or 400.0]
        self.box, self.width, self.height = box, width or box[2], height or box[3]
        self.units_per_px = box[3] / self.height
        self.scale = min(scale, max_width / self.width) if max_width else scale
        self.piece_px = max(1, int(max_piece / self.scale))
        self.graph = _graphviz_parts(root)
        self.nodes = sorted((max(0.0, (top - box[1]) / self.units_per_px), min(self.height, (bottom - box[1]) / self.units_per_px))
                            for part, top, bottom in (self.graph[1] if self.graph else []) if part.get("class") == "node")

    def bands(self) -> list[tuple[float, float]]:
        """Consecutive bands from top to bottom, each at most `piece_px` tall; a Graphviz drawing is
        cut in the gaps between nodes (a node taller than a piece is the only one ever cut)."""
        cuts, top = [0.0], 0.0
        while self.height - top > self.piece_px:
            cut = top + self.piece_px
            moved = True
            while moved:  # up past any node the cut would run through
                moved = False
                for start, end in self.nodes:
                    if start - _GAP < cut < end + _GAP:
                        cut, moved = float(math.floor(start - _GAP)), True  # whole pixels: the pieces add up exactly
            if cut <= top + 1:
                cut = top + self.piece_px  # no gap in the whole piece: cut where it must
            cuts.append(cut)
            top = cut
        cuts.append(self.height)
        return list(zip(cuts, cuts[1:]))


@functools.lru_cache(maxsize=64)  # charts are small; a diagram's pieces outlive a report made in two languages
def _pieces(text: str, scale: float, max_piece: int, max_width: int) -> tuple[bytes, ...]:
    key = {"svg": hashlib.sha256(text.encode("utf-8")).hexdigest(), "scale": scale, "max_piece": max_piece,
           "max_width": max_width}
    return tuple(disk_cache.cached("pictures", key, lambda: list(_drawn_pieces(text, scale, max_piece, max_width))))


def _drawn_pieces(text: str, scale: float, max_piece: int, max_width: int) -> tuple[bytes, ...]:
    import cairosvg

    ET.register_namespace("", _SVG)
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", text, flags=re.I))
    layout = _Layout(root, scale, max_piece, max_width)
    box, width, height, units_per_px, scale = layout.box, layout.width, layout.height, layout.units_per_px, layout.scale
    graph, piece_px = layout.graph, layout.piece_px
    pieces = []
    if graph is not None:  # each band draws only its own nodes and edges, cut between nodes
        bands = layout.bands()
    else:
        budget = (Image.MAX_IMAGE_PIXELS or 10**8) // 2  # a band is read back by Pillow, whose bomb limit holds here too
        band_px = piece_px * max(1, int(min(_BAND_PX / scale, budget / (width * scale * scale))) // piece_px)
        bands = [(float(top), min(float(top + band_px), height)) for top in range(0, max(1, int(round(height))), band_px)]
    for top, bottom in bands:
        tall = bottom - top
        root.set("viewBox", f"{box[0]} {box[1] + top * units_per_px} {box[2]} {tall * units_per_px}")
        root.set("width", f"{width}px")
        root.set("height", f"{tall}px")
        low, high = box[1] + top * units_per_px, box[1] + (top + tall) * units_per_px
        band = cairosvg.svg2png(bytestring=_band_svg(root, graph, low, high), scale=scale)
        with Image.open(io.BytesIO(band)) as drawn:
            picture = _on_white(drawn)
        step = picture.height if tall <= piece_px + 1 else int(round(piece_px * picture.height / tall))
        for y in range(0, picture.height, step):
            buffer = io.BytesIO()
            picture.crop((0, y, picture.width, min(y + step, picture.height))).save(buffer, "PNG")
            pieces.append(buffer.getvalue())
    return tuple(pieces)


def _on_white(picture: Image.Image) -> Image.Image:
    """The picture flattened onto white (RGB): a chart's SVG has no background of its own, and a
    band's last row is partly covered where the drawing ends between pixels."""
    rgba = picture.convert("RGBA")
    flat = Image.new("RGBA", rgba.size, "white")
    flat.alpha_composite(rgba)
    return flat.convert("RGB")


_GRAPH_TRANSFORM = re.compile(r"^\s*scale\(([0-9.]+)(?:[ ,]+([0-9.]+))?\)\s*rotate\(0\)\s*translate\(([-0-9.]+)[ ,]+([-0-9.]+)\)\s*$")
_NUMBER = re.compile(r"-?[0-9]*\.?[0-9]+(?:e-?[0-9]+)?")


def _graphviz_parts(root: ET.Element) -> tuple[ET.Element, list[tuple[ET.Element, float, float]]] | None:
    """A Graphviz drawing's graph group and, for each node, edge and cluster in it, its vertical
    extent in the drawing's units; None for any other drawing (it is then drawn whole for every band)."""
    graph = root.find(f"{{{_SVG}}}g")
    match = _GRAPH_TRANSFORM.match(graph.get("transform", "")) if graph is not None and graph.get("class") == "graph" else None
    if graph is None or match is None:
        return None
    scale_y, shift_y = float(match[2] or match[1]), float(match[4])
    parts = []
    for part in graph:
        if part.tag != f"{{{_SVG}}}g":
            continue
        ys = [float(y) for node in part.iter() for y in _ys(node)]
        if not ys:
            return None  # something without coordinates: draw everything, as Graphviz meant
        parts.append((part, (min(ys) + shift_y) * scale_y, (max(ys) + shift_y) * scale_y))
    return graph, parts


def _ys(node: ET.Element) -> list[str]:
    """The y coordinates a Graphviz element draws at: points, path data, text and ellipse positions."""
    if node.get("points"):
        return _NUMBER.findall(node.get("points", ""))[1::2]
    if node.get("d"):
        return _NUMBER.findall(node.get("d", ""))[1::2]
    return [node.get(key, "") for key in ("y", "cy") if node.get(key)]


def _band_svg(root: ET.Element, graph: tuple | None, low: float, high: float) -> bytes:
    """The drawing as SVG text for one band (from `low` to `high`, in its units): a Graphviz drawing
    without the nodes and edges that lie wholly outside the band, any other drawing whole."""
    if graph is None:
        return ET.tostring(root, encoding="unicode").encode("utf-8")
    group, parts = graph
    margin = 50.0  # strokes, arrowheads and text reach a little beyond the coordinates
    children = list(group)
    for part, top, bottom in parts:
        if bottom < low - margin or top > high + margin:
            group.remove(part)
    try:
        return ET.tostring(root, encoding="unicode").encode("utf-8")
    finally:
        group[:] = children  # the whole drawing again, in its order (later parts are drawn over earlier ones)


def svg_to_png(svg: str | bytes, *, scale: float = 2.0) -> bytes:
    """Rasterise a small SVG drawing (a chart) as one picture, at `scale` (2 = sharp on phones)."""
    return svg_to_pngs(svg, scale=scale, max_piece=10**6, max_width=0)[0]


def jpeg(picture: Image.Image, *, side: int = 640, quality: int = 85) -> tuple[bytes, int, int]:
    """A photo as a JPEG no larger than `side` pixels a side, with its width and height."""
    copy = picture.convert("RGB")
    copy.thumbnail((side, side))
    buffer = io.BytesIO()
    copy.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue(), copy.width, copy.height


def data_uri(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64," + base64.b64encode(data).decode("ascii")
