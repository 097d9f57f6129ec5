"""The Architecture tab: a model's figures (its depth as the paper names it and as Keras counts it),
stages, structure and layers (each with its receptive field), `model.summary()`, its diagram, and a
report of the model chosen."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
from markupsafe import Markup, escape

from plugin import api, words
from plugin.doors.web.choices import MODEL_CHOICES
from plugin.doors.web.markdown import md
from plugin.doors.web.page import Page, engine_error, table_value, texts
from plugin.doors.web.serving import keep_upload, render_saved, served
from plugin.errors import PluginError
from plugin.limits import DEFAULT_ARCHITECTURE_MODEL
from plugin.render.stage_view import stage_view_note, stage_view_svg
from plugin.render.svg import inline_svg
from plugin.render.tables import keras_summary_html, stage_table_html, structure_table_html
from plugin.words.architecture import depth_line, keras_shape, receptive_field_text, shown_depth

__all__ = ["architecture_view", "architecture_report", "report_of_chosen", "build"]

VIEW_OUTPUTS = 8
"""What `architecture_view` shows before the facts it returns last: figures, stage view, diagram,
diagram file, stage table, structure table, layer table, `model.summary()`."""


def architecture_view(*, model, model_file, expand_nested, rankdir, lang, request: gr.Request, progress=gr.Progress()):
    """Describe once and draw the diagram once, as SVG: shown inline at full size in a scroll box
    (readable on a phone too, where a picture scaled to the screen is not), and offered as a file."""
    t = texts(lang)
    options = {"model_path": keep_upload(model_file, request)} if model_file else {"model": model}
    progress(0.2, desc=t["building"])
    try:
        facts = api.describe_architecture(detail="full" if expand_nested else "layers", include_diagram=True,
                                          diagram_format="svg", expand_nested=bool(expand_nested),
                                          rankdir=rankdir, **options)
    except PluginError as exc:
        raise engine_error(exc, lang) from exc
    progress(0.9, desc=t["drawing"])
    layers = [[row["name"], row["type"], keras_shape(row["output_shape"]), receptive_field_text(row.get("receptive_field"), lang),
               row["params"], round(row["macs"] / 1e6, 2), ", ".join(row["inbound"])]
              for row in facts["layers"] or []]  # detail "layers" or "full": a table
    figures = t["figures"].format(model=md(facts["model"]), params=f"{facts['total_params']:,}",
                                  macs=f"{facts['macs'] / 1e9:.2f}", flops=f"{facts['flops'] / 1e9:.2f}",
                                  depth=shown_depth(facts), layers=facts["num_layers"], size=f"{facts['size_mb']:.1f}")
    figures += "\n\n" + md(depth_line(facts, lang))
    published = facts["published"]
    if published:
        top1 = f"{published['top1']:.1%}" if published.get("top1") is not None else "-"
        figures += "\n\n" + t["published_line"].format(top1=top1, source=md(words.text(f"sources.{published['source_key']}", lang)))
    diagram = facts["diagram"]
    assert diagram is not None  # include_diagram=True
    files = diagram["files"]
    said = words.section("report", lang)
    return (figures, stage_view_html(facts, lang), diagram_html(files["svg"]["path"], facts["model"], lang),
            served(files["svg"]["path"]), titled(said["stages"], stage_table_html(facts, lang, table_id="arch-stage-table")),
            titled(said["structure"], structure_table_html(facts, lang, table_id="arch-structure-table")),
            table_value(t["layers_headers"], layers), keras_summary_html(facts, lang, summary_id="arch-keras-summary"), facts)


def titled(title: str, table: str) -> str:
    """A table under its heading, as the reports show it."""
    return Markup("<h3>{}</h3>{}").format(title, table)


def _chosen(model, model_file, expand_nested, rankdir) -> list:
    """What the tab is asked to describe, to tell whether the facts it holds are of that choice."""
    return [model, model_file, bool(expand_nested), rankdir]


def describe_view(*, model, model_file, expand_nested, rankdir, lang, request: gr.Request, progress=gr.Progress()):
    """Describe the model chosen; remember what was chosen, and take away the report of another."""
    shown = architecture_view(model=model, model_file=model_file, expand_nested=expand_nested, rankdir=rankdir,
                              lang=lang, request=request, progress=progress)
    return (*shown, _chosen(model, model_file, expand_nested, rankdir), None)


def report_of_chosen(*, model, model_file, expand_nested, rankdir, lang, described, chosen, request: gr.Request,
                     progress=gr.Progress()):
    """The report of the model chosen now: from the facts the tab shows when they are of that choice
    (no second describe), else the chosen model is described first, shown, and reported."""
    now = _chosen(model, model_file, expand_nested, rankdir)
    if described and chosen == now:
        shown: tuple = (gr.skip(),) * (VIEW_OUTPUTS + 2)
        facts = described
    else:
        *view, facts = architecture_view(model=model, model_file=model_file, expand_nested=expand_nested,
                                         rankdir=rankdir, lang=lang, request=request, progress=progress)
        shown = (*view, facts, now)
    return (*shown, architecture_report(facts, lang, request, progress))


def diagram_html(svg_path: str, model: str, lang: str) -> str:
    """The whole plot_model diagram, sanitised and inline, at least 640 px wide in a box that
    scrolls both ways (as in the reports), with its heading and how to read it."""
    t = words.section("report", lang)
    drawing = inline_svg(Path(svg_path).read_bytes(), label=f"{model}: {t['diagram']}")
    return Markup('<h3>{}</h3><p>{}</p><div class="diagram-box" tabindex="0">{}</div>').format(
        t["diagram"], t["diagram_scroll"], drawing)


def stage_view_html(facts, lang: str) -> str:
    """The stage view (one box per stage, one residual block drawn out) with its heading and what
    it shows; empty for a model of one stage."""
    t = words.section("report", lang)
    drawing = stage_view_svg(facts, t)
    if drawing is None:
        return ""
    return Markup('<h3>{}</h3><div class="stage-view" style="max-width:400px">{}</div><p>{}</p>').format(
        t["stage_view_title"], drawing, escape(stage_view_note(facts, t)))


def rankdir_choices(lang: str) -> list[tuple[str, str]]:
    """The diagram's directions in words, with Graphviz's names as values."""
    t = texts(lang)
    return [(t["rankdir_tb"], "TB"), (t["rankdir_lr"], "LR")]


def architecture_report(facts, lang, request: gr.Request, progress=gr.Progress()):
    """Render the facts the Architecture tab already has: no second describe."""
    return render_saved("architecture", "no_facts", {"facts": facts} if facts else None, lang, request, progress)


def build(page: Page, language: gr.State) -> None:
    """The tab's components and events."""
    t = page.t
    with page.tab("tab_architecture", "architecture"):
        with gr.Row():
            arch_model = page.label(gr.Dropdown(MODEL_CHOICES, value=DEFAULT_ARCHITECTURE_MODEL, label=t["model"],
                                           elem_id="arch-model"), "model")
            arch_file = page.label(gr.File(file_types=[".keras", ".h5"], label=t["model_file"]), "model_file")
            expand = page.label(gr.Checkbox(False, label=t["expand_nested"]), "expand_nested")
            rankdir = page.also(gr.Radio(rankdir_choices(page.lang), value="TB", label=t["rankdir"]),
                                lambda lang: gr.update(label=texts(lang)["rankdir"], choices=rankdir_choices(lang)))
        describe_button = page.label(gr.Button(t["describe"], variant="primary", elem_id="describe-button"), "describe")
        figures = gr.Markdown(elem_id="arch-figures")
        stage_view = gr.HTML(elem_id="arch-stage-view")
        diagram = gr.HTML(elem_id="arch-diagram")
        diagram_file = page.label(gr.File(label=t["diagram_file"]), "diagram_file")
        stages = gr.HTML(elem_id="arch-stages")  # tables that become cards on a phone (plugin.render.tables)
        structure = gr.HTML(elem_id="arch-structure")
        layers = page.table("layers", "layers_headers", max_height=500, elem_id="arch-layers")
        summary = gr.HTML(elem_id="arch-summary")
        described = gr.State(None)
        chosen = gr.State(None)  # what `described` describes: a report is of the model chosen now, never of the last one
        arch_report_button = page.label(gr.Button(t["make_report"], elem_id="arch-report"), "make_report")
        arch_report_file = page.label(gr.File(label=t["report_file"], elem_id="arch-report-file"), "report_file")
        asked = {"model": arch_model, "model_file": arch_file, "expand_nested": expand, "rankdir": rankdir, "lang": language}
        shown = [figures, stage_view, diagram, diagram_file, stages, structure, layers, summary, described, chosen]
        page.engine_event(describe_button.click, describe_view, asked, [*shown, arch_report_file])
        page.engine_event(arch_report_button.click, report_of_chosen, {**asked, "described": described, "chosen": chosen},
                          [*shown, arch_report_file])
        for choice in (arch_model, arch_file, expand, rankdir):  # another choice: the last model's report link goes
            choice.change(lambda: None, None, [arch_report_file], api_visibility="private")
