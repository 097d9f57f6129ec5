"""Where did a model look, and can the map be trusted? One photo, one model, one method, one target.

    targets.py    which class a map explains: the answer, the right answer, "dog"/"cat", a class
    layers.py     which feature-map layer the CAM methods use, and why
    context.py    the photo's pixels, the model's scores, activations and gradients
    methods/      the methods, one module each, in one table (`METHODS`)
    metrics.py    deletion / insertion AUC and ROAD, beside a random and a centre map
    imputation.py ROAD's noisy linear imputation
    sanity.py     cascading randomisation (Adebayo et al. 2018): does the map depend on the model?

Methods that need no gradients, and the metrics, run on the backend asked for (onnxruntime, int8
included), whose model also scores the masked photos. Those that need gradients run on the float32
export where the layer is the last feature map before a linear head (the head's weights are then
the gradients: Grad-CAM on a cached export imports no TensorFlow), else on Keras.
"""

from __future__ import annotations

import time
from typing import Any, cast

import numpy as np

from plugin import words
from plugin.engine.inference.custom import load_custom_model
from plugin.engine.inference.options import RunOptions
from plugin.engine.inference.prepared import PreparedModel, load_registry_model
from plugin.engine.inference.preprocessing import get_mode, image_to_array
from plugin.engine.inference.runners import KerasRunner
from plugin.engine.intake.images import load_image
from plugin.engine.models.registry import get_spec
from plugin.engine.models.weights import parse_weights
from plugin.engine.results import ExpectedInput, Explanation, ImageInput, LoadedImage
from plugin.engine.study.explain.context import ExplainContext, graph_head_layer
from plugin.engine.study.explain.layers import choose_layer, last_conv_layer
from plugin.engine.study.explain.methods import METHODS, ExplanationMethod, get_method
from plugin.engine.study.explain.metrics import map_metrics
from plugin.engine.study.explain.sanity import sanity_check
from plugin.engine.study.explain.targets import TARGETS, explained_class, resolve_target
from plugin.errors import InvalidInputError
from plugin.limits import DEFAULT_EXPLAIN_METHOD, DEFAULT_METRIC_STEPS, MAX_METRIC_STEPS

__all__ = ["explain", "last_conv_layer", "GRID_DECIMALS", "TARGETS", "METHODS", "describe_methods"]

GRID_DECIMALS = 2


def explain(image: ImageInput, model: str | None = None, *, class_index: int | str | None = None,
            expected: ExpectedInput = None, target: Any = "answer", method: str = DEFAULT_EXPLAIN_METHOD,
            layer: str | None = None, metrics: bool = False, steps: int = DEFAULT_METRIC_STEPS, sanity: bool = False,
            options: RunOptions = RunOptions()) -> tuple[Explanation, np.ndarray, LoadedImage]:
    """Make one heat map for one photo and one model, and on request the numbers that check it.

    Args:
        image: any form `classify_image` takes.
        model: a registry model name (ignored with `model_path`).
        class_index: a class to explain instead of `target`'s (an index or an ImageNet name).
        expected: the right answer (an ImageNet class, "dog"/"cat", or a model file's class).
        target: "answer" (the model's top-1), "expected" (the right answer; a group's sum for
            "dog" or "cat"), "dog" or "cat" (the group's summed probability), or a class by name
            or index.
        method: one of `METHODS` ("gradcam", "gradcam++", "scorecam", "eigencam", "layercam",
            "occlusion").
        layer: the feature-map layer for the CAM methods instead of the default (see `layers`).
        metrics: add deletion / insertion AUC and ROAD with their random and centre baselines.
        steps: the deletion and insertion curves' steps (1 to `MAX_METRIC_STEPS`).
        sanity: add the cascading-randomisation check.
        options: weights, model file, preprocessing, resize, backend and precision, as for
            `classify_image`; gradient methods run in float32, on onnxruntime where the layer is
            the last feature map before a linear head, else on Keras (as the sanity check does).

    Returns:
        `(result, cam, loaded)`: the `Explanation`, the map as a float array (0..1) over the
        region the model saw, and the image as read, for drawing.
    """
    chosen = get_method(method)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_METRIC_STEPS:
        raise InvalidInputError(f"Expected steps from 1 to {MAX_METRIC_STEPS}. Received: steps={str(steps)[:20]!r}",
                                key="explain_steps", limit=MAX_METRIC_STEPS, value=str(steps)[:20])
    started = time.perf_counter()
    prepared, keras_model, graph_layer = _prepare(model, options, chosen, sanity, asked_layer=layer is not None)
    loaded = load_image(image)
    framing = prepared.framing(loaded.image, options.resize)
    pixels = image_to_array(loaded.image, prepared.input_size, prepared.channels, framing)
    mode = prepared.input_mode(options.preprocessing)
    spec = get_spec(prepared.name) if options.model_path is None else None
    layer_name, reason = (_layer(keras_model, layer, spec.gradcam_layer if spec else None, graph_layer) if chosen.uses_layer
                          else (None, None))
    probe = ExplainContext(prepared=prepared, keras_model=keras_model, pixels=pixels, mode=mode, target=None,  # type: ignore[arg-type]
                           layer=layer_name)
    probabilities = probe.probabilities(pixels[np.newaxis])[0]
    explained = resolve_target(target, class_index=class_index, expected=expected, prepared=prepared,
                               probabilities=probabilities)
    context = ExplainContext(prepared=prepared, keras_model=keras_model, pixels=pixels, mode=mode, target=explained,
                             layer=layer_name)
    cam = np.asarray(chosen.compute(context), np.float64)
    answer = int(np.argmax(probabilities))
    result: Explanation = {
        "model": prepared.name,
        "method": chosen.name,
        "method_title": chosen.title,
        "class_specific": chosen.class_specific,
        "class": explained_class(explained, prepared, probabilities),
        "target": explained.kind,
        "answer": explained_class(resolve_target("answer", class_index=None, expected=None, prepared=prepared,
                                                 probabilities=probabilities), prepared, probabilities),
        "is_answer": answer in explained.indices,
        "layer": layer_name,
        "layer_reason": reason,
        "backend": prepared.backend,
        "heatmap": np.round(cam, GRID_DECIMALS).tolist(),
        "region": framing.describe(),
        "seconds": round(time.perf_counter() - started, 3),  # the map; the metrics say their own
    }
    if metrics:
        measuring = time.perf_counter()
        result["metrics"] = map_metrics(context, cam, steps)
        result["metrics"]["seconds"] = round(time.perf_counter() - measuring, 3)
    if sanity:
        result["sanity"] = sanity_check(context, chosen, cam, keras_model)
    return result, cam, loaded


def describe_methods() -> list[dict]:
    """Every method: name, title, what it needs, whether it explains a class, its paper and its
    one-line description in each language."""
    return [{"name": entry.name, "title": entry.title, "needs": entry.needs, "class_specific": entry.class_specific,
             "uses_layer": entry.uses_layer, "citation": entry.citation, "description": _description(entry)}
            for entry in METHODS.values()]


def _description(entry: ExplanationMethod) -> dict[str, str]:
    return {lang: words.section("explain", lang)["methods"].get(entry.name, entry.title) for lang in words.LANGUAGES}


def _layer(keras_model: Any, asked: str | None, registry_layer: str | None, graph_layer: str | None) -> tuple[str, str]:
    if graph_layer is not None:  # onnxruntime, the last feature map before a linear head
        return graph_layer, "last_feature_map"
    if keras_model is None:  # onnxruntime with a layer the registry names: checked when the graph is read
        return (asked, "asked") if asked else (cast(str, registry_layer), "registry")
    return choose_layer(keras_model, asked, registry_layer)


def _prepare(model: str | None, options: RunOptions, method: ExplanationMethod, sanity: bool, *,
             asked_layer: bool) -> tuple[PreparedModel, Any, str | None]:
    """The model that scores (on the backend asked for where the method allows), the Keras model for
    gradients, layers and the sanity check (None where onnxruntime does all), and the layer the
    exported graph names as its last feature map before a linear head (None where Keras names it).

    Gradients come from onnxruntime too where the layer is followed by a linear head (the head's
    weights are then the gradients: `onnx.head`), so a default Grad-CAM on a cached export needs no
    TensorFlow; the int8 graph's head is quantised, so they come from the float32 export."""
    if options.preprocessing is not None:
        get_mode(options.preprocessing)
    if options.model_path is not None:
        prepared = load_custom_model(options.model_path, class_names=options.class_names, preprocessing=options.preprocessing)
        return prepared, cast(KerasRunner, prepared.runner).model, None
    if model is None:
        raise InvalidInputError("Expected a model to explain. Received: model=None", key="no_models")
    spec = get_spec(model)
    options.require_trained("to explain a prediction", "random weights, whose heat maps mean nothing",
                            untrained=parse_weights(options.weights).untrained)
    keras_prepared = None
    if sanity or options.backend == "keras":
        keras_prepared = load_registry_model(spec.name, options.weights)
        if method.needs == "gradients" or options.backend == "keras":
            return keras_prepared, cast(KerasRunner, keras_prepared.runner).model, None
    from plugin.engine.study.labels import verdict_labels

    precision = "float32" if method.needs == "gradients" else options.precision
    prepared = load_registry_model(spec.name, options.weights, options.backend, precision, verdicts=verdict_labels)
    if prepared.backend == "keras":
        return prepared, cast(KerasRunner, prepared.runner).model, None
    graph_layer = None if asked_layer or spec.gradcam_layer or not method.uses_layer else graph_head_layer(prepared)
    if method.needs == "gradients" and graph_layer is None:
        keras_prepared = keras_prepared or load_registry_model(spec.name, options.weights)
        return keras_prepared, cast(KerasRunner, keras_prepared.runner).model, None
    if method.uses_layer and graph_layer is None and (asked_layer or not spec.gradcam_layer):
        # the layer's name (and a check of one asked for) comes from the Keras graph
        keras_prepared = keras_prepared or load_registry_model(spec.name, options.weights)
    keras_model = cast(KerasRunner, keras_prepared.runner).model if keras_prepared is not None else None
    return prepared, keras_model, graph_layer
