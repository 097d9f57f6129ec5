"""The public functions, each the one place that joins the layers below for a caller; every door
(tools, MCP, web app, command line, gallery) reaches the engine through this module only.

The engine computes; `plugin.render` draws and writes. `study_image` is the one way to study a
photo (classify, then Grad-CAM and the preprocessing experiment on request), `fine_tune(...,
evaluate=True)` the one way to fine-tune and then evaluate. `render_report` only renders results
the caller already has; `make_report` runs the engine once with the options of a kind
(`REPORT_OPTIONS`, which the tool schema reads too) and renders.

The last part lists what the doors show and offer (model names, preprocessing modes, engines, the
sentences said about results, uploads), so that no door imports the engine.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from plugin import words
from plugin.engine.architecture.describe import check_detail, describe, describe_registry_model, load_subject
from plugin.engine.inference.custom import load_custom_model
from plugin.engine.inference.listing import list_models
from plugin.engine.inference.options import RunOptions
from plugin.engine.inference.prepared import load_registry_model
from plugin.engine.inference.preprocessing import MODES
from plugin.engine.inside import VIEWS as INSIDE_VIEWS
from plugin.engine.inside import look_inside as _look_inside
from plugin.engine.intake.archives import extract_images
from plugin.engine.intake.folders import labelled_folders
from plugin.engine.intake.images import bound_decoding, load_image, load_upload
from plugin.engine.models.defaults import default_models
from plugin.engine.models.registry import MODELS, get_spec
from plugin.engine.models.weights import parse_weights
from plugin.engine.results import (
    ArchitectureFacts,
    BatchClassificationResult,
    ClassificationResult,
    ClassNames,
    ComparisonResult,
    EvaluationResult,
    ExpectedInput,
    Explanation,
    ExplanationComparison,
    FineTuneResult,
    ImageInput,
    InsideResult,
    LoadedImage,
    ModelNames,
    PathInput,
    PreprocessingStudy,
    ReportFiles,
    StructureResult,
    StudyResult,
    WeightsByModel,
    WeightsInput,
    answers,
    failures,
    is_answer,
    is_failure,
)
from plugin.engine.study.classify import check_model_names
from plugin.engine.study.classify import classify_image as _classify_image
from plugin.engine.study.classify import classify_images as _classify_images
from plugin.engine.study.compare import compare_models
from plugin.engine.study.evaluation import ENGINES, Progress
from plugin.engine.study.evaluation import evaluate as _evaluate
from plugin.engine.study.experiment import compare_preprocessing as _compare_preprocessing
from plugin.engine.study.explain import TARGETS as EXPLAIN_TARGETS
from plugin.engine.study.explain import describe_methods, explain
from plugin.engine.study.explain.compare import compare_explanations as _compare_explanations
from plugin.engine.study.finetune import FineTuneOptions
from plugin.engine.study.finetune import fine_tune as _fine_tune
from plugin.engine.study.image_study import study_image as _study_image
from plugin.errors import InvalidInputError
from plugin.limits import (
    DEFAULT_BACKEND,
    DEFAULT_EXPLAIN_METHOD,
    DEFAULT_FINE_TUNE_EPOCHS,
    DEFAULT_METRIC_STEPS,
    DEFAULT_PRECISION,
    DEFAULT_TOP_K,
    FINE_TUNE_BASE,
    MAX_MAXIMIZE_CHANNELS,
    MAX_METRIC_STEPS,
    RESIZES,
    STRUCTURE_MODELS,
)
from plugin.render import diagram as diagrams
from plugin.render import inside_files as inside_pictures
from plugin.render import notebook
from plugin.render.explanations import write_explanation_grid
from plugin.render.overlay import write_overlay
from plugin.render.pages import ReportKind, get_kind, kinds
from plugin.render.reports import list_reports, share_report, write_report
from plugin.words.results import (
    classification_view,
    display_name,
    explanation_how,
    fallback_note,
    gradcam_caption,
    method_description,
    method_title,
    metrics_definitions,
    metrics_sentence,
    region_text,
    sanity_sentence,
    sentence,
    source_text,
    verdict_basis,
    verdict_rule,
)

__all__ = ["list_models", "default_models", "classify_image", "structures", "classify_images", "study_image", "explain_image",
           "compare_explanations", "explanation_methods", "exports_under_way",
           "compare_preprocessing", "evaluate", "fine_tune", "describe_architecture", "compare_models", "render_report", "look_inside", "show",
           "make_report", "REPORT_OPTIONS", "report_kinds", "ReportKind", "list_reports", "share_report",
           # what the doors show and offer
           "MODEL_NAMES", "MODEL_FAMILIES", "INSIDE_VIEWS", "model_name", "PREPROCESSING_MODES", "ENGINES", "LoadedImage", "load_image", "load_upload",
           "extract_images", "labelled_folders", "bound_decoding", "classification_view", "sentence", "display_name", "source_text", "fallback_note", "verdict_basis",
           "gradcam_caption", "region_text", "RESIZES", "method_title", "method_description", "explanation_how",
           "metrics_sentence", "sanity_sentence", "metrics_definitions", "EXPLAIN_TARGETS",
           "DEFAULT_EXPLAIN_METHOD", "DEFAULT_METRIC_STEPS", "MAX_METRIC_STEPS",
           "verdict_rule", "answers", "failures", "is_answer", "is_failure"]

class _ReportOptions(Mapping[str, tuple[str, ...]]):
    """Each kind of report's options, read from its declaration (`plugin.render.pages`)."""

    def __getitem__(self, kind: str) -> tuple[str, ...]:
        return get_kind(kind).options

    def __iter__(self) -> Iterator[str]:
        return iter(kinds())

    def __len__(self) -> int:
        return len(kinds())


_API = sys.modules[__name__]
"""This module: what a kind of report's `run` and `prepare` are handed to reach the engine."""

REPORT_OPTIONS: Mapping[str, tuple[str, ...]] = _ReportOptions()
"""The options `make_report` takes for each kind of report, as the engine function of that kind
names them (`image` and `source` included)."""


def report_kinds() -> Mapping[str, ReportKind]:
    """Every kind of report, by name: what it is, what it renders, the options `make_report` takes."""
    return kinds()


MODEL_NAMES: tuple[str, ...] = tuple(MODELS)
"""Every registry model's name, in the registry's order."""
MODEL_FAMILIES: dict[str, str] = {name: spec.family for name, spec in MODELS.items()}
"""Each registry model's family ("VGG", "ResNet", "EfficientNet-Lite", ...)."""
PREPROCESSING_MODES: tuple[str, ...] = tuple(MODES)
"""Every preprocessing mode (`builtin` is a model's own rescaling, not a choice for a caller)."""


def model_name(name: str) -> str:
    """The registry's spelling of a model name given in any case (`vgg16` -> `VGG16`); an
    `UnknownModelError` that lists the models for any other name."""
    return get_spec(name).name


def classify_image(image: ImageInput, models: ModelNames = None, top_k: int = DEFAULT_TOP_K,
                   weights: WeightsByModel = "imagenet", model_path: PathInput | None = None, class_names: ClassNames = None,
                   preprocessing: str | None = None, allow_random_weights: bool = False, expected: ExpectedInput = None,
                   backend: str = DEFAULT_BACKEND, precision: str = DEFAULT_PRECISION,
                   resize: str | None = None) -> ClassificationResult:
    """Classify one image with each model, give the dog/cat verdict and say whether the models agree.

    Args:
        image: a path, http(s) URL, data URI, base64 string, bytes, PIL image or numpy array.
        models: registry model names (see `list_models()`), at most `MAX_MODELS_PER_CALL`;
            None for the study's pair, VGG16 and ResNet50, where their ImageNet weights are ready,
            else EfficientNetLite0 (its weights come with the project), with a `note` saying so.
            Ignored when `model_path` is given.
        top_k: how many top classes to return per model, 1 to `MAX_TOP_K` (20).
        weights: "imagenet" (downloaded once and cached by Keras, or bundled), "random" or None
            (random initialisation, needs `allow_random_weights=True`) or a weights file path; or
            a dict of these by model name, to give each model its own (models not named get
            "imagenet"; with `models=None`, the dict's models are run).
        model_path: a `.keras`/`.h5` classifier of your own, used instead of `models`.
        class_names: names of the custom model's classes, by output index.
        preprocessing: for a custom model, "caffe", "tf", "torch", "rescale" or "none";
            for registry models, overrides their own preprocessing (to study its effect).
        allow_random_weights: permit classifying with random weights; such results say
            `"untrained": true`.
        expected: the right answer, if known: an ImageNet class (index, English or Korean name,
            or WordNet id) or "dog"/"cat"; for a model file, one of its class names.
        backend: "auto" (onnxruntime where the model's export is cached, else Keras while it is
            exported in the background), "onnx" (exports first if needed: seconds to a few
            minutes, once) or "keras". Random weights and model files always run on Keras
            ("onnx" refuses them).
        precision: "float32" or "int8" (registry models with trained weights, on onnxruntime:
            quantised once from the float32 export and kept only if it agrees with float32 on
            held-out photos; where it does not, float32 answers and `precision_note` gives the
            numbers). Each result's `precision` says which answered, and `int8_agreement` how the
            int8 model agreed with float32 on the check images.
        resize: "crop": each model's evaluation protocol, the default for registry models (a
            centred box of the photo, e.g. Keras's "shorter side to 256, centre 224", bicubic: how
            the published accuracy was measured); "whole": the whole photo squashed to the input
            size. None: each model's own way (a model file: what was recorded when it was trained
            here, else "whole"). Each result's `region` says which part of the photo the model saw.

    With several models, a model that cannot answer (its weights are not on this machine, ...)
    does not fail the request: its entry in `results` is `{"model", "error": {"type", "message",
    "key", "params"}}` and the others answer. When none can, the error names the models that can.

    Returns:
        `{"image": {"width", "height", "source"}, "results": [{"model", "weights", "untrained",
        "predictions": [{"rank", "label", "label_ko", "class_id", "index", "probability"}],
        "verdict", "inference_ms", "backend", "precision", "input_size", "preprocessing", "region": {"resize",
        "box", "interpolation", "crop_fraction", "left_out", "warning"}, ("correct": {"top1", "top5",
        "verdict"}, "expected_rank" with expected)}], "agreement": {"agree", "basis",
        "verdict_agree", "top1_agree", "top1", "verdicts", "summary"}, ("expected"), "note"?,
        "fallback"?}`. `agreement.summary` says in one sentence whether the models agree on the
        verdict and on the class ("Both say dog, but VGG16 says English foxhound and ResNet50 says
        beagle"). `note` and `fallback` (`{"model", "instead_of", "download_mb"}`) say why another
        model answered when `models` was None.
    """
    options = RunOptions(weights=weights, allow_random_weights=allow_random_weights, model_path=model_path,
                         class_names=class_names, preprocessing=preprocessing, backend=backend, precision=precision,
                         resize=resize)
    return _classify_image(image, models, top_k=top_k, expected=expected, options=options)


def classify_images(images: Sequence[ImageInput], models: ModelNames = None, top_k: int = DEFAULT_TOP_K,
                    weights: WeightsByModel = "imagenet", model_path: PathInput | None = None,
                    class_names: ClassNames = None, preprocessing: str | None = None, allow_random_weights: bool = False,
                    expected: ExpectedInput = None, backend: str = DEFAULT_BACKEND,
                    precision: str = DEFAULT_PRECISION, resize: str | None = None) -> BatchClassificationResult:
    """Classify several images (at most `MAX_IMAGES_PER_CALL`) in batches, with the options of `classify_image`.

    Returns:
        `{"images": [one classify_image result per image, in order]}`.
    """
    options = RunOptions(weights=weights, allow_random_weights=allow_random_weights, model_path=model_path,
                         class_names=class_names, preprocessing=preprocessing, backend=backend, precision=precision,
                         resize=resize)
    return _classify_images(images, models, top_k=top_k, expected=expected, options=options)


def compare_preprocessing(image: ImageInput, model: str, modes: Sequence[str] | None = None, *, top_k: int = DEFAULT_TOP_K,
                          weights: WeightsInput = "imagenet", allow_random_weights: bool = False,
                          resize: str | None = None) -> PreprocessingStudy:
    """Classify one photo with one model under several preprocessing modes, and with its own mode
    both cropped as the model was evaluated and whole.

    Args:
        image: any form `classify_image` takes.
        model: a registry model name.
        modes: preprocessing modes to try; default caffe, tf, torch, the model's own mode and none.
        top_k: top classes per mode, 1 to 20.
        weights, allow_random_weights: as for `classify_image`.
        resize: how the photo reaches the model in the modes' rows, as for `classify_image`.

    Returns:
        `{"model", "own_mode", "image", "weights", "backend", "untrained", "pixel": {"at", "rgb"}, "modes": [{"mode", "own", "predictions",
        "verdict", "formula", "channel_order", "pixel"}], "resizes": [{"resize", "own", "region",
        "predictions", "verdict"}]}`, the model's own mode marked `own: true`; each mode's `formula`
        and the photo's centre pixel (`pixel.rgb`) as that mode hands it to the model (`pixel`, in
        its `channel_order`); `resizes`: the model's own mode with "crop" and with "whole", each
        with the `region` of the photo it saw; `backend`: what ran it ("onnx" where the model's
        export is cached, else "keras").
    """
    options = RunOptions(weights=weights, allow_random_weights=allow_random_weights, resize=resize)
    return _compare_preprocessing(image, model, modes, top_k=top_k, options=options)


def evaluate(source: PathInput, models: ModelNames = None, labels: dict[str, str] | None = None, *,
             weights: WeightsInput = "imagenet", allow_random_weights: bool = False, model_path: PathInput | None = None,
             class_names: ClassNames = None, preprocessing: str | None = None, engine: str = "local", resume: bool = True,
             progress: Progress | None = None, num_cpus: int | None = None, backend: str = DEFAULT_BACKEND,
             precision: str = DEFAULT_PRECISION, resize: str | None = None) -> EvaluationResult:
    """Evaluate models on labelled images.

    Args:
        source: a folder whose sub-folders name the labels (`cat/`, `dog/`, or ImageNet classes by
            English or Korean name or WordNet id), or a CSV/JSON list of (image, label); below the
            allowed roots; at most `MAX_EVALUATION_IMAGES` images.
        models: registry models; None for the study's pair where their weights are ready, else
            EfficientNetLite0 (as classify_image). With `model_path` alone, only that file.
        labels: optional renaming of the source's labels, e.g. {"kitties": "cat"}.
        weights, allow_random_weights: as for classify_image.
        model_path, class_names, preprocessing: a model file of one's own (a fine-tuned one needs
            neither class names nor preprocessing: they are stored beside it).
        engine: "local" (this process) or "ray" (Ray actors, one batch per call).
        resume: continue the log of an earlier run of the same images (unchanged on disk) and
            models that was interrupted; a finished run is run again.
        progress: called as `progress(done, total, model)` after every batch.
        num_cpus: logical CPUs of a local Ray instance (default: the cores and one more; an actor
            of one CPU per core, and one CPU for Ray's own tasks).
        backend: "auto", "onnx" or "keras", as for classify_image; decided once, before the run
            (with "auto", a model whose export is not cached yet runs on Keras the whole run).
        precision: "float32" or "int8", as for classify_image; the int8 model is made and checked
            here, before the run (where it is refused, float32 runs and `precision_note` says why).
        resize: "crop" or "whole", as for classify_image (None: each model's own way, "crop" for
            registry models: the protocol their published accuracy was measured with).

    Returns:
        `{"source", "images", "labels", "label_counts", "log_path", "engine", "models": [{"model",
        "images", "accuracy": {"verdict", "top1", "top5"}, "confusion_matrix": {"labels", "counts"},
        "per_class", "mistakes", "mistake_count", "images_per_second", "backend", "precision",
        ("precision_note")}], ("note", "fallback")}`;
        a metric that does not apply is None. A model that cannot answer (its weights are not on this
        machine) is `{"model", "error"}` in `models`, first, and the others are evaluated.
    """
    options = RunOptions(weights=weights, allow_random_weights=allow_random_weights, model_path=model_path,
                         class_names=class_names, preprocessing=preprocessing, backend=backend, precision=precision,
                         resize=resize)
    return _evaluate(source, models, labels, options=options, engine=engine, resume=resume, progress=progress,
                     num_cpus=num_cpus)


def fine_tune(source: PathInput, base: str = FINE_TUNE_BASE, epochs: int = DEFAULT_FINE_TUNE_EPOCHS, *,
              labels: dict[str, str] | None = None, validation_split: float = 0.25, learning_rate: float = 0.01,
              patience: int = 5, seed: int = 0, augment: bool = True, name: str | None = None, overwrite: bool = False,
              output_dir: PathInput | None = None, progress: Progress | None = None, evaluate: bool = False,
              resize: str | None = None) -> FineTuneResult:
    """Train a new head for the folder's classes on a frozen pretrained backbone and save the model.

    Args:
        source: a folder whose sub-folders name the classes (e.g. cat/ and dog/), or a CSV/JSON
            list of (image, label), below the allowed roots.
        base: the registry model whose ImageNet weights give the backbone.
        epochs: most epochs of training (early stopping may end sooner), 1 to 200.
        labels: optional renaming of the source's labels.
        validation_split: share of each class's photos kept for validation.
        learning_rate: Adam's learning rate for the head.
        patience: epochs without a better validation loss before stopping.
        seed: fixes the split, the augmentation and the head's initialisation.
        augment: also train on flipped and cropped variants of the training photos.
        output_dir: a folder inside the output folder to save into (its `models/`); default the output folder.
        name: the model file's name (letters, digits, '-', '_'); default from the source and base.
            A model of that name already there is kept: the new one gets the next free name
            (`cats-2.keras`), unless `overwrite`.
        overwrite: replace a model of the same name.
        progress: called as `progress(step, steps, stage)` while features are computed ("features"),
            per epoch ("training") and, with `evaluate`, per evaluated batch ("evaluating").
        evaluate: then evaluate the base and the fine-tuned model on the held-out photos, once.
        resize: how photos reach the backbone: "crop" (its evaluation protocol, the default) or
            "whole"; recorded beside the model file, so classifying with it later does the same.

    Returns:
        `{"model_path", "class_names", "history": {"loss", "val_loss", "accuracy", "val_accuracy",
        "epochs_run", "stopped_early"}, "accuracy": {"base", "fine_tuned"}, "base", "images":
        {"train", "validation"}}`: `accuracy` on the validation photos; the base's is its dog/cat
        verdict (or top-1 for ImageNet class labels), None where neither applies. With `evaluate`,
        also `"evaluation"`: an `evaluate` result for the base and the fine-tuned file on the
        held-out photos only (never trained on), with `"held_out": {"images", "per_class",
        "trained_on", "enough"}` (`enough`: at least `MIN_HELD_OUT_PER_CLASS` photos per class).
    """
    options = FineTuneOptions(epochs=epochs, validation_split=validation_split, learning_rate=learning_rate,
                              patience=patience, seed=seed, augment=augment, name=name, overwrite=overwrite,
                              output_dir=output_dir, resize=resize)
    return _fine_tune(source, base, options, labels=labels, progress=progress, evaluate=evaluate)


def study_image(image: ImageInput, models: ModelNames = None, *, expected: ExpectedInput = None, explain: bool = False,
                study_preprocessing: bool = False, methods: Sequence[str] | None = None,
                targets: Sequence[str | int] | None = None, metrics: bool = False, sanity: bool = False,
                **options: Any) -> StudyResult:
    """Study a photo: classify it with each model; on request show where each model looked and how
    preprocessing changes the answer. One classification and one Grad-CAM per model.

    Args:
        image: a path, http(s) URL, data URI, base64 string, bytes, PIL image or numpy array.
        models: registry model names; None as for `classify_image`.
        expected: the right answer, as for `classify_image`.
        explain: add a heat map per model (with its overlay PNG): Grad-CAM, or each of `methods`.
        study_preprocessing: add the preprocessing experiment with the first model.
        methods: the explanation methods with `explain` (see `explanation_methods()`); default Grad-CAM.
        targets: with `explain`, the classes each model's maps explain (as `explain_image`'s
            `target`; ["dog", "cat"] for the contrast) instead of its answer and, where it missed,
            the right answer.
        metrics: with `explain`, each map's deletion / insertion / ROAD numbers and baselines.
        sanity: with `explain`, each map's sanity check (cascading randomisation).
        **options: top_k, weights, allow_random_weights, model_path, class_names, preprocessing,
            backend, precision, resize, as for `classify_image`.

    Returns:
        `{"result", "image", "explanations", "preprocessing_study"}`: the `classify_image` result,
        the photo as read (a `LoadedImage`), the `explain_image` results (or None) and the
        `compare_preprocessing` result (or None); exactly what `render_report` takes.
    """
    top_k = options.pop("top_k", DEFAULT_TOP_K)
    study = _study_image(image, models, expected=expected, explain_models=explain, study_preprocessing=study_preprocessing,
                         top_k=top_k, methods=methods, targets=targets, metrics=metrics, sanity=sanity,
                         options=RunOptions(**options))
    for explained, heatmap in zip(study.explanations or [], study.heatmaps):
        explained["overlay_path"] = _overlay(study.image, heatmap, explained)
    return {"result": study.result, "image": study.image, "explanations": study.explanations,
            "preprocessing_study": study.preprocessing_study}


def describe_architecture(model: str | None = None, detail: str = "summary", include_diagram: bool = True,
                          diagram_format: str | Sequence[str] = "svg", expand_nested: bool = False,
                          show_shapes: bool = True, rankdir: str = "TB", model_path: PathInput | None = None) -> ArchitectureFacts:
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
    if model_path is None:  # kept on disk: a fresh process builds nothing (and imports no TensorFlow) where it can
        facts = describe_registry_model(model, detail=detail, expand_nested=expand_nested)
        identity, built = facts["model"], lambda: load_subject(model).model
    else:
        subject = load_subject(model, model_path)
        facts = describe(subject, detail=detail, expand_nested=expand_nested)
        identity, built = subject.identity, lambda: subject.model
    if include_diagram:
        facts["diagram"] = diagrams.draw(built, identity, formats=formats, show_shapes=show_shapes,
                                         expand_nested=expand_nested, rankdir=rankdir)
    return facts


def explain_image(image: ImageInput, model: str | None = None, class_index: int | str | None = None, *,
                  expected: ExpectedInput = None, target: str | int = "answer", method: str = DEFAULT_EXPLAIN_METHOD,
                  layer: str | None = None, metrics: bool = False, steps: int = DEFAULT_METRIC_STEPS, sanity: bool = False,
                  weights: WeightsInput = "imagenet", allow_random_weights: bool = False, model_path: PathInput | None = None,
                  class_names: ClassNames = None, preprocessing: str | None = None, resize: str | None = None,
                  backend: str | None = None, precision: str | None = None) -> Explanation:
    """Where did the model look, and can the map be trusted? One heat map for one image and one model.

    Args:
        image: a path, http(s) URL, data URI, base64 string, bytes, PIL image or numpy array.
        model: a registry model name (see `list_models()`); ignored when `model_path` is given.
        class_index: a class to explain (an index, or an ImageNet class name) instead of `target`.
        expected: the right answer, as for `classify_image`.
        target: which class to explain: "answer" (the model's own top-1, the default), "expected"
            (the right answer given in `expected`, even when the model answered something else),
            "dog" or "cat" (the sum of the group's classes, the verdict's groups), or an ImageNet
            class by name or index.
        method: how the map is made (`explanation_methods()` lists them): "gradcam" (the default),
            "gradcam++", "scorecam", "eigencam" (no class: what the layer responds to most),
            "layercam" or "occlusion" (a sliding grey patch; no layer, any backend).
        layer: the feature-map layer the CAM methods use instead of the default (the last
            feature map, or the registry's choice); a wrong name is refused with candidates.
        metrics: add deletion and insertion AUC (lower and higher is better) and ROAD, each beside
            the same number for a random and a centre-weighted map.
        steps: the deletion and insertion curves' steps (1 to `MAX_METRIC_STEPS`, default 20).
        sanity: re-make the map with the model's top layers randomised (Adebayo et al. 2018) and
            say whether it changes; a map that does not is flagged.
        weights, allow_random_weights, model_path, class_names, preprocessing, resize: as for `classify_image`.
        backend, precision: as for `classify_image`; gradient methods run on Keras in float32,
            the others (and the metrics) on the backend asked for.

    Returns:
        `{"model", "method", "method_title", "class_specific", "class", "target", "answer",
        "is_answer", "layer", "layer_reason", "backend", "heatmap", "region", "seconds",
        "overlay_path", "metrics"?, "sanity"?}`: `class` is what was explained (`{"index", "label",
        "label_ko", "probability"}`, or for a group `index` None with `group` and `classes`),
        `answer` the model's own top-1 and `is_answer` whether the class explained holds it;
        `heatmap` the map's grid (rows top to bottom, 0..1, hot = where the evidence for the class
        is) over the `region` the model saw; `overlay_path` a PNG of the heat over the photo.
        `metrics`: `{"steps", "deletion": {"auc", "curve"}, "insertion": {...}, "road": {"score",
        ...}, "score", "baselines": {"random", "centre"}, "better_than_random",
        "better_than_centre"}` (`score` = insertion AUC - deletion AUC). `sanity`: `{"steps":
        [{"randomised", "rank_correlation"}], "flagged", "threshold"}`.
    """
    options = RunOptions(weights=weights, allow_random_weights=allow_random_weights, model_path=model_path,
                         class_names=class_names, preprocessing=preprocessing, resize=resize,
                         backend=backend or DEFAULT_BACKEND, precision=precision or DEFAULT_PRECISION)
    result, heatmap, loaded = explain(image, model, class_index=class_index, expected=expected, target=target,
                                      method=method, layer=layer, metrics=metrics, steps=steps, sanity=sanity,
                                      options=options)
    result["overlay_path"] = _overlay(loaded, heatmap, result)
    return result


def compare_explanations(image: ImageInput, model: str | None = None, *, methods: Sequence[str] | None = None,
                         targets: Sequence[str | int] | None = None, expected: ExpectedInput = None,
                         layer: str | None = None, metrics: bool = False, steps: int = DEFAULT_METRIC_STEPS,
                         sanity: bool = False, lang: str | None = None, **options: Any) -> ExplanationComparison:
    """Several heat maps of one photo and one model side by side: the methods against each other,
    or one method for several classes. The dog-versus-cat contrast is `targets=["dog", "cat"]`.

    Args:
        image, model, expected, layer, metrics, steps, sanity: as for `explain_image`.
        methods: the methods to compare (default all of `explanation_methods()`).
        targets: the targets, as `explain_image`'s `target` (default ["answer"]).
        lang: the language of the grid picture's captions.
        **options: weights, allow_random_weights, model_path, class_names, preprocessing,
            resize, backend, precision, as for `explain_image`.

    Returns:
        `{"model", "methods", "targets", "explanations", "picture_path"}`: the `explain_image`
        results target by target, method by method (each with its `overlay_path`), and one PNG
        of all the overlays in a grid (a row per target, a column per method) with captions.
    """
    result, cams, loaded = _compare_explanations(image, model, methods=methods, targets=targets, expected=expected,
                                                 layer=layer, metrics=metrics, steps=steps, sanity=sanity,
                                                 options=RunOptions(**options))
    for explained, cam in zip(result["explanations"], cams):
        explained["overlay_path"] = _overlay(loaded, cam, explained)
    result["picture_path"] = str(write_explanation_grid(loaded.image, result, cams, lang))
    return result


def exports_under_way() -> list[str]:
    """The models whose ONNX export this process started in the background (`backend="auto"`) and has
    not finished. A process that ends leaves them running: each finishes and is found by the next."""
    from plugin.engine.inference import onnx as engine_onnx

    return engine_onnx.exports_under_way()


def explanation_methods() -> list[dict]:
    """The explanation methods: `[{"name", "title", "needs", "class_specific", "uses_layer",
    "citation", "description": {"ko", "en"}}]`; `needs` is "gradients" (Keras, or onnxruntime at
    the last feature map before a linear head), "activations" or "scores" (onnxruntime too)."""
    return describe_methods()


def look_inside(image: ImageInput | None = None, model: str | None = None, layers: Sequence[str] | None = None, *,
                views: Sequence[str] | None = None, layer: str | None = None, maximize: int = 0,
                cell: Sequence[int] | None = None, all_channels: bool = False, weights: WeightsInput = "imagenet",
                allow_random_weights: bool = False, model_path: PathInput | None = None, preprocessing: str | None = None,
                resize: str | None = None, lang: str | None = None) -> InsideResult:
    """What the network sees inside: its first filters, its weights trained against untrained, the
    photo's feature maps, receptive fields, one output value walked through with its real numbers,
    and the images that maximise a few channels.

    Args:
        image: a photo (any form `classify_image` takes), for the feature maps, the walk and the
            maximised images; None for the views of the weights alone.
        model: a registry model name; None for VGG16 where its ImageNet weights are ready, else
            EfficientNetLite0 (its weights come with the project). Ignored with `model_path`.
        layers: feature-map layers by name (see `describe_architecture(detail="layers")`) instead
            of the first convolution and the end of each stage.
        views: any of "filters", "histograms", "feature_maps", "receptive_field", "walk",
            "maximize"; None for all but "maximize" (those needing a photo only with one).
        layer: the layer whose weights the histograms (and a second filters picture) show, and
            whose channels are maximised; default the first convolution (for "maximize": the last
            feature-map layer).
        maximize: how many channels to maximise (with "maximize" in `views`), at most `MAX_MAXIMIZE_CHANNELS`.
        cell: the (row, column) of the first convolution's output the walk traces and whose
            receptive field is drawn on the photo; default its most active cell.
        all_channels: every channel of each feature-map layer instead of the 16 most active.
        weights, allow_random_weights, model_path, resize: as for `classify_image`.
        preprocessing: a model file's preprocessing (as for `classify_image`), needed with a photo
            unless it was recorded beside the file; the views of the weights alone need none.
        lang: the language of the pictures' labels.

    Returns:
        `{"model", "weights", "untrained", "views", "timings", "image"?, "region"?, "filters"?,
        "deeper_filters"?, "histograms"?, "feature_maps"?, "receptive_fields"?, "walk"?,
        "maximized"?, "pictures"}`: the numbers of each view (see `plugin.engine.results`,
        "inside the network") and `pictures`, the PNG files drawn from them in the output folder
        (`{"filters", "deeper_filters", "histograms", "feature_maps": [...], "receptive_field",
        "maximized"}`, where made); `timings` says how long each view took, in seconds.
    """
    options = RunOptions(weights=weights, allow_random_weights=allow_random_weights, model_path=model_path,
                         preprocessing=preprocessing, resize=resize)
    lang = words.check_lang(lang)
    if model_path is not None:  # the weights' views read no pixels: a file with no recorded preprocessing is fine for them
        prepared = load_custom_model(model_path, preprocessing=preprocessing or (None if image is not None else "none"))
        family = None
    else:
        name = get_spec(model).name if model is not None else default_models(weights)[0][0]
        options.require_trained("to look inside a model", "random weights, whose filters and feature maps show nothing learnt",
                                untrained=parse_weights(weights).untrained)
        prepared = load_registry_model(name, weights, backend="keras")
        family = get_spec(name).family
    check_count = maximize
    if isinstance(check_count, bool) or not isinstance(check_count, int) or not 0 <= check_count <= MAX_MAXIMIZE_CHANNELS:
        raise InvalidInputError(f"Expected maximize from 0 to {MAX_MAXIMIZE_CHANNELS}. Received: maximize={str(maximize)[:20]!r}",
                                key="maximize_count", limit=MAX_MAXIMIZE_CHANNELS, value=str(maximize)[:20])
    study = _look_inside(prepared, image, layers=layers, views=views, layer=layer, maximize=maximize, cell=cell,
                         all_channels=all_channels, family=family, options=options)
    study.result["pictures"] = inside_pictures.write_pictures(study, lang)
    return study.result


def _overlay(loaded: LoadedImage, heatmap: Any, explained: Explanation) -> str:
    explained_class = explained["class"]
    name = f"{explained['method']}-{explained_class.get('group') or explained_class['index']}"
    return str(write_overlay(loaded.image, heatmap, explained["model"], name, region=explained["region"]["box"]))


def render_report(kind: str, lang: str | None = None, output_dir: PathInput | None = None, *, file_name: str | None = None,
                  result: ClassificationResult | ComparisonResult | EvaluationResult | StructureResult | None = None,
                  facts: ArchitectureFacts | None = None, image: ImageInput | None = None,
                  explanations: list[Explanation] | None = None, preprocessing_study: PreprocessingStudy | None = None,
                  **options: Any) -> ReportFiles:
    """Render a study report page (HTML) and its Markdown version from results you already have.

    Nothing is computed again: `result=` a classify_image, compare_models, evaluate or structures
    result (for a classification also `image=` the photo, `explanations=` explain_image results and
    `preprocessing_study=` a compare_preprocessing result: `study_image` returns exactly these),
    or `facts=` a describe_architecture result. To run the engine first, call `make_report`.

    Args:
        kind: a kind of report (`report_kinds()` lists them, with the inputs each renders).
        lang: "ko" or "en"; default CNNLAB_LANG, else Korean.
        output_dir: folder inside the configured output folder (default: the output folder).
        file_name: base name for the files (default: kind, models, language and time).
        result: a classification, comparison or evaluation result to render.
        facts: architecture facts to render.
        image: the photo (any form classify_image takes; a LoadedImage is not read again).
        explanations: heat maps (explain_image results) to show beside the predictions, a section
            per method, with their metrics and sanity checks where they have them.
        preprocessing_study: a compare_preprocessing result to show as a section.
        **options: refused with a clear error (they are `make_report`'s).

    Returns:
        `{"path", "markdown_path", "post_path", "title", "kind", "lang"}`: `post_path` is a zip of the
        Markdown and its pictures, one upload for a blog.
    """
    spec = get_kind(kind)
    lang = words.check_lang(lang)
    if options:
        raise InvalidInputError(f"Expected a result or facts to render. Received: options {sorted(options)[:8]}; to run the "
                                f"engine with them first, call make_report({kind!r}, ...).", key="report_needs_result")
    given = {name: value for name, value in {"result": result, "facts": facts, "image": image, "explanations": explanations,
                                             "preprocessing_study": preprocessing_study}.items() if value is not None}
    extra = sorted(set(given) - set(spec.inputs))
    if extra:
        raise InvalidInputError(f"Expected {kind} inputs among {list(spec.inputs)}. Received: {extra}")
    return write_report(kind, lang=lang, output_dir=output_dir, file_name=file_name, **spec.prepare(_API, given))


def show(item: Any, lang: str | None = None, *, height: int = 720) -> str | None:
    """Show a result or a written report inline in a notebook (Jupyter, Colab, VS Code).

    Args:
        item: what a function here returned (classify_image, classify_images, study_image,
            explain_image, compare_preprocessing, describe_architecture, structures,
            compare_models, evaluate, look_inside) or a written report (make_report,
            render_report). A result with a kind of report is rendered as one (`render_report`,
            into the output folder) and its page shown in a sandboxed frame; a Grad-CAM overlay and
            look_inside's pictures are shown as images.
        lang: "ko" or "en"; default CNNLAB_LANG, else Korean.
        height: the frame's height in pixels for a page (it scrolls inside).

    Returns:
        None in a notebook (where it was displayed), else the HTML.
    """
    lang = words.check_lang(lang)
    return notebook.show(item, render=lambda kind, **inputs: render_report(kind, lang, **inputs), lang=lang, height=height)


def make_report(kind: str, lang: str | None = None, output_dir: PathInput | None = None, *, file_name: str | None = None,
                **options: Any) -> ReportFiles:
    """Run the engine once with the options of a kind of report, then render it (`render_report`).

    Args:
        kind: a kind of report (`report_kinds()` lists them): "architecture" runs
            describe_architecture, "classification" study_image (explain=True for a Grad-CAM per
            model, methods=[...] for a section per explanation method, metrics=True for each map's
            numbers and curves against a random map (either implies explain),
            study_preprocessing=True for the preprocessing experiment), "comparison"
            compare_models, "evaluation" evaluate, "structure" structures. `REPORT_OPTIONS[kind]`
            lists the options each takes.
        **options: the options of the kind.
        lang, output_dir, file_name: as for `render_report`.

    Returns:
        `{"path", "markdown_path", "post_path", "title", "kind", "lang"}`: `post_path` is a zip of the
        Markdown and its pictures, one upload for a blog.
    """
    spec = get_kind(kind)
    lang = words.check_lang(lang)
    unknown = set(options) - set(spec.options)
    if unknown:
        raise InvalidInputError(f"Expected {kind} options among {list(spec.options)}. Received: {sorted(unknown)}")
    asked = dict(options, lang=lang) if spec.pictures_in_language else dict(options)
    return render_report(kind, lang, output_dir, file_name=file_name, **spec.run(_API, asked))


def structures(models: ModelNames = None) -> StructureResult:
    """The structure of several registry models side by side, from `describe_architecture`'s facts
    (default AlexNet, VGG16 and ResNet50: the homework's three): `{"models": [facts, ...]}`."""
    return {"models": [describe_architecture(name, include_diagram=False)
                       for name in check_model_names(models or list(STRUCTURE_MODELS))]}


