"""render_report: study reports as one self-contained HTML page plus a Markdown version.

The page carries everything inline (CSS, the photo as a data URI, charts and the diagram as SVG),
so it works offline and survives being pasted into a blog editor; no script, font or style sheet is
fetched. The Markdown version sits beside it with its pictures in `<name>_files/`. Every report is
listed in `index.html` of the output folder. Pages are made by the Jinja2 templates in `templates/`
with autoescaping on; the only markup inserted unescaped is SVG rebuilt by `svg_inline`.
"""

from __future__ import annotations

import base64
import datetime as _dt
import functools
import io
import json
import math
import os
import re
import threading
from pathlib import Path

import jinja2

from plugin.config import get_settings
from plugin.errors import AccessDeniedError, InvalidInputError, RenderError
from plugin.i18n import STUDY_NOTES, check_lang, texts

__all__ = ["render_report", "comparison_charts_html", "KINDS", "template_dir", "template_environment"]

KINDS = ("architecture", "classification", "comparison")
_ARCHITECTURE_OPTIONS = ("model", "model_path", "expand_nested", "show_shapes", "rankdir")
_CLASSIFY_OPTIONS = ("image", "models", "top_k", "weights", "model_path", "class_names", "preprocessing", "allow_random_weights")
_COMPARE_OPTIONS = ("models", "image", "top_k", "weights", "allow_random_weights", "preprocessing")
_manifest_lock = threading.Lock()


def template_dir() -> Path:
    """The templates folder: `templates/` of a checkout, or `plugin/templates` of an installed wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "templates", here / "templates"):
        if (candidate / "base.html").is_file():
            return candidate
    raise RenderError(f"Expected the report templates beside the package. Received: none in {here.parent / 'templates'} or {here / 'templates'}.")


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def _md(value) -> str:
    """Text for a Markdown table cell or line: Markdown specials escaped, one line."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


@functools.cache
def template_environment() -> jinja2.Environment:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(template_dir()), autoescape=True,
                                     undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    environment.filters["md"] = _md
    return environment


def render_report(kind: str, lang: str | None = None, output_dir=None, *, file_name: str | None = None, **options) -> dict:
    """Make a study report page (HTML) and its Markdown version.

    Args:
        kind: "architecture" (options as describe_architecture: model, model_path,
            expand_nested, show_shapes, rankdir), "classification" (options as classify_image:
            image, models, top_k, weights, model_path, class_names, preprocessing,
            allow_random_weights) or "comparison" (options as compare_models: models, image,
            top_k, weights, allow_random_weights, preprocessing).
        lang: "ko" or "en"; default CNNLAB_LANG, else Korean.
        output_dir: folder inside the configured output folder (default: the output folder).
        file_name: base name for the files (default: kind, models, language and time).
        **options: the options of the kind.

    Returns:
        `{"path", "markdown_path", "title", "kind", "lang"}`.
    """
    lang = check_lang(lang)
    if kind not in KINDS:
        raise InvalidInputError(f"Expected kind to be one of {list(KINDS)}. Received: kind={kind!r}")
    allowed = {"architecture": _ARCHITECTURE_OPTIONS, "classification": _CLASSIFY_OPTIONS, "comparison": _COMPARE_OPTIONS}[kind]
    unknown = set(options) - set(allowed)
    if unknown:
        raise InvalidInputError(f"Expected {kind} options among {list(allowed)}. Received: {sorted(unknown)}")
    folder = _output_folder(output_dir)
    t = texts(lang)
    page = {"architecture": _architecture, "classification": _classification, "comparison": _comparison}[kind](options, t, lang)
    stem = _file_stem(file_name, kind, page["name_parts"], lang)
    assets = folder / f"{stem}_files"
    context = {"lang": lang, "t": t, "title": page["title"], "generated": _now(), "versions": _versions(), **page["context"]}
    markdown_context = dict(context)
    for relative, key in page["file_keys"].items():
        markdown_context[key] = f"{assets.name}/{relative}"
    for key, names in page.get("file_lists", {}).items():
        markdown_context[key] = [f"{assets.name}/{name}" for name in names]
    environment = template_environment()
    try:
        html_text = environment.get_template(f"{kind}.html").render(**context)
        markdown_text = environment.get_template(f"{kind}.md").render(**markdown_context)
    except jinja2.TemplateError as exc:
        raise RenderError(f"Expected the {kind} template to render. Received: {type(exc).__name__}: {exc}") from exc
    assets.mkdir(parents=True, exist_ok=True)
    for relative, data in page["files"].items():
        (assets / relative).write_bytes(data)
    html_path, markdown_path = folder / f"{stem}.html", folder / f"{stem}.md"
    _write(html_path, html_text)
    _write(markdown_path, markdown_text)
    _record(folder, {"file": html_path.name, "markdown": markdown_path.name, "title": page["title"], "kind": kind,
                     "lang": lang, "created": context["generated"]}, lang)
    return {"path": str(html_path), "markdown_path": str(markdown_path), "title": page["title"], "kind": kind, "lang": lang}


def _output_folder(output_dir) -> Path:
    root = get_settings().output_dir
    folder = root if output_dir is None else Path(os.path.realpath(root / os.fspath(output_dir)))
    if not folder.is_relative_to(root):
        raise AccessDeniedError(
            f"Expected output_dir inside the output folder {root}. Received: {os.fspath(output_dir)!r}. "
            "Choose the output folder itself with CNNLAB_OUTPUT_DIR or --output-dir."
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


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".part")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _now() -> str:
    return _dt.datetime.now().strftime("%Y-%m-%d %H:%M")


@functools.cache
def _versions() -> dict:
    from importlib.metadata import version

    return {"keras": version("keras"), "tensorflow": version("tensorflow")}


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
        _write(manifest, json.dumps(entries, ensure_ascii=False, indent=1))
        t = texts(lang)
        page = template_environment().get_template("index.html").render(
            lang=lang, t=t, title=t["index_title"], generated=_now(), versions=_versions(), entries=list(reversed(entries)))
        _write(folder / "index.html", page)


def _pick(options: dict, names) -> dict:
    return {name: options[name] for name in names if name in options}


# --- architecture ---------------------------------------------------------------------------

def _architecture(options: dict, t: dict, lang: str) -> dict:
    from plugin.architecture import describe_architecture
    from plugin.registry import get_spec
    from plugin.svg_inline import inline_svg

    arguments = _pick(options, _ARCHITECTURE_OPTIONS)
    facts = describe_architecture(detail="full" if arguments.get("expand_nested") else "layers", diagram_format="svg", **arguments)
    family = None if arguments.get("model_path") else get_spec(facts["model"]).family
    diagram = inline_svg(Path(facts["diagram"]["path"]).read_bytes(), label=t["diagram"])
    return {
        "title": t["architecture_title"].format(model=facts["model"]),
        "name_parts": [facts["model"]],
        "context": {"facts": facts, "notes": STUDY_NOTES.get(family, STUDY_NOTES[None])[lang], "diagram": diagram},
        "files": {"diagram.svg": str(diagram).encode("utf-8")},
        "file_keys": {"diagram.svg": "diagram_file"},
    }


# --- classification -------------------------------------------------------------------------

def _probability_chart(result: dict, t: dict) -> dict:
    rows = [{"label": p["label"], "fraction": p["probability"], "text": f"{p['probability'] * 100:.1f}%",
             "color": "#9ca3af" if result["untrained"] else "#3b82f6"} for p in result["predictions"]]
    return {"kind": "bars", "rows": rows, "title": f"{result['model']} · {t['predictions']}", "unit": ""}


def _photo(image) -> tuple[bytes, int, int]:
    from plugin.images import load_image

    picture = load_image(image).image.copy()
    picture.thumbnail((640, 640))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=85)
    return buffer.getvalue(), picture.width, picture.height


def _data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def _chart_files(charts: list[dict]) -> dict[str, bytes]:
    """Each chart as a standalone SVG file for the Markdown version: {"chart-1.svg": ...}."""
    template = template_environment().get_template("chart.svg")
    return {f"chart-{index + 1}.svg": template.render(chart=chart).encode("utf-8") for index, chart in enumerate(charts)}


def _classification(options: dict, t: dict, lang: str) -> dict:
    from plugin.classify import classify_image

    if "image" not in options:
        raise InvalidInputError("Expected an image for a classification report. Received: no image option")
    arguments = _pick(options, _CLASSIFY_OPTIONS)
    data = classify_image(**arguments)
    jpeg, width, height = _photo(arguments["image"])
    charts = [_probability_chart(result, t) for result in data["results"]]
    chart_files = _chart_files(charts)
    files = {"image.jpg": jpeg, **chart_files}
    return {
        "title": t["classification_title"].format(image=_short(data["image"]["source"])),
        "name_parts": [r["model"] for r in data["results"]],
        "context": {"data": data, "charts": charts, "image_uri": _data_uri(jpeg), "image_width": width, "image_height": height},
        "files": files,
        "file_keys": {"image.jpg": "image_file"},
        "file_lists": {"chart_files": list(chart_files)},
    }


def _short(source: str) -> str:
    name = source[len("file "):] if source.startswith("file ") else source
    return name if len(name) <= 60 else name[:57] + "…"


# --- comparison -----------------------------------------------------------------------------

def _scaled_bars(rows: list[dict], key, title: str, fmt: str, scale: float = 1.0) -> dict:
    values = [key(row) for row in rows]
    top = max((v for v in values if v is not None), default=0) or 1
    return {"kind": "bars", "title": title, "unit": "", "rows": [
        {"label": row["model"], "fraction": (value or 0) / top, "text": "-" if value is None else fmt.format(value * scale),
         "color": None} for row, value in zip(rows, values)]}


def _scatter(rows: list[dict], t: dict) -> dict | None:
    known = [row for row in rows if row["published"]["top1"] is not None]
    if not known:
        return None
    logs = [math.log10(row["macs"]) for row in known]
    low, high = math.floor(min(logs) * 2) / 2, math.ceil(max(logs) * 2) / 2
    high = high if high > low else low + 0.5
    accuracies = [row["published"]["top1"] for row in known]
    bottom, top = math.floor(min(accuracies) * 20) / 20, math.ceil(max(accuracies) * 20) / 20
    top = top if top > bottom else bottom + 0.05
    largest = max(row["total_params"] for row in known)
    points = [{"label": row["model"], "x": 0.06 + 0.88 * (math.log10(row["macs"]) - low) / (high - low),
               "y": 0.06 + 0.8 * (row["published"]["top1"] - bottom) / (top - bottom),
               "r": 6 + 22 * math.sqrt(row["total_params"] / largest)} for row in known]
    ticks_x = [{"at": 0.06 + 0.88 * (v - low) / (high - low), "text": _si(10 ** v)} for v in _steps(low, high, 0.5)]
    ticks_y = [{"at": 0.06 + 0.8 * (v - bottom) / (top - bottom), "text": f"{v * 100:.0f}%"} for v in _steps(bottom, top, 0.05)]
    for point in points:
        point["x_ticks"], point["y_ticks"] = ticks_x, ticks_y
    return {"kind": "scatter", "title": t["chart_scatter"], "points": points,
            "x_label": t["macs"] + " (log)", "y_label": t["top1"]}


def _steps(low: float, high: float, step: float) -> list[float]:
    count = int(round((high - low) / step))
    return [low + i * step for i in range(count + 1)]


def _si(value: float) -> str:
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def _comparison_charts(rows: list[dict], t: dict) -> list[dict]:
    charts = [
        _scaled_bars(rows, lambda r: r["total_params"], t["chart_params"], "{:.1f}", 1e-6),
        _scaled_bars(rows, lambda r: r["macs"], t["chart_macs"], "{:.2f}", 1e-9),
        _scaled_bars(rows, lambda r: r["published"]["top1"], t["chart_top1"], "{:.1f}", 100),
        _scaled_bars(rows, lambda r: r["inference_ms"], t["chart_time"], "{:.1f}"),
    ]
    scatter = _scatter(rows, t)
    return charts + [scatter] if scatter else charts


def comparison_charts_html(data: dict, lang: str | None = None) -> str:
    """The comparison charts of a `compare_models` result as inline SVG markup (for the web app)."""
    macros = template_environment().get_template("_charts.html").module
    parts = []
    for chart in _comparison_charts(data["models"], texts(check_lang(lang))):
        if chart["kind"] == "bars":
            parts.append(str(macros.bars(chart["rows"], chart["title"], chart["unit"])))
        else:
            parts.append(str(macros.scatter(chart["points"], chart["title"], chart["x_label"], chart["y_label"])))
    return "".join(f'<div style="max-width:640px">{part}</div>' for part in parts)


def _comparison(options: dict, t: dict, lang: str) -> dict:
    from plugin.compare import compare_models

    arguments = _pick(options, _COMPARE_OPTIONS)
    data = compare_models(**arguments)
    rows = data["models"]
    charts = _comparison_charts(rows, t)
    files = _chart_files(charts)
    chart_names = list(files)
    context = {"data": data, "charts": charts, "sources": sorted({row["published"]["source"] for row in rows})}
    file_keys = {}
    if data.get("image"):
        jpeg, width, height = _photo(arguments["image"])
        context |= {"image_uri": _data_uri(jpeg), "image_width": width, "image_height": height}
        files["image.jpg"] = jpeg
        file_keys["image.jpg"] = "image_file"
    return {
        "title": t["comparison_title"].format(models=", ".join(row["model"] for row in rows)),
        "name_parts": [row["model"] for row in rows],
        "context": context,
        "files": files,
        "file_keys": file_keys,
        "file_lists": {"chart_files": chart_names},
    }
