"""Study reports rendered from results: one self-contained HTML page plus a Markdown version.

`write_report` takes what the engine already computed, as the kind of report (`plugin.render.pages`,
one module each) prepared it, and the kind's builder makes the page; it never runs the engine. The page carries everything inline (CSS, the photo and the
heat maps as data URIs, charts and the diagram as SVG), so it works offline and survives being
pasted into a blog editor; no script, font or style sheet is fetched. It reads at phone width:
tables scroll inside their box with the first column kept in view, Korean wraps between words,
and the diagram keeps its full size in a scrolling box. The Markdown version sits beside it with
PNG and JPEG pictures (blog editors refuse SVG) in `<name>_files/`, each with alt text. Every
report is listed in `index.html` of its folder (`plugin.render.report_store`). The only markup inserted unescaped is SVG
made by these templates or rebuilt by `plugin.render.svg`.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from pathlib import Path
from typing import Any

import jinja2

from plugin import words
from plugin.engine.results import PathInput, ReportFiles
from plugin.errors import InvalidInputError, RenderError
from plugin.render.pages import ReportKind, get_kind
from plugin.render.pages.evaluation import confusion_html
from plugin.render.report_store import list_reports, now, output_folder, post_zip, record, share_report, versions, write_file
from plugin.render.templates import template_environment
from plugin.words.results import fallback_note

__all__ = ["write_report", "output_folder", "confusion_html", "list_reports", "share_report"]


def write_report(kind: str, *, lang: str | None = None, output_dir: PathInput | None = None, file_name: str | None = None,
                 **inputs: Any) -> ReportFiles:
    """Write a report page (HTML) and its Markdown version from what its kind's `prepare` gave.

    Args:
        kind: a kind of report (`plugin.render.pages`).
        lang: "ko" or "en"; default CNNLAB_LANG, else Korean.
        output_dir: folder inside the configured output folder (default: the output folder).
        file_name: base name for the files (default: kind, models, language and time).
        **inputs: what the kind's builder reads (its `prepare` made them from `render_report`'s inputs).

    Returns:
        `{"path", "markdown_path", "post_path", "title", "kind", "lang"}`.
    """
    lang = words.check_lang(lang)
    spec = get_kind(kind)
    t = words.section("report", lang)
    page = spec.build(inputs, t, lang)
    folder = output_folder(output_dir)
    stem = _file_stem(file_name, kind, page.name_parts, lang)
    assets = folder / f"{stem}_files"
    result: Any = inputs.get("result")
    fallback: Any = result.get("fallback") if isinstance(result, dict) else None  # a structure result has none
    context = {"lang": lang, "t": t, "title": page.title, "generated": now(), "versions": versions(),
               "fallback_note": fallback_note(fallback, lang) if fallback else None, **page.context}
    markdown_context = dict(context, image_file=None, residual_file=None, stage_view_file=None, diagram_files=[], cam_files=[], chart_files=[],
                            matrix_files=[], gallery_files=[], files_folder=assets.name)
    for relative, key in page.file_keys.items():
        markdown_context[key] = f"{assets.name}/{relative}"
    for key, names in page.file_lists.items():
        markdown_context[key] = [f"{assets.name}/{name}" for name in names]
    environment = _environment(spec)
    try:
        html_text = environment.get_template(f"{kind}.html").render(**context)
        markdown_text = environment.get_template(f"{kind}.md").render(**markdown_context)
    except jinja2.TemplateError as exc:
        raise RenderError(f"Expected the {kind} template to render. Received: {type(exc).__name__}: {exc}") from exc
    if page.files:
        assets.mkdir(parents=True, exist_ok=True)
    for stale in (assets.iterdir() if assets.is_dir() else []):  # a report made again under its name: no old piece stays
        if stale.is_file() and stale.name not in page.files:
            stale.unlink()
    for relative, data in page.files.items():
        write_file(assets / relative, data)
    html_path, markdown_path, post_path = folder / f"{stem}.html", folder / f"{stem}.md", folder / f"{stem}.zip"
    write_file(markdown_path, markdown_text.encode("utf-8"))
    write_file(post_path, post_zip(stem, markdown_text, page.files))
    write_file(html_path, html_text.encode("utf-8"))  # last: a report is listed and served only when whole
    record(folder, {"file": html_path.name, "markdown": markdown_path.name, "title": page.title, "kind": kind,
                    "lang": lang, "created": context["generated"]}, lang)
    return {"path": str(html_path), "markdown_path": str(markdown_path), "post_path": str(post_path), "title": page.title,
            "kind": kind, "lang": lang}


@functools.cache
def _kind_environment(folder: Path) -> jinja2.Environment:
    base = template_environment()
    assert base.loader is not None  # made with the project's templates folder
    return base.overlay(loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(folder), base.loader]))


def _environment(spec: ReportKind) -> jinja2.Environment:
    """The project's templates, with the kind's own folder first where it brings its templates."""
    return template_environment() if spec.template_dir is None else _kind_environment(Path(spec.template_dir))


def _file_stem(file_name, kind, parts, lang) -> str:
    if file_name is not None:
        if not isinstance(file_name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}", file_name):
            raise InvalidInputError(f"Expected file_name of letters, digits, '.', '_' or '-'. Received: {file_name!r}")
        return file_name
    label = re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(parts))[:60].strip("._-") or "report"
    return f"{kind}-{label}-{lang}-{_dt.datetime.now().strftime('%Y%m%d-%H%M%S-%f')}"
