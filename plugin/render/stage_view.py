"""The stage view: a model in one phone screen, one box per stage or block (ResNet50: conv1,
conv2_x x 3 ... conv5_x x 3, head), with one residual block of the first stage that has them drawn
out beside it, its skip connection included. The full plot_model diagram of a deep network runs to
tens of thousands of pixels; this is the picture people look at first (and ask Netron for).

The geometry is worked out here and drawn by `templates/stage_view.svg`; every word in it comes from
the facts or the page's language and is escaped by the template.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from plugin.engine.results import ArchitectureFacts, Stage
from plugin.render.templates import template_environment
from plugin.words import si_number

__all__ = ["stage_view_svg", "stage_view_note", "WIDTH", "MIN_STAGES"]

WIDTH = 400
"""The drawing's width in pixels: a phone's screen, where it is shown at its own size."""
MIN_STAGES = 2
"""Fewer stages than this (a small custom model) is a single box: no stage view."""
_MARGIN, _GAP, _PILL = 14, 20, 26
_TALL, _SHORT = 48, 30  # a stage box with its size and parameters on a second line, or one line when there are many
_COMPACT_AFTER = 9
_COLUMN = (14, 236)  # the stages' x and width when a block is drawn beside them
_BLOCK = (268, 112)  # the drawn-out block's x and width
_KERNEL, _KERNEL_GAP = 26, 14


def stage_view_svg(facts: ArchitectureFacts, t: dict) -> Markup | None:
    """The stage view of `facts` as SVG text, labelled in the language of `t` (a report section);
    None when the model has fewer than `MIN_STAGES` stages."""
    stages = facts["stages"]
    if len(stages) < MIN_STAGES:
        return None
    compact = len(stages) > _COMPACT_AFTER
    box_height, gap = (_SHORT, _GAP - 6) if compact else (_TALL, _GAP)
    drawn = next((stage for stage in stages if stage.get("residual_block")), None)
    x, width = _COLUMN if drawn else ((WIDTH - 280) // 2, 280)
    y = _MARGIN
    input_pill = {"x": x, "y": y, "w": width, "h": _PILL, "text": t["stage_input"].format(shape=_shape(facts["input_shape"]))}
    y += _PILL + _GAP
    boxes = []
    for stage in stages:
        boxes.append({"x": x, "y": y, "w": width, "h": box_height, "name": _title(stage),
                      "detail": _detail(stage, t), "compact": compact, "kind": _kind(stage, drawn)})
        y += box_height + gap
    output_pill = {"x": x, "y": y, "w": width, "h": _PILL, "text": t["stage_output"].format(shape=_shape(facts["output_shape"]))}
    height = y + _PILL + _MARGIN
    block = _block(drawn, next(box for box, stage in zip(boxes, stages) if stage is drawn), t) if drawn else None
    if block:
        height = max(height, block["bottom"] + _MARGIN)
    svg = template_environment().get_template("stage_view.svg").render(
        width=WIDTH, height=height, input=input_pill, boxes=boxes, output=output_pill, block=block, t=t,
        label=t["alt_stage_view"].format(model=facts["model"]))
    return Markup(svg)


def stage_view_note(facts: ArchitectureFacts, t: dict) -> str:
    """What the stage view shows, in the language of `t`: the boxes, and the block drawn out."""
    drawn = next((stage["name"] for stage in facts["stages"] if stage.get("residual_block")), None)
    return t["stage_view_text"].format(stage=drawn) if drawn else t["stage_view_plain"]


def _shape(dims: Any) -> str:
    return "x".join(str(d) for d in dims[1:]) if dims and not isinstance(dims[0], list) else "-"


def _title(stage: Stage) -> str:
    return stage["name"] + (f" × {stage['blocks']}" if stage["blocks"] and stage["blocks"] > 1 else "")


def _detail(stage: Stage, t: dict) -> str:
    size = stage["output_size"] or "-"
    channels = stage["output_shape"][-1] if stage["output_shape"] and not isinstance(stage["output_shape"][0], list) else None
    where = f"{size}x{channels}" if channels is not None and stage["output_shape"] and len(stage["output_shape"]) > 2 else size
    return t["stage_detail"].format(size=where, params=si_number(stage["params"]))


def _kind(stage: Stage, drawn: Stage | None) -> str:
    if stage is drawn:
        return "drawn"
    return "residual" if stage.get("residual_block") else "plain"


def _block(stage: Stage, box: dict, t: dict) -> dict:
    """One residual block of `stage`, drawn out to the right of its box: a title, its kernels top to
    bottom, the addition, and the skip connection from above the first kernel to the addition."""
    x, width = _BLOCK
    top = max(_MARGIN, box["y"] + box["h"] // 2 - _KERNEL // 2 - 38)  # the first kernel level with the stage's box
    title_y = top + 12
    y = title_y + 26
    kernels = []
    for kernel in stage["residual_block"] or []:
        kernels.append({"x": x, "y": y, "w": width, "h": _KERNEL, "text": kernel})
        y += _KERNEL + _KERNEL_GAP
    add_y = y + 4
    return {"x": x, "w": width, "cx": x + width // 2, "title_y": title_y, "title": t["stage_block_title"].format(stage=stage["name"]),
            "kernels": kernels, "add_y": add_y, "skip_x": x + width + 10, "entry_y": title_y + 10,
            "from_y": title_y + 26 + _KERNEL // 2, "from_x": box["x"] + box["w"], "bottom": add_y + 32,
            "skip": t["stage_skip"]}
