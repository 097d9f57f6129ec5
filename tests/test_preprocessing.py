"""Each registry model's preprocessing equals keras.applications.<module>.preprocess_input, or,
for the EfficientNet-Lite weights, the TF-Lite recipe they were trained with."""

import importlib

import numpy as np
import pytest
from PIL import Image

from plugin.engine.inference.preprocessing import image_to_array, preprocess
from plugin.engine.models.registry import MODELS
from plugin.errors import InvalidInputError


def keras_preprocess_input(spec):
    if spec.module.startswith("keras.applications."):
        return importlib.import_module(spec.module).preprocess_input
    from keras.applications import imagenet_utils  # AlexNet: the Caffe reference model's convention

    return lambda x: imagenet_utils.preprocess_input(x, mode="caffe")


@pytest.mark.parametrize("name", [name for name, spec in MODELS.items() if spec.preprocessing != "lite"])
def test_preprocessing_equals_keras_preprocess_input(name):
    spec = MODELS[name]
    rng = np.random.default_rng(0)
    batch = rng.uniform(0, 255, (2, *spec.input_shape)).astype(np.float32)
    expected = np.asarray(keras_preprocess_input(spec)(batch.copy()))
    ours = preprocess(batch, spec.preprocessing)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-4)
    assert not np.shares_memory(ours, batch)


def test_lite_mode_is_the_tflite_recipe():
    """efficientnet_lite_builder.py: MEAN_RGB = 127.0, STDDEV_RGB = 128.0, on RGB pixels."""
    batch = np.random.default_rng(1).uniform(0, 255, (2, 4, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(preprocess(batch, "lite"), (batch - 127.0) / 128.0, rtol=1e-6)
    assert {MODELS[f"EfficientNetLite{n}"].preprocessing for n in range(3)} == {"lite"}


def test_custom_modes():
    x = np.array([[[[0.0, 127.5, 255.0]]]], dtype=np.float32)
    np.testing.assert_allclose(preprocess(x, "rescale"), x / 255.0)
    np.testing.assert_allclose(preprocess(x, "none"), x)


def test_unknown_mode_and_grayscale_caffe_are_errors():
    with pytest.raises(InvalidInputError, match=r"one of \['caffe'"):
        preprocess(np.zeros((1, 2, 2, 3)), "imagenet")
    with pytest.raises(InvalidInputError, match="3 colour channels"):
        preprocess(np.zeros((1, 2, 2, 1)), "caffe")


def test_image_to_array_resizes_whole_image_to_height_and_width():
    image = Image.new("RGB", (300, 100), (10, 20, 30))
    array = image_to_array(image, (227, 200))
    assert array.shape == (227, 200, 3) and array.dtype == np.float32
    assert tuple(array[0, 0]) == (10.0, 20.0, 30.0)
    gray = image_to_array(image, (32, 32), channels=1)
    assert gray.shape == (32, 32, 1)
