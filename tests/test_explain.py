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


def heat_on_photo(result, size) -> np.ndarray:
    """The heat map placed back on the photo (`size`), over the region the model saw; 0 elsewhere."""
    left, top, right, bottom = (round(value) for value in result["region"]["box"])
    grid = np.asarray(result["heatmap"], dtype=np.float32)
    heat = np.zeros((size[1], size[0]), dtype=np.float32)
    heat[top:bottom, left:right] = np.asarray(Image.fromarray(grid, mode="F").resize((right - left, bottom - top),
                                                                                     Image.Resampling.BILINEAR))
    return heat


def hot_share(result, size, box) -> float:
    """The share of the heat where the map is at least half its peak that lies inside the box."""
    heat = heat_on_photo(result, size)
    hot = np.where(heat >= 0.5 * heat.max(), heat, 0.0)
    left, top, right, bottom = box
    return float(hot[top:bottom, left:right].sum() / hot.sum())


@pytest.mark.parametrize("model", ["EfficientNetLite0", "EfficientNetLite1", "EfficientNetLite2"])
def test_most_of_the_heat_lies_on_the_animal(model):
    dog = plugin.explain_image(DOG, model)
    cat = plugin.explain_image(CAT, model)
    dog_area = (DOG_BOX[2] - DOG_BOX[0]) * (DOG_BOX[3] - DOG_BOX[1]) / (768 * 576)
    assert hot_share(dog, (768, 576), DOG_BOX) > 0.6 > 3 * dog_area  # the dog is a sixth of the photo
    assert hot_share(cat, (451, 300), CAT_FACE) > 0.9
    assert dog["class"]["index"] in range(151, 269) and cat["class"]["index"] in range(281, 286)


def test_the_heat_map_covers_the_region_the_model_saw_and_the_overlay_lines_up_with_it():
    cropped, whole = (plugin.explain_image(DOG, "EfficientNetLite0", resize=resize) for resize in ("crop", "whole"))
    # Lite0 sees the centre 0.875 of the shorter side: 504 x 504 of the 768 x 576 photo, centred
    assert cropped["region"]["box"] == [132.0, 36.0, 636.0, 540.0] and cropped["region"]["resize"] == "crop"
    assert whole["region"]["box"] == [0.0, 0.0, 768.0, 576.0] and whole["region"]["left_out"] == 0.0
    assert hot_share(cropped, (768, 576), DOG_BOX) > 0.6
    with Image.open(cropped["overlay_path"]) as picture:  # 640 x 480: the photo at 640 / 768
        pixels = np.asarray(picture.convert("RGB"), dtype=np.int16)
    scale = 640 / 768
    left, top, right, bottom = (round(value * scale) for value in cropped["region"]["box"])
    assert (pixels[top + 10, left] >= 250).all() and (pixels[bottom - 1, right - 20] >= 250).all()  # the white frame
    outside, inside = pixels[:, : left - 5], pixels[:, left + 5: right - 5]
    assert outside.mean() < 0.6 * inside.mean()  # what the model did not see is dimmed
    hot = heat_on_photo(cropped, (768, 576)) >= 0.8
    hot_rows, hot_columns = np.nonzero(hot)
    y, x = round(hot_rows.mean() * scale), round(hot_columns.mean() * scale)
    assert pixels[y, x, 0] > pixels[y, x, 2]  # where the map is hot, the overlay is red, not blue


def test_the_result_contract_and_the_overlay_picture():
    result = plugin.explain_image(CAT, "EfficientNetLite0")
    assert set(result) == {"model", "method", "method_title", "class_specific", "class", "target", "answer", "is_answer",
                           "layer", "layer_reason", "backend", "heatmap", "region", "seconds", "overlay_path"}
    assert result["method"] == "gradcam" and result["is_answer"] and result["layer_reason"] == "last_feature_map"
    assert set(result["class"]) == {"index", "label", "label_ko", "probability"}
    assert result["target"] == "answer" and result["answer"] == result["class"]
    assert result["class"]["label_ko"] in ("이집트 고양이", "호랑이무늬 고양이", "얼룩 고양이") and result["layer"] == "top_activation"
    grid = np.asarray(result["heatmap"])
    assert grid.shape == (7, 7) and grid.min() >= 0 and grid.max() == 1.0
    assert all(value == round(value, 2) for value in grid.ravel())
    overlay = Path(result["overlay_path"])
    assert overlay.is_relative_to(plugin.get_settings().output_dir) and overlay.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(overlay) as picture:
        assert picture.size == (451, 300)


def test_the_models_own_answer_by_default_the_right_answer_or_a_given_class_when_asked():
    answer = plugin.explain_image(CAT, "EfficientNetLite0", expected="tabby")
    assert answer["target"] == "answer" and answer["class"] == answer["answer"]  # expected alone does not change the class
    asked = plugin.explain_image(CAT, "EfficientNetLite0", expected="tabby", target="expected")
    assert asked["class"]["index"] == 281 and asked["target"] == "expected" and asked["answer"] == answer["answer"]
    given = plugin.explain_image(CAT, "EfficientNetLite0", 282)
    assert given["class"]["index"] == 282 and given["class"]["label_ko"] == "호랑이무늬 고양이" and given["target"] == "class"
    cat_in_dog = plugin.explain_image(DOG, "EfficientNetLite0", expected="cat", target="expected")
    assert cat_in_dog["class"]["group"] == "cat" and cat_in_dog["class"]["classes"] == 13  # the whole group, summed
    assert cat_in_dog["class"]["index"] is None and cat_in_dog["answer"]["index"] in range(151, 269) and not cat_in_dog["is_answer"]
    with pytest.raises(plugin.InvalidInputError, match="expected"):
        plugin.explain_image(CAT, "EfficientNetLite0", target="expected")


def test_captions_name_the_class_explained_and_whether_it_is_the_models_answer():
    asked = plugin.explain_image(DOG, "EfficientNetLite0", expected="beagle", target="expected")
    korean, english = plugin.api.gradcam_caption(asked, "ko"), plugin.api.gradcam_caption(asked, "en")
    answer = plugin.api.display_name(asked["answer"], "ko")
    assert korean.startswith("EfficientNetLite0: 정답 비글 (beagle)을 찾은 곳") and f"모델의 답은 {answer}" in korean
    assert "where it found the right answer, beagle" in english
    own = plugin.explain_image(DOG, "EfficientNetLite0")
    assert plugin.api.gradcam_caption(own, "ko").startswith(f"EfficientNetLite0의 답 {answer}")


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


def test_a_model_files_layer_is_said_and_can_be_chosen(stripe_model_files, tmp_path):
    import keras

    image = save_png(stripes("vertical", size=96, seed=3), tmp_path / "vertical.png")
    own = {"model_path": stripe_model_files["keras"], "class_names": STRIPE_CLASSES, "preprocessing": "rescale"}
    default = plugin.explain_image(image, **own)
    assert default["layer_reason"] == "last_feature_map"
    first = keras.models.load_model(stripe_model_files["keras"]).layers[0].name  # the first convolution, finer
    chosen = plugin.explain_image(image, method="layercam", layer=first, **own)
    assert chosen["layer"] == first and chosen["layer_reason"] == "asked"
    assert np.asarray(chosen["heatmap"]).shape[0] > np.asarray(default["heatmap"]).shape[0]
    with pytest.raises(plugin.InvalidInputError, match=default["layer"]):  # the candidates are named
        plugin.explain_image(image, layer="not_a_layer", **own)


def test_random_weights_need_permission():
    with pytest.raises(plugin.InvalidInputError, match="allow_random_weights"):
        plugin.explain_image(CAT, "AlexNet", weights="random")


def test_the_tool_explains_and_refuses_without_a_model():
    result = call_tool("explain_prediction", {"image": str(DOG), "model": "EfficientNetLite0"})
    assert result["class"]["index"] in range(151, 269) and result["region"]["resize"] == "crop"
    assert call_tool("explain_prediction", {"image": str(DOG)})["error"]["type"] == "InvalidArguments"
