"""The Compare tab: models side by side (size, cost, speed here), optionally on a photo, and a report.

The picker starts with models that can answer a photo here (the usual ones where their weights are
ready, else those whose weights are), so the first click answers offline too; a model that cannot
answer keeps its architecture columns, which need no trained weights, and gets a card saying why."""

from __future__ import annotations

import gradio as gr

from plugin import api, words
from plugin.doors.web.markdown import failure_cards
from plugin.doors.web.page import Page, engine_error, table_value, texts
from plugin.doors.web.serving import photo, render_saved
from plugin.errors import PluginError
from plugin.limits import DEFAULT_MODELS
from plugin.render.charts import charts_html, comparison_charts

__all__ = ["compare_view", "comparison_report", "ready_models", "build"]

USUAL = (*DEFAULT_MODELS, "MobileNetV2")
"""The models a comparison starts with where their weights are ready: the study's pair and a small one."""


def ready_models(preferred=USUAL, count: int = len(USUAL)) -> list[str]:
    """Up to `count` models whose ImageNet weights are ready on this machine, those of `preferred`
    first; `preferred` itself where none is ready."""
    ready = [model["name"] for model in api.list_models()["models"] if model["weights"]["available"]]
    ordered = [name for name in preferred if name in ready] + [name for name in ready if name not in preferred]
    return ordered[:count] or list(preferred)


def compare_view(*, models, image, random_weights, lang, progress=gr.Progress()):
    """Compare once: the table (its architecture columns need no weights; with a photo, each
    model's answer, or a card saying why it has none) and the charts; keep the result for the
    report button, and take away the report of an earlier comparison."""
    t = texts(lang)
    if not models:
        raise gr.Error(t["no_models"], print_exception=False)
    image = photo(image, lang)
    progress(0.2, desc=t["building"])
    options = {}
    if image is not None:
        options = {"weights": "random" if random_weights else "imagenet", "allow_random_weights": bool(random_weights)}
    try:
        data = api.compare_models(list(models), image=image, **options)
    except PluginError as exc:
        raise engine_error(exc, lang) from exc
    rows = []
    for row in data["models"]:
        cells = [row["model"], round(row["total_params"] / 1e6, 1), round(row["macs"] / 1e9, 2), row["depth"],
                 round(row["size_mb"], 1), words.percent(row["published"]["top1"]), row["inference_ms"]]
        if "error" in row:
            cells += [words.text("report.no_answer", lang), "—"]
        elif "predictions" in row:
            untrained = f" ({t['untrained_short']})" if row["untrained"] else ""
            verdict = row["verdict"]
            assert verdict is not None  # registry models have an ImageNet head, so a verdict
            cells += [api.display_name(row["predictions"][0], lang) + untrained, t[verdict["label"]]]
        else:
            cells += ["", ""]
        rows.append(cells)
    charts = charts_html(comparison_charts(data["models"], words.section("report", lang)))
    cards = "\n".join(failure_cards(data["models"], lang))
    state = {"result": data, "image": image}
    return table_value(t["compare_headers"], rows), gr.update(value=cards, visible=bool(cards)), charts, state, None  # no report of an older comparison stays offered


def comparison_report(state, lang, request: gr.Request, progress=gr.Progress()):
    """Render the comparison the Compare tab already has: nothing is measured again."""
    return render_saved("comparison", "no_comparison", state, lang, request, progress)


def build(page: Page, language: gr.State) -> None:
    """The tab's components and events."""
    t = page.t
    with page.tab("tab_compare", "compare"):
        with gr.Row():  # side by side on a screen, one under the other on a phone
            with gr.Column(min_width=320):
                compare_models = page.models_picker(ready_models(), "compare-models")
            with gr.Column(min_width=320):
                compare_image = page.label(gr.Image(type="filepath", image_mode=None, label=t["compare_image"], elem_id="compare-image"),
                                           "compare_image")
                compare_random = page.label(gr.Checkbox(False, label=t["random"]), "random")
        compare_button = page.label(gr.Button(t["compare"], variant="primary", elem_id="compare-button"), "compare")
        comparison = page.table("comparison", "compare_headers", elem_id="compare-table")
        failures = gr.Markdown(visible=False, elem_id="compare-failures")
        charts = gr.HTML()
        compared = gr.State(None)
        compare_report_button = page.label(gr.Button(t["make_report"], elem_id="compare-report"), "make_report")
        compare_report_file = page.label(gr.File(label=t["report_file"], elem_id="compare-report-file"), "report_file")
        page.engine_event(compare_button.click, compare_view, {"models": compare_models, "image": compare_image,
                                                                "random_weights": compare_random, "lang": language},
                     [comparison, failures, charts, compared, compare_report_file])
        compare_report_button.click(comparison_report, [compared, language], [compare_report_file], api_visibility="private")
