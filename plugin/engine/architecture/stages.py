"""Group a model's layers into the stages its paper draws, with one summary row per stage.

VGG: blocks 1-5 and the classifier. ResNet: conv1, conv2_x ... conv5_x and the head, as in Table 1
of the ResNet paper (the 3x3 max pool opens conv2_x there). AlexNet: conv1-conv5 and fc6-fc8.
DenseNet: stem, dense blocks and transitions. MobileNetV2: the rows of its Table 2. EfficientNet
and EfficientNet-Lite: stem, blocks 1-7, head. ConvNeXt: stem, stages 1-4 (each with the downsampling that opens it),
head. Inception and other models, custom files included: one stage per Inception module when
the layers are named `mixedN`, otherwise one stage per feature-map resolution, then the head.

Each stage row: name, output size, number of layers, blocks, the layout in the papers' notation
("[1x1, 64; 3x3, 64; 1x1, 256] x 3"), parameters and multiply-adds, the kernels of one of its
residual blocks (one whose output adds its input back: what a stage view draws beside the stage),
and the receptive field of its output (its last layer's, where the rows have them).
"""

from __future__ import annotations

import dataclasses
import re

from plugin.engine.architecture.layers import LayerFacts
from plugin.engine.results import Stage

__all__ = ["group_stages", "STAGE_RULES"]


@dataclasses.dataclass(frozen=True)
class FamilyRules:
    """Stage patterns (first match wins) and how to find repeated blocks inside a stage."""

    stages: tuple[tuple[str, str], ...]
    block: str | None = None
    shortcut: str | None = None


def _resnet_stages() -> tuple[tuple[str, str], ...]:
    return (("conv1", r"^conv1_"), ("conv2_x", r"^(pool1_|conv2_)"), ("conv3_x", r"^conv3_"), ("conv4_x", r"^conv4_"),
            ("conv5_x", r"^(conv5_|post_)"), ("head", r"^(avg_pool|max_pool|predictions)$"))


STAGE_RULES: dict[str, FamilyRules] = {
    "VGG": FamilyRules(tuple((f"block{i}", rf"^block{i}_") for i in range(1, 6))
                       + (("classifier", r"^(flatten|fc\d|predictions|avg_pool|max_pool)$"),)),
    "ResNet": FamilyRules(_resnet_stages(), block=r"_block(\d+)_", shortcut=r"_0_conv$"),
    "ResNet v2": FamilyRules(_resnet_stages(), block=r"_block(\d+)_", shortcut=r"_0_conv$"),
    "AlexNet": FamilyRules((("conv1", r"^(conv1|pool1)$"), ("conv2", r"^(conv2|pool2)$"), ("conv3", r"^conv3$"),
                            ("conv4", r"^conv4$"), ("conv5", r"^(conv5|pool5)$"), ("fc6", r"^(flatten|fc6|dropout6)$"),
                            ("fc7", r"^(fc7|dropout7)$"), ("fc8", r"^fc8$"))),
    "DenseNet": FamilyRules((("conv1", r"^(conv1_|pool1$)"), ("dense block 1", r"^conv2_"), ("transition 1", r"^pool2_"),
                             ("dense block 2", r"^conv3_"), ("transition 2", r"^pool3_"), ("dense block 3", r"^conv4_"),
                             ("transition 3", r"^pool4_"), ("dense block 4", r"^conv5_"),
                             ("head", r"^(bn|relu|avg_pool|max_pool|predictions)$")), block=r"_block(\d+)_"),
    "MobileNet": FamilyRules((("conv2d 3x3", r"^(Conv1|bn_Conv1|Conv1_relu)"), ("bottleneck 1", r"^expanded_conv_"),
                              ("bottleneck 2", r"^block_[12]_"), ("bottleneck 3", r"^block_[345]_"),
                              ("bottleneck 4", r"^block_([6-9])_"), ("bottleneck 5", r"^block_1[012]_"),
                              ("bottleneck 6", r"^block_1[345]_"), ("bottleneck 7", r"^block_16_"),
                              ("conv2d 1x1", r"^(Conv_1|Conv_1_bn|out_relu)$"),
                              ("head", r"^(global_average_pooling2d.*|global_max_pooling2d.*|predictions)$")),
                             block=r"^(expanded_conv|block_\d+)_"),
    "EfficientNet": FamilyRules((("preprocessing", r"^(rescaling|normalization)(_\d+)?$"), ("stem", r"^stem_"))
                                + tuple((f"block{i}", rf"^block{i}[a-z]_") for i in range(1, 8))
                                + (("head", r"^(top_|avg_pool|max_pool|predictions)"),), block=r"^block\d([a-z])_"),
    "EfficientNet-Lite": FamilyRules((("stem", r"^stem_"),) + tuple((f"block{i}", rf"^block{i}[a-z]_") for i in range(1, 8))
                                     + (("head", r"^(top_|avg_pool|max_pool|predictions)"),), block=r"^block\d([a-z])_"),
    "ConvNeXt": FamilyRules((("stem", r"_(prestem_normalization|stem)$"), ("stage 1", r"_stage_0_"),
                             ("stage 2", r"(_stage_1_|_downsampling_block_0$)"),
                             ("stage 3", r"(_stage_2_|_downsampling_block_1$)"),
                             ("stage 4", r"(_stage_3_|_downsampling_block_2$)"),
                             ("head", r"(_head_|^predictions$)")), block=r"_block_(\d+)_"),
}


def group_stages(rows: list[LayerFacts], family: str | None = None) -> list[Stage]:
    """Group layer rows (top level, not expanded) into stage rows.

    Args:
        rows: `layer_facts(model)` rows.
        family: a registry family name; None (or an unknown family) uses the generic grouping.

    Returns:
        `[{"name", "output_size", "output_shape", "layers", "blocks", "weighted_layers", "layout",
        "params", "macs", "residual_block", "receptive_field"}]`; `blocks` is None where the family has no
        repeated blocks, `residual_block` (the kernels of the stage's last block that ends in an addition, as
        `["1x1, 64", "3x3, 64", "1x1, 256"]`) None where no block of the stage adds, `receptive_field` (its
        last layer's) None where that layer's output has no height and width.
    """
    body = [row for row in rows if row.type != "InputLayer"]
    rules = STAGE_RULES.get(family or "")
    if rules:
        groups = _by_rules(body, rules)
    elif any(re.fullmatch(r"mixed\d+", row.name) for row in body):
        groups = _by_modules(body)
    else:
        groups = _by_resolution(body)
    return [_summarise(name, members, rules) for name, members in groups if members]


def _by_rules(rows: list[LayerFacts], rules: FamilyRules) -> list[tuple[str, list[LayerFacts]]]:
    names = [next((stage for stage, pattern in rules.stages if re.search(pattern, row.name)), None) for row in rows]
    # A layer no pattern names (an auto-named padding layer, say) joins the next named stage.
    following = None
    for i in range(len(rows) - 1, -1, -1):
        if names[i] is None:
            names[i] = following
        following = names[i]
    last = None
    for i, name in enumerate(names):
        names[i] = name or last or "other"
        last = names[i]
    return _runs(rows, names)


def _by_modules(rows: list[LayerFacts]) -> list[tuple[str, list[LayerFacts]]]:
    """Inception: the stem ends at the layer whose output feeds the first module's branches."""
    closers = [i for i, row in enumerate(rows) if re.fullmatch(r"mixed\d+", row.name)]
    consumers: dict[str, int] = {}
    for row in rows:
        for name in row.inbound:
            consumers[name] = consumers.get(name, 0) + 1
    branch_points = [i for i in range(closers[0]) if consumers.get(rows[i].name, 0) >= 2]
    stem_end = branch_points[0] if branch_points else -1
    labels = []
    for i in range(len(rows)):
        if i <= stem_end:
            labels.append("stem")
        elif i > closers[-1]:
            labels.append("head")
        else:
            labels.append(rows[next(j for j in closers if j >= i)].name)
    return _runs(rows, labels)


def _by_resolution(rows: list[LayerFacts]) -> list[tuple[str, list[LayerFacts]]]:
    labels: list[str] = []
    in_head = False
    for row in rows:
        shape = row.output_shape if row.output_shape and not isinstance(row.output_shape[0], list) else None
        if in_head or shape is None or len(shape) <= 2:
            in_head = in_head or (shape is not None and len(shape) <= 2)
            labels.append("head" if in_head else (labels[-1] if labels else "stage"))
            continue
        labels.append("x".join(str(d) for d in shape[1:-1]))
    runs = _runs(rows, labels)
    named: list[tuple[str, list[LayerFacts]]] = []
    index = 0
    for label, members in runs:
        if label == "head":
            named.append(("head", members))
        else:
            index += 1
            named.append((f"stage {index} ({label})", members))
    return named


def _runs(rows, labels) -> list[tuple[str, list[LayerFacts]]]:
    runs: list[tuple[str, list[LayerFacts]]] = []
    for row, label in zip(rows, labels):
        if runs and runs[-1][0] == label:
            runs[-1][1].append(row)
        else:
            runs.append((label, [row]))
    return runs


def _size(shape) -> str | None:
    if not shape or isinstance(shape[0], list):
        return None
    dims = shape[1:-1] if len(shape) > 2 else shape[1:]
    return "x".join(str(d) for d in dims) if len(shape) > 2 else str(shape[-1])


def _layout(members: list[LayerFacts], rules: FamilyRules | None) -> tuple[int | None, str]:
    """Blocks (None where the family has no repeated blocks) and the layout in the papers' notation."""
    described = [row for row in members if row.kernel]
    if not described:
        kinds = [row.type for row in members if row.type not in ("Activation", "ReLU", "ZeroPadding2D")]
        return None, ", ".join(dict.fromkeys(kinds))
    shortcut = [row for row in described if rules and rules.shortcut and re.search(rules.shortcut, row.name)]
    main = [row for row in described if row not in shortcut]
    if rules and rules.block:
        blocks: dict[str, list[LayerFacts]] = {}
        before: list[str] = []
        after: list[str] = []
        for row in main:
            match = re.search(rules.block, row.name)
            if match:
                blocks.setdefault(match.group(1), []).append(row)
            else:
                (after if blocks else before).append(row.kernel or "")  # every row here has a kernel
        if blocks:
            runs: list[list] = []  # consecutive blocks with the same kernels: a block that strides stands apart
            for members in blocks.values():
                kernels = "; ".join(row.kernel or "" for row in members)  # every row here has a kernel
                if runs and runs[-1][0] == kernels:
                    runs[-1][1] += 1
                else:
                    runs.append([kernels, 1])
            parts = before + [f"[{kernels}]" + (f" x {count}" if count > 1 else "") for kernels, count in runs] + after
            if shortcut:
                parts.append(f"shortcut {shortcut[0].kernel}")
            return len(blocks), ", ".join(parts)
    pieces: list[list] = []
    for row in main:
        if pieces and pieces[-1][0] == row.kernel:
            pieces[-1][1] += 1
        else:
            pieces.append([row.kernel, 1])
    return None, ", ".join(kernel if n == 1 else f"[{kernel}] x {n}" for kernel, n in pieces)


def _residual_block(members: list[LayerFacts], rules: FamilyRules | None) -> list[str] | None:
    """The kernels of the stage's last block with an addition (its identity shortcut), in order."""
    if not rules or not rules.block:
        return None
    blocks: dict[str, list[LayerFacts]] = {}
    for row in members:
        match = re.search(rules.block, row.name)
        if match:
            blocks.setdefault(match.group(1), []).append(row)
    adding = [rows for rows in blocks.values() if any(row.type == "Add" for row in rows)]
    if not adding:
        return None
    kernels = [row.kernel for row in adding[-1]
               if row.kernel and not (rules.shortcut and re.search(rules.shortcut, row.name))]
    return kernels or None


def _summarise(name: str, members: list[LayerFacts], rules: FamilyRules | None) -> Stage:
    blocks, layout = _layout(members, rules)
    last = members[-1]
    return {
        "name": name,
        "output_size": _size(last.output_shape),
        "output_shape": last.output_shape,
        "layers": len(members),
        "blocks": blocks,
        "weighted_layers": sum(1 for row in members if row.params > 0),
        "layout": layout,
        "params": sum(row.params for row in members),
        "macs": sum(row.macs for row in members),
        "residual_block": _residual_block(members, rules),
        "receptive_field": last.receptive_field,
    }
