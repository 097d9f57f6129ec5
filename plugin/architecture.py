"""describe_architecture: what `model.summary()` and `plot_model` show, and what students then
write by hand, as data: totals, multiply-adds, the paper's stages, the structure table, the
layer table, preprocessing, published figures and the diagram.

Architecture needs no trained weights: registry models are built with random initialisation
(from the same cache classification uses) and a user's model file is loaded in safe mode.
"""

from __future__ import annotations

import dataclasses

from plugin.custom_models import load_model_file
from plugin.diagram import FORMATS, RANKDIRS, render_diagram
from plugin.errors import InvalidInputError
from plugin.layers import layer_facts, weight_count
from plugin.macs import NOT_COUNTED_NOTE
from plugin.models import load_registry_model
from plugin.preprocessing import MODES
from plugin.registry import get_spec
from plugin.stages import group_stages
from plugin.structure import structure_table

__all__ = ["describe_architecture", "DETAILS"]

DETAILS = ("summary", "layers", "full")
BYTES_PER_PARAM = 4  # float32


def _check(value, allowed, name):
    if value not in allowed:
        raise InvalidInputError(f"Expected {name} to be one of {list(allowed)}. Received: {name}={value!r}")


def _check_bool(value, name):
    if not isinstance(value, bool):
        raise InvalidInputError(f"Expected {name} to be true or false. Received: {name}={value!r}")


def describe_architecture(model: str = "ResNet50", detail: str = "summary", include_diagram: bool = True,
                          diagram_format: str = "svg", expand_nested: bool = False, show_shapes: bool = True,
                          rankdir: str = "TB", model_path=None) -> dict:
    """Describe a model's architecture: totals, multiply-adds, stages, structure, layers, diagram.

    Args:
        model: a registry model name (see `list_models()`); ignored when `model_path` is given.
        detail: "summary" (totals, stages and structure: short), "layers" (adds the layer table),
            or "full" (the layer table with nested models expanded).
        include_diagram: draw the model with plot_model's `model_to_dot` and Graphviz.
        diagram_format: "svg", "png" or "dot".
        expand_nested: draw (and, with detail="layers", list) the layers of nested models.
        show_shapes: show shapes in the diagram.
        rankdir: "TB" (top to bottom) or "LR" (left to right).
        model_path: a `.keras`/`.h5` model file of your own instead of a registry model.

    Returns:
        `{"model", "input_shape", "output_shape", "total_params", "trainable_params",
        "non_trainable_params", "macs", "flops", "size_mb", "num_layers", "depth", "stages",
        "structure", "layers", "preprocessing", "published", "diagram", "macs_note"}`; `layers`
        is None for detail="summary", `diagram` None without include_diagram, `published` None for
        model files. FLOPs = 2 x MACs.
    """
    _check(detail, DETAILS, "detail")
    _check(diagram_format, FORMATS, "diagram_format")
    _check(rankdir, RANKDIRS, "rankdir")
    for flag, name in ((include_diagram, "include_diagram"), (expand_nested, "expand_nested"), (show_shapes, "show_shapes")):
        _check_bool(flag, name)

    if model_path is not None:
        path, runner = load_model_file(model_path)
        stat = path.stat()
        name, spec, identity = path.name, None, f"{path.name}|{path}|{stat.st_size}|{stat.st_mtime_ns}"
    else:
        spec = get_spec(model)
        runner = load_registry_model(spec.name, None).runner
        name, identity = spec.name, spec.name
    keras_model = runner.model

    top = layer_facts(keras_model)
    total = int(keras_model.count_params())
    trainable = sum(weight_count(w) for w in keras_model.trainable_weights)
    macs = sum(row.macs for row in top)
    if detail == "summary":
        layers = None
    else:
        expand = detail == "full" or expand_nested
        layers = [row.row() for row in (layer_facts(keras_model, expand_nested=True) if expand else top)]

    return {
        "model": name,
        "input_shape": list(keras_model.inputs[0].shape),
        "output_shape": list(keras_model.outputs[0].shape),
        "total_params": total,
        "trainable_params": trainable,
        "non_trainable_params": total - trainable,
        "macs": macs,
        "flops": 2 * macs,
        "size_mb": round(total * BYTES_PER_PARAM / 2**20, 2),
        "num_layers": len(keras_model.layers),
        "depth": sum(1 for row in top if row.params > 0),
        "stages": group_stages(top, spec.family if spec else None),
        "structure": structure_table(top),
        "layers": layers,
        "preprocessing": _preprocessing(spec, keras_model),
        "published": dataclasses.asdict(spec.published) | {"paper": spec.paper} if spec else None,
        "diagram": render_diagram(keras_model, identity, fmt=diagram_format, show_shapes=show_shapes,
                                  expand_nested=expand_nested, rankdir=rankdir) if include_diagram else None,
        "macs_note": NOT_COUNTED_NOTE + " size_mb: float32 weights in MiB. depth: layers with weights.",
    }


def _preprocessing(spec, keras_model) -> dict:
    shape = list(keras_model.inputs[0].shape)
    card = {"input_size": shape[1:3], "channels": shape[3] if len(shape) == 4 else None}
    if spec is None:
        return card | {
            "mode": None,
            "description": {
                "en": "A model file does not record its preprocessing: choose the one it was trained with "
                      "(caffe, tf, torch, rescale or none) when you classify.",
                "ko": "모델 파일에는 전처리 방식이 기록되지 않습니다. 분류할 때 학습에 쓴 방식(caffe, tf, torch, rescale, none)을 고르세요.",
            },
        }
    mode = MODES[spec.preprocessing]
    function = f"{spec.module}.preprocess_input" if spec.module.startswith("keras.") else \
        "keras.applications.imagenet_utils.preprocess_input(mode='caffe')"
    return card | {"mode": mode.name, "channel_order": mode.channel_order, "value_range": mode.value_range,
                   "description": mode.description, "function": function}
