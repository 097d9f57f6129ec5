"""describe_architecture over the registry and model files: totals, multiply-adds against the
papers, stage tables row by row, structure, layers and the contract's fields."""

import pytest

import plugin
from plugin.engine.models.registry import MODELS
from plugin.errors import InvalidInputError, UnknownModelError

CONTRACT = {"model", "input_shape", "output_shape", "total_params", "trainable_params", "non_trainable_params", "macs",
            "flops", "size_mb", "num_layers", "depth", "stages", "structure", "layers", "preprocessing", "published",
            "diagram"}


@pytest.mark.parametrize("name", list(MODELS))
def test_totals_agree_with_keras_for_every_registry_model(name, architectures):
    model = architectures(name)
    facts = plugin.describe_architecture(name, include_diagram=False, detail="layers")
    assert CONTRACT <= set(facts)
    assert facts["total_params"] == model.count_params()
    assert facts["trainable_params"] + facts["non_trainable_params"] == facts["total_params"]
    assert sum(row["params"] for row in facts["layers"]) == facts["total_params"]
    assert sum(stage["params"] for stage in facts["stages"]) == facts["total_params"]
    assert sum(stage["macs"] for stage in facts["stages"]) == facts["macs"]
    assert facts["num_layers"] == len(model.layers) == len(facts["layers"])
    assert facts["flops"] == 2 * facts["macs"]
    assert facts["size_mb"] == pytest.approx(facts["total_params"] * 4 / 2**20, abs=0.01)
    assert facts["input_shape"] == [None, *MODELS[name].input_shape]
    published = MODELS[name].published
    if published.depth is not None:
        assert facts["depth"] == published.depth  # the Keras table counts layers with weights
    assert facts["preprocessing"]["mode"] == MODELS[name].preprocessing
    assert facts["published"]["source"] == published.source


@pytest.mark.parametrize(("name", "paper"), [("VGG16", 15.3e9), ("VGG19", 19.6e9), ("ResNet50", 3.8e9),
                                             ("ResNet101", 7.6e9), ("MobileNetV2", 300e6)])
def test_multiply_adds_agree_with_the_papers_within_3_percent(name, paper):
    macs = plugin.describe_architecture(name, include_diagram=False)["macs"]
    assert macs == pytest.approx(paper, rel=0.03)


def test_size_mb_matches_the_keras_table_for_vgg16():
    assert plugin.describe_architecture("VGG16", include_diagram=False)["size_mb"] == pytest.approx(528, abs=0.5)


def stage_rows(name):
    return [(s["name"], s["output_size"], s["blocks"], s["params"], s["layout"])
            for s in plugin.describe_architecture(name, include_diagram=False)["stages"]]


def test_vgg16_stage_table():
    assert stage_rows("VGG16") == [
        ("block1", "112x112", None, 38_720, "[3x3, 64] x 2, 2x2/2 max pool"),
        ("block2", "56x56", None, 221_440, "[3x3, 128] x 2, 2x2/2 max pool"),
        ("block3", "28x28", None, 1_475_328, "[3x3, 256] x 3, 2x2/2 max pool"),
        ("block4", "14x14", None, 5_899_776, "[3x3, 512] x 3, 2x2/2 max pool"),
        ("block5", "7x7", None, 7_079_424, "[3x3, 512] x 3, 2x2/2 max pool"),
        ("classifier", "1000", None, 123_642_856, "flatten, [fc, 4096] x 2, fc, 1000"),
    ]


def test_resnet50_stage_table_follows_table_1_of_the_paper():
    assert stage_rows("ResNet50") == [
        ("conv1", "112x112", None, 9_728, "7x7/2, 64"),
        ("conv2_x", "56x56", 3, 220_032, "3x3/2 max pool, [1x1, 64; 3x3, 64; 1x1, 256] x 3, shortcut 1x1, 256"),
        ("conv3_x", "28x28", 4, 1_230_336,
         "[1x1/2, 128; 3x3, 128; 1x1, 512], [1x1, 128; 3x3, 128; 1x1, 512] x 3, shortcut 1x1/2, 512"),
        ("conv4_x", "14x14", 6, 7_129_088,
         "[1x1/2, 256; 3x3, 256; 1x1, 1024], [1x1, 256; 3x3, 256; 1x1, 1024] x 5, shortcut 1x1/2, 1024"),
        ("conv5_x", "7x7", 3, 14_998_528,
         "[1x1/2, 512; 3x3, 512; 1x1, 2048], [1x1, 512; 3x3, 512; 1x1, 2048] x 2, shortcut 1x1/2, 2048"),
        ("head", "1000", None, 2_049_000, "global avg pool, fc, 1000"),
    ]


def test_alexnet_stages_and_other_families():
    assert [row[0] for row in stage_rows("AlexNet")] == ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"]
    assert [row[2] for row in stage_rows("DenseNet121") if row[0].startswith("dense block")] == [6, 12, 24, 16]
    assert [row[0] for row in stage_rows("InceptionV3")][:2] == ["stem", "mixed0"]
    assert [row[0] for row in stage_rows("ConvNeXtTiny")] == ["stem", "stage 1", "stage 2", "stage 3", "stage 4", "head"]
    assert [row[2] for row in stage_rows("MobileNetV2") if row[0].startswith("bottleneck")] == [1, 2, 3, 4, 3, 3, 1]


def test_structure_table_is_what_students_write():
    structure = plugin.describe_architecture("VGG16", include_diagram=False)["structure"]
    assert [(row["kind"], row["count"]) for row in structure] == [
        ("input", 1), ("convolution", 13), ("pooling", 5), ("flatten", 1), ("dense", 2), ("output", 1)]
    conv = structure[1]
    assert conv["shapes"] == "224x224x64 -> 14x14x512" and conv["label"]["ko"] == "합성곱(Conv)"
    assert conv["role"]["en"] and conv["role"]["ko"]
    assert "1000 classes, softmax" in structure[-1]["role"]["en"]


def test_detail_levels():
    summary = plugin.describe_architecture("ConvNeXtTiny", include_diagram=False)
    assert summary["layers"] is None
    layers = plugin.describe_architecture("ConvNeXtTiny", include_diagram=False, detail="layers")["layers"]
    full = plugin.describe_architecture("ConvNeXtTiny", include_diagram=False, detail="full")["layers"]
    assert len(full) > len(layers)
    assert any(row.get("parent") == "convnext_tiny_stem" for row in full)
    first_conv = next(row for row in layers if row["type"] == "Sequential")
    assert first_conv["macs"] > 0 and first_conv["kernel"] == "4x4/4, 96"
    row = next(row for row in plugin.describe_architecture("ResNet50", include_diagram=False, detail="layers")["layers"]
               if row["name"] == "conv2_block1_add")
    assert row["inbound"] == ["conv2_block1_0_bn", "conv2_block1_3_bn"] and row["type"] == "Add"


def test_preprocessing_card():
    card = plugin.describe_architecture("DenseNet121", include_diagram=False)["preprocessing"]
    assert card["mode"] == "torch" and card["input_size"] == [224, 224] and card["channel_order"] == "RGB"
    assert card["function"] == "keras.applications.densenet.preprocess_input"
    assert "0.229" in card["description"]["en"] and card["description"]["ko"]


def test_a_model_file_is_described_offline(stripe_model_files):
    facts = plugin.describe_architecture(model_path=stripe_model_files["keras"], detail="layers", include_diagram=False)
    assert facts["model"] == "stripes.keras" and facts["published"] is None
    assert facts["input_shape"] == [None, 48, 48, 3] and facts["output_shape"] == [None, 2]
    assert facts["preprocessing"]["mode"] is None
    assert [stage["name"] for stage in facts["stages"]] == ["stage 1 (46x46)", "stage 2 (23x23)", "stage 3 (21x21)", "head"]
    assert facts["macs"] == 46 * 46 * 3 * 3 * 3 * 8 + 21 * 21 * 3 * 3 * 8 * 16 + 16 * 2


@pytest.mark.parametrize(("argument", "value"), [("detail", "everything"), ("diagram_format", "jpg"), ("rankdir", "BT"),
                                                 ("include_diagram", "yes"), ("expand_nested", 1)])
def test_bad_arguments_are_clear_errors(argument, value):
    with pytest.raises(InvalidInputError, match=f"Expected {argument}"):
        plugin.describe_architecture("AlexNet", **{argument: value})
    with pytest.raises(UnknownModelError):
        plugin.describe_architecture("ResNet51")


def test_compare_models_side_by_side():
    result = plugin.compare_models(["AlexNet", "MobileNetV2"])
    rows = {row["model"]: row for row in result["models"]}
    assert rows["AlexNet"]["total_params"] > rows["MobileNetV2"]["total_params"]
    assert rows["MobileNetV2"]["macs"] == plugin.describe_architecture("MobileNetV2", include_diagram=False)["macs"]
    assert rows["MobileNetV2"]["published"]["top1"] == 0.713 and rows["AlexNet"]["depth"] == 8
    assert all(row["inference_ms"] > 0 for row in result["models"])
    assert result["timing"]["runs"] >= 3 and "TensorFlow" in result["timing"]["machine"]
    assert "predictions" not in rows["AlexNet"] and "image" not in result


def test_compare_models_with_an_image(favour_class_weights):
    image = plugin.config.EXAMPLES_DIR / "cat_chelsea.png"
    result = plugin.compare_models(["MobileNetV2"], image=image, weights=str(favour_class_weights(207)), top_k=3)
    row = result["models"][0]
    assert row["predictions"][0]["label"] == "golden_retriever" and row["verdict"]["label"] == "dog"
    assert result["image"]["source"] == "file cat_chelsea.png" and result["agreement"]["basis"] == "single model"
    with pytest.raises(InvalidInputError, match="Expected options among"):
        plugin.compare_models(["AlexNet"], image=image, model_path="x.keras")


@pytest.mark.parametrize("name", ["VGG16", "ResNet50", "AlexNet", "EfficientNetLite0"])
def test_the_structure_table_lists_every_layer_in_network_order(name, architectures):
    facts = plugin.describe_architecture(name, include_diagram=False)
    assert sum(row["count"] for row in facts["structure"]) == facts["num_layers"]  # no layer left out
    from plugin.engine.architecture.structure import KINDS

    kind_of = {layer_type: kind for kind, types in KINDS for layer_type in types}
    order = []
    for layer in architectures(name).layers[:-1]:
        kind = kind_of.get(type(layer).__name__, "other")
        if kind not in order:
            order.append(kind)
    assert [row["kind"] for row in facts["structure"]] == order + ["output"]


def test_batch_normalisation_is_counted():
    facts = plugin.describe_architecture("ResNet50", include_diagram=False)
    assert facts["batch_norm"] == {"layers": 53, "channels": 26_560, "moving_statistics": 53_120, "trainable": 53_120}
    assert facts["batch_norm"]["moving_statistics"] == facts["non_trainable_params"] == 53_120
    assert plugin.describe_architecture("VGG16", include_diagram=False)["batch_norm"] is None


@pytest.mark.parametrize("name", ["AlexNet", "ResNet50"])
def test_the_keras_summary_is_keras_own_text_and_its_totals_are_count_params(name, architectures):
    import re

    facts = plugin.describe_architecture(name, detail="layers", include_diagram=False)
    text = facts["keras_summary"]
    assert text.startswith(f'Model: "{architectures(name).name}"') and "Layer (type)" in text and "Param #" in text
    totals = {kind: int(count.replace(",", "")) for kind, count in re.findall(r"(Total|Trainable|Non-trainable) params: ([\d,]+)", text)}
    assert totals == {"Total": architectures(name).count_params(), "Trainable": facts["trainable_params"],
                      "Non-trainable": facts["non_trainable_params"]}
    assert totals["Total"] == facts["total_params"]
    assert all(len(line) <= 124 for line in text.splitlines())  # whole lines: the Param # column is not cut off
    assert plugin.describe_architecture(name, include_diagram=False)["keras_summary"] is None  # the summary detail skips it


@pytest.mark.parametrize(("name", "paper", "keras"), [
    ("ResNet50", {"layers": 50, "convolutions": 49, "fully_connected": 1},
     {"weighted_layers": 107, "convolutions": 53, "projection_shortcuts": 4, "batch_norms": 53, "dense": 1}),
    ("VGG16", {"layers": 16, "convolutions": 13, "fully_connected": 3},
     {"weighted_layers": 16, "convolutions": 13, "projection_shortcuts": 0, "batch_norms": 0, "dense": 3}),
    ("AlexNet", {"layers": 8, "convolutions": 5, "fully_connected": 3},
     {"weighted_layers": 8, "convolutions": 5, "projection_shortcuts": 0, "batch_norms": 0, "dense": 3}),
])
def test_depth_as_the_paper_names_it_beside_what_keras_counts(name, paper, keras, architectures):
    facts = plugin.describe_architecture(name, include_diagram=False)
    assert facts["published"]["paper_depth"] == paper
    counts = facts["depth_counts"]
    assert {key: counts[key] for key in keras} == keras and facts["depth"] == keras["weighted_layers"]
    layers = [layer for layer in architectures(name).layers if layer.count_params() > 0]  # counted from the model itself
    assert counts["convolutions"] == sum(type(layer).__name__ == "Conv2D" for layer in layers)
    assert counts["batch_norms"] == sum(type(layer).__name__ == "BatchNormalization" for layer in layers)
    assert counts["dense"] == sum(type(layer).__name__ == "Dense" for layer in layers)


@pytest.mark.parametrize("name", [name for name, spec in MODELS.items()
                                  if spec.published.paper_depth and spec.published.paper_depth.convolutions])
def test_the_papers_depth_is_the_main_path_of_the_model_keras_builds(name):
    """Where a paper says what its depth counts, the built model has exactly that: its convolutions
    less the projection shortcuts, and its dense layers."""
    counts = plugin.describe_architecture(name, include_diagram=False)["depth_counts"]
    paper = MODELS[name].published.paper_depth
    assert counts["convolutions"] - counts["projection_shortcuts"] == paper.convolutions
    assert counts["dense"] == paper.fully_connected and counts["depthwise"] == 0


def test_papers_are_dated_as_they_appeared_with_their_venue():
    published = {name: plugin.describe_architecture(name, include_diagram=False)["published"]
                 for name in ("VGG16", "ResNet50", "AlexNet", "DenseNet121")}
    assert [(p["paper_year"], p["paper_venue"]) for p in published.values()] == [
        (2014, "ICLR 2015"), (2015, "CVPR 2016"), (2012, "NIPS 2012"), (2016, "CVPR 2017")]
    assert published["VGG16"]["paper"].startswith("Simonyan & Zisserman 2014 (ICLR 2015)")
    assert published["ResNet50"]["paper"].startswith("He et al. 2015 (CVPR 2016)")
    assert MODELS["MobileNetV2"].published.paper_depth is None  # its paper names no depth: none is made up


def test_the_structure_table_lists_kernels_in_network_order():
    structure = {row["kind"]: row for row in plugin.describe_architecture("VGG16", include_diagram=False)["structure"]}
    assert structure["convolution"]["details"] == "3x3, 64 (x2); 3x3, 128 (x2); 3x3, 256 (x3); 3x3, 512 (x6)"
    resnet = {row["kind"]: row for row in plugin.describe_architecture("ResNet50", include_diagram=False)["structure"]}
    assert resnet["convolution"]["details"].startswith("7x7/2, 64; 1x1, 64 (x3); 3x3, 64 (x3); 1x1, 256 (x9); 1x1/2, 128")


def test_shapes_are_said_as_keras_prints_them():
    from plugin.words.architecture import keras_shape

    layers = plugin.describe_architecture("VGG16", include_diagram=False, detail="layers")["layers"]
    assert layers[0]["output_shape"] == [None, 224, 224, 3]  # the result keeps its JSON list
    assert keras_shape(layers[0]["output_shape"]) == "(None, 224, 224, 3)"
    assert keras_shape([None, 1000]) == "(None, 1000)" and keras_shape([[None, 7, 512], [None, 7, 512]]) == "[(None, 7, 512), (None, 7, 512)]"
