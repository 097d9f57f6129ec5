"""The table of tools: each tool's name, description for the calling model, argument model and
handler; its title and `Effects` for a person choosing what to allow; and the public API functions
whose declared result types make its output schema.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from plugin import api
from plugin.doors.tools import arguments as models
from plugin.doors.tools import handlers


def _without_titles(schema):
    if isinstance(schema, dict):
        return {key: _without_titles(value) for key, value in schema.items() if key != "title" or not isinstance(value, str)}
    if isinstance(schema, list):
        return [_without_titles(value) for value in schema]
    return schema


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


@dataclasses.dataclass(frozen=True)
class Tool:
    """A tool: its name, description for the calling model, argument model and handler; its title
    and `Effects` for a person choosing what to allow; and the public API functions whose result
    the handler passes on (`returns`), whose declared result types make its output schema.

    A handler that reports progress (`reports_progress`) is called with a second argument,
    `progress(done, total, message)`, which the MCP door turns into progress notifications; one
    that does not run the engine (`runs_engine` false) takes no engine slot.
    """

    name: str
    description: str
    arguments: type[models.Arguments]
    handler: Callable[..., Mapping[str, Any]]
    _: dataclasses.KW_ONLY
    title: str
    effects: Effects
    returns: tuple[Callable[..., Any], ...] = ()
    reports_progress: bool = False
    runs_engine: bool = True

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
         models.ListModelsArguments, handlers.list_models, runs_engine=False,
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
         models.ClassifyImageArguments, handlers.classify,
         title="Classify images", effects=Effects(read_only=True, open_world=True),  # an image may be a URL
         returns=(api.classify_image, api.classify_images)),
    Tool("explain_prediction",
         "Show where a model looked, and check the map: a heat map of one image for one class, made by a method "
         "(method: Grad-CAM by default; Score-CAM, Eigen-CAM and occlusion need no gradients; the field lists every "
         "method with what it does) from a feature-map layer (layer). target picks the class: the model's answer "
         "(default), the expected one, 'dog' or 'cat' (the whole group), or any ImageNet class. Returns the class "
         "explained and whether it is the model's answer (is_answer), the method, the layer and why it was chosen "
         "(layer_reason), the heat map as a small grid (rows top to bottom, 0..1, hot = evidence for the class) and "
         "the path of a PNG of the heat over the photo (include_image=true adds it as an MCP image). metrics=true "
         "adds deletion/insertion AUC and ROAD beside a random and a centre map (is the map better than chance?); "
         "sanity=true checks that the map changes when the model's top layers are randomised. Seconds per call; "
         "metrics and sanity add seconds. For several methods or classes side by side, use compare_explanations.",
         models.ExplainPredictionArguments, handlers.explain,
         # Draws the heat map over the photo into the output folder's explanations/, named by its content.
         title="Explain a prediction (heat map)", effects=Effects(read_only=True, open_world=True),
         returns=(api.explain_image,)),
    Tool("compare_explanations",
         "Heat maps of one image and one model side by side: several methods against each other (methods, default "
         "all), or one method for several classes (targets). targets=['dog', 'cat'] is the dog-versus-cat contrast: "
         "where the model found each animal in a photo with both. Returns one explain_prediction result per map "
         "(target by target, method by method: class explained, is_answer, layer, grid, overlay PNG path, and metrics "
         "or sanity where asked) and picture_path, one PNG of every map in a grid with captions (include_image=true "
         "adds it as an MCP image). Seconds per map (methods x targets maps); metrics add seconds and about 2 KB "
         "per map.",
         models.CompareExplanationsArguments, handlers.compare_explanations,
         # Draws each map over the photo and the grid of them into the output folder's explanations/, named by content.
         title="Compare explanations", effects=Effects(read_only=True, open_world=True),
         returns=(api.compare_explanations,)),
    Tool("look_inside",
         "Look inside a CNN, as the study's chapter on visualising convnets does: the first convolution's kernels, a "
         "layer's weights trained against freshly initialised (histograms with mean and std), the photo's feature "
         "maps at the first convolution and each stage's end (16 most active channels each, with output shape and "
         "receptive field), the receptive field of every layer (size and stride in input pixels), one output value "
         "walked back to its 3x3 input window with the real numbers (products, sum, bias, batch norm, ReLU, max "
         "pool, ending at the model's own value), and on request images that maximise channels. Returns the "
         "numbers and the paths of PNG pictures (include_image=true adds some as MCP images). Seconds; maximize "
         "adds seconds per call.",
         models.LookInsideArguments, handlers.look_inside,
         # Draws each view's picture into the output folder's inside/, named by its content.
         title="Look inside a model", effects=Effects(read_only=True, open_world=True), returns=(api.look_inside,)),
    Tool("compare_preprocessing",
         "The preprocessing experiment: classify one image with one model under several preprocessing modes "
         "(caffe, tf, torch, the model's own, none) to show how a wrong preparation of the pixels changes the "
         "answer. Returns per mode the top-k classes and the dog/cat verdict; the model's own mode is marked.",
         models.ComparePreprocessingArguments, handlers.compare_preprocessing,
         title="Compare preprocessing modes", effects=Effects(read_only=True, open_world=True),
         returns=(api.compare_preprocessing,)),
    Tool("evaluate_images",
         "How often is each model right? Classify a folder of labelled photos (sub-folders name the labels: cat/, "
         "dog/ or ImageNet classes) with one or more models and return per model the dog/cat accuracy, top-1 and "
         "top-5 accuracy where labels are ImageNet classes, a confusion matrix, precision and recall per class, the "
         "mistakes and images per second (null where a metric does not apply); a model whose weights are not on "
         "this machine is {model, error} instead. Resumes an interrupted run from its "
         "log. Reports progress. Seconds to minutes.",
         models.EvaluateImagesArguments, handlers.evaluate, reports_progress=True,
         # Keeps a run log in the output folder's evaluations/, which the next call with the same photos and
         # models resumes from, or (the run finished) replaces with its own: the same log again.
         title="Evaluate on labelled photos", effects=Effects(read_only=False), returns=(api.evaluate,)),
    Tool("fine_tune",
         "Train a new head for a folder's classes (e.g. cat/ and dog/ of the user's own photos) on a frozen "
         "pretrained backbone (EfficientNetLite0 by default, whose weights come with the project). Returns the saved "
         ".keras model's path (usable as model_path by classify_image, evaluate_images and describe_architecture, "
         "with no class_names needed), the class names, the training history and the validation accuracy of the "
         "base model and of the fine-tuned one. Reports progress. Tens of seconds.",
         models.FineTuneArguments, handlers.fine_tune, reports_progress=True,
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
         models.DescribeArchitectureArguments, handlers.describe,
         # Draws the diagram into the output folder's diagrams/, named by the model and the drawing's options.
         title="Describe an architecture", effects=Effects(read_only=True), returns=(api.describe_architecture,)),
    Tool("compare_models",
         "Compare models side by side: parameters, multiply-adds, depth, size, published top-1/top-5 accuracy and "
         "inference time measured on this machine; with an image, also each model's predictions and dog/cat "
         "verdict (error instead, for a model whose weights are not on this machine). Builds each model (seconds each).",
         models.CompareModelsArguments, handlers.compare,
         title="Compare models", effects=Effects(read_only=True, open_world=True), returns=(api.compare_models,)),
    Tool("render_report",
         "Make a study report for a blog: a self-contained HTML page and a Markdown version with PNG pictures "
         "(Korean or English), of the kind named by `kind` (each kind and what it needs is described on that "
         "field). Runs the engine once with the kind's options. Returns the file paths, not the page. "
         "Takes seconds to tens of seconds.",
         models.RenderReportArguments, handlers.report,
         # Writes a new page, its Markdown and its zip on each call, named by the time: never replaces one.
         title="Make a study report", effects=Effects(read_only=False, idempotent=False, open_world=True),
         returns=(api.make_report,)),
)}
