"""The Inside tab: what a model sees inside (its first filters, its weights trained against
untrained, a photo's feature maps, receptive fields, one value worked through, the images that
maximise a few channels), and a report of what the tab already has."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gradio as gr

from plugin import api, words
from plugin.config import EXAMPLES_DIR
from plugin.doors.web.choices import MODEL_CHOICES
from plugin.doors.web.markdown import md
from plugin.doors.web.page import Page, engine_error, texts
from plugin.doors.web.serving import photo, render_saved, served
from plugin.errors import PluginError
from plugin.limits import MAX_MAXIMIZE_CHANNELS

__all__ = ["inside_view", "inside_report", "build"]


def inside_view(*, image, model, layer, maximize, lang, progress=gr.Progress()):
    """Look inside once; show the numbers and the pictures; keep the result for the report button."""
    t = texts(lang)
    progress(0.2, desc=t["running"])
    try:
        result = api.look_inside(photo(image, lang), model or None, layer=(layer or "").strip() or None,
                                 maximize=int(maximize or 0) if image else 0, lang=lang)
    except PluginError as exc:
        raise engine_error(exc, lang) from exc
    return inside_text(result, lang), gr.update(value=_gallery(result, lang), visible=True), {"result": result}, None


def _gallery(result: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    """Each picture with what it shows, in the order the views are read."""
    said, pictures = texts(lang), result.get("pictures") or {}
    shown: list[tuple[str, str]] = []
    if pictures.get("filters"):
        shown.append((served(pictures["filters"]), said["inside_filters_caption"]))
    if pictures.get("deeper_filters"):
        shown.append((served(pictures["deeper_filters"]), said["inside_deeper_filters_caption"]))
    if pictures.get("histograms"):
        shown.append((served(pictures["histograms"]), said["inside_histograms_caption"]))
    for path, entry in zip(pictures.get("feature_maps") or [], result.get("feature_maps", [])):
        shown.append((served(path), f"{entry['layer']} · {'x'.join(map(str, entry['output_shape']))}"))
    if pictures.get("receptive_field"):
        shown.append((served(pictures["receptive_field"]), said["inside_receptive_field_caption"]))
    if pictures.get("maximized"):
        shown.append((served(pictures["maximized"]), said["inside_maximized_caption"]))
    return shown


def inside_text(result: Mapping[str, Any], lang: str) -> str:
    """The numbers in Markdown, as short stacked lines a phone reads whole."""
    cli = words.section("cli", lang)
    lines = [f"### {md(cli['inside_title'].format(model=result['model']))}", ""]
    if "filters" in result:
        view = result["filters"]
        lines.append("- " + md(cli["inside_filters"].format(layer=view["layer"], count=len(view["shown"]),
                                                             shape="x".join(map(str, view["shape"][:3])))))
    if "histograms" in result:
        pair = result["histograms"]
        lines.append("- " + md(cli["inside_histograms"].format(
            layer=pair["layer"], initializer=pair["initializer"], trained_mean=f"{pair['trained']['mean']:.4f}",
            trained_std=f"{pair['trained']['std']:.4f}", untrained_mean=f"{pair['untrained']['mean']:.4f}",
            untrained_std=f"{pair['untrained']['std']:.4f}")))
    for entry in result.get("feature_maps", []):
        field = entry.get("receptive_field")
        lines.append("- " + md(cli["inside_feature_map"].format(
            layer=entry["layer"], stage=entry["stage"] or "-", shape="x".join(map(str, entry["output_shape"])),
            field=cli["inside_field"].format(size=field["size"], stride=field["stride"]) if field else "-",
            channels=", ".join(map(str, entry["channels"][:8])))))
    walked = result.get("walk")
    if walked:
        lines += ["", "- " + md(cli["inside_walk"].format(
            layer=walked["layer"], channel=walked["channel"], row=walked["cell"][0], column=walked["cell"][1],
            value=f"{walked['value']:.4f}", model_value=f"{walked['model_value']:.4f}",
            difference=f"{walked['difference']:.1e}"))]
        steps = cli["inside_steps"]
        lines.append(f"  - {md(steps['conv'])} ({md(walked['layer'])}): `Σ patch · kernel + bias` = `{walked['conv']:.4f}`")
        lines += [f"  - {md(steps.get(step['name'], step['name']))} ({md(step['layer'])}): `{step.get('formula', '')}` = `{step['value']:.4f}`"
                  for step in walked["steps"]]
    for found in result.get("maximized", []):
        lines.append("- " + md(cli["inside_maximized"].format(
            layer=found["layer"], channel=found["channel"], start=f"{found['activation_start']:.3f}",
            end=f"{found['activation_end']:.3f}", steps=found["steps"], seconds=f"{found['seconds']:.1f}")))
    timings = ", ".join(f"{view} {seconds:.2f} s" for view, seconds in result["timings"].items())
    lines += ["", f"<small>{md(cli['inside_timings'].format(timings=timings))}</small>"]
    return "\n".join(lines)


def inside_report(state, lang, request: gr.Request, progress=gr.Progress()):
    """Render what the tab already has: nothing is computed again."""
    return render_saved("inside", "inside_no_result", state, lang, request, progress)


def build(page: Page, language: gr.State) -> None:
    """The tab's components and events."""
    t = page.t
    with page.tab("tab_inside", "inside"):
        with gr.Row():
            with gr.Column(min_width=320):
                image = page.label(gr.Image(type="filepath", image_mode=None, label=t["inside_image"], elem_id="inside-image"),
                                   "inside_image")
                examples = gr.Examples([[served(str(EXAMPLES_DIR / "dog_bicycle.jpg"))]], inputs=[image], label=t["examples"])
                page.label(examples.dataset, "examples")
            with gr.Column(min_width=320):
                model = page.label(gr.Dropdown(MODEL_CHOICES, value=api.default_models()[0][0], label=t["inside_model"],
                                               elem_id="inside-model"), "inside_model")
                layer = page.say(gr.Textbox(label=t["inside_layer"], placeholder=t["inside_layer_hint"], max_length=120,
                                            elem_id="inside-layer"), label="inside_layer", placeholder="inside_layer_hint")
                maximize = page.label(gr.Slider(0, MAX_MAXIMIZE_CHANNELS, value=0, step=1, label=t["inside_maximize"],
                                                elem_id="inside-maximize"), "inside_maximize")
                run = page.label(gr.Button(t["inside_run"], variant="primary", elem_id="inside-button"), "inside_run")
        summary = gr.Markdown(elem_id="inside-summary")
        pictures = page.label(gr.Gallery(label=t["inside_pictures"], visible=False, columns=1, height="auto",
                                         elem_id="inside-pictures"), "inside_pictures")
        looked = gr.State(None)
        report_button = page.label(gr.Button(t["make_report"], elem_id="inside-report"), "make_report")
        report_file = page.label(gr.File(label=t["report_file"], file_count="multiple", elem_id="inside-report-file"), "report_file")
        page.engine_event(run.click, inside_view, {"image": image, "model": model, "layer": layer, "maximize": maximize,
                                                   "lang": language}, [summary, pictures, looked, report_file])
        report_button.click(inside_report, [looked, language], [report_file], api_visibility="private")
