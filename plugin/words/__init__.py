"""Every fixed word people read, in Korean and English: one catalogue, one JSON file per language.

`ko.json` and `en.json` hold the same sections: `report` (report pages), `ui` (the web app),
`gradio` (Gradio's own component texts, by its frontend's keys, where its catalogue lacks them),
`cli` (the command line), `structure` (labels and roles of layer kinds), `preprocessing` (what
each mode does), `notes` (study notes per model family), `results` (sentences results carry) and
`errors` (error titles; in Korean also the messages of the errors people meet most). The engine
returns data and message keys; the templates, the web app and the command line look words up here.
Text written into Markdown, by the reports and the web app alike, is escaped by `markdown_text`;
numbers are written by `si_number`, `percent` and `pixel_text`. How a result is said (a class's
name, the verdict's basis, the models' agreement, ...) is `plugin.words.results`.

    >>> text("report.params", "ko")
    '파라미터 수'
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from plugin import errors as errors_module
from plugin.errors import InvalidInputError, PluginError

__all__ = ["LANGUAGES", "check_lang", "default_lang", "catalogue", "section", "text", "both", "error_text",
           "error_title", "failure_text", "pixel_text", "si_number", "percent", "run_by", "precision_text", "markdown_text"]

LANGUAGES = ("ko", "en")
_SI = ((1e9, "G"), (1e6, "M"), (1e3, "k"))
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def default_lang() -> str:
    """The language when none is given: CNNLAB_LANG, else Korean."""
    lang = os.environ.get("CNNLAB_LANG", "ko")
    return lang if lang in LANGUAGES else "ko"


def check_lang(lang) -> str:
    """Return `lang` if it is a supported language, the default for None; refuse anything else."""
    if lang is None:
        return default_lang()
    if lang not in LANGUAGES:
        raise InvalidInputError(f"Expected lang to be one of {list(LANGUAGES)}. Received: lang={lang!r}")
    return lang


@functools.cache
def catalogue(lang: str) -> dict:
    """The whole catalogue of one language."""
    lang = check_lang(lang)
    return json.loads(resources.files("plugin.words").joinpath(f"{lang}.json").read_text("utf-8"))


def section(name: str, lang: str | None) -> dict:
    """One section of the catalogue (e.g. "report"), for templates and widgets."""
    return catalogue(check_lang(lang))[name]


def text(key: str, lang: str | None, **params) -> str:
    """The words at a dotted key ("report.params"), formatted with `params` when given."""
    node: Any = catalogue(check_lang(lang))
    for part in key.split("."):
        node = node[part]
    return node.format(**params) if params else node


def both(key: str, **params) -> dict[str, str]:
    """The words at a key in every language: `{"ko": ..., "en": ...}`."""
    return {lang: text(key, lang, **params) for lang in LANGUAGES}


def error_title(error: PluginError, lang: str | None) -> str:
    """A short name for the kind of error ("Image error", "이미지 오류")."""
    types = section("errors", lang)["types"]
    return types.get(error.type, types["PluginError"])


def error_text(error: PluginError, lang: str | None) -> str:
    """An engine error as a person reads it in `lang`.

    An error that carries a message key the language's catalogue knows is said with its words
    (Korean has the messages people meet most; English those whose engine message is written for
    agents, with server paths). Any other: in English the engine's own message, in Korean that
    message after a Korean title.
    """
    lang = check_lang(lang)
    errors = section("errors", lang)
    template = errors.get("messages", {}).get(error.key or "")
    if lang == "en" and template is None:
        return str(error)
    if template is not None:
        params = dict(error.params)
        sources = section("image_sources", lang)
        if params.get("source_kind") in sources:  # "file notes.txt" is "파일 notes.txt" in a Korean message
            params["source"] = sources[params["source_kind"]].format(name=params.get("source_name", ""))
        if isinstance(params.get("classes"), list):  # ImageNet classes ({"label", "label_ko"}) each named as results name them
            params["classes"] = _class_list(params["classes"], lang, total=params.get("count"))
        try:
            return template.format(**params)
        except (KeyError, IndexError):
            pass  # a raise site that lacks a value: fall back to the English message below
    if lang == "en":
        return str(error)
    return errors["generic"].format(type=error_title(error, lang), message=str(error))


def _class_list(classes: Sequence[Mapping[str, Any]], lang: str, total: int | None = None) -> str:
    """ImageNet classes in a sentence, each as `results.display_name` writes it ("비글 (beagle)" in
    Korean, "beagle" in English), and how many more where `total` says some were left out."""
    from plugin.words.results import display_name  # results reads this module's words: imported when called

    shown = ", ".join(display_name(item, lang) for item in classes)
    if isinstance(total, int) and total > len(classes):
        return section("errors", lang)["more_classes"].format(shown=shown, more=total - len(classes))
    return shown


def failure_text(error: Mapping[str, Any], lang: str | None) -> str:
    """A result's error entry (`{"type", "message", "key", "params"}`: why one model could not
    answer) as a person reads it in `lang`, as `error_text` says a raised error."""
    kind = getattr(errors_module, str(error.get("type")), PluginError)
    kind = kind if isinstance(kind, type) and issubclass(kind, PluginError) else PluginError
    return error_text(kind(str(error.get("message", "")), key=error.get("key"), **dict(error.get("params") or {})), lang)


def pixel_text(values) -> str:
    """A pixel as the model gets it, as pages and the app write it: "(16.1, 43.2, 77.3)"."""
    def one(value: float) -> str:
        return str(int(value)) if float(value).is_integer() else f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}"

    return "(" + ", ".join(one(value) for value in values) + ")"


def si_number(value: float | None, *, spec: str = ".1f") -> str:
    """A count with an SI prefix, as tables and charts write it: "138.4M", "15.5G", "3.16k" (with
    `spec` ".3g"); a count under 1000 as it is ("950"; a float in `spec`), None as "-"."""
    if value is None:
        return "-"
    for scale, prefix in _SI:
        if abs(value) >= scale:
            return f"{value / scale:{spec}}{prefix}"
    return f"{value:{spec}}" if isinstance(value, float) else str(value)


def percent(value: float | None, *, digits: int = 1) -> str:
    """A share (0..1) as a percentage: "91.2%" (with `digits` 0: "20%"); None as "-"."""
    return "-" if value is None else f"{value:.{digits}%}"


def run_by(outcome: Mapping[str, Any], lang: str | None) -> str:
    """What answered for one model, as a reader says it: "ONNX Runtime" or "ONNX Runtime · int8"."""
    engine = section("report", lang)["backend_names"].get(outcome.get("backend"), "")
    return f"{engine} · int8" if outcome.get("precision") == "int8" else engine


def precision_text(outcome: Mapping[str, Any], lang: str | None) -> str:
    """Where int8 was asked for: that it answered, with its agreement with float32, or why float32
    answered instead; else empty."""
    agreement = outcome.get("int8_agreement")
    if not agreement:
        return ""
    key = "report.int8_used" if outcome.get("precision") == "int8" else "report.int8_refused"
    return text(key, lang, model=outcome["model"], images=agreement["images"], top1=percent(agreement["top1"]),
                confident=percent(agreement["top1_confident"]))


def markdown_text(value) -> str:
    """Text shown in Markdown as it is, wherever Markdown is written (the reports' Markdown
    versions, the web app): Markdown specials escaped, one line, and what a Markdown renderer would
    read as a tag or an entity (`<`, `&`) written as entities, so a folder named `<img src=x>` stays
    those characters, never an element; quotes and `>` stay as people write them ('기타',
    "개 91% > 고양이 1%").
    """
    text = _MD_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))
    return text.replace("&", "&amp;").replace("<", "&lt;")
