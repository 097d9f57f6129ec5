"""The tools' handlers: each passes its validated arguments to the public API (`plugin.api`) and
returns its result, sized for a model's context where the API's result is longer than a caller needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugin import api
from plugin.doors.tools import arguments as models


def list_models(args: models.ListModelsArguments) -> Mapping[str, Any]:
    return api.list_models()


def classify(args: models.ClassifyImageArguments) -> Mapping[str, Any]:
    options = args.model_dump(exclude={"image", "images"})
    if args.images is not None:
        return api.classify_images(args.images, **options)
    assert args.image is not None  # _one_image_form: exactly one of image or images
    return api.classify_image(args.image, **options)


def explain(args: models.ExplainPredictionArguments) -> Mapping[str, Any]:
    return api.explain_image(args.image, args.model, args.class_index,
                             **args.model_dump(exclude={"image", "model", "class_index", "include_image"}))


def compare_explanations(args: models.CompareExplanationsArguments) -> Mapping[str, Any]:
    return api.compare_explanations(args.image, args.model, **args.model_dump(exclude={"image", "model", "include_image"}))


def look_inside(args: models.LookInsideArguments) -> Mapping[str, Any]:
    """The result with the receptive fields of the layers where the field grows (a model's context
    needs those; every layer's is in describe_architecture's layer table)."""
    result: dict[str, Any] = dict(api.look_inside(args.image, args.model, args.layers,
                                                  **args.model_dump(exclude={"image", "model", "layers", "include_image"})))
    fields = result.get("receptive_fields")
    if fields:
        kept, last = {}, None
        for name, field in fields.items():
            if (field["size"], field["stride"]) != last:
                kept[name], last = field, (field["size"], field["stride"])
        result["receptive_fields"] = kept
        result["receptive_fields_note"] = (f"{len(kept)} of {len(fields)} layers: each where the field grows. "
                                           "describe_architecture with detail=layers gives every layer's.")
    return result


def compare_preprocessing(args: models.ComparePreprocessingArguments) -> Mapping[str, Any]:
    return api.compare_preprocessing(args.image, args.model, args.modes, top_k=args.top_k, weights=args.weights,
                                     allow_random_weights=args.allow_random_weights, resize=args.resize)


def evaluate(args: models.EvaluateImagesArguments, progress) -> Mapping[str, Any]:
    return api.evaluate(args.source, **args.model_dump(exclude={"source"}),
                        progress=lambda done, total, model: progress(done, total, f"{model}: {done}/{total}"))


def fine_tune(args: models.FineTuneArguments, progress) -> Mapping[str, Any]:
    return api.fine_tune(args.source, **args.model_dump(exclude={"source"}),
                         progress=lambda step, steps, stage: progress(step, steps, stage))


def describe(args: models.DescribeArchitectureArguments) -> Mapping[str, Any]:
    formats = [args.diagram_format, "png"] if args.include_image else args.diagram_format
    facts = api.describe_architecture(args.model, detail=args.detail, include_diagram=args.include_diagram or args.include_image,
                                      diagram_format=formats, expand_nested=args.expand_nested,
                                      show_shapes=args.show_shapes, rankdir=args.rankdir, model_path=args.model_path)
    facts.pop("keras_summary", None)  # the layer table says the same in fewer tokens; reports carry Keras's own text
    layers = facts.get("layers")
    if layers and len(layers) > args.max_layers:
        facts["layers"] = layers[:args.max_layers]
        facts["layers_note"] = (f"Showing the first {args.max_layers} of {len(layers)} layers. Call again with a larger "
                                "max_layers, or make an architecture report (render_report) for the whole table.")
    return facts


def compare(args: models.CompareModelsArguments) -> Mapping[str, Any]:
    options = {}
    if args.image is not None:
        options = args.model_dump(include={"top_k", "weights", "allow_random_weights", "preprocessing", "resize"})
    return api.compare_models(args.models, image=args.image, **options)


def report(args: models.RenderReportArguments) -> Mapping[str, Any]:
    """The options of the report's kind (`api.REPORT_OPTIONS`) that were given, passed to `make_report`."""
    given = args.model_dump(include=set(api.REPORT_OPTIONS[args.kind]), exclude_none=True)
    return api.make_report(args.kind, lang=args.lang, **given)
