"""ImageNet's 1000 classes in English and Korean, their dog/cat group, and finding a class by any
of its names: data any layer may read (the study decodes and judges with it; a report names a
folder's label with it).

The class index (1000 WordNet ids and names, in Keras's order) and the Korean names written for
this project ship inside the package (`data/imagenet_class_index.json`, `data/imagenet_ko.json`),
so decoding works offline. A class keeps Keras's name as `label` (e.g. "golden_retriever", which
code relies on) beside `label_ko` ("골든 리트리버"); `plugin.words.results.display_name` gives
what people read. The groups are `plugin.limits`' `DOG_INDICES` and `CAT_INDICES`.

A right answer is found by the names students write (`find_answer`): a class's Keras, Korean or
WordNet name (`data/imagenet_synonyms.json`: "Walker foxhound", "alsatian", "husky"); a word for
the dog or the cat group in either language (`GROUP_WORDS`: 강아지, 냥이, puppy, kitty ...); part
of a name ("Persian", "폭스하운드"), and a class name with a group word beside it ("비글 강아지",
"Persian kitten"). A part that fits several classes ("foxhound", "리트리버") is an error that names
them and asks to choose one; a word that fits none, an error that names the classes whose English
or Korean names are nearest (`difflib`: letter by letter in English; in Korean by syllables and by
the letters of each syllable, so "페르샨" finds 페르시안 고양이). Both errors carry the classes as `{"label", "label_ko"}` (`classes`), for each language's
words (`plugin.words.error_text`).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

import numpy as np

from plugin.engine.results import ExpectedRecord
from plugin.errors import InvalidInputError
from plugin.limits import CAT_INDICES, DOG_INDICES

__all__ = ["ImagenetClass", "imagenet_classes", "group_of", "find_class", "find_answer", "GROUP_WORDS"]

# The words people use for the study's two groups, in both languages (plural and pet names included).
_GROUPS = {
    "dog": ("dog", "dogs", "doggy", "doggie", "doggies", "puppy", "puppies", "pup", "pups", "pooch", "개", "강아지",
            "멍멍이", "댕댕이", "멍뭉이", "멍멍", "애완견", "반려견"),
    "cat": ("cat", "cats", "kitten", "kittens", "kitty", "kitties", "pussycat", "고양이", "냥이", "야옹이",
            "냥냥이", "냐옹이", "괭이", "애완묘", "반려묘"),
}
GROUP_WORDS: Mapping[str, str] = {word: group for group, names in _GROUPS.items() for word in names}
"""Each word for a whole group (already as `_key` writes it) → "dog" or "cat"."""

_SHOWN = 12  # the most classes an error lists
_NEAR = 0.7  # how alike two names must be (difflib's ratio) for an error to suggest one for the other
_STUDIED = 0.1  # a dog or cat class's lead among near names ("beagel": beagle before bagel)
_HANGUL = re.compile("[\uac00-\ud7a3]")


@dataclasses.dataclass(frozen=True)
class ImagenetClass:
    """One of the 1000 classes: its index, WordNet id, Keras name and Korean name."""

    index: int
    wnid: str
    label: str
    label_ko: str

    @property
    def group(self) -> str:
        return group_of(self.index)

    def describe(self) -> ExpectedRecord:
        return {"index": self.index, "wnid": self.wnid, "label": self.label, "label_ko": self.label_ko,
                "group": self.group}


def _data(name: str) -> dict:
    return json.loads(resources.files("plugin.data").joinpath(name).read_text("utf-8"))


@functools.cache
def imagenet_classes() -> tuple[ImagenetClass, ...]:
    """The 1000 ImageNet classes, by index."""
    index, korean = _data("imagenet_class_index.json"), _data("imagenet_ko.json")
    return tuple(ImagenetClass(i, index[str(i)][0], index[str(i)][1], korean[str(i)]) for i in range(len(index)))


def group_of(index: int) -> str:
    """"dog", "cat" or "other" for an ImageNet class index."""
    return "dog" if index in DOG_INDICES else "cat" if index in CAT_INDICES else "other"


def _key(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("-", " ").split()).casefold()


@functools.cache
def _by_name() -> dict[str, int]:
    """Each class's own names (Keras's, Korean, WordNet id; Korean also without its spaces) → index."""
    names: dict[str, int] = {}
    for item in imagenet_classes():
        for name in (item.label, item.label_ko, item.wnid):
            names.setdefault(_key(name), item.index)
        names.setdefault(_key(item.label_ko).replace(" ", ""), item.index)
    return names


@functools.cache
def _english_names() -> tuple[tuple[str, int], ...]:
    """(name, index) for every English name of every class: Keras's and WordNet's synonyms."""
    synonyms = _data("imagenet_synonyms.json")
    return tuple(dict.fromkeys((_key(name), item.index) for item in imagenet_classes()
                               for name in (item.label, *synonyms[str(item.index)])))


@functools.cache
def _korean_names() -> tuple[tuple[str, int], ...]:
    """(name without spaces, index) for every Korean name."""
    return tuple((_key(item.label_ko).replace(" ", ""), item.index) for item in imagenet_classes())


def _containing(text: str) -> set[int]:
    """The classes with `text` in a name: English names as whole words ("foxhound" in "Walker
    foxhound"), Korean names as syllables ("폭스하운드" in "잉글리시 폭스하운드")."""
    if _HANGUL.search(text):
        part = text.replace(" ", "")
        return {index for name, index in _korean_names() if part in name}
    words = f" {text} "
    return {index for name, index in _english_names() if words in f" {name} "}


def _named(text: str) -> set[int]:
    """The classes `text` names or is part of a name of (a plural "beagles" as "beagle")."""
    if text in _by_name():
        return {_by_name()[text]}
    found = {index for name, index in _english_names() if name == text} | _containing(text)
    if not found and text.endswith("s") and not _HANGUL.search(text):
        return _named(text[:-1])
    return found


def _nearest(text: str, group: str | None = None, count: int = 5) -> list[int]:
    """The classes whose names (or a word of them) are nearest `text` (`difflib`'s ratio, at least
    `_NEAR`): English letter by letter; Korean by syllables and by the letters (jamo) that make each
    syllable, so "페르샨" is near "페르시안". Among near names the study's dogs and cats come first."""
    korean = bool(_HANGUL.search(text))
    query = text.replace(" ", "") if korean else text
    names = _near_names(korean)
    if len(query) > 2 * max(len(name) for name, _, _ in names):  # too long to be near any name
        return []
    letters = unicodedata.normalize("NFD", query)
    scores: dict[int, float] = {}
    for name, spelled, index in names:
        if group is not None and group_of(index) != group:
            continue
        ratio = max(_likeness(query, name), _likeness(letters, spelled) if korean else 0.0)
        if ratio >= _NEAR:
            scores[index] = max(scores.get(index, 0.0), ratio + (_STUDIED if group_of(index) != "other" else 0.0))
    return sorted(scores, key=lambda index: (-scores[index], index))[:count]


@functools.cache
def _near_names(korean: bool) -> tuple[tuple[str, str, int], ...]:
    """(name, its letters, index) of every name and every word of a name, in one language."""
    if korean:
        names = [*_korean_names(), *((word, item.index) for item in imagenet_classes() for word in _key(item.label_ko).split())]
    else:
        names = [*_english_names(), *((word, index) for name, index in _english_names() for word in name.split())]
    return tuple((name, unicodedata.normalize("NFD", name), index) for name, index in dict.fromkeys(names))


def _likeness(a: str, b: str) -> float:
    matcher = difflib.SequenceMatcher(None, a, b)
    return matcher.ratio() if matcher.real_quick_ratio() >= _NEAR and matcher.quick_ratio() >= _NEAR else 0.0


def find_answer(name: Any) -> ImagenetClass | str:
    """A right answer: an ImageNet class (by any name `find_class` takes, or part of one when that
    part fits one class) or a whole group, "dog" or "cat" (by any word in `GROUP_WORDS`).

    "비글 강아지" and "Persian kitten" are the class the name says, within the group the word says;
    a group word with no class name ("귀여운 고양이") is the group. Anything else is an
    `InvalidInputError` that names the classes it could mean (`ambiguous_class`) or the nearest
    ones (`unknown_class_near`), or says what a right answer looks like (`unknown_class`).
    """
    classes = imagenet_classes()
    if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
        if 0 <= int(name) < len(classes):
            return classes[int(name)]
        raise _unknown(name, [])
    if not isinstance(name, str):
        raise _unknown(name, [])
    text = _key(name)
    if text.isdigit() and int(text) < len(classes):
        return classes[int(text)]
    if text in GROUP_WORDS:
        return GROUP_WORDS[text]
    found = _named(text)
    if len(found) == 1:
        return classes[found.pop()]
    if found:
        raise _ambiguous(name, found)
    rest, groups = _without_group_words(text)
    if len(groups) == 1:
        group = groups.pop()
        if not rest:
            return group
        within = {index for index in _named(rest) if group_of(index) == group}
        if len(within) == 1:
            return classes[within.pop()]
        if within:
            raise _ambiguous(name, within)
        named = {_by_name()[rest]} if rest in _by_name() else {index for word, index in _english_names() if word == rest}
        near = sorted(named) or _nearest(rest, group)  # "비글 고양이": the beagle it names, in the other group
        if not near:
            return group  # a group word with words that name no class: "검은 고양이", "cute puppy"
        raise _unknown(name, near)
    raise _unknown(name, _nearest(text))


def _without_group_words(text: str) -> tuple[str, set[str]]:
    """`text` without its group words ("비글 강아지" → "비글"; "비글강아지" too), and their groups."""
    groups, kept = set(), []
    for word in text.split():
        if word in GROUP_WORDS:
            groups.add(GROUP_WORDS[word])
            continue
        suffix = next((group_word for group_word in GROUP_WORDS if _HANGUL.match(group_word) and len(word) > len(group_word)
                       and word.endswith(group_word)), None)  # Korean writes them together: "비글강아지"
        if suffix is not None:
            groups.add(GROUP_WORDS[suffix])
            word = word[: -len(suffix)]
        kept.append(word)
    return " ".join(kept), groups


def find_class(name: Any) -> ImagenetClass:
    """An ImageNet class by index (int or digits), English name ("golden retriever" or
    "golden_retriever", any case, or a WordNet synonym: "alsatian"), Korean name ("골든 리트리버"),
    WordNet id ("n02099601"), or part of a name that fits one class ("Persian"); see `find_answer`."""
    found = find_answer(name)
    if isinstance(found, str):  # a whole group is no one class
        raise _unknown(name, [])
    return found


def _received(name: Any) -> str:
    return str(name)[:80]


def _listed(indices: Iterable[int]) -> list[dict[str, str]]:
    """Classes as an error carries them: their names only."""
    classes = imagenet_classes()
    return [{"label": classes[index].label, "label_ko": classes[index].label_ko} for index in indices]


def _english(classes: list[dict[str, str]]) -> str:
    return ", ".join(f"{item['label'].replace('_', ' ')} ({item['label_ko']})" for item in classes)


def _unknown(name: Any, near: list[int]) -> InvalidInputError:
    expected = ("Expected an ImageNet class: its index (0-999), English name ('beagle'), Korean name ('비글') or WordNet "
                "id ('n02088364'), or a word for dog or cat ('dog', '강아지', 'kitten', '냥이').")
    if not near:
        return InvalidInputError(f"{expected} Received: {_received(name)!r}", key="unknown_class", name=_received(name))
    classes = _listed(near)
    return InvalidInputError(f"{expected} Received: {_received(name)!r}. Nearest classes by name: {_english(classes)}",
                             key="unknown_class_near", name=_received(name), classes=classes)


def _ambiguous(name: Any, found: set[int]) -> InvalidInputError:
    classes = _listed(sorted(found)[:_SHOWN])
    more = f" and {len(found) - _SHOWN} more" if len(found) > _SHOWN else ""
    return InvalidInputError(f"Expected one ImageNet class. Received: {_received(name)!r}, part of the names of "
                             f"{len(found)} classes: {_english(classes)}{more}. Write the one you mean.",
                             key="ambiguous_class", name=_received(name), classes=classes, count=len(found))
