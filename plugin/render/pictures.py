"""Pictures as files for the Markdown version: blog editors take PNG and JPEG, not SVG.

SVG drawings (charts, the residual block, plot_model diagrams) are rasterised with CairoSVG; the
Korean words need a CJK font (Noto Sans CJK, installed by ./run.sh), named first in every drawing.
A drawing taller than a blog picture should be (a ResNet diagram is tens of thousands of pixels)
is cut into pieces from top to bottom, each at full size, so its text stays legible.
"""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET

from PIL import Image

from plugin.errors import RenderError

__all__ = ["svg_to_png", "svg_to_pngs", "jpeg", "data_uri", "FONT_FAMILY", "MAX_PIECE_PX"]

FONT_FAMILY = "'Noto Sans CJK KR', 'Noto Sans KR', 'Apple SD Gothic Neo', 'Malgun Gothic', sans-serif"
MAX_PIECE_PX = 4000
_SVG = "http://www.w3.org/2000/svg"
_UNITS = {"": 1.0, "px": 1.0, "pt": 96 / 72, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4}


def _length(value: str | None) -> float | None:
    match = re.fullmatch(r"\s*([0-9.]+)\s*(px|pt|in|cm|mm|)\s*", value or "")
    return float(match[1]) * _UNITS[match[2]] if match else None


def svg_to_pngs(svg: str | bytes, *, scale: float = 1.0, max_piece: int = MAX_PIECE_PX) -> list[bytes]:
    """Rasterise an SVG drawing at `scale`, cut into pieces no taller than `max_piece` pixels."""
    import cairosvg

    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    try:
        ET.register_namespace("", _SVG)
        root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", text, flags=re.I))
        box = [float(v) for v in re.split(r"[\s,]+", root.get("viewBox", "").strip())] if root.get("viewBox") else None
        width, height = _length(root.get("width")), _length(root.get("height"))
        if box is None:
            box = [0.0, 0.0, width or 600.0, height or 400.0]
        width, height = width or box[2], height or box[3]
        units_per_px = box[3] / height
        piece_px = max(1, int(max_piece / scale))
        pieces = []
        for top in range(0, max(1, int(round(height))), piece_px):
            tall = min(piece_px, height - top)
            root.set("viewBox", f"{box[0]} {box[1] + top * units_per_px} {box[2]} {tall * units_per_px}")
            root.set("width", f"{width}px")
            root.set("height", f"{tall}px")
            pieces.append(cairosvg.svg2png(bytestring=ET.tostring(root, encoding="unicode").encode("utf-8"), scale=scale))
    except Exception as exc:  # CairoSVG and the XML parser raise plain exceptions
        raise RenderError(f"Expected an SVG drawing CairoSVG can rasterise. Received: {type(exc).__name__}: {exc}") from exc
    return pieces


def svg_to_png(svg: str | bytes, *, scale: float = 2.0) -> bytes:
    """Rasterise a small SVG drawing (a chart) as one picture, at `scale` (2 = sharp on phones)."""
    return svg_to_pngs(svg, scale=scale, max_piece=10**6)[0]


def jpeg(picture: Image.Image, *, side: int = 640, quality: int = 85) -> tuple[bytes, int, int]:
    """A photo as a JPEG no larger than `side` pixels a side, with its width and height."""
    copy = picture.convert("RGB")
    copy.thumbnail((side, side))
    buffer = io.BytesIO()
    copy.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue(), copy.width, copy.height


def data_uri(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64," + base64.b64encode(data).decode("ascii")
