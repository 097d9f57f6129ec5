"""The ONNX Runtime backend: real weights give Keras's answer through every door, "auto" moves to
onnxruntime once the background export is done, the cache is keyed by weights and versions, one
session serves many threads (merging their batches), and a failed export leaves nothing behind."""

import concurrent.futures
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import plugin
from plugin.api import classify_image, classify_images, evaluate
from plugin.config import EXAMPLES_DIR
from plugin.doors.tools import TOOLS, call_tool
from plugin.engine.inference import onnx as engine_onnx
from plugin.engine.inference.batching import Batcher
from plugin.engine.inference.listing import list_models
from plugin.engine.inference.onnx import OnnxRunner, cache, cache_path, export_cached, export_onnx
from plugin.engine.inference.onnx import export as export_module
from plugin.engine.inference.prepared import load_registry_model
from plugin.engine.inference.preprocessing import image_to_array, preprocess
from plugin.engine.models.registry import MODELS
from plugin.engine.models.weights import parse_weights, ready_imagenet_file, weights_path
from plugin.errors import ExportError, InvalidInputError, UnknownModelError
from tests.conftest import REPO, settings_between_tests

LITE = "EfficientNetLite0"
CAT = EXAMPLES_DIR / "cat_chelsea.png"
DOG = EXAMPLES_DIR / "dog_bicycle.jpg"
CATS = range(281, 286)


def probabilities(result: dict) -> dict[int, float]:
    return {p["index"]: p["probability"] for p in result["predictions"]}


@pytest.fixture(scope="module", autouse=True)
def onnx_cache_folder(tmp_path_factory):
    """This module's exports are cached in a folder of its own, empty at the start."""
    folder = tmp_path_factory.mktemp("onnx-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cache, "onnx_cache_dir", lambda: folder)
        yield folder


@pytest.fixture(scope="module")
def auto_run(onnx_cache_folder):
    """With backend "auto" and nothing exported yet: Lite0's answer at once, its listed export state,
    the wait for the background export, and the answer after it. This module's one export of Lite0."""
    assert not list(onnx_cache_folder.iterdir())  # nothing exported yet
    plugin.configure(auto_export=True)
    try:
        first = classify_image(CAT, models=[LITE], top_k=20)["results"][0]
        listed_at_once = [m["onnx"] for m in list_models()["models"] if m["name"] == LITE][0]
        weights = ready_imagenet_file(MODELS[LITE])
        deadline = time.monotonic() + 300
        while engine_onnx.export_state(LITE, weights) != "ready":
            assert engine_onnx.export_state(LITE, weights) in ("queued", "exporting"), "the background export failed"
            assert time.monotonic() < deadline, "the background export took more than 5 minutes"
            time.sleep(0.2)
        later = classify_image(CAT, models=[LITE], top_k=20)["results"][0]
        listed_after = [m["onnx"] for m in list_models()["models"] if m["name"] == LITE][0]
    finally:
        settings_between_tests()
    return {"first": first, "listed_at_once": listed_at_once, "later": later, "listed_after": listed_after}


def test_auto_answers_with_keras_until_the_background_export_is_done_then_with_onnxruntime(auto_run):
    first, later = auto_run["first"], auto_run["later"]
    assert first["backend"] == "keras"
    assert auto_run["listed_at_once"]["imagenet_export"] in ("queued", "exporting", "ready")
    assert later["backend"] == "onnx"
    assert [p["index"] for p in later["predictions"][:5]] == [p["index"] for p in first["predictions"][:5]]
    assert later["predictions"][0]["index"] in CATS
    before, after = probabilities(first), probabilities(later)
    assert max(abs(before[i] - after[i]) for i in before.keys() & after.keys()) <= 1e-4
    assert auto_run["listed_after"] == {"exports": True, "imagenet_export": "ready"}


@pytest.fixture(scope="module")
def lite_imagenet(auto_run):
    """EfficientNetLite0's bundled ImageNet weights and their cached export: (weights file, export
    record), the export the background made for `auto_run` (a cache hit here)."""
    weights = weights_path(MODELS[LITE], parse_weights("imagenet"))
    return weights, export_cached(LITE, weights)


def test_each_backend_gives_the_same_real_answer_for_several_photos(lite_imagenet):
    images = [CAT, DOG, EXAMPLES_DIR / "cat_chelsea.png"]
    keras_run = classify_images(images, models=[LITE], top_k=20, backend="keras")["images"]
    onnx_run = classify_images(images, models=[LITE], top_k=20, backend="onnx")["images"]
    for by_keras, by_onnx in zip(keras_run, onnx_run):
        k, o = by_keras["results"][0], by_onnx["results"][0]
        assert (k["backend"], o["backend"]) == ("keras", "onnx")
        assert k["verdict"]["label"] == o["verdict"]["label"]
        shared = probabilities(k).keys() & probabilities(o).keys()
        assert len(shared) >= 15 and max(abs(probabilities(k)[i] - probabilities(o)[i]) for i in shared) <= 1e-4
    assert onnx_run[0]["results"][0]["verdict"]["label"] == "cat" and onnx_run[1]["results"][0]["verdict"]["label"] == "dog"


def test_the_runner_matches_keras_on_raw_outputs(lite_imagenet):
    spec = MODELS[LITE]
    batch = preprocess(image_to_array(Image.open(CAT).convert("RGB"), spec.input_size)[None], spec.preprocessing)
    expected = load_registry_model(LITE, "imagenet", "keras").runner(batch)
    runner = OnnxRunner(lite_imagenet[1]["path"])
    got = runner(batch)
    assert np.abs(got - expected).max() <= 1e-4 and got.argmax() == expected.argmax() and got.argmax() in CATS
    assert runner.backend == "onnx" and runner.input_shape == (None, 224, 224, 3) and runner.compile() is runner


def test_the_tools_take_a_backend_and_say_which_answered(lite_imagenet):
    for name in ("classify_image", "evaluate_images"):
        schema = TOOLS[name].input_schema()["properties"]["backend"]
        assert schema["enum"] == ["auto", "onnx", "keras"] and schema["default"] == "auto"
    result = call_tool("classify_image", {"image": str(CAT), "models": [LITE], "backend": "onnx"})
    assert result["results"][0]["backend"] == "onnx" and result["results"][0]["verdict"]["label"] == "cat"
    refused = call_tool("classify_image", {"image": str(CAT), "models": [LITE], "backend": "tensorrt"})
    assert refused["error"]["type"] == "InvalidArguments" and "backend" in refused["error"]["message"]


def test_evaluation_on_onnxruntime_counts_as_on_keras(lite_imagenet, tmp_path):
    for label, photo in (("cat", CAT), ("dog", DOG)):
        (tmp_path / "photos" / label).mkdir(parents=True)
        for i in range(3):
            Image.open(photo).convert("RGB").rotate(i * 7).save(tmp_path / "photos" / label / f"{i}.jpg")
    by_keras = evaluate(tmp_path / "photos", models=[LITE], backend="keras")["models"][0]
    by_onnx = evaluate(tmp_path / "photos", models=[LITE], backend="onnx")["models"][0]
    assert (by_keras["backend"], by_onnx["backend"]) == ("keras", "onnx")
    assert by_onnx["accuracy"] == by_keras["accuracy"] and by_onnx["accuracy"]["verdict"] >= 5 / 6
    assert by_onnx["confusion_matrix"] == by_keras["confusion_matrix"]


def test_random_weights_and_model_files_are_refused_on_onnx_and_run_on_keras_with_auto(stripe_model_files):
    with pytest.raises(InvalidInputError, match="random weights") as caught:
        classify_image(CAT, models=["AlexNet"], weights="random", allow_random_weights=True, backend="onnx")
    assert caught.value.key == "onnx_random_weights"
    auto = classify_image(CAT, models=["AlexNet"], weights="random", allow_random_weights=True, backend="auto")
    assert auto["results"][0]["backend"] == "keras"
    model_file = stripe_model_files["keras"]
    with pytest.raises(InvalidInputError, match="model file") as caught:
        classify_image(CAT, model_path=model_file, class_names=["horizontal", "vertical"], preprocessing="rescale", backend="onnx")
    assert caught.value.key == "onnx_model_file"
    with pytest.raises(InvalidInputError, match=r"one of \['auto', 'onnx', 'keras'\]"):
        classify_image(CAT, models=[LITE], backend="TensorRT")


def test_one_session_serves_concurrent_callers_and_merges_their_batches(lite_imagenet):
    runner = OnnxRunner(lite_imagenet[1]["path"])
    rng = np.random.default_rng(3)
    batches = [rng.uniform(-1, 1, (size, 224, 224, 3)).astype(np.float32) for size in (1, 2, 3, 5)]
    serial = [runner(batch) for batch in batches]
    order = [i % len(batches) for i in range(24)]
    before = runner.batcher.stats()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: (i, runner(batches[i])), order))
    after = runner.batcher.stats()
    assert all(np.abs(result - serial[i]).max() <= 1e-5 for i, result in results)  # batch size moves outputs by ~1e-7
    assert after["requests"] - before["requests"] == 24 and after["runs"] - before["runs"] < 24


@pytest.mark.parametrize("batch", [np.zeros((1, 224, 224, 3)), np.zeros((1, 240, 240, 3), np.float32),
                                   np.zeros((224, 224, 3), np.float32), [[0.0]]])
def test_a_batch_of_the_wrong_shape_or_type_is_a_clear_error(lite_imagenet, batch):
    with pytest.raises(InvalidInputError, match=r"Expected a float32 array of shape \(None, 224, 224, 3\)"):
        OnnxRunner(lite_imagenet[1]["path"])(batch)


def test_a_damaged_file_is_a_clear_error(tmp_path):
    damaged = tmp_path / "damaged.onnx"
    damaged.write_bytes(b"\x08\x07not a protobuf at all")
    with pytest.raises(ExportError, match="onnxruntime can load") as caught:
        OnnxRunner(damaged)
    assert "not a protobuf" not in str(caught.value) and str(tmp_path) not in str(caught.value)


def test_the_cache_key_follows_the_weights_and_versions(lite_imagenet, tmp_path, monkeypatch):
    weights = tmp_path / "lite0.weights.h5"
    weights.write_bytes(Path(lite_imagenet[0]).read_bytes())
    first = cache_path(LITE, weights)
    assert first == cache_path(LITE, lite_imagenet[0])  # the same bytes, wherever they are
    assert first.parent == cache.onnx_cache_dir() and first.name.startswith("efficientnetlite0-")
    weights.write_bytes(weights.read_bytes() + b"\0")
    assert cache_path(LITE, weights) != first
    installed = cache.versions()
    monkeypatch.setattr(cache, "versions", lambda: {**installed, "onnxruntime": "0.0"})
    assert cache_path(LITE, lite_imagenet[0]) != first


def test_a_second_export_is_a_cache_hit_without_a_worker(lite_imagenet, monkeypatch):
    def no_worker(*args, **kwargs):
        raise AssertionError("a worker was started for a cached export")

    monkeypatch.setattr(export_module.subprocess, "Popen", no_worker)
    assert export_cached(LITE, lite_imagenet[0]) == {"path": lite_imagenet[1]["path"], "cached": True}
    assert load_registry_model(LITE, "imagenet", "onnx").backend == "onnx"


def test_a_weights_file_that_does_not_fit_fails_and_leaves_nothing(tmp_path):
    weights = tmp_path / "broken.weights.h5"
    weights.write_bytes(b"not an HDF5 file at all")
    out = tmp_path / "out"
    with pytest.raises(InvalidInputError, match="Expected a weights file that fits EfficientNetLite0") as caught:
        export_onnx(LITE, weights, out / "lite0.onnx")
    assert "not an HDF5" not in str(caught.value) and "Traceback" not in str(caught.value)
    assert list(out.iterdir()) == []


def test_an_unknown_model_is_refused_before_any_worker(tmp_path):
    with pytest.raises(UnknownModelError):
        export_onnx("LeNet", None, tmp_path / "lenet.onnx")
    assert list(tmp_path.iterdir()) == []


def test_merged_callers_each_get_their_own_rows_or_the_shared_error():
    calls = []

    def run(batch):  # a model taking 20 ms a batch
        calls.append(len(batch))
        time.sleep(0.02)
        if (batch < 0).any():
            raise ValueError("negative")
        return batch[:, :1] * 2

    batcher = Batcher(run)
    assert batcher(np.ones((2, 3), np.float32)).tolist() == [[2.0], [2.0]] and calls == [2]  # alone: at once
    inputs = [np.full((1 + i % 3, 3), i, np.float32) for i in range(12)]
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        outputs = list(pool.map(batcher, inputs))
    assert all(np.array_equal(out, x[:, :1] * 2) for out, x in zip(outputs, inputs))
    assert len(calls) < 13
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(batcher, np.full((1, 3), -1.0 if i == 0 else 1.0, np.float32)) for i in range(4)]
        errors = [f.exception() for f in futures]
    assert errors[0] is not None and "negative" in str(errors[0])  # the failing caller always sees its error


def _features_and_probabilities(path, batch):
    """Run an exported file, returning the classifier's input (the last MatMul's) and the probabilities."""
    import onnx
    import onnxruntime as ort

    proto = onnx.load(path)
    head = [node for node in proto.graph.node if node.op_type in ("MatMul", "Gemm")][-1]
    proto.graph.output.append(onnx.helper.make_tensor_value_info(head.input[0], onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    probabilities, features = session.run(None, {session.get_inputs()[0].name: batch})
    return features, probabilities


def test_a_model_that_does_not_export_says_so_and_falls_back_to_keras(lite_imagenet, monkeypatch):
    monkeypatch.setitem(engine_onnx.UNSUPPORTED, LITE, "an operation onnxruntime lacks")
    listed = [m["onnx"] for m in list_models()["models"] if m["name"] == LITE][0]
    assert listed == {"exports": False, "imagenet_export": "none", "reason": "an operation onnxruntime lacks"}
    assert classify_image(CAT, models=[LITE])["results"][0]["backend"] == "keras"
    with pytest.raises(ExportError, match="an operation onnxruntime lacks") as caught:
        classify_image(CAT, models=[LITE], backend="onnx")
    assert caught.value.key == "onnx_unsupported"


def test_the_command_line_takes_a_backend(lite_imagenet, capsys):
    from plugin.doors.cli import main  # in this process (tests/test_cli.py starts launch.py itself)

    capsys.readouterr()
    status = main(["classify", str(CAT), "--models", LITE, "--backend", "onnx", "--json"])
    printed = capsys.readouterr()
    assert status == 0, printed.err[-2000:]
    result = json.loads(printed.out)["images"][0]["results"][0]
    assert result["backend"] == "onnx" and result["verdict"]["label"] == "cat"


@pytest.fixture(scope="module")
def lite_int8(lite_imagenet):
    """Lite0 with precision="int8": its int8 model made from the module's export and checked (once)."""
    return classify_image(CAT, models=[LITE], precision="int8")["results"][0]


def test_int8_lite0_is_kept_answers_the_same_and_says_so_in_every_door(lite_int8, labelled_photos, capsys):
    from plugin.doors.cli import main
    from plugin.engine.inference.onnx.int8 import NEEDED

    answer = lite_int8
    assert (answer["precision"], answer["backend"]) == ("int8", "onnx") and "precision_note" not in answer
    assert answer["verdict"]["label"] == "cat" and answer["predictions"][0]["index"] in CATS
    agreement = answer["int8_agreement"]  # on 160 held-out framings of photos calibration never saw
    assert all(agreement[name] >= needed for name, needed in NEEDED.items()), agreement
    assert agreement["images"] == 160 and agreement["top1"] >= 0.9
    assert [m["int8"] for m in list_models()["models"] if m["name"] == LITE] == [{"state": "ready", "agreement": agreement}]

    tool = call_tool("classify_image", {"image": str(CAT), "models": [LITE], "precision": "int8"})
    assert tool["results"][0]["precision"] == "int8" and tool["results"][0]["verdict"]["label"] == "cat"
    refused = call_tool("classify_image", {"image": str(CAT), "models": [LITE], "precision": "int8", "backend": "keras"})
    assert refused["error"]["type"] == "InvalidInputError" and "backend='keras'" in refused["error"]["message"]
    capsys.readouterr()
    assert main(["classify", str(CAT), "--models", LITE, "--precision", "int8"]) == 0
    printed = capsys.readouterr().out
    assert "ONNX Runtime · int8" in printed and "int8로 계산했습니다" in printed
    page = plugin.render_report("classification", "ko", result=plugin.classify_image(CAT, models=[LITE], precision="int8"),
                                image=str(CAT))
    text = Path(page["path"]).read_text("utf-8")
    assert "ONNX Runtime · int8" in text and "int8로 계산했습니다" in text
    evaluated = evaluate(labelled_photos, models=[LITE], precision="int8")["models"][0]
    assert evaluated["precision"] == "int8" and evaluated["accuracy"]["verdict"] == 1.0


def test_the_int8_file_is_kept_beside_its_export_at_about_half_its_size(lite_int8, lite_imagenet):
    """int8 weights (the classifier, kept in float32, is a quarter of Lite0's parameters); speed is
    measured by `launch.py bench`, not here."""
    from plugin.engine.inference.onnx.calibration import calibration_key
    from plugin.engine.inference.onnx.int8 import int8_path

    fp32 = Path(lite_imagenet[1]["path"])
    spec = MODELS[LITE]
    int8 = int8_path(LITE, fp32, calibration_key(spec))
    assert int8.is_file() and int8.stat().st_size < 0.55 * fp32.stat().st_size


def test_a_broken_calibration_is_refused_with_its_numbers_and_float32_answers(lite_int8, lite_imagenet, monkeypatch):
    from plugin.engine.inference.onnx import calibration, int8

    spec = MODELS[LITE]
    one_black = preprocess(np.zeros((1, *spec.input_size, 3), np.float32), spec.preprocessing)
    monkeypatch.setattr(calibration, "calibration_key", lambda spec: "one-black-image")
    monkeypatch.setattr(calibration, "calibration_batch", lambda spec: one_black)
    answer = classify_image(CAT, models=[LITE], precision="int8")["results"][0]
    record = int8.read_record(int8.int8_path(LITE, Path(lite_imagenet[1]["path"]), "one-black-image"))
    assert record and not record["kept"] and [tried["float32_convolutions"] for tried in record["tried"]] == [7]
    assert (answer["precision"], answer["backend"]) == ("float32", "onnx")  # float32 answers, and says why
    note = answer["precision_note"]
    assert note.startswith("Expected the int8 EfficientNetLite0 to agree with float32 on the 160 held-out check images.")
    assert "(needs 97%)" in note and "float32 answers" in note
    assert answer["int8_agreement"]["top1_confident"] < 0.97
    assert answer["verdict"]["label"] == "cat"




@pytest.mark.parametrize(("short_of", "kept"), [({0}, 1), ({0, 1}, None), (set(), 0)])
def test_int8_tries_the_next_recipe_only_where_one_falls_short(tmp_path, monkeypatch, short_of, kept):
    """ResNet50 is quantised whole first, then with its first convolution in float32; the first
    recipe that passes the check is kept, and a model that passes none is refused (the quantiser
    and the check stand in here: their real work is tested on Lite0 above)."""
    from plugin.engine.inference.onnx import int8

    fp32 = tmp_path / "resnet50-abc.onnx"
    fp32.write_bytes(b"float32")
    monkeypatch.setattr(int8, "_quantize", lambda source, target, calibration, folder, first: target.write_bytes(b"int8 %d" % first))
    passing = {"images": 4, "top1": 1.0, "top1_confident": 1.0, "confident_images": 4, "top5": 1.0, "verdict": 1.0}
    monkeypatch.setattr(int8, "_agreement", lambda source, made, check, verdicts: {
        **passing, "top1_confident": 0.5 if int(made.read_bytes().split()[1]) in short_of else 1.0})
    path, record = int8.ensure_int8("ResNet50", fp32, "photos", lambda: (np.zeros((1, 2)), np.zeros((4, 2))), lambda rows: ["dog"] * len(rows))
    tried = [entry["float32_convolutions"] for entry in record["tried"]]
    assert tried == ([0] if kept == 0 else [0, 1]) and record["kept"] is (kept is not None)
    assert path.is_file() is (kept is not None) and (kept is None or path.read_bytes() == b"int8 %d" % kept)
    assert int8.read_record(path) == record  # read back, not made again

@pytest.mark.parametrize(("before", "folds"), [("Relu", True), ("Identity", False)])
def test_a_zero_pad_before_a_max_pool_folds_into_it_with_the_same_numbers(tmp_path, before, folds):
    """ResNet's `pool1_pad`: after a Relu the padding moves into the max pool (int8 then keeps it
    quantised); after anything that may be negative it stays, as zeros could then win the max."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from plugin.engine.inference.onnx.int8 import fold_pads_into_max_pools

    graph = helper.make_graph(
        [helper.make_node(before, ["x"], ["a"]), helper.make_node("Pad", ["a", "pads"], ["p"], mode="constant"),
         helper.make_node("MaxPool", ["p"], ["y"], kernel_shape=[3, 3], strides=[2, 2])],
        "pool1", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4, 9, 9])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    x = np.random.default_rng(0).normal(size=(2, 4, 9, 9)).astype(np.float32)

    def run(m) -> np.ndarray:
        path = tmp_path / f"{len(m.graph.node)}.onnx"
        onnx.save(m, str(path))
        import onnxruntime as ort

        return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]

    expected = run(model)
    assert fold_pads_into_max_pools(model.graph) == int(folds)
    assert [node.op_type for node in model.graph.node] == [before, "MaxPool"] if folds else [before, "Pad", "MaxPool"]
    np.testing.assert_array_equal(run(model), expected)

DEFAULT_EXPORTS = ("MobileNetV2",)
"""Registry models exported through `export_onnx` by default: the smallest family member whose export
takes the whole route (worker process, stages, lock), with random weights. EfficientNet-Lite0 is
checked with its real weights above, and `test_small_models_of_each_family_export_like_keras` checks
small models of the four families whose exports differ (tests/onnx_small_models.py). `./test.sh
--all-exports` exports all 15 registry models (about 4 minutes more)."""

SMALL_FAMILIES = ("ResNet", "MobileNetV2", "EfficientNet", "ConvNeXt")
"""Small models built from Keras's own blocks of these families (tests/onnx_small_models.py): ResNet's
batch norm and residual adds, depthwise convolutions and ReLU6, EfficientNet's rescaling,
normalisation and squeeze-excite, and ConvNeXt's grouped convolutions and exact GELU (the two the
worker patches)."""


@pytest.fixture(scope="module")
def small_exports(tmp_path_factory):
    """The small models exported in one worker-like process (the worker's own convert and check, after
    its patches); the folder of `NAME.onnx` and `NAME.npz` files."""
    folder = tmp_path_factory.mktemp("small-exports")
    run = subprocess.run([sys.executable, "-m", "tests.onnx_small_models", str(folder)], cwd=REPO, capture_output=True,
                         text=True, timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stdout.splitlines()[-1]) == list(SMALL_FAMILIES)
    return folder


@pytest.mark.parametrize("family", SMALL_FAMILIES)
def test_small_models_of_each_family_export_like_keras(small_exports, family):
    """Random weights: the classifier's input is compared too, relative to its own scale."""
    expected = np.load(small_exports / f"{family}.npz")
    assert float(expected["max_abs_diff"]) <= 1e-4  # the worker's own check
    features, probabilities = _features_and_probabilities(str(small_exports / f"{family}.onnx"), expected["batch"])
    assert np.abs(features.reshape(expected["features"].shape) - expected["features"]).max() <= 1e-4 * np.abs(expected["features"]).max()
    assert np.abs(probabilities - expected["probabilities"]).max() <= 1e-4


def pytest_generate_tests(metafunc):
    if "exported_model" in metafunc.fixturenames:
        every = metafunc.config.getoption("--all-exports")
        metafunc.parametrize("exported_model", list(MODELS) if every else list(DEFAULT_EXPORTS))


def test_the_export_matches_keras(exported_model, keras_models, tmp_path):
    """Every registry model with `./test.sh --all-exports`, `DEFAULT_EXPORTS` by default.

    Random weights shrink activations through deep networks until the softmax is nearly uniform,
    so the classifier's input is compared too, relative to its own scale."""
    import keras

    name = exported_model

    model = keras_models(name)
    weights = tmp_path / f"{name}.weights.h5"
    model.save_weights(weights)
    stages = []
    record = export_onnx(name, weights, tmp_path / f"{name}.onnx", progress=lambda *step: stages.append(step))
    assert stages == [(1, 3, "build"), (2, 3, "convert"), (3, 3, "check")]
    batch = np.random.default_rng(0).uniform(-1, 1, (2, *MODELS[name].input_shape)).astype(np.float32)
    features, probabilities = _features_and_probabilities(record["path"], batch)
    expected = np.asarray(keras.Model(model.inputs[0], model.layers[-1].input)(batch, training=False))
    assert np.abs(features.reshape(expected.shape) - expected).max() <= 1e-4 * np.abs(expected).max()
    assert np.abs(probabilities - np.asarray(model(batch, training=False))).max() <= 1e-4
    assert record["max_abs_diff"] <= 1e-4 and not Path(f"{record['path']}.lock").exists()
    # Grad-CAM on the export: a linear head (pooling, dropout, one dense layer) is read from the graph,
    # at the layer Keras would explain; any other head (VGG's dense layers, ConvNeXt's norm) is not.
    from plugin.engine.inference.onnx.features import head_session
    from plugin.engine.study.explain.layers import last_conv_layer

    layer = last_conv_layer(model)
    after = [type(part).__name__ for part in model.layers[[part.name for part in model.layers].index(layer) + 1:]]
    linear = set(after) <= {"GlobalAveragePooling2D", "Dropout", "Dense"} and after.count("Dense") == 1
    session = head_session(record["path"])
    head = session.head if session is not None else None
    assert (head is not None) == linear, (name, after)
    if head is not None:
        assert head.layer == layer and head.kernel.shape == (model.get_layer(layer).output.shape[-1], model.outputs[0].shape[-1])


def test_the_export_cache_forgets_the_least_recently_used_beyond_its_size(tmp_path, monkeypatch):
    """Callers' own weights files make new exports without end: the cache keeps its size."""
    import os

    monkeypatch.setattr(cache, "onnx_cache_dir", lambda: tmp_path)
    files = {}
    for age, name in enumerate(["newest", "recent", "old", "oldest"]):
        files[name] = tmp_path / f"{name}.onnx"
        files[name].write_bytes(b"\0" * 1000)
        os.utime(files[name], (1_000_000 - age * 100, 1_000_000 - age * 100))
    just_made = tmp_path / "just-made.onnx"
    just_made.write_bytes(b"\0" * 1000)
    os.utime(just_made, (1, 1))  # whatever its time stamp, the export just made stays
    assert cache.evict(just_made, limit=3000) == ["oldest.onnx", "old.onnx"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["just-made.onnx", "newest.onnx", "recent.onnx"]


def test_explanations_without_gradients_run_on_onnxruntime_float32_and_int8(lite_imagenet, lite_int8, keras_models):
    """Score-CAM, Eigen-CAM and occlusion need no gradients: onnxruntime answers them (the layer's
    feature map read from the exported graph, equal to Keras's), and their maps agree with Keras's."""
    from plugin.engine.inference.onnx.features import FeatureSession
    from plugin.engine.study.explain.sanity import rank_correlation

    batch = preprocess(image_to_array(Image.open(DOG).convert("RGB"), (224, 224))[np.newaxis], "lite")
    features, outputs = FeatureSession(lite_imagenet[1]["path"], "top_activation")(batch)
    keras_model = load_registry_model(LITE).runner.model
    import keras

    expected = keras.Model(keras_model.inputs[0], keras_model.get_layer("top_activation").output)(batch, training=False)
    assert features.shape == (1, 7, 7, 1280) and np.abs(features - np.asarray(expected)).max() < 1e-3
    assert np.abs(outputs - np.asarray(keras_model(batch, training=False))).max() < 1e-4
    for method in ("scorecam", "eigencam"):
        on_keras = plugin.explain_image(DOG, LITE, method=method, backend="keras")
        on_onnx = plugin.explain_image(DOG, LITE, method=method, backend="onnx")
        int8 = plugin.explain_image(DOG, LITE, method=method, backend="onnx", precision="int8")
        assert on_keras["backend"] == "keras" and on_onnx["backend"] == "onnx" == int8["backend"]
        assert rank_correlation(np.array(on_keras["heatmap"]), np.array(on_onnx["heatmap"])) > 0.98, method
        assert rank_correlation(np.array(on_keras["heatmap"]), np.array(int8["heatmap"])) > 0.8, method
    occluded = plugin.explain_image(DOG, LITE, method="occlusion", backend="onnx", precision="int8", metrics=True, steps=5)
    assert occluded["backend"] == "onnx" and occluded["metrics"]["better_than_random"] > 0


def test_gradient_methods_read_the_linear_head_of_the_export_and_draw_keras_maps(lite_imagenet):
    """After the last feature map Lite0 has global average pooling, one dense layer and a softmax, so
    the gradients are the dense layer's weights: onnxruntime draws Grad-CAM, Grad-CAM++ and LayerCAM
    for a class and for a group as Keras's gradients do; an earlier layer and the sanity check
    (which randomises Keras weights) stay on Keras."""
    from plugin.engine.inference.options import RunOptions
    from plugin.engine.study.explain import explain

    for method in ("gradcam", "gradcam++", "layercam"):
        for target in ("answer", "dog"):
            on_onnx, onnx_map, _ = explain(DOG, LITE, method=method, target=target, options=RunOptions(backend="onnx"))
            on_keras, keras_map, _ = explain(DOG, LITE, method=method, target=target, options=RunOptions(backend="keras"))
            assert (on_onnx["backend"], on_keras["backend"]) == ("onnx", "keras")
            assert on_onnx["layer"] == on_keras["layer"] == "top_activation"
            assert on_onnx["layer_reason"] == on_keras["layer_reason"] == "last_feature_map"
            assert on_onnx["class"]["label"] == on_keras["class"]["label"]
            assert np.abs(onnx_map - keras_map).max() < 1e-5, (method, target)
    earlier = plugin.explain_image(DOG, LITE, method="layercam", layer="block6d_add", backend="onnx")
    assert earlier["backend"] == "keras" and earlier["layer_reason"] == "asked"
    assert plugin.explain_image(DOG, LITE, sanity=True, backend="onnx")["backend"] == "keras"


def test_an_export_outlives_the_command_that_started_it_and_the_next_command_needs_no_tensorflow(tmp_path):
    """A first `launch.py classify` answers with Keras and exports in the background; its worker
    finishes after the command has ended, puts the file in place and releases its lock. The next
    `launch.py explain` then draws Grad-CAM on onnxruntime without importing TensorFlow."""
    import psutil

    keras_home = tmp_path / "keras"
    environment = {**os.environ, "KERAS_HOME": str(keras_home), "CNNLAB_AUTO_EXPORT": "1", "TF_CPP_MIN_LOG_LEVEL": "3",
                   "CNNLAB_IMAGE_ROOTS": str(EXAMPLES_DIR)}
    launch = [sys.executable, str(REPO / "launch.py"), "--output-dir", str(tmp_path / "out")]
    first = subprocess.run([*launch, "classify", str(DOG), "--models", LITE, "--json"], capture_output=True, text=True,
                           env=environment, cwd=REPO, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    assert json.loads(first.stdout)["images"][0]["results"][0]["backend"] == "keras"
    assert f"{LITE}" in first.stderr and "ONNX" in first.stderr  # the command says what it leaves running
    exports = keras_home / "models" / "onnx"
    deadline = time.monotonic() + 300
    while not (list(exports.glob("*.onnx")) and not list(exports.glob("*.lock"))):
        assert time.monotonic() < deadline, "the export did not land within 5 minutes"
        time.sleep(0.2)
    workers = [p for p in psutil.process_iter(["cmdline"]) if "onnx.worker" in " ".join(p.info["cmdline"] or [])
               and str(keras_home) in " ".join(p.info["cmdline"] or [])]
    psutil.wait_procs(workers, timeout=60)  # the worker ends on its own, its file in place
    assert not any(worker.is_running() for worker in workers)
    explain_here = "import sys, launch; code = launch.run(sys.argv[1:]); print('tensorflow' in sys.modules); sys.exit(code)"
    second = subprocess.run([sys.executable, "-c", explain_here, *launch[2:], "explain", str(DOG), "--model", LITE],
                            capture_output=True, text=True, env=environment, cwd=REPO, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "Grad-CAM" in second.stdout and second.stdout.strip().splitlines()[-1] == "False"
    assert list((tmp_path / "out" / "explanations").glob(f"{LITE}-gradcam-*.png"))
