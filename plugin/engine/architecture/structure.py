"""The structure table students write by hand: each kind of layer, how many, at which shapes, and
what it is for (in Korean and English, from the catalogue)."""

from __future__ import annotations

import collections

from plugin import words
from plugin.engine.architecture.layers import LayerFacts
from plugin.engine.results import StructureRow

__all__ = ["structure_table", "KINDS"]

# Each kind of layer and the Keras layer types it gathers, in table order; labels and roles are in
# the catalogue (plugin.words, section "structure").
KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("input", ("InputLayer",)),
    ("preprocessing", ("Rescaling", "Normalization")),
    ("convolution", ("Conv1D", "Conv2D", "Conv3D")),
    ("depthwise", ("DepthwiseConv2D", "SeparableConv2D", "DepthwiseConv1D", "SeparableConv1D")),
    ("normalization", ("BatchNormalization", "LayerNormalization", "GroupNormalization")),
    ("activation", ("Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax")),
    ("pooling", ("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D")),
    ("merge", ("Add", "Concatenate", "Multiply", "Subtract", "Average", "Maximum")),
    ("padding", ("ZeroPadding1D", "ZeroPadding2D")),
    ("flatten", ("Flatten", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D")),
    ("dense", ("Dense",)),
    ("dropout", ("Dropout", "SpatialDropout2D")),
    ("reshape", ("Reshape", "Permute", "Identity")),
    ("block", ("Sequential", "Functional", "LayerScale")),
    ("output", ()),
    ("other", ()),
)

_KIND_OF = {layer_type: kind for kind, types in KINDS for layer_type in types}


def _shape_text(shape) -> str:
    if not shape or isinstance(shape[0], list):
        return "?"
    return "x".join("?" if d is None else str(d) for d in shape[1:])


def structure_table(rows: list[LayerFacts]) -> list[StructureRow]:
    """Summarise layer rows (top level) by kind, every kind in the order it first appears in the
    network (the output last).

    Returns:
        `[{"kind", "label": {"en", "ko"}, "count", "shapes", "details", "role": {"en", "ko"}, "params",
        "types", "receptive_field"}]`: `params` the kind's parameters summed, `types` its Keras layer
        classes, `receptive_field` that of the kind's last layer in the network (None without one);
        `shapes` is the first and last output shape ("224x224x64 -> 7x7x512"), `details` every
        kernel or unit setting in network order, as a student writes them ("3x3, 64 (x2); 3x3, 128
        (x2); ..."), each with how many layers have it.
    """
    groups: dict[str, list[LayerFacts]] = collections.OrderedDict()
    body = list(rows)
    output = body.pop() if body and body[-1].type in ("Dense", "Activation", "Softmax") else None
    for row in body:
        groups.setdefault(_KIND_OF.get(row.type, "other"), []).append(row)
    if output:
        groups["output"] = [output]
    table: list[StructureRow] = []
    for kind, members in groups.items():
        first, last = _shape_text(members[0].output_shape), _shape_text(members[-1].output_shape)
        details = collections.Counter(row.kernel or row.activation or row.type for row in members)  # in first-seen order
        if kind == "output":
            activation = f", {output.activation}" if output and output.activation else ""
            role = words.both("structure_output_role", classes=last, activation=activation)
        else:
            role = words.both(f"structure.{kind}.role")
        table.append({
            "kind": kind,
            "label": words.both(f"structure.{kind}.label"),
            "count": len(members),
            "shapes": first if first == last else f"{first} -> {last}",
            "details": "; ".join(f"{text} (x{n})" if n > 1 else text for text, n in details.items()),
            "role": role,
            "params": sum(row.params for row in members),
            "types": sorted({row.type for row in members}),
            "receptive_field": members[-1].receptive_field,
        })
    return table
