"""Depth, counted the way Keras counts it, kind by kind, so a page can set it beside the way the
paper names it.

Keras's table of applications gives a model's depth as its layers with weights: for ResNet50 that is
107 (53 convolutions, 4 of them the 1x1 projections on the shortcuts, 53 batch normalisations and 1
dense layer), where the paper says 50 (49 convolutions on the main path and 1 fully connected layer).
Both numbers are right; they count different things. This module counts Keras's, by kind, from the
built model's layers: nothing is written down by hand.
"""

from __future__ import annotations

import re

from plugin.engine.architecture.layers import CONV_KINDS, LayerFacts
from plugin.engine.architecture.stages import STAGE_RULES
from plugin.engine.results import DepthCounts

__all__ = ["depth_counts"]



def depth_counts(rows: list[LayerFacts], family: str | None = None) -> DepthCounts:
    """Count the layers with weights of a model's top-level layer rows by kind.

    Args:
        rows: `layer_facts(model)` rows (a nested model is one row, as in `depth`).
        family: a registry family; its stage rules name the projection shortcuts (ResNet's
            `convN_blockM_0_conv`). None (a model file) counts none.

    Returns:
        `{"weighted_layers", "convolutions", "projection_shortcuts", "depthwise", "batch_norms",
        "layer_norms", "dense", "other"}`: `weighted_layers` is the sum of the others but
        `projection_shortcuts`, which are counted among the `convolutions` (the main path has
        `convolutions - projection_shortcuts`); `depthwise` counts depthwise and separable
        convolutions; `other` the weighted layers of no kind here (a nested model, a
        `Normalization`, `GroupNormalization` or `LayerScale` layer).
    """
    weighted = [row for row in rows if row.params > 0]
    rules = STAGE_RULES.get(family or "")
    shortcut = re.compile(rules.shortcut) if rules and rules.shortcut else None
    depthwise = [row for row in weighted if row.type in CONV_KINDS and row.type.startswith(("Depthwise", "Separable"))]
    convolutions = [row for row in weighted if row.type in CONV_KINDS and row not in depthwise]
    batch_norms = sum(1 for row in weighted if row.type == "BatchNormalization")
    layer_norms = sum(1 for row in weighted if row.type == "LayerNormalization")
    dense = sum(1 for row in weighted if row.type == "Dense")
    return {
        "weighted_layers": len(weighted),
        "convolutions": len(convolutions),
        "projection_shortcuts": sum(1 for row in convolutions if shortcut and shortcut.search(row.name)),
        "depthwise": len(depthwise),
        "batch_norms": batch_norms,
        "layer_norms": layer_norms,
        "dense": dense,
        "other": len(weighted) - len(convolutions) - len(depthwise) - batch_norms - layer_norms - dense,
    }
