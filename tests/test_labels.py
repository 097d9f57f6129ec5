"""ImageNet labels ship with the package; the dog/cat verdict weighs the right classes by a rule a
student would agree with."""

import re

import numpy as np
import pytest

from plugin import words
from plugin.engine.imagenet import find_class, group_of, imagenet_classes
from plugin.engine.study.labels import dog_cat_verdict, parse_expected, top_k
from plugin.errors import InvalidInputError
from plugin.limits import CAT_INDICES, DOG_INDICES, PLAUSIBLE_GROUP, WILD_CAT_INDICES
from plugin.words.results import display_name


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


def test_dog_and_cat_groups_hold_exactly_the_dogs_and_the_cat_family():
    classes = imagenet_classes()
    assert [classes[i].label for i in (DOG_INDICES[0] - 1, DOG_INDICES[-1] + 1)] == ["sea_lion", "timber_wolf"]
    assert [classes[i].label for i in (DOG_INDICES[0], DOG_INDICES[-1])] == ["Chihuahua", "Mexican_hairless"]
    assert [classes[i].label for i in CAT_INDICES if i not in WILD_CAT_INDICES] == [
        "tabby", "tiger_cat", "Persian_cat", "Siamese_cat", "Egyptian_cat"]
    assert [classes[i].label for i in WILD_CAT_INDICES] == ["cougar", "lynx", "leopard", "snow_leopard", "jaguar", "lion",
                                                            "tiger", "cheetah"]
    assert [classes[i].label for i in (CAT_INDICES[0] - 1, CAT_INDICES[-1] + 1)] == ["grey_fox", "brown_bear"]


def one_hot_mix(weights: dict[int, float]) -> np.ndarray:
    p = np.zeros(1000)
    for index, value in weights.items():
        p[index] = value
    return p


def spread(indices, total: float) -> dict[int, float]:
    return {index: total / len(indices) for index in indices}


@pytest.mark.parametrize(
    ("mix", "label", "scores"),
    [
        ({151: 0.3, 268: 0.3, 281: 0.4}, "dog", {"dog": 0.6, "cat": 0.4, "other": 0.0}),
        ({281: 0.2, 285: 0.25, 0: 0.55}, "other", {"dog": 0.0, "cat": 0.45, "other": 0.55}),
        ({282: 0.5, 283: 0.2, 150: 0.3}, "cat", {"dog": 0.0, "cat": 0.7, "other": 0.3}),
        ({269: 0.9, 286: 0.1}, "other", {"dog": 0.0, "cat": 0.1, "other": 0.9}),
        # the kitten: top-1 Persian cat 21.7 %, the cat family 36 %, nothing else near: cat, not the 64 % of all the rest
        ({283: 0.217, 281: 0.08, 284: 0.063, 655: 0.12, **spread(range(700, 880), 0.52)}, "cat",
         {"dog": 0.0, "cat": 0.36, "other": 0.12}),
        # a lynx on top, domestic cats next: the cat family
        ({287: 0.3, 281: 0.1, 285: 0.1, **spread(range(400, 600), 0.5)}, "cat", {"dog": 0.0, "cat": 0.5, "other": 0.0025}),
        # the dog beside a bicycle: a German shepherd on top, the bicycle second
        ({235: 0.3, 225: 0.1, 671: 0.25, 444: 0.05, **spread(range(700, 900), 0.3)}, "dog",
         {"dog": 0.4, "cat": 0.0, "other": 0.25}),
        # an unsure model's horse: 10 % spread over dog breeds, none near the top
        ({339: 0.06, 354: 0.05, **spread(range(151, 269), 0.10), **spread(range(400, 600), 0.79)}, "other",
         {"dog": 0.10, "cat": 0.0, "other": 0.06}),
    ],
)
def test_verdict_weighs_the_groups_against_the_likeliest_other_class(mix, label, scores):
    verdict = dog_cat_verdict(one_hot_mix(mix))
    assert verdict["label"] == label
    assert verdict["scores"] == pytest.approx(scores, abs=1e-6)
    assert verdict["probability"] == pytest.approx(scores[label])
    assert verdict["basis"] and verdict["other_class"]["index"] not in (*DOG_INDICES, *CAT_INDICES)


@pytest.mark.parametrize("top1", [151, 207, 268, 281, 285, 287, 293])
def test_a_top1_dog_breed_or_cat_is_never_other(top1):
    """However little the top-1 class holds, and however much the other classes hold together."""
    mix = {top1: 0.05, **spread([i for i in range(300, 1000)], 0.95)}
    mix[top1] = max(mix[top1], 0.0014)
    verdict = dog_cat_verdict(one_hot_mix(mix))
    assert verdict["label"] == ("dog" if top1 in DOG_INDICES else "cat")
    assert verdict["top1_group"] == ("dog" if top1 in DOG_INDICES else "wild cat" if top1 in WILD_CAT_INDICES else "cat")
    if top1 in WILD_CAT_INDICES:
        assert "wild cat" in verdict["basis"]


@pytest.mark.parametrize("top1", [207, 285, 287])
def test_the_top1_group_wins_over_a_larger_group_spread_thin(top1):
    """A corner of the cat photo (Lite2): top-1 Egyptian cat at 4 %, 19 % spread over dog breeds
    none of which is near the top: the cat family, not "other", and the reason says why."""
    rival = range(281, 294) if top1 in DOG_INDICES else range(151, 269)
    mix = {**spread(rival, PLAUSIBLE_GROUP - 0.01), top1: 0.04, 330: 0.038, **spread(range(400, 1000), 0.56)}
    verdict = dog_cat_verdict(one_hot_mix(mix))
    assert verdict["label"] == ("dog" if top1 in DOG_INDICES else "cat")
    assert "holds the top-1 class" in verdict["basis"] and "is more" in verdict["basis"]


def test_a_group_under_the_plausible_share_is_not_named_without_the_top1():
    dogs = spread(range(151, 269), PLAUSIBLE_GROUP - 0.01)
    verdict = dog_cat_verdict(one_hot_mix({**dogs, 500: 0.1, **spread(range(600, 1000), 0.71)}))
    assert verdict["label"] == "other" and "20%" in verdict["basis"] and "top-1" in verdict["basis"]


def test_top_k_ranks_by_probability_with_wordnet_ids():
    ranked = top_k(one_hot_mix({207: 0.7, 281: 0.2, 5: 0.1}), 3)
    assert [(r["rank"], r["label"], r["class_id"], r["index"]) for r in ranked] == [
        (1, "golden_retriever", "n02099601", 207), (2, "tabby", "n02123045", 281), (3, "electric_ray", "n01496331", 5)]
    assert ranked[0]["probability"] == pytest.approx(0.7)


def test_top_k_with_custom_names_has_no_wordnet_id_and_is_capped():
    ranked = top_k(np.array([0.25, 0.75]), 5, class_names=("cat", "dog"))
    assert [(r["label"], r["class_id"], r["index"]) for r in ranked] == [("dog", None, 1), ("cat", None, 0)]


# The right answer ("정답", `expected=`) as students write it.

@pytest.mark.parametrize(("word", "group"), [
    ("강아지", "dog"), ("멍멍이", "dog"), ("댕댕이", "dog"), ("개", "dog"), ("dog", "dog"), ("puppy", "dog"), ("doggy", "dog"),
    ("Puppies", "dog"), ("고양이", "cat"), ("냥이", "cat"), ("야옹이", "cat"), ("cat", "cat"), ("kitten", "cat"), ("kitty", "cat"),
    ("귀여운 강아지", "dog"), ("cute kitten", "cat"),  # a group word with words that name no class: the group
])
def test_the_words_students_use_for_dog_and_cat_are_the_group(word, group):
    expected = parse_expected(word)
    assert expected is not None and expected.group == group and expected.item is None
    assert expected.describe() == {"group": group}


@pytest.mark.parametrize(("word", "index"), [
    ("비글 강아지", 162), ("비글강아지", 162), ("beagle puppy", 162), ("beagles", 162),
    ("Persian", 283), ("persian", 283), ("페르시안", 283), ("페르시안 고양이", 283), ("Persian kitten", 283), ("페르시안 냥이", 283),
    ("Siamese", 284), ("폭스하운드", 167), ("alsatian", 235), ("골든리트리버", 207),
    ("승냥이", 274), ("mud puppy", 29), ("hot dog", 934),  # a whole name with a group word in it is that class
])
def test_a_class_by_part_of_its_name_or_with_a_group_word(word, index):
    expected = parse_expected(word)
    assert expected is not None and expected.item is not None and expected.item.index == index
    assert expected.group == group_of(index)


@pytest.mark.parametrize(("word", "labels"), [
    ("foxhound", ["Walker_hound", "English_foxhound"]),
    ("Foxhounds", ["Walker_hound", "English_foxhound"]),
    ("리트리버", ["flat-coated_retriever", "curly-coated_retriever", "golden_retriever", "Labrador_retriever",
               "Chesapeake_Bay_retriever"]),
    ("corgi", ["Pembroke", "Cardigan"]),
    ("husky", ["Eskimo_dog", "Siberian_husky"]),
])
def test_a_part_of_several_names_asks_which_one(word, labels):
    with pytest.raises(InvalidInputError) as raised:
        parse_expected(word)
    error = raised.value
    assert error.key == "ambiguous_class" and error.params["count"] == len(labels)
    assert [item["label"] for item in error.params["classes"]] == labels
    assert f"Received: {word!r}" in str(error) and "Expected one ImageNet class" in str(error)
    korean, english = words.error_text(error, "ko"), words.error_text(error, "en")
    assert f"'{word}'" in korean and f"{len(labels)}개" in korean and "Write the one you mean" in english
    for item in error.params["classes"]:
        assert display_name(item, "ko") in korean and display_name(item, "en") in english


def test_a_part_of_many_names_lists_some_and_counts_the_rest():
    with pytest.raises(InvalidInputError) as raised:
        parse_expected("terrier")
    error = raised.value
    shown = len(error.params["classes"])
    assert error.params["count"] > shown > 1
    assert f"외 {error.params['count'] - shown}개" in words.error_text(error, "ko")
    assert f"and {error.params['count'] - shown} more" in words.error_text(error, "en")


@pytest.mark.parametrize(("word", "nearest"), [
    ("beagel", "beagle"), ("Persain", "Persian_cat"), ("golden retreiver", "golden_retriever"), ("siamise", "Siamese_cat"),
    ("페르샨", "Persian_cat"), ("페르시안 고향이", "Persian_cat"), ("페르샨 고양이", "Persian_cat"), ("치와아", "Chihuahua"),
    ("비굴", "beagle"), ("tabbby cat", "tabby"), ("비글 고양이", "beagle"),
])
def test_a_misspelt_class_suggests_the_nearest_names(word, nearest):
    """English names are compared letter by letter, Korean ones by syllables and their letters;
    the error says what was expected and what was received, and the nearest class comes first."""
    with pytest.raises(InvalidInputError) as raised:
        parse_expected(word)
    error = raised.value
    assert error.key == "unknown_class_near" and error.params["name"] == word
    assert error.params["classes"][0]["label"] == nearest
    assert str(error).startswith("Expected an ImageNet class") and f"Received: {word!r}" in str(error)
    item = find_class(nearest)
    korean, english = words.error_text(error, "ko"), words.error_text(error, "en")
    assert f"'{word}'" in korean and f"{item.label_ko} ({nearest.replace('_', ' ')})" in korean and "Expected" not in korean
    assert f"'{word}'" in english and nearest.replace("_", " ") in english


def test_a_word_near_no_class_says_what_a_right_answer_looks_like():
    with pytest.raises(InvalidInputError) as raised:
        parse_expected("qzxv")
    error = raised.value
    assert error.key == "unknown_class" and "classes" not in error.params
    assert "qzxv" in words.error_text(error, "ko") and "냥이" in words.error_text(error, "ko")
    assert "qzxv" in words.error_text(error, "en") and "puppy" in words.error_text(error, "en")


@pytest.mark.parametrize("word", ["/etc/passwd", "beagel /home/student/secret.txt", "<script>alert(1)</script>", "beagle" * 40,
                                  "페르샨\n" + "x" * 300, "terrier", "foxhound", "1000", -1])
def test_an_errors_classes_are_class_names_and_nothing_else(word):
    """What an error names beside the received word is ImageNet's names only, never the input."""
    classes = imagenet_classes()
    names = {(item.label, item.label_ko) for item in classes}
    with pytest.raises(InvalidInputError) as raised:
        parse_expected(word)
    error = raised.value
    assert set(error.params) <= {"name", "classes", "count"} and len(error.params["name"]) <= 80
    for item in error.params.get("classes", []):
        assert set(item) == {"label", "label_ko"} and (item["label"], item["label_ko"]) in names
    said = words.error_text(error, "ko").replace(error.params["name"], "")
    assert "/etc" not in said and "/home" not in said and "<script>" not in said and "secret" not in said


def test_find_class_takes_the_same_names_but_no_group():
    assert find_class("Persian").index == 283 and find_class("비글 강아지").index == 162
    with pytest.raises(InvalidInputError) as raised:
        find_class("강아지")
    assert raised.value.key == "unknown_class"
