"""What `model.summary()` shows, and what students then write by hand, as data: totals,
multiply-adds, the paper's stages, the structure table, the layer table, preprocessing and the
published figures. Draws and writes nothing: the diagram is `plugin.render.diagram`'s job.

Architecture needs no weights at all: registry models are built without allocating them (layers,
shapes and counts only; kept in the engine's model cache) and a user's model file is loaded in safe mode.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, cast

from plugin import words
from plugin.engine import disk_cache
from plugin.engine.architecture.depth import depth_counts
from plugin.engine.architecture.keras_summary import keras_summary
from plugin.engine.architecture.layers import layer_facts, weight_count
from plugin.engine.architecture.receptive import receptive_fields
from plugin.engine.architecture.stages import group_stages
from plugin.engine.architecture.structure import structure_table
from plugin.engine.inference.cache import model_cache
from plugin.engine.inference.custom import load_model_file
from plugin.engine.inference.prepared import load_registry_model
from plugin.engine.inference.preprocessing import MODES, SAMPLE_PIXEL
from plugin.engine.inference.runners import KerasRunner
from plugin.engine.models.build import build_architecture
from plugin.engine.models.registry import ModelSpec, get_spec
from plugin.engine.results import ArchitectureFacts, BatchNorm, PathInput, PreprocessingCard, WeightsInput
from plugin.errors import InvalidInputError
from plugin.limits import DEFAULT_ARCHITECTURE_MODEL

__all__ = ["Subject", "load_subject", "describe", "describe_registry_model", "check_detail", "DETAILS"]

DETAILS = ("summary", "layers", "full")
BYTES_PER_PARAM = 4  # float32


@dataclasses.dataclass(frozen=True)
class Subject:
    """A model to describe.

    Attributes:
        name: the registry name, or the model file's name.
        model: the built Keras model.
        spec: the registry entry; None for a model file.
        identity: what identifies the architecture for caches (registry name, or file name, path,
            size and modification time).
        runner: the compiled Keras runner the model came from (to time it).
    """

    name: str
    model: Any
    spec: ModelSpec | None
    identity: str
    runner: Any = None


def check_detail(detail: Any) -> str:
    if detail not in DETAILS:
        raise InvalidInputError(f"Expected detail to be one of {list(DETAILS)}. Received: detail={detail!r}")
    return detail


def load_subject(model: str | None = None, model_path: PathInput | None = None, *, weights: WeightsInput = None,
                 runnable: bool = False) -> Subject:
    """Build (or take from the cache) a registry model, or load a model file.

    Args:
        model: a registry model name; None for `DEFAULT_ARCHITECTURE_MODEL`. Ignored with `model_path`.
        model_path: a `.keras`/`.h5` model file below the allowed roots.
        weights: the registry model's weights where it must run: None (random), or those a
            classification already built it with, so the cached model serves both.
        runnable: a model that runs (to time it); otherwise, with no weights asked for, only its
            architecture is built, without allocating weights (`runner` is then None).
    """
    if model_path is not None:
        path, runner = load_model_file(model_path)
        stat = path.stat()
        return Subject(path.name, runner.model, None, f"{path.name}|{path}|{stat.st_size}|{stat.st_mtime_ns}", runner)
    spec = get_spec(model or DEFAULT_ARCHITECTURE_MODEL)
    if weights is None and not runnable:
        return Subject(spec.name, model_cache.get((spec.name, "architecture"), lambda: build_architecture(spec)), spec, spec.name)
    keras_runner = cast(KerasRunner, load_registry_model(spec.name, weights, backend="keras").runner)
    return Subject(spec.name, keras_runner.model, spec, spec.name, keras_runner)


def describe(subject: Subject, *, detail: str = "summary", expand_nested: bool = False) -> ArchitectureFacts:
    """Describe a model's architecture as data.

    Args:
        subject: from `load_subject`.
        detail: "summary" (totals, stages and structure), "layers" (adds the layer table) or
            "full" (the layer table with nested models expanded).
        expand_nested: list the layers of nested models (with detail "layers").

    Returns:
        `{"model", "family", "input_shape", "output_shape", "total_params", "trainable_params",
        "non_trainable_params", "macs", "flops", "size_mb", "num_layers", "depth", "stages",
        "structure", "layers", "batch_norm", "preprocessing", "published", "diagram", "macs_note",
        "keras_summary", "depth_counts"}`;
        `layers` is None for detail "summary", `diagram` None (drawing is left to the caller),
        `keras_summary` the text `model.summary()` prints (None for detail "summary"),
        `published` and `family` None for model files. FLOPs = 2 x MACs. `batch_norm` (None
        without batch normalisation) counts its layers, channels, and the moving means and
        variances that make up the non-trainable parameters. `depth` counts the layers with weights
        as Keras's table does (107 for ResNet50), `depth_counts` those layers by kind (53
        convolutions, 4 of them projection shortcuts, 53 batch normalisations, 1 dense);
        `published["paper_depth"]` is the depth as the paper names it (50). Each stage, structure
        row (its last layer) and layer row has its `receptive_field` in the model's input (VGG16's
        block5: 212 pixels, stride 32; None where its output has no height and width).
    """
    check_detail(detail)
    keras_model, spec = subject.model, subject.spec
    fields = receptive_fields(keras_model)
    top = layer_facts(keras_model, fields=fields)
    total = int(keras_model.count_params())
    trainable = sum(weight_count(w) for w in keras_model.trainable_weights)
    macs = sum(row.macs for row in top)
    if detail == "summary":
        layers = None
    else:
        expand = detail == "full" or expand_nested
        layers = [row.row() for row in (layer_facts(keras_model, expand_nested=True, fields=fields) if expand else top)]
    return {
        "model": subject.name,
        "family": spec.family if spec else None,
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
        "batch_norm": _batch_norm(keras_model),
        "preprocessing": _preprocessing(spec, keras_model),
        "published": {**spec.published.describe(), "paper": spec.paper} if spec else None,
        "diagram": None,
        "macs_note": words.text("results.macs_note", "en"),
        "keras_summary": None if detail == "summary" else keras_summary(keras_model),
        "depth_counts": depth_counts(top, spec.family if spec else None),
    }


def describe_registry_model(model: str | None, *, detail: str = "summary", expand_nested: bool = False) -> ArchitectureFacts:
    """`describe(load_subject(model), ...)` for a registry model, kept on disk (`disk_cache`): the facts
    derive from the code and the library versions alone, so a fresh process reads them without
    importing TensorFlow once any process has described the model."""
    check_detail(detail)
    name = get_spec(model or DEFAULT_ARCHITECTURE_MODEL).name

    def made() -> list[bytes]:
        facts = describe(load_subject(name), detail=detail, expand_nested=bool(expand_nested))
        return [json.dumps(facts).encode()]

    parts = disk_cache.cached("architecture", {"model": name, "detail": detail, "expand_nested": bool(expand_nested)}, made)
    return cast(ArchitectureFacts, json.loads(parts[0]))


def _batch_norm(keras_model: Any) -> BatchNorm | None:
    """Batch normalisation, counted: each layer learns a scale and a shift per channel (gamma,
    beta) and keeps a moving mean and variance per channel, updated while training, not trained."""
    norms = [layer for layer in _all_layers(keras_model) if type(layer).__name__ == "BatchNormalization"]
    if not norms:
        return None
    channels = sum(int(layer.moving_mean.shape[0]) for layer in norms)
    return {"layers": len(norms), "channels": channels, "moving_statistics": 2 * channels,
            "trainable": sum(weight_count(w) for layer in norms for w in layer.trainable_weights)}


def _all_layers(model):
    for layer in model.layers:
        if hasattr(layer, "layers") and hasattr(layer, "inputs"):
            yield from _all_layers(layer)
        else:
            yield layer


def _preprocessing(spec: ModelSpec | None, keras_model: Any) -> PreprocessingCard:
    shape = list(keras_model.inputs[0].shape)
    input_size, channels = shape[1:3], shape[3] if len(shape) == 4 else None
    if spec is None:
        return {"input_size": input_size, "channels": channels, "mode": None,
                "description": words.both("preprocessing.model_file")}
    mode = MODES[spec.preprocessing]
    if spec.module.startswith("keras."):
        function = f"{spec.module}.preprocess_input"
    elif mode.name == "caffe":
        function = "keras.applications.imagenet_utils.preprocess_input(mode='caffe')"
    else:
        function = None  # no Keras function does it: the mode's description says what is done
    return {"input_size": input_size, "channels": channels, "mode": mode.name, "channel_order": mode.channel_order,
            "value_range": list(mode.value_range), "description": mode.description, "function": function,
            "formula": mode.formula, "sample": {"rgb": list(SAMPLE_PIXEL), "values": mode.on_pixel(SAMPLE_PIXEL)}}
