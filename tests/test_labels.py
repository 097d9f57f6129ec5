"""ImageNet labels ship with the package; the dog/cat verdict sums the right classes."""

import re

import numpy as np
import pytest

from plugin.engine.study.labels import (
    CAT_INDICES,
    DOG_INDICES,
    display_name,
    dog_cat_verdict,
    find_class,
    imagenet_classes,
    top_k,
)


def test_class_index_has_the_1000_keras_classes_with_korean_names():
    classes = imagenet_classes()
    assert len(classes) == 1000 and [c.index for c in classes] == list(range(1000))
    assert (classes[0].wnid, classes[0].label) == ("n01440764", "tench")
    assert (classes[151].wnid, classes[151].label) == ("n02085620", "Chihuahua")
    assert (classes[999].wnid, classes[999].label) == ("n15075141", "toilet_tissue")
    assert len({c.wnid for c in classes}) == 1000
    korean = [c.label_ko for c in classes]
    assert len(set(korean)) == 1000 and all(name and "_" not in name for name in korean)
    assert all(re.search(r"[가-힣]", name) for name in korean)


def test_the_studys_dogs_and_cats_are_named_in_korean():
    classes = imagenet_classes()
    assert (classes[162].label_ko, classes[167].label_ko) == ("비글", "잉글리시 폭스하운드")
    assert (classes[207].label_ko, classes[285].label_ko) == ("골든 리트리버", "이집트 고양이")


@pytest.mark.parametrize("name", ["beagle", "Beagle", "비글", "n02088364", 162, "162", "English foxhound", "English_foxhound"])
def test_a_class_is_found_by_any_of_its_names(name):
    assert find_class(name).index in (162, 167)
    assert find_class(name).label_ko in ("비글", "잉글리시 폭스하운드")


def test_display_names_never_show_underscores():
    prediction = {"label": "English_foxhound", "label_ko": "잉글리시 폭스하운드"}
    assert display_name(prediction, "ko") == "잉글리시 폭스하운드 (English foxhound)"
    assert display_name(prediction, "en") == "English foxhound"


def test_dog_and_cat_groups_hold_exactly_the_dogs_and_the_domestic_cats():
    classes = imagenet_classes()
    assert [classes[i].label for i in (DOG_INDICES[0] - 1, DOG_INDICES[-1] + 1)] == ["sea_lion", "timber_wolf"]
    assert [classes[i].label for i in (DOG_INDICES[0], DOG_INDICES[-1])] == ["Chihuahua", "Mexican_hairless"]
    assert [classes[i].label for i in CAT_INDICES] == ["tabby", "tiger_cat", "Persian_cat", "Siamese_cat", "Egyptian_cat"]
    assert [classes[i].label for i in (CAT_INDICES[0] - 1, CAT_INDICES[-1] + 1)] == ["grey_fox", "cougar"]


def one_hot_mix(weights: dict[int, float]) -> np.ndarray:
    p = np.zeros(1000)
    for index, value in weights.items():
        p[index] = value
    return p


@pytest.mark.parametrize(
    ("mix", "label", "scores"),
    [
        ({151: 0.3, 268: 0.3, 281: 0.4}, "dog", {"dog": 0.6, "cat": 0.4, "other": 0.0}),
        ({281: 0.2, 285: 0.25, 0: 0.55}, "other", {"dog": 0.0, "cat": 0.45, "other": 0.55}),
        ({282: 0.5, 283: 0.2, 150: 0.3}, "cat", {"dog": 0.0, "cat": 0.7, "other": 0.3}),
        ({269: 0.9, 286: 0.1}, "other", {"dog": 0.0, "cat": 0.0, "other": 1.0}),
    ],
)
def test_verdict_sums_each_group(mix, label, scores):
    verdict = dog_cat_verdict(one_hot_mix(mix))
    assert verdict["label"] == label
    assert verdict["scores"] == pytest.approx(scores)
    assert verdict["probability"] == pytest.approx(scores[label])


def test_top_k_ranks_by_probability_with_wordnet_ids():
    ranked = top_k(one_hot_mix({207: 0.7, 281: 0.2, 5: 0.1}), 3)
    assert [(r["rank"], r["label"], r["class_id"], r["index"]) for r in ranked] == [
        (1, "golden_retriever", "n02099601", 207), (2, "tabby", "n02123045", 281), (3, "electric_ray", "n01496331", 5)]
    assert ranked[0]["probability"] == pytest.approx(0.7)


def test_top_k_with_custom_names_has_no_wordnet_id_and_is_capped():
    ranked = top_k(np.array([0.25, 0.75]), 5, class_names=("cat", "dog"))
    assert [(r["label"], r["class_id"], r["index"]) for r in ranked] == [("dog", None, 1), ("cat", None, 0)]
