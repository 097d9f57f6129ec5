"""The public functions, each the one place that joins the layers below for a caller.

`classify_image(s)`, `list_models` and `compare_models` come straight from the engine and the
architecture layer. `describe_architecture` adds the diagram (drawn by `plugin.render.diagram`) to
the facts; `render_report` renders a result the caller already has, or, given only the options of
a kind, runs the engine once first: one image read, one classification, one describe per report.
"""

from __future__ import annotations

from plugin import words
from plugin.engine.architecture.describe import check_detail, describe, load_subject
from plugin.engine.inference.listing import list_models
from plugin.engine.intake.images import LoadedImage, load_image
from plugin.engine.models.defaults import default_models
from plugin.engine.study.classify import classify_image, classify_images
from plugin.engine.study.compare import compare_models
from plugin.engine.study.evaluation import evaluate
from plugin.engine.study.experiment import compare_preprocessing
from plugin.engine.study.explain import explain
from plugin.engine.study.finetune import fine_tune
from plugin.errors import InvalidInputError, PluginError
from plugin.render import diagram as diagrams
from plugin.render.overlay import write_overlay
from plugin.render.reports import KINDS, write_report

__all__ = ["list_models", "default_models", "classify_image", "classify_images", "explain_image", "compare_preprocessing",
           "evaluate", "fine_tune", "describe_architecture", "compare_models", "render_report"]

_OPTIONS = {
    "architecture": ("model", "model_path", "expand_nested", "show_shapes", "rankdir"),
    "classification": ("models", "top_k", "weights", "model_path", "class_names", "preprocessing", "allow_random_weights",
                       "expected", "explain", "study_preprocessing"),
    "comparison": ("models", "top_k", "weights", "allow_random_weights", "preprocessing"),
    "evaluation": ("source", "models", "labels", "weights", "allow_random_weights", "model_path", "class_names",
                   "preprocessing", "engine"),
}


def describe_architecture(model: str | None = None, detail: str = "summary", include_diagram: bool = True,
                          diagram_format: str | list[str] = "svg", expand_nested: bool = False,
                          show_shapes: bool = True, rankdir: str = "TB", model_path=None) -> dict:
    """Describe a model's architecture: totals, multiply-adds, stages, structure, layers, diagram.

    Args:
        model: a registry model name (see `list_models()`); None for ResNet50. Ignored when
            `model_path` is given.
        detail: "summary" (totals, stages and structure: short), "layers" (adds the layer table),
            or "full" (the layer table with nested models expanded).
        include_diagram: draw the model with plot_model's `model_to_dot` and Graphviz.
        diagram_format: "svg", "png" or "dot", or a list of them (all drawn from one graph).
        expand_nested: draw (and, with detail="layers", list) the layers of nested models.
        show_shapes: show shapes in the diagram.
        rankdir: "TB" (top to bottom) or "LR" (left to right).
        model_path: a `.keras`/`.h5` model file of your own instead of a registry model.

    Returns:
        `{"model", "family", "input_shape", "output_shape", "total_params", "trainable_params",
        "non_trainable_params", "macs", "flops", "size_mb", "num_layers", "depth", "stages",
        "structure", "layers", "preprocessing", "published", "diagram", "macs_note"}`; `layers`
        is None for detail="summary", `diagram` (`{"format", "path", "bytes", "files"}`) None
        without include_diagram, `published` None for model files. FLOPs = 2 x MACs.
    """
    check_detail(detail)
    formats = diagrams.check_options(diagram_format, rankdir)
    for flag, name in ((include_diagram, "include_diagram"), (expand_nested, "expand_nested"), (show_shapes, "show_shapes")):
        if not isinstance(flag, bool):
            raise InvalidInputError(f"Expected {name} to be true or false. Received: {name}={flag!r}")
    subject = load_subject(model, model_path)
    facts = describe(subject, detail=detail, expand_nested=expand_nested)
    if include_diagram:
        facts["diagram"] = diagrams.draw(subject.model, subject.identity, formats=formats, show_shapes=show_shapes,
                                         expand_nested=expand_nested, rankdir=rankdir)
    return facts


def explain_image(image, model: str | None = None, class_index=None, *, expected=None, weights="imagenet",
                  allow_random_weights: bool = False, model_path=None, class_names=None, preprocessing=None) -> dict:
    """Where did the model look? A Grad-CAM heat map for one image and one model.

    Args:
        image: a path, http(s) URL, data URI, base64 string, bytes, PIL image or numpy array.
        model: a registry model name (see `list_models()`); ignored when `model_path` is given.
        class_index: the class to explain (an index, or an ImageNet class name); default: the
            expected class if given, else the model's top-1 class.
        expected: the right answer, as for `classify_image`.
        weights, allow_random_weights, model_path, class_names, preprocessing: as for `classify_image`.

    Returns:
        `{"model", "class": {"index", "label", "label_ko", "probability"}, "layer", "heatmap",
        "overlay_path"}`: `heatmap` is the last feature map's grid (rows top to bottom, values 0..1,
        hot = where the model looked for the class); `overlay_path` a PNG of the heat over the photo.
    """
    result, cam, loaded = explain(image, model, class_index=class_index, expected=expected, weights=weights,
                                  allow_random_weights=allow_random_weights, model_path=model_path,
                                  class_names=class_names, preprocessing=preprocessing)
    result["overlay_path"] = str(write_overlay(loaded.image, cam, result["model"], result["class"]["index"]))
    return result


def render_report(kind: str, lang: str | None = None, output_dir=None, *, file_name: str | None = None,
                  result: dict | None = None, facts: dict | None = None, image=None, explanations: list[dict] | None = None,
                  preprocessing_study: dict | None = None, **options) -> dict:
    """Make a study report page (HTML) and its Markdown version.

    Give the results you already have, and they are rendered as they are: `result=` a
    classify_image or compare_models result (with `image=` the photo, optional; for a
    classification also `explanations=` explain_image results and `preprocessing_study=` a
    compare_preprocessing result), or `facts=` a describe_architecture result. Or give the
    options of the kind, and the engine runs once first.

    Args:
        kind: "evaluation" (options as evaluate: source, models, labels, weights, ...; or
            `result=` an evaluate result), "architecture" (options as describe_architecture: model, model_path,
            expand_nested, show_shapes, rankdir), "classification" (image, and options as
            classify_image: models, top_k, weights, model_path, class_names, preprocessing,
            allow_random_weights, expected; and explain=True for a Grad-CAM per model,
            study_preprocessing=True for the preprocessing experiment with the first model) or
            "comparison" (models, optional image, and top_k, weights, allow_random_weights, preprocessing).
        lang: "ko" or "en"; default CNNLAB_LANG, else Korean.
        output_dir: folder inside the configured output folder (default: the output folder).
        file_name: base name for the files (default: kind, models, language and time).
        result: a classification or comparison result to render.
        facts: architecture facts to render.
        image: the image (any form classify_image takes; a PIL image or LoadedImage is not read again).
        explanations: Grad-CAM results (explain_image) to show beside the predictions.
        preprocessing_study: a compare_preprocessing result to show as a section.
        **options: the options of the kind, when no result is given.

    Returns:
        `{"path", "markdown_path", "title", "kind", "lang"}`.
    """
    if kind not in KINDS:
        raise InvalidInputError(f"Expected kind to be one of {list(KINDS)}. Received: kind={kind!r}")
    lang = words.check_lang(lang)
    unknown = set(options) - set(_OPTIONS[kind]) | ({"image"} if kind == "architecture" and image is not None else set())
    if unknown:
        raise InvalidInputError(f"Expected {kind} options among {list(_OPTIONS[kind])}. Received: {sorted(unknown)}")
    if options and (result is not None or facts is not None):
        raise InvalidInputError(f"Expected either a result to render or options to run, not both. Received: "
                                f"{sorted(options)} with a result")
    written = {"lang": lang, "output_dir": output_dir, "file_name": file_name}
    if kind == "evaluation":
        if result is None:
            result = evaluate(options.pop("source", None), **options)
        return write_report(kind, result=result, thumbnails=_thumbnails(result), **written)
    if kind == "architecture":
        if facts is None:
            detail = "full" if options.get("expand_nested") else "layers"
            facts = describe_architecture(detail=detail, diagram_format="svg", **options)
        return write_report(kind, facts=facts, **written)
    if kind == "classification" and result is None and image is None:
        raise InvalidInputError("Expected an image for a classification report. Received: no image option", key="image_missing")
    loaded = load_image(image) if image is not None else None
    if result is None and kind == "comparison":
        result = compare_models(image=loaded, **options)
    elif result is None:
        explain_models, study = options.pop("explain", False), options.pop("study_preprocessing", False)
        result = classify_image(loaded, **options)
        explanations, preprocessing_study = _study(loaded, result, options, explain_models, study)
    return write_report(kind, result=result, photo=loaded.image if isinstance(loaded, LoadedImage) else None,
                        explanations=explanations, preprocessing_study=preprocessing_study, **written)


def _thumbnails(result: dict) -> dict:
    """The mistakes' photos, read once, for the report's gallery (paths the evaluation already checked)."""
    pictures = {}
    for model in result.get("models", []):
        for mistake in model.get("mistakes", []):
            if mistake["path"] not in pictures:
                try:
                    pictures[mistake["path"]] = load_image(mistake["path"]).image
                except PluginError:
                    continue  # a photo gone since the evaluation: the gallery shows the others
    return pictures


def _study(loaded, result: dict, options: dict, explain_models: bool, study: bool) -> tuple[list | None, dict | None]:
    """The Grad-CAM of each model and the preprocessing experiment of the first, for a report."""
    same = {key: options[key] for key in ("weights", "allow_random_weights") if key in options}
    explanations = None
    if explain_models:
        explanations = []
        for outcome in result["results"]:
            custom = {key: options.get(key) for key in ("model_path", "class_names", "preprocessing")} if options.get("model_path") else {}
            explained, _cam, _ = explain(loaded, None if custom else outcome["model"], expected=options.get("expected"),
                                         **same, **custom)
            explanations.append(explained)
    preprocessing_study = None
    if study and not options.get("model_path"):
        preprocessing_study = compare_preprocessing(loaded, result["results"][0]["model"], top_k=3, **same)
    return explanations, preprocessing_study
