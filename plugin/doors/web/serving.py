"""Files between the page and the engine: uploads kept in the session's folder or decoded by the
engine, files the page shows served as Gradio's own copies, and a report made from what a tab
already computed, offered with its blog files."""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import tempfile
from pathlib import Path

import gradio as gr

from plugin import api
from plugin.doors.http_uploads import mark_used
from plugin.doors.web.page import engine_error, texts
from plugin.doors.web.sessions import SECRET, session_dir, session_folder
from plugin.errors import PluginError
from plugin.render.report_store import download_files

__all__ = ["keep_upload", "served", "report_offer", "photo", "render_saved"]


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
    version = hmac.new(SECRET, f"{real}|{stat.st_mtime_ns}|{stat.st_size}".encode(), hashlib.sha256).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / "cnnlab-served" / version
    folder.mkdir(parents=True, exist_ok=True)
    return str(shutil.copy2(real, folder / real.name))


def report_offer(page: str | Path) -> list[str]:
    """What a report button offers for download, each file served as Gradio's own copy: the page
    (HTML) first, then the post's `.zip` (the Markdown and its pictures, laid out as a blog takes
    them), the Markdown and each of its pictures."""
    return [served(str(path)) for path in download_files(Path(page))]


def photo(path: str | None, lang: str):
    """An uploaded photo (a file in Gradio's upload cache), decoded by the engine with its checks."""
    if not path:
        return None
    mark_used(path)
    try:
        return api.load_upload(path)
    except PluginError as exc:
        raise engine_error(exc, lang) from exc


def render_saved(kind: str, missing: str, computed: dict | None, lang: str, request: gr.Request | None, progress) -> list[str]:
    """Render what a tab already computed (a result, or facts) into a report in this session's
    folder; return what to offer for download (`report_offer`: the page first)."""
    t = texts(lang)
    if not computed:
        raise gr.Error(t[missing], print_exception=False)
    progress(0.3, desc=t["rendering"])
    try:
        return report_offer(api.render_report(kind, lang=lang, output_dir=session_folder(request), **computed)["path"])
    except PluginError as exc:
        raise engine_error(exc, lang) from exc
