"""The typed contracts of the public API: what each function takes and the JSON it returns.

Every result is a `TypedDict` (a plain dict at run time, so the JSON an agent reads is unchanged),
with the field names the engine has always produced: agents rely on them. Keys that appear only
sometimes (`note`, `fallback`, `expected`, ...) are declared in a `total=False` subclass of the
always-present part. Rendering functions take these types, not loose dicts.

The last part names what the public functions accept (`ImageInput`, `WeightsInput`, ...), in one
place, with `LoadedImage`, an image as `load_image` returns it. This module imports nothing heavy
at run time (the names used only in annotations are imported for the type checker) and nothing of
the engine, so any layer may import it.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

# typing_extensions' TypedDict: the tool doors' output schemas are made from these types by pydantic,
# which before Python 3.12 reads no other.
from typing_extensions import TypedDict, TypeIs

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    import numpy as np
    from PIL import Image

__all__ = [
    # classification
    "ImageRecord", "Prediction", "VerdictScores", "Verdict", "Correctness", "ModelOutcome", "ModelError", "ModelFailure",
    "ModelEntry", "is_answer", "is_failure", "answers", "failures", "Agreement",
    "ExpectedRecord", "Fallback", "ClassificationResult", "BatchClassificationResult",
    # Grad-CAM and the preprocessing experiment
    "ExplainedClass", "CurveMetrics", "RoadMetrics", "MapMetrics", "SanityStep", "SanityCheck", "Explanation", "ExplanationComparison",
    "PreprocessingMode", "PreprocessingStudy",
    # comparison
    "ComparisonPublished", "ComparisonRow", "Device", "Timing", "ComparisonResult",
    # evaluation
    "Accuracy", "ConfusionMatrix", "ClassScore", "Mistake", "ModelSummary", "ModelEvaluation", "HeldOut", "EvaluationResult",
    # fine-tuning
    "TrainingHistory", "FineTuneAccuracy", "ImageCounts", "FineTuneResult",
    # the registry
    "Region", "ResizeOutcome", "PaperDepth", "PublishedFigures", "WeightsStatus", "WeightsInfo", "OnnxState", "ModelListing", "ModelList",
    # architecture
    "Bilingual", "Stage", "StructureRow", "LayerRow", "BatchNorm", "DepthCounts", "PreprocessingCard", "ArchitecturePublished",
    "DiagramFile", "Diagram", "ArchitectureFacts", "StructureResult",
    # inside the network
    "ReceptiveAxis", "ReceptiveField", "KernelView", "WeightStats", "HistogramPair", "FeatureMap", "PatchWalk", "MaximizedFilter",
    "InsideResult",
    # the API's own
    "StudyResult", "ReportFiles",
    # what the public functions take
    "LoadedImage", "PathInput", "ImageInput", "WeightsInput", "WeightsByModel", "ModelNames", "ExpectedInput", "ClassNames",
]

Bilingual: TypeAlias = "dict[str, str]"
"""The same words in every language: `{"ko": ..., "en": ...}`."""


# ----- classification -------------------------------------------------------------------------

class ImageRecord(TypedDict):
    """The `image` record of a result: its size as received and where it came from."""

    width: int
    height: int
    source: str
    kind: str
    name: str | None


class Prediction(TypedDict):
    """One ranked class; `class_id` (WordNet id) and `label_ko` are None for a model file's classes."""

    rank: int
    label: str
    label_ko: str | None
    class_id: str | None
    index: int
    probability: float


class VerdictScores(TypedDict):
    dog: float
    cat: float
    other: float


class OtherClass(TypedDict):
    index: int
    label: str
    label_ko: str


class Verdict(TypedDict):
    """The study's dog/cat verdict: the dog group and the cat family (summed) against the likeliest other class."""

    label: str
    probability: float
    scores: VerdictScores
    basis: str
    top1_group: str
    other_class: OtherClass


class Correctness(TypedDict):
    """Whether a model got the expected answer; `verdict` None where no verdict applies."""

    top1: bool
    top5: bool
    verdict: bool | None


class Int8Agreement(TypedDict):
    """How an int8 model agreed with float32 on the held-out check images (shares, 0..1)."""

    images: int
    top1: float
    top1_confident: float
    confident_images: int
    top5: float
    verdict: float


class Region(TypedDict):
    """The part of the photo a model saw: `resize` "crop" (its evaluation protocol: a centred `box`
    of `crop_fraction` of the shorter side) or "whole" (the photo squashed); `box` is (left, top,
    right, bottom) in the photo's pixels, `left_out` the share of its area outside the box, and
    `warning` whether the photo's shape alone makes the crop leave out more than a third of its long
    side (`CROP_WARNING_LEFT_OUT`: a panorama, a 16:9 photo; a subject at its edge may be lost)."""

    resize: str
    box: list[float]
    interpolation: str
    crop_fraction: float
    left_out: float
    warning: bool


class _ModelOutcome(TypedDict):
    model: str
    weights: str
    untrained: bool
    predictions: list[Prediction]
    verdict: Verdict | None
    inference_ms: float
    backend: str
    precision: str
    input_size: list[int]
    preprocessing: str
    region: Region


class ModelOutcome(_ModelOutcome, total=False):
    """One model's answer for one image; `correct` and `expected_rank` with an expected answer,
    `note` with random weights, `precision_note` where int8 was asked for and float32 answered."""

    note: str
    precision_note: str
    int8_agreement: Int8Agreement
    correct: Correctness
    expected_rank: int


class _ModelError(TypedDict):
    type: str
    message: str


class ModelError(_ModelError, total=False):
    """Why a model could not answer: the error's type and English message, and the message key and
    values a door says it with in the person's language."""

    key: str
    params: dict[str, Any]


class ModelFailure(TypedDict):
    """The entry of a model that could not answer (its weights are not here, ...), in `results`
    beside the answers of the models that could."""

    model: str
    error: ModelError


ModelEntry: TypeAlias = "ModelOutcome | ModelFailure"
"""One entry of a classification's `results`: a model's answer, or why it could not answer."""


def is_answer(entry: ModelEntry) -> TypeIs[ModelOutcome]:
    """Whether a `results` entry is a model's answer (not a `ModelFailure`)."""
    return "error" not in entry


def is_failure(entry: ModelEntry) -> TypeIs[ModelFailure]:
    """Whether a `results` entry says why a model could not answer."""
    return "error" in entry


_Answer = TypeVar("_Answer")


def answers(results: Sequence[_Answer | ModelFailure]) -> list[_Answer]:
    """The entries of `results` (a classification's `results`, an evaluation's or comparison's
    `models`) that are answers, in order."""
    return [entry for entry in results if "error" not in entry]  # type: ignore[operator]


def failures(results: Sequence[Any]) -> list[ModelFailure]:
    """The entries of `results` that say why a model could not answer, in order."""
    return [entry for entry in results if "error" in entry]


class _Agreement(TypedDict):
    agree: bool | None
    basis: str
    verdict_agree: bool | None
    top1_agree: bool | None
    top1: dict[str, str]
    verdicts: dict[str, str]


class Agreement(_Agreement, total=False):
    """Whether the models agree; `summary` (one sentence) is in every classification result."""

    summary: str


class _ExpectedGroup(TypedDict):
    group: str | None


class ExpectedRecord(_ExpectedGroup, total=False):
    """The right answer as given: an ImageNet class (`index`, `wnid`, `label`, `label_ko`, `group`),
    a model file's class (`index`, `label`, `group` None) or a whole group (`group` only)."""

    index: int
    wnid: str
    label: str | None
    label_ko: str


class _Fallback(TypedDict):
    model: str
    instead_of: list[str]
    download_mb: dict[str, float | None]


class Fallback(_Fallback, total=False):
    """Which model answered instead of the study's pair, and the download each would need;
    `note` (in English) only as `default_models` returns it."""

    note: str


class _ClassificationResult(TypedDict):
    image: ImageRecord
    results: list[ModelEntry]
    agreement: Agreement


class ClassificationResult(_ClassificationResult, total=False):
    """`classify_image`'s result: one image, each model's answer, and whether they agree."""

    expected: ExpectedRecord
    note: str
    fallback: Fallback


class BatchClassificationResult(TypedDict):
    """`classify_images`'s result: one `classify_image` result per image, in order."""

    images: list[ClassificationResult]


# ----- Grad-CAM and the preprocessing experiment ----------------------------------------------

class _ExplainedClass(TypedDict):
    index: int | None
    label: str
    label_ko: str | None
    probability: float


class ExplainedClass(_ExplainedClass, total=False):
    """The class a heat map explains: an output `index` with its names and probability, or a whole
    `group` ("dog" or "cat": `index` None, `label` the group, `probability` the group's sum over its
    `classes` classes)."""

    group: str
    classes: int


class CurveMetrics(TypedDict):
    """A deletion or insertion curve: the class's probability at each step, and the area under it."""

    auc: float
    curve: list[float]


class RoadMetrics(TypedDict):
    """ROAD: the class's probability with the most / least relevant share of pixels imputed, per
    percentile, and the combined score (mean of (LeRF - MoRF) / 2: higher is better)."""

    score: float
    percentiles: list[int]
    most_relevant_first: list[float]
    least_relevant_first: list[float]


class _MapMetrics(TypedDict):
    steps: int
    deletion: CurveMetrics
    insertion: CurveMetrics
    road: RoadMetrics
    score: float


class MapMetrics(_MapMetrics, total=False):
    """The numbers of one map: `score` = insertion AUC - deletion AUC; with its `baselines` (the same
    numbers for a random and a centre map of the same grid) and the map's lead over them; `seconds`
    they took (the baselines are measured once per photo and model, then shared by methods and targets)."""

    baselines: dict[str, MapMetrics]
    better_than_random: float
    better_than_centre: float
    seconds: float


class SanityStep(TypedDict):
    randomised: list[str]
    rank_correlation: float


class SanityCheck(TypedDict):
    """Cascading randomisation: the map's rank correlation with itself as the top layers are
    randomised; `flagged` where it stays at or above `threshold` (the map ignores the model)."""

    steps: list[SanityStep]
    flagged: bool
    threshold: float


# "class" is a keyword: the functional form names it
_Explanation = TypedDict("_Explanation", {"model": str, "method": str, "method_title": str, "class_specific": bool,
                                          "class": ExplainedClass, "layer": str | None, "layer_reason": str | None,
                                          "heatmap": list[list[float]], "target": str, "answer": ExplainedClass,
                                          "is_answer": bool, "backend": str, "region": Region, "seconds": float})


class Explanation(_Explanation, total=False):
    """A heat map: made by `method` from `layer` (chosen for `layer_reason`: "registry",
    "last_feature_map" or "asked"; None for occlusion), for the `class` chosen by `target`
    ("answer": the model's own top-1, the default; "expected": the right answer given; "dog" or
    "cat": the group's sum; "class": one asked for by index or name), the model's own `answer`
    beside it (`is_answer`: whether the class explained holds it), over the `region` of the photo
    the model saw. `metrics` and `sanity` where asked for; `overlay_path` (a PNG of the heat over
    the photo) once the API drew it."""

    metrics: MapMetrics
    sanity: SanityCheck
    overlay_path: str


class _ExplanationComparison(TypedDict):
    model: str
    methods: list[str]
    targets: list[str]
    explanations: list[Explanation]


class ExplanationComparison(_ExplanationComparison, total=False):
    """Maps of one photo and one model side by side: each method named, for each target;
    `picture_path` (all overlays in one grid PNG) once the API drew it."""

    picture_path: str


class PreprocessingMode(TypedDict):
    mode: str
    own: bool
    predictions: list[Prediction]
    verdict: Verdict
    formula: str
    channel_order: str
    pixel: list[float]


class PixelRecord(TypedDict):
    """The photo's pixel worked through each mode: where it is (x, y) and its (R, G, B)."""

    at: list[int]
    rgb: list[int]


class ResizeOutcome(TypedDict):
    """The photo brought to the input one way ("crop" or "whole"): what the model saw and answered."""

    resize: str
    own: bool
    region: Region
    predictions: list[Prediction]
    verdict: Verdict


class PreprocessingStudy(TypedDict):
    """`compare_preprocessing`'s result: one photo, one model, several preprocessing modes (each
    with the model's own resize), and the model's own preprocessing with each resize."""

    model: str
    own_mode: str
    image: ImageRecord
    weights: str
    backend: str
    untrained: bool
    pixel: PixelRecord
    modes: list[PreprocessingMode]
    resizes: list[ResizeOutcome]


# ----- comparison -----------------------------------------------------------------------------

class ComparisonPublished(TypedDict):
    top1: float | None
    top5: float | None
    multiply_adds: float | None
    source: str
    source_key: str


class _ComparisonRow(TypedDict):
    model: str
    family: str
    input_shape: list[int | None]
    total_params: int
    macs: int
    flops: int
    depth: int
    size_mb: float
    published: ComparisonPublished
    inference_ms: float


class ComparisonRow(_ComparisonRow, total=False):
    """One model in `compare_models`; its answer (`weights` ... `verdict`) with an image, or `error`
    where it could not answer (its size, cost and speed are there all the same)."""

    weights: str
    untrained: bool
    predictions: list[Prediction]
    verdict: Verdict | None
    error: ModelError


class Device(TypedDict):
    arch: str
    cpus: int | None
    gpus: int
    system: str
    tensorflow: str


class Timing(TypedDict):
    """How `inference_ms` was measured, and on what machine."""

    runs: int
    statistic: str
    batch: int
    machine: str
    device: Device


class _ComparisonResult(TypedDict):
    models: list[ComparisonRow]
    timing: Timing


class ComparisonResult(_ComparisonResult, total=False):
    """`compare_models`'s result; `image` and `agreement` with an image."""

    image: ImageRecord
    agreement: Agreement
    note: str
    fallback: Fallback


# ----- evaluation -----------------------------------------------------------------------------

class Accuracy(TypedDict):
    verdict: float | None
    top1: float | None
    top5: float | None


class ConfusionMatrix(TypedDict):
    labels: list[str]
    counts: list[list[int]]


class ClassScore(TypedDict):
    label: str
    support: int
    precision: float | None
    recall: float | None


class Mistake(TypedDict):
    image: str
    path: str
    expected: str
    answer: str
    answer_ko: str | None
    group: str | None
    probability: float


class ModelSummary(TypedDict):
    """How often one model was right (a metric that does not apply is None)."""

    model: str
    images: int
    accuracy: Accuracy
    confusion_matrix: ConfusionMatrix
    per_class: list[ClassScore]
    mistakes: list[Mistake]
    mistake_count: int
    images_per_second: float | None


class _ModelEvaluation(ModelSummary):
    backend: str
    precision: str
    resize: str


class PublishedAccuracy(TypedDict):
    """A registry model's published accuracy and the evaluation protocol it was measured with
    (`protocol`: `{"crop_fraction", "interpolation", "source_key"}`; the source in the catalogue)."""

    top1: float | None
    top5: float | None
    source_key: str
    protocol: dict[str, Any]


class ModelEvaluation(_ModelEvaluation, total=False):
    """One model in `evaluate`'s result: its summary, the backend, precision and resize that ran it,
    why float32 answered where int8 was asked for (`precision_note`), and for a registry model its
    published accuracy beside the measured one (`published`)."""

    precision_note: str
    published: PublishedAccuracy


class _EvaluationResult(TypedDict):
    source: str
    images: int
    labels: list[str]
    label_counts: dict[str, int]
    log_path: str
    engine: str
    models: list[ModelEvaluation | ModelFailure]


class HeldOut(TypedDict):
    """The photos a fine-tune kept back from training, which its evaluation is made on."""

    images: int
    per_class: dict[str, int]
    trained_on: int
    enough: bool


class EvaluationResult(_EvaluationResult, total=False):
    """`evaluate`'s result; `held_out` when `fine_tune` made it on the photos it never trained on."""

    note: str
    fallback: Fallback
    held_out: HeldOut


# ----- fine-tuning ----------------------------------------------------------------------------

class TrainingHistory(TypedDict):
    loss: list[float]
    val_loss: list[float]
    accuracy: list[float]
    val_accuracy: list[float]
    epochs_run: int
    stopped_early: bool


class FineTuneAccuracy(TypedDict):
    base: float | None
    fine_tuned: float | None


class ImageCounts(TypedDict):
    train: int
    validation: int


class _FineTuneResult(TypedDict):
    model_path: str
    class_names: list[str]
    history: TrainingHistory
    accuracy: FineTuneAccuracy
    base: str
    images: ImageCounts


class FineTuneResult(_FineTuneResult, total=False):
    """`fine_tune`'s result; `evaluation` with `evaluate=True`."""

    evaluation: EvaluationResult


# ----- the registry ---------------------------------------------------------------------------

class PaperDepth(TypedDict):
    """A model's depth as its paper names it: its layers with weights on the main path
    (`convolutions` + `fully_connected`, where the paper counts them so; None where it gives only
    the total, as Inception-v3's "42 layers deep")."""

    layers: int
    convolutions: int | None
    fully_connected: int | None


class PublishedFigures(TypedDict):
    """A model's published figures and their sources (None where the source gives none). `depth` is
    Keras's table's (its layers with weights: 107 for ResNet50); `paper_depth` the paper's (50 for
    ResNet50; None where the paper names none); `paper_year` the year the paper appeared (on arXiv,
    where it did) and `paper_venue` where it was published ("CVPR 2016")."""

    size_mb: float | None
    top1: float | None
    top5: float | None
    parameters: int | None
    depth: int | None
    source: str
    multiply_adds: float | None
    multiply_adds_source: str
    source_key: str
    multiply_adds_key: str
    paper_depth: PaperDepth | None
    paper_year: int | None
    paper_venue: str | None


class WeightsStatus(TypedDict):
    """Whether a model's ImageNet weights are ready here, from where, and how big (MiB)."""

    available: bool
    source: str | None
    size_mb: float | None


class WeightsInfo(WeightsStatus):
    options: list[str]


class _OnnxState(TypedDict):
    exports: bool
    imagenet_export: str


class OnnxState(_OnnxState, total=False):
    reason: str


class _Int8State(TypedDict):
    state: str


class Int8State(_Int8State, total=False):
    """Whether a model's int8 model (ImageNet weights) is "ready", was "refused" (float32 answers),
    or is "none" yet; with its measured agreement once checked."""

    agreement: Int8Agreement


class _ModelListing(TypedDict):
    name: str
    family: str
    input_shape: list[int]
    preprocessing: str
    protocol: dict[str, Any]
    weights: WeightsInfo
    published: PublishedFigures
    paper: str


class ModelListing(_ModelListing, total=False):
    """One model in `list_models()`; `onnx` is always there in its result."""

    note: str
    onnx: OnnxState
    int8: Int8State


class ModelList(TypedDict):
    """`list_models()`'s result."""

    models: list[ModelListing]


# ----- architecture ---------------------------------------------------------------------------

class Stage(TypedDict):
    """One of the paper's stages (or a run of layers at one resolution); `receptive_field` that of
    its output (None where it has no height and width: the head)."""

    name: str
    output_size: str | None
    output_shape: list | None
    layers: int
    blocks: int | None
    weighted_layers: int
    layout: str
    params: int
    macs: int
    residual_block: list[str] | None
    receptive_field: ReceptiveField | None


class StructureRow(TypedDict):
    """One kind of layer in the structure table; `receptive_field` that of its last layer."""

    kind: str
    label: Bilingual
    count: int
    shapes: str
    details: str
    role: Bilingual
    params: int
    types: list[str]
    receptive_field: ReceptiveField | None


class _LayerRow(TypedDict):
    name: str
    type: str
    output_shape: list | None
    params: int
    trainable_params: int
    macs: int
    trainable: bool
    activation: str | None
    kernel: str | None
    inbound: list[str]
    receptive_field: ReceptiveField | None


class LayerRow(_LayerRow, total=False):
    """One row of the layer table (`receptive_field` None where the output has no height and
    width); `parent` for a nested model's layer."""

    parent: str


class DepthCounts(TypedDict):
    """Keras's depth (the layers with weights: `depth`) by kind; `projection_shortcuts` are counted
    among the `convolutions`, the others add up to `weighted_layers`."""

    weighted_layers: int
    convolutions: int
    projection_shortcuts: int
    depthwise: int
    batch_norms: int
    layer_norms: int
    dense: int
    other: int


class BatchNorm(TypedDict):
    layers: int
    channels: int
    moving_statistics: int
    trainable: int


class _PreprocessingCard(TypedDict):
    input_size: list[int | None]
    channels: int | None
    mode: str | None
    description: Bilingual


class PreprocessingCard(_PreprocessingCard, total=False):
    """What a model's input gets; `channel_order`, `value_range`, `function`, `formula` and `sample`
    (`{"rgb", "values"}`: one pixel worked through the formula) for registry models."""

    channel_order: str
    value_range: list[float]
    function: str | None
    formula: str
    sample: dict[str, list]


class ArchitecturePublished(PublishedFigures):
    paper: str


class DiagramFile(TypedDict):
    path: str
    bytes: int


class Diagram(TypedDict):
    """Where the drawings are: the first format's file, and every format's."""

    format: str
    path: str
    bytes: int
    files: dict[str, DiagramFile]


class _ArchitectureFacts(TypedDict):
    model: str
    family: str | None
    input_shape: list[int | None]
    output_shape: list[int | None]
    total_params: int
    trainable_params: int
    non_trainable_params: int
    macs: int
    flops: int
    size_mb: float
    num_layers: int
    depth: int
    stages: list[Stage]
    structure: list[StructureRow]
    layers: list[LayerRow] | None
    batch_norm: BatchNorm | None
    preprocessing: PreprocessingCard
    published: ArchitecturePublished | None
    diagram: Diagram | None
    macs_note: str


class ArchitectureFacts(_ArchitectureFacts, total=False):
    """`describe_architecture`'s result (FLOPs = 2 x MACs); `keras_summary` (the text `model.summary()`
    prints, None for detail "summary"; tool calls leave it out), `layers_note` where the tool door cut
    the layer table, `depth_counts` (what `depth`, Keras's count, is made of)."""

    keras_summary: str | None
    layers_note: str
    depth_counts: DepthCounts


class StructureResult(TypedDict):
    """Several models' `describe_architecture` facts, for the structure report."""

    models: list[ArchitectureFacts]


# ----- inside the network (look_inside) ------------------------------------------------------

class ReceptiveAxis(TypedDict):
    """A receptive field along one axis (see `ReceptiveField`)."""

    size: int
    stride: int
    start: float


class _ReceptiveField(TypedDict):
    size: int
    stride: int
    start: float


class ReceptiveField(_ReceptiveField, total=False):
    """What one output cell of a layer can see of the model's input: a `size` x `size` window of
    input pixels, neighbouring cells `stride` pixels apart, cell (0, 0)'s window centred at input
    pixel `start` (padding's offset: negative where "same" padding reaches outside the image).
    `height` and `width` only where the two axes differ (after a 1x7 kernel, on an oblong input):
    `size`, `stride` and `start` are then those of the axis with the larger window."""

    height: ReceptiveAxis
    width: ReceptiveAxis


class KernelView(TypedDict):
    """A convolution's kernels as the filters view draws them: `shape` (kh, kw, in, out) or, for a
    depthwise convolution, (kh, kw, channels, multiplier); `shown` the output channels drawn, in
    order; `scale` the symmetric range drawn (-scale .. +scale, as the book scales them)."""

    layer: str
    kind: str
    shape: list[int]
    shown: list[int]
    scale: float


class WeightStats(TypedDict):
    count: int
    mean: float
    std: float
    min: float
    max: float


class HistogramPair(TypedDict):
    """One layer's weights trained against the same architecture freshly initialised: both
    histograms on the same `bins` (edges), with their statistics and the initialiser named as
    Keras names it ("GlorotUniform", "HeNormal", ...); `batch_norm` the trained scale (gamma) and
    shift (beta) of the batch normalisation after it, where there is one."""

    layer: str
    initializer: str
    bins: list[float]
    trained: WeightStats
    untrained: WeightStats
    trained_counts: list[int]
    untrained_counts: list[int]
    batch_norm: dict[str, Any] | None


class FeatureMap(TypedDict):
    """One layer's output for the photo: its `channels` most active first (by mean activation,
    `means` beside), at the layer's own resolution (`output_shape` without the batch), the stage it
    ends (or None), whether it is after a ReLU (`after_relu`, and `activation`: the layer whose
    output it is, e.g. "block1_conv1 (ReLU inside)" or "conv1_relu"), and its receptive field."""

    layer: str
    stage: str | None
    output_shape: list[int]
    after_relu: bool
    activation: str
    channels: list[int]
    means: list[float]
    receptive_field: ReceptiveField | None


class PatchWalk(TypedDict):
    """One output value of the first convolution traced back to its input window with the real
    numbers (CNN Explainer's formula view): the `cell` (row, column) and `channel`, the
    preprocessed input `patch` and the `kernel` (kh x kw x in, nested lists), their `products`,
    `sum`, `bias`, `conv` (= sum + bias), then each following step the model applies (batch norm,
    ReLU, max pool) as `{"name", "layer", "formula", "value", ...}`, ending at `model_value`, the
    same number read from the model's own output, and `difference` between the two."""

    layer: str
    channel: int
    cell: list[int]
    patch: list
    kernel: list
    products: list
    sum: float
    bias: float
    conv: float
    steps: list[dict[str, Any]]
    value: float
    model_value: float
    model_layer: str
    difference: float


class MaximizedFilter(TypedDict):
    """The image that maximises one channel's mean activation (gradient ascent from grey noise
    with a fixed seed), and how long it took."""

    layer: str
    channel: int
    steps: int
    seconds: float
    activation_start: float
    activation_end: float


class _InsideResult(TypedDict):
    model: str
    weights: str
    untrained: bool
    views: list[str]
    timings: dict[str, float]


class InsideResult(_InsideResult, total=False):
    """`look_inside`'s result: what each view asked for found (`filters`, `histograms`,
    `feature_maps`, `receptive_fields` by layer name, `walk`, `maximized`), the photo (`image`,
    `region`) where one was given, and, once the API drew them, `pictures`: each view's PNG
    paths."""

    image: ImageRecord
    region: Region
    filters: KernelView
    deeper_filters: KernelView
    histograms: HistogramPair
    feature_maps: list[FeatureMap]
    receptive_fields: dict[str, ReceptiveField]
    walk: PatchWalk
    maximized: list[MaximizedFilter]
    pictures: dict[str, Any]


# ----- the API's own --------------------------------------------------------------------------

class StudyResult(TypedDict):
    """`study_image`'s result: exactly what `render_report` takes for a classification."""

    result: ClassificationResult
    image: LoadedImage
    explanations: list[Explanation] | None
    preprocessing_study: PreprocessingStudy | None


class ReportFiles(TypedDict):
    """A written report: the page, its Markdown version, the post (the Markdown and its pictures in
    one zip), its title, kind and language."""

    path: str
    markdown_path: str
    post_path: str
    title: str
    kind: str
    lang: str


# ----- what the public functions take ---------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class LoadedImage:
    """A decoded image ready for preprocessing, as `load_image` returns it.

    Attributes:
        image: 8-bit RGB PIL image, orientation applied.
        source: what was received, in English ("file cat.jpg", "URL ...").
        kind: the form it came in: "file", "url", "data_uri", "base64", "bytes", "pil" or "array".
        name: the file's name, the URL, the byte count or the array's shape (None for the others).
    """

    image: Image.Image
    source: str
    kind: str = "file"
    name: str | None = None
    original_size: tuple[int, int] | None = None

    @property
    def width(self) -> int:
        """The width as received (the pixels kept may be scaled down)."""
        return (self.original_size or self.image.size)[0]

    @property
    def height(self) -> int:
        return (self.original_size or self.image.size)[1]

    def describe(self) -> ImageRecord:
        """The `image` record of a classification result."""
        return {"width": self.width, "height": self.height, "source": self.source, "kind": self.kind, "name": self.name}


PathInput: TypeAlias = "str | os.PathLike[str]"
"""A file or folder path (below the allowed roots where the engine reads it)."""

ImageInput: TypeAlias = ("str | os.PathLike[str] | bytes | bytearray | memoryview | Image.Image | np.ndarray"
                         " | LoadedImage")
"""An image as `load_image` takes it: a path, an http(s) URL, a data URI or a base64 string (str),
bytes, a PIL image, a numpy array, or an image already read."""

WeightsInput: TypeAlias = "str | os.PathLike[str] | None"
""""imagenet", "random" or None (random initialisation), or a weights file's path."""

WeightsByModel: TypeAlias = "WeightsInput | dict[str, WeightsInput]"
"""One `WeightsInput` for every model, or one per model name."""

ModelNames: TypeAlias = "Sequence[str] | str | None"
"""Registry model names: a list, a comma-separated string, or None for the defaults."""

ExpectedInput: TypeAlias = "int | str | None"
"""The right answer: an ImageNet class (index, name or WordNet id), "dog"/"cat", or a model file's class."""

ClassNames: TypeAlias = "Sequence[str] | None"
"""A model file's class names, by output index."""
