"""Grad-CAM with the real weights: the heat lies on the animal (boxes marked by hand), for the
predicted, the expected or a given class; any model, a model file included; the tool and MCP."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import plugin
from plugin.config import EXAMPLES_DIR
from plugin.doors.tools import call_tool
from plugin.engine.study.explain import last_conv_layer
from tests.conftest import STRIPE_CLASSES, save_png, stripes

CAT, DOG = EXAMPLES_DIR / "cat_chelsea.png", EXAMPLES_DIR / "dog_bicycle.jpg"
# Marked by hand on the photos: the cat's face (451 x 300) and the whole dog (768 x 576), as (left, top, right, bottom).
CAT_FACE, DOG_BOX = (90, 20, 370, 300), (110, 215, 320, 550)


def hot_share(heatmap, size, box) -> float:
    """The share of the heat where the map is at least half its peak that lies inside the box."""
    grid = np.asarray(heatmap, dtype=np.float32)
    heat = np.asarray(Image.fromarray(grid, mode="F").resize(size, Image.Resampling.BILINEAR))
    hot = np.where(heat >= 0.5 * heat.max(), heat, 0.0)
    left, top, right, bottom = box
    return float(hot[top:bottom, left:right].sum() / hot.sum())


@pytest.mark.parametrize("model", ["EfficientNetLite0", "EfficientNetLite1", "EfficientNetLite2"])
def test_most_of_the_heat_lies_on_the_animal(model):
    dog = plugin.explain_image(DOG, model)
    cat = plugin.explain_image(CAT, model)
    dog_area = (DOG_BOX[2] - DOG_BOX[0]) * (DOG_BOX[3] - DOG_BOX[1]) / (768 * 576)
    assert hot_share(dog["heatmap"], (768, 576), DOG_BOX) > 0.6 > 3 * dog_area  # the dog is a sixth of the photo
    assert hot_share(cat["heatmap"], (451, 300), CAT_FACE) > 0.9
    assert dog["class"]["index"] in range(151, 269) and cat["class"]["index"] in range(281, 286)


def test_the_result_contract_and_the_overlay_picture():
    result = plugin.explain_image(CAT, "EfficientNetLite0")
    assert set(result) == {"model", "class", "layer", "heatmap", "overlay_path"}
    assert set(result["class"]) == {"index", "label", "label_ko", "probability"}
    assert result["class"]["label_ko"] == "이집트 고양이" and result["layer"] == "top_activation"
    grid = np.asarray(result["heatmap"])
    assert grid.shape == (7, 7) and grid.min() >= 0 and grid.max() == 1.0
    assert all(value == round(value, 2) for value in grid.ravel())
    overlay = Path(result["overlay_path"])
    assert overlay.is_relative_to(plugin.get_settings().output_dir) and overlay.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(overlay) as picture:
        assert picture.size == (451, 300)


def test_the_expected_or_a_given_class_is_explained():
    assert plugin.explain_image(CAT, "EfficientNetLite0", expected="tabby")["class"]["index"] == 281
    given = plugin.explain_image(CAT, "EfficientNetLite0", 282)
    assert given["class"]["index"] == 282 and given["class"]["label_ko"] == "호랑이무늬 고양이"
    assert plugin.explain_image(DOG, "EfficientNetLite0", expected="cat")["class"]["index"] in range(281, 286)


@pytest.mark.parametrize(("name", "layer"), [("VGG16", "block5_conv3"), ("ResNet50", "conv5_block3_out"), ("AlexNet", "conv5"),
                                             ("MobileNetV2", "out_relu"), ("DenseNet121", "relu"), ("InceptionV3", "mixed10")])
def test_the_last_convolutional_layer_is_found_per_architecture(name, layer, keras_models):
    assert last_conv_layer(keras_models(name)) == layer


def test_a_model_file_of_ones_own_is_explained(stripe_model_files, tmp_path):
    image = save_png(stripes("vertical", size=96, seed=3), tmp_path / "vertical.png")
    result = plugin.explain_image(image, model_path=stripe_model_files["keras"], class_names=STRIPE_CLASSES,
                                  preprocessing="rescale")
    assert result["model"] == "stripes.keras" and result["class"]["label"] == "vertical" and result["class"]["label_ko"] is None
    assert np.asarray(result["heatmap"]).ndim == 2


def test_random_weights_need_permission():
    with pytest.raises(plugin.InvalidInputError, match="allow_random_weights"):
        plugin.explain_image(CAT, "AlexNet", weights="random")


def test_the_tool_explains_and_refuses_without_a_model():
    result = call_tool("explain_prediction", {"image": str(DOG), "model": "EfficientNetLite0"})
    assert result["class"]["label"] == "German_shepherd"
    assert call_tool("explain_prediction", {"image": str(DOG)})["error"]["type"] == "InvalidArguments"
