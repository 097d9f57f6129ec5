"""Per-call limits and defaults, and the numbers of the dog/cat verdict, defined once.

The engine enforces them; every door reads them from here (pydantic fields, argparse options,
web widgets), so a door refuses exactly what the engine refuses. The verdict's groups and share are
here so that the engine that decides by them (`plugin.engine.study.labels`) and the words that say
the rule (`plugin.words.results`) read the same numbers. Limits that depend on where the
app runs (folders, byte and pixel caps, time-outs) are settings instead: see `plugin.config`.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_MODELS",
    "FALLBACK_MODEL",
    "DEFAULT_ARCHITECTURE_MODEL",
    "DEFAULT_TOP_K",
    "MAX_TOP_K",
    "MAX_MODELS_PER_CALL",
    "MAX_IMAGES_PER_CALL",
    "MAX_CLASS_NAMES",
    "MAX_PATH_CHARS",
    "MAX_DATA_URI_CHARS",
    "MAX_REQUEST_BYTES",
    "DEFAULT_LAYER_ROWS",
    "MAX_LAYER_ROWS",
    "TIMING_RUNS",
    "MAX_EVALUATION_IMAGES",
    "EVALUATION_BATCH",
    "MAX_MISTAKES",
    "MAX_FINE_TUNE_EPOCHS",
    "DEFAULT_FINE_TUNE_EPOCHS",
    "FINE_TUNE_BASE",
    "BACKENDS",
    "DEFAULT_BACKEND",
    "PRECISIONS",
    "DEFAULT_PRECISION",
    "RESIZES",
    "CROP_WARNING_LEFT_OUT",
    "MAX_MAXIMIZE_CHANNELS",
    "MAXIMIZE_STEPS",
    "MAXIMIZE_SECONDS",
    "MAX_BATCH_IMAGES",
    "STORED_BYTES_PER_PARAMETER",
    "STORED_SLACK_BYTES",
    "MAX_MODEL_ASSET_BYTES",
    "MAX_MODEL_MEMBERS",
    "STRUCTURE_MODELS",
    "DOG_INDICES",
    "CAT_INDICES",
    "WILD_CAT_INDICES",
    "PLAUSIBLE_GROUP",
    "DEFAULT_EXPLAIN_METHOD",
    "DEFAULT_METRIC_STEPS",
    "MAX_METRIC_STEPS",
    "ROAD_PERCENTILES",
    "SCORECAM_CHANNELS",
    "SANITY_CASCADE",
    "SANITY_FLAG",
    "EXPLAIN_BATCH",
]

DEFAULT_MODELS = ("VGG16", "ResNet50")
"""The study's pair: classified and compared when a caller names no models (where their weights are ready)."""

FALLBACK_MODEL = "EfficientNetLite0"
"""Classifies instead of the pair when their ImageNet weights are not on this machine: its own come
with the project, so a fresh offline machine still gives a real answer."""

DEFAULT_ARCHITECTURE_MODEL = "ResNet50"
"""Described when a caller names no model."""

DEFAULT_TOP_K = 5
MAX_TOP_K = 20
"""Top classes returned per model and image: 1 to MAX_TOP_K."""

MAX_MODELS_PER_CALL = 6
"""Model names one classify or compare call takes (as many as the model cache holds by default)."""

MAX_IMAGES_PER_CALL = 16
"""Images one classify call takes."""

MAX_CLASS_NAMES = 1000
"""Class names given for a model file of one's own."""

MAX_PATH_CHARS = 4096
"""The longest file path or folder a caller may name (the file system's own limit on Linux)."""

MAX_DATA_URI_CHARS = 28_000_000
"""The longest image a tool takes as text: a base64 data: URI of a 20 MiB image (the default
`max_image_bytes`) with room for its header."""

MAX_REQUEST_BYTES = 32 * 1024 * 1024
"""The largest request body the web app reads, file uploads aside (a JSON call with one such data URI)."""

DEFAULT_LAYER_ROWS = 40
MAX_LAYER_ROWS = 2000
"""Layer rows a tool result carries (the whole table goes into an architecture report)."""

TIMING_RUNS = 5
"""Runs of one image whose median compare_models reports as the inference time."""

MAX_EVALUATION_IMAGES = 1000
"""Images one evaluate (or fine_tune) call takes, from a folder, a list or an uploaded zip."""

LABELLED_FOLDER_DEPTH = 2
"""How many levels below each image root labelled folders are looked for (the app's folder picker)."""

MAX_SCANNED_FOLDERS = 400
"""Folders looked into, in all, while labelled folders are listed: a huge root costs little."""

EVALUATION_BATCH = 16
"""Images classified together while evaluating: the same batches locally, on Ray and on resume."""

MAX_MISTAKES = 50
"""Mistakes listed per model in an evaluation result (the counts cover them all)."""

FINE_TUNE_BASE = "EfficientNetLite0"
"""The backbone a new head is trained on by default: its ImageNet weights come with the project."""

DEFAULT_FINE_TUNE_EPOCHS = 20
MAX_FINE_TUNE_EPOCHS = 200

BACKENDS = ("auto", "onnx", "keras")
"""What runs a registry model: "onnx" (onnxruntime, on the model exported once and cached), "keras"
(TensorFlow; also the reference), or "auto": onnxruntime where the export is cached, else Keras while
the export is made in the background."""

DEFAULT_BACKEND = "auto"

PRECISIONS = ("float32", "int8")
"""The numbers a registry model computes with: "float32", or "int8" (onnxruntime, on a static
quantisation of the float32 export, kept only if it agrees with float32 on held-out photos; where it
does not, float32 answers and says why)."""

DEFAULT_PRECISION = "float32"

RESIZES = ("crop", "whole")
"""How a photo becomes a model's input: "crop", the model's evaluation protocol (a centred box of a
fraction of the shorter side, resized with its interpolation: how its published accuracy was
measured), or "whole", the whole photo squashed to the input size (bilinear). None asks for the
model's own way: "crop" for every registry model, and for a model file what was recorded when it
was trained here, else "whole" (as Keras's `image_dataset_from_directory` trains)."""

MAX_MAXIMIZE_CHANNELS = 8
"""Most channels `look_inside` maximises in one call (each is a gradient ascent on the photo's size)."""

CROP_WARNING_LEFT_OUT = 1 / 3
"""A crop is said as a warning where the photo's shape alone makes it leave out more than this share
of the photo's long side: a photo more than 1.5 times as wide as tall (16:9, a panorama), whose edges,
where a subject may stand, the model never sees. Every crop also leaves out the protocol's border
(12.5 % of the shorter side at 0.875), which the models were evaluated with: a 4:3 photo loses 43 %
of its area to the crop without a warning, and its region says so in a plain sentence."""

MAX_BATCH_IMAGES = 64
"""Most images that requests arriving together are merged into (see `plugin.engine.inference.batching`)."""

STORED_BYTES_PER_PARAMETER = 8
"""Bytes a model file may store per parameter of its architecture (float64 at most), unpacked."""
STORED_SLACK_BYTES = 16 * 1024 * 1024
"""Bytes a model file may store beyond its weights: configuration, metadata, HDF5 bookkeeping."""
MAX_MODEL_ASSET_BYTES = 16 * 1024 * 1024
"""Bytes of assets (vocabularies of lookup layers) a `.keras` file may unpack."""
MAX_MODEL_MEMBERS = 256
"""Members a `.keras` file (a zip) may have; Keras writes 3 plus one per asset."""

STRUCTURE_MODELS = ("AlexNet", "VGG16", "ResNet50")
"""The structure report's models when none are named: the three the homework asks about."""

DOG_INDICES = range(151, 269)
"""The verdict's dogs: WordNet's domestic dog (n02084071), every dog breed ImageNet has."""
CAT_INDICES = range(281, 294)
"""The verdict's cats: WordNet's cat family (felid, n02120997), domestic cats and the wild cats below."""
WILD_CAT_INDICES = range(286, 294)
"""Cougar, lynx, leopard, snow leopard, jaguar, lion, tiger, cheetah: the cat family's wild members."""
PLAUSIBLE_GROUP = 0.2
"""The least share of the probability a group needs to be the verdict without holding the top-1
class: one in five. Below it the group is an unsure model's noise spread over many classes."""

MAXIMIZE_STEPS = 30
"""Gradient-ascent steps that find the image a channel responds to most (keras.io's "Visualizing
what convnets learn" takes 30), unless `MAXIMIZE_SECONDS` runs out first."""
MAXIMIZE_SECONDS = 10.0
"""Seconds the gradient ascent of one `look_inside` may take, all its channels together (one batch):
it stops at the first step that ends past this and says how many steps it took."""

DEFAULT_EXPLAIN_METHOD = "gradcam"
"""How a heat map is made when a caller names no method (see `plugin.engine.study.explain.methods`)."""

DEFAULT_METRIC_STEPS = 20
"""Steps of the deletion and insertion curves: 5 % of the pixels removed (or added back) per step."""
MAX_METRIC_STEPS = 50
"""Most steps a caller may ask for (each step is one forward pass per curve and map)."""

ROAD_PERCENTILES = (20, 40, 60, 80)
"""The shares (%) of pixels ROAD removes, most and least relevant first (pytorch-grad-cam's
`ROADCombined` default; Rong et al. 2022 use 10 to 90)."""

SCORECAM_CHANNELS = 256
"""Channels Score-CAM masks the photo with: the most active of the layer's (Lite0 has 1280, most
nearly silent), so its forward passes stay a few batches."""

SANITY_CASCADE = (1, 4, 12)
"""How many of the model's top layers with weights the sanity check randomises, step by step, from
the classifier down (Adebayo et al. 2018, cascading randomisation)."""
SANITY_FLAG = 0.5
"""A map whose rank correlation with its own map from the most randomised model stays at or above
this is flagged: it does not depend on what the model learnt."""

EXPLAIN_BATCH = 64
"""Images per forward pass when an explanation or its metrics run a model on many masked photos."""
