"""The catalogue: both languages say the same things, the Korean words are Korean, and every
message key the engine raises has its Korean words."""

import json
import re
from pathlib import Path

import pytest

import plugin
from plugin import words
from plugin.engine.models.registry import MODELS
from plugin.errors import AccessDeniedError, ImageError, PluginError, UnknownModelError

PACKAGE = Path(plugin.__file__).parent


def keys(node, prefix=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from keys(value, f"{prefix}{key}\0")
    else:
        yield prefix.rstrip("\0").replace("\0", ".")  # Gradio's keys have dots of their own ("common.complete")


def at(node, key: str):
    """The catalogue's words at a key of `keys`: its sections and, in "gradio", the dotted key whole."""
    section, _, rest = key.partition(".")
    node = node[section]
    if section == "gradio":
        return node[rest]
    for part in rest.split(".") if rest else []:
        node = node[part]
    return node


def test_both_languages_have_the_same_words():
    ko, en = words.catalogue("ko"), words.catalogue("en")
    # Korean only: the messages of common errors and the command line's help for each tool field (in
    # English both are the error's own message and the field's own description, written once).
    ko_keys = {key for key in keys(ko) if not key.startswith(("errors.messages.", "cli.help.fields.")) and key != "errors.generic"}
    assert ko_keys == {key for key in keys(en) if not key.startswith("errors.messages.")}
    for key in ko_keys:  # the same placeholders in both languages
        ko_value, en_value = at(ko, key), at(en, key)
        assert set(re.findall(r"{(\w*)}", str(ko_value))) == set(re.findall(r"{(\w*)}", str(en_value))), key


KOREAN_PAGE_LATIN = {"CNN", "Study", "Lab", "ImageNet", "Keras", "Applications", "MB", "ms", "Top", "FLOPs", "GFLOPs", "G",
               "MACs", "float32", "plot_model", "model_to_dot", "keras", "utils", "Graphviz", "R", "B", "No",  # colour channels; the post's "No." column
               "SVG", "HTML", "PNG",
               "JPEG", "WebP", "BMP", "TIFF", "GIF", "HTTP", "http", "https", "h5", "Language", "k", "x", "x1",
               "Conv", "Dense", "depthwise", "ReLU", "GELU", "swish", "stem", "SE", "ResNet", "DenseNet", "Inception",
               "Lambda", "allow_random_weights", "top_k", "image", "root", "caffe", "tf", "torch", "rescale", "none",
               "sudo", "apt", "get", "install", "graphviz", "brew", "macOS", "dot", "models", "json", "cat", "dog",
               "applications", "EfficientNet", "Lite", "run", "sh", "Grad", "CAM", "MiB", "WordNet", "id", "GPU", "TensorFlow", "CPU", "x56x256", "conv2_x", "x3", "bottleneck", "F", "y", "beagle",
               "zip", "ZIP", "Ray", "CSV", "JSON", "pip", "ray", "IPv6", "IDNA", "ONNX", "Runtime", "onnxruntime", "onnx",
               "backend", "auto", "imagenet", "int8", "render_report", "make_report", "API", "Gradio", *MODELS}
"""Latin words a Korean page may hold: names, units, file formats, code and commands, as Koreans write them."""


COMMAND_LINE_LATIN = {"MCP", "stdio", "LLM", "Markdown", "README", "URI", "data", "s", "localhost", "example", "org", "csv",
                      "Data", "reports", "gallery", "report", "architecture", "classification", "comparison", "structure",
                      "random", "weights", "allow", "model_path", "expected", "local", "summary", "layers", "full", "detail",
                      "name", "TB", "LR", "ko", "kitties", "_", "crop", "whole", "answer", "filters", "histograms",
                      "feature_maps", "receptive_field", "walk", "maximize", "describe", "method", "target", "dog", "cat",
                      "gradcam", "scorecam", "occlusion", "metrics"}
"""What the command line's help may name besides: the words one types (commands, option values) and
environment variables (CNNLAB_LANG)."""


def test_korean_interface_words_have_no_english_words():
    for key in keys(words.catalogue("ko")):
        if key.startswith(("ui.", "report.", "cli.", "errors.messages.", "structure.")):
            allowed = KOREAN_PAGE_LATIN | COMMAND_LINE_LATIN if key.startswith("cli.help.") else KOREAN_PAGE_LATIN
            node = at(words.catalogue("ko"), key)
            for text in node if isinstance(node, list) else [node]:
                code = re.sub(r"(model\.)?summary\(\)", "", str(text))  # Keras's API, as the homework names it
                latin = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", re.sub(r"{\w*}", "", code)))
                latin = {word for word in latin if not (key.startswith("cli.help.") and re.fullmatch(r"[A-Z][A-Z0-9]*_[A-Z0-9_]+", word))}
                assert latin <= allowed, (key, latin - allowed)


def engine_keys() -> set[str]:
    found = set()
    for path in (PACKAGE).rglob("*.py"):
        found |= set(re.findall(r'(?<![\w.])key="(\w+)"', path.read_text("utf-8")))
    return found


def test_every_message_key_the_engine_raises_is_said_in_korean():
    messages = words.section("errors", "ko")["messages"]
    raised = engine_keys()
    assert raised and raised <= set(messages), raised - set(messages)


@pytest.mark.parametrize("error", [
    UnknownModelError("x", key="unknown_model", model="'VGG17'", choices="VGG16, ResNet50"),
    AccessDeniedError("x", key="path_outside_roots", name="passwd"),
    ImageError("x", key="image_not_image", source="file notes.txt"),
])
def test_common_errors_are_said_in_korean(error):
    korean = words.error_text(error, "ko")
    assert re.search(r"[가-힣]", korean) and "Expected" not in korean
    assert words.error_text(error, "en") == "x"


def test_an_error_without_korean_words_keeps_its_message_after_a_korean_title():
    error = PluginError("Expected something. Received: nothing")
    assert words.error_text(error, "ko") == "오류: Expected something. Received: nothing"


def test_numbers_are_written_one_way():
    assert (words.si_number(138_357_544), words.si_number(15_470_264_320), words.si_number(950)) == ("138.4M", "15.5G", "950")
    assert (words.si_number(10 ** 3.5, spec=".3g"), words.si_number(10 ** 2.5, spec=".3g")) == ("3.16k", "316")
    assert (words.percent(0.91234), words.percent(0.2, digits=0)) == ("91.2%", "20%")
    assert words.si_number(None) == words.percent(None) == "-"


def test_catalogue_files_are_valid_json():
    for lang in words.LANGUAGES:
        json.loads((PACKAGE / "words" / f"{lang}.json").read_text("utf-8"))


def test_the_fallback_note_joins_the_models_in_the_pages_language():
    from plugin.words.results import fallback_note

    fallback = {"model": "EfficientNetLite0", "instead_of": ["VGG16", "ResNet50"], "download_mb": {"VGG16": 528, "ResNet50": 98}}
    korean = fallback_note(fallback, "ko")
    assert korean.startswith("VGG16·ResNet50의 ImageNet 가중치가") and " and " not in korean
    assert fallback_note(fallback, "en").startswith("VGG16 and ResNet50 have no ImageNet weights")


def test_an_image_error_names_its_source_in_the_readers_language(tmp_path):
    (tmp_path / "notes.txt").write_text("not a photo")
    plugin.configure(image_roots=[tmp_path])
    with pytest.raises(ImageError) as refused:
        plugin.api.load_image(str(tmp_path / "notes.txt"))
    assert words.error_text(refused.value, "ko").endswith("파일 notes.txt.")  # not "file notes.txt" in a Korean sentence
    assert "file notes.txt" in words.error_text(refused.value, "en")
