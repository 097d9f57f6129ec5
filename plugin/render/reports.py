"""Study reports rendered from results: one self-contained HTML page plus a Markdown version.

`write_report` takes what the engine already computed (a classification result with its Grad-CAM
explanations and preprocessing experiment, architecture facts, a comparison result) and the photo
already read; it never runs the engine. The page carries everything inline (CSS, the photo and the
heat maps as data URIs, charts and the diagram as SVG), so it works offline and survives being
pasted into a blog editor; no script, font or style sheet is fetched. It reads at phone width:
tables scroll inside their box with the first column kept in view, Korean wraps between words,
and the diagram keeps its full size in a scrolling box. The Markdown version sits beside it with
PNG and JPEG pictures (blog editors refuse SVG) in `<name>_files/`, each with alt text. Every
report is listed in `index.html` of the output folder. The only markup inserted unescaped is SVG
made by these templates or rebuilt by `plugin.render.svg`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import io
import json
import os
import re
import shutil
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from plugin import words
from plugin.config import get_settings
from plugin.engine.intake.images import source_text as image_source
from plugin.engine.models.defaults import fallback_note
from plugin.engine.results import (
    ArchitectureFacts,
    ClassificationResult,
    ComparisonResult,
    EvaluationResult,
    Explanation,
    ImageRecord,
    ModelEntry,
    ModelEvaluation,
    PathInput,
    PreprocessingStudy,
    ReportFiles,
    StructureResult,
    Timing,
    answers,
    failures,
    is_failure,
)
from plugin.engine.study.agreement import sentence
from plugin.engine.study.labels import display_name, verdict_basis, verdict_rule
from plugin.errors import AccessDeniedError, InvalidInputError, PluginError, RenderError
from plugin.render.charts import accuracy_chart, chart_svg, comparison_charts, probability_chart
from plugin.render.overlay import overlay_png
from plugin.render.pictures import data_uri, jpeg, svg_to_png, svg_to_pngs
from plugin.render.stage_view import stage_view_note, stage_view_svg
from plugin.render.svg import inline_svg
from plugin.render.templates import template_environment
from plugin.words import failure_text

__all__ = ["write_report", "output_folder", "confusion_html", "list_reports", "share_report", "KINDS"]

KINDS = ("architecture", "classification", "comparison", "evaluation", "structure")
_PHOTO_SIZE = 640
_GALLERY = 12  # mistakes shown per model
_manifest_lock = threading.Lock()


def write_report(kind: str, *, result: ClassificationResult | ComparisonResult | EvaluationResult | StructureResult | None = None,
                 facts: ArchitectureFacts | None = None, photo: Any = None, explanations: list[Explanation] | None = None,
                 preprocessing_study: PreprocessingStudy | None = None, thumbnails: dict[str, Any] | None = None,
                 lang: str | None = None, output_dir: PathInput | None = None, file_name: str | None = None) -> ReportFiles:
    """Write a report page (HTML) and its Markdown version from a result.

    Args:
        kind: "architecture" (needs `facts` from describe_architecture), "classification" (needs
            `result` from classify_image) or "comparison" (needs `result` from compare_models).
        result: the classification or comparison result.
        facts: the architecture facts; their SVG diagram, if drawn, goes into the page.
        photo: the image that was classified, as a PIL image (optional).
        explanations: Grad-CAM results (explain_image) for a classification, shown side by side.
        preprocessing_study: a compare_preprocessing result for a classification.
        thumbnails: for an evaluation, the mistakes' photos by path (PIL images).
        lang: "ko" or "en"; default CNNLAB_LANG, else Korean.
        output_dir: folder inside the configured output folder (default: the output folder).
        file_name: base name for the files (default: kind, models, language and time).

    Returns:
        `{"path", "markdown_path", "title", "kind", "lang"}`.
    """
    lang = words.check_lang(lang)
    if kind not in KINDS:
        raise InvalidInputError(f"Expected kind to be one of {list(KINDS)}. Received: kind={kind!r}")
    t = words.section("report", lang)
    if kind == "architecture":
        page = _architecture(_expect(facts, "facts", "describe_architecture", ("model", "stages")), t, lang)
    elif kind == "classification":
        page = _classification(_expect(result, "result", "classify_image", ("image", "results")), photo, t, lang,
                               explanations or [], preprocessing_study)
    elif kind == "structure":
        page = _structure(_expect(result, "result", "structures", ("models",)), t, lang)
    elif kind == "evaluation":
        page = _evaluation(_expect(result, "result", "evaluate", ("models", "labels", "images")), thumbnails or {}, t, lang)
    else:
        page = _comparison(_expect(result, "result", "compare_models", ("models", "timing")), photo, t, lang)
    folder = output_folder(output_dir)
    stem = _file_stem(file_name, kind, page["name_parts"], lang)
    assets = folder / f"{stem}_files"
    fallback: Any = result.get("fallback") if result else None  # a structure result has none
    context = {"lang": lang, "t": t, "title": page["title"], "generated": _now(), "versions": _versions(),
               "fallback_note": fallback_note(fallback, lang) if fallback else None, **page["context"]}
    markdown_context = dict(context, image_file=None, residual_file=None, stage_view_file=None, diagram_files=[], cam_files=[], chart_files=[],
                            matrix_files=[], gallery_files=[])
    for relative, key in page.get("file_keys", {}).items():
        markdown_context[key] = f"{assets.name}/{relative}"
    for key, names in page.get("file_lists", {}).items():
        markdown_context[key] = [f"{assets.name}/{name}" for name in names]
    environment = template_environment()
    try:
        html_text = environment.get_template(f"{kind}.html").render(**context)
        markdown_text = environment.get_template(f"{kind}.md").render(**markdown_context)
    except jinja2.TemplateError as exc:
        raise RenderError(f"Expected the {kind} template to render. Received: {type(exc).__name__}: {exc}") from exc
    if page["files"]:
        assets.mkdir(parents=True, exist_ok=True)
    for stale in (assets.iterdir() if assets.is_dir() else []):  # a report made again under its name: no old piece stays
        if stale.is_file() and stale.name not in page["files"]:
            stale.unlink()
    for relative, data in page["files"].items():
        _write(assets / relative, data)
    html_path, markdown_path, post_path = folder / f"{stem}.html", folder / f"{stem}.md", folder / f"{stem}.zip"
    _write(markdown_path, markdown_text.encode("utf-8"))
    _write(post_path, _post(stem, markdown_text, page["files"]))
    _write(html_path, html_text.encode("utf-8"))  # last: a report is listed and served only when whole
    _record(folder, {"file": html_path.name, "markdown": markdown_path.name, "title": page["title"], "kind": kind,
                     "lang": lang, "created": context["generated"]}, lang)
    return {"path": str(html_path), "markdown_path": str(markdown_path), "post_path": str(post_path), "title": page["title"],
            "kind": kind, "lang": lang}


def _post(stem: str, markdown_text: str, files: dict[str, bytes]) -> bytes:
    """The Markdown and its pictures in one zip, as they lie beside each other: one upload for a blog."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as post:
        post.writestr(f"{stem}.md", markdown_text)
        for relative, data in sorted(files.items()):
            post.writestr(f"{stem}_files/{relative}", data, compress_type=zipfile.ZIP_STORED if relative.endswith((".png", ".jpg")) else None)
    return buffer.getvalue()


def _expect(value: Any, name: str, source: str, keys: tuple[str, ...]) -> Any:
    if not isinstance(value, dict) or not all(key in value for key in keys):
        raise InvalidInputError(f"Expected {name}= to be a {source} result (a dict with {', '.join(keys)}). "
                                f"Received: {type(value).__name__}")
    return value


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


def _file_stem(file_name, kind, parts, lang) -> str:
    if file_name is not None:
        if not isinstance(file_name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}", file_name):
            raise InvalidInputError(f"Expected file_name of letters, digits, '.', '_' or '-'. Received: {file_name!r}")
        return file_name
    label = re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(parts))[:60].strip("._-") or "report"
    return f"{kind}-{label}-{lang}-{_dt.datetime.now().strftime('%Y%m%d-%H%M%S-%f')}"


def _write(path: Path, data: bytes) -> None:
    """Write a whole file or nothing: a reader never sees half a page, and a request killed while
    writing leaves at most a hidden temporary file."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name[:60]}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _now() -> str:
    return _dt.datetime.now().strftime("%Y-%m-%d %H:%M")


@functools.cache
def _versions() -> dict:
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
        _write(target / entry["markdown"], (source / entry["markdown"]).read_bytes())
    _write(target / entry["file"], (source / entry["file"]).read_bytes())
    _record(target, entry, entry.get("lang", "ko"))
    return entry


def _record(folder: Path, entry: dict, lang: str) -> None:
    """Add the report to the folder's manifest and rewrite index.html."""
    with _manifest_lock:
        manifest = folder / "index.json"
        try:
            entries = json.loads(manifest.read_text("utf-8")) if manifest.exists() else []
        except (OSError, json.JSONDecodeError):
            entries = []
        entries = [e for e in entries if isinstance(e, dict) and e.get("file") != entry["file"]] + [entry]
        entries = [e for e in entries if (folder / str(e.get("file", ""))).is_file()]
        _write(manifest, json.dumps(entries, ensure_ascii=False, indent=1).encode("utf-8"))
        t = words.section("report", lang)
        page = template_environment().get_template("index.html").render(
            lang=lang, t=t, title=t["index_title"], generated=_now(), versions=_versions(), entries=list(reversed(entries)))
        _write(folder / "index.html", page.encode("utf-8"))


def _photo_context(picture, files: dict, file_keys: dict) -> dict:
    if picture is None:
        return {"image_uri": None}
    data, width, height = jpeg(picture)
    files["image.jpg"] = data
    file_keys["image.jpg"] = "image_file"
    return {"image_uri": data_uri(data, "image/jpeg"), "image_width": width, "image_height": height}


def _chart_files(charts: list[dict]) -> dict[str, bytes]:
    """Each chart as a PNG picture for the Markdown version: {"chart-1.png": ...}."""
    return {f"chart-{index + 1}.png": svg_to_png(chart_svg(chart)) for index, chart in enumerate(charts)}


def _machine(timing: Timing, t: dict) -> str:
    device = timing.get("device")
    if not device:
        return timing.get("machine", "")
    return t["machine_gpu" if device["gpus"] else "machine_cpu"].format(**device)


# --- architecture ---------------------------------------------------------------------------

def _diagram_svg(facts: ArchitectureFacts) -> bytes | None:
    """The facts' SVG diagram, read only from the output folder's diagram cache."""
    diagram: Any = facts.get("diagram") or {}
    record = (diagram.get("files") or {}).get("svg") or (diagram if diagram.get("format") == "svg" else None)
    if not record:
        return None
    path = Path(os.path.realpath(record["path"]))
    if not path.is_relative_to(get_settings().output_dir / "diagrams") or not path.is_file():
        raise AccessDeniedError(f"Expected the diagram inside the output folder's diagrams. Received: {record['path']!r}")
    return path.read_bytes()


def _architecture(facts: ArchitectureFacts, t: dict, lang: str) -> dict:
    notes = words.section("notes", lang)
    family = facts.get("family") or ""
    svg = _diagram_svg(facts)
    diagram = inline_svg(svg, label=t["alt_diagram"].format(model=facts["model"])) if svg else None
    files: dict[str, bytes] = {}
    file_keys: dict[str, str] = {}
    diagram_files: list[str] = []
    if svg is not None:
        # drawn from the drawing without its (language's) label: the same pictures, rasterised once, in every language
        for index, piece in enumerate(svg_to_pngs(str(inline_svg(svg)))):
            diagram_files.append(f"diagram-{index + 1}.png")
            files[diagram_files[-1]] = piece
    stage_view = stage_view_svg(facts, t)  # our own template, every word escaped: safe to inline
    if stage_view is not None:
        files["stages.png"] = svg_to_png(stage_view)
        file_keys["stages.png"] = "stage_view_file"
    residual = None
    if family.startswith("ResNet"):
        # Made by our own template with every word escaped: safe to inline as it is.
        residual = Markup(template_environment().get_template("residual_block.svg").render(t=t))
        files["residual-block.png"] = svg_to_png(residual)
        file_keys["residual-block.png"] = "residual_file"
    published = facts.get("published")
    sources = None
    if published:
        sources = {"source": words.text(f"sources.{published['source_key']}", lang),
                   "multiply_adds_source": words.text(f"sources.{published['multiply_adds_key']}", lang)}
    preprocessing = facts["preprocessing"]
    low_high = preprocessing.get("value_range")
    return {
        "title": t["architecture_title"].format(model=facts["model"]),
        "name_parts": [facts["model"]],
        "context": {"facts": facts, "notes": notes.get(family) or notes.get(family.split(" ")[0]) or notes["default"],
                    "diagram": diagram, "stage_view": stage_view,
                    "stage_view_text": stage_view_note(facts, t),
                    "macs_note": words.text("results.macs_note", lang), "residual": residual,
                    "sources": sources, "has_blocks": any(stage["blocks"] is not None for stage in facts["stages"]),
                    "value_range": t["value_range_text"].format(low=f"{low_high[0]:g}", high=f"{low_high[1]:g}") if low_high else None,
                    "preprocessing_text": preprocessing["description"][lang],
                    "sample_text": t["sample_pixel"].format(rgb=words.pixel_text(preprocessing["sample"]["rgb"]),
                                                            values=words.pixel_text(preprocessing["sample"]["values"]),
                                                            order=preprocessing["channel_order"])
                    if preprocessing.get("sample") else None},
        "files": files,
        "file_keys": file_keys,
        "file_lists": {"diagram_files": diagram_files},
    }


# --- classification -------------------------------------------------------------------------

def _classification(data: ClassificationResult, picture: Any, t: dict, lang: str, explanations: list[Explanation],
                    study: PreprocessingStudy | None) -> dict:
    answered = answers(data["results"])
    charts = [probability_chart(result, t, lang) for result in answered]
    chart_files = _chart_files(charts)
    files, file_keys = dict(chart_files), dict[str, str]()
    expected: Any = data.get("expected")
    context: dict[str, Any] = {"data": data, "sentence": sentence(data, lang), **_photo_context(picture, files, file_keys),
               "source": image_source(data["image"], lang), "entries": _entries(data["results"], charts, lang),
               "verdict_rule": verdict_rule(lang) if any(entry.get("verdict") for entry in answered) else None,
               "expected_name": display_name(data["expected"], lang) if (expected or {}).get("label")
               else (words.text(f"agreement.{data['expected']['group']}", lang) if data.get("expected") else None)}
    cams = []
    for index, explained in enumerate(explanations):
        picture_cam = overlay_png(picture, explained["heatmap"]) if picture is not None else None
        name = f"gradcam-{index + 1}.png"
        if picture_cam:
            files[name] = picture_cam
        cams.append({"model": explained["model"], "layer": explained["layer"],
                     "label": display_name(explained["class"], lang), "probability": explained["class"]["probability"],
                     "uri": data_uri(picture_cam, "image/png") if picture_cam else None, "file": name if picture_cam else None})
    context["cams"] = cams
    context["study"] = None
    if study:
        pixel = study.get("pixel")
        context["study"] = {"model": study["model"], "pixel": pixel, "rows": [
            {"mode": row["mode"], "own": row["own"], "top": display_name(row["predictions"][0], lang),
             "probability": row["predictions"][0]["probability"], "verdict": row["verdict"],
             "formula": row.get("formula", ""), "channel_order": row.get("channel_order", ""),
             "pixel": words.pixel_text(row["pixel"]) if row.get("pixel") else ""} for row in study["modes"]]}
    return {
        "title": t["classification_title"].format(image=_short(data["image"])),
        "name_parts": [r["model"] for r in answered],
        "context": context,
        "files": files,
        "file_keys": file_keys,
        "file_lists": {"chart_files": list(chart_files), "cam_files": [cam["file"] for cam in cams if cam["file"]]},
    }


def _entries(results: list[ModelEntry], charts: list[dict], lang: str) -> list[dict[str, Any]]:
    """One card per model, in the order asked: an answer (its chart, ranked classes and verdict
    reason) or why the model could not answer (`failure`, in `lang`)."""
    entries: list[dict[str, Any]] = []
    answer_index = 0
    for entry in results:
        if is_failure(entry):
            entries.append({"result": entry, "failure": failure_text(entry["error"], lang)})
            continue
        verdict = entry.get("verdict")
        entries.append({"result": entry, "failure": None, "chart": charts[answer_index], "chart_index": answer_index,
                        "rows": [dict(p, name=display_name(p, lang)) for p in entry["predictions"]],
                        "basis": verdict_basis(verdict, lang) if verdict else None})
        answer_index += 1
    return entries


def _short(image: ImageRecord) -> str:
    name = image.get("name") or image["source"]
    return name if len(name) <= 60 else name[:57] + "…"



# --- structure ------------------------------------------------------------------------------

def _structure(data: Any, t: dict, lang: str) -> dict:
    """The homework's table for each model (No., kind, main parts, summary() info, plot_model info,
    role) and one table across the models; every number from `describe_architecture`'s facts."""
    ideas = words.section("structure_ideas", lang)
    models = []
    for facts in data["models"]:
        rows = [{"no": number, "kind": row["label"][lang], "parts": row["details"],
                 "summary": t["structure_summary_cell"].format(count=row["count"], types=", ".join(row.get("types", [])),
                                                               params=f"{row.get('params', 0):,}"),
                 "plot": row["shapes"], "role": row["role"][lang]} for number, row in enumerate(facts["structure"], 1)]
        published = facts.get("published") or {}
        year = re.search(r"\b(19|20)\d\d\b", published.get("paper") or "")
        models.append({"model": facts["model"], "rows": rows, "year": year[0] if year else "-", "depth": facts["depth"],
                       "params": facts["total_params"], "macs": facts["macs"], "layers": facts["num_layers"],
                       "idea": ideas.get(facts.get("family") or "", ideas["default"])})
    names = [model["model"] for model in models]
    return {"title": t["structure_title"].format(models=", ".join(names)), "name_parts": names,
            "context": {"models": models}, "files": {}, "file_keys": {}, "file_lists": {}}


# --- comparison -----------------------------------------------------------------------------

def _comparison(data: ComparisonResult, picture: Any, t: dict, lang: str) -> dict:
    rows = data["models"]
    charts = comparison_charts(rows, t)
    chart_files = _chart_files(charts)
    files, file_keys = dict(chart_files), dict[str, str]()
    keys = sorted({row["published"].get("source_key", "") for row in rows} - {""})
    context: dict[str, Any] = {"data": data, "charts": charts, "sources": [words.text(f"sources.{key}", lang) for key in keys],
               "machine": _machine(data["timing"], t), "sentence": None, "failures": {}, "verdict_rule": None}
    if data.get("image"):
        context |= _photo_context(picture, files, file_keys)
        context["source"] = image_source(data["image"], lang)
        context["sentence"] = sentence({"results": rows, "expected": data.get("expected")}, lang)
        context["top_names"] = {row["model"]: display_name(row["predictions"][0], lang) for row in rows if "predictions" in row}
        context["failures"] = {row["model"]: failure_text(row["error"], lang) for row in rows if "error" in row}
        context["verdict_rule"] = verdict_rule(lang)
    return {
        "title": t["comparison_title"].format(models=", ".join(row["model"] for row in rows)),
        "name_parts": [row["model"] for row in rows],
        "context": context,
        "files": files,
        "file_keys": file_keys,
        "file_lists": {"chart_files": list(chart_files)},
    }


# --- evaluation -----------------------------------------------------------------------------

def _label_namer(t: dict, lang: str):
    from plugin.engine.study.labels import find_class

    def label_name(label: str) -> str:
        if label in ("dog", "cat", "other"):
            return t.get(label, label)
        try:
            return display_name(find_class(label).describe(), lang)
        except PluginError:
            return label

    return label_name


def _confusion_svg(model: ModelEvaluation, label_name: Any, t: dict) -> Markup:
    matrix = model["confusion_matrix"]
    return Markup(template_environment().get_template("confusion.svg").render(
        names=[label_name(label) for label in matrix["labels"]], counts=matrix["counts"],
        title=t["confusion_title"].format(model=model["model"]), t=t))


def confusion_html(result: EvaluationResult, lang: str) -> str:
    """Every model's confusion matrix as inline SVG (for the web app)."""
    t = words.section("report", lang)
    label_name = _label_namer(t, lang)
    return "".join(f'<div style="max-width:640px;overflow-x:auto">{_confusion_svg(model, label_name, t)}</div>'
                   for model in answers(result["models"]))


def _evaluation(data: EvaluationResult, thumbnails: dict[str, Any], t: dict, lang: str) -> dict:
    label_name = _label_namer(t, lang)

    evaluated = answers(data["models"])
    charts = [accuracy_chart(evaluated, key, t[f"accuracy_{key}"]) for key in ("verdict", "top1", "top5")
              if any(model["accuracy"][key] is not None for model in evaluated)]
    chart_files = _chart_files(charts)
    files = dict(chart_files)
    matrices, gallery = [], []
    for index, model in enumerate(evaluated):
        svg = _confusion_svg(model, label_name, t)
        files[f"confusion-{index + 1}.png"] = svg_to_png(str(svg))
        matrices.append({"model": model["model"], "svg": svg, "file": f"confusion-{index + 1}.png"})
        for number, mistake in enumerate(model["mistakes"][:_GALLERY]):
            picture = thumbnails.get(mistake["path"])
            if picture is None:
                continue
            data_jpeg, _, _ = jpeg(picture, side=240, quality=80)
            name = f"mistake-{index + 1}-{number + 1}.jpg"
            files[name] = data_jpeg
            answer = display_name({"label": mistake["answer"], "label_ko": mistake.get("answer_ko")}, lang)
            if mistake["expected"] in ("dog", "cat") and mistake.get("group"):  # judged on the verdict: say it
                answer = t["mistake_verdict"].format(verdict=t.get(mistake["group"], mistake["group"]), top=answer)
            gallery.append({"model": model["model"], "uri": data_uri(data_jpeg, "image/jpeg"), "file": name,
                            "image": mistake["image"], "expected": label_name(mistake["expected"]), "answer": answer,
                            "probability": mistake["probability"]})
    context = {"data": data, "evaluated": evaluated, "charts": charts, "matrices": matrices, "gallery": gallery,
               "failures": {entry["model"]: failure_text(entry["error"], lang) for entry in failures(data["models"])},
               "labels": [(label_name(label), count) for label, count in data["label_counts"].items()]}
    return {
        "title": t["evaluation_title"].format(source=data["source"]),
        "name_parts": [model["model"] for model in evaluated],
        "context": context,
        "files": files,
        "file_keys": {},
        "file_lists": {"chart_files": list(chart_files), "matrix_files": [m["file"] for m in matrices],
                       "gallery_files": [g["file"] for g in gallery]},
    }
