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

import hashlib
import hmac
import json
import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gradio as gr

from plugin import api, words
from plugin.api import display_name, sentence
from plugin.config import EXAMPLES_DIR, configure, get_settings
from plugin.doors.gate import gated
from plugin.doors.gradio_api import ENGINE_QUEUE, register_tool_endpoints
from plugin.doors.http_limits import BodyLimit
from plugin.errors import PluginError
from plugin.limits import (
    DEFAULT_ARCHITECTURE_MODEL,
    DEFAULT_FINE_TUNE_EPOCHS,
    DEFAULT_MODELS,
    DEFAULT_TOP_K,
    FINE_TUNE_BASE,
    MAX_FINE_TUNE_EPOCHS,
    MAX_PATH_CHARS,
    MAX_TOP_K,
)
from plugin.render.charts import charts_html, comparison_charts
from plugin.render.reports import confusion_html, list_reports, share_report

__all__ = ["build_app", "launch", "MCP_PATH"]

MCP_PATH = "/gradio_api/mcp"
SESSIONS = "sessions"
SHARED = "shared"
GALLERY = "gallery"
MAX_LABELS = 4
QUEUE_SIZE = 64
"""Requests that may wait for an engine slot in the app's queue before more are turned away."""
_SECRET = secrets.token_bytes(32)
MODEL_CHOICES = list(api.MODEL_NAMES)
PREPROCESSING_CHOICES = [mode for mode in api.PREPROCESSING_MODES if mode != "builtin"]


def _t(lang: str) -> dict:
    return words.section("ui", lang if lang in words.LANGUAGES else words.default_lang())


def _engine_error(exc: PluginError, lang: str) -> gr.Error:
    return gr.Error(words.error_text(exc, lang), title=words.error_title(exc, lang), print_exception=False)


def _session(request: gr.Request | None) -> str:
    """This page session's folder, relative to the output folder: named by a keyed hash of
    Gradio's session id, so it cannot be guessed from outside."""
    key = (getattr(request, "session_hash", None) or "no-session").encode("utf-8")
    return f"{SESSIONS}/{hmac.new(_SECRET, key, hashlib.sha256).hexdigest()[:32]}"


def _session_dir(request: gr.Request | None, *parts: str) -> Path:
    folder = get_settings().output_dir.joinpath(_session(request), *parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _keep_upload(path: str | None, request: gr.Request | None) -> str | None:
    """Copy an uploaded model file into this session's uploads (below an allowed root), by content hash."""
    if not path:
        return None
    source = Path(path)
    with open(source, "rb") as handle:
        hasher = hashlib.sha256()  # hashlib.file_digest is Python 3.11+; the project supports 3.10
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(chunk)
        digest = hasher.hexdigest()[:16]
    kept = _session_dir(request, "uploads") / f"{digest}-{source.name[-100:]}"
    if not kept.exists():
        shutil.copyfile(source, kept)
    return str(kept)


def _photo(path: str | None, lang: str):
    """An uploaded photo (a file in Gradio's upload cache), decoded by the engine with its checks."""
    if not path:
        return None
    try:
        return api.load_upload(path)
    except PluginError as exc:
        raise _engine_error(exc, lang) from exc


def _engine_choices(lang: str) -> list[tuple[str, str]]:
    """The evaluation engines, named in the language; Ray only where it is installed."""
    return [(_t(lang)[f"engine_{name}"], name) for name in api.ENGINES if name != "ray" or _ray_installed()]


def _model_choices(lang: str) -> list[tuple[str, str]]:
    """Every registry model for a picker: ready ones by name, others with what is missing."""
    t = _t(lang)
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


def _ray_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def _md(text) -> str:
    return "".join("\\" + ch if ch in "\\`*_[]<>#|" else ch for ch in str(text))


def _table(headers: list[str], rows: list[list]) -> dict:
    return {"headers": headers, "data": rows}


# --- classify -------------------------------------------------------------------------------

def classify_view(image, models, top_k, random_weights, model_file, class_names, preprocessing, expected, explain, lang,
                  request: gr.Request, progress=gr.Progress()):
    """Classify the photo once (and, with the switch on, show where each model looked); keep the
    result, the photo and the heat maps for the report button."""
    t = _t(lang)
    if image is None:
        raise gr.Error(t["no_image"], print_exception=False)
    image = _photo(image, lang)
    if not models and not model_file:
        raise gr.Error(t["no_models"], print_exception=False)
    options: dict[str, Any] = {"top_k": int(top_k), "weights": "random" if random_weights else "imagenet",
               "allow_random_weights": bool(random_weights), "models": list(models or [])}
    if model_file:
        names = [name.strip() for name in (class_names or "").split(",") if name.strip()] or None
        options = {"top_k": int(top_k), "model_path": _keep_upload(model_file, request), "class_names": names,
                   "preprocessing": preprocessing or "rescale"}
    options["expected"] = (expected or "").strip() or None
    progress(0.2, desc=t["building"])
    if explain:
        progress(0.4, desc=t["explaining"])
    try:
        study = api.study_image(image, explain=bool(explain), **options)
    except PluginError as exc:
        raise _engine_error(exc, lang) from exc
    result, explanations = study["result"], study["explanations"] or []
    progress(1.0, desc=t["running"])
    labels = []
    for outcome in result["results"][:MAX_LABELS]:
        run_by = words.section("report", lang)["backend_names"].get(outcome.get("backend"), "")
        name = f"{outcome['model']} · {outcome['inference_ms']:.0f} ms {run_by}".rstrip() + (
            f" · {t['untrained_short']}" if outcome["untrained"] else "")
        labels.append(gr.update(value={display_name(p, lang): p["probability"] for p in outcome["predictions"]},
                                label=name, visible=True))
    labels += [gr.update(value=None, visible=False)] * (MAX_LABELS - len(labels))
    gallery = [(item["overlay_path"], _caption(item, lang)) for item in explanations]
    state = {"result": result, "image": study["image"], "explanations": explanations or None}
    return [_summary(result, lang), *labels, gr.update(value=gallery, visible=bool(gallery)), state]


def _caption(explained: Mapping[str, Any], lang: str) -> str:
    return words.text("report.gradcam_caption", lang, model=explained["model"], label=display_name(explained["class"], lang),
                      probability=f"{explained['class']['probability']:.1%}", layer=explained["layer"])


def _summary(result: Mapping[str, Any], lang: str) -> str:
    t = _t(lang)
    lines = [f"### {_md(sentence(result, lang))}", ""]
    lines += [f"> ⚠️ **{_md(outcome['model'])}: {t['untrained']}**" for outcome in result["results"] if outcome["untrained"]]
    lines.append("")
    for outcome in result["results"]:
        verdict = outcome.get("verdict")
        top = outcome["predictions"][0]
        text = f"- **{_md(outcome['model'])}**: {_md(display_name(top, lang))} ({top['probability']:.1%})"
        if verdict:
            text += f" · {t['verdict']} **{t[verdict['label']]}** ({verdict['probability']:.1%})"
        if outcome.get("correct"):
            right = words.text("report.right" if outcome["correct"]["top1"] else "report.wrong", lang)
            text += f" · {words.text('report.correct_top1', lang)} **{right}**"
        lines.append(text + f" · {outcome['inference_ms']:.1f} ms")
    return "\n".join(lines)


def preprocessing_view(state, model, lang, progress=gr.Progress()):
    """The preprocessing experiment on the photo the Classify tab already has."""
    t = _t(lang)
    if not state:
        raise gr.Error(t["no_result"], print_exception=False)
    result = state["result"]
    chosen = model or result["results"][0]["model"]
    weights = result["results"][0]["weights"] if result["results"][0]["weights"] in ("imagenet", "random") else "imagenet"
    progress(0.3, desc=t["running"])
    try:
        study = api.compare_preprocessing(state["image"], chosen, top_k=3, weights=weights,
                                          allow_random_weights=weights == "random")
    except PluginError as exc:
        raise _engine_error(exc, lang) from exc
    rows = [[row["mode"] + (f" ({words.text('report.own_mode', lang)})" if row["own"] else ""),
             display_name(row["predictions"][0], lang), f"{row['predictions'][0]['probability']:.1%}",
             t[row["verdict"]["label"]]] for row in study["modes"]]
    return _table(t["study_headers"], rows), {**state, "preprocessing_study": study}


def _report(kind: str, missing: str, computed: dict | None, lang: str, request: gr.Request | None, progress) -> str:
    """Render what a tab already computed (a result, or facts) into a report in this session's
    folder; return its path."""
    t = _t(lang)
    if not computed:
        raise gr.Error(t[missing], print_exception=False)
    progress(0.3, desc=t["rendering"])
    try:
        return api.render_report(kind, lang=lang, output_dir=_session(request), **computed)["path"]
    except PluginError as exc:
        raise _engine_error(exc, lang) from exc


def classification_report(state, lang, request: gr.Request, progress=gr.Progress()):
    """Render the result the Classify tab already has (with its heat maps and preprocessing
    experiment, if made): no second classification."""
    return _report("classification", "no_result", {key: value for key, value in (state or {}).items() if value is not None} or None,
                   lang, request, progress)


# --- architecture ---------------------------------------------------------------------------

def architecture_view(model, model_file, expand_nested, rankdir, lang, request: gr.Request, progress=gr.Progress()):
    """Describe once, drawing the SVG (download) and the PNG (shown, as a file: it can be taller
    than the pixel limit on decoding) from one graph."""
    t = _t(lang)
    options = {"model_path": _keep_upload(model_file, request)} if model_file else {"model": model}
    progress(0.2, desc=t["building"])
    try:
        facts = api.describe_architecture(detail="full" if expand_nested else "layers", include_diagram=True,
                                          diagram_format=["svg", "png"], expand_nested=bool(expand_nested),
                                          rankdir=rankdir, **options)
    except PluginError as exc:
        raise _engine_error(exc, lang) from exc
    progress(0.9, desc=t["drawing"])
    stages = [[s["name"], s["output_size"], s["blocks"] if s["blocks"] is not None else "-", s["layout"], s["params"],
               round(s["macs"] / 1e6, 1)] for s in facts["stages"]]
    structure = [[row["label"][lang], row["count"], row["shapes"], row["details"], row["role"][lang]] for row in facts["structure"]]
    layers = [[row["name"], row["type"], json.dumps(row["output_shape"]), row["params"], round(row["macs"] / 1e6, 2),
               ", ".join(row["inbound"])] for row in facts["layers"] or []]  # detail "layers" or "full": a table
    figures = t["figures"].format(model=_md(facts["model"]), params=f"{facts['total_params']:,}",
                                  macs=f"{facts['macs'] / 1e9:.2f}", flops=f"{facts['flops'] / 1e9:.2f}",
                                  depth=facts["depth"], layers=facts["num_layers"], size=f"{facts['size_mb']:.1f}")
    published = facts["published"]
    if published:
        top1 = f"{published['top1']:.1%}" if published.get("top1") is not None else "-"
        figures += "\n\n" + t["published_line"].format(top1=top1, source=_md(published["source"]))
    diagram = facts["diagram"]
    assert diagram is not None  # include_diagram=True
    files = diagram["files"]
    return (figures, files["png"]["path"], files["svg"]["path"], _table(t["stages_headers"], stages),
            _table(t["structure_headers"], structure), _table(t["layers_headers"], layers), facts)


def architecture_report(facts, lang, request: gr.Request, progress=gr.Progress()):
    """Render the facts the Architecture tab already has: no second describe."""
    return _report("architecture", "no_facts", {"facts": facts} if facts else None, lang, request, progress)


# --- compare --------------------------------------------------------------------------------

def compare_view(models, image, random_weights, lang, progress=gr.Progress()):
    t = _t(lang)
    if not models:
        raise gr.Error(t["no_models"], print_exception=False)
    image = _photo(image, lang)
    progress(0.2, desc=t["building"])
    options = {}
    if image is not None:
        options = {"weights": "random" if random_weights else "imagenet", "allow_random_weights": bool(random_weights)}
    try:
        data = api.compare_models(list(models), image=image, **options)
    except PluginError as exc:
        raise _engine_error(exc, lang) from exc
    rows = []
    for row in data["models"]:
        cells = [row["model"], round(row["total_params"] / 1e6, 1), round(row["macs"] / 1e9, 2), row["depth"],
                 round(row["size_mb"], 1), row["published"]["top1"], row["inference_ms"]]
        if "predictions" in row:
            untrained = f" ({t['untrained_short']})" if row["untrained"] else ""
            verdict = row["verdict"]
            assert verdict is not None  # registry models have an ImageNet head, so a verdict
            cells += [row["predictions"][0]["label"] + untrained, t[verdict["label"]]]
        else:
            cells += ["", ""]
        rows.append(cells)
    charts = charts_html(comparison_charts(data["models"], words.section("report", lang)))
    return _table(t["compare_headers"], rows), charts, {"result": data, "image": image}


def comparison_report(state, lang, request: gr.Request, progress=gr.Progress()):
    """Render the comparison the Compare tab already has: nothing is measured again."""
    return _report("comparison", "no_comparison", state, lang, request, progress)


# --- evaluate and fine-tune -------------------------------------------------------------------

def _source(folder, archive, request: gr.Request | None) -> str:
    """The photos to use: an uploaded zip (unpacked into this session's uploads) or a folder under the roots."""
    if archive:
        return str(api.extract_images(archive, _session_dir(request, "uploads")))
    if not (folder or "").strip():
        raise PluginError("Expected a folder of photos or a zip. Received: neither.", key="no_source")
    return folder.strip()


def evaluate_view(folder, archive, models, engine, lang, request: gr.Request, progress=gr.Progress()):
    """Evaluate once; show the accuracy table and confusion matrices; keep the result for the report."""
    t = _t(lang)
    if not models:
        raise gr.Error(t["no_models"], print_exception=False)
    progress(0.0, desc=t["running"])
    try:
        result = api.evaluate(_source(folder, archive, request), models=list(models), engine=engine,
                              progress=lambda done, total, model: progress(done / max(total, 1), desc=f"{model} {done}/{total}"))
    except PluginError as exc:
        raise _engine_error(exc, lang) from exc
    report = words.section("report", lang)
    rows = [[model["model"], _percent(model["accuracy"]["verdict"]), _percent(model["accuracy"]["top1"]),
             _percent(model["accuracy"]["top5"]), model["mistake_count"], model["images_per_second"]] for model in result["models"]]
    summary = report["evaluation_intro"].format(images=result["images"], source=result["source"]) + " " + \
        " · ".join(f"{report.get(label, label)} {count}" for label, count in result["label_counts"].items())
    return summary, _table(t["evaluate_headers"], rows), confusion_html(result, lang), {"result": result}


def _percent(value) -> str:
    return "-" if value is None else f"{value:.1%}"


def evaluation_report(state, lang, request: gr.Request, progress=gr.Progress()):
    """Render the evaluation the tab already has: nothing is classified again."""
    return _report("evaluation", "no_evaluation", state, lang, request, progress)


def fine_tune_view(folder, archive, base, epochs, lang, request: gr.Request, progress=gr.Progress()):
    """Train a head on the photos, then evaluate base and fine-tuned model once, for the report."""
    t = _t(lang)
    try:
        source = _source(folder, archive, request)
        result = api.fine_tune(source, base, int(epochs), output_dir=_session(request), evaluate=True,
                               progress=lambda step, steps, stage: progress(step / max(steps, 1), desc=t[f"tune_{stage}"]))
    except PluginError as exc:
        raise _engine_error(exc, lang) from exc
    text = t["tune_result"].format(classes=", ".join(result["class_names"]), epochs=result["history"]["epochs_run"],
                                   base=result["base"], base_accuracy=_percent(result["accuracy"]["base"]),
                                   tuned=_percent(result["accuracy"]["fine_tuned"]), validation=result["images"]["validation"])
    return text, result["model_path"], {"result": result["evaluation"]}


# --- reports --------------------------------------------------------------------------------

def _report_folders(request: gr.Request | None) -> list[tuple[str, str]]:
    """(where, folder relative to the output folder) of the reports this session may see: its own,
    those its users shared, and the project's gallery."""
    return [("mine", _session(request)), ("shared", SHARED), ("gallery", GALLERY)]


def reports_view(lang, request: gr.Request):
    t = _t(lang)
    report_words = words.section("report", lang)
    table, choices = [], []
    for where, folder in _report_folders(request):
        for entry in list_reports(get_settings().output_dir / folder):
            table.append([entry.get("title", ""), report_words.get(f"kind_{entry.get('kind')}", entry.get("kind", "")),
                          entry.get("lang", ""), entry.get("created", ""), t[f"reports_{where}"]])
            choices.append((f"{entry.get('title', '')} ({entry.get('created', '')}) · {t[f'reports_{where}']}", f"{folder}/{entry['file']}"))
    return _table(t["reports_headers"], table), gr.update(choices=choices, value=choices[0][1] if choices else None)


def _chosen_report(choice: str | None, request: gr.Request | None) -> tuple[Path, Path] | None:
    """The report a dropdown value names, if it lies in a folder this session may see (the value
    comes from the browser and is checked like any input)."""
    if not choice or not isinstance(choice, str) or len(choice) > MAX_PATH_CHARS:
        return None
    folder, _, name = choice.rpartition("/")
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
    return frame, str(chosen[1])


def share_view(choice, lang, request: gr.Request):
    """Copy one of this session's reports into the shared list, where every user of the app sees it."""
    t = _t(lang)
    chosen = _chosen_report(choice, request)
    if chosen is None or chosen[0] != get_settings().output_dir / _session(request):
        raise gr.Error(t["share_own_only"], print_exception=False)
    try:
        share_report(chosen[1].name, chosen[0], get_settings().output_dir / SHARED)
    except PluginError as exc:
        raise _engine_error(exc, lang) from exc
    gr.Info(t["shared_done"])
    return reports_view(lang, request)


# --- layout ---------------------------------------------------------------------------------

def build_app(lang: str | None = None) -> gr.Blocks:
    """The app's Blocks, with the tool endpoints for gradio_client."""
    lang = lang if lang in words.LANGUAGES else words.default_lang()
    t = _t(lang)
    concurrency = get_settings().concurrent_runs
    labelled: list[tuple] = []
    tables: list[tuple] = []
    pickers: list = []

    def label(component, key):
        labelled.append((component, key))
        return component

    def table(key, headers_key, **options):
        component = gr.Dataframe(headers=t[headers_key], label=t[key], **options)
        tables.append((component, key, headers_key))
        return component

    def engine_event(trigger, fn, inputs, outputs):
        trigger(gated(fn), inputs, outputs, api_visibility="private", concurrency_limit=concurrency, concurrency_id=ENGINE_QUEUE)

    with gr.Blocks(title="CNN Study Lab") as app:
        language = gr.State(lang)
        with gr.Row():
            heading = gr.Markdown(f"# {t['title']}\n{t['intro']}")
            switch = gr.Radio(list(words.LANGUAGES), value=lang, label=t["language"], scale=0, elem_id="language")

        with gr.Tab(t["tab_classify"], id="classify") as tab_classify:
            with gr.Row():
                with gr.Column():
                    image = label(gr.Image(type="filepath", image_mode=None, sources=["upload", "clipboard", "webcam"],
                                           label=t["image"], elem_id="classify-image"), "image")
                    gr.Examples([[str(EXAMPLES_DIR / "cat_chelsea.png")]], inputs=[image])
                    models = gr.CheckboxGroup(_model_choices(lang), value=api.default_models()[0], label=t["models"],
                                              elem_id="classify-models")
                    pickers.append(models)
                    top_k = label(gr.Slider(1, MAX_TOP_K, value=DEFAULT_TOP_K, step=1, label=t["top_k"]), "top_k")
                    random_weights = label(gr.Checkbox(False, label=t["random"], elem_id="random-weights"), "random")
                    expected = label(gr.Textbox(label=t["expected"], placeholder=t["expected_hint"], elem_id="classify-expected",
                                                max_length=200), "expected")
                    explain = label(gr.Checkbox(False, label=t["explain"], elem_id="classify-explain"), "explain")
                    with gr.Accordion(t["custom_model"], open=False):
                        model_file = label(gr.File(file_types=[".keras", ".h5"], label=t["custom_model"]), "custom_model")
                        class_names = label(gr.Textbox(label=t["class_names"], max_length=MAX_PATH_CHARS), "class_names")
                        preprocessing = label(gr.Dropdown(PREPROCESSING_CHOICES, value="rescale", label=t["preprocessing"]), "preprocessing")
                    classify_button = label(gr.Button(t["classify"], variant="primary", elem_id="classify-button"), "classify")
                with gr.Column():
                    summary = gr.Markdown(t["weights_hint"], elem_id="classify-summary")
                    with gr.Row():
                        outputs = [gr.Label(visible=False, num_top_classes=MAX_TOP_K, elem_classes="model-label") for _ in range(MAX_LABELS)]
                    cams = label(gr.Gallery(label=t["gradcam"], visible=False, columns=2, height="auto", elem_id="classify-cams"), "gradcam")
                    with gr.Accordion(t["study"], open=False):
                        study_model = label(gr.Dropdown(MODEL_CHOICES, value=None, label=t["study_model"], elem_id="study-model"), "study_model")
                        study_button = label(gr.Button(t["study_run"], elem_id="study-button"), "study_run")
                        study_table = table("study", "study_headers", elem_id="study-table")
                    report_button = label(gr.Button(t["make_report"], elem_id="classify-report"), "make_report")
                    report_file = label(gr.File(label=t["report_file"], elem_id="classify-report-file"), "report_file")
            classified = gr.State(None)
            engine_event(classify_button.click, classify_view,
                         [image, models, top_k, random_weights, model_file, class_names, preprocessing, expected, explain,
                          language], [summary, *outputs, cams, classified])
            engine_event(study_button.click, preprocessing_view, [classified, study_model, language], [study_table, classified])
            report_button.click(classification_report, [classified, language], [report_file], api_visibility="private")

        with gr.Tab(t["tab_architecture"], id="architecture") as tab_architecture:
            with gr.Row():
                arch_model = label(gr.Dropdown(MODEL_CHOICES, value=DEFAULT_ARCHITECTURE_MODEL, label=t["model"],
                                               elem_id="arch-model"), "model")
                arch_file = label(gr.File(file_types=[".keras", ".h5"], label=t["model_file"]), "model_file")
                expand = label(gr.Checkbox(False, label=t["expand_nested"]), "expand_nested")
                rankdir = label(gr.Radio(["TB", "LR"], value="TB", label=t["rankdir"]), "rankdir")
            describe_button = label(gr.Button(t["describe"], variant="primary", elem_id="describe-button"), "describe")
            figures = gr.Markdown(elem_id="arch-figures")
            diagram = label(gr.Image(label=t["diagram"], type="filepath", elem_id="arch-diagram", interactive=False), "diagram")
            diagram_file = label(gr.File(label=t["diagram_file"]), "diagram_file")
            stages = table("stages", "stages_headers", wrap=True, elem_id="arch-stages")
            structure = table("structure", "structure_headers", wrap=True, elem_id="arch-structure")
            layers = table("layers", "layers_headers", max_height=500, elem_id="arch-layers")
            described = gr.State(None)
            arch_report_button = label(gr.Button(t["make_report"], elem_id="arch-report"), "make_report")
            arch_report_file = label(gr.File(label=t["report_file"], elem_id="arch-report-file"), "report_file")
            engine_event(describe_button.click, architecture_view, [arch_model, arch_file, expand, rankdir, language],
                         [figures, diagram, diagram_file, stages, structure, layers, described])
            arch_report_button.click(architecture_report, [described, language], [arch_report_file], api_visibility="private")

        with gr.Tab(t["tab_compare"], id="compare") as tab_compare:
            with gr.Row():
                compare_models = gr.CheckboxGroup(_model_choices(lang), value=[*DEFAULT_MODELS, "MobileNetV2"],
                                                  label=t["models"], elem_id="compare-models")
                pickers.append(compare_models)
                compare_image = label(gr.Image(type="filepath", image_mode=None, label=t["compare_image"]), "compare_image")
                compare_random = label(gr.Checkbox(False, label=t["random"]), "random")
            compare_button = label(gr.Button(t["compare"], variant="primary", elem_id="compare-button"), "compare")
            comparison = table("comparison", "compare_headers", elem_id="compare-table")
            charts = gr.HTML()
            compared = gr.State(None)
            compare_report_button = label(gr.Button(t["make_report"], elem_id="compare-report"), "make_report")
            compare_report_file = label(gr.File(label=t["report_file"], elem_id="compare-report-file"), "report_file")
            engine_event(compare_button.click, compare_view, [compare_models, compare_image, compare_random, language],
                         [comparison, charts, compared])
            compare_report_button.click(comparison_report, [compared, language], [compare_report_file], api_visibility="private")

        with gr.Tab(t["tab_evaluate"], id="evaluate") as tab_evaluate:
            with gr.Row():
                eval_folder = label(gr.Textbox(label=t["eval_folder"], placeholder=t["eval_folder_hint"], elem_id="eval-folder",
                                               max_length=MAX_PATH_CHARS), "eval_folder")
                eval_zip = label(gr.File(file_types=[".zip"], label=t["eval_zip"], elem_id="eval-zip"), "eval_zip")
            with gr.Row():
                eval_models = gr.CheckboxGroup(_model_choices(lang), value=api.default_models()[0], label=t["models"],
                                               elem_id="eval-models")
                pickers.append(eval_models)
                eval_engine = label(gr.Radio(_engine_choices(lang), value="local", label=t["eval_engine"],
                                             elem_id="eval-engine"), "eval_engine")
            eval_button = label(gr.Button(t["evaluate"], variant="primary", elem_id="eval-button"), "evaluate")
            eval_summary = gr.Markdown(elem_id="eval-summary")
            eval_table = table("evaluation", "evaluate_headers", elem_id="eval-table")
            eval_matrices = gr.HTML(elem_id="eval-matrices")
            evaluated = gr.State(None)
            eval_report_button = label(gr.Button(t["make_report"], elem_id="eval-report"), "make_report")
            eval_report_file = label(gr.File(label=t["report_file"], elem_id="eval-report-file"), "report_file")
            engine_event(eval_button.click, evaluate_view, [eval_folder, eval_zip, eval_models, eval_engine, language],
                         [eval_summary, eval_table, eval_matrices, evaluated])
            eval_report_button.click(evaluation_report, [evaluated, language], [eval_report_file], api_visibility="private")
            with gr.Accordion(t["tune"], open=False):
                gr.Markdown(t["tune_hint"])
                with gr.Row():
                    tune_base = label(gr.Dropdown([name for name in MODEL_CHOICES if api.MODEL_FAMILIES[name] == "EfficientNet-Lite"],
                                                  value=FINE_TUNE_BASE, label=t["tune_base"], elem_id="tune-base"), "tune_base")
                    tune_epochs = label(gr.Slider(1, MAX_FINE_TUNE_EPOCHS, value=DEFAULT_FINE_TUNE_EPOCHS, step=1,
                                                  label=t["tune_epochs"]), "tune_epochs")
                tune_button = label(gr.Button(t["tune_run"], elem_id="tune-button"), "tune_run")
                tune_result = gr.Markdown(elem_id="tune-result")
                tune_file = label(gr.File(label=t["tune_file"], elem_id="tune-file"), "tune_file")
                engine_event(tune_button.click, fine_tune_view, [eval_folder, eval_zip, tune_base, tune_epochs, language],
                             [tune_result, tune_file, evaluated])

        with gr.Tab(t["tab_reports"], id="reports") as tab_reports:
            refresh = label(gr.Button(t["refresh"], elem_id="reports-refresh"), "refresh")
            listing = table("reports", "reports_headers", elem_id="reports-table")
            pick = label(gr.Dropdown(choices=[], label=t["pick_report"], elem_id="reports-pick"), "pick_report")
            share = label(gr.Button(t["share"], elem_id="reports-share"), "share")
            gr.Markdown(t["privacy_note"])
            preview = gr.HTML(elem_id="reports-preview")
            download = label(gr.File(label=t["download"]), "download")
            refresh.click(reports_view, [language], [listing, pick], api_visibility="private")
            tab_reports.select(reports_view, [language], [listing, pick], api_visibility="private")
            pick.change(report_preview, [pick], [preview, download], api_visibility="private")
            share.click(share_view, [pick, language], [listing, pick], api_visibility="private")

        tabs = [(tab_classify, "tab_classify"), (tab_architecture, "tab_architecture"), (tab_compare, "tab_compare"),
                (tab_evaluate, "tab_evaluate"), (tab_reports, "tab_reports")]

        def relabel(chosen):
            texts = _t(chosen)
            updates = [chosen, gr.update(value=f"# {texts['title']}\n{texts['intro']}")]
            updates += [gr.update(label=texts[key]) for _, key in tabs]
            updates += [gr.update(value=texts[key]) if isinstance(component, gr.Button) else gr.update(label=texts[key])
                        for component, key in labelled]
            updates += [gr.update(label=texts[key], headers=texts[headers_key]) for _, key, headers_key in tables]
            updates += [gr.update(label=texts["models"], choices=_model_choices(chosen)) for _ in pickers]
            updates.append(gr.update(label=texts["eval_engine"], choices=_engine_choices(chosen)))
            return updates

        switch.change(relabel, [switch], [language, heading, *[tab for tab, _ in tabs], *[c for c, _ in labelled],
                                          *[c for c, _, _ in tables], *pickers, eval_engine], api_visibility="private")
        register_tool_endpoints(concurrency)
    return app


def launch(host: str = "127.0.0.1", port: int = 7860, share: bool = False, lang: str | None = None,
           block: bool = True) -> gr.Blocks:
    """Start the web app, its API and its MCP endpoint; serve until interrupted (or, with
    `block=False`, return the running app: `app.close()` stops it)."""
    from starlette.middleware import Middleware
    from starlette.routing import Mount

    from plugin.doors.mcp import streamable_http_app

    settings = get_settings()
    sessions = settings.output_dir / SESSIONS
    sessions.mkdir(parents=True, exist_ok=True)
    if sessions not in settings.image_roots:
        configure(image_roots=[*settings.image_roots, sessions])  # each session's uploads and models, by unguessable folder
    api.bound_decoding(settings)  # whatever decodes an image in this process stops at the pixel limit
    app = build_app(lang)
    app.queue(max_size=QUEUE_SIZE)
    mcp_app, mcp_lifespan = streamable_http_app()
    app.launch(server_name=host, server_port=port, share=share, max_file_size=settings.max_model_bytes,
               allowed_paths=[str(settings.output_dir)], show_error=True, footer_links=["api", "gradio"],
               prevent_thread_lock=not block, quiet=not block,
               app_kwargs={"routes": [Mount(MCP_PATH, app=mcp_app)], "lifespan": mcp_lifespan,
                           "middleware": [Middleware(BodyLimit, uploads=settings.max_model_bytes)]})
    return app
