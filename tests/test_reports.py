"""Study reports: every kind in both languages, checked in the parsed HTML, in the Markdown beside
it, and in a real headless Chromium (Debian's, driven by Playwright) with the network blocked."""

import json
import os
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import plugin
from plugin.config import EXAMPLES_DIR
from plugin.errors import AccessDeniedError, InvalidInputError
from tests.conftest import REPO, save_png, settings_between_tests, stripes

ARTIFACTS = REPO / "test-artifacts" / "reports"
CHROMIUM = "/usr/bin/chromium"
HOSTILE_IMAGE = '<img src=x onerror=alert(1)> "cat".png'
HOSTILE_LAYER = "<script>steal()<script>"


class Page(HTMLParser):
    """The tags, attributes and text of an HTML page; `prose` is the text outside code, citations,
    drawings and the style sheet."""

    NOT_PROSE = {"code", "cite", "svg", "style", "title"}

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.prose: list[str] = []
        self._open: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in ("img", "br", "meta", "input", "polygon", "rect", "circle", "line", "path"):
            self._open.append(tag)

    def handle_endtag(self, tag):
        if tag in self._open:
            while self._open.pop() != tag:
                pass

    def handle_data(self, data):
        self.text.append(data)
        if not self.NOT_PROSE & set(self._open):
            self.prose.append(data)

    @property
    def all_text(self) -> str:
        return " ".join(self.text)

    def find(self, tag):
        return [attrs for name, attrs in self.tags if name == tag]


@pytest.fixture(scope="session")
def reports(tmp_path_factory, stripe_model_files):
    """Every kind of report in both languages, made once."""
    import keras

    out = tmp_path_factory.mktemp("reports-out")
    inputs_dir = tmp_path_factory.mktemp("report-inputs")
    hostile_image = save_png(stripes("horizontal", size=120), inputs_dir / HOSTILE_IMAGE)
    inputs = keras.Input((32, 32, 3), name="picture")
    x = keras.layers.Conv2D(4, 3, name=HOSTILE_LAYER)(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    hostile_model = inputs_dir / "hostile.keras"
    keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="out")(x)).save(hostile_model)

    plugin.configure(image_roots=[inputs_dir, EXAMPLES_DIR, stripe_model_files["keras"].parent], output_dir=out)
    made = {}
    try:
        from scripts.gallery import make_gallery  # what `launch.py gallery` runs, here in this process

        gallery = make_gallery()  # the kept gallery, made again in <out>/gallery: its pages are tested as any others
        by_name = {Path(m["path"]).stem: m for m in gallery}
        for lang in ("ko", "en"):
            made["architecture", lang] = by_name[f"resnet50-architecture-{lang}"]  # ResNet50 with its layers
            made["vgg-architecture", lang] = by_name[f"vgg16-architecture-{lang}"]
            made["study", lang] = by_name[f"dog-classification-{lang}"]  # Lite0 and Lite1, Grad-CAM, the experiment
        # The engine runs once per report (as make_report runs it); each result is rendered in both languages.
        comparison_image = str(EXAMPLES_DIR / "cat_chelsea.png")
        results = {
            "classification": plugin.study_image(str(hostile_image), models=["MobileNetV2", "AlexNet"], weights=None,
                                                 allow_random_weights=True, top_k=3),
            "comparison": {"result": plugin.compare_models(["AlexNet", "MobileNetV2", "EfficientNetLite0"], image=comparison_image,
                                                           weights=None, allow_random_weights=True),
                           "image": comparison_image},
        }
        for lang in ("ko", "en"):
            for name, result in results.items():
                made[name, lang] = plugin.render_report(name, lang, **result)
        made["hostile", "en"] = plugin.make_report("architecture", "en", model_path=str(hostile_model))
        made["custom-classification", "en"] = plugin.make_report(
            "classification", "en", image=str(hostile_image), model_path=str(stripe_model_files["keras"]),
            class_names=["horizontal", "vertical"], preprocessing="rescale")
    finally:
        settings_between_tests()
    return {"out": out, "made": made, "gallery": gallery}


def page(made) -> tuple[str, Page]:
    text = Path(made["path"]).read_text("utf-8")
    return text, Page(text)


def test_contract_fields_and_files(reports):
    for (_kind, lang), made in reports["made"].items():
        assert set(made) == {"path", "markdown_path", "post_path", "title", "kind", "lang"}
        assert made["lang"] == lang and Path(made["path"]).is_file() and Path(made["markdown_path"]).is_file()
        assert Path(made["path"]).is_relative_to(reports["out"])


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_architecture_report_content(reports, lang):
    text, parsed = page(reports["made"]["architecture", lang])
    words = parsed.all_text
    assert parsed.find("html")[0]["lang"] == lang
    for stage in ("conv1", "conv2_x", "conv3_x", "conv4_x", "conv5_x"):
        assert stage in words
    assert "[1x1, 64; 3x3, 64; 1x1, 256] x 3" in words
    assert "25,636,712" in words and "3.86 G" in words and "74.9%" in words
    assert ("Keras Applications 표" if lang == "ko" else "Keras Applications table") in words
    assert ("잔차 블록" if lang == "ko" else "Residual blocks") in words  # the study note
    assert ("구조 표" if lang == "ko" else "Structure table") in words
    assert parsed.find("details") and "conv5_block3_out" in words  # the whole layer table, collapsible
    diagram = [attrs for attrs in parsed.find("div") if attrs.get("id") == "diagram"]
    assert diagram and parsed.find("svg")
    assert text.index('id="stage-view"') < text.index('<details id="full-diagram">') < text.index('id="diagram"')
    assert ("conv2_x 블록 하나" if lang == "ko" else "one conv2_x block") in words
    markdown = Path(reports["made"]["architecture", lang]["markdown_path"]).read_text("utf-8")
    assert markdown.index("_files/stages.png)") < markdown.index("_files/diagram-1.png)")


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_classification_report_content(reports, lang):
    text, parsed = page(reports["made"]["classification", lang])
    words = parsed.all_text
    alerts = [attrs for attrs in parsed.find("div") if attrs.get("role") == "alert"]
    assert len(alerts) == 2  # both models ran untrained: a visible warning each
    assert "MobileNetV2" in words and "AlexNet" in words
    assert ("개일까 고양이일까?" if lang == "ko" else "Dog or cat?") in words
    images = parsed.find("img")
    assert len(images) == 1 and images[0]["src"].startswith("data:image/jpeg;base64,")
    assert len(parsed.find("svg")) == 2  # one probability chart per model


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_study_report_with_real_weights(reports, lang):
    """The agreement sentence first, Korean names, the right answer, Grad-CAM side by side, the preprocessing experiment."""
    text, parsed = page(reports["made"]["study", lang])
    words = parsed.all_text
    summary = [attrs for attrs in parsed.find("p") if attrs.get("id") == "summary"]
    assert summary and text.index('id="summary"') < text.index("<h2>")
    if lang == "ko":
        assert "두 모델 모두 &#39;개&#39;라고 답했고" in text and "알래스칸 말라뮤트 (malamute)" in words
        assert "모델은 어디를 보았을까? (Grad-CAM)" in words and "전처리 실험" in words and "학습 때 방식" in words
        markdown = Path(reports["made"]["study", lang]["markdown_path"]).read_text("utf-8")
        assert "두 모델 모두 '개'라고 답했고" in markdown and "&#39;" not in markdown  # quotes as a blog shows them
    else:
        assert "Both say dog: malamute" in words and "German_shepherd" not in words
        assert "Where did each model look? (Grad-CAM)" in words and "The preprocessing experiment" in words
    pictures = [attrs["src"] for attrs in parsed.find("img")]
    assert len([src for src in pictures if src.startswith("data:image/png;base64,")]) == 3  # a heat map per model, the regions
    assert "top_activation" in words and "pillow" in text  # raw pixels, no preprocessing: a pillow


def test_comparison_report_content(reports):
    text, parsed = page(reports["made"]["comparison", "en"])
    words = parsed.all_text
    for model in ("AlexNet", "MobileNetV2", "EfficientNetLite0"):
        assert model in words
    assert "Accuracy against multiply-adds" in words and "Inference time measured here" in words
    assert len(parsed.find("svg")) == 5 and "cat_chelsea.png" in words


def test_hostile_names_stay_text(reports):
    for key in (("classification", "en"), ("hostile", "en"), ("custom-classification", "en")):
        text, parsed = page(reports["made"][key])
        assert not parsed.find("script")
        assert all(not name.startswith("on") for _, attrs in parsed.tags for name in attrs)
        assert len(parsed.find("img")) <= 1
    _, parsed = page(reports["made"]["hostile", "en"])
    assert HOSTILE_LAYER in parsed.all_text
    _, parsed = page(reports["made"]["classification", "en"])
    assert HOSTILE_IMAGE in parsed.all_text
    markdown = Path(reports["made"]["classification", "en"]["markdown_path"]).read_text()
    assert "<img src=x" not in markdown and "&lt;img src=x onerror=alert(1)>" in markdown


def test_pages_are_self_contained(reports):
    for made in reports["made"].values():
        text, parsed = page(made)
        assert not parsed.find("script") and not parsed.find("link") and not parsed.find("iframe")
        for _, attrs in parsed.tags:
            for name in ("src", "href"):
                if name in attrs:
                    assert attrs[name].startswith(("data:", "#")), attrs[name]
        assert "@import" not in text and "url(" not in text.replace("data:", "")


def test_markdown_version_with_pictures_beside_it(reports):
    made = reports["made"]["architecture", "ko"]
    markdown = Path(made["markdown_path"]).read_text("utf-8")
    assert markdown.startswith("# ResNet50 구조 분석")
    assert "| conv2\\_x | 56x56 | 35 (간격 4) | 3 |" in markdown  # the receptive field beside the output size
    for made in reports["made"].values():
        markdown_path = Path(made["markdown_path"])
        for link in [part.split(")")[0] for part in markdown_path.read_text("utf-8").split("](")[1:]]:
            assert (markdown_path.parent / link).is_file(), link


def test_index_lists_every_report(reports):
    listed = 0
    for folder in (reports["out"], reports["out"] / "gallery"):  # each folder's index lists the reports made in it
        index = Page((folder / "index.html").read_text("utf-8"))
        links = {attrs["href"] for attrs in index.find("a")}
        for made in [*reports["made"].values(), *reports["gallery"]]:
            if Path(made["path"]).parent == folder:
                assert Path(made["path"]).name in links
        listed += len(json.loads((folder / "index.json").read_text()))
    assert listed == len({made["path"] for made in [*reports["made"].values(), *reports["gallery"]]})


def test_bad_requests(tmp_path):
    with pytest.raises(InvalidInputError, match="kind to be one of"):
        plugin.make_report("poster", model="VGG16")
    with pytest.raises(InvalidInputError, match="lang to be one of"):
        plugin.make_report("architecture", "fr", model="VGG16")
    with pytest.raises(InvalidInputError, match="architecture options among"):
        plugin.make_report("architecture", model="VGG16", image="x.png")
    with pytest.raises(AccessDeniedError, match="inside the output folder"):
        plugin.make_report("architecture", output_dir="/etc", model="AlexNet")
    with pytest.raises(AccessDeniedError):
        plugin.make_report("architecture", output_dir="../../escape", model="AlexNet")
    with pytest.raises(InvalidInputError, match="file_name"):
        plugin.make_report("architecture", model="AlexNet", file_name="../x")
    assert not list(tmp_path.glob("out/*.html"))


def test_templates_are_found_in_an_installed_wheel(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                            str(tmp_path / "dist"), str(REPO)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("cnn_study_lab-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "plugin/templates/base.html" in names and "plugin/templates/architecture.md" in names
        for path in (REPO / "plugin").rglob("*"):  # every module and data file of the package
            if path.is_file() and "__pycache__" not in path.parts:
                assert path.relative_to(REPO).as_posix() in names, path
        archive.extractall(tmp_path / "site")
    code = ("from plugin.render.templates import template_dir, template_environment; print(template_dir()); "
            "template_environment().get_template('architecture.html'); from plugin import words; words.text('report.params', 'ko')")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    found = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == str(tmp_path / "site" / "plugin" / "templates")


def test_gallery_command_regenerates_the_kept_gallery(reports):
    kept = sorted(p.name for p in (REPO / "reports" / "gallery").glob("*.html"))
    assert len(kept) == 21  # 10 reports x 2 languages, and the index
    assert sorted(p.name for p in (reports["out"] / "gallery").glob("*.html")) == kept
    assert sorted(Path(m["path"]).name for m in reports["gallery"]) == [name for name in kept if name != "index.html"]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's chromium is required at {CHROMIUM}: ./test.sh installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--host-resolver-rules=MAP * ~NOTFOUND"])
        yield launched
        launched.close()


def open_page(browser, path: Path, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=True)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.route("http*://**/*", lambda route: route.abort())
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return context, page, requests


def not_blank(png: bytes) -> bool:
    import io

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)
    return pixels.std() > 10 and (pixels < 128).mean() > 0.01


def test_korean_pages_have_no_english_sentence(reports):
    """No run of four English words outside code, citations, drawings and the English names shown
    beside Korean class names ("호랑거미 (black and gold garden spider)") on a Korean page."""
    import re

    from plugin.engine.imagenet import imagenet_classes

    class_names = [item.label.replace("_", " ") for item in imagenet_classes()]
    for (kind, lang), made in reports["made"].items():
        if lang != "ko":
            continue
        _, parsed = page(made)
        prose = " ".join(parsed.prose)
        runs = re.findall(r"(?:\b[A-Za-z][A-Za-z'-]*\b[ ,]+){3}\b[A-Za-z][A-Za-z'-]*\b", prose)
        allowed = ("CNN Study Lab", "Keras Applications")
        leftovers = [run for run in runs if not any(name in run for name in allowed)
                     and not any(run.rstrip(" ,") in name for name in class_names)]
        assert not leftovers, (kind, leftovers[:5])


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_architecture_pages_count_batch_norm_and_draw_the_skip_connection(reports, lang):
    _, resnet = page(reports["made"]["architecture", lang])
    words = resnet.all_text
    assert "26,560" in words and "53,120" in words and "MiB" in words
    assert ("스킵 연결" if lang == "ko" else "skip connection") in words
    assert "[1x1/2, 128; 3x3, 128; 1x1, 512], [1x1, 128; 3x3, 128; 1x1, 512] x 3" in words  # only the first block strides
    _, vgg = page(reports["made"]["vgg-architecture", lang])
    assert ("블록 수" if lang == "ko" else "Blocks") not in vgg.all_text  # VGG has no repeated blocks: no empty column


def test_markdown_pictures_are_png_or_jpeg_with_alt_text(reports):
    import re

    for made in reports["made"].values():
        markdown = Path(made["markdown_path"]).read_text("utf-8")
        for alt, link in re.findall(r"!\[([^\]]*)\]\(([^)]+)\)", markdown):
            assert alt.strip() and link.endswith((".png", ".jpg")), (made["path"], alt, link)
            with Image.open(Path(made["markdown_path"]).parent / link) as picture:  # opaque: readable on a dark blog too
                assert "A" not in picture.getbands() or picture.getextrema()[-1][0] == 255, (made["path"], link)


def test_pages_render_in_chromium(reports, browser):
    """Each page at desktop width, then (the same page, the window narrowed) at a phone's."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for (kind, lang), made in reports["made"].items():
        context, page, requests = open_page(browser, Path(made["path"]), 1280)
        try:
            for width in (1280, 400):
                page.set_viewport_size({"width": width, "height": 900})
                page.evaluate("window.scrollTo(0, 0)")  # the first screen, as a reader opens it
                check_layout(page, kind, lang, made, width)
            assert all(url.startswith(("file:", "data:")) for url in requests), requests
        finally:
            context.close()


def check_layout(page, kind: str, lang: str, made: dict, width: int) -> None:
    # the whole page at desktop width; the phone's first screens (its layout is checked below for the whole page)
    png = page.screenshot(full_page=width > 400, path=str(ARTIFACTS / f"{kind}-{lang}-{width}.png"))
    assert not_blank(png), f"{kind} {lang} renders blank"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{kind} {lang} is {overflow}px too wide at {width}px"
    if kind in ("architecture", "vgg-architecture", "hostile"):
        stages = page.locator("#stage-view svg").bounding_box()  # the stage view: whole on a phone's screen
        assert stages and stages["x"] + stages["width"] <= width and stages["height"] <= 900
        assert not page.locator("#diagram svg").is_visible()  # the full diagram is folded under it
        page.locator("#full-diagram summary").click()
        diagram = page.locator("#diagram svg")
        assert diagram.is_visible()
        box = diagram.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100
        assert page.locator("#diagram svg text").count() > 10
        label = page.locator("#diagram svg text").first.bounding_box()
        assert label["height"] >= 7, f"{kind} {lang}: diagram text {label['height']:.1f}px tall at {width}px"
        page.locator("#full-diagram summary").click()  # folded again, as the next width opens it
    for table in page.locator("table.wide").all():  # the first column stays in view as the table scrolls
        assert table.locator("th").first.evaluate("e => getComputedStyle(e).position") == "sticky"
    assert page.title() == made["title"]


def test_pages_print_with_the_whole_diagram(reports, browser):
    made = reports["made"]["architecture", "en"]
    context, page, _ = open_page(browser, Path(made["path"]), 1280)
    try:
        page.emulate_media(media="print")
        style = page.evaluate("(() => { const s = getComputedStyle(document.querySelector('#diagram'));"
                              " return [s.overflow, s.maxHeight]; })()")
        assert style == ["visible", "none"]  # printed, the diagram is not cut to a scroll box
        assert page.locator("#diagram svg").bounding_box()["height"] > 1000  # nor folded away
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF") and len(pdf) > 50_000
        (ARTIFACTS / "architecture-en-print.pdf").write_bytes(pdf)
    finally:
        context.close()


def test_a_post_zip_holds_the_markdown_and_every_picture_it_shows(reports):
    import re
    import zipfile

    for made in reports["made"].values():
        markdown = Path(made["markdown_path"]).read_text("utf-8")
        with zipfile.ZipFile(made["post_path"]) as post:
            names = set(post.namelist())
            assert post.read(Path(made["markdown_path"]).name).decode("utf-8") == markdown
        shown = {link for _, link in re.findall(r"!\[([^\]]*)\]\(([^)]+)\)", markdown)}
        assert shown <= names, shown - names  # one upload: every picture the post shows travels with it


def markdown_pictures(markdown: str) -> list[tuple[str, str]]:
    """The (alt text, link) of each picture a Markdown file shows, in order."""
    import re

    return re.findall(r"!\[([^\]]*)\]\(([^)]+)\)", markdown)


def test_a_structure_posts_zip_carries_the_stage_view_of_each_model(reports):
    """The structure report's post is not text alone: each model's stage view is a picture in its
    zip, where the Markdown's link finds it, and the page shows the same drawing inline."""
    for lang in ("ko", "en"):
        made = next(m for m in reports["gallery"] if Path(m["path"]).stem == f"alexnet-vgg16-resnet50-structure-{lang}")
        shown = markdown_pictures(Path(made["markdown_path"]).read_text("utf-8"))
        assert [Path(link).name for _, link in shown] == ["stages-AlexNet.png", "stages-VGG16.png", "stages-ResNet50.png"]
        with zipfile.ZipFile(made["post_path"]) as post:
            for alt, link in shown:
                assert alt and post.read(link).startswith(b"\x89PNG"), link
        page = Path(made["path"]).read_text("utf-8")
        assert page.count('<div class="stage-view">') == 3 and "conv2_x" in page


def test_a_reports_downloads_are_its_page_post_markdown_and_pictures(reports, tmp_path, monkeypatch):
    """What the app offers for a report, in order: the page, the post's zip, the Markdown and its
    pictures as the Markdown shows them. A report without its zip (a gallery kept in a checkout, a
    report made before reports had one) gets it made; a folder that cannot be written gets it made
    in the temporary folder; a shared report takes its zip along."""
    import shutil

    from plugin import api
    from plugin.render import report_store
    from plugin.render.report_store import download_files

    made = reports["made"]["comparison", "ko"]
    source = Path(made["path"]).parent
    stem = Path(made["path"]).stem
    folder = tmp_path / "kept"
    folder.mkdir()
    for name in (f"{stem}.html", f"{stem}.md"):
        shutil.copy2(source / name, folder / name)
    shutil.copytree(source / f"{stem}_files", folder / f"{stem}_files")
    shown = [link for _, link in markdown_pictures((folder / f"{stem}.md").read_text("utf-8"))]

    offered = download_files(folder / f"{stem}.html")
    assert [path.name for path in offered[:3]] == [f"{stem}.html", f"{stem}.zip", f"{stem}.md"]
    assert [f"{path.parent.name}/{path.name}" for path in offered[3:]] == shown  # each picture, as the post shows them
    with zipfile.ZipFile(offered[1]) as post:
        assert set(post.namelist()) == {f"{stem}.md", *shown}
        assert post.read(f"{stem}.md") == (folder / f"{stem}.md").read_bytes()

    (folder / f"{stem}.zip").unlink()
    write = report_store.write_file

    def read_only(path, data):  # a folder this process cannot write (a gallery installed read-only)
        if Path(path).parent == folder:
            raise PermissionError(13, "Permission denied", str(path))
        write(path, data)

    monkeypatch.setattr(report_store, "write_file", read_only)
    elsewhere = download_files(folder / f"{stem}.html")[1]
    monkeypatch.undo()
    assert elsewhere.name == f"{stem}.zip" and not elsewhere.is_relative_to(folder) and zipfile.is_zipfile(elsewhere)

    api.share_report(Path(made["path"]).name, source, tmp_path / "shared")
    assert (tmp_path / "shared" / f"{stem}.zip").read_bytes() == Path(made["post_path"]).read_bytes()
    assert download_files(tmp_path / "not-a-report.html") == [tmp_path / "not-a-report.html"]  # a page alone: itself


def test_the_structure_report_of_the_homeworks_three_models(tmp_path):
    """The post's six columns for AlexNet, VGG16 and ResNet50, and one table across them, every
    number from describe_architecture; through Python, the tool and the command line alike."""
    from plugin.doors.cli import main
    from plugin.doors.tools import call_tool

    plugin.configure(output_dir=tmp_path)
    made = plugin.make_report("structure", "ko")
    page = Path(made["path"]).read_text("utf-8")
    for column in ("No.", "유형", "주요 구성요소", "summary() 정보", "plot_model 정보", "역할 및 특징"):
        assert f"<th>{column}</th>" in page or f'<th class="num">{column}</th>' in page
    for name in ("AlexNet", "VGG16", "ResNet50"):
        facts = plugin.describe_architecture(name, include_diagram=False)
        assert f"<h2>{name}</h2>" in page and f"{facts['total_params']:,}" in page
        for row in facts["structure"]:
            assert f"파라미터 {row['params']:,}" in page and row["details"] in page
        assert sum(row["params"] for row in facts["structure"]) == facts["total_params"]  # the kinds add up to the model
    assert "잔차(스킵) 연결" in page and "2012" in page and "2016" in page
    english = call_tool("render_report", {"kind": "structure", "models": ["AlexNet", "VGG16"], "lang": "en"})
    assert english["title"] == "AlexNet, VGG16: structure" and not Path(english["path"]).is_absolute()
    assert main(["report", "structure", "ResNet50", "--lang", "en"]) == 0


def test_a_new_kind_of_report_is_one_module_and_its_templates(tmp_path, launch):
    """A kind declared here, in the test (its builder and two templates in a folder of its own), is
    offered by the render_report tool's schema, the command line and make_report, with no other
    module edited."""
    from plugin.doors.tools import call_tool, tool_specs
    from plugin.render.pages import Page, ReportKind, register, unregister

    (tmp_path / "flyer.html").write_text("{% extends 'base.html' %}{% block content %}<h1>{{ title }}</h1>"
                                         "<ul>{% for name in names %}<li>{{ name }}</li>{% endfor %}</ul>{% endblock %}")
    (tmp_path / "flyer.md").write_text("# {{ title }}\n{% for name in names %}- {{ name|md }}\n{% endfor %}")

    def build(inputs, t, lang):
        names = [facts["model"] for facts in inputs["result"]["models"]]
        return Page(title=f"Flyer: {', '.join(names)}", name_parts=names, context={"names": names})

    register(ReportKind(name="flyer", description="a one-line flyer naming models", inputs=("result",), options=("models",),
                        subject="models", many_subjects=True, template_dir=tmp_path,
                        run=lambda api, options: {"result": api.structures(options.get("models"))},
                        prepare=lambda api, given: {"result": given["result"]}, build=build))
    try:
        kind = next(spec for spec in tool_specs("mcp") if spec["name"] == "render_report")["inputSchema"]["properties"]["kind"]
        assert "flyer" in kind["enum"] and "a one-line flyer naming models" in kind["description"]
        assert plugin.REPORT_OPTIONS["flyer"] == ("models",) and "flyer" in plugin.report_kinds()
        made = plugin.make_report("flyer", "en", models=["AlexNet", "VGG16"])
        assert Path(made["path"]).read_text("utf-8").count("<li>") == 2 and "- VGG16" in Path(made["markdown_path"]).read_text()
        called = call_tool("render_report", {"kind": "flyer", "models": ["ResNet50"], "lang": "en"})
        assert called["title"] == "Flyer: ResNet50"
        printed = launch("--lang", "en", "report", "flyer", "AlexNet")
        assert printed.returncode == 0 and printed.stdout.strip().splitlines()[0].endswith(".html"), printed.stderr
        assert [Path(line).suffix for line in printed.stdout.split()] == [".html", ".md", ".zip"]  # the post's zip too
    finally:
        unregister("flyer")
    assert "flyer" not in plugin.report_kinds()


@pytest.fixture(scope="module")
def depth_reports(tmp_path_factory):
    """The structure report of the homework's three models and ResNet50's architecture report, in both languages."""
    out = tmp_path_factory.mktemp("depth-reports")
    plugin.configure(output_dir=out)
    try:
        return {(kind, lang): plugin.make_report(kind, lang, **options)
                for kind, options in (("structure", {}), ("architecture", {"model": "ResNet50"})) for lang in ("ko", "en")}
    finally:
        settings_between_tests()


DEPTHS = {
    "ko": ["50층 = 주 경로의 합성곱 49 + 완전 연결 1",
           "107개 = 합성곱 53 (지름길의 1x1 투영 합성곱 4 포함) · 배치 정규화 53 · 완전 연결(Dense) 1",
           "16층 = 합성곱 13 + 완전 연결 3", "8층 = 합성곱 5 + 완전 연결 3"],
    "en": ["50 = 49 convolutions on the main path + 1 fully connected",
           "107 = 53 convolutions (incl. 4 1x1 projection shortcuts) · 53 batch norms · 1 dense",
           "16 = 13 convolutions + 3 fully connected", "8 = 5 convolutions + 3 fully connected"],
}


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_structure_report_says_depth_as_the_papers_do_and_keras_beside(depth_reports, lang):
    made = depth_reports["structure", lang]
    html, parsed = page(made)
    markdown = Path(made["markdown_path"]).read_text("utf-8")
    words = parsed.all_text
    for said in DEPTHS[lang]:
        assert said in words and said in markdown.replace("\\", ""), said
    for year in ("2012 (NIPS 2012)", "2014 (ICLR 2015)", "2015 (CVPR 2016)"):
        assert year in words and year in markdown
    vgg = "3x3, 64 (x2); 3x3, 128 (x2); 3x3, 256 (x3); 3x3, 512 (x6)"  # network order, as a student writes it
    assert vgg in words and vgg in markdown


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_architecture_report_gives_both_depths_and_keras_shapes(depth_reports, lang):
    made = depth_reports["architecture", lang]
    html, parsed = page(made)
    markdown = Path(made["markdown_path"]).read_text("utf-8")
    card = [attrs for attrs in parsed.find("div") if attrs.get("id") == "paper-depth"]
    assert card and DEPTHS[lang][0] in parsed.all_text and DEPTHS[lang][1] in parsed.all_text
    assert "He et al. 2015 (CVPR 2016)" in parsed.all_text
    for text in (parsed.all_text, markdown):
        assert "(None, 224, 224, 3)" in text and "(None, 7, 7, 2048)" in text  # the layer table, as Keras prints shapes
        assert "[None, 224" not in text and "[null" not in text


def cut_cells(page) -> list[str]:
    """The stacked tables' cells whose text does not fit their box or lies outside the window."""
    return page.evaluate("""() => [...document.querySelectorAll("table.stack td")].filter(cell => cell.offsetParent)
        .filter(cell => { const box = cell.getBoundingClientRect();
                          return cell.scrollWidth > cell.clientWidth + 1 || box.left < -1 || box.right > innerWidth + 1; })
        .map(cell => cell.innerText.slice(0, 40))""")


@pytest.mark.parametrize("kind", ["structure", "architecture"])
def test_structure_and_stage_tables_read_whole_at_1280_and_as_cards_at_400(depth_reports, browser, kind):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for lang in ("ko", "en"):
        context, page, _ = open_page(browser, Path(depth_reports[kind, lang]["path"]), 1280)
        try:
            for width in (1280, 400):
                page.set_viewport_size({"width": width, "height": 900})
                assert page.locator("table.stack td").count() > 20
                assert cut_cells(page) == [], (kind, lang, width)
                header = page.locator("table.stack thead").first.bounding_box()
                cards = page.locator("table.stack tr").nth(1).evaluate("row => getComputedStyle(row).display")
                if width == 400:  # a phone: one card per row, the column names beside each value instead of a header row
                    assert cards == "block" and header["height"] <= 2
                    assert page.locator("table.stack td").nth(1).evaluate(
                        "cell => getComputedStyle(cell, '::before').content").strip('"')
                else:
                    assert cards == "table-row" and header["height"] > 10
                page.screenshot(path=str(ARTIFACTS / f"{kind}-tables-{lang}-{width}.png"), full_page=True)
        finally:
            context.close()
