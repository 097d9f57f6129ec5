"""Draw a model as `plot_model` does (keras.utils.model_to_dot, pydot and Graphviz `dot`) and keep
the drawings on disk, so asking again for the same model and options is instant. Every format
asked for in one call (SVG for a page, PNG for a chat or the web app, DOT as text) is drawn from
one `model_to_dot` graph.

Keras builds each node's label as HTML by hand without escaping the layer name; names come from
model files we do not trust, so they are escaped here before Graphviz sees them. Large graphs are
drawn at screen resolution with straight-line edges to stay quick.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plugin.config import get_settings
from plugin.engine import disk_cache
from plugin.engine.architecture.macs import is_nested_model
from plugin.engine.results import Diagram, DiagramFile
from plugin.errors import InvalidInputError, RenderError
from plugin.files import write_atomically

__all__ = ["draw", "check_options", "diagram_dot", "FORMATS", "RANKDIRS"]

FORMATS = ("svg", "png", "dot")
RANKDIRS = ("TB", "LR")
_DIAGRAM_VERSION = "5"  # 2: SVG sized in pixels with a viewBox that holds the whole drawing; 3: exact scale; 4: the smaller ratio; 5: nodes named by place


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if is_nested_model(layer):
            yield from _all_layers(layer)


def _html_text(text: str) -> str:
    """Escape text for a Graphviz HTML-like label; braces, bars and backslashes become character
    references too, since Graphviz's record shapes and pydot read them otherwise."""
    return html.escape(text).translate({ord("\\"): "&#92;", ord("{"): "&#123;", ord("}"): "&#125;", ord("|"): "&#124;"})


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def diagram_dot(model, *, show_shapes: bool = True, expand_nested: bool = False, rankdir: str = "TB"):
    """Return the model's pydot graph, with every layer and model name escaped."""
    import pydot
    from keras.utils import model_to_dot

    large = sum(1 for _ in _all_layers(model)) > 150
    graph = model_to_dot(model, show_shapes=show_shapes, show_layer_names=True, rankdir=rankdir,
                         expand_nested=expand_nested, dpi=96, splines="line" if large else "ortho")
    by_id = {str(id(layer)): layer for layer in _all_layers(model)}
    # Keras names a node after its layer's id() in memory: named by the layer's place instead, the
    # same model gives the same drawing in every process (and its Markdown pictures are found cached)
    stable = {key: f"layer{index}" for index, key in enumerate(by_id)}

    def clean(container) -> None:
        for edge in container.get_edges():
            edge.obj_dict["points"] = tuple(stable.get(str(end).strip('"'), end) for end in edge.obj_dict["points"])
        for node in container.get_nodes():
            layer = by_id.get(node.get_name().strip('"'))
            if layer is not None:
                node.obj_dict["name"] = stable[str(id(layer))]
            label = node.get("label")
            if layer is None or not label:
                continue
            kind = type(layer).__name__
            raw = f"<b>{layer.name}</b> ({kind})"
            node.set("label", label.replace(raw, f"<b>{_html_text(layer.name)}</b> ({_html_text(kind)})", 1))
        for sub in container.get_subgraphs():
            label = sub.get("label")
            if label is not None:
                sub.set("label", _quote(str(label).strip('"')))
            sub.set_name(_quote(sub.get_name().strip('"')))
            clean(sub)

    if isinstance(graph, pydot.Dot):
        clean(graph)
    return graph


def _cache_path(identity: str, options: dict, fmt: str) -> Path:
    key = hashlib.sha256(repr((_DIAGRAM_VERSION, identity, sorted(options.items()))).encode()).hexdigest()[:16]
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", identity.split("|", 1)[0])[:60] or "model"
    return get_settings().output_dir / "diagrams" / f"{stem}-{key}.{fmt}"


def check_options(formats, rankdir) -> tuple[str, ...]:
    """Check diagram options before any model is built; return the formats as a tuple, in order,
    without repeats."""
    listed = (formats,) if isinstance(formats, str) else tuple(formats) if isinstance(formats, (list, tuple)) else (formats,)
    if not listed or any(fmt not in FORMATS for fmt in listed):
        raise InvalidInputError(f"Expected diagram_format to be one of {list(FORMATS)} (or a list of them). Received: {formats!r}")
    if rankdir not in RANKDIRS:
        raise InvalidInputError(f"Expected rankdir to be one of {list(RANKDIRS)}. Received: {rankdir!r}")
    return tuple(dict.fromkeys(listed))


def draw(model: Callable[[], Any], identity: str, *, formats=("svg",), show_shapes: bool = True, expand_nested: bool = False,
         rankdir: str = "TB") -> Diagram:
    """Draw `model` in each format not drawn before, from one graph, and say where the drawings are.

    A drawing not in the output folder is taken from the disk cache of derived files where any
    process drew it before (`disk_cache`), and only otherwise drawn (and kept there).

    Args:
        model: a function that gives the built Keras model, called only where a drawing must be
            made (a cached one needs no model, nor TensorFlow).
        identity: what identifies the model's architecture (registry name, or file name plus
            its size and modification time), used with the options as the cache key.
        formats: "svg", "png" or "dot", or several of them.
        show_shapes: show each layer's input and output shapes.
        expand_nested: draw nested models' layers inside a dashed box.
        rankdir: "TB" (top to bottom) or "LR" (left to right).

    Returns:
        `{"format", "path", "bytes", "files": {format: {"path", "bytes"}}}`: the first format's
        file, and every format's.
    """
    formats = check_options(formats, rankdir)
    options: dict[str, Any] = {"show_shapes": bool(show_shapes), "expand_nested": bool(expand_nested), "rankdir": rankdir}
    paths = {fmt: _cache_path(identity, options, fmt) for fmt in formats}
    missing = [fmt for fmt, path in paths.items() if not path.exists()]
    graph = None
    for fmt in missing:
        key = {"identity": identity, "options": options, "format": fmt, "version": _DIAGRAM_VERSION}
        kept = disk_cache.load("diagram", key)
        if kept is None:
            graph = graph or diagram_dot(model(), **options)
            kept = [graph.to_string().encode("utf-8") if fmt == "dot" else _run_dot(graph, fmt)]
            disk_cache.store("diagram", key, kept)
        paths[fmt].parent.mkdir(parents=True, exist_ok=True)
        write_atomically(paths[fmt], kept[0])  # 0o644: drawings are for reading
    files: dict[str, DiagramFile] = {fmt: {"path": str(path), "bytes": path.stat().st_size} for fmt, path in paths.items()}
    first = formats[0]
    return {"format": first, **files[first], "files": files}


def _run_dot(graph, fmt: str) -> bytes:
    import pydot

    try:
        data = graph.create(format=fmt, prog="dot")
    except FileNotFoundError as exc:
        raise RenderError(
            "Expected Graphviz's `dot` program to draw the diagram. Received: no `dot` on PATH. Install it: "
            "`sudo apt-get install graphviz` (Debian, Ubuntu) or `brew install graphviz` (macOS); "
            "or ask for diagram_format='dot' to get the graph as text.", key="dot_missing") from exc
    except (OSError, AssertionError, pydot.PydotException) as exc:
        raise RenderError(f"Expected Graphviz to draw the diagram. Received an error from dot: {str(exc)[:500]}") from exc
    return _whole_svg(data) if fmt == "svg" else data


_SVG_SIZE = re.compile(rb'<svg width="([0-9.]+)pt" height="([0-9.]+)pt"\s+viewBox="[0-9.]+ [0-9.]+ ([0-9.]+) ([0-9.]+)"')
_GRAPH_SCALE = re.compile(rb'(<g id="graph0" class="graph" transform=")scale\([0-9.]+ [0-9.]+\)')


def _whole_svg(data: bytes) -> bytes:
    """Graphviz at 96 dpi writes its SVG's size in points already scaled by 96/72, draws inside a
    `scale(1.33 1.33)` transform (rounded), but leaves the viewBox unscaled: every renderer (browsers,
    CairoSVG) then cuts the right and bottom quarter off and draws the rest 4/3 too large. The size
    becomes the drawing's size in pixels (as its PNG), the viewBox holds all of it, and one scale
    serves both axes: the smaller of the two sides' ratios, since Graphviz rounds each side up on its
    own (a width's ratio of 1.3337 on a 24,000-pixel-tall drawing pushed its last box 8 px down, to
    the canvas's edge)."""
    size = _SVG_SIZE.search(data)
    if size is None:
        return data
    width, height = size[1], size[2]
    scale = min(float(width) / float(size[3]), float(height) / float(size[4]))
    data = data[:size.start()] + b'<svg width="%spx" height="%spx" viewBox="0 0 %s %s"' % (width, height, width, height) \
        + data[size.end():]
    factor = b"%.10g" % scale
    return _GRAPH_SCALE.sub(lambda m: m[1] + b"scale(%s %s)" % (factor, factor), data, count=1)
