"""plot_model diagrams: valid SVG naming the right layers, PNG and DOT, the disk cache, nested
models, hostile layer names, and a missing Graphviz."""

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import plugin
from plugin.errors import RenderError

SVG = "{http://www.w3.org/2000/svg}"


def svg_texts(path) -> list[str]:
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def test_svg_names_the_layers_with_shapes():
    diagram = plugin.describe_architecture("VGG16")["diagram"]
    assert diagram["format"] == "svg" and diagram["bytes"] == Path(diagram["path"]).stat().st_size
    texts = svg_texts(diagram["path"])
    joined = " ".join(texts)
    for layer in ("block1_conv1", "block5_pool", "flatten", "fc1", "predictions"):
        assert layer in joined
    assert "(None, 224, 224, 64)" in joined  # shapes shown
    assert Path(diagram["path"]).is_relative_to(plugin.get_settings().output_dir)


def test_repeating_a_request_uses_the_cached_file():
    first = plugin.describe_architecture("AlexNet", rankdir="LR")["diagram"]
    stamp = os.stat(first["path"]).st_mtime_ns
    again = plugin.describe_architecture("AlexNet", rankdir="LR")["diagram"]
    assert again == first and os.stat(again["path"]).st_mtime_ns == stamp  # not drawn again (its speed: the benchmark)
    other = plugin.describe_architecture("AlexNet", rankdir="TB")["diagram"]
    assert other["path"] != first["path"]


def test_png_and_dot_formats():
    png = plugin.describe_architecture("AlexNet", diagram_format="png", show_shapes=False)["diagram"]
    assert Path(png["path"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png["path"].endswith(".png")
    dot = plugin.describe_architecture("AlexNet", diagram_format="dot")["diagram"]
    text = Path(dot["path"]).read_text()
    assert text.startswith("digraph") and "conv1" in text and "fc8" in text


def test_large_graph_densenet121_is_drawn():
    diagram = plugin.describe_architecture("DenseNet121", include_diagram=True)["diagram"]
    texts = " ".join(svg_texts(diagram["path"]))
    assert "conv5_block16_concat" in texts and "predictions" in texts


def test_expand_nested_draws_inner_layers_in_a_cluster():
    plain = " ".join(svg_texts(plugin.describe_architecture("ConvNeXtTiny")["diagram"]["path"]))
    nested = plugin.describe_architecture("ConvNeXtTiny", expand_nested=True)["diagram"]
    root = ET.parse(nested["path"]).getroot()
    clusters = [g for g in root.iter(f"{SVG}g") if g.get("class") == "cluster"]
    texts = " ".join(svg_texts(nested["path"]))
    assert clusters and "convnext_tiny_stem" in texts
    assert "(Conv2D)" in texts and "(LayerNormalization)" in texts
    assert texts.count("(Conv2D)") > plain.count("(Conv2D)")


HOSTILE = ['<script>alert(1)<script>', 'a&b "quoted" <b>bold<b>', "x' onload='y", "}{ ] [ | \\"]


def test_hostile_layer_names_are_escaped(tmp_path):
    import keras

    inputs = keras.Input((16, 16, 3), name=HOSTILE[0])
    x = keras.layers.Conv2D(4, 3, name=HOSTILE[1])(inputs)
    x = keras.layers.Flatten(name=HOSTILE[2])(x)
    outputs = keras.layers.Dense(2, activation="softmax", name=HOSTILE[3])(x)
    path = tmp_path / "hostile.keras"
    keras.Model(inputs, outputs, name='<img src=x onerror="bad()">').save(path)
    facts = plugin.describe_architecture(model_path=path, detail="layers")
    assert [row["name"] for row in facts["layers"]] == HOSTILE
    root = ET.parse(facts["diagram"]["path"]).getroot()
    assert not [el for el in root.iter() if el.tag.split("}")[-1] in ("script", "img", "foreignObject")]
    texts = " ".join(svg_texts(facts["diagram"]["path"]))
    for name in HOSTILE:
        assert name in texts  # shown as text, exactly as named
    dot = plugin.describe_architecture(model_path=path, diagram_format="dot")["diagram"]
    assert "&lt;script&gt;" in Path(dot["path"]).read_text()


def test_nested_model_file_with_expand_nested(tmp_path):
    import keras

    block = keras.Sequential([keras.Input((8, 8, 4)), keras.layers.Conv2D(4, 3, padding="same", name="inner_conv"),
                              keras.layers.BatchNormalization(name="inner_bn")], name="my_block")
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 1, name="stem")(inputs)
    x = block(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="head")(keras.layers.GlobalAveragePooling2D(name="gap")(x))
    path = tmp_path / "nested.keras"
    keras.Model(inputs, outputs).save(path)
    facts = plugin.describe_architecture(model_path=path, expand_nested=True, detail="layers")
    assert [row["name"] for row in facts["layers"] if row.get("parent") == "my_block"] == ["inner_conv", "inner_bn"]
    texts = " ".join(svg_texts(facts["diagram"]["path"]))
    assert "inner_conv" in texts and "my_block" in texts
    collapsed = plugin.describe_architecture(model_path=path, detail="layers", include_diagram=False)
    assert "my_block" in [row["name"] for row in collapsed["layers"]]
    assert collapsed["macs"] == facts["macs"] == 8 * 8 * 3 * 4 + 8 * 8 * 9 * 4 * 4 + 4 * 3


def test_missing_graphviz_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere
    with pytest.raises(RenderError, match=r"apt-get install graphviz"):
        plugin.describe_architecture("AlexNet", rankdir="LR", show_shapes=False)
    dot_text = plugin.describe_architecture("AlexNet", diagram_format="dot", show_shapes=False)["diagram"]
    assert Path(dot_text["path"]).exists()  # the text form needs no Graphviz


def test_the_svg_and_the_markdown_pieces_hold_the_whole_drawing():
    """Graphviz's own PNG is the whole drawing; the SVG has its size and a viewBox that holds it all
    (not the unscaled one Graphviz writes at 96 dpi, which cut the last layers and the output
    shapes), and the report's Markdown pieces, laid one under the other, are that drawing."""
    import io

    from PIL import Image

    facts = plugin.describe_architecture("VGG16", detail="layers", diagram_format=["svg", "png"])
    files = facts["diagram"]["files"]
    with Image.open(files["png"]["path"]) as whole:
        size = whole.size
    root = ET.parse(files["svg"]["path"]).getroot()
    assert (root.get("width"), root.get("height")) == (f"{size[0]}px", f"{size[1]}px")
    assert root.get("viewBox") == f"0 0 {size[0]} {size[1]}"
    made = plugin.render_report("architecture", "en", facts=facts)
    pieces = sorted(Path(made["markdown_path"]).with_name(Path(made["markdown_path"]).stem + "_files").glob("diagram-*.png"),
                    key=lambda p: int(p.stem.split("-")[1]))
    sizes = [Image.open(io.BytesIO(p.read_bytes())).size for p in pieces]
    assert {w for w, _ in sizes} == {size[0]} and abs(sum(h for _, h in sizes) - size[1]) <= len(sizes)
    assert "predictions" in " ".join(svg_texts(files["svg"]["path"]))


def test_pieces_drawn_band_by_band_are_the_whole_picture_cut():
    """Each band of a Graphviz drawing is drawn from only the nodes and edges it shows: laid one under
    the other, the pieces are pixel for pixel the drawing rasterised whole."""
    import io

    import numpy as np
    from PIL import Image

    from plugin.render.pictures import svg_to_pngs
    from plugin.render.svg import inline_svg

    svg = str(inline_svg(Path(plugin.describe_architecture("AlexNet")["diagram"]["path"]).read_bytes()))
    whole = np.asarray(Image.open(io.BytesIO(svg_to_pngs(svg, max_piece=10**6)[0])).convert("L"), dtype=int)
    pieces = [np.asarray(Image.open(io.BytesIO(piece)).convert("L"), dtype=int) for piece in svg_to_pngs(svg, max_piece=400)]
    assert len(pieces) > 3 and all(piece.shape[1] == whole.shape[1] for piece in pieces)
    stacked = np.concatenate(pieces)
    assert stacked.shape == whole.shape and np.array_equal(stacked, whole)


@pytest.mark.parametrize("name", ["VGG16", "ResNet50", "AlexNet", "EfficientNetLite0"])
def test_every_layer_box_is_whole_in_exactly_one_markdown_piece(name):
    """Checked on the drawing's own node coordinates (Graphviz's polygons), not by eye: the cuts run
    between nodes, pieces are at most 1,600 px wide and 4,000 px tall, and each piece is a band."""
    import io

    from PIL import Image

    from plugin.render.pictures import MAX_PIECE_PX, MAX_PIECE_WIDTH_PX, piece_bounds, svg_to_pngs
    from plugin.render.svg import inline_svg

    svg = str(inline_svg(Path(plugin.describe_architecture(name)["diagram"]["path"]).read_bytes()))
    bands, nodes, scale = piece_bounds(svg)
    assert len(nodes) >= 15  # AlexNet's 15 layers and more
    assert max(bottom for _, bottom in nodes) <= bands[-1][1] - 4  # the last box, with Graphviz's margin below it
    for top, bottom in nodes:
        holding = [band for band in bands if band[0] <= top + 0.5 and bottom <= band[1] + 0.5]
        assert len(holding) == 1, (name, top, bottom, bands)
    assert all((bottom - top) * scale <= MAX_PIECE_PX + 1 for top, bottom in bands)
    sizes = [Image.open(io.BytesIO(piece)).size for piece in svg_to_pngs(svg)]
    assert len(sizes) == len(bands) and all(width <= MAX_PIECE_WIDTH_PX and height <= MAX_PIECE_PX + 1 for width, height in sizes)
    assert all(abs(height - (bottom - top) * scale) <= 2 for (_, height), (top, bottom) in zip(sizes, bands))
