"""Real ImageNet weights on every machine: the EfficientNet-Lite files that come with the project,
converted without torch, give real answers offline, match an independent numpy forward pass, and
answer for callers who name no model."""

import json
import time

import numpy as np
import pytest
from PIL import Image

import plugin
from plugin.config import EXAMPLES_DIR
from plugin.doors.tools import call_tool
from plugin.engine.inference.prepared import load_registry_model
from plugin.engine.inference.preprocessing import image_to_array, preprocess
from plugin.engine.models import bundled, defaults
from plugin.engine.models.pth import load_pth
from plugin.engine.models.registry import MODELS
from plugin.engine.models.weights import keras_cache_dir
from plugin.errors import WeightsUnavailableError
from tests import reference_efficientnet_lite as reference
from tests.conftest import REPO

CAT = str(EXAMPLES_DIR / "cat_chelsea.png")
DOG = str(EXAMPLES_DIR / "dog_bicycle.jpg")
LITE = ["EfficientNetLite0", "EfficientNetLite1", "EfficientNetLite2"]
CATS, DOGS = range(281, 286), range(151, 269)


@pytest.mark.parametrize("name", LITE)
def test_the_weights_come_with_the_project(name):
    record = MODELS[name].imagenet
    source = bundled.source_file(record)
    assert source is not None and source.stat().st_size > 15e6
    listed = next(m for m in plugin.list_models()["models"] if m["name"] == name)
    assert listed["weights"]["available"] is True and listed["weights"]["source"] == "bundled"
    assert listed["weights"]["size_mb"] == round(source.stat().st_size / 2**20, 1)  # MiB, as the Keras table


def test_keras_downloads_are_listed_with_their_size_until_cached():
    vgg16 = next(m for m in plugin.list_models()["models"] if m["name"] == "VGG16")
    assert vgg16["weights"] == {"available": False, "source": "download", "size_mb": 528,
                                "options": ["imagenet", "file", "random"]}


@pytest.mark.parametrize("name", LITE)
def test_the_cat_is_a_cat_offline(name, offline):
    result = plugin.classify_image(CAT, models=[name])["results"][0]
    assert result["untrained"] is False and result["weights"] == "imagenet"
    assert result["predictions"][0]["index"] in CATS
    assert result["verdict"]["label"] == "cat" and result["verdict"]["probability"] > 0.8


@pytest.mark.parametrize("name", LITE)
def test_the_dog_is_a_dog_breed(name, offline):
    result = plugin.classify_image(DOG, models=[name])["results"][0]
    assert result["predictions"][0]["index"] in DOGS


@pytest.mark.parametrize("photo", ["eagle", "scream", "horses"])
def test_a_bird_a_painting_and_horses_are_other_for_every_model(photo, tmp_path):
    """Photos of no dog and no cat (tests/photos, MIT): "other" for all three models, through
    Python and a tool call alike, each verdict with the reason a page shows."""
    path = str(REPO / "tests" / "photos" / f"{photo}.jpg")
    plugin.configure(image_roots=[REPO / "tests" / "photos"], output_dir=tmp_path)
    result = plugin.classify_image(path, models=LITE)
    tool = call_tool("classify_image", {"image": path, "models": LITE})
    for answer in (result, tool):
        assert [r["verdict"]["label"] for r in answer["results"]] == ["other"] * 3, [r["verdict"]["basis"] for r in answer["results"]]
    for outcome in result["results"]:
        assert outcome["verdict"]["top1_group"] == "other" and "likeliest other class" in outcome["verdict"]["basis"]


def test_a_top1_dog_breed_is_a_dog_for_every_model_beside_the_bicycle():
    for outcome in plugin.classify_image(DOG, models=LITE)["results"]:
        assert outcome["predictions"][0]["index"] in DOGS
        assert outcome["verdict"]["label"] == "dog" and outcome["verdict"]["top1_group"] == "dog"


def test_the_default_model_calls_the_dog_a_dog(offline):
    result = plugin.classify_image(DOG)
    assert [r["model"] for r in result["results"]] == ["EfficientNetLite0"]
    assert result["results"][0]["verdict"]["label"] == "dog" and result["results"][0]["verdict"]["probability"] > 0.8


def test_conversion_is_cached_by_the_source_hash_and_loads_fast():
    spec = MODELS["EfficientNetLite1"]
    load_registry_model(spec.name, "imagenet")
    cached = keras_cache_dir() / f"efficientnetlite1-{spec.imagenet.sha256[:16]}.weights.h5"
    assert cached.is_file()
    stamp = cached.stat().st_mtime_ns
    started = time.perf_counter()
    model = spec.build(str(cached))
    elapsed = time.perf_counter() - started
    assert cached.stat().st_mtime_ns == stamp  # not converted again
    assert model.count_params() == 5_470_344
    print(f"EfficientNetLite1 built from the converted weights in {elapsed:.2f} s")


def test_a_changed_bundled_file_is_refused(monkeypatch):
    import dataclasses

    spec = MODELS["EfficientNetLite0"]
    forged = dataclasses.replace(spec.imagenet, sha256="0" * 64)
    with pytest.raises(WeightsUnavailableError, match="changed or damaged"):
        bundled.weights_file(spec.name, forged, spec.build, keras_cache_dir())


@pytest.mark.parametrize("name", LITE)
def test_converted_keras_model_equals_an_independent_numpy_forward_pass(name):
    spec = MODELS[name]
    model = load_registry_model(name, "imagenet").runner.model
    pixels = image_to_array(Image.open(CAT).convert("RGB"), spec.input_size)
    x = preprocess(pixels[None], "lite")
    keras_probabilities = np.asarray(model(x, training=False))[0]
    numpy_probabilities = reference.forward(load_pth(bundled.source_file(spec.imagenet)), x[0], spec.imagenet.variant)
    difference = float(np.abs(keras_probabilities - numpy_probabilities).max())
    assert difference < 1e-4, difference
    assert int(keras_probabilities.argmax()) == int(numpy_probabilities.argmax())


def test_the_lite_preprocessing_is_what_the_weights_were_trained_with():
    """Each batch normalisation keeps the statistics its input had in training. Fed the example
    photos, the network sees inputs closest to those under the lite recipe ((x - 127) / 128, with
    tf's x / 127.5 - 1 its near twin); every other mode is further off. Without any preprocessing
    the cat is lost."""
    import keras

    model = load_registry_model("EfficientNetLite0", "imagenet").runner.model
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    probe = keras.Model(model.input, [layer.input for layer in norms])
    photos = np.stack([image_to_array(Image.open(path).convert("RGB"), (224, 224)) for path in (CAT, DOG)])
    misfit = {}
    for mode in ("lite", "tf", "torch", "rescale", "caffe", "none"):
        seen = probe(preprocess(photos, mode), training=False)
        per_layer = []
        for layer, inputs in zip(norms, seen):
            trained = np.asarray(layer.moving_variance, dtype=np.float64)
            observed = np.asarray(inputs, dtype=np.float64).reshape(-1, trained.size).var(axis=0)
            per_layer.append(np.median(np.abs(np.log((observed + 1e-3) / (trained + 1e-3)))))
        misfit[mode] = float(np.mean(per_layer))
    others = [misfit[mode] for mode in ("torch", "rescale", "caffe", "none")]
    assert misfit["lite"] < min(others) and abs(misfit["lite"] - misfit["tf"]) < 0.05, misfit
    raw = plugin.classify_image(CAT, models=["EfficientNetLite0"], preprocessing="none")["results"][0]
    assert raw["verdict"]["label"] != "cat"


def test_a_caller_naming_no_model_gets_a_real_answer_and_a_note(offline):
    result = plugin.classify_image(CAT)
    assert [r["model"] for r in result["results"]] == ["EfficientNetLite0"]
    assert "VGG16 528 MiB" in result["note"] and "ResNet50 98 MiB" in result["note"]
    assert result["results"][0]["verdict"]["label"] == "cat"


def test_the_study_pair_answers_where_its_weights_are_ready(monkeypatch):
    monkeypatch.setattr(defaults, "weights_status", lambda spec: {"available": True, "source": "keras cache", "size_mb": 1})
    assert defaults.default_models("imagenet") == (["VGG16", "ResNet50"], None)
    monkeypatch.undo()
    assert defaults.default_models("random") == (["VGG16", "ResNet50"], None)  # random weights need no download


def test_the_same_answer_through_python_tools_and_the_command_line(capsys):
    from plugin.doors.cli import main

    python = plugin.classify_image(CAT, top_k=5)
    tool = call_tool("classify_image", {"image": CAT, "top_k": 5})
    for answer in (python, tool):
        answer["results"][0].pop("inference_ms")  # measured anew by each call
    assert tool == json.loads(json.dumps(python))
    capsys.readouterr()
    assert main(["classify", CAT, "--top-k", "5", "--json"]) == 0  # as launch.py runs it (tests/test_cli.py runs launch.py itself)
    cli = json.loads(capsys.readouterr().out)["images"][0]
    for answer in (tool, cli):
        assert [(p["index"], p["probability"]) for p in answer["results"][0]["predictions"]] == \
            [(p["index"], p["probability"]) for p in python["results"][0]["predictions"]]
