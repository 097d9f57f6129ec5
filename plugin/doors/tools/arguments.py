"""The tools' arguments: one pydantic model per tool, the single source of its input schema, its
limits (read from `plugin.limits`) and each field's description, with the field types and the
sentences several tools share (what an image, weights or a backend may be).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from plugin import api
from plugin.errors import InvalidInputError
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
    MAX_MAXIMIZE_CHANNELS,
    MAX_MODELS_PER_CALL,
    MAX_PATH_CHARS,
    MAX_TOP_K,
    PRECISIONS,
    RESIZES,
)

if TYPE_CHECKING:  # built from the registry at run time: plain names to the type checker
    ModelName = str
    Preprocessing = str
    Backend = str
    Precision = str
    Resize = str
else:
    ModelName = Literal[api.MODEL_NAMES]
    Preprocessing = Literal[tuple(mode for mode in api.PREPROCESSING_MODES if mode != "builtin")]
    Backend = Literal[BACKENDS]
    Precision = Literal[PRECISIONS]
    Resize = Literal[RESIZES]
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


_RESIZE = ("How a photo is brought to the model's input: 'crop' (the model's evaluation protocol, the default for "
           "registry models: a centred box, e.g. Keras's 'shorter side to 256, centre 224', bicubic; how the published "
           "accuracy was measured) or 'whole' (the whole photo squashed to the input size). Each result's region says "
           "which part of the photo the model saw, and warns where the photo is so wide (or tall) that the crop "
           "left out more than a third of its long side.")


def resize_field() -> Any:
    return Field(None, description=_RESIZE)


def weights_field(note: str = "") -> Any:
    """The run options' fields, declared once (type, default, limit, wording): each tool's model
    names the fields it takes, in the order its Gradio API endpoint takes them, with a note of its
    own where the field means something more there."""
    return Field("imagenet", description=_WEIGHTS + note)


def consent_field() -> Any:
    return Field(False, description="Permit weights='random'.")


def class_names_field(description: str) -> Any:
    return Field(None, max_length=MAX_CLASS_NAMES, description=description)


def backend_field() -> Any:
    return Field(DEFAULT_BACKEND, description=_BACKEND)


def precision_field(context: str = "") -> Any:
    return Field(DEFAULT_PRECISION, description=context + _PRECISION)


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
    weights: PathText = weights_field()
    model_path: PathText | None = Field(None, description="A .keras or .h5 classifier of the user's own, below the allowed folders, used instead of models.")
    class_names: list[Name] | None = class_names_field("Class names of model_path's outputs, in order; for one sigmoid unit [negative, positive].")
    preprocessing: Preprocessing | None = Field(None, description="Preprocessing of model_path (required with it); for registry models it overrides theirs, to study its effect.")
    allow_random_weights: bool = consent_field()
    expected: str | None = Field(None, max_length=200, description=_EXPECTED)
    backend: Backend = backend_field()
    precision: Precision = precision_field()
    resize: Resize | None = resize_field()

    @model_validator(mode="after")
    def _one_image_form(self):
        if (self.image is None) == (self.images is None):
            raise ValueError("give exactly one of image or images")
        return self


def _method_names() -> list[str]:
    """The explanation methods' names, read from the table at the moment of asking (a method
    registered at run time is one of them)."""
    return [entry["name"] for entry in api.explanation_methods()]


def _known_method(name: str) -> str:
    names = _method_names()
    if name not in names:
        raise InvalidInputError(f"Expected method to be one of {names}. Received: {name[:40]!r}",
                                key="explain_method", value=name[:40], methods=", ".join(names))
    return name


class _MethodChoices:
    """A method name's schema: the table's names as its enum, made each time a schema is made."""

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema, handler):
        schema = handler(core_schema)
        schema["enum"] = _method_names()
        return schema


MethodName = Annotated[str, StringConstraints(max_length=40), AfterValidator(_known_method), _MethodChoices]
"""An explanation method's name, checked against the table when a call is validated (never a list
frozen at import: a method registered later is accepted and listed)."""
Target = Annotated[str, StringConstraints(min_length=1, max_length=200)] | Annotated[int, Field(strict=True, ge=0, le=MAX_CLASS_NAMES - 1)]

_TARGET = ("Which class the heat map explains: 'answer' (the model's own top-1, the default), 'expected' (the right "
           "answer given in expected: where the model found it, even when it answered something else), 'dog' or 'cat' "
           "(the whole group: the sum of its ImageNet classes, e.g. for a photo with both), or one ImageNet class by "
           "name ('tabby', '비글') or index (281) (for model_path, one of its class names). The result's class, target, answer and is_answer say which was "
           "explained and whether it is the model's answer.")
_METHOD = "How the heat map is made (default 'gradcam')."


def _methods_described(schema: dict) -> None:
    """The method field's description, with every method of the table and what it does, made as the schema is."""
    listed = "; ".join(f"{entry['name']} ({entry['title']}): "
                       + (api.method_description(entry["name"], "en") or entry["description"]["en"]).rstrip(".")
                       for entry in api.explanation_methods())
    schema["description"] = f"{schema.get('description', _METHOD)} One of: {listed}."


def _methods_limited(schema: dict) -> None:
    """The methods list's description and its most items (every method once), made as the schema is."""
    _methods_described(schema)
    for option in schema.get("anyOf", [schema]):
        if option.get("type") == "array":
            option["maxItems"] = len(_method_names())


class _MapArguments(Arguments):
    """What a heat map takes besides its method and class: the fields explain_prediction and
    compare_explanations share."""

    image: ImageText = Field(description=_IMAGE)
    model: ModelName | None = Field(None, description="Registry model to explain (see list_models); give model or model_path.")
    expected: str | None = Field(None, max_length=200, description=_EXPECTED)
    layer: Name | None = Field(None, max_length=200, description=(
        "The feature-map layer the CAM methods read, instead of the default (the registry's choice, else the last "
        "layer with height and width); the result's layer and layer_reason say which and why. A wrong name is refused "
        "with the candidate layers listed. Ignored by methods that use no layer (occlusion)."))
    metrics: bool = Field(False, description=(
        "Also measure whether the map can be trusted: deletion AUC (lower is better) and insertion AUC (higher is "
        "better) of the class's probability as the map's most important pixels are removed or put back, ROAD's score "
        "(higher is better), and score = insertion - deletion, each beside the same numbers for a random and a "
        "centre-weighted map (metrics.baselines; better_than_random, better_than_centre). Seconds more per map."))
    steps: int = Field(api.DEFAULT_METRIC_STEPS, ge=1, le=api.MAX_METRIC_STEPS, description=(
        f"With metrics: the deletion and insertion curves' steps (each curve has steps + 1 points); at most "
        f"{api.MAX_METRIC_STEPS}."))
    sanity: bool = Field(False, description=(
        "Also run the sanity check (Adebayo et al. 2018): the map made again with the model's top layers randomised, "
        "its rank correlation with the original; sanity.flagged where it barely changes (a map that ignores the "
        "model). Seconds more."))
    weights: PathText = weights_field()
    allow_random_weights: bool = consent_field()
    model_path: PathText | None = Field(None, description="A .keras or .h5 classifier of the user's own, below the allowed folders.")
    class_names: list[Name] | None = class_names_field("Class names of model_path's outputs.")
    preprocessing: Preprocessing | None = Field(None, description="Preprocessing of model_path (required with it).")
    resize: Resize | None = resize_field()
    backend: Backend = backend_field()
    precision: Precision = precision_field("Methods without gradients and the metrics: ")

    @model_validator(mode="after")
    def _a_model(self):
        if self.model is None and self.model_path is None:
            raise ValueError("give model or model_path")
        return self


class ExplainPredictionArguments(_MapArguments):
    method: MethodName = Field(api.DEFAULT_EXPLAIN_METHOD, description=_METHOD, json_schema_extra=_methods_described)
    target: Target = Field("answer", description=_TARGET)
    class_index: int | None = Field(None, ge=0, le=MAX_CLASS_NAMES - 1,
                                    description="A class to explain by index, instead of target's.")
    include_image: bool = Field(False, description="MCP only: also return the heat map over the photo as a PNG image content block.")


class CompareExplanationsArguments(_MapArguments):
    methods: list[MethodName] | None = Field(None, min_length=1, description=(
        "The methods to set side by side (default: every method)."), json_schema_extra=_methods_limited)
    targets: list[Target] | None = Field(None, min_length=1, max_length=len(api.EXPLAIN_TARGETS), description=(
        f"The classes to explain, each as explain_prediction's target (default ['answer']), at most "
        f"{len(api.EXPLAIN_TARGETS)}: ['dog', 'cat'] is the dog-versus-cat contrast, a map for each group of one photo."))
    lang: Literal["ko", "en"] | None = Field(None, description="Language of the grid picture's captions; default Korean unless configured.")
    include_image: bool = Field(False, description="MCP only: also return the grid of heat maps as a PNG image content block.")


class LookInsideArguments(Arguments):
    image: ImageText | None = Field(None, description=_IMAGE + " Needed for feature_maps, walk and maximize; "
                                                           "the views of the weights alone need none.")
    model: ModelName | None = Field(None, description="Registry model to look inside (see list_models); default VGG16 where "
                                                      "its weights are ready, else EfficientNetLite0. Ignored with model_path.")
    layers: list[Name] | None = Field(None, min_length=1, max_length=12, description=(
        "Feature-map layers by name (describe_architecture with detail=layers lists them), instead of the first "
        "convolution and the end of each stage."))
    views: list[Literal["filters", "histograms", "feature_maps", "receptive_field", "walk", "maximize"]] | None = Field(
        None, min_length=1, max_length=6, description=(
            "Which views: filters (the first convolution's kernels), histograms (a layer's weights trained against "
            "freshly initialised), feature_maps (the photo's activations, 16 most active channels per layer), "
            "receptive_field (what one output cell sees, per layer), walk (one output value traced back to its 3x3 "
            "input window with the real numbers), maximize (images that maximise channels: seconds). Default: all "
            "but maximize, those needing a photo only with one."))
    layer: Name | None = Field(None, description="The layer whose weights the histograms show and whose channels are "
                                                 "maximised; default the first convolution.")
    maximize: int = Field(0, ge=0, le=MAX_MAXIMIZE_CHANNELS, description="How many channels to maximise with views maximize.")
    cell: list[int] | None = Field(None, min_length=2, max_length=2, description=(
        "[row, column] of the first convolution's output for the walk and the receptive field drawn on the photo; "
        "default its most active cell."))
    all_channels: bool = Field(False, description="Every channel of each feature-map layer instead of the 16 most active.")
    weights: PathText = weights_field()
    allow_random_weights: bool = consent_field()
    model_path: PathText | None = Field(None, description="A .keras or .h5 model of the user's own, below the allowed folders.")
    preprocessing: Preprocessing | None = Field(None, description="Preprocessing of model_path, with an image (unless recorded beside it).")
    resize: Resize | None = resize_field()
    lang: Literal["ko", "en"] | None = Field(None, description="Language of the pictures' labels; default Korean unless configured.")
    include_image: bool = Field(False, description="MCP only: also return the filters, the first feature maps and the "
                                                   "receptive field as PNG image content blocks.")


class ComparePreprocessingArguments(Arguments):
    image: ImageText = Field(description=_IMAGE)
    model: ModelName = Field(description="Registry model to run (see list_models).")
    modes: list[Literal[api.PREPROCESSING_MODES]] | None = Field(  # type: ignore[valid-type]
        None, min_length=1, max_length=len(api.PREPROCESSING_MODES), description="Preprocessing modes to try; default caffe, tf, torch, the model's own and none.")
    top_k: int = Field(DEFAULT_TOP_K, ge=1, le=MAX_TOP_K, description="Top classes per mode.")
    weights: PathText = weights_field()
    allow_random_weights: bool = consent_field()
    resize: Resize | None = Field(None, description="How the photo reaches the model in the modes' rows; the result's "
                                                    "resizes always show both 'crop' and 'whole'. " + _RESIZE)


_SOURCE = ("Labelled photos: a folder below the allowed folders whose sub-folders name the labels (cat/, dog/, or "
           "ImageNet classes such as beagle/ or 비글/), or a .csv/.json list of (image, label) there.")


class EvaluateImagesArguments(Arguments):
    source: PathText = Field( description=_SOURCE + f" At most {MAX_EVALUATION_IMAGES} images.")
    models: list[ModelName] | None = Field(None, min_length=1, max_length=MAX_MODELS_PER_CALL,
                                           description=f"Registry models to evaluate; default {_DEFAULT_PAIR} (EfficientNetLite0 where their weights are not downloaded).")
    labels: dict[Name, Name] | None = Field(None, max_length=MAX_CLASS_NAMES, description="Optional renaming of the source's labels, e.g. {\"kitties\": \"cat\"}.")
    weights: PathText = weights_field()
    allow_random_weights: bool = consent_field()
    model_path: PathText | None = Field(None, description="A .keras/.h5 model of the user's own (a fine-tuned one needs nothing else), evaluated too.")
    class_names: list[Name] | None = class_names_field("Class names of model_path, if not recorded beside it.")
    preprocessing: Preprocessing | None = Field(None, description="Preprocessing of model_path, if not recorded beside it.")
    engine: Literal[tuple(api.ENGINES)] = Field("local", description="local (this process) or ray (Ray actors: a local Ray instance, or the cluster in RAY_ADDRESS).")  # type: ignore[valid-type]
    backend: Backend = backend_field()
    precision: Precision = precision_field()
    resize: Resize | None = resize_field()


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
    resize: Resize | None = Field(None, description="How photos reach the backbone: 'crop' (its evaluation protocol, "
                                                    "the default) or 'whole'; recorded beside the model file.")


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
    weights: PathText = weights_field(" Used only with an image.")
    allow_random_weights: bool = consent_field()
    preprocessing: Preprocessing | None = Field(None, description="Override every model's preprocessing (to study its effect).")
    resize: Resize | None = resize_field()


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
    weights: PathText = weights_field()
    allow_random_weights: bool = consent_field()
    class_names: list[Name] | None = class_names_field("classification with model_path: class names.")
    preprocessing: Preprocessing | None = Field(None, description="classification with model_path: its preprocessing.")
    expand_nested: bool = Field(False, description="architecture: draw nested models' layers.")
    expected: str | None = Field(None, max_length=200, description="classification: " + _EXPECTED)
    source: PathText | None = Field(None, description="evaluation: " + _SOURCE)
    explain: bool = Field(False, description="classification: add each model's heat map (where it looked): Grad-CAM, "
                                             "or one per method of methods.")
    methods: list[MethodName] | None = Field(None, min_length=1, max_length=12, description=(
        "classification: the explanation methods, a section each on the page, in this order (default Grad-CAM alone); "
        "implies explain."))
    metrics: bool = Field(False, description=(
        "classification: under each heat map, its deletion and insertion curves and ROAD score beside a random "
        "and a centre-weighted map's, with a sentence that says whether it beats them (a few seconds per map); "
        "implies explain."))
    study_preprocessing: bool = Field(False, description="classification: add the preprocessing experiment with the first model.")
    precision: Precision = precision_field("classification and evaluation: ")
    resize: Resize | None = Field(None, description="classification and evaluation: " + _RESIZE)
    layers: list[Name] | None = Field(None, min_length=1, max_length=12, description="inside: feature-map layers by name.")
    views: list[Literal["filters", "histograms", "feature_maps", "receptive_field", "walk", "maximize"]] | None = Field(
        None, min_length=1, max_length=6, description="inside: which views (default all but maximize).")
    layer: Name | None = Field(None, description="inside: the layer of the histograms and of the maximised channels.")
    maximize: int = Field(0, ge=0, le=MAX_MAXIMIZE_CHANNELS, description="inside: how many channels to maximise.")
    cell: list[int] | None = Field(None, min_length=2, max_length=2, description="inside: [row, column] of the first layer's "
                                                                                 "output to walk through.")
    all_channels: bool = Field(False, description="inside: every channel of each feature-map layer.")

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

