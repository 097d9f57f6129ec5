"""The tool-call interface: one pydantic model per tool is the single source of its schema, its
limits and its description; `tool_specs` turns them into OpenAI, Anthropic or MCP tool lists and
`call_tool` validates arguments, runs the engine and maps every failure to an error a model can
act on. Results are sized for a model's context: summaries by default, long tables capped with a
note, diagrams and reports as file paths.

Each tool also declares its title, what a call does besides answering (`Effects`, which MCP lists
as the tool's annotations) and the public API functions whose result it passes on, whose declared
result types are its output schema.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import logging
import operator
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError, model_validator

from plugin import api
from plugin.config import get_settings
from plugin.doors.gate import engine_slot
from plugin.errors import InvalidInputError, PluginError
from plugin.limits import (
    BACKENDS,
    DEFAULT_ARCHITECTURE_MODEL,
    DEFAULT_BACKEND,
    DEFAULT_FINE_TUNE_EPOCHS,
    DEFAULT_LAYER_ROWS,
    DEFAULT_MODELS,
    DEFAULT_PRECISION,
    DEFAULT_TOP_K,
    FINE_TUNE_BASE,
    MAX_CLASS_NAMES,
    MAX_DATA_URI_CHARS,
    MAX_EVALUATION_IMAGES,
    MAX_FINE_TUNE_EPOCHS,
    MAX_IMAGES_PER_CALL,
    MAX_LAYER_ROWS,
    MAX_MODELS_PER_CALL,
    MAX_PATH_CHARS,
    MAX_TOP_K,
    PRECISIONS,
)

__all__ = ["TOOLS", "Tool", "Effects", "tool_specs", "call_tool", "parse_arguments", "validation_message", "result_pictures", "FORMATS"]

log = logging.getLogger(__name__)

FORMATS = ("openai", "anthropic", "mcp")
if TYPE_CHECKING:  # built from the registry at run time: plain names to the type checker
    ModelName = str
    Preprocessing = str
    Backend = str
    Precision = str
else:
    ModelName = Literal[api.MODEL_NAMES]
    Preprocessing = Literal[tuple(mode for mode in api.PREPROCESSING_MODES if mode != "builtin")]
    Backend = Literal[BACKENDS]
    Precision = Literal[PRECISIONS]
_DEFAULT_PAIR = " and ".join(DEFAULT_MODELS)
ImageText = Annotated[str, StringConstraints(max_length=MAX_DATA_URI_CHARS)]  # a path, a URL or a whole data: URI
PathText = Annotated[str, StringConstraints(max_length=MAX_PATH_CHARS)]
Name = Annotated[str, StringConstraints(max_length=200)]

_IMAGE = ("An image: a file path below the allowed image folders, an http(s) URL to a public address, "
          "or a data: URI (data:image/png;base64,...).")
_EXPECTED = ("The right answer, if known: an ImageNet class (index, English name such as 'beagle', Korean name "
             "such as '비글', or WordNet id) or 'dog' or 'cat'; results then say which models got it right.")
_WEIGHTS = ("'imagenet' (trained ImageNet weights, downloaded once and cached; fails with a clear error when "
            "offline and not cached), 'random' (untrained: only with allow_random_weights=true, results are "
            "marked untrained and mean nothing), or a weights file path below the allowed folders.")


_BACKEND = ("What runs the models: 'auto' (onnxruntime where the model's export is cached, else Keras while it "
            "is exported in the background), 'onnx' (the first call exports the model: seconds to a few minutes) or "
            "'keras'. Each result's backend says which answered; the probabilities agree within 1e-4.")


_PRECISION = ("'float32', or 'int8': faster on this CPU, from a quantisation of the model's ONNX export (made and "
              "checked once: seconds to a minute), used only if it agrees with float32 on held-out photos (top-1 on 97% of "
              "confident answers, the dog/cat verdict on 98%); otherwise float32 answers and precision_note gives the "
              "numbers. Registry models with trained weights; not with backend='keras'. Each result's precision says which answered.")


class Arguments(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListModelsArguments(Arguments):
    """No arguments."""


class ClassifyImageArguments(Arguments):
    image: ImageText | None = Field(None, description=_IMAGE + " Give either image or images.")
    images: list[ImageText] | None = Field(None, min_length=1, max_length=MAX_IMAGES_PER_CALL,
                                     description=f"Several images (at most {MAX_IMAGES_PER_CALL}), classified in one batch, instead of image.")
    models: list[ModelName] | None = Field(None, min_length=1, max_length=MAX_MODELS_PER_CALL,
                                           description=f"Registry models to run (see list_models), at most {MAX_MODELS_PER_CALL}; "
                                                       f"default {_DEFAULT_PAIR}. Ignored when model_path is given.")
    top_k: int = Field(DEFAULT_TOP_K, ge=1, le=MAX_TOP_K, description="How many top classes to return per model.")
    weights: PathText = Field("imagenet", description=_WEIGHTS)
    model_path: PathText | None = Field(None, description="A .keras or .h5 classifier of the user's own, below the allowed folders, used instead of models.")
    class_names: list[Name] | None = Field(None, max_length=MAX_CLASS_NAMES, description="Class names of model_path's outputs, in order; for one sigmoid unit [negative, positive].")
    preprocessing: Preprocessing | None = Field(None, description="Preprocessing of model_path (required with it); for registry models it overrides theirs, to study its effect.")
    allow_random_weights: bool = Field(False, description="Permit weights='random'.")
    expected: str | None = Field(None, max_length=200, description=_EXPECTED)
    backend: Backend = Field(DEFAULT_BACKEND, description=_BACKEND)
    precision: Precision = Field(DEFAULT_PRECISION, description=_PRECISION)

    @model_validator(mode="after")
    def _one_image_form(self):
        if (self.image is None) == (self.images is None):
            raise ValueError("give exactly one of image or images")
        return self


class ExplainPredictionArguments(Arguments):
    image: ImageText = Field(description=_IMAGE)
    model: ModelName | None = Field(None, description="Registry model to explain (see list_models); give model or model_path.")
    class_index: int | None = Field(None, ge=0, le=MAX_CLASS_NAMES - 1,
                                    description="Class to explain, by index; default: the expected class if given, else the model's top-1 class.")
    expected: str | None = Field(None, max_length=200, description=_EXPECTED)
    weights: PathText = Field("imagenet", description=_WEIGHTS)
    allow_random_weights: bool = Field(False, description="Permit weights='random'.")
    model_path: PathText | None = Field(None, description="A .keras or .h5 classifier of the user's own, below the allowed folders.")
    class_names: list[Name] | None = Field(None, max_length=MAX_CLASS_NAMES, description="Class names of model_path's outputs.")
    preprocessing: Preprocessing | None = Field(None, description="Preprocessing of model_path (required with it).")
    include_image: bool = Field(False, description="MCP only: also return the heat map over the photo as a PNG image content block.")

    @model_validator(mode="after")
    def _a_model(self):
        if self.model is None and self.model_path is None:
            raise ValueError("give model or model_path")
        return self


class ComparePreprocessingArguments(Arguments):
    image: ImageText = Field(description=_IMAGE)
    model: ModelName = Field(description="Registry model to run (see list_models).")
    modes: list[Literal[api.PREPROCESSING_MODES]] | None = Field(  # type: ignore[valid-type]
        None, min_length=1, max_length=len(api.PREPROCESSING_MODES), description="Preprocessing modes to try; default caffe, tf, torch, the model's own and none.")
    top_k: int = Field(DEFAULT_TOP_K, ge=1, le=MAX_TOP_K, description="Top classes per mode.")
    weights: PathText = Field("imagenet", description=_WEIGHTS)
    allow_random_weights: bool = Field(False, description="Permit weights='random'.")


_SOURCE = ("Labelled photos: a folder below the allowed folders whose sub-folders name the labels (cat/, dog/, or "
           "ImageNet classes such as beagle/ or 비글/), or a .csv/.json list of (image, label) there.")


class EvaluateImagesArguments(Arguments):
    source: PathText = Field( description=_SOURCE + f" At most {MAX_EVALUATION_IMAGES} images.")
    models: list[ModelName] | None = Field(None, min_length=1, max_length=MAX_MODELS_PER_CALL,
                                           description=f"Registry models to evaluate; default {_DEFAULT_PAIR} (EfficientNetLite0 where their weights are not downloaded).")
    labels: dict[Name, Name] | None = Field(None, max_length=MAX_CLASS_NAMES, description="Optional renaming of the source's labels, e.g. {\"kitties\": \"cat\"}.")
    weights: PathText = Field("imagenet", description=_WEIGHTS)
    allow_random_weights: bool = Field(False, description="Permit weights='random'.")
    model_path: PathText | None = Field(None, description="A .keras/.h5 model of the user's own (a fine-tuned one needs nothing else), evaluated too.")
    class_names: list[Name] | None = Field(None, max_length=MAX_CLASS_NAMES, description="Class names of model_path, if not recorded beside it.")
    preprocessing: Preprocessing | None = Field(None, description="Preprocessing of model_path, if not recorded beside it.")
    engine: Literal[tuple(api.ENGINES)] = Field("local", description="local (this process) or ray (Ray actors: a local Ray instance, or the cluster in RAY_ADDRESS).")  # type: ignore[valid-type]
    backend: Backend = Field(DEFAULT_BACKEND, description=_BACKEND)
    precision: Precision = Field(DEFAULT_PRECISION, description=_PRECISION)


class FineTuneArguments(Arguments):
    source: PathText = Field( description=_SOURCE + " Each sub-folder is a class of the new model (at least two, two photos each).")
    base: ModelName = Field(FINE_TUNE_BASE, description="Registry model whose pretrained backbone is kept frozen under the new head.")
    epochs: int = Field(DEFAULT_FINE_TUNE_EPOCHS, ge=1, le=MAX_FINE_TUNE_EPOCHS, description="Most epochs (early stopping may end sooner).")
    validation_split: float = Field(0.25, ge=0.05, le=0.5, description="Share of each class's photos kept for validation.")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Fixes the split, the augmentation and the head's start.")
    augment: bool = Field(True, description="Also train on flipped and cropped variants of the photos.")
    name: str | None = Field(None, max_length=80, pattern=r"^[A-Za-z0-9_-]+$",
                             description="The model file's name (letters, digits, - and _); if taken, the next free one (name-2).")
    overwrite: bool = Field(False, description="Replace a model of the same name instead of saving beside it.")
    evaluate: bool = Field(False, description="Then evaluate the base and the fine-tuned model on the photos held out "
                                              "from training, never on those trained on (the result's evaluation, an "
                                              "evaluate_images result with held_out counts).")


class DescribeArchitectureArguments(Arguments):
    model: ModelName = Field(DEFAULT_ARCHITECTURE_MODEL, description="Registry model to describe (ignored when model_path is given).")
    detail: Literal["summary", "layers", "full"] = Field(
        "summary", description="summary: totals, stages, structure (short); layers: adds the layer table (capped by max_layers); full: nested layers too.")
    include_diagram: bool = Field(True, description="Draw the plot_model diagram and return its file path.")
    diagram_format: Literal["svg", "png", "dot"] = Field("svg", description="Diagram file format.")
    expand_nested: bool = Field(False, description="Draw and list the layers inside nested models.")
    show_shapes: bool = Field(True, description="Show tensor shapes in the diagram.")
    rankdir: Literal["TB", "LR"] = Field("TB", description="Diagram direction: TB top to bottom, LR left to right.")
    model_path: PathText | None = Field(None, description="A .keras or .h5 model file of the user's own, below the allowed folders.")
    max_layers: int = Field(DEFAULT_LAYER_ROWS, ge=1, le=MAX_LAYER_ROWS, description="Most layer rows to return with detail=layers or full.")
    include_image: bool = Field(False, description="MCP only: also return the diagram as a PNG image content block.")


class CompareModelsArguments(Arguments):
    models: list[ModelName] | None = Field(None, min_length=1, max_length=MAX_MODELS_PER_CALL,
                                           description=f"Registry models to compare, at most {MAX_MODELS_PER_CALL}; default {_DEFAULT_PAIR}.")
    image: ImageText | None = Field(None, description=_IMAGE + " Optional: also classify it with every model.")
    top_k: int = Field(DEFAULT_TOP_K, ge=1, le=MAX_TOP_K, description="Top classes per model when an image is given.")
    weights: PathText = Field("imagenet", description=_WEIGHTS + " Used only with an image.")
    allow_random_weights: bool = Field(False, description="Permit weights='random'.")
    preprocessing: Preprocessing | None = Field(None, description="Override every model's preprocessing (to study its effect).")


def _report_kinds_schema(schema: dict) -> None:
    """The `kind` field's enum and description, read from the table of report kinds as the schema is made."""
    schema["enum"] = list(api.report_kinds())
    schema["description"] = "The kind of report. " + "; ".join(
        f"{name}: {kind.description}" for name, kind in api.report_kinds().items()) + "."


class RenderReportArguments(Arguments):
    kind: Name = Field(description="The kind of report.", json_schema_extra=_report_kinds_schema)
    lang: Literal["ko", "en"] | None = Field(None, description="Report language; default Korean unless configured.")
    model: ModelName | None = Field(None, description="architecture: the registry model (or give model_path).")
    model_path: PathText | None = Field(None, description="architecture or classification: a .keras/.h5 model file of the user's own.")
    models: list[ModelName] | None = Field(None, min_length=1, max_length=MAX_MODELS_PER_CALL,
                                           description=f"classification or comparison: registry models; default {_DEFAULT_PAIR}. structure: the models to set side by side.")
    image: ImageText | None = Field(None, description=_IMAGE + " Required for classification; optional for comparison.")
    top_k: int = Field(DEFAULT_TOP_K, ge=1, le=MAX_TOP_K, description="classification/comparison: top classes per model.")
    weights: PathText = Field("imagenet", description=_WEIGHTS)
    allow_random_weights: bool = Field(False, description="Permit weights='random'.")
    class_names: list[Name] | None = Field(None, max_length=MAX_CLASS_NAMES, description="classification with model_path: class names.")
    preprocessing: Preprocessing | None = Field(None, description="classification with model_path: its preprocessing.")
    expand_nested: bool = Field(False, description="architecture: draw nested models' layers.")
    expected: str | None = Field(None, max_length=200, description="classification: " + _EXPECTED)
    source: PathText | None = Field(None, description="evaluation: " + _SOURCE)
    explain: bool = Field(False, description="classification: add each model's Grad-CAM heat map (where it looked).")
    study_preprocessing: bool = Field(False, description="classification: add the preprocessing experiment with the first model.")
    precision: Precision = Field(DEFAULT_PRECISION, description="classification and evaluation: " + _PRECISION)

    @model_validator(mode="after")
    def _fits_kind(self):
        """The kind is one of the table's, and the options it requires are given."""
        kinds = api.report_kinds()
        if self.kind not in kinds:
            raise ValueError(f"kind must be one of {list(kinds)}")
        for group in kinds[self.kind].required:
            if all(getattr(self, name, None) is None for name in group):
                raise ValueError(f"a {self.kind} report needs {' or '.join(group)}")
        return self


# --- handlers: each passes its validated arguments to the public API -------------------------

def _list_models(args: ListModelsArguments) -> Mapping[str, Any]:
    return api.list_models()


def _classify(args: ClassifyImageArguments) -> Mapping[str, Any]:
    options = args.model_dump(exclude={"image", "images"})
    if args.images is not None:
        return api.classify_images(args.images, **options)
    assert args.image is not None  # _one_image_form: exactly one of image or images
    return api.classify_image(args.image, **options)


def _explain(args: ExplainPredictionArguments) -> Mapping[str, Any]:
    return api.explain_image(args.image, args.model, args.class_index,
                             **args.model_dump(exclude={"image", "model", "class_index", "include_image"}))


def _compare_preprocessing(args: ComparePreprocessingArguments) -> Mapping[str, Any]:
    return api.compare_preprocessing(args.image, args.model, args.modes, top_k=args.top_k, weights=args.weights,
                                     allow_random_weights=args.allow_random_weights)


def _evaluate(args: EvaluateImagesArguments, progress) -> Mapping[str, Any]:
    return api.evaluate(args.source, **args.model_dump(exclude={"source"}),
                        progress=lambda done, total, model: progress(done, total, f"{model}: {done}/{total}"))


def _fine_tune(args: FineTuneArguments, progress) -> Mapping[str, Any]:
    return api.fine_tune(args.source, **args.model_dump(exclude={"source"}),
                         progress=lambda step, steps, stage: progress(step, steps, stage))


def _describe(args: DescribeArchitectureArguments) -> Mapping[str, Any]:
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


def _compare(args: CompareModelsArguments) -> Mapping[str, Any]:
    options = {}
    if args.image is not None:
        options = args.model_dump(include={"top_k", "weights", "allow_random_weights", "preprocessing"})
    return api.compare_models(args.models, image=args.image, **options)


def _report(args: RenderReportArguments) -> Mapping[str, Any]:
    """The options of the report's kind (`api.REPORT_OPTIONS`) that were given, passed to `make_report`."""
    given = args.model_dump(include=set(api.REPORT_OPTIONS[args.kind]), exclude_none=True)
    return api.make_report(args.kind, lang=args.lang, **given)


@dataclass(frozen=True, kw_only=True)
class Effects:
    """What a call does besides answering, said as MCP's tool annotations say it: hints a client may
    use to ask the user before a call, never a security boundary.

    read_only: the call changes nothing a caller would approve or undo. Filling a cache counts as
        reading (weights downloaded once, ONNX exports), and so does drawing a picture of the
        answer into the output folder under a name made from what it shows (a diagram, a heat
        map), which a repeat call finds instead of writing again.
    destructive: the call may replace or remove something already there (else it only adds).
    idempotent: a repeat call with the same arguments changes nothing more.
    open_world: the call may reach what a caller names outside this machine (an image's http(s)
        URL). The ImageNet weights, fetched once from Keras's own files, are a fixed set, not an open world.
    """

    read_only: bool
    destructive: bool = False
    idempotent: bool = True
    open_world: bool = False

    def hints(self) -> dict[str, bool]:
        """The hints under MCP's names (`ToolAnnotations`), every one said, even where MCP reads
        `destructiveHint` and `idempotentHint` only for a tool that is not read-only."""
        return {"readOnlyHint": self.read_only, "destructiveHint": self.destructive,
                "idempotentHint": self.idempotent, "openWorldHint": self.open_world}


def _declared_result(function: Callable[..., Any]) -> Any:
    """The type a public function says it returns: its return annotation, kept as text by postponed
    evaluation, read in the namespace of the module that defines the function (as `typing` would,
    without reading its parameters' annotations, some of which name types only the type checker imports)."""
    annotation = function.__annotations__["return"]
    return eval(annotation, function.__globals__) if isinstance(annotation, str) else annotation


@functools.cache
def _result_schema(returns: tuple[Callable[..., Any], ...]) -> dict:
    result = functools.reduce(operator.or_, map(_declared_result, returns))  # one type, or either of several
    return {"type": "object", **_without_titles(TypeAdapter(result).json_schema(mode="serialization"))}


class Tool:
    """A tool: its name, description for the calling model, argument model and handler; its title
    and `Effects` for a person choosing what to allow; and the public API functions whose result
    the handler passes on (`returns`), whose declared result types make its output schema.

    A handler that reports progress (`reports_progress`) is called with a second argument,
    `progress(done, total, message)`, which the MCP door turns into progress notifications.
    """

    def __init__(self, name: str, description: str, arguments: type[Arguments], handler: Callable[..., Mapping[str, Any]],
                 reports_progress: bool = False, runs_engine: bool = True, *, title: str, effects: Effects,
                 returns: tuple[Callable[..., Any], ...] = ()):
        self.name, self.description, self.arguments, self.handler = name, description, arguments, handler
        self.reports_progress, self.runs_engine = reports_progress, runs_engine
        self.title, self.effects, self.returns = title, effects, returns

    def input_schema(self) -> dict:
        """JSON Schema (draft 2020-12) of the arguments, without pydantic's titles."""
        return _without_titles(self.arguments.model_json_schema())

    def output_schema(self) -> dict | None:
        """JSON Schema (draft 2020-12) of a result (not of an error), without pydantic's titles: the
        result types `returns` declare (either of them, for two), where keys that appear only
        sometimes are optional and keys not declared are allowed. None where the tool declares none."""
        return copy.deepcopy(_result_schema(self.returns)) if self.returns else None


TOOLS: dict[str, Tool] = {tool.name: tool for tool in (
    Tool("list_models",
         "List the CNN models available (VGG16, ResNet50, AlexNet, MobileNetV2, ...) with input size, "
         "preprocessing, available weights and published figures (parameters, multiply-adds, top-1/top-5 accuracy, "
         "with sources). Call this first to learn the model names. Instant; no model is built.",
         ListModelsArguments, _list_models, runs_engine=False,
         title="List the models", effects=Effects(read_only=True), returns=(api.list_models,)),
    Tool("classify_image",
         "Classify one image (image) or several (images, batched) with one or more CNNs. Returns per model the "
         "top-k ImageNet classes with probabilities (English and Korean names), the dog/cat verdict (dog, cat or "
         "other, with its basis) and inference time; and agreement.summary, one sentence saying whether the "
         "models agree on the verdict and on the class (read it first). A model that cannot answer (its weights "
         "are not on this machine) gets {model, error: {type, message}} in results instead, and the others still "
         "answer; the message names the models that can. With expected (the right answer), each "
         "model says whether it was right. With no models named, VGG16 and ResNet50 answer where their weights are "
         "downloaded, else EfficientNetLite0 (its weights come with the project; a note says so). Results with "
         "random weights say untrained: true and mean nothing.",
         ClassifyImageArguments, _classify,
         title="Classify images", effects=Effects(read_only=True, open_world=True),  # an image may be a URL
         returns=(api.classify_image, api.classify_images)),
    Tool("explain_prediction",
         "Show where a model looked: a Grad-CAM heat map of one image for one class (the model's top-1, the "
         "expected class, or class_index), from its last convolutional layer. Returns the class with its "
         "probability, the layer, the heat map as a small grid (rows top to bottom, 0..1, hot = evidence for the "
         "class) and the path of a PNG of the heat over the photo (include_image=true adds it as an MCP image). "
         "Seconds per call.",
         ExplainPredictionArguments, _explain,
         # Draws the heat map over the photo into the output folder's explanations/, named by its content.
         title="Explain a prediction (Grad-CAM)", effects=Effects(read_only=True, open_world=True),
         returns=(api.explain_image,)),
    Tool("compare_preprocessing",
         "The preprocessing experiment: classify one image with one model under several preprocessing modes "
         "(caffe, tf, torch, the model's own, none) to show how a wrong preparation of the pixels changes the "
         "answer. Returns per mode the top-k classes and the dog/cat verdict; the model's own mode is marked.",
         ComparePreprocessingArguments, _compare_preprocessing,
         title="Compare preprocessing modes", effects=Effects(read_only=True, open_world=True),
         returns=(api.compare_preprocessing,)),
    Tool("evaluate_images",
         "How often is each model right? Classify a folder of labelled photos (sub-folders name the labels: cat/, "
         "dog/ or ImageNet classes) with one or more models and return per model the dog/cat accuracy, top-1 and "
         "top-5 accuracy where labels are ImageNet classes, a confusion matrix, precision and recall per class, the "
         "mistakes and images per second (null where a metric does not apply); a model whose weights are not on "
         "this machine is {model, error} instead. Resumes an interrupted run from its "
         "log. Reports progress. Seconds to minutes.",
         EvaluateImagesArguments, _evaluate, reports_progress=True,
         # Keeps a run log in the output folder's evaluations/, which the next call with the same photos and
         # models resumes from, or (the run finished) replaces with its own: the same log again.
         title="Evaluate on labelled photos", effects=Effects(read_only=False), returns=(api.evaluate,)),
    Tool("fine_tune",
         "Train a new head for a folder's classes (e.g. cat/ and dog/ of the user's own photos) on a frozen "
         "pretrained backbone (EfficientNetLite0 by default, whose weights come with the project). Returns the saved "
         ".keras model's path (usable as model_path by classify_image, evaluate_images and describe_architecture, "
         "with no class_names needed), the class names, the training history and the validation accuracy of the "
         "base model and of the fine-tuned one. Reports progress. Tens of seconds.",
         FineTuneArguments, _fine_tune, reports_progress=True,
         # Saves a new model in the output folder's models/ on each call (name-2, ...), or with overwrite=true
         # replaces the model of that name.
         title="Fine-tune a model", effects=Effects(read_only=False, destructive=True, idempotent=False),
         returns=(api.fine_tune,)),
    Tool("describe_architecture",
         "Describe a model's architecture as a student would summarise it: parameters, multiply-adds (MACs; "
         "FLOPs = 2 x MACs), depth, size, the paper's stage table (e.g. ResNet conv1..conv5_x), the structure "
         "table (inputs, convolutions, pooling, dense... with roles in Korean and English), preprocessing and "
         "published figures; optionally the layer table and a plot_model diagram file. Needs no weights; a few "
         "seconds the first time, then cached.",
         DescribeArchitectureArguments, _describe,
         # Draws the diagram into the output folder's diagrams/, named by the model and the drawing's options.
         title="Describe an architecture", effects=Effects(read_only=True), returns=(api.describe_architecture,)),
    Tool("compare_models",
         "Compare models side by side: parameters, multiply-adds, depth, size, published top-1/top-5 accuracy and "
         "inference time measured on this machine; with an image, also each model's predictions and dog/cat "
         "verdict (error instead, for a model whose weights are not on this machine). Builds each model (seconds each).",
         CompareModelsArguments, _compare,
         title="Compare models", effects=Effects(read_only=True, open_world=True), returns=(api.compare_models,)),
    Tool("render_report",
         "Make a study report for a blog: a self-contained HTML page and a Markdown version with PNG pictures "
         "(Korean or English), of the kind named by `kind` (each kind and what it needs is described on that "
         "field). Runs the engine once with the kind's options. Returns the file paths, not the page. "
         "Takes seconds to tens of seconds.",
         RenderReportArguments, _report,
         # Writes a new page, its Markdown and its zip on each call, named by the time: never replaces one.
         title="Make a study report", effects=Effects(read_only=False, idempotent=False, open_world=True),
         returns=(api.make_report,)),
)}


# --- specs ----------------------------------------------------------------------------------

def _without_titles(schema):
    if isinstance(schema, dict):
        return {key: _without_titles(value) for key, value in schema.items() if key != "title" or not isinstance(value, str)}
    if isinstance(schema, list):
        return [_without_titles(value) for value in schema]
    return schema


def _strict(schema: dict) -> dict:
    """OpenAI strict mode: every property required (optional ones nullable), no extra properties, no defaults."""
    schema = copy.deepcopy(schema)

    def visit(node):
        if isinstance(node, dict):
            node.pop("default", None)
            if node.get("type") == "object" or "properties" in node:
                properties = node.setdefault("properties", {})
                optional = set(properties) - set(node.get("required", []))
                for name in optional:
                    properties[name] = _nullable(properties[name])
                node["required"] = list(properties)
                node["additionalProperties"] = False
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema)
    return schema


def _plain_optional(schema: dict) -> dict:
    """MCP and Anthropic: each optional property in its own plain type (`{"type": "array", ...}`, not
    pydantic's `anyOf: [array, null]`), with its default where it has one, and `"nullable": true`,
    the keyword that says a property may be left out or sent as null (which means "the default").

    One shape every common consumer reads: JSON Schema validators ignore `nullable`; smolagents and
    other converters that read only `type` need it plain, and take `nullable` to mean optional.
    """
    schema = copy.deepcopy(schema)
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        if name in required:
            continue
        options = prop.get("anyOf", [])
        kept = [option for option in options if option.get("type") != "null"]
        if len(kept) == 1 and len(options) == 2:
            prop = {**kept[0], **{key: value for key, value in prop.items() if key != "anyOf"}}
        if "default" in prop and prop["default"] is None:
            del prop["default"]
        schema["properties"][name] = {**prop, "nullable": True}
    return schema


def _nullable(prop: dict) -> dict:
    if "anyOf" in prop:
        if not any(option.get("type") == "null" for option in prop["anyOf"]):
            prop["anyOf"].append({"type": "null"})
        return prop
    if "enum" in prop and None not in prop["enum"]:
        prop["enum"] = [*prop["enum"], None]
    kind = prop.get("type")
    if isinstance(kind, str) and kind != "null":
        prop["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        prop["type"] = [*kind, "null"]
    return prop


def tool_specs(format: str = "openai") -> list[dict]:
    """The tools as a list for an LLM API.

    Args:
        format: "openai" (function tools, strict mode), "anthropic" or "mcp" (MCP's `Tool`: also the
            title, the annotations made from the tool's `Effects`, and the output schema of a result).

    Returns:
        A list of tool definitions in that API's shape.
    """
    if format not in FORMATS:
        raise InvalidInputError(f"Expected format to be one of {list(FORMATS)}. Received: format={format!r}")
    specs = []
    for tool in TOOLS.values():
        schema = tool.input_schema()
        if format == "openai":
            specs.append({"type": "function", "function": {"name": tool.name, "description": tool.description,
                                                           "parameters": _strict(schema), "strict": True}})
        elif format == "anthropic":
            specs.append({"name": tool.name, "description": tool.description, "input_schema": _plain_optional(schema)})
        else:
            spec = {"name": tool.name, "title": tool.title, "description": tool.description,
                    "inputSchema": _plain_optional(schema), "annotations": {"title": tool.title, **tool.effects.hints()}}
            output = tool.output_schema()
            specs.append(spec if output is None else {**spec, "outputSchema": output})
    return specs


def result_pictures(name: str, result: Mapping[str, Any]) -> list[Path]:
    """The PNG pictures a tool's result made (a heat map over the photo, a diagram drawn as PNG), as
    files in the output folder, for the doors that can show them (MCP image content, `llm`
    attachments). Empty for an error or a result without one."""
    if "error" in result:
        return []
    if name == "explain_prediction":
        paths = [result.get("overlay_path")]
    elif name == "describe_architecture":
        paths = [(((result.get("diagram") or {}).get("files") or {}).get("png") or {}).get("path")]
    else:
        return []
    output_dir = get_settings().output_dir
    return [output_dir / path for path in paths if isinstance(path, str) and path and (output_dir / path).is_file()]


# --- dispatch -------------------------------------------------------------------------------

def _no_progress(done, total, message) -> None:
    pass


def _within_output(node: Any) -> Any:
    """A result with the output folder's paths written relative to it ("models/cats.keras"): a
    caller learns where its files are, never where the server keeps them."""
    prefix = str(get_settings().output_dir) + os.sep
    if isinstance(node, str):
        return node.replace(prefix, "") if prefix in node else node
    if isinstance(node, dict):
        return {key: _within_output(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_within_output(value) for value in node]
    return node


def _error(kind: str, message: str) -> dict:
    return {"error": {"type": kind, "message": message}}


def validation_message(name: str, exc: ValidationError, see: str = "the tool's input schema") -> str:
    """What pydantic found wrong with a call's arguments, in one sentence a caller can act on."""
    parts = []
    for problem in exc.errors(include_url=False):
        where = ".".join(str(p) for p in problem["loc"]) or "arguments"
        received = f" (received {_short(problem['input'])})" if problem["type"] != "missing" and "input" in problem else ""
        parts.append(f"{where}: {problem['msg']}{received}")
    return f"Invalid arguments for {name}: " + "; ".join(parts) + f". See {see}."


def _short(value) -> str:
    """A received value as an error may quote it: its type and size when long (never a whole data URI)."""
    try:
        text = repr(value)
    except RecursionError:  # nested too deeply to print: said by its kind, never raised
        return f"a {type(value).__name__} nested too deeply"
    return text if len(text) <= 120 else f"{type(value).__name__} of {len(value) if hasattr(value, '__len__') else '?':,} items/characters"


def parse_arguments(name: str, arguments) -> Arguments:
    """Validate raw arguments (a dict or JSON text; null means "use the default") for a tool."""
    tool = TOOLS[name]
    if arguments is None:
        arguments = {}
    if isinstance(arguments, str):
        arguments = json.loads(arguments or "{}")
    if not isinstance(arguments, dict):
        raise TypeError(f"arguments must be an object, received {type(arguments).__name__}")
    return tool.arguments.model_validate({key: value for key, value in arguments.items() if value is not None})


def call_tool(name: str, arguments=None, progress: Callable[[float, float, str], None] | None = None) -> dict:
    """Run a tool by name with arguments as an LLM sent them; never raises.

    Args:
        name: one of `TOOLS`.
        arguments: a dict, or its JSON text; null values mean "use the default".
        progress: for long tools (evaluate_images, fine_tune), called as `progress(done, total, message)`.

    Returns:
        The tool's JSON-serialisable result, or `{"error": {"type", "message"}}`.
    """
    if not isinstance(name, str) or name not in TOOLS:
        received = _short(name) if isinstance(name, str) else f"a {type(name).__name__}"
        return _error("UnknownTool", f"Expected a tool name among {list(TOOLS)}. Received: {received}")
    try:
        parsed = parse_arguments(name, arguments)
    except ValidationError as exc:
        try:
            return _error("InvalidArguments", validation_message(name, exc))
        except RecursionError:
            return _error("InvalidArguments", f"Expected the arguments of {name} as a JSON object. Received: one nested too deeply.")
    except json.JSONDecodeError as exc:
        return _error("InvalidArguments", f"Expected the arguments of {name} as a JSON object. Received: text that "
                                          f"does not parse ({exc.msg} at character {exc.pos}).")
    except TypeError as exc:
        return _error("InvalidArguments", f"Expected the arguments of {name} as a JSON object. Received: {exc}")
    except RecursionError:
        return _error("InvalidArguments", f"Expected the arguments of {name} as a JSON object. Received: one nested too deeply.")
    try:
        tool = TOOLS[name]
        with engine_slot() if tool.runs_engine else contextlib.nullcontext():
            result = tool.handler(parsed, progress or _no_progress) if tool.reports_progress else tool.handler(parsed)
        return _within_output(json.loads(json.dumps(result, default=str)))
    except PluginError as exc:
        return _error(exc.type, _within_output(str(exc)))
    except Exception as exc:  # the boundary: a model gets a message, the server keeps running
        log.exception("tool %s failed", name)
        return _error("InternalError", f"{name} failed unexpectedly ({type(exc).__name__}). Try other arguments or report it.")
