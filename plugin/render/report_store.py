"""Where reports are kept: folders inside the output folder, each with a manifest of its reports
(`index.json`) and their listing (`index.html`), and a report shared from one folder into another.

Files are written whole or not at all, so a reader never sees half a page, and a report is listed
only once its page is there.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import os
import shutil
import threading
from pathlib import Path

from plugin import words
from plugin.config import get_settings
from plugin.engine.results import PathInput
from plugin.errors import AccessDeniedError, InvalidInputError
from plugin.files import write_atomically
from plugin.render.templates import template_environment

__all__ = ["output_folder", "list_reports", "share_report", "record", "write_file", "now", "versions"]

_manifest_lock = threading.Lock()


def output_folder(output_dir: PathInput | None = None) -> Path:
    """The folder to write into: the output folder, or a folder inside it; made if missing."""
    root = get_settings().output_dir
    folder = root if output_dir is None else Path(os.path.realpath(root / os.fspath(output_dir)))
    if not folder.is_relative_to(root):
        raise AccessDeniedError(
            f"Expected output_dir inside the output folder. Received: {os.fspath(output_dir or '')[:200]!r}, which leads "
            "out of it. Choose the output folder itself with CNNLAB_OUTPUT_DIR or --output-dir."
        )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_file(path: Path, data: bytes) -> None:
    """Write a whole file or nothing (readable by this user only, as reports always were): a reader
    never sees half a page, and a request killed while writing leaves at most a hidden temporary file."""
    write_atomically(path, data, mode=0o600)


def now() -> str:
    """The time a page says it was made."""
    return _dt.datetime.now().strftime("%Y-%m-%d %H:%M")


@functools.cache
def versions() -> dict:
    """The library versions a page names."""
    from importlib.metadata import version

    return {"keras": version("keras"), "tensorflow": version("tensorflow")}


def list_reports(folder: Path) -> list[dict]:
    """The reports recorded in a folder's manifest whose page is there, newest first."""
    try:
        entries = json.loads((folder / "index.json").read_text("utf-8"))
    except (OSError, json.JSONDecodeError):
        return []
    return [e for e in reversed(entries) if isinstance(e, dict) and isinstance(e.get("file"), str)
            and (folder / Path(e["file"]).name).is_file()]


def share_report(file_name: str, source: Path, target: Path) -> dict:
    """Copy a report (its page, its Markdown and pictures) from one folder of reports into another,
    and list it there; return its manifest entry."""
    entry = next((e for e in list_reports(source) if e["file"] == Path(file_name).name), None)
    if entry is None:
        raise InvalidInputError(f"Expected a report listed in its folder. Received: {Path(file_name).name[:120]!r}.")
    target.mkdir(parents=True, exist_ok=True)
    stem = Path(entry["file"]).stem
    if (source / f"{stem}_files").is_dir():
        shutil.copytree(source / f"{stem}_files", target / f"{stem}_files", dirs_exist_ok=True)
    if entry.get("markdown") and (source / entry["markdown"]).is_file():
        write_file(target / entry["markdown"], (source / entry["markdown"]).read_bytes())
    write_file(target / entry["file"], (source / entry["file"]).read_bytes())
    record(target, entry, entry.get("lang", "ko"))
    return entry


def record(folder: Path, entry: dict, lang: str) -> None:
    """Add the report to the folder's manifest and rewrite index.html."""
    with _manifest_lock:
        manifest = folder / "index.json"
        try:
            entries = json.loads(manifest.read_text("utf-8")) if manifest.exists() else []
        except (OSError, json.JSONDecodeError):
            entries = []
        entries = [e for e in entries if isinstance(e, dict) and e.get("file") != entry["file"]] + [entry]
        entries = [e for e in entries if (folder / str(e.get("file", ""))).is_file()]
        write_file(manifest, json.dumps(entries, ensure_ascii=False, indent=1).encode("utf-8"))
        t = words.section("report", lang)
        page = template_environment().get_template("index.html").render(
            lang=lang, t=t, title=t["index_title"], generated=now(), versions=versions(), entries=list(reversed(entries)))
        write_file(folder / "index.html", page.encode("utf-8"))
