"""The receptive-field view: what one output cell of each layer can see of the model's input.

The walk through the graph lives with the architecture (`plugin.engine.architecture.receptive`),
whose stage, structure and layer tables show the same fields and which the engine's layers let
`inside` import, not the other way round; this module gives it to `look_inside` and says which
input pixels one cell's window covers.
"""

from __future__ import annotations

from plugin.engine.architecture.receptive import receptive_fields as _walked
from plugin.engine.results import ReceptiveAxis, ReceptiveField

__all__ = ["receptive_fields", "cell_window"]


def receptive_fields(model) -> dict[str, ReceptiveField]:
    """The receptive field in `model`'s input of every layer whose output has a height and width,
    by layer name: `{"size", "stride", "start"}` (see `ReceptiveField`). VGG16's `block5_pool`
    sees 212 pixels, its cells 32 apart, as Distill's table gives it."""
    return _walked(model)


def _axes(field: ReceptiveField) -> tuple[ReceptiveAxis, ReceptiveAxis]:
    if "height" in field and "width" in field:
        return field["height"], field["width"]
    same: ReceptiveAxis = {"size": field["size"], "stride": field["stride"], "start": field["start"]}
    return same, same


def cell_window(field: ReceptiveField, row: int, column: int) -> tuple[int, int, int, int]:
    """The input pixels output cell (`row`, `column`) sees: (top, left, bottom, right), bottom and
    right excluded; it may reach outside the image where "same" padding does."""
    height, width = _axes(field)
    top = round(height["start"] - (height["size"] - 1) / 2) + row * height["stride"]
    left = round(width["start"] - (width["size"] - 1) / 2) + column * width["stride"]
    return top, left, top + height["size"], left + width["size"]
