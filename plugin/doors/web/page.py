"""The page being built in one language: `Page`, which records what the language switch words
again, the page's words (`texts`), a table's value, and an engine error said as a Gradio error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from plugin import words
from plugin.doors.gate import gated
from plugin.doors.gradio_api import ENGINE_QUEUE
from plugin.doors.web.choices import model_choices
from plugin.doors.web.sessions import in_session
from plugin.errors import PluginError

__all__ = ["Page", "texts", "engine_error", "table_value"]


class Page:
    """The app being built in one language, and what its language switch re-renders.

    Each tab's `build(page, language)` makes its components through `label`, `table` and
    `models_picker`, so that `updates(lang)` can say every label, header and choice again in
    another language, in the order of `components()`.
    """

    def __init__(self, lang: str, concurrency: int) -> None:
        self.lang, self.t, self.concurrency = lang, texts(lang), concurrency
        self._labelled: list[tuple[Any, str, str]] = []
        self._tables: list[tuple[Any, str, str]] = []
        self._pickers: list[Any] = []
        self._others: list[tuple[Any, Callable[[str], Any]]] = []

    def tab(self, key: str, tab_id: str) -> gr.Tab:
        """A tab named by the catalogue's `key`."""
        return self.label(gr.Tab(self.t[key], id=tab_id), key)

    def label(self, component: Any, key: str) -> Any:
        """A component whose label (a button's text) is the catalogue's `key`."""
        return self.say(component, **{"value" if isinstance(component, gr.Button) else "label": key})

    def say(self, component: Any, **keys: str) -> Any:
        """A component whose properties (`label`, `value`, `placeholder`, `info`) are the catalogue's
        words at the keys given: `page.say(gr.Textbox(...), label="expected", placeholder="expected_hint")`."""
        for prop, key in keys.items():
            self._labelled.append((component, prop, key))
        return component

    def table(self, key: str, headers_key: str, **options: Any) -> gr.Dataframe:
        """A table labelled `key` with the catalogue's headers `headers_key`."""
        component = gr.Dataframe(headers=self.t[headers_key], label=self.t[key], **options)
        self._tables.append((component, key, headers_key))
        return component

    def models_picker(self, value: list[str], elem_id: str) -> gr.CheckboxGroup:
        """A picker of every registry model, each saying whether its weights are ready."""
        component = gr.CheckboxGroup(model_choices(self.lang), value=value, label=self.t["models"], elem_id=elem_id)
        self._pickers.append(component)
        return component

    def also(self, component: Any, update: Callable[[str], Any]) -> Any:
        """A component the switch updates with `update(lang)`."""
        self._others.append((component, update))
        return component

    def engine_event(self, trigger: Callable[..., Any], fn: Callable[..., Any], inputs: list, outputs: list) -> None:
        """Run `fn` through the one engine gate and queue every door shares, with its session's
        own folder readable (its uploads and models) while it runs."""
        trigger(gated(in_session(fn)), inputs, outputs, api_visibility="private", concurrency_limit=self.concurrency,
                concurrency_id=ENGINE_QUEUE)

    def components(self) -> list[Any]:
        worded = list(dict.fromkeys(c for c, _, _ in self._labelled))  # one update per component, all its words
        return (worded + [c for c, _, _ in self._tables] + self._pickers + [c for c, _ in self._others])

    def updates(self, lang: str) -> list[Any]:
        """Every word of the page in `lang`, as the page loads (the tables empty, with their headers)."""
        t = texts(lang)
        props: dict[Any, dict[str, str]] = {}
        for component, prop, key in self._labelled:
            props.setdefault(component, {})[prop] = t[key]
        return ([gr.update(**values) for values in props.values()]
                + [gr.update(label=t[key], value=table_value(t[headers_key], [])) for _, key, headers_key in self._tables]
                + [gr.update(label=t["models"], choices=model_choices(lang)) for _ in self._pickers]
                + [update(lang) for _, update in self._others])


def texts(lang: str) -> dict:
    """The page's words (the catalogue's \"ui\" section) in `lang`."""
    return words.section("ui", lang if lang in words.LANGUAGES else words.default_lang())


def engine_error(exc: PluginError, lang: str) -> gr.Error:
    return gr.Error(words.error_text(exc, lang), title=words.error_title(exc, lang), print_exception=False)


def table_value(headers: list[str], rows: list[list]) -> dict:
    return {"headers": headers, "data": rows}
