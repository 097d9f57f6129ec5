"""One orchestration per task: every door studies a photo through `study_image`, so a request
classifies the photo once per model and draws one Grad-CAM per model, and fine-tuning with an
evaluation is one engine call. Counting stubs wrap the engine's own classification and Grad-CAM
steps (they still run), so a door that classified or explained twice would be caught."""

from pathlib import Path

import pytest

from plugin import api
from plugin.config import EXAMPLES_DIR, get_settings
from plugin.engine.study import classify
from plugin.engine.study.explain.context import ExplainContext

CAT = str(EXAMPLES_DIR / "cat_chelsea.png")
MODELS = ["AlexNet", "EfficientNetLite0"]
RANDOM = {"weights": "random", "allow_random_weights": True}


@pytest.fixture
def counted(monkeypatch):
    """Counts of the engine's classification (per model) and Grad-CAM (per model) steps."""
    counts = {"classify": [], "gradcam": []}
    run, gradients = classify._run, ExplainContext.gradients

    def counting_run(model, *args, **kwargs):
        counts["classify"].append(model.name)
        return run(model, *args, **kwargs)

    def counting_gradients(context):
        counts["gradcam"].append(context.prepared.name)
        return gradients(context)

    monkeypatch.setattr(classify, "_run", counting_run)
    monkeypatch.setattr(ExplainContext, "gradients", counting_gradients)
    return counts


def _once_each(counts: dict, gradcams: int = 1) -> None:
    assert sorted(counts["classify"]) == sorted(MODELS)
    assert len(counts["gradcam"]) == gradcams * len(MODELS)


def test_python_study_image_classifies_and_explains_once_per_model(counted):
    study = api.study_image(CAT, MODELS, explain=True, **RANDOM)
    _once_each(counted)
    assert [e["model"] for e in study["explanations"]] == MODELS
    assert all(Path(e["overlay_path"]).is_file() for e in study["explanations"])
    api.render_report("classification", "ko", **study)  # rendering the study computes nothing
    _once_each(counted)


def test_the_render_report_tool_runs_the_engine_once(counted):
    from plugin.doors.tools import call_tool

    made = call_tool("render_report", {"kind": "classification", "image": CAT, "models": MODELS, "explain": True,
                                       "weights": "random", "allow_random_weights": True})
    assert (get_settings().output_dir / made["path"]).is_file()  # relative to the output folder
    _once_each(counted)


def test_the_command_lines_report_runs_the_engine_once(counted, capsys):
    from plugin.doors.cli import main

    assert main(["report", "classification", CAT, "--models", *MODELS, "--explain", "--weights", "random",
                 "--allow-random-weights", "--lang", "en"]) == 0
    assert ".html" in capsys.readouterr().out
    _once_each(counted)


def test_the_apps_classify_tab_and_its_report_run_the_engine_once(counted):
    from plugin.doors.web import classify_tab

    outputs = classify_tab.classify_view(
        classify_tab.ClassifyForm(image=CAT, models=MODELS, top_k=3, random_weights=True, model_file=None, class_names="",
                                  preprocessing="rescale", expected="", explain=True, precision="float32"),
        lang="ko", request=None, progress=lambda *a, **k: None)
    classify_tab.classification_report(outputs[-1], "ko", None, progress=lambda *a, **k: None)
    _once_each(counted)


def test_the_gallery_studies_each_photo_once(counted):
    from scripts import gallery

    made = gallery._make("classification", {"image": CAT, "models": ["EfficientNetLite0"], "expected": "cat"}, "cat", Path("."))
    assert [m["lang"] for m in made] == ["ko", "en"]  # two pages from one study
    assert counted["classify"] == ["EfficientNetLite0"] and len(counted["gradcam"]) == 1
