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
