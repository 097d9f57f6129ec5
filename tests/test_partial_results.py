"""Answers a student can trust, with the real EfficientNet-Lite weights: the dog/cat verdict on
crops the project did not tune to, through Python, a tool call and the command line (MCP in
tests/test_mcp.py); and partial results: a model whose weights are not on this machine gets an
error entry in `results` while the others answer, and a request none can answer names the
models that can."""

import json

import numpy as np
import pytest
from PIL import Image, ImageEnhance

import plugin
from plugin import words
from plugin.config import EXAMPLES_DIR
from plugin.doors.tools import call_tool
from plugin.errors import WeightsUnavailableError

CAT = str(EXAMPLES_DIR / "cat_chelsea.png")
LITE = ["EfficientNetLite0", "EfficientNetLite1", "EfficientNetLite2"]
READY = "EfficientNetLite0, EfficientNetLite1, EfficientNetLite2"


def lynx_crop() -> np.ndarray:
    """The top middle of the cat photo, 30 % of its size, darkened: Lite0's top-1 is lynx (seen whole)."""
    picture = Image.open(CAT).convert("RGB")
    w, h = int(picture.width * 0.3), int(picture.height * 0.3)
    left = (picture.width - w) // 2
    return np.asarray(ImageEnhance.Brightness(picture.crop((left, 0, left + w, h))).enhance(0.6))


def test_a_crop_whose_top1_is_lynx_is_a_cat():
    outcome = plugin.classify_image(lynx_crop(), models=["EfficientNetLite0"], resize="whole")["results"][0]
    assert outcome["predictions"][0]["label"] == "lynx"
    verdict = outcome["verdict"]
    assert verdict["label"] == "cat" and verdict["top1_group"] == "wild cat" and "wild cat" in verdict["basis"]
    assert "야생 고양잇과" in plugin.api.verdict_basis(verdict, "ko")


def test_crops_of_the_dog_and_the_cat_are_a_dog_and_a_cat_for_every_model(labelled_photos, launch):
    photos = {label: sorted(str(path) for path in (labelled_photos / label).glob("*.jpg"))[:5] for label in ("cat", "dog")}
    for label, paths in photos.items():
        python = plugin.classify_images(paths, models=LITE)
        tool = call_tool("classify_image", {"images": paths, "models": LITE})
        run = launch("classify", *paths, "--models", ",".join(LITE), "--json")
        assert run.returncode == 0, run.stderr
        for answer in (python, tool, json.loads(run.stdout)):
            verdicts = [(outcome["model"], outcome["verdict"]["label"]) for record in answer["images"] for outcome in record["results"]]
            assert len(verdicts) == 3 * len(paths) and {found for _, found in verdicts} == {label}, verdicts


def test_two_answers_and_one_error_entry_when_one_model_has_no_weights(offline):
    asked = ["VGG16", "EfficientNetLite0", "EfficientNetLite1"]
    result = plugin.classify_image(CAT, models=asked, expected="cat")
    assert [entry["model"] for entry in result["results"]] == asked
    vgg16, lite0, lite1 = result["results"]
    assert set(vgg16) == {"model", "error"} and vgg16["error"]["type"] == "WeightsUnavailableError"
    message = vgg16["error"]["message"]
    assert f"Models that can answer now: {READY}" in message and "528 MiB" in message and "random" not in message
    assert lite0["verdict"]["label"] == lite1["verdict"]["label"] == "cat"
    assert result["agreement"]["verdicts"] == {"EfficientNetLite0": "cat", "EfficientNetLite1": "cat"}
    assert "VGG16" not in result["agreement"]["summary"]  # the models that answered agree; VGG16 says nothing
    korean = words.failure_text(vgg16["error"], "ko")
    assert f"지금 답할 수 있는 모델: {READY}" in korean and "528 MiB" in korean
    assert "Expected" not in korean and "무작위" not in korean


def test_a_request_no_model_can_answer_is_an_error_naming_the_models_that_can(offline):
    with pytest.raises(WeightsUnavailableError) as raised:
        plugin.classify_image(CAT, models=["VGG16", "AlexNet"])
    message = str(raised.value)
    assert "VGG16: its ImageNet weights are not on this machine (528 MiB to download)" in message
    assert "AlexNet: architecture only" in message and f"Models that can answer now: {READY}." in message
    korean = words.error_text(raised.value, "ko")
    assert "VGG16, AlexNet" in korean and f"지금 답할 수 있는 모델: {READY}" in korean and "Expected" not in korean


def test_the_tool_call_and_the_command_line_show_the_partial_result(offline, launch):
    tool = call_tool("classify_image", {"image": CAT, "models": ["VGG16", "EfficientNetLite0"]})
    assert tool["results"][0]["error"]["type"] == "WeightsUnavailableError"
    assert tool["results"][1]["verdict"]["label"] == "cat"
    run = launch("classify", CAT, "--models", "VGG16,EfficientNetLite0", "--lang", "ko")
    assert run.returncode == 0, run.stderr
    flat = " ".join(run.stdout.split())  # rich wraps long lines
    assert "VGG16: 답하지 못함" in flat and f"지금 답할 수 있는 모델: {READY}" in flat
    assert "이집트 고양이" in flat and "판정 규칙:" in flat


def test_reports_show_a_card_for_the_model_that_could_not_answer(offline):
    made = plugin.make_report("classification", image=CAT, models=["VGG16", "EfficientNetLite0"], lang="ko")
    page = open(made["path"], encoding="utf-8").read()
    assert '<section class="model failed">' in page and "VGG16 <span class=\"verdict other\">답하지 못함</span>" in page
    assert "지금 답할 수 있는 모델" in page and "판정 규칙:" in page
    markdown = open(made["markdown_path"], encoding="utf-8").read()
    assert "## VGG16 (답하지 못함)" in markdown and "## EfficientNetLite0" in markdown
    compared = plugin.compare_models(["VGG16", "EfficientNetLite0"], image=CAT)
    vgg16, lite0 = compared["models"]
    assert vgg16["error"]["type"] == "WeightsUnavailableError" and "predictions" not in vgg16
    assert vgg16["total_params"] == 138_357_544 and lite0["verdict"]["label"] == "cat"
    page = open(plugin.render_report("comparison", result=compared, lang="en")["path"], encoding="utf-8").read()
    assert "VGG16 <span class=\"verdict other\">no answer</span>" in page and "Models that can answer now" in page


def test_a_comparison_where_no_model_can_answer_keeps_its_architecture_columns(offline):
    """Offline, neither VGG16 nor ResNet50 has weights: the comparison still gives their sizes,
    multiply-adds and times (no trained weights needed), each row says why it has no answer, and
    its report renders with a card for each."""
    compared = plugin.compare_models(["VGG16", "ResNet50"], image=CAT)
    assert [row["model"] for row in compared["models"]] == ["VGG16", "ResNet50"] and "agreement" not in compared
    for row, params in zip(compared["models"], (138_357_544, 25_636_712)):
        assert row["total_params"] == params and row["macs"] > 0 and row["inference_ms"] > 0
        assert row["error"]["type"] == "WeightsUnavailableError" and "predictions" not in row
    page = open(plugin.render_report("comparison", result=compared, image=CAT, lang="ko")["path"], encoding="utf-8").read()
    assert page.count('<span class="verdict other">답하지 못함</span>') == 2 and "지금 답할 수 있는 모델" in page


def test_an_evaluation_runs_the_models_that_can_answer(offline, labelled_photos, launch):
    result = plugin.evaluate(labelled_photos, models=["VGG16", "EfficientNetLite0"])
    vgg16, lite0 = result["models"]
    assert vgg16["model"] == "VGG16" and vgg16["error"]["type"] == "WeightsUnavailableError"
    assert lite0["model"] == "EfficientNetLite0" and lite0["accuracy"]["verdict"] == 1.0
    page = open(plugin.render_report("evaluation", result=result, lang="ko")["path"], encoding="utf-8").read()
    assert "VGG16 <span class=\"verdict other\">답하지 못함</span>" in page and "혼동 행렬" in page
    run = launch("evaluate", str(labelled_photos), "--models", "VGG16", "EfficientNetLite0", "--lang", "en")
    assert run.returncode == 0, run.stderr
    assert "VGG16: no answer" in " ".join(run.stdout.split()) and "EfficientNetLite0" in run.stdout
