"""The inside views' engine: the first convolution's kernels, trained weights against untrained, and
the photo's feature maps (plugin/engine/inside/kernels.py, histograms.py, feature_maps.py), with
EfficientNet-Lite's real ImageNet weights; VGG16 and ResNet50 with random weights, for their
structure and for how long their feature maps take."""

from __future__ import annotations

import time

import keras
import numpy as np
import pytest

from plugin import words
from plugin.config import EXAMPLES_DIR
from plugin.engine.inference.prepared import load_registry_model, prepare_batch
from plugin.engine.inside import feature_maps, histograms, kernels
from plugin.errors import InvalidInputError

DOG = EXAMPLES_DIR / "dog_bicycle.jpg"


def built(name: str, weights: str):
    prepared = load_registry_model(name, weights, backend="keras")
    return prepared, prepared.runner.model


@pytest.fixture(scope="module")
def lite0():
    prepared, model = built("EfficientNetLite0", "imagenet")
    return model, prepare_batch([DOG], prepared)


@pytest.fixture(scope="module")
def resnet50():
    prepared, model = built("ResNet50", "random")
    return model, prepare_batch([DOG], prepared)


@pytest.fixture(scope="module")
def vgg16():
    prepared, model = built("VGG16", "random")
    return model, prepare_batch([DOG], prepared)


# ----- the filters ----------------------------------------------------------------------------

@pytest.mark.parametrize(("fixture", "layer", "shape"), [
    ("lite0", "stem_conv", [3, 3, 3, 32]),
    ("vgg16", "block1_conv1", [3, 3, 3, 64]),
    ("resnet50", "conv1_conv", [7, 7, 3, 64]),
])
def test_the_first_layers_kernels_are_every_filter_of_the_first_convolution(fixture, layer, shape, request):
    model, _ = request.getfixturevalue(fixture)
    assert kernels.first_convolution(model) == layer
    view, array = kernels.kernel_view(model, layer)
    assert view["layer"] == layer and view["kind"] == "conv" and view["shape"] == shape
    assert view["shown"] == list(range(shape[-1])) and array.shape == tuple(shape) and array.dtype == np.float32
    weights = keras.ops.convert_to_numpy(model.get_layer(layer).kernel)
    np.testing.assert_array_equal(array, weights)
    assert view["scale"] == pytest.approx(float(np.abs(weights).max()))


def test_a_depthwise_kernel_is_one_spatial_kernel_per_channel_the_strongest_shown(lite0):
    model, _ = lite0
    view, array = kernels.kernel_view(model, "block1a_dwconv", shown=8)
    weights = keras.ops.convert_to_numpy(model.get_layer("block1a_dwconv").kernel)  # (3, 3, 32, 1)
    assert view["kind"] == "depthwise" and view["shape"] == [3, 3, 32, 1] and array.shape == (3, 3, 1, 8)
    norms = np.sqrt((weights ** 2).sum(axis=(0, 1, 3)))
    assert view["shown"] == sorted(np.argsort(-norms)[:8].tolist())  # the 8 of largest norm, in channel order
    for tile, channel in enumerate(view["shown"]):
        np.testing.assert_array_equal(array[:, :, 0, tile], weights[:, :, channel, 0])
    assert view["scale"] == pytest.approx(float(np.abs(array).max()))


# ----- trained against untrained --------------------------------------------------------------

@pytest.mark.parametrize("name", ["EfficientNetLite0", "EfficientNetLite1", "EfficientNetLite2"])
def test_trained_first_layer_weights_spread_wider_and_sit_elsewhere_than_freshly_initialised(name):
    _, model = built(name, "imagenet")
    pair = histograms.weight_histograms(model, kernels.first_convolution(model))
    trained, untrained = pair["trained"], pair["untrained"]
    # what the Lite builder draws: He-style truncated normal on fan-out, std sqrt(2 / (3 * 3 * 32))
    assert pair["initializer"] == "VarianceScaling (scale 2.0, fan_out, truncated_normal)"
    assert untrained["std"] == pytest.approx(np.sqrt(2 / 288), rel=0.05) and untrained["count"] == trained["count"] == 864
    assert trained["std"] > 5 * untrained["std"]
    assert trained["max"] - trained["min"] > 10 * (untrained["max"] - untrained["min"])
    assert abs(trained["mean"] - untrained["mean"]) > 3 * untrained["std"] / np.sqrt(untrained["count"])
    # on the same bins: the untrained weights crowd a few around zero, the trained ones fill the range
    assert len(pair["bins"]) == 61 and sum(pair["trained_counts"]) == sum(pair["untrained_counts"]) == 864
    occupied = [sum(count > 0 for count in pair[key]) for key in ("trained_counts", "untrained_counts")]
    assert occupied[0] > 4 * occupied[1]
    assert histograms.weight_histograms(model, "stem_conv")["untrained_counts"] == pair["untrained_counts"]  # a fixed seed


def test_the_stems_batch_norm_comes_with_its_trained_scale_and_shift(lite0):
    model, _ = lite0
    norm = histograms.weight_histograms(model, "stem_conv")["batch_norm"]
    assert norm is not None and norm["layer"] == "stem_bn"
    gamma, beta = norm["gamma"], norm["beta"]
    assert gamma["count"] == beta["count"] == 32
    # trained away from their start (gamma 1, beta 0)
    assert gamma["std"] > 0.5 and beta["std"] > 0.5 and gamma["mean"] != pytest.approx(1.0, abs=0.1)
    np.testing.assert_allclose(gamma["mean"], keras.ops.convert_to_numpy(model.get_layer("stem_bn").gamma).mean(), rtol=1e-5)


def test_the_initialiser_is_named_as_keras_names_it_and_a_layer_without_batch_norm_has_none(lite0, vgg16, resnet50):
    plain = histograms.weight_histograms(vgg16[0], "block1_conv1")
    assert plain["initializer"] == "GlorotUniform" and plain["batch_norm"] is None
    residual = histograms.weight_histograms(resnet50[0], "conv1_conv")
    assert residual["initializer"] == "GlorotUniform" and residual["batch_norm"]["layer"] == "conv1_bn"
    # random weights: trained and untrained are draws of the same initialiser
    assert residual["trained"]["std"] == pytest.approx(residual["untrained"]["std"], rel=0.05)
    depthwise = histograms.weight_histograms(lite0[0], "block1a_dwconv")
    assert depthwise["initializer"].startswith("VarianceScaling") and depthwise["batch_norm"]["layer"] == "block1a_bn"


# ----- feature maps ---------------------------------------------------------------------------

def test_the_default_layers_are_the_first_activation_and_each_stages_end(lite0, resnet50, vgg16):
    assert feature_maps.default_layers(resnet50[0], "ResNet") == [
        ("conv1_relu", "conv1"), ("conv2_block3_out", "conv2_x"), ("conv3_block4_out", "conv3_x"),
        ("conv4_block6_out", "conv4_x"), ("conv5_block3_out", "conv5_x")]
    assert feature_maps.default_layers(vgg16[0], "VGG") == [("block1_conv1", None)] + [
        (f"block{i}_pool", f"block{i}") for i in range(1, 6)]
    assert feature_maps.default_layers(lite0[0], "EfficientNet-Lite") == [
        ("stem_activation", "stem"), ("block1a_project_bn", "block1"), ("block2b_add", "block2"),
        ("block3b_add", "block3"), ("block4c_add", "block4"), ("block5c_add", "block5"), ("block6d_add", "block6"),
        ("block7a_project_bn", "block7")]
    # a model file: one stage per resolution
    # a model file: one stage per resolution, whose padding layers (230 x 230, 114 x 114) are no map
    generic = feature_maps.default_layers(resnet50[0], None)
    assert generic[0] == ("conv1_relu", "stage 2 (112x112)") and generic[-1][0] == "conv5_block3_out"
    assert not any(name.endswith("_pad") for name, _ in generic)


def test_lite0s_feature_maps_are_the_models_own_most_active_channels_non_blank_and_different(lite0):
    model, batch = lite0
    layers = feature_maps.default_layers(model, "EfficientNet-Lite")
    fields = {"stem_activation": {"size": 3, "stride": 2, "start": 0.5}}
    maps, arrays = feature_maps.feature_maps(model, batch, layers, top=16, fields=fields)
    assert [entry["layer"] for entry in maps] == [name for name, _ in layers]
    assert maps[0]["receptive_field"] == fields["stem_activation"] and maps[1]["receptive_field"] is None
    check = keras.Model(model.inputs[0], model.get_layer("block3b_add").output)(batch)[0].numpy()
    for entry, array in zip(maps, arrays):
        assert array.dtype == np.float32 and array.shape == (*entry["output_shape"][:2], 16)
        assert len(entry["channels"]) == 16 and entry["means"] == sorted(entry["means"], reverse=True)
        np.testing.assert_allclose(array.mean(axis=(0, 1)), entry["means"], rtol=1e-4, atol=1e-4)
        assert all(array[..., tile].std() > 1e-3 for tile in range(16))  # every tile shows something
        if entry["layer"] == "block3b_add":
            np.testing.assert_allclose(array, check[..., entry["channels"]], rtol=1e-4, atol=1e-4)
            assert entry["means"][0] == pytest.approx(float(check.mean(axis=(0, 1)).max()), rel=1e-4)
    # the stem (112 x 112) and block1 (112 x 112): the same resolution, different pictures
    assert maps[0]["output_shape"][:2] == maps[1]["output_shape"][:2] == [112, 112]
    first, second = (array[..., 0].ravel() for array in arrays[:2])
    assert abs(np.corrcoef(first, second)[0, 1]) < 0.9
    assert [entry["output_shape"][0] for entry in maps] == [112, 112, 56, 28, 14, 14, 7, 7]
    # ReLU6 after the stem; the blocks end on a linear projection (and its addition): said, and so
    assert maps[0]["after_relu"] and maps[0]["activation"] == "stem_activation (ReLU6)"
    assert arrays[0].min() >= 0 and arrays[0].max() <= 6
    assert not any(entry["after_relu"] for entry in maps[1:]) and maps[2]["activation"] == "block2b_add (no ReLU)"
    assert any(array.min() < 0 for array in arrays[1:])
    every, arrays_all = feature_maps.feature_maps(model, batch, [("stem_activation", "stem")], top=16, fields=None,
                                                  all_channels=True)
    assert sorted(every[0]["channels"]) == list(range(32)) and arrays_all[0].shape == (112, 112, 32)


def test_every_map_comes_from_one_forward_pass(lite0, monkeypatch):
    model, batch = lite0
    stem = model.get_layer("stem_conv")
    calls = []
    original = stem.call
    monkeypatch.setattr(stem, "call", lambda *args, **kwargs: calls.append(1) or original(*args, **kwargs))
    layers = feature_maps.default_layers(model, "EfficientNet-Lite")
    maps, _ = feature_maps.feature_maps(model, batch, layers, top=4, fields={})
    assert len(maps) == 8 and len(calls) == 1


@pytest.mark.parametrize(("fixture", "family"), [("lite0", "EfficientNet-Lite"), ("resnet50", "ResNet"), ("vgg16", "VGG")])
def test_feature_maps_after_a_relu_say_so_and_every_stage_is_quick_warm(fixture, family, request):
    model, batch = request.getfixturevalue(fixture)
    layers = feature_maps.default_layers(model, family)
    feature_maps.feature_maps(model, batch, layers, top=16, fields={})  # warm
    started = time.perf_counter()
    maps, arrays = feature_maps.feature_maps(model, batch, feature_maps.default_layers(model, family), top=16, fields={})
    seconds = time.perf_counter() - started
    print(f"\n{model.name}: feature maps of {len(maps)} layers (every stage) for one photo, warm: {seconds:.3f} s")
    for entry, array in zip(maps, arrays):
        if entry["after_relu"]:
            assert array.min() >= 0, entry["activation"]
    said = {entry["layer"]: entry["activation"] for entry in maps}
    if family == "ResNet":
        assert all(entry["after_relu"] for entry in maps)
        assert said["conv1_relu"] == "conv1_relu" and said["conv2_block3_out"] == "conv2_block3_out (ReLU)"
    if family == "VGG":
        assert all(entry["after_relu"] for entry in maps)
        assert said["block1_conv1"] == "block1_conv1 (ReLU inside)"
        assert said["block3_pool"] == "block3_pool (after block3_conv3's ReLU)"


def test_relu_is_said_where_it_is_and_only_there():
    inputs = keras.Input((16, 16, 3))
    a = keras.layers.Conv2D(4, 3, padding="same", name="conv_a")(inputs)
    b = keras.layers.BatchNormalization(name="bn_a")(a)
    c = keras.layers.ReLU(name="relu_a")(b)
    d = keras.layers.MaxPooling2D(name="pool_a")(c)
    e = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_b")(d)
    f = keras.layers.Add(name="add")([d, e])
    g = keras.layers.Activation("swish", name="swish")(f)
    h = keras.layers.Conv2D(4, 1, activation="relu6", name="conv_c")(g)
    model = keras.Model(inputs, keras.layers.Concatenate(name="concat")([h, e]))
    maps, _ = feature_maps.feature_maps(model, np.random.default_rng(0).normal(size=(1, 16, 16, 3)).astype("float32"),
                                        [(name, None) for name in ("conv_a", "bn_a", "relu_a", "pool_a", "conv_b",
                                                                   "add", "swish", "conv_c", "concat")],
                                        top=2, fields=None)
    said = {entry["layer"]: (entry["after_relu"], entry["activation"]) for entry in maps}
    assert said == {
        "conv_a": (False, "conv_a (no ReLU)"), "bn_a": (False, "bn_a (no ReLU)"), "relu_a": (True, "relu_a"),
        "pool_a": (True, "pool_a (after relu_a)"), "conv_b": (True, "conv_b (ReLU inside)"),
        "add": (False, "add (no ReLU)"), "swish": (False, "swish (silu)"), "conv_c": (True, "conv_c (ReLU6 inside)"),
        "concat": (True, "concat (its inputs after a ReLU)")}
    # the first convolution's activated output: past its batch norm, at its ReLU
    assert feature_maps.default_layers(model, None)[0] == ("relu_a", "stage 1 (16x16)")


def test_an_unknown_layer_is_refused_with_layers_that_would_do(lite0):
    model, batch = lite0
    with pytest.raises(InvalidInputError) as caught:
        feature_maps.feature_maps(model, batch, [("block3_conv", None)], top=16, fields=None)
    error = caught.value
    choices = error.params["choices"].split(", ")
    assert error.key == "unknown_layer" and error.params["layer"] == "block3_conv"
    assert 1 <= len(choices) <= 5 and set(choices) <= set(feature_maps.map_layers(model))
    assert any(choice.startswith("block3") for choice in choices)
    korean = words.error_text(error, "ko")
    assert "block3_conv" in korean and choices[0] in korean and "층" in korean
    with pytest.raises(InvalidInputError) as flat:  # a layer without a feature map will not do either
        feature_maps.feature_maps(model, batch, [("predictions", None)], top=16, fields=None)
    assert flat.value.key == "unknown_layer"
    with pytest.raises(InvalidInputError) as pooled:  # nor a layer without kernels for the filters
        kernels.kernel_view(model, "block1a_bn")
    assert pooled.value.key == "unknown_layer" and "block1a_dwconv" in pooled.value.params["choices"]


def test_a_nested_models_convolution_is_found_and_a_model_without_one_is_refused():
    inner = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(5, 3, name="inner_conv"),
                              keras.layers.BatchNormalization(name="inner_bn")], name="inner")
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(inner(keras.layers.Rescaling(0.5)(inputs))))
    assert kernels.first_convolution(model) == "inner_conv"
    view, array = kernels.kernel_view(model, "inner_conv")
    assert view["shape"] == [3, 3, 3, 5] and array.shape == (3, 3, 3, 5)
    assert histograms.weight_histograms(model, "inner_conv")["batch_norm"]["layer"] == "inner_bn"
    flat = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(InvalidInputError) as caught:
        kernels.first_convolution(flat)
    assert caught.value.key == "no_convolution" and "합성곱 층" in words.error_text(caught.value, "ko")
