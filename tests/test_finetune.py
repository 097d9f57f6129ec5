"""fine_tune with the real EfficientNet-Lite weights on real (cropped) photos: the saved model loads
in safe mode, classifies with no class names given, and beats or matches its base."""

import json
from pathlib import Path

import pytest

import plugin
from plugin.doors.tools import call_tool
from plugin.engine.inference.custom import load_model_file


@pytest.fixture(scope="module")
def tuned(labelled_photos, data_dir):
    """Trained once; its output folder lies in the session's data folder, which every test may read."""
    plugin.configure(image_roots=[data_dir], output_dir=data_dir / "tuned")
    steps = []
    result = plugin.fine_tune(labelled_photos, "EfficientNetLite2", epochs=15, name="dogs-and-cats", evaluate=True,
                              progress=lambda step, steps_, stage: steps.append(stage))
    return result, steps


def test_the_result_and_the_saved_files(tuned):
    result, steps = tuned
    assert set(result) >= {"model_path", "class_names", "history", "accuracy"}
    assert result["class_names"] == ["cat", "dog"] and result["base"] == "EfficientNetLite2"
    path = Path(result["model_path"])
    assert path.name == "dogs-and-cats.keras" and path.parent.name == "models" and path.parent.parent.name == "tuned"
    companion = json.loads(path.with_name(path.name + ".json").read_text())
    assert companion["class_names"] == ["cat", "dog"] and companion["preprocessing"] == "lite"
    assert result["history"]["epochs_run"] == len(result["history"]["loss"]) <= 15
    assert "features" in steps and "training" in steps and steps[-1] == "evaluating"


def test_it_beats_or_matches_the_base(tuned):
    accuracy = tuned[0]["accuracy"]
    assert accuracy["fine_tuned"] >= accuracy["base"] and accuracy["fine_tuned"] == 1.0


def test_the_model_loads_in_safe_mode_and_classifies_without_class_names(tuned, labelled_photos):
    result = tuned[0]
    _, runner = load_model_file(result["model_path"])  # the safe loading path any user's file takes
    frozen = [layer for layer in runner.model.layers if layer.name != "fine_tuned_head"]
    assert not any(layer.trainable_weights for layer in frozen)  # the backbone stays frozen
    answer = plugin.classify_image(labelled_photos / "dog" / "dog_1.jpg", model_path=result["model_path"])["results"][0]
    assert answer["predictions"][0]["label"] == "dog" and answer["model"] == "dogs-and-cats.keras"
    facts = plugin.describe_architecture(model_path=result["model_path"], include_diagram=False)
    assert facts["trainable_params"] == 1280 * 2 + 2  # only the new head


def test_evaluating_base_and_fine_tuned_side_by_side(tuned, labelled_photos):
    evaluated = tuned[0]["evaluation"]  # fine_tune(..., evaluate=True): one call trains, then evaluates both
    held_out = tuned[0]["images"]["validation"]
    assert evaluated["images"] == held_out == 4 and tuned[0]["images"]["train"] == 12  # only photos it never trained on
    assert evaluated["held_out"] == {"images": 4, "per_class": {"cat": 2, "dog": 2}, "trained_on": 12, "enough": False}
    logged = {json.loads(line)["path"] for line in Path(evaluated["log_path"]).read_text("utf-8").splitlines()}
    kept_back = {entry["image"] for entry in json.loads(Path(tuned[0]["model_path"]).with_name("dogs-and-cats.held-out.json").read_text())}
    assert logged == kept_back  # the log holds the held-out photos, each once per model
    base, fine_tuned = evaluated["models"]
    assert fine_tuned["model"] == "dogs-and-cats.keras" and fine_tuned["accuracy"]["verdict"] == 1.0
    assert fine_tuned["accuracy"]["verdict"] >= base["accuracy"]["verdict"]
    assert fine_tuned["accuracy"]["top5"] is None  # two classes: every photo is in a top 5, which says nothing
    made = plugin.render_report("evaluation", "ko", result=evaluated)
    page = Path(made["path"]).read_text("utf-8")
    assert "혼동 행렬" in page and "dogs-and-cats.keras" in page
    assert "학습에 쓰지 않은 사진 4장으로만" in page and "가장 적은 클래스는 2장뿐" in page  # too few to compare: said


def test_bad_requests(labelled_photos):
    with pytest.raises(plugin.InvalidInputError, match="epochs"):
        plugin.fine_tune(labelled_photos, epochs=0)
    assert call_tool("fine_tune", {"source": str(labelled_photos), "name": "../x"})["error"]["type"] == "InvalidArguments"


def test_a_second_model_of_the_same_name_never_replaces_the_first(tuned, labelled_photos):
    first = Path(tuned[0]["model_path"])
    before = first.read_bytes()
    plugin.configure(output_dir=first.parent.parent)  # where the first one was saved
    again = plugin.fine_tune(labelled_photos, "EfficientNetLite2", epochs=1, name="dogs-and-cats")  # features cached
    assert Path(again["model_path"]).name == "dogs-and-cats-2.keras" and first.read_bytes() == before
    from plugin.engine.study.finetune import _reserve

    assert _reserve(first.parent, "dogs-and-cats", overwrite=True) == first  # replaced only when asked
    assert _reserve(first.parent, "dogs-and-cats", overwrite=False).name == "dogs-and-cats-3.keras"
