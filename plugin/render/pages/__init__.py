"""The kinds of study report: a table of small declared entries, one module each.

Every kind lives in a module of this package that declares `KIND`, a `ReportKind`: its name, what
it says it is, the results it renders (`inputs`), the engine options `make_report` takes for it
(`options`, and which of them are `required`), which option the command line's subjects fill, and
three functions: `run` (the engine work `make_report` does, through the public API it is handed),
`prepare` (what `render_report` reads for it, such as the photo) and `build` (the page: title,
template context and the pictures of its Markdown version). Its templates are `<name>.html` and
`<name>.md`. `write_report`, `render_report`, `make_report`, the `render_report` tool's `kind` (its
enum and description), `REPORT_OPTIONS` and the command line's choices are all read from this
table, so a new kind is one module and its two templates (`register` adds one made elsewhere, as a
test does).

`run` and `prepare` are handed the public API (`plugin.api`) by their caller: a page module never
imports the engine to compute something.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["Page", "ReportKind", "kinds", "get_kind", "register", "unregister", "kind_names", "kinds_text"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Page:
    """What a kind's builder gives `write_report`.

    Attributes:
        title: the page's title.
        name_parts: what names the files (models, usually).
        context: the templates' variables, besides those every page has.
        files: the Markdown version's pictures by file name (PNG, JPEG).
        file_keys: for a picture of `files`, the Markdown template's variable that names its file.
        file_lists: Markdown template variables that list several of `files`.

    The Markdown template also gets `files_folder`, the folder its pictures lie in beside it, for
    a picture named in `context` (one per model: `{{ files_folder }}/{{ m.picture }}`).
    """

    title: str
    name_parts: list[str]
    context: dict[str, Any]
    files: dict[str, bytes] = dataclasses.field(default_factory=dict)
    file_keys: dict[str, str] = dataclasses.field(default_factory=dict)
    file_lists: dict[str, list[str]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReportKind:
    """One kind of report.

    Attributes:
        name: what callers name it ("architecture").
        description: one line for a tool's schema and the command line's help, in English.
        inputs: the results `render_report` takes for it, among "result", "facts", "image",
            "explanations" and "preprocessing_study".
        options: the options `make_report` takes (those of the engine function it runs).
        required: groups of options of which at least one each must be given ((("image",),) for a
            classification); a tool call or a command without them is refused before anything runs.
        subject: the option the command line's words after the kind fill ("model", "image",
            "models", "source").
        many_subjects: whether `subject` takes several (a list of models).
        run: `run(api, options) -> inputs`: the engine's work, through the public API it is handed.
        prepare: `prepare(api, inputs) -> page inputs`: what the page needs read (the photo as a
            picture, the mistakes' thumbnails), from the inputs `render_report` was given.
        build: `build(page_inputs, t, lang) -> Page`, `t` being the report words of `lang`.
        template_dir: a folder of this kind's own templates, where they are not in the project's.
        pictures_in_language: `run` draws pictures with words on them, so `make_report` hands it
            the report's `lang` too.
    """

    name: str
    description: str
    inputs: tuple[str, ...]
    options: tuple[str, ...]
    required: tuple[tuple[str, ...], ...] = ()
    subject: str
    many_subjects: bool = False
    run: Callable[[Any, dict[str, Any]], dict[str, Any]]
    prepare: Callable[[Any, dict[str, Any]], dict[str, Any]]
    build: Callable[[dict[str, Any], dict, str], Page]
    template_dir: Path | None = None
    pictures_in_language: bool = False


_lock = threading.Lock()
_kinds: dict[str, ReportKind] = {}


def _discover() -> None:
    """Read `KIND` from every module of this package, once."""
    if _kinds:
        return
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            kind = getattr(importlib.import_module(f"{__name__}.{module.name}"), "KIND", None)
            if isinstance(kind, ReportKind):
                _kinds.setdefault(kind.name, kind)


def kinds() -> Mapping[str, ReportKind]:
    """Every kind of report, by name, in alphabetical order."""
    with _lock:
        _discover()
        return dict(sorted(_kinds.items()))


def kind_names() -> tuple[str, ...]:
    return tuple(kinds())


def get_kind(name: Any) -> ReportKind:
    """The kind of this name; an `InvalidInputError` that lists the kinds for any other."""
    from plugin.errors import InvalidInputError

    known = kinds()
    if not isinstance(name, str) or name not in known:
        raise InvalidInputError(f"Expected kind to be one of {list(known)}. Received: kind={name!r}")
    return known[name]


def register(kind: ReportKind) -> ReportKind:
    """Add a kind made outside this package (its `template_dir` holds its templates); a kind of the
    same name is replaced."""
    with _lock:
        _discover()
        _kinds[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Take a kind `register` added away again."""
    with _lock:
        _kinds.pop(name, None)


def kinds_text() -> str:
    """Every kind with what it is, as the tool's schema and the command line's help say it."""
    return "; ".join(f"{kind.name}: {kind.description}" for kind in kinds().values())
