"""EfficientNet-Lite0/1/2, built with Keras layers in the style of `keras.applications.efficientnet`.

EfficientNet-Lite (tensorflow/tpu `models/official/efficientnet/lite`, March 2020) is EfficientNet
made friendly to phones and quantisation, and differs from EfficientNet-B* in three ways, all
reproduced here:

* no squeeze-and-excite,
* ReLU6 everywhere instead of swish,
* stem (32 filters) and head (1280 filters) are not scaled with the width coefficient, and the
  first and last block groups are not repeated more with the depth coefficient.

The ImageNet weights were trained in TensorFlow, so convolutions use Keras `padding="same"`
(TF "same", asymmetric for stride 2) and batch normalisation the TF settings (epsilon 1e-3,
momentum 0.99). The model has no preprocessing layers: inputs are RGB images mapped with
`(x - 127) / 128`, the mean and deviation the Lite checkpoints were trained with. Layer names
follow keras.applications: `stem_conv`, `block1a_dwconv`, ..., `top_conv`, `predictions`;
`state_dict_layout` says which tensor of the PyTorch state dict fills each layer.
"""

from __future__ import annotations

import copy
import math

import keras
from keras import layers

__all__ = ["DEFAULT_BLOCKS_ARGS", "VARIANTS", "EfficientNetLite", "EfficientNetLite0", "EfficientNetLite1",
           "EfficientNetLite2", "block", "block_plan", "state_dict_layout"]

CONV_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
}

DENSE_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"},
}

#: Batch-norm settings of the TF EfficientNet-Lite builder.
BN_EPSILON = 1e-3
BN_MOMENTUM = 0.99

STEM_FILTERS = 32
HEAD_FILTERS = 1280

# Same table as keras.applications.efficientnet, minus squeeze-excite.
DEFAULT_BLOCKS_ARGS = [
    {"kernel_size": 3, "repeats": 1, "filters_in": 32, "filters_out": 16,
     "expand_ratio": 1, "id_skip": True, "strides": 1},
    {"kernel_size": 3, "repeats": 2, "filters_in": 16, "filters_out": 24,
     "expand_ratio": 6, "id_skip": True, "strides": 2},
    {"kernel_size": 5, "repeats": 2, "filters_in": 24, "filters_out": 40,
     "expand_ratio": 6, "id_skip": True, "strides": 2},
    {"kernel_size": 3, "repeats": 3, "filters_in": 40, "filters_out": 80,
     "expand_ratio": 6, "id_skip": True, "strides": 2},
    {"kernel_size": 5, "repeats": 3, "filters_in": 80, "filters_out": 112,
     "expand_ratio": 6, "id_skip": True, "strides": 1},
    {"kernel_size": 5, "repeats": 4, "filters_in": 112, "filters_out": 192,
     "expand_ratio": 6, "id_skip": True, "strides": 2},
    {"kernel_size": 3, "repeats": 1, "filters_in": 192, "filters_out": 320,
     "expand_ratio": 6, "id_skip": True, "strides": 1},
]

#: variant -> (width_coefficient, depth_coefficient, default_size, dropout_rate)
#: (efficientnet_lite_builder.efficientnet_lite_params).
VARIANTS = {
    "lite0": (1.0, 1.0, 224, 0.2),
    "lite1": (1.0, 1.1, 240, 0.2),
    "lite2": (1.1, 1.2, 260, 0.3),
}


def round_filters(filters, width_coefficient, divisor=8):
    """Round number of filters based on width multiplier (as TF / Keras)."""
    filters *= width_coefficient
    new_filters = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    # Make sure that round down does not go down by more than 10%.
    if new_filters < 0.9 * filters:
        new_filters += divisor
    return int(new_filters)


def round_repeats(repeats, depth_coefficient):
    """Round number of repeats based on depth multiplier."""
    return int(math.ceil(depth_coefficient * repeats))


def block(
    inputs,
    *,
    activation="relu6",
    drop_rate=0.0,
    name="",
    filters_in=32,
    filters_out=16,
    kernel_size=3,
    strides=1,
    expand_ratio=1,
    id_skip=True,
):
    """An inverted residual (MBConv) block without squeeze-and-excite."""
    filters = filters_in * expand_ratio
    if expand_ratio != 1:
        x = layers.Conv2D(
            filters, 1, padding="same", use_bias=False,
            kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}expand_conv",
        )(inputs)
        x = layers.BatchNormalization(
            axis=-1, epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=f"{name}expand_bn"
        )(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    else:
        x = inputs

    # TF-"same" padding (asymmetric for stride 2), as the weights were trained.
    x = layers.DepthwiseConv2D(
        kernel_size, strides=strides, padding="same", use_bias=False,
        depthwise_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}dwconv",
    )(x)
    x = layers.BatchNormalization(
        axis=-1, epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=f"{name}bn"
    )(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)

    x = layers.Conv2D(
        filters_out, 1, padding="same", use_bias=False,
        kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}project_conv",
    )(x)
    x = layers.BatchNormalization(
        axis=-1, epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=f"{name}project_bn"
    )(x)
    if id_skip and strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = layers.Dropout(
                drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop"
            )(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def block_plan(width_coefficient, depth_coefficient, blocks_args="default", depth_divisor=8):
    """The expanded list of per-block kwargs (incl. ``name``), in order.

    Shared by the Keras builder, the weight converter and the numpy reference.
    """
    if blocks_args == "default":
        blocks_args = DEFAULT_BLOCKS_ARGS
    blocks_args = copy.deepcopy(blocks_args)
    plan = []
    last = len(blocks_args) - 1
    for i, args in enumerate(blocks_args):
        if args["repeats"] <= 0:
            raise ValueError(f"repeats must be > 0, got {args['repeats']}")
        if i == 0:
            # The stem is fixed at 32 filters, so the first group sees 32 inputs.
            args["filters_in"] = STEM_FILTERS
        else:
            args["filters_in"] = round_filters(args["filters_in"], width_coefficient, depth_divisor)
        args["filters_out"] = round_filters(args["filters_out"], width_coefficient, depth_divisor)
        repeats = args.pop("repeats")
        if i not in (0, last):  # Lite: first and last groups are not deepened
            repeats = round_repeats(repeats, depth_coefficient)
        for j in range(repeats):
            if j > 0:
                args["strides"] = 1
                args["filters_in"] = args["filters_out"]
            plan.append(dict(args, name=f"block{i + 1}{chr(j + 97)}_"))
    return plan


def EfficientNetLite(
    width_coefficient,
    depth_coefficient,
    default_size,
    dropout_rate=0.2,
    *,
    drop_connect_rate=0.2,
    depth_divisor=8,
    activation="relu6",
    blocks_args="default",
    name="efficientnet_lite",
    include_top=True,
    weights=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
):
    """Instantiates an EfficientNet-Lite network.

    Args:
      width_coefficient: float, scaling coefficient for network width.
      depth_coefficient: float, scaling coefficient for network depth.
      default_size: int, default input image size.
      dropout_rate: float, dropout rate before the final classifier layer.
      drop_connect_rate: float, stochastic-depth rate of the skip branches.
      depth_divisor: int, unit of network width.
      activation: activation of all hidden layers (``"relu6"``).
      blocks_args: ``"default"`` or a list of dicts as ``DEFAULT_BLOCKS_ARGS``.
      name: model name.
      include_top: whether to include pooling, dropout and the classifier.
      weights: ``None`` (random init) or the path of a Keras weights file (the
        engine converts the bundled ImageNet weights into one, see ``plugin.engine.models.bundled``).
      input_shape: optional ``(H, W, 3)``; default ``(default_size, default_size, 3)``.
      pooling: ``None``, ``"avg"`` or ``"max"`` when ``include_top=False``.
      classes: number of classes of the classifier.
      classifier_activation: ``"softmax"``, ``None`` (logits) or any activation.

    Returns:
      A ``keras.Model`` taking RGB images preprocessed as ``(x - 127) / 128``
      (the engine's "lite" preprocessing mode).
    """
    if input_shape is None:
        input_shape = (default_size, default_size, 3)
    if len(input_shape) != 3 or input_shape[-1] != 3:
        raise ValueError(f"input_shape must be (H, W, 3), got {input_shape}")

    img_input = layers.Input(shape=input_shape, name="input_layer")

    # Stem (not scaled in Lite).
    x = layers.Conv2D(
        STEM_FILTERS, 3, strides=2, padding="same", use_bias=False,
        kernel_initializer=CONV_KERNEL_INITIALIZER, name="stem_conv",
    )(img_input)
    x = layers.BatchNormalization(
        axis=-1, epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name="stem_bn"
    )(x)
    x = layers.Activation(activation, name="stem_activation")(x)

    plan = block_plan(width_coefficient, depth_coefficient, blocks_args, depth_divisor)
    total = float(len(plan))
    for b, args in enumerate(plan):
        args = dict(args)
        x = block(
            x, activation=activation, drop_rate=drop_connect_rate * b / total,
            name=args.pop("name"), **args,
        )

    # Head (not scaled in Lite).
    x = layers.Conv2D(
        HEAD_FILTERS, 1, padding="same", use_bias=False,
        kernel_initializer=CONV_KERNEL_INITIALIZER, name="top_conv",
    )(x)
    x = layers.BatchNormalization(
        axis=-1, epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name="top_bn"
    )(x)
    x = layers.Activation(activation, name="top_activation")(x)

    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        x = layers.Dense(
            classes, activation=classifier_activation,
            kernel_initializer=DENSE_KERNEL_INITIALIZER, name="predictions",
        )(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    elif pooling is not None:
        raise ValueError(f"pooling must be None, 'avg' or 'max', got {pooling!r}")

    model = keras.Model(img_input, x, name=name)  # a functional model
    if weights is not None:
        model.load_weights(weights)
    return model


def _variant(variant, *, weights, include_top, input_shape, pooling, classes,
             classifier_activation, name):
    w, d, size, drop = VARIANTS[variant]
    return EfficientNetLite(
        w, d, size, drop, name=name, include_top=include_top, weights=weights,
        input_shape=input_shape, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation,
    )


def EfficientNetLite0(weights=None, *, include_top=True, input_shape=None, pooling=None,
                      classes=1000, classifier_activation="softmax",
                      name="efficientnet_lite0"):
    """EfficientNet-Lite0 (224x224)."""
    return _variant("lite0", weights=weights, include_top=include_top,
                    input_shape=input_shape, pooling=pooling, classes=classes,
                    classifier_activation=classifier_activation, name=name)


def EfficientNetLite1(weights=None, *, include_top=True, input_shape=None, pooling=None,
                      classes=1000, classifier_activation="softmax",
                      name="efficientnet_lite1"):
    """EfficientNet-Lite1 (240x240)."""
    return _variant("lite1", weights=weights, include_top=include_top,
                    input_shape=input_shape, pooling=pooling, classes=classes,
                    classifier_activation=classifier_activation, name=name)


def EfficientNetLite2(weights=None, *, include_top=True, input_shape=None, pooling=None,
                      classes=1000, classifier_activation="softmax",
                      name="efficientnet_lite2"):
    """EfficientNet-Lite2 (260x260)."""
    return _variant("lite2", weights=weights, include_top=include_top,
                    input_shape=input_shape, pooling=pooling, classes=classes,
                    classifier_activation=classifier_activation, name=name)


# --- the PyTorch state dict of the bundled weights, layer by layer ---------------------------

def _conv_kernel(w):
    """(out, in, kh, kw) -> Keras (kh, kw, in, out)."""
    return w.transpose(2, 3, 1, 0)


def _depthwise_kernel(w):
    """(C, 1, kh, kw) -> Keras (kh, kw, C, 1)."""
    return w.transpose(2, 3, 0, 1)


def _dense_kernel(w):
    """(out, in) -> Keras (in, out)."""
    return w.transpose(1, 0)


def _same(w):
    return w


def _bn(prefix):
    # Keras BatchNormalization weights, in order: gamma, beta, moving_mean, moving_variance.
    return [(f"{prefix}.weight", _same), (f"{prefix}.bias", _same), (f"{prefix}.running_mean", _same),
            (f"{prefix}.running_var", _same)]


def state_dict_layout(variant: str) -> dict[str, list]:
    """For each Keras layer with weights, the state-dict keys that fill it, in Keras's weight order,
    with the transpose each needs (the EfficientNet-PyTorch naming of the bundled `.pth` files)."""
    width, depth, _, _ = VARIANTS[variant]
    layout = {"stem_conv": [("_conv_stem.weight", _conv_kernel)], "stem_bn": _bn("_bn0")}
    for index, args in enumerate(block_plan(width, depth)):
        name, prefix = args["name"], f"_blocks.{index}"
        if args["expand_ratio"] != 1:
            layout[f"{name}expand_conv"] = [(f"{prefix}._expand_conv.weight", _conv_kernel)]
            layout[f"{name}expand_bn"] = _bn(f"{prefix}._bn0")
        layout[f"{name}dwconv"] = [(f"{prefix}._depthwise_conv.weight", _depthwise_kernel)]
        layout[f"{name}bn"] = _bn(f"{prefix}._bn1")
        layout[f"{name}project_conv"] = [(f"{prefix}._project_conv.weight", _conv_kernel)]
        layout[f"{name}project_bn"] = _bn(f"{prefix}._bn2")
    layout["top_conv"] = [("_conv_head.weight", _conv_kernel)]
    layout["top_bn"] = _bn("_bn1")
    layout["predictions"] = [("_fc.weight", _dense_kernel), ("_fc.bias", _same)]
    return layout
