"""The preprocessing experiment: with real weights, the model's own mode gets the cat right and a
wrong one loses it; every mode is reported, the own one marked."""

import pytest

import plugin
from plugin.config import EXAMPLES_DIR
from plugin.doors.tools import call_tool

CAT = EXAMPLES_DIR / "cat_chelsea.png"


def test_wrong_preprocessing_changes_the_answer():
    result = plugin.compare_preprocessing(CAT, "EfficientNetLite0")
    assert result["model"] == "EfficientNetLite0" and result["own_mode"] == "lite"
    modes = {row["mode"]: row for row in result["modes"]}
    assert list(modes) == ["caffe", "tf", "torch", "lite", "none"]
    assert [row["own"] for row in result["modes"]] == [False, False, False, True, False]
    assert modes["lite"]["verdict"]["label"] == "cat" and modes["lite"]["predictions"][0]["index"] in range(281, 286)
    assert modes["none"]["verdict"]["label"] != "cat"  # raw pixels: the cat is lost
    assert modes["caffe"]["predictions"][0]["index"] != modes["lite"]["predictions"][0]["index"]


def test_chosen_modes_and_bad_ones():
    result = plugin.compare_preprocessing(CAT, "EfficientNetLite0", modes=["none", "lite", "none"], top_k=2)
    assert [row["mode"] for row in result["modes"]] == ["none", "lite"] and len(result["modes"][0]["predictions"]) == 2
    with pytest.raises(plugin.InvalidInputError, match="preprocessing to be one of"):
        plugin.compare_preprocessing(CAT, "EfficientNetLite0", modes=["bgr"])


def test_the_tool():
    result = call_tool("compare_preprocessing", {"image": str(CAT), "model": "EfficientNetLite0", "modes": ["lite", "none"]})
    assert [row["own"] for row in result["modes"]] == [True, False]


def test_each_mode_says_its_formula_and_what_one_pixel_becomes():
    """caffe: BGR minus the ImageNet mean, no scaling; tf: x / 127.5 - 1; torch: x / 255 then mean and
    std; lite: (x - 127) / 128; none: the raw values. Worked on the photo's centre pixel."""
    from plugin.engine.inference.preprocessing import MODES, SAMPLE_PIXEL

    assert MODES["caffe"].on_pixel(SAMPLE_PIXEL) == pytest.approx([16.061, 43.221, 77.32])  # (201, 160, 120), B first
    assert MODES["tf"].on_pixel((255, 0, 127.5)) == pytest.approx([1.0, -1.0, 0.0])
    assert MODES["torch"].on_pixel((255, 0, 0))[0] == pytest.approx((1 - 0.485) / 0.229, abs=1e-3)
    assert MODES["lite"].on_pixel((255, 127, 0)) == pytest.approx([1.0, 0.0, -127 / 128], abs=1e-3)
    study = plugin.compare_preprocessing(EXAMPLES_DIR / "cat_chelsea.png", "EfficientNetLite0", top_k=1)
    rgb = study["pixel"]["rgb"]
    assert study["pixel"]["at"] == [451 // 2, 300 // 2] and all(0 <= value <= 255 for value in rgb)
    rows = {row["mode"]: row for row in study["modes"]}
    assert rows["none"]["pixel"] == rgb and rows["caffe"]["channel_order"] == "BGR"
    assert rows["caffe"]["pixel"] == pytest.approx([rgb[2] - 103.939, rgb[1] - 116.779, rgb[0] - 123.68], abs=1e-3)
    assert rows["lite"]["formula"] == "(x − 127) / 128" and rows["lite"]["own"] is True
