"""Explanations you can check, with the real EfficientNet-Lite0 weights: every method's heat lies on
the animal more than a random map's; Grad-CAM beats a random map on deletion and insertion; the
sanity check flags a map that ignores the model and passes Grad-CAM; the dog and cat maps of a
photo with both differ; the metrics agree with a case worked by hand."""

import numpy as np
import pytest

import plugin
from plugin.config import EXAMPLES_DIR
from plugin.engine.inference.prepared import PreparedModel
from plugin.engine.study.explain.context import ExplainContext
from plugin.engine.study.explain.imputation import impute
from plugin.engine.study.explain.methods import METHODS, ExplanationMethod, register, unregister
from plugin.engine.study.explain.metrics import centre_map, curve_auc, map_metrics, random_map
from plugin.engine.study.explain.targets import Target
from tests.test_explain import CAT, DOG, DOG_BOX, hot_share

BOTH = EXAMPLES_DIR / "dog_and_cat.jpg"
LITE = "EfficientNetLite0"


def random_result(result):
    """The same result with a random map of the same grid in place of its heat map."""
    return {**result, "heatmap": random_map(np.asarray(result["heatmap"]).shape).tolist()}


# Chelsea's face fills the part of her own photo the model sees; in the photo of both it is a box of its own.
CAT_IN_BOTH = (224, 100, 448, 349)


@pytest.mark.parametrize(("photo", "size", "box", "target"), [(DOG, (768, 576), DOG_BOX, "answer"),
                                                              (BOTH, (448, 448), CAT_IN_BOTH, "cat")], ids=["dog", "cat"])
def test_every_methods_heat_lies_on_the_animal_more_than_a_random_maps(photo, size, box, target):
    for method in ("gradcam", "gradcam++", "scorecam", "eigencam", "layercam", "occlusion"):
        result = plugin.explain_image(photo, LITE, method=method, target=target)
        assert result["method"] == method and result["is_answer"]
        assert hot_share(result, size, box) > hot_share(random_result(result), size, box) + 0.2, method


def test_grad_cam_beats_a_random_map_on_deletion_and_insertion():
    result = plugin.explain_image(DOG, LITE, metrics=True, steps=10)
    metrics, random = result["metrics"], result["metrics"]["baselines"]["random"]
    assert metrics["deletion"]["auc"] < random["deletion"]["auc"]
    assert metrics["insertion"]["auc"] > random["insertion"]["auc"]
    assert metrics["better_than_random"] > 0.05 and metrics["road"]["score"] > random["road"]["score"]
    assert len(metrics["deletion"]["curve"]) == 11 and metrics["deletion"]["curve"][0] == metrics["insertion"]["curve"][-1]
    assert plugin.api.metrics_sentence(metrics, "ko").startswith("이 지도는 무작위보다")


def edges(context) -> np.ndarray:
    """A map of the photo's edges: it never asks the model anything."""
    grey = context.pixels.mean(axis=-1)
    strength = np.abs(np.diff(grey, axis=0))[:, :-1] + np.abs(np.diff(grey, axis=1))[:-1, :]
    rows, columns = strength.shape[0] // 16, strength.shape[1] // 16
    return strength[:rows * 16, :columns * 16].reshape(rows, 16, columns, 16).mean(axis=(1, 3)) / strength.max()


def test_the_sanity_check_flags_a_map_that_ignores_the_model_and_passes_grad_cam():
    register(ExplanationMethod(name="edges", title="Edges", needs="scores", compute=edges, uses_layer=False))
    try:
        flagged = plugin.explain_image(DOG, LITE, method="edges", sanity=True)
        assert flagged["sanity"]["flagged"] and flagged["sanity"]["steps"][-1]["rank_correlation"] > 0.99
        assert "⚠" in plugin.api.sanity_sentence(flagged["sanity"], "ko")
        assert "edges" in [entry["name"] for entry in plugin.explanation_methods()]
    finally:
        unregister("edges")
    assert "edges" not in METHODS
    passed = plugin.explain_image(DOG, LITE, sanity=True)["sanity"]
    assert not passed["flagged"] and passed["steps"][0]["randomised"] == ["predictions"]
    assert [len(step["randomised"]) for step in passed["steps"]] == [1, 4, 12]
    assert max(abs(step["rank_correlation"]) for step in passed["steps"]) < passed["threshold"]


def test_the_dog_and_the_cat_of_one_photo_have_maps_of_their_own():
    comparison = plugin.compare_explanations(BOTH, LITE, methods=["gradcam", "occlusion"], targets=["dog", "cat"])
    assert [(item["method"], item["target"]) for item in comparison["explanations"]] == [
        ("gradcam", "dog"), ("occlusion", "dog"), ("gradcam", "cat"), ("occlusion", "cat")]
    for item in comparison["explanations"]:
        grid = np.asarray(item["heatmap"])
        left = grid[:, : grid.shape[1] // 2].sum() / grid.sum()
        assert left > 0.6 if item["target"] == "dog" else left < 0.4, (item["method"], item["target"], left)
        assert item["class"]["index"] is None and item["class"]["group"] == item["target"]
    dog, cat = comparison["explanations"][0], comparison["explanations"][2]
    assert not dog["is_answer"] and cat["is_answer"]  # the model answers a cat
    assert "개 전체" in plugin.api.gradcam_caption(dog, "ko") and "모델의 답은 이집트 고양이" in plugin.api.gradcam_caption(dog, "ko")
    assert comparison["picture_path"].endswith(".png")


def test_a_second_target_on_the_same_photo_shares_the_hidden_photos_and_the_baselines(monkeypatch, tmp_path):
    """The dog and the cat of one photo: occlusion hides the same squares and the random and centre
    maps delete the same pixels for both, so the cat's map costs only its own curves."""
    from PIL import Image, ImageOps

    from plugin.engine.study.explain import metrics

    photo = tmp_path / "cat_and_dog.png"  # mirrored: photos no other test has scored
    ImageOps.mirror(Image.open(BOTH)).save(photo)

    photos, scored = [], []
    making, scoring = metrics._photos, ExplainContext._batched
    monkeypatch.setattr(metrics, "_photos", lambda *args: photos.append(1) or making(*args))
    monkeypatch.setattr(ExplainContext, "_batched", lambda self, pixels: scored.append(len(pixels)) or scoring(self, pixels))
    steps = 3  # a grid and steps no other test measures baselines with
    first = plugin.explain_image(photo, LITE, method="occlusion", target="dog", metrics=True, steps=steps)
    counted = (len(photos), len([n for n in scored if n > 2]))
    second = plugin.explain_image(photo, LITE, method="occlusion", target="cat", metrics=True, steps=steps)
    assert counted == (3, 4)  # the map's photos and two baselines'; the hidden photos, the map's and baselines' scored
    assert (len(photos) - counted[0], len([n for n in scored if n > 2]) - counted[1]) == (1, 1)  # the cat's own curves
    assert first["metrics"]["baselines"]["random"] != second["metrics"]["baselines"]["random"]  # other classes summed
    assert first["heatmap"] != second["heatmap"]


def test_a_class_by_name_or_index_and_a_layer_of_ones_choosing():
    by_name = plugin.explain_image(CAT, LITE, target="Persian cat", method="layercam", layer="block6a_project_bn")
    assert by_name["class"]["index"] == 283 and by_name["target"] == "class" and not by_name["is_answer"]
    assert by_name["layer"] == "block6a_project_bn" and by_name["layer_reason"] == "asked"
    assert np.asarray(by_name["heatmap"]).shape == (7, 7)
    assert plugin.explain_image(CAT, LITE, target=285)["class"]["label"] == "Egyptian_cat"
    with pytest.raises(plugin.InvalidInputError, match="block6a"):
        plugin.explain_image(CAT, LITE, layer="block6a_projct_bn")
    with pytest.raises(plugin.InvalidInputError, match="gradcam"):
        plugin.explain_image(CAT, LITE, method="guided-backprop")
    with pytest.raises(plugin.InvalidInputError, match="steps"):
        plugin.explain_image(CAT, LITE, metrics=True, steps=500)


def test_eigen_cam_says_it_explains_no_class():
    result = plugin.explain_image(CAT, LITE, method="eigencam")
    assert result["class_specific"] is False
    caption = plugin.api.gradcam_caption(result, "en")
    assert "whatever the class" in caption and "Eigen-CAM" in caption


class Halves:
    """A two-class 'model' on 4 x 4 photos: class 0's probability is the mean red of the left half / 255."""

    backend = "keras"

    def __call__(self, batch):
        left = batch[:, :, :2, 0].mean(axis=(1, 2)) / 255
        return np.stack([left, 1 - left], axis=1)


def tiny_context() -> ExplainContext:
    pixels = np.zeros((4, 4, 3), np.float32)
    pixels[:, :2, 0] = 255  # the left half is red: all of class 0's evidence
    prepared = PreparedModel(name="halves", runner=Halves(), input_size=(4, 4), channels=3, preprocessing="none",  # type: ignore[arg-type]
                             weights="hand", untrained=False)
    return ExplainContext(prepared=prepared, keras_model=None, pixels=pixels, mode="none", target=Target("class", (0,)), layer=None)


def test_deletion_and_insertion_agree_with_a_case_worked_by_hand():
    context = tiny_context()
    cam = np.zeros((4, 4))
    cam[:, :2] = np.array([[4, 3], [4, 3], [2, 1], [2, 1]])  # the left half, top rows first
    result = map_metrics(context, cam, steps=4)
    grey = 123.68 / 255  # a removed pixel becomes the ImageNet mean: its red is 123.68
    # Removing 4 pixels a step, most important first: the 8 left pixels go in the first two steps.
    expected_deletion = [1.0, (4 * grey + 4) / 8, grey, grey, grey]
    assert result["deletion"]["curve"] == pytest.approx(expected_deletion, abs=1e-4)
    assert result["deletion"]["auc"] == pytest.approx(curve_auc(np.array(expected_deletion)), abs=1e-4)
    assert curve_auc(np.array([1.0, 0.5, 0.0])) == 0.5
    insertion = result["insertion"]["curve"]
    assert insertion[-1] == pytest.approx(1.0) and insertion[2] == pytest.approx(1.0)  # the left half is back after two steps
    assert result["score"] == pytest.approx(result["insertion"]["auc"] - result["deletion"]["auc"], abs=1e-4)
    assert result["better_than_random"] > 0 and result["deletion"]["auc"] < result["baselines"]["random"]["deletion"]["auc"]


def test_the_baselines_and_the_imputation():
    assert random_map((7, 7)).tolist() == random_map((7, 7)).tolist()  # seeded: the same baseline every time
    centre = centre_map((7, 7))
    assert centre.argmax() == 24 and centre[0, 0] < 0.1 * centre[3, 3]
    flat = np.full((12, 12, 3), 100.0, np.float32)
    removed = np.zeros((12, 12), bool)
    removed[3:9, 3:9] = True
    filled = impute(flat, removed, np.random.default_rng(0))
    assert np.abs(filled[removed] - 100).max() < 15 and (filled[~removed] == 100).all()
    ramp = np.repeat(np.linspace(0, 220, 12, dtype=np.float32)[np.newaxis, :, np.newaxis], 12, axis=0).repeat(3, axis=2)
    smooth = impute(ramp, removed, np.random.default_rng(0))
    assert np.abs(smooth[removed] - ramp[removed]).mean() < 5  # filled from the neighbours: the ramp goes on
