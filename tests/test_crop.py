"""Photos reach each model as it was evaluated (its protocol's centre crop) unless "whole" is asked:
the documented boxes, the option in every door, a subject at the edge of a panorama flagged, and the
preprocessing experiment showing both regions (with the real EfficientNet-Lite weights)."""

import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import plugin
from plugin.config import EXAMPLES_DIR
from plugin.doors.tools import call_tool
from plugin.engine.inference.options import RunOptions
from plugin.engine.inference.preprocessing import framing, image_to_array
from plugin.engine.models.registry import MODELS
from plugin.errors import InvalidInputError

DOG = EXAMPLES_DIR / "dog_bicycle.jpg"  # 768 x 576, the dog at the lower left
DOG_BOX = (110, 215, 320, 550)
DOGS = range(151, 269)


def box(name: str, width: int, height: int, resize: str = "crop") -> list[float]:
    spec = MODELS[name]
    cut = framing(width, height, spec.input_size, resize=resize, crop_fraction=spec.protocol.crop_fraction,
                  interpolation=spec.protocol.interpolation)
    return [round(value, 1) for value in cut.box]


def test_each_model_is_cut_as_its_published_accuracy_was_measured():
    # Keras Applications: shorter side to 256, centre 224 (0.875); EfficientNet-Lite: size / (size + 32); bicubic
    assert MODELS["VGG16"].protocol.crop_fraction == 224 / 256 and MODELS["ResNet50"].protocol.interpolation == "bicubic"
    assert [MODELS[f"EfficientNetLite{n}"].protocol.crop_fraction for n in range(3)] == [224 / 256, 240 / 272, 260 / 292]
    assert box("EfficientNetLite0", 768, 576) == [132.0, 36.0, 636.0, 540.0]  # 504 = 0.875 x 576, centred
    assert box("EfficientNetLite2", 768, 576) == [127.6, 31.6, 640.4, 544.4]
    assert box("VGG16", 300, 800) == [18.8, 268.8, 281.2, 531.2]  # a portrait: the square in its middle
    assert box("VGG16", 768, 576, "whole") == [0.0, 0.0, 768.0, 576.0]
    assert plugin.list_models()["models"][0]["protocol"] == {"crop_fraction": 0.875, "interpolation": "bicubic",
                                                               "source_key": "keras_protocol"}


def test_the_crop_hands_the_model_exactly_the_pixels_of_its_box():
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 255, (256, 512, 3), dtype=np.uint8))
    cut = framing(512, 256, (224, 224), resize="crop", crop_fraction=0.875, interpolation="bicubic")
    assert cut.box == (144.0, 16.0, 368.0, 240.0)  # 0.875 x 256 = 224: no resampling at all
    np.testing.assert_array_equal(image_to_array(photo, (224, 224), 3, cut), np.asarray(photo.crop((144, 16, 368, 240))))
    whole = image_to_array(photo, (224, 224), 3)  # no framing: the whole photo squashed, as before
    np.testing.assert_array_equal(whole, np.asarray(photo.resize((224, 224), Image.Resampling.BILINEAR), dtype=np.float32))
    assert round(cut.left_out, 4) == round(1 - 224 * 224 / (512 * 256), 4) and cut.describe()["warning"] is True


def test_a_wrong_resize_is_refused_with_the_choices():
    with pytest.raises(InvalidInputError, match=r"Expected resize to be one of \['crop', 'whole'\]. Received: 'squash'"):
        RunOptions(resize="squash")
    with pytest.raises(InvalidInputError, match="resize"):
        plugin.classify_image(DOG, models=["EfficientNetLite0"], resize="centre")
    assert call_tool("classify_image", {"image": str(DOG), "resize": "squash"})["error"]["type"] == "InvalidArguments"


def panorama(tmp_path: Path) -> Path:
    """The example photo's dog at the left edge of a 3:1 panorama of the porch."""
    photo = Image.open(DOG).convert("RGB")
    wide = Image.new("RGB", (1728, 576), (200, 196, 180))
    wide.paste(photo.crop((0, 0, 480, 576)), (0, 0))  # the dog and the front wheel, at the edge
    path = tmp_path / "panorama.jpg"
    wide.save(path, quality=92)
    return path


def test_a_dog_at_the_edge_of_a_panorama_is_not_lost_silently(tmp_path):
    path = panorama(tmp_path)
    cropped = plugin.classify_image(path, models=["EfficientNetLite0"])["results"][0]
    region = cropped["region"]
    assert region["resize"] == "crop" and region["box"][0] > 480  # the centre square never reaches the dog
    assert region["left_out"] > 0.7 and region["warning"] is True  # ... and the result says so
    whole = plugin.classify_image(path, models=["EfficientNetLite0"], resize="whole")["results"][0]
    assert whole["region"] == {"resize": "whole", "box": [0.0, 0.0, 1728.0, 576.0], "interpolation": "bilinear",
                               "crop_fraction": 1.0, "left_out": 0.0, "warning": False}
    korean = plugin.api.classification_view(plugin.classify_image(path, models=["EfficientNetLite0"]), "ko")
    assert korean["region_warning"] and "잘려서 보지 않았습니다" in korean["region"] and "사진 전체" in korean["region"]
    files = plugin.make_report("classification", "ko", image=str(path), models=["EfficientNetLite0"])
    page = Path(files["path"]).read_text("utf-8")
    assert 'class="warning" id="region"' in page and "사진의 74%는 잘려서 보지 않았습니다" in page


def test_an_off_centre_dog_keeps_its_answer_in_every_lite_model_and_a_4_3_photo_is_not_warned_about():
    result = plugin.classify_image(DOG, models=["EfficientNetLite0", "EfficientNetLite1", "EfficientNetLite2"])
    for outcome in result["results"]:
        assert outcome["predictions"][0]["index"] in DOGS and outcome["verdict"]["label"] == "dog"
        region = outcome["region"]
        assert region["resize"] == "crop" and 0.40 < region["left_out"] < 0.43 and region["warning"] is False
    view = plugin.api.classification_view(result, "ko")  # the share is said plainly, with no warning
    assert view["region"] == "모델이 본 곳: 짧은 변의 87.5%만큼 가운데를 잘라 낸 부분 (사진의 43%는 보지 않았습니다)."
    assert not view["region_warning"]


@pytest.mark.parametrize(("size", "warned"), [((1500, 1000), False), ((1600, 900), True), ((900, 1600), True),
                                              ((1000, 1000), False)])
def test_a_warning_where_the_shape_alone_leaves_out_more_than_a_third_of_the_long_side(size, warned):
    """3:2 leaves a third of its long side out to a square (not more), 16:9 (either way up) 44 %."""
    spec = MODELS["EfficientNetLite0"]
    cut = framing(*size, spec.input_size, resize="crop", crop_fraction=spec.protocol.crop_fraction, interpolation="bicubic")
    assert cut.describe()["warning"] is warned


def test_the_preprocessing_experiment_shows_both_regions_drawn_on_the_photo():
    study = plugin.compare_preprocessing(DOG, "EfficientNetLite0")
    crop, whole = study["resizes"]
    assert (crop["resize"], crop["own"], whole["resize"], whole["own"]) == ("crop", True, "whole", False)
    assert crop["region"]["box"] == [132.0, 36.0, 636.0, 540.0] and whole["region"]["box"] == [0.0, 0.0, 768.0, 576.0]
    own_mode = next(row for row in study["modes"] if row["own"])
    assert own_mode["predictions"] == crop["predictions"]  # the modes' rows use the model's own crop
    files = plugin.make_report("classification", "en", image=str(DOG), models=["EfficientNetLite0"], study_preprocessing=True)
    with zipfile.ZipFile(files["post_path"]) as post:
        names = post.namelist()
        markdown = post.read(next(name for name in names if name.endswith(".md"))).decode()
        regions = next(name for name in names if name.endswith("regions.png"))
        with Image.open(post.open(regions)) as picture:
            pixels = np.asarray(picture.convert("RGB"))
    assert "Two ways to bring the photo to the input size" in markdown and "regions.png" in markdown
    scale = 640 / 768  # the picture is at most 640 px a side
    left, top = round(132 * scale), round(36 * scale)
    assert (pixels[top + 40, left + 1] == (255, 255, 255)).all()  # the crop's frame, white
    assert (pixels[200, 2] == (255, 196, 0)).all()  # the whole photo's frame, amber


def test_the_option_reaches_every_door(launch):
    tool = call_tool("classify_image", {"image": str(DOG), "models": ["EfficientNetLite0"], "resize": "whole"})
    assert tool["results"][0]["region"]["resize"] == "whole"
    explained = call_tool("explain_prediction", {"image": str(DOG), "model": "EfficientNetLite0", "resize": "whole"})
    assert explained["region"]["box"] == [0.0, 0.0, 768.0, 576.0]
    done = launch("classify", str(DOG), "--models", "EfficientNetLite0", "--resize", "whole", "--lang", "en")
    assert done.returncode == 0 and "the whole photo, squashed to the input size" in done.stdout
    done = launch("classify", str(DOG), "--models", "EfficientNetLite0", "--lang", "en")
    assert "the centre 87.5% of the shorter side" in done.stdout
