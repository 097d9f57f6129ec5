"""The stage view: one box per stage, from the facts, one residual block drawn out with its skip
connection, the whole of it on one phone screen and nothing drawn over anything else."""

import re
import xml.etree.ElementTree as ET

import pytest

import plugin
from plugin import words
from plugin.render.stage_view import WIDTH, stage_view_svg

SVG = "{http://www.w3.org/2000/svg}"
PHONE_HEIGHT = 800  # px at the drawing's own width of 400: a phone held upright shows it whole


def drawing(name: str, lang: str = "en") -> tuple[dict, ET.Element]:
    facts = plugin.describe_architecture(name, include_diagram=False)
    svg = stage_view_svg(facts, words.section("report", lang))
    assert svg is not None
    return facts, ET.fromstring(str(svg))


def rects(element: ET.Element) -> list[tuple[float, float, float, float]]:
    return [tuple(float(rect.get(key)) for key in ("x", "y", "width", "height")) for rect in element.iter(f"{SVG}rect")]


def overlap(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


@pytest.mark.parametrize("name", ["ResNet50", "VGG16", "EfficientNetLite0", "InceptionV3", "DenseNet121", "AlexNet"])
def test_one_box_per_stage_on_one_phone_screen(name):
    facts, root = drawing(name)
    width, height = float(root.get("width")), float(root.get("height"))
    assert width == WIDTH and height <= PHONE_HEIGHT
    boxes = root.findall(f".//{SVG}g[@class='stage']")
    titles = ["".join(box.find(f"{SVG}text").itertext()) for box in boxes]
    assert titles == [stage["name"] + (f" × {stage['blocks']}" if (stage["blocks"] or 0) > 1 else "") for stage in facts["stages"]]
    shapes = [shape for group in root.iter(f"{SVG}g") if group.get("class") in ("stage", "pill", "block") for shape in rects(group)]
    assert all(0 <= x and x + w <= width and 0 <= y and y + h <= height for x, y, w, h in shapes)
    assert not any(overlap(a, b) for i, a in enumerate(shapes) for b in shapes[i + 1:])


def test_resnet50_draws_one_bottleneck_with_its_skip_connection():
    facts, root = drawing("ResNet50", "ko")
    titles = ["".join(box.find(f"{SVG}text").itertext()) for box in root.findall(f".//{SVG}g[@class='stage']")]
    assert titles == ["conv1", "conv2_x × 3", "conv3_x × 4", "conv4_x × 6", "conv5_x × 3", "head"]
    block = root.find(f".//{SVG}g[@class='block']")
    texts = ["".join(node.itertext()) for node in block.iter(f"{SVG}text")]
    assert texts == ["conv2_x 블록 하나", "1x1, 64", "3x3, 64", "1x1, 256", "+", "스킵 연결"]
    assert facts["stages"][1]["residual_block"] == ["1x1, 64", "3x3, 64", "1x1, 256"]
    skip = [path for path in block.iter(f"{SVG}path") if path.get("stroke-dasharray")]
    ys = [float(y) for y in re.findall(r"V([0-9.]+)", skip[0].get("d"))]
    kernel_ys = [y for _, y, _, _ in rects(block)]
    assert ys and ys[0] > max(kernel_ys)  # it runs past every kernel, to the addition below them


def test_a_plain_network_has_no_block_and_says_so():
    facts, root = drawing("VGG16")
    assert root.find(f".//{SVG}g[@class='block']") is None and all(s["residual_block"] is None for s in facts["stages"])
    assert "".join(root.find(f".//{SVG}g[@class='pill']").itertext()).strip() == "input 224x224x3"


def test_one_stage_draws_nothing(tmp_path):
    import keras

    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(inputs)))
    model.save(tmp_path / "tiny.keras")
    plugin.configure(image_roots=[*plugin.get_settings().image_roots, tmp_path])
    facts = plugin.describe_architecture(model_path=str(tmp_path / "tiny.keras"), include_diagram=False)
    assert len(facts["stages"]) == 1 and stage_view_svg(facts, words.section("report", "en")) is None
