"""Make an SVG safe to inline in a report page: only drawing elements and attributes remain.

The diagrams come from Graphviz, fed with names from untrusted model files; before an SVG goes into
a page unescaped it is parsed and rebuilt from an allow-list: no scripts, no foreign objects, no
event handlers, no links or references outside the document, no style sheets. Width, height and
viewBox are kept, so the drawing shows at its own size and stays legible (the page lets it scroll).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from markupsafe import Markup

from plugin.errors import RenderError

__all__ = ["inline_svg"]

_SVG = "http://www.w3.org/2000/svg"
_ELEMENTS = {"svg", "g", "title", "desc", "polygon", "polyline", "path", "ellipse", "circle", "rect", "line",
             "text", "tspan", "defs", "linearGradient", "radialGradient", "stop"}
_ATTRIBUTES = {"id", "class", "viewBox", "points", "d", "cx", "cy", "rx", "ry", "r", "x", "y", "x1", "y1", "x2", "y2",
               "width", "height", "fill", "stroke", "stroke-width", "stroke-dasharray", "stroke-opacity", "fill-opacity",
               "opacity", "transform", "font-family", "font-size", "font-weight", "font-style", "text-anchor",
               "dominant-baseline", "offset", "stop-color", "stop-opacity", "gradientUnits", "preserveAspectRatio"}
_SAFE_VALUE = re.compile(r"^[^<>&\"'`]*$")


def inline_svg(data: bytes | str, *, label: str = "") -> Markup:
    """Return the SVG rebuilt from allowed elements and attributes, ready to inline.

    Args:
        data: SVG document text.
        label: accessible name of the drawing.
    """
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    text = re.sub(r"<!DOCTYPE[^>]*>", "", text, flags=re.I)  # no entity definitions reach the parser
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise RenderError(f"Expected an SVG drawing. Received text that does not parse as XML ({exc}).") from exc
    if _local(root.tag) != "svg":
        raise RenderError(f"Expected an <svg> document. Received a <{_local(root.tag)}> document.")
    clean = _rebuild(root)
    clean.set("role", "img")
    if label:
        clean.set("aria-label", label)
    ET.register_namespace("", _SVG)
    return Markup(ET.tostring(clean, encoding="unicode", short_empty_elements=True))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _rebuild(element: ET.Element) -> ET.Element:
    name = _local(element.tag)
    copy = ET.Element(f"{{{_SVG}}}{name}")
    for key, value in element.attrib.items():
        key = _local(key)
        if key in _ATTRIBUTES and _SAFE_VALUE.match(value) and "url(" not in value.lower():
            copy.set(key, value)
    copy.text = element.text
    for child in element:
        if _local(child.tag) in _ELEMENTS:
            copy.append(_rebuild(child))
        if child.tail:
            if len(copy):
                copy[-1].tail = (copy[-1].tail or "") + child.tail
            else:
                copy.text = (copy.text or "") + child.tail
    return copy
