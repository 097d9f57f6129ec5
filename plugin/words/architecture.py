"""How a model's architecture is said, in Korean or English: its depth as its paper names it and as
Keras counts it, the year and venue of its paper, and a shape as Keras prints it.

Each function takes a part of `describe_architecture`'s facts (read as mappings; nothing of the
engine is imported) and the reader's language, and finds its words in the catalogue (section "report").

    >>> keras_shape([None, 224, 224, 3])
    '(None, 224, 224, 3)'
    >>> paper_depth_text({"layers": 50, "convolutions": 49, "fully_connected": 1}, "en", main_path=True)
    '50 = 49 convolutions on the main path + 1 fully connected'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from plugin.words import section, text

__all__ = ["keras_shape", "paper_depth_text", "keras_depth_text", "depth_line", "paper_year_text", "shown_depth",
           "receptive_field_text"]

_KINDS = ("convolutions", "depthwise", "batch_norms", "layer_norms", "dense", "other")
"""The kinds of `depth_counts`, in the order they are said (the projection shortcuts within the convolutions)."""


def keras_shape(shape: Sequence[Any] | None) -> str:
    """A shape as Keras's `model.summary()` prints it: `(None, 224, 224, 3)`; a layer with several
    outputs as a list of them; "?" where the shape is unknown."""
    if not shape:
        return "?"
    if isinstance(shape[0], (list, tuple)):
        return "[" + ", ".join(keras_shape(part) for part in shape) + "]"
    return str(tuple(None if d is None else int(d) for d in shape))


def paper_depth_text(paper_depth: Mapping[str, Any] | None, lang: str, *, main_path: bool = False) -> str:
    """The depth as the paper names it: "50 = 49 convolutions on the main path + 1 fully connected"
    (`main_path` where the model has convolutions on its shortcuts too), "42 layers deep, as the
    paper says" where the paper gives only the total, or that the paper names none."""
    t = section("report", lang)
    if not paper_depth:
        return t["paper_depth_none"]
    if paper_depth.get("convolutions") is None:
        return t["paper_depth_total"].format(layers=paper_depth["layers"])
    key = "paper_depth_main_path" if main_path else "paper_depth_parts"
    return t[key].format(layers=paper_depth["layers"], convolutions=paper_depth["convolutions"],
                         fully_connected=paper_depth["fully_connected"] or 0)


def keras_depth_text(depth: int, counts: Mapping[str, Any] | None, lang: str) -> str:
    """Keras's depth (the layers with weights) and what it counts: "107 = 53 convolutions (incl. 4
    projection shortcuts) · 53 batch norms · 1 dense"; the number alone without `counts`."""
    if not counts:
        return str(depth)
    kinds = section("report", lang)["depth_kinds"]
    parts = []
    for kind in _KINDS:
        if counts.get(kind):
            key = "convolutions_shortcuts" if kind == "convolutions" and counts.get("projection_shortcuts") else kind
            parts.append(kinds[key].format(n=counts[kind], shortcuts=counts.get("projection_shortcuts", 0)))
    return text("report.keras_depth_parts", lang, depth=depth, parts=" · ".join(parts))


def shown_depth(facts: Mapping[str, Any]) -> int:
    """The one number to show as a model's depth: its paper's where the paper names one (50 for
    ResNet50), else Keras's count of layers with weights."""
    paper = (facts.get("published") or {}).get("paper_depth")
    return paper["layers"] if paper else facts["depth"]


def depth_line(facts: Mapping[str, Any], lang: str) -> str:
    """Both depths in one line, each with what it counts: "Depth as the paper counts: 50 = ... ·
    Keras's count (layers with weights): 107 = ..."; Keras's alone for a model file."""
    t = section("report", lang)
    counts = facts.get("depth_counts")
    keras = t["keras_depth"] + ": " + keras_depth_text(facts["depth"], counts, lang)
    published = facts.get("published")
    if not published:
        return keras
    main_path = bool(counts and counts.get("projection_shortcuts"))
    paper = paper_depth_text(published.get("paper_depth"), lang, main_path=main_path)
    return t["paper_depth"] + ": " + paper + " · " + keras


def paper_year_text(published: Mapping[str, Any] | None) -> str:
    """When the paper appeared (on arXiv, where it did) and where it was published: "2015 (CVPR 2016)"; "-" unknown."""
    if not published or not published.get("paper_year"):
        return "-"
    venue = published.get("paper_venue")
    return f"{published['paper_year']} ({venue})" if venue else str(published["paper_year"])


def receptive_field_text(field: Mapping[str, Any] | None, lang: str) -> str:
    """A receptive field as the tables say it: "212 (stride 32)", "212 (간격 32)"; "7x1 (stride 2)"
    where the axes differ (height x width); "" for None."""
    if not field:
        return ""
    if "height" in field and "width" in field:
        height, width = field["height"], field["width"]
        size = f"{height['size']}x{width['size']}"
        stride = height["stride"] if height["stride"] == width["stride"] else f"{height['stride']}x{width['stride']}"
    else:
        size, stride = field["size"], field["stride"]
    return text("report.receptive_field_cell", lang, size=size, stride=stride)
