"""The Reports tab: this browser's reports, those its users shared and the project's gallery;
a preview, the report's files to download (its page, and for a blog its Markdown, pictures and
zip), and sharing one's own report with everyone."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from plugin import api, words
from plugin.config import get_settings
from plugin.doors.web.page import Page, engine_error, table_value, texts
from plugin.doors.web.serving import report_offer
from plugin.doors.web.sessions import GALLERY, SHARED, session_folder, single_user
from plugin.errors import PluginError
from plugin.limits import MAX_PATH_CHARS

__all__ = ["reports_view", "report_preview", "share_view", "build"]


def _report_folders(request: gr.Request | None) -> list[tuple[str, str]]:
    """(where, folder relative to the output folder) of the reports this session may see: its own,
    those its users shared, and the project's gallery."""
    folders = [("mine", session_folder(request)), ("shared", SHARED), ("gallery", GALLERY)]
    return folders + [("local", "")] if single_user() else folders  # the command line's, on a one-user app


def reports_view(lang, request: gr.Request):
    t = texts(lang)
    report_words = words.section("report", lang)
    table, choices = [], []
    for where, folder in _report_folders(request):
        for entry in api.list_reports(get_settings().output_dir / folder):
            table.append([entry.get("title", ""), report_words.get(f"kind_{entry.get('kind')}", entry.get("kind", "")),
                          entry.get("lang", ""), entry.get("created", ""), t[f"reports_{where}"]])
            choices.append((f"{entry.get('title', '')} ({entry.get('created', '')}) · {t[f'reports_{where}']}",
                            f"{folder}/{entry['file']}" if folder else entry["file"]))
    return table_value(t["reports_headers"], table), gr.update(choices=choices, value=choices[0][1] if choices else None)


def _chosen_report(choice: str | None, request: gr.Request | None) -> tuple[Path, Path] | None:
    """The report a dropdown value names, if it lies in a folder this session may see (the value
    comes from the browser and is checked like any input)."""
    if not choice or not isinstance(choice, str) or len(choice) > MAX_PATH_CHARS:
        return None
    folder, _, name = choice.rpartition("/")  # "" for the output folder itself
    allowed = {relative for _, relative in _report_folders(request)}
    if folder not in allowed or not name.endswith(".html") or Path(name).name != name:
        return None
    path = get_settings().output_dir / folder / name
    return (path.parent, path) if path.is_file() else None


def report_preview(choice, request: gr.Request):
    import html

    chosen = _chosen_report(choice, request)
    if chosen is None:
        return "", None
    page = chosen[1].read_text("utf-8")
    frame = (f'<iframe title="report" sandbox="" style="width:100%;height:70vh;border:1px solid #ddd;border-radius:8px" '
             f'srcdoc="{html.escape(page, quote=True)}"></iframe>')
    return frame, report_offer(chosen[1])


def share_view(choice, lang, request: gr.Request):
    """Copy one of this session's reports into the shared list, where every user of the app sees it."""
    t = texts(lang)
    chosen = _chosen_report(choice, request)
    if chosen is None or chosen[0] != get_settings().output_dir / session_folder(request):
        raise gr.Error(t["share_own_only"], print_exception=False)
    try:
        api.share_report(chosen[1].name, chosen[0], get_settings().output_dir / SHARED)
    except PluginError as exc:
        raise engine_error(exc, lang) from exc
    gr.Info(t["shared_done"])
    return reports_view(lang, request)


def build(page: Page, language: gr.State) -> None:
    """The tab's components and events."""
    t = page.t
    with page.tab("tab_reports", "reports") as tab_reports:
        refresh = page.label(gr.Button(t["refresh"], elem_id="reports-refresh"), "refresh")
        listing = page.table("reports", "reports_headers", elem_id="reports-table")
        pick = page.label(gr.Dropdown(choices=[], label=t["pick_report"], elem_id="reports-pick"), "pick_report")
        share = page.label(gr.Button(t["share"], elem_id="reports-share"), "share")
        page.say(gr.Markdown(t["privacy_note"]), value="privacy_note")
        preview = gr.HTML(elem_id="reports-preview")
        download = page.label(gr.File(label=t["download"], elem_id="reports-download"), "download")
        refresh.click(reports_view, [language], [listing, pick], api_visibility="private")
        tab_reports.select(reports_view, [language], [listing, pick], api_visibility="private")
        pick.change(report_preview, [pick], [preview, download], api_visibility="private")
        share.click(share_view, [pick, language], [listing, pick], api_visibility="private")
