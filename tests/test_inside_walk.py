"""One patch walked through with its real numbers (plugin/engine/inside/walk.py) and the images that
maximise a channel (plugin/engine/inside/maximize.py): the walk must end at the model's own number,
the ascent must raise the channel's activation."""

from __future__ import annotations

import time

import keras
import numpy as np
import pytest

from plugin.config import EXAMPLES_DIR
from plugin.engine.inference.prepared import load_registry_model, prepare_batch
from plugin.engine.inference.preprocessing import MODES, preprocess
from plugin.engine.inside.maximize import _as_linear, maximize_filters
from plugin.engine.inside.walk import walk_patch
from plugin.errors import InvalidInputError
from plugin.limits import MAX_MAXIMIZE_CHANNELS

DOG = EXAMPLES_DIR / "dog_bicycle.jpg"
TOLERANCE = 1e-4


def outputs(model, batch, *names):
    """The model's own outputs at `names` for the first image, one pass."""
    found = keras.Model(model.inputs, [model.get_layer(name).output for name in names])([batch[:1]], training=False)
    return [np.asarray(value)[0] for value in (found if isinstance(found, (list, tuple)) else [found])]


@pytest.fixture(scope="module")
def lite0():
    prepared = load_registry_model("EfficientNetLite0", "imagenet", backend="keras")
    return prepared.runner.model, prepare_batch([DOG], prepared)


@pytest.fixture(scope="module")
def resnet50():
    """ResNet50's architecture (no weights offline), a copy of the cached model so that its stem's batch
    norm can be given real-looking statistics (random weights have mean 0, variance 1, scale 1, shift 0)."""
    prepared = load_registry_model("ResNet50", "random", backend="keras")
    keras.utils.set_random_seed(1)
    model = keras.models.clone_model(prepared.runner.model)
    rng = np.random.default_rng(1)
    bn = model.get_layer("conv1_bn")
    bn.set_weights([rng.uniform(0.5, 1.5, 64), rng.normal(0, 0.5, 64), rng.normal(0, 2, 64), rng.uniform(1, 40, 64)])
    return model, prepare_batch([DOG], prepared)


def small_model(*layers, size=16, seed=3):
    """A small functional model over a (size, size, 3) input with seeded weights, and a seeded batch in [-1, 1]."""
    inputs = keras.Input((size, size, 3))
    x = inputs
    for layer in layers:
        x = layer(x)
    model = keras.Model(inputs, x)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if layer.weights:
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape) if "variance" in w.path else rng.normal(0, 0.5, w.shape)
                               for w in layer.weights])
    return model, rng.uniform(-1, 1, (1, size, size, 3)).astype(np.float32)


def check_arithmetic(walk):
    """The walk's own numbers add up: products = patch x kernel, sum of products, conv = sum + bias,
    each step taking the value the one before gave."""
    patch, kernel, products = (np.array(walk[key]) for key in ("patch", "kernel", "products"))
    assert patch.shape == kernel.shape == products.shape
    np.testing.assert_allclose(products, patch * kernel, rtol=2e-6, atol=1e-9)  # to 7 significant digits
    assert walk["sum"] == pytest.approx(products.sum(), abs=np.abs(products).sum() * 1e-6)
    assert walk["conv"] == pytest.approx(walk["sum"] + walk["bias"], abs=1e-7)
    value = walk["conv"]
    for step in walk["steps"]:
        assert step["input"] == pytest.approx(value, abs=1e-7)
        assert abs(step["value"] - step["model_value"]) < TOLERANCE, step
        value = step["value"]
    assert walk["value"] == pytest.approx(value, abs=1e-7)
    assert walk["difference"] == pytest.approx(abs(walk["value"] - walk["model_value"]), abs=1e-7)
    assert walk["difference"] < TOLERANCE


# ----- the walk -------------------------------------------------------------------------------

def test_lite0_walk_on_the_dog_ends_at_the_models_own_value(lite0):
    model, batch = lite0
    walk = walk_patch(model, batch)
    conv, activated = outputs(model, batch, "stem_conv", "stem_activation")
    channel = int(np.argmax(activated.mean(axis=(0, 1))))
    assert walk["layer"] == "stem_conv" and walk["channel"] == channel
    assert activated[walk["cell"][0], walk["cell"][1], channel] == activated[..., channel].max()
    assert [step["name"] for step in walk["steps"]] == ["batch_norm", "activation"]
    bn, relu6 = walk["steps"]
    assert bn["layer"] == "stem_bn" and bn["epsilon"] == pytest.approx(1e-3) and bn["formula"] == "(x − μ) / √(σ² + ε) · γ + β"
    assert bn["value"] == pytest.approx((bn["input"] - bn["mean"]) / np.sqrt(bn["variance"] + bn["epsilon"]) * bn["gamma"] + bn["beta"])
    assert relu6["function"] == "relu6" and relu6["layer"] == "stem_activation"
    check_arithmetic(walk)
    assert walk["conv"] == pytest.approx(float(conv[walk["cell"][0], walk["cell"][1], channel]), abs=TOLERANCE)
    assert walk["model_layer"] == "stem_activation" and 0 < walk["model_value"] <= 6
    # the patch is the preprocessed photo itself: TF "same" padding of a 3x3 stride-2 convolution on 224 pads 0 before
    row, column = walk["cell"]
    np.testing.assert_allclose(walk["patch"], batch[0, 2 * row:2 * row + 3, 2 * column:2 * column + 3], atol=1e-6)
    assert np.array(walk["kernel"]) == pytest.approx(np.asarray(model.get_layer("stem_conv").kernel)[..., channel], abs=1e-6)


def test_lite0_walk_at_the_bottom_right_border_reads_the_padding_zeros(lite0):
    model, batch = lite0
    conv, activated = outputs(model, batch, "stem_conv", "stem_activation")
    channel = int(np.argmax(activated[111, 111]))  # the corner's most active channel: a value not clipped to 0
    walk = walk_patch(model, batch, cell=(111, 111), channel=channel)
    patch = np.array(walk["patch"])
    # 224 -> 112 with stride 2 pads one row and column after the image (TF's asymmetric "same"), none before
    assert np.all(patch[2] == 0) and np.all(patch[:, 2] == 0)
    np.testing.assert_allclose(patch[:2, :2], batch[0, 222:224, 222:224], atol=1e-6)
    check_arithmetic(walk)
    assert walk["conv"] == pytest.approx(float(conv[111, 111, channel]), abs=TOLERANCE)
    assert walk["model_value"] > 0


def test_resnet50_stem_walk_goes_through_padding_bn_relu_and_max_pool(resnet50):
    model, batch = resnet50
    walk = walk_patch(model, batch)
    assert walk["layer"] == "conv1_conv" and np.array(walk["patch"]).shape == (7, 7, 3)
    assert [(step["name"], step["layer"]) for step in walk["steps"]] == [
        ("batch_norm", "conv1_bn"), ("activation", "conv1_relu"), ("max_pool", "pool1_pool")]
    assert walk["steps"][1]["function"] == "relu"
    check_arithmetic(walk)
    pool = walk["steps"][2]
    window = np.array(pool["window"], dtype=float)
    assert window.shape == (3, 3) and pool["value"] == pytest.approx(window.max(), rel=1e-6)
    assert pool["walked_is_max"] and window[tuple(pool["position"])] == pytest.approx(walk["steps"][1]["value"], rel=1e-6)
    pooled, relu = outputs(model, batch, "pool1_pool", "conv1_relu")
    assert walk["model_layer"] == "pool1_pool"
    assert walk["model_value"] == pytest.approx(float(pooled[pool["pooled_cell"][0], pool["pooled_cell"][1], walk["channel"]]))
    # the window is the model's own ReLU output around the cell (ZeroPadding2D(1) before the 3x3/2 pool)
    top, left = pool["window_origin"]
    np.testing.assert_allclose(window, relu[top:top + 3, left:left + 3, walk["channel"]], atol=TOLERANCE)


def test_resnet50_corner_reads_zero_padding_and_the_pool_window_reaches_outside(resnet50):
    model, batch = resnet50
    conv, = outputs(model, batch, "conv1_conv")
    channel = int(np.argmax(conv[0, 0]))
    walk = walk_patch(model, batch, cell=(0, 0), channel=channel)
    patch = np.array(walk["patch"])
    # conv1_pad adds 3 zeros each side: the 7x7 window of cell (0, 0) starts 3 pixels before the image
    assert np.all(patch[:3] == 0) and np.all(patch[:, :3] == 0)
    np.testing.assert_allclose(patch[3:, 3:], batch[0, :4, :4], atol=1e-4)
    assert walk["conv"] == pytest.approx(float(conv[0, 0, channel]), rel=1e-5, abs=TOLERANCE)
    check_arithmetic(walk)
    pool = walk["steps"][2]
    assert pool["pooled_cell"] == [0, 0] and pool["window_origin"] == [-1, -1]
    assert pool["window"][0] == [0.0, 0.0, 0.0]  # pool1_pad's zeros


def test_same_padding_with_the_activation_inside_the_convolution_and_a_same_max_pool():
    model, batch = small_model(keras.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu", name="conv"),
                               keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool"))
    pooled, activated = outputs(model, batch, "pool", "conv")
    walked = 0
    for row, column in [(0, 0), (7, 7), (3, 5)]:
        for channel in range(4):
            walk = walk_patch(model, batch, cell=(row, column), channel=channel)
            assert [(step["name"], step["layer"]) for step in walk["steps"]] == [("activation", "conv"), ("max_pool", "pool")]
            check_arithmetic(walk)
            walked += walk["steps"][0]["value"] > 0
            if (row, column) == (7, 7):
                # 16 -> 8 with stride 2: one zero row and column after the image, none before
                patch = np.array(walk["patch"])
                assert np.all(patch[2] == 0) and np.all(patch[:, 2] == 0) and np.all(patch[:2, :2] != 0)
                # the "same" pool's window at the edge leaves the outside out (None), it is not a zero
                assert any(value is None for line in walk["steps"][1]["window"] for value in line)
    assert walked >= 3  # not every value was clipped to 0


def test_swish_after_a_rescaling_reads_the_patch_from_the_convolutions_own_input():
    model, batch = small_model(keras.layers.Rescaling(2.0, offset=0.5, name="rescale"),
                               keras.layers.Conv2D(3, 3, dilation_rate=2, name="conv"),
                               keras.layers.BatchNormalization(name="bn"), keras.layers.Activation("swish", name="act"))
    walk = walk_patch(model, batch, cell=(5, 4), channel=1)
    assert [step["name"] for step in walk["steps"]] == ["batch_norm", "activation"]
    assert walk["steps"][1]["function"] == "swish" and "σ" in walk["steps"][1]["formula"]
    check_arithmetic(walk)
    # dilation 2: rows 5, 7, 9 and columns 4, 6, 8 of the rescaled input
    np.testing.assert_allclose(walk["patch"], (batch[0] * 2.0 + 0.5)[5:10:2, 4:9:2], atol=1e-6)


def test_a_depthwise_first_convolution_walks_one_input_channel():
    model, batch = small_model(keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw"),
                               keras.layers.ReLU(6.0, name="relu6"))
    walk = walk_patch(model, batch, cell=(4, 4), channel=5)  # input channel 2, multiplier 1
    assert np.array(walk["patch"]).shape == (3, 3, 1)
    np.testing.assert_allclose(np.array(walk["patch"])[..., 0], batch[0, 3:6, 3:6, 2], atol=1e-6)
    assert walk["steps"][0]["function"] == "relu6"
    check_arithmetic(walk)


def test_a_cell_outside_the_first_convolutions_output_is_a_clear_error(lite0):
    model, batch = lite0
    with pytest.raises(InvalidInputError, match="112 x 112") as caught:
        walk_patch(model, batch, cell=(112, 0))
    assert caught.value.key == "inside_cell"
    with pytest.raises(InvalidInputError, match="0..31"):
        walk_patch(model, batch, channel=32)


# ----- the maximised filters -------------------------------------------------------------------

@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_preprocessing_mode_is_one_linear_map_per_pixel(mode):
    pixels = np.random.default_rng(0).uniform(0, 255, (5, 7, 3)).astype(np.float32)
    matrix, offset = _as_linear(mode, 3)
    np.testing.assert_allclose(pixels @ matrix + offset, preprocess(pixels, mode), rtol=1e-5, atol=1e-4)


def test_maximising_four_channels_of_a_lite0_mid_layer_raises_each_one(lite0):
    model, _ = lite0
    started = time.perf_counter()
    found, pictures = maximize_filters(model, "block4a_project_bn", [0, 1, 2, 3], seed=0, preprocessing="lite", steps=12)
    took = time.perf_counter() - started
    assert [entry["channel"] for entry in found] == [0, 1, 2, 3]
    for entry in found:
        assert entry["steps"] == 12 and entry["layer"] == "block4a_project_bn"
        assert entry["activation_end"] > entry["activation_start"] + 10, entry
        assert 0 < entry["seconds"] <= took
    assert len(pictures) == 4
    for picture in pictures:
        assert picture.dtype == np.uint8 and picture.shape == (174, 174, 3)  # 224 less keras.io's 25-pixel border
        assert picture.std() > 20 and len(np.unique(picture)) > 100  # a pattern, not a flat grey
    assert np.abs(pictures[0].astype(int) - pictures[1]).mean() > 10  # each channel wants its own picture


def test_maximising_is_repeatable_and_stops_at_the_time_budget(lite0):
    model, _ = lite0
    first, pictures = maximize_filters(model, "stem_activation", [5, 9], seed=7, preprocessing="lite", steps=3)
    again, same = maximize_filters(model, "stem_activation", [5, 9], seed=7, preprocessing="lite", steps=3)
    assert [entry["activation_end"] for entry in first] == [entry["activation_end"] for entry in again]
    assert all(np.array_equal(a, b) for a, b in zip(pictures, same))
    hurried, _ = maximize_filters(model, "stem_activation", [5], seed=7, preprocessing="lite", seconds=0.0)
    assert hurried[0]["steps"] == 1


def test_maximising_refuses_unknown_layers_and_too_many_channels(lite0):
    model, _ = lite0
    with pytest.raises(InvalidInputError) as caught:
        maximize_filters(model, "block9z_conv", [0])
    assert caught.value.key == "inside_maximize_layer"
    with pytest.raises(InvalidInputError, match="0..31"):
        maximize_filters(model, "stem_conv", [32])
    with pytest.raises(InvalidInputError):
        maximize_filters(model, "stem_conv", list(range(MAX_MAXIMIZE_CHANNELS + 1)))


def test_a_relu_channel_dead_on_grey_noise_is_climbed_through_its_input():
    """A channel at 0 everywhere has no gradient through its ReLU: the ascent climbs the convolution's
    own sum before it, and the activation reported (the layer's own) comes alive."""
    model, _ = small_model(keras.layers.Conv2D(2, 3, activation="relu", name="conv"), size=32)
    kernel, bias = model.get_layer("conv").get_weights()
    model.get_layer("conv").set_weights([np.abs(kernel), np.full(2, -5.0, dtype=np.float32)])
    found, pictures = maximize_filters(model, "conv", [0, 1], steps=30, border=4)
    assert [entry["activation_start"] for entry in found] == [0.0, 0.0]
    assert all(entry["activation_end"] > 1.0 for entry in found), found
    assert pictures[0].shape == (24, 24, 3)
