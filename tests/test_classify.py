"""classify_image / classify_images with registry models: weights, labels, verdict, batching,
agreement, validation, caching and the compiled inference function."""

import threading

import numpy as np
import pytest

import plugin
from plugin.config import EXAMPLES_DIR
from plugin.engine.inference.cache import cache_info
from plugin.engine.inference.prepared import load_registry_model
from plugin.errors import InvalidInputError, UnknownModelError
from plugin.limits import MAX_IMAGES_PER_CALL
from tests.conftest import save_png, stripes

CAT = EXAMPLES_DIR / "cat_chelsea.png"
GOLDEN_RETRIEVER, TABBY = 207, 281


def test_random_weights_are_refused_unless_allowed():
    with pytest.raises(InvalidInputError, match="allow_random_weights=True"):
        plugin.classify_image(CAT, models=["MobileNetV2"], weights=None)


def test_untrained_results_say_so():
    result = plugin.classify_image(CAT, models=["MobileNetV2"], weights=None, allow_random_weights=True, top_k=3)
    model = result["results"][0]
    assert model["untrained"] is True and model["weights"] == "random"
    assert "Random weights" in model["note"]
    assert len(model["predictions"]) == 3
    assert result["image"] == {"width": 451, "height": 300, "source": "file cat_chelsea.png", "kind": "file",
                               "name": "cat_chelsea.png"}


def test_weights_file_with_edited_head_gives_its_class_label_and_verdict(favour_class_weights):
    weights = favour_class_weights(GOLDEN_RETRIEVER)
    result = plugin.classify_image(CAT, models=["MobileNetV2"], weights=str(weights))
    model = result["results"][0]
    top = model["predictions"][0]
    assert (top["rank"], top["label"], top["class_id"], top["index"]) == (1, "golden_retriever", "n02099601", 207)
    assert top["label_ko"] == "골든 리트리버"
    assert top["probability"] > 0.99
    assert model["verdict"]["label"] == "dog" and model["verdict"]["scores"]["dog"] > 0.99
    assert model["untrained"] is False and model["weights"] == weights.name
    assert model["inference_ms"] > 0 and model["input_size"] == [224, 224] and model["preprocessing"] == "tf"
    cat_result = plugin.classify_image(CAT, models=["MobileNetV2"], weights=str(favour_class_weights(TABBY)))
    assert cat_result["results"][0]["verdict"]["label"] == "cat"


def test_batch_equals_one_by_one_and_keeps_order(data_dir):
    paths = [save_png(stripes(kind, size=64, seed=i), data_dir / f"batch_{i}.png") for i, kind in
             enumerate(["horizontal", "vertical", "horizontal"])]
    options = dict(models=["MobileNetV2", "AlexNet"], weights=None, allow_random_weights=True, top_k=4)
    batched = plugin.classify_images([str(p) for p in paths], **options)["images"]
    assert [r["image"]["source"] for r in batched] == [f"file {p.name}" for p in paths]
    for path, together in zip(paths, batched):
        alone = plugin.classify_image(str(path), **options)
        for a, b in zip(alone["results"], together["results"]):
            assert [p["index"] for p in a["predictions"]] == [p["index"] for p in b["predictions"]]
            np.testing.assert_allclose([p["probability"] for p in a["predictions"]],
                                       [p["probability"] for p in b["predictions"]], atol=1e-5)


def test_a_bad_image_in_a_batch_names_its_position(tmp_path):
    good = save_png(stripes("vertical"), tmp_path / "good.png")
    with pytest.raises(plugin.ImageError, match=r"^images\[1\]: "):
        plugin.classify_images([good, b"garbage"], models=["AlexNet"], weights=None, allow_random_weights=True)



def test_photos_read_side_by_side_keep_a_sessions_folders_their_order_and_the_first_error(tmp_path_factory, monkeypatch):
    """Two threads read a call's photos (the suite's processes otherwise take one core each), in
    the caller's context: a folder granted to a web session only is readable from them."""
    from plugin.config import granted_roots
    from plugin.engine.study import classify as classify_module

    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    session_folder = tmp_path_factory.mktemp("one-session")  # not an allowed root of this test
    kinds = ["horizontal", "vertical", "vertical", "horizontal", "vertical"]
    paths = [str(save_png(stripes(kind, size=48, seed=i), session_folder / f"{i}.png")) for i, kind in enumerate(kinds)]
    options = dict(models=["AlexNet"], weights=None, allow_random_weights=True, top_k=3)
    readers = []
    reading = classify_module.load_image
    monkeypatch.setattr(classify_module, "load_image", lambda image: readers.append(threading.current_thread().name) or reading(image))
    with pytest.raises(plugin.AccessDeniedError):  # not an allowed root outside the session
        plugin.classify_images(paths, **options)
    with granted_roots(session_folder):
        together = plugin.classify_images(paths, **options)["images"]
        alone = [plugin.classify_image(path, **options) for path in paths]
        with pytest.raises(plugin.ImageError, match=r"^images\[2\]: "):  # the first bad one, in order
            plugin.classify_images([paths[0], paths[1], b"garbage", b"also garbage"], **options)
    assert [r["image"]["source"] for r in together] == [f"file {i}.png" for i in range(len(kinds))]
    for one, other in zip(alone, together):
        a, b = one["results"][0]["predictions"], other["results"][0]["predictions"]
        assert [p["index"] for p in a] == [p["index"] for p in b]
        np.testing.assert_allclose([p["probability"] for p in a], [p["probability"] for p in b], rtol=1e-4, atol=1e-5)
    assert sum(name.startswith("intake") for name in readers) >= len(paths)  # the batches were read in the threads

def test_two_models_in_one_call():
    result = plugin.classify_image(CAT, weights=None, allow_random_weights=True, models=["MobileNetV2", "AlexNet"])
    assert [r["model"] for r in result["results"]] == ["MobileNetV2", "AlexNet"]
    assert result["agreement"]["basis"] == "verdict"
    assert set(result["agreement"]["top1"]) == {"MobileNetV2", "AlexNet"}


@pytest.mark.parametrize("top_k", [0, 21, -1, "5", 2.0, True, None])
def test_top_k_must_be_an_integer_from_1_to_20(top_k):
    with pytest.raises(InvalidInputError, match=r"top_k to be an integer from 1 to 20"):
        plugin.classify_image(CAT, models=["AlexNet"], top_k=top_k, weights=None, allow_random_weights=True)


def test_top_k_20_and_model_names_as_a_comma_string():
    result = plugin.classify_image(CAT, models="alexnet, AlexNet", top_k=20, weights=None, allow_random_weights=True)
    assert [r["model"] for r in result["results"]] == ["AlexNet"]
    assert [p["rank"] for p in result["results"][0]["predictions"]] == list(range(1, 21))


@pytest.mark.parametrize("models", [[], "", ["VGG16", 3], ["NotANet"]])
def test_bad_model_lists(models):
    with pytest.raises((InvalidInputError, UnknownModelError)):
        plugin.classify_image(CAT, models=models)


def test_class_names_need_a_model_path():
    with pytest.raises(InvalidInputError, match="class_names only with model_path"):
        plugin.classify_image(CAT, models=["AlexNet"], class_names=["a", "b"], weights=None, allow_random_weights=True)


def test_preprocessing_override_is_applied_and_reported():
    result = plugin.classify_image(CAT, models=["AlexNet"], preprocessing="tf", weights=None, allow_random_weights=True)
    assert result["results"][0]["preprocessing"] == "tf"
    with pytest.raises(InvalidInputError, match="preprocessing"):
        plugin.classify_image(CAT, models=["AlexNet"], preprocessing="bgr", weights=None, allow_random_weights=True)


def test_too_many_images_or_none():
    with pytest.raises(InvalidInputError, match=f"at most {MAX_IMAGES_PER_CALL} images"):
        plugin.classify_images([CAT] * (MAX_IMAGES_PER_CALL + 1), models=["AlexNet"], weights=None, allow_random_weights=True)
    with pytest.raises(InvalidInputError, match="at least one image"):
        plugin.classify_images([], models=["AlexNet"])
    with pytest.raises(InvalidInputError, match="list of images"):
        plugin.classify_images(str(CAT), models=["AlexNet"])


def test_concurrent_callers_share_one_build(favour_class_weights):
    weights = str(favour_class_weights(151))  # a weights file no other test loads: a fresh cache key
    before = cache_info()["builds"]
    got, barrier = [], threading.Barrier(4)

    def call():
        barrier.wait()
        got.append(load_registry_model("MobileNetV2", weights).runner)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache_info()["builds"] == before + 1
    assert all(runner is got[0] for runner in got)
    assert any(key[0] == "MobileNetV2" and weights in key for key in cache_info()["models"])


def test_inference_is_a_compiled_function_traced_once_for_any_batch_size():
    runner = load_registry_model("AlexNet", None).runner
    traced = runner.infer.experimental_get_tracing_count()
    runner(np.zeros((1, 227, 227, 3), np.float32))
    runner(np.zeros((3, 227, 227, 3), np.float32))
    assert runner.infer.experimental_get_tracing_count() == traced == 1


def test_a_failed_build_leaves_the_cache_usable_and_is_retried():
    from plugin.engine.inference.cache import ModelCache

    cache, attempts = ModelCache(), []

    def build():
        attempts.append(1)
        if len(attempts) == 1:
            raise MemoryError("the first build fails")
        return "runner"

    with pytest.raises(MemoryError):
        cache.get(("Flaky", "imagenet"), build)
    assert cache._key_locks == {} and cache.keys() == []  # no lock and no entry left behind
    assert cache.get(("Flaky", "imagenet"), build) == "runner" and len(attempts) == 2
    assert cache.get(("Flaky", "imagenet"), build) == "runner" and len(attempts) == 2 and cache.builds == 1
