"""Where reports are kept: folders inside the output folder, each with a manifest of its reports
(`index.json`) and their listing (`index.html`), a report shared from one folder into another, and
a report's files as a reader downloads them (`download_files`: the page, the post's zip, the
Markdown and its pictures).

Files are written whole or not at all, so a reader never sees half a page, and a report is listed
only once its page is there.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import io
import json
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Mapping
from pathlib import Path

from plugin import words
from plugin.config import get_settings
from plugin.engine.results import PathInput
from plugin.errors import AccessDeniedError, InvalidInputError
from plugin.files import write_atomically
from plugin.render.templates import template_environment

__all__ = ["output_folder", "list_reports", "share_report", "record", "write_file", "now", "versions", "post_zip",
           "download_files"]

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
    if (source / f"{stem}.zip").is_file():
        write_file(target / f"{stem}.zip", (source / f"{stem}.zip").read_bytes())
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


def post_zip(stem: str, markdown_text: str, pictures: Mapping[str, bytes]) -> bytes:
    """The Markdown and its pictures in one zip, as they lie beside each other (`<stem>.md` and
    `<stem>_files/<picture>`, which is where the Markdown's links point): one upload for a blog."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as post:
        post.writestr(f"{stem}.md", markdown_text)
        for relative, data in sorted(pictures.items()):
            post.writestr(f"{stem}_files/{relative}", data, compress_type=zipfile.ZIP_STORED if relative.endswith((".png", ".jpg")) else None)
    return buffer.getvalue()


def download_files(page: Path) -> list[Path]:
    """A report's files as a reader downloads them, in this order: its page (HTML), its post (the
    `.zip` of the Markdown and its pictures), its Markdown and each of its pictures in the order the
    Markdown shows them; those of them that are there.

    The zip is made again from the Markdown and pictures beside the page where it is missing or
    older than the Markdown (a report made before reports had one, or a gallery kept in a checkout,
    which keeps no zip); where the report's folder cannot be written, it is made in the temporary
    folder.

    Args:
        page: a report's page, `<folder>/<stem>.html`, chosen by the caller among those it may offer.
    """
    folder, stem = page.parent, page.stem
    markdown, assets = folder / f"{stem}.md", folder / f"{stem}_files"
    if not markdown.is_file() or markdown.is_symlink():
        return [page]
    text = markdown.read_text("utf-8")
    shown = {name: text.find(f"{assets.name}/{name}") for name in (os.listdir(assets) if assets.is_dir() else [])}
    pictures = [assets / name for name in sorted(shown, key=lambda name: (shown[name] < 0, shown[name], name))  # as the post shows them
                if (assets / name).is_file() and not (assets / name).is_symlink()]
    post = folder / f"{stem}.zip"
    if not post.is_file() or post.stat().st_mtime_ns < markdown.stat().st_mtime_ns:
        data = post_zip(stem, text, {path.name: path.read_bytes() for path in pictures})
        try:
            write_file(post, data)
        except OSError:  # a folder this process may read but not write (a gallery installed read-only)
            version = hashlib.sha256(f"{page.resolve()}|{markdown.stat().st_mtime_ns}".encode()).hexdigest()[:16]
            post = Path(tempfile.gettempdir()) / "cnnlab-posts" / version / f"{stem}.zip"
            post.parent.mkdir(parents=True, exist_ok=True)
            write_file(post, data)
    return [page, post, markdown, *pictures]
