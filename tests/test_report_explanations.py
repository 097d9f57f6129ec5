"""The classification report's explanations, with the real EfficientNet-Lite0 weights: a section per
method asked for, each map with its numbers beside a random and a centre map's, the sentence that
says what they mean and its deletion and insertion curves; the definitions once; a sanity check
flagged where it fails. In both languages, in the Markdown beside the page, through every door that
makes a report, and in Chromium at a desktop's and a phone's width."""

import re
from pathlib import Path

import pytest

import plugin
from plugin import words
from plugin.config import EXAMPLES_DIR
from plugin.doors.cli import main
from plugin.doors.tools import RenderReportArguments
from plugin.engine.study.explain.methods import ExplanationMethod, register, unregister
from plugin.errors import InvalidInputError
from tests.conftest import REPO, settings_between_tests
from tests.test_reports import Page, not_blank, open_page

DOG = EXAMPLES_DIR / "dog_bicycle.jpg"
LITE = "EfficientNetLite0"
METHODS = ["gradcam", "scorecam"]
ARTIFACTS = REPO / "test-artifacts" / "reports"

PASSED = {"steps": [{"randomised": ["predictions"], "rank_correlation": 0.12}], "flagged": False, "threshold": 0.5}
FLAGGED = {"steps": [{"randomised": ["predictions"], "rank_correlation": 0.98}], "flagged": True, "threshold": 0.5}
"""Sanity checks as `explain_image(sanity=True)` gives them (the engine's own tests run the real one):
the page says each, and flags the second."""


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The Korean report as `make_report` makes it; the English one rendered from `study_image`'s
    result, its Grad-CAM given a sanity check that passed and its Score-CAM one that failed."""
    plugin.configure(image_roots=[EXAMPLES_DIR], output_dir=tmp_path_factory.mktemp("explained-reports"))
    try:
        korean = plugin.make_report("classification", "ko", image=str(DOG), models=[LITE], explain=True,
                                    methods=METHODS, metrics=True)
        study = plugin.study_image(str(DOG), [LITE], explain=True, methods=METHODS, metrics=True)
        checked = [dict(explained, sanity=PASSED if explained["method"] == "gradcam" else FLAGGED)
                   for explained in study["explanations"]]
        english = plugin.render_report("classification", "en", result=study["result"], image=study["image"],
                                       explanations=checked)
    finally:
        settings_between_tests()
    return {"ko": korean, "en": english, "study": study}


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_section_per_method_with_each_maps_numbers_sentence_and_curves(made, lang):
    text = Path(made[lang]["path"]).read_text("utf-8")
    parsed = Page(text)
    said = words.section("explain", lang)
    heading = words.text("report.explain_heading", lang, methods="Grad-CAM, Score-CAM")
    assert heading in parsed.all_text
    sections = [attrs["data-method"] for attrs in parsed.find("section") if "data-method" in attrs]
    assert sections == METHODS
    for method in METHODS:
        assert plugin.api.method_description(method, lang) in parsed.all_text
    assert len(re.findall(r'<table class="stack metrics">', text)) == 2  # a table per map: one model, two methods
    for name in ("this_map", "random", "centre", "deletion", "insertion", "road", "score"):
        label = said[name]
        assert text.count(label[:1].upper() + label[1:]) + text.count(label) >= 2, name
    sentence = "이 지도는 무작위보다" if lang == "ko" else "This map"
    assert parsed.all_text.count(sentence) >= 2
    curves = [attrs for attrs in parsed.find("svg") if "curves" in attrs.get("class", "")]
    assert len(curves) == 4  # deletion and insertion for each map
    assert text.count("<polyline") == 8  # each curve beside the random map's
    assert len([attrs for attrs in parsed.find("h3") if attrs.get("id") == "definitions"]) == 1  # once a page
    assert "Petsiuk" in parsed.all_text and "Rong" in parsed.all_text
    pictures = [attrs["src"] for attrs in parsed.find("img") if attrs["src"].startswith("data:image/png;base64,")]
    assert len(pictures) == 2  # a heat map per method


def test_the_numbers_are_the_studys_and_the_sanity_check_is_said_and_flagged(made):
    text = Path(made["en"]["path"]).read_text("utf-8")
    parsed = Page(text)
    for explained in made["study"]["explanations"]:
        metrics = explained["metrics"]
        assert f"{metrics['deletion']['auc']:.3f}" in text and f"{metrics['insertion']['auc']:.3f}" in text
        assert plugin.api.metrics_sentence(metrics, "en") in parsed.all_text
    alerts = [attrs for attrs in parsed.find("p") if attrs.get("role") == "alert"]
    assert len(alerts) == 1 and "warning" in alerts[0]["class"]  # the failed check only, in the warning's colours
    assert plugin.api.sanity_sentence(FLAGGED, "en") in parsed.all_text
    assert plugin.api.sanity_sentence(PASSED, "en") in parsed.all_text
    assert "⚠" not in Path(made["ko"]["path"]).read_text("utf-8")  # no sanity check asked for: none said


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_markdown_says_the_same_with_the_tables_and_the_curves_as_pictures(made, lang):
    markdown_path = Path(made[lang]["markdown_path"])
    markdown = markdown_path.read_text("utf-8")
    said = words.section("explain", lang)
    assert "### Grad-CAM" in markdown and "### Score-CAM" in markdown
    head = f"| {words.text('report.explain_map_column', lang)} | {said['deletion']} |"
    assert markdown.count(head) == 2 and markdown.count("|---|--:|--:|--:|--:|") == 2
    this_map = said["this_map"][:1].upper() + said["this_map"][1:]
    assert markdown.count(f"| **{this_map}** |") == 2
    assert markdown.count("이 지도는 무작위보다" if lang == "ko" else "This map") >= 2
    assert f"### {words.text('report.explain_definitions', lang)}" in markdown
    curves = re.findall(r"\]\(([^)]*curve-\d-(?:deletion|insertion)\.png)\)", markdown)
    assert len(curves) == 4 and all((markdown_path.parent / curve).is_file() for curve in curves)
    if lang == "en":
        assert "> **Sanity check (Adebayo et al. 2018): ⚠" in markdown


def test_a_korean_page_has_no_english_sentence(made):
    """No run of four English words outside code, citations and drawings (names may stand alone)."""
    parsed = Page(Path(made["ko"]["path"]).read_text("utf-8"))
    prose = " ".join(parsed.prose)
    runs = re.findall(r"(?:\b[A-Za-z][A-Za-z'-]*\b[ ,]+){3}\b[A-Za-z][A-Za-z'-]*\b", prose)
    assert not [run for run in runs if "CNN Study Lab" not in run], runs[:5]


def test_the_page_reads_whole_in_chromium_at_1280_and_400(made, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for lang in ("ko", "en"):
        context, page, requests = open_page(browser, Path(made[lang]["path"]), 1280)
        try:
            for width in (1280, 400):
                page.set_viewport_size({"width": width, "height": 900})
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{lang} is {overflow}px too wide at {width}px"
                boxes = [box for box in page.locator("svg.curves").all()]
                assert len(boxes) == 4
                for chart in boxes:
                    box = chart.bounding_box()
                    assert box and box["width"] >= 240 and box["x"] + box["width"] <= width  # a curve readable as drawn
                for table in page.locator("table.metrics").all():
                    box = table.bounding_box()
                    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width
                png = page.locator("#explained").screenshot() if width > 400 else page.screenshot(full_page=True)
                assert not_blank(png)
                page.screenshot(full_page=True, path=str(ARTIFACTS / f"classification-explained-{lang}-{width}.png"))
            assert all(url.startswith(("file:", "data:")) for url in requests), requests
        finally:
            context.close()


def test_the_report_command_and_tool_pass_methods_and_metrics(monkeypatch, capsys):
    """`launch.py report classification PHOTO --methods ... --metrics` and the tool give make_report
    the methods and metrics (make_report runs them above); a method is checked against the table
    when the call is made, so one registered at run time is taken."""
    asked = {}
    monkeypatch.setattr(plugin.api, "make_report", lambda kind, **options: asked.update(options, kind=kind) or
                        {"path": "p.html", "markdown_path": "p.md", "post_path": "p.zip"})
    assert main(["--lang", "en", "report", "classification", str(DOG), "--models", LITE, "--explain",
                 "--methods", *METHODS, "--metrics"]) == 0
    capsys.readouterr()
    assert asked["kind"] == "classification" and asked["methods"] == METHODS and asked["metrics"] is True
    assert asked["explain"] is True and asked["models"] == [LITE]
    assert main(["--lang", "en", "report", "classification", str(DOG), "--methods", "edges"]) == 2  # not (yet) a method
    assert "gradcam" in capsys.readouterr().err  # the error lists the methods there are
    register(ExplanationMethod(name="edges", title="Edges", needs="scores", compute=lambda context: None, uses_layer=False))
    try:
        arguments = RenderReportArguments.model_validate({"kind": "classification", "image": str(DOG), "methods": ["edges"]})
        assert arguments.methods == ["edges"]
        schema = RenderReportArguments.model_json_schema()["properties"]["methods"]
        assert "edges" in str(schema)
    finally:
        unregister("edges")


def test_methods_or_metrics_ask_for_the_maps(monkeypatch):
    """make_report with methods (or metrics) but no explain still explains: asking how is asking for them."""
    studied = {}

    def study_image(image, **options):
        studied.update(options)
        raise InvalidInputError("stopped here")

    monkeypatch.setattr(plugin.api, "study_image", study_image)
    with pytest.raises(InvalidInputError, match="stopped here"):
        plugin.make_report("classification", "en", image=str(DOG), methods=["scorecam"])
    assert studied["explain"] is True and studied["methods"] == ["scorecam"]
