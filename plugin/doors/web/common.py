"""What every tab of the web app shares: the page's words, engine errors as Gradio errors, each
page session's private folder and uploads, the model pickers' choices, and `Page`, which records
what the language switch re-renders."""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from plugin import api, words
from plugin.config import SESSIONS, get_settings, granted_roots
from plugin.doors.gate import gated
from plugin.doors.gradio_api import ENGINE_QUEUE
from plugin.doors.http_uploads import mark_used
from plugin.errors import PluginError

__all__ = ["Page", "SESSIONS", "SHARED", "GALLERY", "MODEL_CHOICES", "PREPROCESSING_CHOICES", "texts", "engine_error",
           "session_folder", "session_dir", "in_session", "served", "keep_upload", "photo", "engine_choices", "model_choices", "md", "table_value",
           "render_saved", "percent", "remember_identity", "set_single_user", "single_user"]

SHARED = "shared"
GALLERY = "gallery"
_SECRET = secrets.token_bytes(32)
log = logging.getLogger(__name__)
MODEL_CHOICES = list(api.MODEL_NAMES)
PREPROCESSING_CHOICES = [mode for mode in api.PREPROCESSING_MODES if mode != "builtin"]


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


_IDENTITIES: OrderedDict[str, str] = OrderedDict()
"""Gradio session id -> the page's identity, which its browser keeps (a reload is a new session)."""
_IDENTITIES_LOCK = threading.Lock()
_MAX_IDENTITIES = 10_000
_IDENTITY = re.compile(r"[A-Za-z0-9_-]{32,64}")
_single_user = False


def set_single_user(local: bool) -> None:
    """Whether the app serves only this computer (localhost, no share link): its one user then also
    sees the reports the command line wrote into the output folder."""
    global _single_user
    _single_user = bool(local)


def single_user() -> bool:
    return _single_user


def remember_identity(identity: str | None, request: gr.Request | None) -> str:
    """As a page loads: tie its session to the identity its browser keeps (a new one, unguessable,
    for a new browser), so that after a reload it finds its folder, and its reports, again."""
    if not isinstance(identity, str) or not _IDENTITY.fullmatch(identity):
        identity = secrets.token_urlsafe(32)
    key = getattr(request, "session_hash", None)
    if key:
        with _IDENTITIES_LOCK:
            _IDENTITIES[key] = identity
            _IDENTITIES.move_to_end(key)
            while len(_IDENTITIES) > _MAX_IDENTITIES:
                _IDENTITIES.popitem(last=False)
    return identity


def session_folder(request: gr.Request | None) -> str:
    """This page's folder, relative to the output folder: named by a keyed hash of the identity its
    browser keeps (or, before the page has told it, of Gradio's session id), so it cannot be
    guessed from outside."""
    session = getattr(request, "session_hash", None) or "no-session"
    with _IDENTITIES_LOCK:
        key = _IDENTITIES.get(session, session)
    return f"{SESSIONS}/{hmac.new(_secret(), key.encode('utf-8'), hashlib.sha256).hexdigest()[:32]}"


@functools.cache
def _secret() -> bytes:
    """The key of the folders' names: kept in the sessions folder (owner-only), so a page's folder
    is the same after the app restarts; a fresh one where it cannot be kept."""
    path = get_settings().output_dir / SESSIONS / ".key"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "wb") as out:
            out.write(secrets.token_bytes(32))
    except FileExistsError:
        pass
    except OSError:
        return _SECRET
    try:
        key = path.read_bytes()
    except OSError:
        return _SECRET
    return key if len(key) == 32 else _SECRET


def in_session(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function`, run with its page session's folder granted for reading (`granted_roots`) when
    Gradio passes it a request: a session reads its own uploads and models, never another's."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        values = (*args, *kwargs.values())
        request = next((value for value in values if isinstance(value, gr.Request)), None)
        try:
            if request is None:
                return function(*args, **kwargs)
            with granted_roots(session_dir(request)):
                return function(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:  # the boundary: the page gets a sentence, never a message with the server's paths
            log.exception("%s failed", function.__name__)
            lang = next((value for value in values if isinstance(value, str) and value in words.LANGUAGES), words.default_lang())
            raise gr.Error(texts(lang)["unexpected"].format(kind=type(exc).__name__), print_exception=False) from exc

    return run


def session_dir(request: gr.Request | None, *parts: str) -> Path:
    folder = get_settings().output_dir.joinpath(session_folder(request), *parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def keep_upload(path: str | None, request: gr.Request | None) -> str | None:
    """Copy an uploaded model file into this session's uploads (below an allowed root), by content hash."""
    if not path:
        return None
    mark_used(path)
    source = Path(path)
    with open(source, "rb") as handle:
        hasher = hashlib.sha256()  # hashlib.file_digest is Python 3.11+; the project supports 3.10
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(chunk)
        digest = hasher.hexdigest()[:16]
    kept = session_dir(request, "uploads") / f"{digest}-{source.name[-100:]}"
    if not kept.exists():
        shutil.copyfile(source, kept)
    return str(kept)


def served(path: str) -> str:
    """A file the page shows or offers, from where Gradio takes files (the working or the temporary
    folder; the output folder is not served as it is). Gradio serves its own copy, under a name
    only this page learns."""
    real = Path(path).resolve()
    if any(real.is_relative_to(Path(folder).resolve()) for folder in (os.getcwd(), tempfile.gettempdir())):
        return str(real)
    stat = real.stat()  # one copy per file version, whatever how often it is shown
    version = hmac.new(_SECRET, f"{real}|{stat.st_mtime_ns}|{stat.st_size}".encode(), hashlib.sha256).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / "cnnlab-served" / version
    folder.mkdir(parents=True, exist_ok=True)
    return str(shutil.copy2(real, folder / real.name))


def photo(path: str | None, lang: str):
    """An uploaded photo (a file in Gradio's upload cache), decoded by the engine with its checks."""
    if not path:
        return None
    mark_used(path)
    try:
        return api.load_upload(path)
    except PluginError as exc:
        raise engine_error(exc, lang) from exc


def engine_choices(lang: str) -> list[tuple[str, str]]:
    """The evaluation engines, named in the language; Ray only where it is installed."""
    return [(texts(lang)[f"engine_{name}"], name) for name in api.ENGINES if name != "ray" or ray_installed()]


def model_choices(lang: str) -> list[tuple[str, str]]:
    """Every registry model for a picker: ready ones by name, others with what is missing."""
    t = texts(lang)
    choices = []
    for model in api.list_models()["models"]:
        weights, name = model["weights"], model["name"]
        if weights["available"]:
            label = name
        elif weights["source"] == "download":
            label = t["choice_download"].format(model=name, size=f"{weights['size_mb']:g}")
        else:
            label = t["choice_no_weights"].format(model=name)
        choices.append((label, name))
    return choices


def ray_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def md(text: Any) -> str:
    """Text shown in Markdown as it is, escaped as the reports' Markdown is (`words.markdown_text`):
    a name such as `<img src=x>` stays text, without relying on Gradio's sanitiser."""
    return words.markdown_text(text)


def failure_cards(entries: list, lang: str) -> list[str]:
    """One Markdown card (a quote) per model that could not answer: its name, "no answer", and why,
    in `lang` (an answer's entries are skipped)."""
    said = words.text("report.no_answer", lang)
    cards = []
    for entry in entries:
        if "error" not in entry:
            continue
        text = md(words.failure_text(entry["error"], lang))
        url = str((entry["error"].get("params") or {}).get("url") or "")
        if url.startswith("https://"):  # a link that ends where the address ends, not at the next Korean particle
            text = text.replace(md(url), f"<{url}>")
        cards.append(f"> ⚠️ **{md(entry['model'])} · {said}**  \n> {text}\n")
    return cards


def table_value(headers: list[str], rows: list[list]) -> dict:
    return {"headers": headers, "data": rows}


def render_saved(kind: str, missing: str, computed: dict | None, lang: str, request: gr.Request | None, progress) -> str:
    """Render what a tab already computed (a result, or facts) into a report in this session's
    folder; return its path."""
    t = texts(lang)
    if not computed:
        raise gr.Error(t[missing], print_exception=False)
    progress(0.3, desc=t["rendering"])
    try:
        return served(api.render_report(kind, lang=lang, output_dir=session_folder(request), **computed)["path"])
    except PluginError as exc:
        raise engine_error(exc, lang) from exc



def percent(value) -> str:
    return "-" if value is None else f"{value:.1%}"
