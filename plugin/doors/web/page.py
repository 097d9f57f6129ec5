"""The page being built in one language: `Page`, which words its components through Gradio's own
i18n (`page_words`) and records what the language switch must word again, the page's words
(`texts`), a table's value, an engine error said as a Gradio error, and the style the page gives
Gradio's own parts (`page_css`: its toasts and error badges, its dropdowns)."""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any

import gradio as gr

from plugin import words
from plugin.doors.gate import gated
from plugin.doors.gradio_api import ENGINE_QUEUE
from plugin.doors.web.choices import model_choices
from plugin.doors.web.sessions import in_session
from plugin.errors import PluginError

__all__ = ["Page", "page_words", "page_css", "texts", "engine_error", "table_value"]


@functools.cache
def page_words() -> gr.I18n:
    """Every word of the page (the catalogue's "ui" section) and Gradio's own texts its catalogues
    lack (section "gradio"), in each language. Gradio's frontend words each component in the
    page's language, which `plugin.doors.http_language` sets before Gradio's scripts run."""
    return gr.I18n(**{lang: {key: value for key, value in {**words.section("gradio", lang), **words.section("ui", lang)}.items()
                             if isinstance(value, str)} for lang in words.LANGUAGES})


class Page:
    """The app being built in one language.

    Each tab's `build(page, language)` words its components through `label` and `say` (labels,
    button texts, placeholders, infos, Markdown notes: Gradio's i18n words them in the page's
    language as the page draws them), and makes what i18n cannot carry (a table's headers, the
    model picker's choices, which hold numbers) through `table`, `models_picker` and `also`, so
    that `updates(lang)` can say those again in another language, in the order of `components()`.
    """

    _PLAIN = (gr.Image,)
    """Components whose frontend draws an i18n label as "[object Object]" (Gradio 6.31's image block
    label): worded here, and again by `updates`."""

    def __init__(self, lang: str, concurrency: int) -> None:
        self.lang, self.t, self.concurrency = lang, texts(lang), concurrency
        self._plain: list[tuple[Any, str, str]] = []
        self._tables: list[tuple[Any, str, str]] = []
        self._pickers: list[Any] = []
        self._others: list[tuple[Any, Callable[[str], Any]]] = []

    def tab(self, key: str, tab_id: str) -> gr.Tab:
        """A tab named by the catalogue's `key`."""
        return gr.Tab(page_words()(key), id=tab_id)

    def label(self, component: Any, key: str) -> Any:
        """A component whose label (a button's text) is the catalogue's `key`."""
        return self.say(component, **{"value" if isinstance(component, gr.Button) else "label": key})

    def say(self, component: Any, **keys: str) -> Any:
        """A component whose properties (`label`, `value`, `placeholder`, `info`) are the catalogue's
        words at the keys given, through Gradio's i18n:
        `page.say(gr.Textbox(...), label="expected", placeholder="expected_hint")`."""
        for prop, key in keys.items():
            if isinstance(component, self._PLAIN):
                self._plain.append((component, prop, key))
            else:
                setattr(component, prop, page_words()(key))
        return component

    def table(self, key: str, headers_key: str, **options: Any) -> gr.Dataframe:
        """A table labelled `key` with the catalogue's headers `headers_key`."""
        component = gr.Dataframe(headers=self.t[headers_key], label=page_words()(key), **options)
        self._tables.append((component, key, headers_key))
        return component

    def models_picker(self, value: list[str], elem_id: str) -> gr.CheckboxGroup:
        """A picker of every registry model, each saying whether its weights are ready."""
        component = gr.CheckboxGroup(model_choices(self.lang), value=value, label=page_words()("models"), elem_id=elem_id)
        self._pickers.append(component)
        return component

    def also(self, component: Any, update: Callable[[str], Any]) -> Any:
        """A component the switch updates with `update(lang)`."""
        self._others.append((component, update))
        return component

    def engine_event(self, trigger: Callable[..., Any], fn: Callable[..., Any], inputs: dict[str, Any], outputs: list, *,
                     form: type | None = None) -> None:
        """Run `fn` through the one engine gate and queue every door shares, with its session's
        own folder readable (its uploads and models) while it runs.

        Args:
            trigger: the event (`button.click`).
            fn: the handler; it gets each input by its name, and the request and progress tracker
                where it takes them (`request`, `progress`).
            inputs: the handler's inputs by parameter name: `{"image": image, "models": models, ...}`.
            outputs: the components its result goes to, in order.
            form: a dataclass whose fields are some of the inputs: the handler gets them as one
                `form` of that class (a long form's handler takes one argument, not a dozen).
        """
        names = {component: name for name, component in inputs.items()}
        takes = inspect.signature(fn).parameters

        def named(values: dict, request: gr.Request, progress=gr.Progress()):  # Gradio passes a set's inputs as one dict
            given = {names[component]: value for component, value in values.items()}
            if form is not None:
                fields = {field.name for field in dataclasses.fields(form)}
                given = {"form": form(**{name: given.pop(name) for name in list(given) if name in fields}), **given}
            given |= {key: value for key, value in (("request", request), ("progress", progress)) if key in takes}
            return fn(**given)

        named.__name__ = named.__qualname__ = fn.__name__
        trigger(gated(in_session(named)), set(inputs.values()), outputs, api_visibility="private",
                concurrency_limit=self.concurrency, concurrency_id=ENGINE_QUEUE)

    def components(self) -> list[Any]:
        return [c for c, _, _ in self._plain] + [c for c, _, _ in self._tables] + self._pickers + [c for c, _ in self._others]

    def updates(self, lang: str) -> list[Any]:
        """What i18n cannot word, in `lang`, as the page loads (the tables empty, with their headers)."""
        t = texts(lang)
        return ([gr.update(**{prop: t[key]}) for _, prop, key in self._plain]
                + [gr.update(value=table_value(t[headers_key], [])) for _, _, headers_key in self._tables]
                + [gr.update(choices=model_choices(lang)) for _ in self._pickers]
                + [update(lang) for _, update in self._others])


def texts(lang: str) -> dict:
    """The page's words (the catalogue's \"ui\" section) in `lang`."""
    return words.section("ui", lang if lang in words.LANGUAGES else words.default_lang())


def engine_error(exc: PluginError, lang: str) -> gr.Error:
    return gr.Error(words.error_text(exc, lang), title=words.error_title(exc, lang), print_exception=False)


def table_value(headers: list[str], rows: list[list]) -> dict:
    return {"headers": headers, "data": rows}


_GRADIO_CSS = """
.toast-title { visibility: hidden; font-size: 0 !important; }  /* Gradio titles a toast with its type, in English ("Error"), whatever the page's language */
.toast-title::before, .toast-title .toast-count { visibility: visible; font-size: var(--text-lg); }  /* the page's word instead (below) */
[data-testid="status-tracker"]:has(> .error) { display: none !important; }  /* the red badge Gradio lays over a failed event's outputs covers their text (a field's help); the toast says what went wrong */
.gradio-container input[role="combobox"] { padding-right: var(--size-10) !important; text-overflow: ellipsis; }  /* a dropdown's text stops before its arrow (Gradio draws the arrow over it) */
.file-preview .filename { display: block !important; font-size: 0; }  /* a file offered for download named whole (a report's name holds its models and time), wrapping on a phone; */
.file-preview .filename > span { display: inline !important; white-space: normal !important; overflow-wrap: anywhere; font-size: var(--text-md); }  /* its extension right after its name */
.gradio-container svg.chart { width: 100%; height: auto; display: block; }  /* a chart fits a phone's width, as in the reports */
.block:not(:has(input[type=file])) .file-preview .label-clear-button { display: none; }  /* files offered for download (a report's page, zip, Markdown, pictures) are not the user's to remove */
"""
TOAST_KINDS = ("error", "warning", "info", "success")
"""Gradio's kinds of toast (`gr.Error`, `gr.Warning`, `gr.Info`, `gr.Success`), each titled in the page's language."""


def page_css() -> str:
    """The style the page gives Gradio's own parts: a toast titled in the page's language (the
    catalogue's `toast_<kind>`, chosen by the page's `lang`), no error badge over a failed
    event's outputs, a dropdown's text clear of its arrow."""
    titles = [f":lang({lang}) .toast-title.{kind}::before {{ content: {_css_string(texts(lang)[f'toast_{kind}'])}; }}"
              for lang in words.LANGUAGES for kind in TOAST_KINDS]
    return _GRADIO_CSS + "\n".join(titles) + "\n"


def _css_string(text: str) -> str:
    """`text` as a CSS string: quoted, with quotes, backslashes and line ends escaped."""
    return '"' + "".join(f"\\{ord(c):x} " if c in '"\\\n<>' else c for c in text) + '"'
