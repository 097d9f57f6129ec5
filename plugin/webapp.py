"""The Gradio web app: classify, architecture, compare and reports in the browser, and the same
tools over MCP (Streamable HTTP at /gradio_api/mcp/). A thin door: every handler calls the engine,
turns its errors into `gr.Error` with the engine's message, and adds nothing of its own.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import gradio as gr

from plugin.config import EXAMPLES_DIR, configure, get_settings
from plugin.errors import PluginError
from plugin.i18n import LANGUAGES, UI_TEXT, default_lang
from plugin.i18n import texts as report_texts
from plugin.registry import MODELS

__all__ = ["build_app", "launch"]

MAX_LABELS = 4
MODEL_CHOICES = list(MODELS)
PREPROCESSING_CHOICES = ["rescale", "tf", "caffe", "torch", "none"]


def _t(lang: str) -> dict:
    return UI_TEXT[lang if lang in LANGUAGES else "ko"]


def _uploads_dir() -> Path:
    folder = get_settings().output_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _keep_upload(path: str | None) -> str | None:
    """Copy an uploaded model file into the output folder's uploads (an allowed root), by content hash."""
    if not path:
        return None
    source = Path(path)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    kept = _uploads_dir() / f"{digest}-{source.name}"
    if not kept.exists():
        shutil.copyfile(source, kept)
    return str(kept)


def _engine_error(exc: PluginError) -> gr.Error:
    return gr.Error(str(exc), title=exc.type, print_exception=False)


# --- classify -------------------------------------------------------------------------------

def classify_view(image, models, top_k, random_weights, model_file, class_names, preprocessing, lang,
                  progress=gr.Progress()):
    from plugin.classify import classify_image

    t = _t(lang)
    if image is None:
        raise gr.Error(t["no_image"], print_exception=False)
    if not models and not model_file:
        raise gr.Error(t["no_models"], print_exception=False)
    options = _classify_options(models, top_k, random_weights, model_file, class_names, preprocessing)
    progress(0.2, desc=t["building"])
    try:
        result = classify_image(image, **options)
    except PluginError as exc:
        raise _engine_error(exc) from exc
    progress(1.0, desc=t["running"])
    labels = []
    for outcome in result["results"][:MAX_LABELS]:
        name = f"{outcome['model']} · {outcome['inference_ms']:.0f} ms" + (" · untrained" if outcome["untrained"] else "")
        labels.append(gr.update(value={p["label"]: p["probability"] for p in outcome["predictions"]}, label=name, visible=True))
    labels += [gr.update(value=None, visible=False)] * (MAX_LABELS - len(labels))
    return [_summary(result, t), *labels, {"image": image, "options": options}]


def _classify_options(models, top_k, random_weights, model_file, class_names, preprocessing) -> dict:
    options = {"models": list(models or []), "top_k": int(top_k), "weights": None if random_weights else "imagenet",
               "allow_random_weights": bool(random_weights)}
    if model_file:
        names = [name.strip() for name in (class_names or "").split(",") if name.strip()] or None
        options = {"top_k": int(top_k), "model_path": _keep_upload(model_file), "class_names": names,
                   "preprocessing": preprocessing or "rescale"}
    return options


def _summary(result: dict, t: dict) -> str:
    lines = []
    for outcome in result["results"]:
        if outcome["untrained"]:
            lines.append(f"> ⚠️ **{outcome['model']}: {t['untrained']}**")
    lines.append("")
    for outcome in result["results"]:
        verdict = outcome.get("verdict")
        top = outcome["predictions"][0]
        text = f"- **{_md(outcome['model'])}**: {_md(top['label'])} ({top['probability']:.1%})"
        if verdict:
            text += f" · {t['verdict']} **{t[verdict['label']]}** ({verdict['probability']:.1%})"
        lines.append(text + f" · {outcome['inference_ms']:.1f} ms")
    agreement = result["agreement"]
    if agreement["agree"] is not None:
        lines.append("")
        basis = report_texts(t["lang"])["basis_" + agreement["basis"]]
        lines.append(f"**{t['agree'] if agreement['agree'] else t['disagree']}** ({basis})")
    return "\n".join(lines)


def _md(text: str) -> str:
    return "".join("\\" + ch if ch in "\\`*_[]<>#|" else ch for ch in str(text))


def classification_report(state, lang, progress=gr.Progress()):
    from plugin.reports import render_report

    t = _t(lang)
    if not state:
        raise gr.Error(t["no_result"], print_exception=False)
    progress(0.3, desc=t["rendering"])
    try:
        made = render_report("classification", lang=lang, image=state["image"], **state["options"])
    except PluginError as exc:
        raise _engine_error(exc) from exc
    return made["path"]


# --- architecture ---------------------------------------------------------------------------

def architecture_view(model, model_file, expand_nested, rankdir, lang, progress=gr.Progress()):
    from PIL import Image

    from plugin.architecture import describe_architecture

    t = _t(lang)
    options = {"model_path": _keep_upload(model_file)} if model_file else {"model": model}
    progress(0.2, desc=t["building"])
    try:
        facts = describe_architecture(detail="layers", include_diagram=True, expand_nested=bool(expand_nested),
                                      rankdir=rankdir, **options)
        progress(0.7, desc=t["drawing"])
        png = describe_architecture(detail="summary", include_diagram=True, diagram_format="png",
                                    expand_nested=bool(expand_nested), rankdir=rankdir, **options)["diagram"]
    except PluginError as exc:
        raise _engine_error(exc) from exc
    stages = [[s["name"], s["output_size"], s["blocks"] if s["blocks"] is not None else "-", s["layout"], s["params"],
               round(s["macs"] / 1e6, 1)] for s in facts["stages"]]
    structure = [[row["label"][lang], row["count"], row["shapes"], row["details"], row["role"][lang]] for row in facts["structure"]]
    layers = [[row["name"], row["type"], json.dumps(row["output_shape"]), row["params"], round(row["macs"] / 1e6, 2),
               ", ".join(row["inbound"])] for row in facts["layers"]]
    published = facts["published"] or {}
    figures = (f"**{_md(facts['model'])}** · {facts['total_params']:,} params · {facts['macs'] / 1e9:.2f} G MACs "
               f"({facts['flops'] / 1e9:.2f} GFLOPs) · depth {facts['depth']} · {facts['num_layers']} layers · "
               f"{facts['size_mb']:.1f} MB")
    if published:
        top1 = f"{published['top1']:.1%}" if published.get("top1") is not None else "-"
        figures += f"\n\nTop-1 {top1} · {_md(published['source'])}"
    image = Image.open(png["path"])
    image.load()
    return figures, image, facts["diagram"]["path"], stages, structure, layers, options


def architecture_report(options, expand_nested, lang, progress=gr.Progress()):
    from plugin.reports import render_report

    t = _t(lang)
    if not options:
        options = {"model": "ResNet50"}
    progress(0.3, desc=t["rendering"])
    try:
        made = render_report("architecture", lang=lang, expand_nested=bool(expand_nested), **options)
    except PluginError as exc:
        raise _engine_error(exc) from exc
    return made["path"]


# --- compare --------------------------------------------------------------------------------

def compare_view(models, image, random_weights, lang, progress=gr.Progress()):
    from plugin.compare import compare_models
    from plugin.reports import comparison_charts_html

    t = _t(lang)
    if not models:
        raise gr.Error(t["no_models"], print_exception=False)
    progress(0.2, desc=t["building"])
    options = {}
    if image is not None:
        options = {"weights": None if random_weights else "imagenet", "allow_random_weights": bool(random_weights)}
    try:
        data = compare_models(list(models), image=image, **options)
    except PluginError as exc:
        raise _engine_error(exc) from exc
    rows = []
    for row in data["models"]:
        cells = [row["model"], round(row["total_params"] / 1e6, 1), round(row["macs"] / 1e9, 2), row["depth"],
                 round(row["size_mb"], 1), row["published"]["top1"], row["inference_ms"]]
        if "predictions" in row:
            cells += [row["predictions"][0]["label"] + (" (untrained)" if row["untrained"] else ""), row["verdict"]["label"]]
        else:
            cells += ["", ""]
        rows.append(cells)
    return rows, comparison_charts_html(data, lang)


# --- reports --------------------------------------------------------------------------------

def _report_entries() -> list[dict]:
    index = get_settings().output_dir / "index.json"
    try:
        entries = json.loads(index.read_text("utf-8")) if index.exists() else []
    except (OSError, json.JSONDecodeError):
        entries = []
    return [e for e in reversed(entries) if (get_settings().output_dir / str(e.get("file", ""))).is_file()]


def reports_view():
    entries = _report_entries()
    table = [[e["title"], e["kind"], e["lang"], e["created"]] for e in entries]
    choices = [(e["title"] + f" ({e['created']})", e["file"]) for e in entries]
    return table, gr.update(choices=choices, value=choices[0][1] if choices else None)


def report_preview(file_name):
    import html

    if not file_name:
        return "", None
    path = get_settings().output_dir / Path(file_name).name
    if not path.is_file():
        return "", None
    page = path.read_text("utf-8")
    frame = (f'<iframe title="report" sandbox="" style="width:100%;height:70vh;border:1px solid #ddd;border-radius:8px" '
             f'srcdoc="{html.escape(page, quote=True)}"></iframe>')
    return frame, str(path)


# --- layout ---------------------------------------------------------------------------------

def build_app(lang: str | None = None) -> gr.Blocks:
    """The app's Blocks, with the tool endpoints that the MCP server exposes."""
    from plugin.gradio_tools import register_tool_endpoints

    lang = lang if lang in LANGUAGES else default_lang()
    t = _t(lang)
    labelled: list[tuple] = []

    def label(component, key):
        labelled.append((component, key))
        return component

    with gr.Blocks(title="CNN Study Lab") as app:
        language = gr.State(lang)
        with gr.Row():
            heading = gr.Markdown(f"# {t['title']}\n{t['intro']}")
            switch = gr.Radio(["ko", "en"], value=lang, label=t["language"], scale=0, elem_id="language")

        with gr.Tab(t["tab_classify"], id="classify") as tab_classify:
            with gr.Row():
                with gr.Column():
                    image = label(gr.Image(type="pil", sources=["upload", "clipboard", "webcam"], label=t["image"],
                                           elem_id="classify-image"), "image")
                    gr.Examples([[str(EXAMPLES_DIR / "cat_chelsea.png")]], inputs=[image])
                    models = label(gr.CheckboxGroup(MODEL_CHOICES, value=["VGG16", "ResNet50"], label=t["models"]), "models")
                    top_k = label(gr.Slider(1, 20, value=5, step=1, label=t["top_k"]), "top_k")
                    random_weights = label(gr.Checkbox(False, label=t["random"], elem_id="random-weights"), "random")
                    with gr.Accordion(t["custom_model"], open=False):
                        model_file = label(gr.File(file_types=[".keras", ".h5"], label=t["custom_model"]), "custom_model")
                        class_names = label(gr.Textbox(label=t["class_names"]), "class_names")
                        preprocessing = label(gr.Dropdown(PREPROCESSING_CHOICES, value="rescale", label=t["preprocessing"]), "preprocessing")
                    classify_button = label(gr.Button(t["classify"], variant="primary", elem_id="classify-button"), "classify")
                with gr.Column():
                    summary = gr.Markdown(t["weights_hint"], elem_id="classify-summary")
                    with gr.Row():
                        outputs = [gr.Label(visible=False, num_top_classes=20, elem_classes="model-label") for _ in range(MAX_LABELS)]
                    report_button = label(gr.Button(t["make_report"], elem_id="classify-report"), "make_report")
                    report_file = label(gr.File(label=t["report_file"], elem_id="classify-report-file"), "report_file")
            last = gr.State(None)
            classify_button.click(classify_view, [image, models, top_k, random_weights, model_file, class_names, preprocessing,
                                                  language], [summary, *outputs, last], api_visibility="private")
            report_button.click(classification_report, [last, language], [report_file], api_visibility="private")

        with gr.Tab(t["tab_architecture"], id="architecture") as tab_architecture:
            with gr.Row():
                arch_model = label(gr.Dropdown(MODEL_CHOICES, value="VGG16", label=t["model"], elem_id="arch-model"), "model")
                arch_file = label(gr.File(file_types=[".keras", ".h5"], label=t["model_file"]), "model_file")
                expand = label(gr.Checkbox(False, label=t["expand_nested"]), "expand_nested")
                rankdir = label(gr.Radio(["TB", "LR"], value="TB", label=t["rankdir"]), "rankdir")
            describe_button = label(gr.Button(t["describe"], variant="primary", elem_id="describe-button"), "describe")
            figures = gr.Markdown(elem_id="arch-figures")
            diagram = label(gr.Image(label=t["diagram"], type="pil", elem_id="arch-diagram", interactive=False), "diagram")
            diagram_file = label(gr.File(label=t["diagram_file"]), "diagram_file")
            stages = label(gr.Dataframe(headers=["stage", "output", "blocks", "layout", "params", "MACs (M)"],
                                        label=t["stages"], wrap=True), "stages")
            structure = label(gr.Dataframe(headers=["kind", "count", "shapes", "details", "role"], label=t["structure"],
                                           wrap=True), "structure")
            layers = label(gr.Dataframe(headers=["layer", "type", "output", "params", "MACs (M)", "connected to"],
                                        label=t["layers"], max_height=500), "layers")
            arch_state = gr.State(None)
            arch_report_button = label(gr.Button(t["make_report"], elem_id="arch-report"), "make_report")
            arch_report_file = label(gr.File(label=t["report_file"], elem_id="arch-report-file"), "report_file")
            describe_button.click(architecture_view, [arch_model, arch_file, expand, rankdir, language],
                                  [figures, diagram, diagram_file, stages, structure, layers, arch_state], api_visibility="private")
            arch_report_button.click(architecture_report, [arch_state, expand, language], [arch_report_file], api_visibility="private")

        with gr.Tab(t["tab_compare"], id="compare") as tab_compare:
            with gr.Row():
                compare_models = label(gr.CheckboxGroup(MODEL_CHOICES, value=["VGG16", "ResNet50", "MobileNetV2"],
                                                        label=t["models"]), "models")
                compare_image = label(gr.Image(type="pil", label=t["compare_image"]), "compare_image")
                compare_random = label(gr.Checkbox(False, label=t["random"]), "random")
            compare_button = label(gr.Button(t["compare"], variant="primary", elem_id="compare-button"), "compare")
            comparison = label(gr.Dataframe(headers=["model", "params (M)", "MACs (G)", "depth", "MB", "top-1 (published)",
                                                     "ms / image", "top-1 here", "dog or cat?"], label=t["comparison"]),
                               "comparison")
            charts = gr.HTML()
            compare_button.click(compare_view, [compare_models, compare_image, compare_random, language], [comparison, charts],
                                 api_visibility="private")

        with gr.Tab(t["tab_reports"], id="reports") as tab_reports:
            refresh = label(gr.Button(t["refresh"], elem_id="reports-refresh"), "refresh")
            listing = label(gr.Dataframe(headers=["title", "kind", "lang", "made"], label=t["reports"]), "reports")
            pick = label(gr.Dropdown(choices=[], label=t["pick_report"], elem_id="reports-pick"), "pick_report")
            preview = gr.HTML(elem_id="reports-preview")
            download = label(gr.File(label=t["download"]), "download")
            refresh.click(reports_view, [], [listing, pick], api_visibility="private")
            tab_reports.select(reports_view, [], [listing, pick], api_visibility="private")
            pick.change(report_preview, [pick], [preview, download], api_visibility="private")

        tabs = [(tab_classify, "tab_classify"), (tab_architecture, "tab_architecture"), (tab_compare, "tab_compare"),
                (tab_reports, "tab_reports")]

        def relabel(chosen):
            texts = _t(chosen)
            updates = [chosen, gr.update(value=f"# {texts['title']}\n{texts['intro']}")]
            updates += [gr.update(label=texts[key]) for _, key in tabs]
            updates += [gr.update(value=texts[key]) if isinstance(component, gr.Button) else gr.update(label=texts[key])
                        for component, key in labelled]
            return updates

        switch.change(relabel, [switch], [language, heading, *[tab for tab, _ in tabs], *[c for c, _ in labelled]],
                      api_visibility="private")
        register_tool_endpoints()
    return app


def launch(host: str = "127.0.0.1", port: int = 7860, share: bool = False, lang: str | None = None,
           image_roots=None, output_dir=None) -> None:
    """Start the web app (and its MCP endpoint) and serve until interrupted."""
    changes = {}
    if output_dir:
        changes["output_dir"] = output_dir
    if changes:
        configure(**changes)
    settings = get_settings()
    roots = list(image_roots or settings.image_roots)
    configure(image_roots=[*roots, settings.output_dir / "uploads"])
    _uploads_dir()
    app = build_app(lang)
    app.queue(default_concurrency_limit=2, max_size=32)
    app.launch(server_name=host, server_port=port, share=share, mcp_server=True, max_file_size="20mb",
               allowed_paths=[str(settings.output_dir)], show_error=True, footer_links=["api", "gradio"])
