"""The Gradio web app: classify, architecture, compare, evaluate and reports in the browser, and
the tools for agents (Gradio API endpoints, and MCP over Streamable HTTP at /gradio_api/mcp/).

A thin door: each handler calls the public API once, keeps the result it got, shows it, and makes
a report from that same result when asked. Engine errors become `gr.Error` in the page's language.
Every word on the page comes from the catalogue (`plugin.words`, section "ui").

Web users are strangers to each other: each page session keeps its uploads, models and reports in
its own folder (`<output>/sessions/<unguessable id>/`), lists only those, and shares a report with
everyone only when its user asks (`<output>/shared/`). Uploaded photos are decoded by the engine,
with its format list and pixel limits, never by the framework.
"""

from __future__ import annotations

import gradio as gr

from plugin import api, words
from plugin.config import get_settings
from plugin.doors.gradio_api import register_tool_endpoints
from plugin.doors.gradio_compat import app_guarded_by
from plugin.doors.http_files import LocalFilesOnly
from plugin.doors.http_hosts import HostGuard, served_hosts, vouched_hosts
from plugin.doors.http_language import PageLanguage, language_script
from plugin.doors.http_limits import UPLOAD_PATH, BodyLimit
from plugin.doors.http_uploads import UploadQuota
from plugin.doors.web import architecture_tab, classify_tab, compare_tab, evaluate_tab, inside_tab, reports_tab
from plugin.doors.web.page import Page, page_css, page_words, texts
from plugin.doors.web.sessions import SESSIONS, remember_identity, set_single_user
from plugin.render.pictures import FONT_FAMILY
from plugin.render.tables import tables_css

__all__ = ["build_app", "launch", "MCP_PATH", "TABS"]

MCP_PATH = "/gradio_api/mcp"
UPLOAD_EXPIRY = (3600, 24 * 3600)
"""Gradio's cache of uploads and served files is swept every hour of what is older than a day."""
TABS = (classify_tab, architecture_tab, inside_tab, compare_tab, evaluate_tab, reports_tab)
"""The tabs, in the order the page shows them: each a module with `build(page, language)`."""


_SWITCH_JS = """(lang) => {
  const url = new URL(location.href);
  if (url.searchParams.get("lang") !== lang) { url.searchParams.set("lang", lang); location.assign(url.toString()); }
}"""
"""The language switch draws the page again in the chosen language: Gradio words a component's own
texts once, as it draws it, so only a new page is wholly in the new language."""


# The page's own fonts, Korean first, for Hangul and Latin alike: Gradio's default theme loads its bundled
# Source Sans Pro, whose SemiBold file (Gradio 6.31) holds only a handful of glyphs, so every semibold
# title mixed two fonts ("Grad-CAM" drawn with a small, light "A").
APP_FONTS = [name.strip().strip("'") for name in FONT_FAMILY.split(",")][:-1] + ["ui-sans-serif", "system-ui", "sans-serif"]
APP_CSS = """
.gradio-container { word-break: keep-all; overflow-wrap: break-word; }  /* Korean wraps between words; a name too long for its line anywhere */
#arch-stage-view svg { width: 100%; max-width: 400px; height: auto; }
.gradio-container th, .gradio-container th * { word-break: keep-all !important; overflow-wrap: anywhere !important; }  /* a header's words whole where its column is wide enough; Gradio's columns have fixed widths, so a word wider than its column breaks rather than being cut off */
button[role="tab"] { flex-shrink: 0; }  /* a tab's name whole; the tabs that do not fit go to Gradio's overflow menu */
.model-label h2.output-class { font-size: var(--text-xxl); padding-top: var(--size-6); }  /* a long class name whole, under its card's label */
#arch-diagram .diagram-box { max-height: 80vh; overflow: auto; border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px; background: #fff; }
#arch-diagram .diagram-box svg { display: block; width: 100%; min-width: 640px; height: auto; }  /* full size: a phone scrolls, as in the reports */
#inside-pictures .grid-wrap { height: auto !important; max-height: none !important; overflow: visible !important; padding-top: 2.4rem !important; }  /* every heat map shown, none behind an inner scroll */
#inside-pictures .grid-container { grid-auto-rows: auto !important; grid-template-rows: none !important; }  /* a heat map and its caption: the caption's height, not a fixed row */
#inside-pictures .thumbnail-item { height: auto !important; aspect-ratio: auto !important; display: flex; flex-direction: column; overflow: visible; }
#inside-pictures .thumbnail-item img { height: auto !important; width: 100%; object-fit: contain; }
#inside-pictures .caption-label { position: static !important; max-width: 100% !important; white-space: pre-line !important; overflow: visible !important; text-overflow: clip !important; opacity: 1 !important; }  /* a caption whole, under its picture */
#study-regions img { max-width: 100%; height: auto; }
#inside-pictures .thumbnail-item img { width: auto !important; max-width: 100% !important; margin: 0 auto; }  /* each picture at its own size, never blown up */
.meta-text, .meta-text-center { display: none !important; }  /* Gradio's "processing | 1.2 s" and "queue: 1/3", in English only */
"""
"""The app's own style: how Korean wraps, the stage view at its phone width, the diagram in its scroll box."""

# The Architecture tab's stage and structure tables and model.summary() (issue 31): the reports' own
# style (templates/_tables.html), so a table becomes one card per row on a phone, as in the reports.
APP_CSS += tables_css()


def _page_lang(lang: str | None) -> str:
    return lang if lang in words.LANGUAGES else words.default_lang()


def build_app(lang: str | None = None) -> gr.Blocks:
    """The app's Blocks: a heading, the language switch, the tabs, and the tool endpoints for gradio_client."""
    lang = _page_lang(lang)
    page = Page(lang, get_settings().concurrent_runs)
    with gr.Blocks(title="CNN Study Lab", delete_cache=UPLOAD_EXPIRY) as app:
        language = gr.State(lang)
        with gr.Row():
            heading = gr.Markdown(_heading(lang))
            switch = gr.Radio(list(words.LANGUAGES), value=lang, label=page_words()("language"), scale=0, elem_id="language")
        for tab in TABS:
            tab.build(page, language)

        def asked_language(request: gr.Request) -> str:
            """The language the page's address asks for (`?lang=`), else the app's."""
            asked = request.query_params.get("lang") if request is not None else None
            return asked if asked in words.LANGUAGES else lang

        def in_language(chosen: str) -> list:
            return [gr.update(value=_heading(chosen)), gr.update(value=chosen), *page.updates(chosen)]

        # Only the state is set as the page loads; the page is worded again only when it changes (another
        # language was asked for): a page in the app's own language gets no update its user could race.
        app.load(asked_language, None, [language], api_visibility="private")
        identity = gr.BrowserState(None, storage_key="cnnlab-page")  # the page's folder, found again after a reload
        app.load(remember_identity, [identity], [identity], api_visibility="private")
        language.change(in_language, [language], [heading, switch, *page.components()], api_visibility="private")
        switch.change(None, [switch], None, js=_SWITCH_JS)
        register_tool_endpoints(page.concurrency)
    return app


def _heading(lang: str) -> str:
    t = texts(lang)
    return f"# {t['title']}\n{t['intro']}"


def launch(host: str = "127.0.0.1", port: int = 7860, share: bool = False, lang: str | None = None,
           block: bool = True) -> gr.Blocks:
    """Start the web app, its API and its MCP endpoint; serve until interrupted (or, with
    `block=False`, return the running app: `app.close()` stops it)."""
    from starlette.middleware import Middleware
    from starlette.routing import Mount

    from plugin.doors.mcp import streamable_http_app

    settings = get_settings()
    (settings.output_dir / SESSIONS).mkdir(parents=True, exist_ok=True)  # each session reads only its own (in_session)
    api.bound_decoding(settings)  # whatever decodes an image in this process stops at the pixel limit
    set_single_user(host in ("127.0.0.1", "localhost", "::1") and not share)
    app = build_app(lang)
    app.queue(max_size=settings.queue_size)
    mcp_app, mcp_lifespan = streamable_http_app()
    guards = [Middleware(HostGuard, hosts=served_hosts(host, share, settings.allowed_hosts),  # who may ask at all
                         vouched=vouched_hosts(share, settings.allowed_hosts)),
              Middleware(LocalFilesOnly),
              Middleware(UploadQuota, path=UPLOAD_PATH, total=settings.max_upload_bytes, cap=settings.max_model_bytes,
                         unused_s=settings.unused_upload_s),
              Middleware(BodyLimit, uploads=settings.max_model_bytes, budget=settings.max_request_bytes_in_flight)]
    server = app_guarded_by(guards, routes=[Mount(MCP_PATH, app=mcp_app)],
                            middleware=[Middleware(PageLanguage, script=language_script(_page_lang(lang), words.LANGUAGES))])
    app.launch(server_name=host, server_port=port, share=share, max_file_size=settings.max_model_bytes, i18n=page_words(),
               css=APP_CSS + page_css(), theme=gr.themes.Default(font=APP_FONTS),
               show_error=True, footer_links=["api", "gradio"],
               prevent_thread_lock=not block, quiet=not block,
               _app=server, app_kwargs={"lifespan": mcp_lifespan})
    return app
