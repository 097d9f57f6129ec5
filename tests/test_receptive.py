"""Receptive fields (plugin.engine.inside.receptive, walked in plugin.engine.architecture.receptive):
the published figures for real architectures, a brute-force check on a small model (perturb one
input pixel, see which output cells change), and the column in the architecture tables, the
reports and the Architecture tab."""

from pathlib import Path

import keras
import numpy as np
import pytest

import plugin
from plugin.engine.architecture.describe import load_subject
from plugin.engine.inside.receptive import cell_window, receptive_fields


def fields_of(name):
    return receptive_fields(load_subject(name).model)


def effective_padding(field):
    """Distill's effective padding P: how far cell (0, 0)'s window starts before the image."""
    return (field["size"] - 1) / 2 - field["start"]


# Araujo, Norris and Sim, "Computing Receptive Fields of Convolutional Neural Networks" (Distill,
# 2019) and its library's table (google-research/receptive_field), for TF-Slim's models at 224 px
# (Inception v3 at 299 px): receptive field, effective stride, effective padding.
@pytest.mark.parametrize(("name", "layer", "size", "stride", "padding"), [
    ("VGG16", "block5_pool", 212, 32, 90),
    ("AlexNet", "pool5", 195, 32, 64),
    ("InceptionV3", "mixed10", 1311, 32, 618),
    # Distill: resnet_v1_50 483, 32, 239. The field and stride agree; Keras pads the 3x3/2 max pool
    # with ZeroPadding2D(1) before a "valid" pool where TF-Slim's "SAME" pool on the even 112x112
    # map pads nothing before, so every later window starts one stride-2 step (2 px) earlier: 241.
    ("ResNet50", "conv5_block3_out", 483, 32, 241),
    ("ResNet101", "conv5_block3_out", 1027, 32, 513),  # Distill: resnet_v1_101 1027, 32, 511 (the same 2 px)
])
def test_published_receptive_fields(name, layer, size, stride, padding):
    field = fields_of(name)[layer]
    assert (field["size"], field["stride"], effective_padding(field)) == (size, stride, padding)


def test_vgg16_grows_layer_by_layer_as_the_textbook_table_does():
    fields = fields_of("VGG16")
    assert [fields[name]["size"] for name in ("block1_conv1", "block1_conv2", "block1_pool", "block2_conv1",
                                               "block3_pool", "block4_pool", "block5_conv3")] == [3, 5, 6, 10, 44, 100, 196]
    assert [fields[f"block{i}_pool"]["stride"] for i in range(1, 6)] == [2, 4, 8, 16, 32]
    assert "flatten" not in fields and "fc1" not in fields  # no height and width: no field


def test_inception_asymmetric_kernels_give_each_axis_its_own_size():
    fields = fields_of("InceptionV3")
    oblong = [field for field in fields.values() if "height" in field]
    assert oblong, "Inception's 1x7 and 7x1 kernels make windows taller than wide, or wider than tall"
    for field in oblong:
        assert field["height"]["size"] != field["width"]["size"] or field["height"]["stride"] != field["width"]["stride"]
        assert field["size"] == max(field["height"]["size"], field["width"]["size"])
    assert "height" not in fields["mixed10"]  # every module ends square


def test_models_with_operations_and_nested_blocks_get_fields_throughout():
    """ConvNeXt adds with `x + y` (a keras.ops Add, not a layer) and nests its stem in a Sequential."""
    fields = fields_of("ConvNeXtTiny")
    assert fields["convnext_tiny_stem"] == {"size": 4, "stride": 4, "start": 1.5}
    # stem 4/4; stages of 3, 3, 9, 3 blocks of 7x7 depthwise; 2x2/2 downsampling between them
    assert fields["convnext_tiny_stage_3_block_2_identity"]["size"] == 4 + 6 * 4 * 3 + 4 + 6 * 8 * 3 + 8 + 6 * 16 * 9 + 16 + 6 * 32 * 3


# ----- the brute-force check ------------------------------------------------------------------

def small_model():
    """Strides, dilation, padding both ways (and explicit), a pool, a separable and a depthwise
    convolution, an oblong kernel and a residual add, on an oblong input of odd and even sides."""
    kwargs = {"dtype": "float64", "use_bias": False}
    inputs = keras.Input((37, 34, 2), dtype="float64")
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same", name="c1", **kwargs)(inputs)
    x = keras.layers.ZeroPadding2D(((1, 0), (2, 1)), name="pad", dtype="float64")(x)
    x = keras.layers.Conv2D(4, 3, padding="valid", name="c2", **kwargs)(x)
    x = keras.layers.Conv2D(4, 3, dilation_rate=2, padding="valid", name="dilated", **kwargs)(x)
    x = keras.layers.MaxPooling2D(2, padding="same", name="pool", dtype="float64")(x)
    branch = keras.layers.Conv2D(4, (1, 3), padding="same", name="wide", **kwargs)(x)
    branch = keras.layers.SeparableConv2D(4, 3, padding="same", name="separable", **kwargs)(branch)
    x = keras.layers.Add(name="add", dtype="float64")([x, branch])
    x = keras.layers.DepthwiseConv2D(3, strides=2, padding="valid", name="depthwise", **kwargs)(x)
    return keras.Model(inputs, x)


@pytest.fixture(scope="module")
def probed():
    """The small model, its fields, and every spatial layer's output for one random input."""
    model = small_model()
    names = [layer.name for layer in model.layers[1:]]
    probe = keras.Model(model.input, [model.get_layer(name).output for name in names])
    base = np.random.default_rng(0).normal(size=(1, 37, 34, 2))
    return model, names, probe, base, receptive_fields(model)


def changed_cells(probe, base, names, row, column):
    """Which output cells of each layer change when input pixel (row, column) changes, either way: by
    so much that a cell it reaches becomes the largest of any max pool's window one way or the other
    (a small change may leave another cell the maximum, and the pooled cell unchanged)."""
    def run(batch):
        made = probe(batch)
        return [np.asarray(y)[0] for y in (made if isinstance(made, (list, tuple)) else [made])]

    outputs = run(base)
    changed = [np.zeros(y.shape[:2], bool) for y in outputs]
    for delta in (1e6, -1e6):
        moved = base.copy()
        moved[0, row, column, :] += delta
        for i, y in enumerate(run(moved)):
            changed[i] |= np.abs(y - outputs[i]).max(axis=-1) > 1e-9
    return dict(zip(names, changed))


def covering(field, shape, row, column):
    """The cells whose computed window holds input pixel (row, column)."""
    cells = np.zeros(shape, bool)
    for i in range(shape[0]):
        for j in range(shape[1]):
            top, left, bottom, right = cell_window(field, i, j)
            cells[i, j] = top <= row < bottom and left <= column < right
    return cells


@pytest.mark.parametrize(("row", "column"), [(0, 0), (0, 33), (36, 0), (36, 33), (18, 17), (5, 30), (33, 3)])
def test_the_windows_cover_exactly_the_cells_a_pixel_changes(probed, row, column):
    model, names, probe, base, fields = probed
    assert set(names) <= set(fields)
    for name, changed in changed_cells(probe, base, names, row, column).items():
        assert changed.any(), name
        expected = covering(fields[name], changed.shape, row, column)
        if name == "pad":  # the zeros ZeroPadding2D adds are no cells of the image: compare the cells it keeps
            expected, changed = expected[1:, 2:-1], changed[1:, 2:-1]
        np.testing.assert_array_equal(expected, changed, err_msg=name)


def test_by_a_dilated_kernel_over_padding_the_window_is_a_bound():
    """Where a dilated kernel's outer taps fall on the padding of a map inside the network, the
    window (Distill's, a box) still counts them: a border cell may be said to see a few image pixels
    it skips. Inside the image the box is exact, and it never leaves out a pixel that counts."""
    inputs = keras.Input((24, 24, 1), dtype="float64")
    x = keras.layers.Conv2D(3, 5, strides=2, padding="same", use_bias=False, dtype="float64", name="c1")(inputs)
    x = keras.layers.Conv2D(3, 3, dilation_rate=2, padding="same", use_bias=False, dtype="float64", name="dilated")(x)
    model = keras.Model(inputs, x)
    field = receptive_fields(model)["dilated"]
    base = np.random.default_rng(1).normal(size=(1, 24, 24, 1))
    inner = slice(2, -2)  # cells whose every tap is a cell of the image
    for row, column in [(0, 0), (23, 23), (12, 11), (23, 5)]:
        changed = changed_cells(model, base, ["dilated"], row, column)["dilated"]
        expected = covering(field, changed.shape, row, column)
        assert (expected >= changed).all()
        np.testing.assert_array_equal(expected[inner, inner], changed[inner, inner])
        if (row, column) == (0, 0):  # cell (1, 1) taps c1's padding at -1, whose box reaches pixel 0, and skips c1's cell 0
            assert expected[1, 1] and not changed[1, 1]


def test_the_small_models_fields_follow_distills_formulas(probed):
    fields = probed[4]
    # "same" with stride 2 pads 2 rows in all on 37 rows (1 before), 1 column on 34 columns (0 before)
    assert fields["c1"]["height"] == {"size": 3, "stride": 2, "start": 0.0}
    assert fields["c1"]["width"] == {"size": 3, "stride": 2, "start": 1.0}
    assert fields["pad"]["width"]["start"] == 1.0 - 2 * 2  # two columns of zeros before: two cells of stride 2
    assert fields["dilated"]["size"] == 3 + 2 * 2 + 4 * 2  # a 3x3 kernel dilated 2 spans 5
    assert fields["wide"]["width"]["size"] == fields["wide"]["height"]["size"] + 2 * 4  # 1x3 at stride 4
    assert fields["add"] == fields["separable"]  # the union of the add's inputs: the larger, centred alike


# ----- the tables, the reports and the tab ----------------------------------------------------

@pytest.fixture(scope="module")
def vgg16_facts():
    return plugin.describe_architecture("VGG16", include_diagram=False, detail="layers")


def test_stage_structure_and_layer_tables_carry_the_field(vgg16_facts):
    stages = {stage["name"]: stage["receptive_field"] for stage in vgg16_facts["stages"]}
    assert stages["block5"] == {"size": 212, "stride": 32, "start": 15.5} and stages["classifier"] is None
    assert [stages[f"block{i}"]["size"] for i in range(1, 6)] == [6, 16, 44, 100, 212]
    structure = {row["kind"]: row["receptive_field"] for row in vgg16_facts["structure"]}
    assert structure["pooling"]["size"] == 212 and structure["convolution"]["size"] == 196 and structure["dense"] is None
    layers = {row["name"]: row["receptive_field"] for row in vgg16_facts["layers"]}
    assert layers["block3_conv3"] == {"size": 40, "stride": 4, "start": 1.5} and layers["fc1"] is None


@pytest.mark.parametrize(("lang", "said"), [("en", "212 (stride 32)"), ("ko", "212 (간격 32)")])
def test_the_architecture_report_shows_the_column(vgg16_facts, lang, said):
    files = plugin.render_report("architecture", lang, facts=vgg16_facts)
    page, markdown = Path(files["path"]).read_text("utf-8"), Path(files["markdown_path"]).read_text("utf-8")
    header = "Receptive field" if lang == "en" else "수용 영역"
    stages = page[page.index('id="stages"'):]
    assert f"<th>{header}</th>" in stages[:stages.index("</thead>")]
    assert f'data-label="{header}">{said}</td>' in stages  # a card's line on a phone
    assert page.count(said) == 3  # the stage, the structure (pooling) and the layer table
    assert f"| block5 | 7x7 | {said} |" in markdown and f"| {header} |" in markdown


@pytest.mark.parametrize(("lang", "said"), [("en", "483 (stride 32)"), ("ko", "483 (간격 32)")])
def test_the_structure_report_shows_the_column(lang, said):
    result = plugin.api.structures(["AlexNet", "ResNet50"])
    files = plugin.render_report("structure", lang, result=result)
    page, markdown = Path(files["path"]).read_text("utf-8"), Path(files["markdown_path"]).read_text("utf-8")
    header = "Receptive field" if lang == "en" else "수용 영역"
    assert f'data-label="{header}">{said}</td>' in page  # ResNet50's merges: its last Add
    assert said in markdown and f"| {header} |" in markdown


def test_the_architecture_tab_shows_the_column_in_each_table():
    from plugin.doors.web import architecture_tab

    outputs = architecture_tab.architecture_view(model="VGG16", model_file=None, expand_nested=False, rankdir="TB",
                                                 lang="ko", request=None, progress=lambda *a, **k: None)
    stages, structure, layers = outputs[4], outputs[5], outputs[6]
    assert 'data-label="수용 영역">212 (간격 32)</td>' in stages
    assert 'data-label="수용 영역">212 (간격 32)</td>' in structure
    assert layers["headers"][2:4] == ["출력 형태", "수용 영역"]  # the field beside the shape it is of
    by_name = {row[0]: row[3] for row in layers["data"]}
    assert by_name["block5_pool"] == "212 (간격 32)" and by_name["fc1"] == ""
