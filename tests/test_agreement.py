"""Agreement on two levels, said in one sentence a student reads first, in Korean and English; the
right answer judged per model. The study post's finding is reproduced with real networks whose
heads were edited here: VGG16 says English foxhound, ResNet50 says beagle."""

import pytest

import plugin
from plugin.config import EXAMPLES_DIR
from plugin.engine.study.agreement import agreement
from plugin.words.results import sentence
from tests.conftest import save_favouring

DOG = str(EXAMPLES_DIR / "dog_bicycle.jpg")
BEAGLE, FOXHOUND, TABBY = 162, 167, 281


def outcome(model, label, label_ko, verdict, correct=None):
    result = {"model": model, "predictions": [{"label": label, "label_ko": label_ko}],
              "verdict": verdict and {"label": verdict}}
    if correct is not None:
        result["correct"] = {"top1": correct}
    return result


def record(*results, expected=None):
    return {"results": list(results), "agreement": agreement(list(results)), "expected": expected}


def test_agreement_on_both_levels():
    both = agreement([outcome("A", "beagle", "비글", "dog"), outcome("B", "pug", "퍼그", "dog")])
    assert (both["agree"], both["basis"], both["verdict_agree"], both["top1_agree"]) == (True, "verdict", True, False)
    split = agreement([outcome("A", "beagle", "비글", "dog"), outcome("B", "tabby", "태비 고양이", "cat")])
    assert split["agree"] is False and split["verdicts"] == {"A": "dog", "B": "cat"}
    custom = agreement([outcome("A", "cat", None, None), outcome("m.keras", "cat", None, None)])
    assert custom["agree"] is True and custom["basis"] == "top1" and custom["verdict_agree"] is None
    assert agreement([outcome("A", "beagle", "비글", "dog")])["basis"] == "single model"


def test_the_sentences():
    post = record(outcome("VGG16", "English_foxhound", "잉글리시 폭스하운드", "dog"), outcome("ResNet50", "beagle", "비글", "dog"))
    assert sentence(post, "en") == "Both say dog, but VGG16 says English foxhound and ResNet50 says beagle."
    assert sentence(post, "ko") == "두 모델 모두 '개'라고 답했지만 1위 클래스는 다릅니다: VGG16 → 잉글리시 폭스하운드, ResNet50 → 비글."
    same = record(outcome("A", "beagle", "비글", "dog"), outcome("B", "beagle", "비글", "dog"), outcome("C", "beagle", "비글", "dog"))
    assert sentence(same, "en") == "All three say dog: beagle."
    split = record(outcome("A", "beagle", "비글", "dog"), outcome("B", "tabby", "태비 고양이", "cat"))
    assert sentence(split, "en") == "The models disagree: A says dog (beagle) and B says cat (tabby)."
    assert sentence(split, "ko") == "모델들의 판단이 다릅니다: A → 개 (비글), B → 고양이 (태비 고양이)."
    judged = record(outcome("VGG16", "English_foxhound", "잉글리시 폭스하운드", "dog", False),
                    outcome("ResNet50", "beagle", "비글", "dog", True),
                    expected={"label": "beagle", "label_ko": "비글", "group": "dog"})
    assert sentence(judged, "en").endswith("The right answer is beagle: ResNet50 got it.")
    assert sentence(judged, "ko").endswith("정답: 비글. 맞힌 모델: ResNet50.")
    for text in (sentence(post, "en"), sentence(post, "ko")):
        assert "_" not in text


def test_with_dog_or_cat_asked_the_right_models_are_those_whose_verdict_the_page_shows_right():
    kitten = record({**outcome("Lite0", "Persian_cat", "페르시안 고양이", "cat"), "correct": {"top1": True, "verdict": True}},
                    {**outcome("Lite2", "lynx", "스라소니", "other"), "correct": {"top1": False, "verdict": False}},
                    expected={"group": "cat"})
    assert sentence(kitten, "ko").endswith("맞힌 모델: Lite0.")
    assert sentence(kitten, "en").endswith("Lite0 got it.")


def test_a_top1_cat_with_a_wrong_verdict_is_not_right_at_top1():
    import numpy as np

    from plugin.engine.study.classify import _judge
    from plugin.engine.study.labels import parse_expected

    probabilities = np.zeros(1000)
    probabilities[[281, 500]] = [0.7, 0.3]  # a tabby on top, judged with a verdict of 'other' (forged: the rule never gives it)
    judged, rank = _judge(probabilities, {"verdict": {"label": "other"}}, parse_expected("cat"))
    assert rank == 1 and judged == {"top1": False, "top5": True, "verdict": False}  # the page shows 'other': not right
    judged, _ = _judge(probabilities, {"verdict": {"label": "cat"}}, parse_expected("cat"))
    assert judged == {"top1": True, "top5": True, "verdict": True}


@pytest.fixture(scope="module")
def post_weights(tmp_path_factory, keras_models):
    """A VGG16 whose head favours English foxhound and a ResNet50 whose head favours beagle (the
    session's random-weight models, each saved with its head edited)."""
    folder = tmp_path_factory.mktemp("post")
    return {name: save_favouring(keras_models(name), index, folder / f"{name.lower()}_favours_{index}.weights.h5")
            for name, index in (("VGG16", FOXHOUND), ("ResNet50", BEAGLE))}


def test_the_posts_finding_is_said_first(post_weights):
    plugin.configure(image_roots=[*plugin.get_settings().image_roots, next(iter(post_weights.values())).parent])
    weights = {name: str(path) for name, path in post_weights.items()}
    result = plugin.classify_image(DOG, models=["VGG16", "ResNet50"], weights=weights, expected="비글")
    assert result["agreement"]["summary"] == ("Both say dog, but VGG16 says English foxhound and ResNet50 says beagle. "
                                              "The right answer is beagle: ResNet50 got it.")
    vgg16, resnet50 = result["results"]
    assert (vgg16["correct"]["top1"], vgg16["correct"]["verdict"]) == (False, True) and vgg16["expected_rank"] > 1
    assert resnet50["correct"] == {"top1": True, "top5": True, "verdict": True} and resnet50["expected_rank"] == 1
    assert resnet50["predictions"][0]["label_ko"] == "비글" and vgg16["predictions"][0]["label_ko"] == "잉글리시 폭스하운드"
    made = plugin.render_report("classification", "ko", result=result, image=DOG)
    page = open(made["path"], encoding="utf-8").read()
    assert "두 모델 모두 &#39;개&#39;라고 답했지만 1위 클래스는 다릅니다: VGG16 → 잉글리시 폭스하운드, ResNet50 → 비글." in page
    assert page.index('id="summary"') < page.index("<h2>")  # the first thing a student reads


@pytest.mark.parametrize(("expected", "group"), [("dog", "dog"), ("개", "dog"), ("German shepherd", "dog"), ("n02106662", "dog"),
                                                  (235, "dog"), ("저먼 셰퍼드", "dog"), ("cat", "cat")])
def test_the_right_answer_in_any_form(expected, group):
    result = plugin.classify_image(DOG, models=["EfficientNetLite0"], expected=expected)
    assert result["expected"]["group"] == group
    assert result["results"][0]["correct"]["verdict"] is (group == "dog")


def test_an_unknown_answer_is_a_clear_error():
    with pytest.raises(plugin.InvalidInputError, match="Expected an ImageNet class"):
        plugin.classify_image(DOG, models=["EfficientNetLite0"], expected="unicorn")
