"""The notebooks in examples/ run as a reader runs them: each executed top to bottom in a fresh
python3 kernel (nbclient and ipykernel), offline, with the Lite models whose weights come with the
project, its files written into a temporary folder. Each notebook is the post itself, so what it
says must still be what it shows: the agreement sentence, the pictures, the walk ending at the
model's own number.

Also `plugin.show` outside a notebook: it returns the HTML it would display.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import plugin
from plugin.config import EXAMPLES_DIR
from plugin.errors import InvalidInputError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NO_NETWORK = "http://127.0.0.1:9"
"""A proxy nothing listens on: a download the notebooks should not make fails at once instead of reaching out."""


def run_notebook_node(notebook: nbformat.NotebookNode, folder: Path) -> nbformat.NotebookNode:
    """`notebook` executed in a new kernel, its output folder `folder`; it raises
    `nbclient.exceptions.CellExecutionError` (naming the cell) where a cell fails."""
    environment = dict(os.environ, CNNLAB_OUTPUT_DIR=str(folder / "out"), CNNLAB_IMAGE_ROOTS=str(EXAMPLES_DIR),
                       CNNLAB_AUTO_EXPORT="0", CNNLAB_LANG="ko", TF_CPP_MIN_LOG_LEVEL="3", HF_HUB_OFFLINE="1",
                       http_proxy=NO_NETWORK, https_proxy=NO_NETWORK, HTTP_PROXY=NO_NETWORK, HTTPS_PROXY=NO_NETWORK,
                       no_proxy="", NO_PROXY="")
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    client.execute(env=environment)
    return notebook


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> tuple[dict[str, nbformat.NotebookNode], Path]:
    """Both notebooks executed one after the other in one kernel (as a student runs them in one
    session: TensorFlow imported and the Lite models built once), each given back as its own
    notebook with its outputs; and the folder they ran in."""
    folder = tmp_path_factory.mktemp("notebooks")
    names = ["week3.ipynb", "chapter8_3.ipynb"]
    parts = {name: nbformat.read(EXAMPLES / name, as_version=4) for name in names}
    combined = nbformat.v4.new_notebook(metadata=parts[names[0]].metadata)
    combined.cells = [cell for name in names for cell in parts[name].cells]
    ran = run_notebook_node(combined, folder)
    start = 0
    for name in names:
        count = len(parts[name].cells)
        parts[name].cells = ran.cells[start:start + count]
        start += count
    return parts, folder


def outputs(notebook: nbformat.NotebookNode, cell: int | None = None) -> list[dict]:
    """Every output of the code cells (or of one cell, by its index among all cells)."""
    cells = notebook.cells if cell is None else [notebook.cells[cell]]
    return [output for each in cells if each.cell_type == "code" for output in each.get("outputs", [])]


def printed(notebook: nbformat.NotebookNode) -> str:
    return "".join(output.get("text", "") for output in outputs(notebook) if output["output_type"] == "stream"
                   and output.get("name") == "stdout")


def html_shown(notebook: nbformat.NotebookNode) -> list[str]:
    return [output["data"]["text/html"] for output in outputs(notebook)
            if output["output_type"] == "display_data" and "text/html" in output.get("data", {})]


def code_of(notebook: nbformat.NotebookNode) -> str:
    return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")


@pytest.mark.parametrize("name", ["week3.ipynb", "chapter8_3.ipynb"])
def test_committed_notebooks_hold_no_outputs(name):
    raw = json.loads((EXAMPLES / name).read_text("utf-8"))
    nbformat.validate(nbformat.reads(json.dumps(raw), as_version=4))
    for cell in raw["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, cell["source"]
    assert raw["metadata"]["kernelspec"]["name"] == "python3"


def test_week3_runs_offline_and_says_what_it_shows(executed):
    notebooks, tmp_path = executed
    notebook = notebooks["week3.ipynb"]
    text = printed(notebook)
    # The agreement sentences, in Korean and in English, as the notes below them tell them.
    assert "세 모델 모두 '개'라고 답했고 1위 클래스도 같습니다: 알래스칸 말라뮤트" in text
    assert "All three say dog: malamute." in text
    assert "All three say cat, but EfficientNetLite0 says tiger cat, EfficientNetLite1 says Egyptian cat" in text
    pages = html_shown(notebook)
    frames = [page for page in pages if "<iframe" in page]
    # The two classifications, the architecture page and the structure table: report pages in sandboxed frames.
    assert len(frames) == 4, len(frames)
    assert all('sandbox="allow-popups allow-popups-to-escape-sandbox"' in page and "allow-scripts" not in page for page in frames)
    assert "EfficientNetLite2" in frames[0] and "dog_bicycle.jpg" in frames[0] and "cat_chelsea.png" in frames[1]
    # Grad-CAM as pictures: the model's own answer, then where it found the bicycle we asked about.
    cams = [page for page in pages if "<iframe" not in page and "data:image/png;base64," in page]
    assert len(cams) == 2 and "malamute" in cams[0] and "bicycle-built-for-two" in cams[1]
    # The preprocessing experiment as its note tells it: caffe and none go wrong, the whole photo changes the breed.
    table = next(page for page in pages if "<table" in page and "<iframe" not in page)
    rows = dict(re.findall(r'<tr><td[^>]*>([^<]+)</td><td[^>]*>([^<]+)</td>', table))
    assert "bicycle-built-for-two" in rows["caffe"] and "pillow" in rows["none"] and "malamute" in rows["lite (학습 때 방식)"]
    assert "German shepherd" in next(value for key, value in rows.items() if key.startswith("사진 전체"))
    # model.summary()'s text (the note's 42,016 batch-norm statistics) and the plot_model diagram.
    assert "Total params: 4,694,024" in text and "Non-trainable params: 42,016" in text
    assert any("image/svg+xml" in output.get("data", {}) for output in outputs(notebook))
    post = Path(re.search(r"(\S+structure-EfficientNetLite0-EfficientNetLite1-EfficientNetLite2\S*\.zip)", text).group(1))
    assert post.is_file() and post.parent == tmp_path / "out"


def test_chapter8_3_looks_inside_the_example_dog(executed):
    notebooks, tmp_path = executed
    notebook = notebooks["chapter8_3.ipynb"]
    text = printed(notebook)
    # The walk ends at the model's own number.
    difference = re.search(r"walk difference: ([0-9.e+-]+)", text)
    assert difference and float(difference.group(1)) < 1e-4, text
    # Trained weights spread wider than untrained: the note says almost ten times.
    spread = re.search(r"trained std ([0-9.]+), untrained \(.+\) std ([0-9.]+)", text)
    assert spread and float(spread.group(1)) > 5 * float(spread.group(2)), text
    shown = html_shown(notebook)
    pages = "".join(shown)
    # The walk's numbers: each input channel's patch, kernel and products, then each step to the activation.
    assert "x · w" in pages and "batch_norm (stem_bn)" in pages and "activation (stem_activation)" in pages
    # The receptive fields the note cites.
    assert re.search(r"stem_conv</td><td[^>]*>3 \(", pages) and re.search(r"block6d_dwconv</td><td[^>]*>787 \(", pages)
    pictures = {path.name.split("-")[1] for path in (tmp_path / "out" / "inside").glob("*.png")}
    assert {"filters", "histograms", "features", "receptive", "maximized"} <= pictures, sorted(pictures)
    # filters, histograms, 8 stages' feature maps, the walked cell on the photo, one layer's map and its maximised images.
    assert sum(page.count("data:image/png;base64,") for page in shown if "<iframe" not in page) == 13
    report = [page for page in shown if "<iframe" in page]
    assert len(report) == 1 and "EfficientNetLite0" in report[0]
    assert Path(re.search(r"(\S+inside-EfficientNetLite0\S*\.zip)", text).group(1)).is_file()


def test_show_outside_a_notebook_returns_the_page_in_a_sandboxed_frame(tmp_path):
    report = plugin.make_report("structure", models=["EfficientNetLite0"], lang="en")
    html = plugin.show(report)
    assert isinstance(html, str) and "<iframe" in html and "sandbox=" in html
    assert "allow-scripts" not in html and "allow-same-origin" not in html
    assert "srcdoc=\"&lt;!DOCTYPE html&gt;" in html or "srcdoc=\"&lt;!doctype html&gt;" in html.lower()
    assert report["path"] in html


def test_show_gives_each_photo_of_a_batch_its_classification_page():
    batch = plugin.classify_images([EXAMPLES_DIR / "dog_bicycle.jpg", EXAMPLES_DIR / "cat_chelsea.png"],
                                   models=["EfficientNetLite0"], backend="keras")
    html = plugin.show(batch, lang="en")
    assert html.count("<iframe") == 2
    assert html.index("dog_bicycle.jpg") < html.index("cat_chelsea.png")
    assert "malamute" in html and "tiger cat" in html


def test_show_refuses_what_it_cannot_show():
    with pytest.raises(InvalidInputError, match="Expected a result of plugin's functions"):
        plugin.show({"answer": 42})
    with pytest.raises(InvalidInputError, match="Received: str"):
        plugin.show("dog.jpg")
