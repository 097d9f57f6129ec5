"""The explanations through the tool-call and command-line doors: `explain_prediction` takes a
method, a target, a layer, metrics and the sanity check, `compare_explanations` draws maps side by
side (the dog-versus-cat contrast), `launch.py explain` offers the same options (several --method or
--target values compare), and a method registered at run time is accepted and listed by each door.

Real weights (EfficientNetLite0); the metrics with 5 steps where only their plumbing is checked.
"""

import argparse
import json
import re
from pathlib import Path

import numpy as np
import pytest
from jsonschema import Draft202012Validator

import plugin
from plugin import api, words
from plugin.config import EXAMPLES_DIR, get_settings
from plugin.doors.cli import build_parser
from plugin.doors.tools import TOOLS, call_tool, result_pictures, tool_specs
from plugin.engine.study.explain.methods import ExplanationMethod, register, unregister

BOTH = str(EXAMPLES_DIR / "dog_and_cat.jpg")  # a dog on the left half, a cat on the right; Lite0 answers Egyptian cat
LITE = "EfficientNetLite0"


def fits(name: str, result: dict) -> dict:
    """`result`, after checking it against the tool's output schema (as an MCP client does)."""
    assert "error" not in result, result
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in Draft202012Validator(TOOLS[name].output_schema()).iter_errors(result)]
    assert not errors, (name, errors)
    return result


def halves(grid) -> tuple[float, float]:
    """The mean heat of a map's left and right halves."""
    heat = np.asarray(grid, dtype=float)
    middle = heat.shape[1] // 2
    return float(heat[:, :middle].mean()), float(heat[:, -middle:].mean())


@pytest.fixture(scope="module")
def cat_map():
    """Score-CAM's map of the cat, with its numbers (5 steps), made once in this process: what the
    command line, run here with the same options, must print."""
    return plugin.explain_image(BOTH, LITE, method="scorecam", target="cat", metrics=True, steps=5)


@pytest.fixture
def brightness():
    """A trivial method registered for one test (the photo's brightness on a 7 x 7 grid: it ignores
    the model), taken out of the table again whatever happens."""
    method = register(ExplanationMethod(name="brightness", title="Brightness", needs="scores", uses_layer=False,
                                        compute=lambda context: context.pixels.mean(axis=-1)[::32, ::32] / 255))
    try:
        yield method
    finally:
        unregister("brightness")


def test_the_tool_explains_a_group_with_its_numbers_and_says_what_it_explained():
    result = fits("explain_prediction", call_tool("explain_prediction", {
        "image": BOTH, "model": LITE, "method": "gradcam", "target": "cat", "metrics": True, "steps": 5}))
    assert result["method"] == "gradcam" and result["method_title"] == "Grad-CAM" and result["target"] == "cat"
    assert result["class"]["group"] == "cat" and result["class"]["index"] is None and result["is_answer"] is True
    assert result["answer"]["index"] == 285 and result["layer"] == "top_activation"
    assert result["layer_reason"] in ("registry", "last_feature_map")
    metrics = result["metrics"]
    assert metrics["steps"] == 5 and len(metrics["deletion"]["curve"]) == len(metrics["insertion"]["curve"]) == 6
    assert set(metrics["baselines"]) == {"random", "centre"} and "better_than_random" in metrics
    left, right = halves(result["heatmap"])
    assert right > left  # the cat is on the right
    assert len(json.dumps(result)) < 6000  # sized for a model's context: the grid and six short curves
    assert (get_settings().output_dir / result["overlay_path"]).is_file()  # named relative to the output folder


def test_the_tool_takes_a_class_by_name_or_index_and_class_index_still_works():
    by_name = call_tool("explain_prediction", {"image": BOTH, "model": LITE, "method": "eigencam", "target": "tabby"})
    by_index = call_tool("explain_prediction", {"image": BOTH, "model": LITE, "method": "eigencam", "target": 281})
    by_class_index = call_tool("explain_prediction", {"image": BOTH, "model": LITE, "method": "eigencam", "class_index": 281})
    for result in (by_name, by_index, by_class_index):
        assert fits("explain_prediction", result)["class"]["index"] == 281 and result["target"] == "class"
        assert result["is_answer"] is False and result["class_specific"] is False and "sanity" not in result


def test_bad_method_target_and_steps_are_errors_that_say_what_was_expected_and_received():
    asked = {"image": BOTH, "model": LITE}
    method = call_tool("explain_prediction", asked | {"method": "magic"})["error"]
    assert method["type"] == "InvalidArguments"
    assert "method" in method["message"] and "'magic'" in method["message"]
    assert all(name in method["message"] for name in ("gradcam", "scorecam", "occlusion"))
    assert method["message"].count("magic") == 1  # said once, not again by the door
    for steps, limit in ((0, "greater than or equal to 1"), (api.MAX_METRIC_STEPS + 1, f"less than or equal to {api.MAX_METRIC_STEPS}")):
        error = call_tool("explain_prediction", asked | {"metrics": True, "steps": steps})["error"]
        assert error["type"] == "InvalidArguments" and "steps" in error["message"] and limit in error["message"]
        assert f"received {steps}" in error["message"]
    shape = call_tool("explain_prediction", asked | {"target": ["cat"]})["error"]
    assert shape["type"] == "InvalidArguments" and "target" in shape["message"]
    unknown = call_tool("explain_prediction", asked | {"target": "zzzz"})["error"]  # a name only the engine can check
    assert unknown["type"] == "InvalidInputError" and "Expected" in unknown["message"] and "Received: 'zzzz'" in unknown["message"]
    out_of_range = call_tool("explain_prediction", asked | {"target": 1000})["error"]
    assert out_of_range["type"] == "InvalidArguments" and "less than or equal to 999" in out_of_range["message"]
    compared = call_tool("compare_explanations", asked | {"methods": ["gradcam", "magic"]})["error"]
    assert compared["type"] == "InvalidArguments" and "methods.1" in compared["message"] and "'magic'" in compared["message"]
    too_many = call_tool("compare_explanations", asked | {"targets": ["answer", "dog", "cat", "tabby", "beagle"]})["error"]
    assert too_many["type"] == "InvalidArguments" and "targets" in too_many["message"]
    assert call_tool("compare_explanations", {"image": BOTH})["error"]["type"] == "InvalidArguments"  # no model


def test_the_schemas_limit_steps_and_list_the_methods_with_what_each_does():
    specs = {spec["name"]: spec for spec in tool_specs("mcp")}
    explain = specs["explain_prediction"]["inputSchema"]["properties"]
    assert explain["steps"]["minimum"] == 1 and explain["steps"]["maximum"] == api.MAX_METRIC_STEPS
    names = [entry["name"] for entry in api.explanation_methods()]
    assert explain["method"]["enum"] == names and explain["method"]["default"] == api.DEFAULT_EXPLAIN_METHOD
    assert "scorecam (Score-CAM): " + api.method_description("scorecam", "en").rstrip(".") in explain["method"]["description"]
    methods = specs["compare_explanations"]["inputSchema"]["properties"]["methods"]
    assert methods["items"]["enum"] == names and methods["maxItems"] == len(names)
    assert specs["compare_explanations"]["annotations"]["readOnlyHint"] is True


def test_a_method_registered_at_run_time_is_offered_and_run_by_the_tools_and_the_command_line(brightness, launch):
    specs = {spec["function"]["name"]: spec["function"] for spec in tool_specs("openai")}
    method = specs["explain_prediction"]["parameters"]["properties"]["method"]
    assert "brightness" in method["enum"] and "brightness (Brightness)" in method["description"]
    result = fits("explain_prediction", call_tool("explain_prediction", {"image": BOTH, "model": LITE, "method": "brightness"}))
    assert result["method"] == "brightness" and result["method_title"] == "Brightness"
    assert result["layer"] is None and np.asarray(result["heatmap"]).shape == (7, 7)
    compared = fits("compare_explanations", call_tool("compare_explanations", {
        "image": BOTH, "model": LITE, "methods": ["brightness", "occlusion"]}))
    assert [explained["method"] for explained in compared["explanations"]] == ["brightness", "occlusion"]
    out = launch("explain", BOTH, "--model", LITE, "--method", "brightness", "--lang", "en")
    assert out.returncode == 0, out.stderr
    assert "\nBrightness\n" in out.stdout  # the method's line: its title, having no words of its own
    assert "brightness" in _command_help("explain", "en")  # the parser is made from the table when it is made
    unregister("brightness")
    gone = call_tool("explain_prediction", {"image": BOTH, "model": LITE, "method": "brightness"})["error"]
    assert gone["type"] == "InvalidArguments" and "'brightness'" in gone["message"]


def _command_help(command: str, lang: str) -> str:
    parser = build_parser(lang=lang)
    choices = next(action.choices for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    return choices[command].format_help()


def test_the_compare_tool_draws_the_dog_versus_cat_contrast():
    result = fits("compare_explanations", call_tool("compare_explanations", {
        "image": BOTH, "model": LITE, "methods": ["gradcam"], "targets": ["dog", "cat"], "include_image": True}))
    assert result["model"] == LITE and result["methods"] == ["gradcam"] and result["targets"] == ["dog", "cat"]
    dog, cat = result["explanations"]
    assert dog["class"]["group"] == "dog" and dog["is_answer"] is False and cat["class"]["group"] == "cat" and cat["is_answer"]
    assert halves(dog["heatmap"])[0] > halves(dog["heatmap"])[1] and halves(cat["heatmap"])[1] > halves(cat["heatmap"])[0]
    pictures = result_pictures("compare_explanations", result)
    assert [picture.name for picture in pictures] == [result["picture_path"].split("/")[-1]] and pictures[0].stat().st_size > 10_000
    assert len(json.dumps(result)) < 4000


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_command_line_explains_the_cat_with_score_cam_and_says_what_its_numbers_mean(launch, cat_map, lang):
    out = launch("explain", BOTH, "--model", LITE, "--method", "scorecam", "--target", "cat", "--metrics", "--steps", "5",
                 "--lang", lang)
    assert out.returncode == 0, out.stderr
    printed = " ".join(out.stdout.split())
    result = cat_map
    assert api.gradcam_caption(result, lang) in printed
    assert (words.text("explain.groups.cat", lang) in printed) and ("Egyptian" in printed)
    assert api.method_description("scorecam", lang) in printed
    assert api.metrics_sentence(result["metrics"], lang) in printed
    said = words.section("explain", lang)
    for label in (said["metrics_title"], said["deletion"], said["insertion"], said["road"], said["this_map"], said["random"], said["centre"]):
        assert " ".join(label.split()) in printed, label
    assert f"{result['metrics']['deletion']['auc']:.3f}" in printed
    if lang == "ko":  # no English but the method's and the layer's names, the class's own name and the file path
        english = set(re.findall(r"[A-Za-z]{3,}", re.sub(r"\S*/\S*", "", printed))) - {
            "EfficientNetLite", "Score", "CAM", "ONNX", "Runtime", "int", "top_activation", "top", "activation", "Egyptian",
            "cat", "AUC", "ROAD"}
        assert not english, english


def test_several_methods_or_targets_on_the_command_line_draw_the_maps_side_by_side(launch):
    out = launch("explain", BOTH, "--model", LITE, "--method", "gradcam", "eigencam", "--target", "dog", "cat", "--lang", "en")
    assert out.returncode == 0, out.stderr
    printed = out.stdout
    assert words.text("explain.compare_title", "en") in printed
    assert printed.count("\n- ") == 4  # a line per map: two methods for two targets
    picture = re.search(r"All the maps in one picture: (\S+\.png)", printed)
    assert picture and Path(picture.group(1)).is_file()
    contrast = launch("explain", BOTH, "--model", LITE, "--target", "dog", "cat", "--sanity", "--lang", "ko")
    assert contrast.returncode == 0, contrast.stderr
    assert words.text("explain.contrast_title", "ko") in contrast.stdout and contrast.stdout.count("\n- ") == 2
    assert "순위 상관" in contrast.stdout  # the sanity check's sentence for each map


def test_the_command_line_refuses_a_method_it_does_not_know_naming_the_methods(launch):
    out = launch("explain", BOTH, "--method", "magic", "--lang", "en")
    assert out.returncode == 2 and out.stdout == ""
    error = " ".join(out.stderr.split())
    assert "'magic'" in error and "gradcam" in error and "Traceback" not in out.stderr
    steps = launch("explain", BOTH, "--metrics", "--steps", str(api.MAX_METRIC_STEPS + 1), "--lang", "en")
    assert steps.returncode == 2 and "steps" in steps.stderr
