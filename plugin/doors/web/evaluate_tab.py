"""The Evaluate tab: accuracy on a folder or a zip of labelled photos, fine-tuning a head on them
(then evaluating base and fine-tuned model in the same call), and a report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gradio as gr

from plugin import api, words
from plugin.doors.http_uploads import mark_used
from plugin.doors.web.choices import MODEL_CHOICES, engine_choices, resize_choices
from plugin.doors.web.markdown import failure_cards, md
from plugin.doors.web.page import Page, engine_error, table_value, texts
from plugin.doors.web.serving import render_saved, served
from plugin.doors.web.sessions import session_dir, session_folder
from plugin.errors import PluginError
from plugin.limits import (
    DEFAULT_FINE_TUNE_EPOCHS,
    DEFAULT_PRECISION,
    FINE_TUNE_BASE,
    MAX_FINE_TUNE_EPOCHS,
    MAX_PATH_CHARS,
    PRECISIONS,
)
from plugin.render.reports import confusion_html

__all__ = ["evaluate_view", "evaluation_summary", "evaluation_report", "fine_tune_view", "fine_tune_text", "build"]


def _source(folder, archive, request: gr.Request | None) -> str:
    """The photos to use: an uploaded zip (unpacked into this session's uploads) or a folder under the roots."""
    if archive:
        mark_used(archive)
        return str(api.extract_images(archive, session_dir(request, "uploads")))
    if not (folder or "").strip():
        raise PluginError("Expected a folder of photos or a zip. Received: neither.", key="no_source")
    return folder.strip()[:MAX_PATH_CHARS]


def folder_choices() -> list[tuple[str, str]]:
    """The labelled folders below the image roots, as "eval · examples (cat, dog)": what to ask for, and where it is."""
    return [(f"{folder['name']} · {folder['root']} ({', '.join(folder['labels'][:4])}"
             f"{', …' if len(folder['labels']) > 4 else ''})", folder["name"]) for folder in api.labelled_folders()]


def evaluate_view(*, folder, archive, models, engine, precision, lang, request: gr.Request, resize=None, progress=gr.Progress()):
    """Evaluate once; show the accuracy table and confusion matrices; keep the result for the report."""
    t = texts(lang)
    if not models:
        raise gr.Error(t["no_models"], print_exception=False)
    progress(0.0, desc=t["running"])
    try:
        result = api.evaluate(_source(folder, archive, request), models=list(models), engine=engine,
                              precision=precision if precision in PRECISIONS else DEFAULT_PRECISION,
                              resize=resize if resize in api.RESIZES else None,
                              progress=lambda done, total, model: progress(done / max(total, 1), desc=f"{model} {done}/{total}"))
    except PluginError as exc:
        raise engine_error(exc, lang) from exc
    rows = [[model["model"], words.percent(model["accuracy"]["verdict"]), words.percent(model["accuracy"]["top1"]),
             words.percent(model["accuracy"]["top5"]), published_text(model), model["mistake_count"], model["images_per_second"]]
            for model in api.answers(result["models"])]
    return evaluation_summary(result, lang), table_value(t["evaluate_headers"], rows), confusion_html(result, lang), {"result": result}


def published_text(model: Mapping[str, Any]) -> str:
    """A registry model's published top-1 / top-5 ("75.1% / -"), to read beside the measured ones; "" for a model file."""
    published = model.get("published")
    return f"{words.percent(published['top1'])} / {words.percent(published['top5'])}" if published else ""


def evaluation_summary(result: Mapping[str, Any], lang: str) -> str:
    """The Markdown above the table: how many photos from where, per label, then a card for each
    model that could not answer and the int8 notes. The folder and label names are the user's,
    written as text (escaped as the report's Markdown escapes them), never as markup."""
    report = words.section("report", lang)
    intro = report["evaluation_intro"].format(images=result["images"], source=md(result["source"])) + " " + \
        " · ".join(f"{md(report.get(label, label))} {count}" for label, count in result["label_counts"].items())
    notes = [f"> {md(words.text('report.int8_refused_short' if model.get('precision_note') else 'report.int8_evaluated', lang, model=model['model']))}"
             for model in api.answers(result["models"]) if model.get("precision_note") or model.get("precision") == "int8"]
    return "\n\n".join([intro, *failure_cards(result["models"], lang), *notes])


def evaluation_report(state, lang, request: gr.Request, progress=gr.Progress()):
    """Render the evaluation the tab already has: nothing is classified again."""
    return render_saved("evaluation", "no_evaluation", state, lang, request, progress)


def fine_tune_view(*, folder, archive, base, epochs, lang, request: gr.Request, resize=None, progress=gr.Progress()):
    """Train a head on the photos, then evaluate base and fine-tuned model once, for the report."""
    t = texts(lang)
    try:
        source = _source(folder, archive, request)
        result = api.fine_tune(source, base, int(epochs), output_dir=session_folder(request), evaluate=True,
                               resize=resize if resize in api.RESIZES else None,
                               progress=lambda step, steps, stage: progress(step / max(steps, 1), desc=t[f"tune_{stage}"]))
    except PluginError as exc:
        raise engine_error(exc, lang) from exc
    return fine_tune_text(result, lang), served(result["model_path"]), {"result": result["evaluation"]}


def fine_tune_text(result: Mapping[str, Any], lang: str) -> str:
    """The Markdown under the fine-tune button: the classes (the user's sub-folder names, written as
    text), the epochs run and the accuracy before and after."""
    return texts(lang)["tune_result"].format(
        classes=", ".join(md(name) for name in result["class_names"]), epochs=result["history"]["epochs_run"],
        base=md(result["base"]), base_accuracy=words.percent(result["accuracy"]["base"]),
        tuned=words.percent(result["accuracy"]["fine_tuned"]), validation=result["images"]["validation"])


def build(page: Page, language: gr.State) -> None:
    """The tab's components and events."""
    t, lang = page.t, page.lang
    with page.tab("tab_evaluate", "evaluate") as tab:
        with gr.Row():
            eval_folder = page.say(gr.Dropdown(folder_choices(), value=None, allow_custom_value=True, label=t["eval_folder"],
                                               info=t["eval_folder_hint"], elem_id="eval-folder"),
                                   label="eval_folder", info="eval_folder_hint")
            eval_zip = page.label(gr.File(file_types=[".zip"], label=t["eval_zip"], elem_id="eval-zip"), "eval_zip")
        with gr.Row():
            eval_models = page.models_picker(api.default_models()[0], "eval-models")
            eval_engine = page.also(gr.Radio(engine_choices(lang), value="local", label=t["eval_engine"], elem_id="eval-engine"),
                                    lambda chosen: gr.update(label=texts(chosen)["eval_engine"], choices=engine_choices(chosen)))
            eval_precision = page.say(gr.Radio(list(PRECISIONS), value=DEFAULT_PRECISION, label=t["precision"],
                                               info=t["precision_info"], elem_id="eval-precision"), label="precision", info="precision_info")
            eval_resize = page.also(gr.Radio(resize_choices(lang), value="crop", label=t["resize"], info=t["resize_info"],
                                             elem_id="eval-resize"),
                                    lambda chosen: gr.update(label=texts(chosen)["resize"], info=texts(chosen)["resize_info"],
                                                             choices=resize_choices(chosen)))
        eval_button = page.label(gr.Button(t["evaluate"], variant="primary", elem_id="eval-button"), "evaluate")
        eval_summary = gr.Markdown(elem_id="eval-summary")
        eval_table = page.table("evaluation", "evaluate_headers", elem_id="eval-table")
        eval_matrices = gr.HTML(elem_id="eval-matrices")
        evaluated = gr.State(None)
        eval_report_button = page.label(gr.Button(t["make_report"], elem_id="eval-report"), "make_report")
        eval_report_file = page.label(gr.File(label=t["report_file"], elem_id="eval-report-file"), "report_file")
        tab.select(lambda: gr.update(choices=folder_choices()), None, [eval_folder], api_visibility="private")  # folders added since
        page.engine_event(eval_button.click, evaluate_view, {"folder": eval_folder, "archive": eval_zip, "models": eval_models,
                                                              "engine": eval_engine, "precision": eval_precision, "resize": eval_resize,
                                                              "lang": language},
                     [eval_summary, eval_table, eval_matrices, evaluated])
        eval_report_button.click(evaluation_report, [evaluated, language], [eval_report_file], api_visibility="private")
        with page.label(gr.Accordion(t["tune"], open=False, elem_id="tune-fold"), "tune"):
            page.say(gr.Markdown(t["tune_hint"]), value="tune_hint")
            with gr.Row():
                tune_base = page.label(gr.Dropdown([name for name in MODEL_CHOICES if api.MODEL_FAMILIES[name] == "EfficientNet-Lite"],
                                              value=FINE_TUNE_BASE, label=t["tune_base"], elem_id="tune-base"), "tune_base")
                tune_epochs = page.label(gr.Slider(1, MAX_FINE_TUNE_EPOCHS, value=DEFAULT_FINE_TUNE_EPOCHS, step=1,
                                              label=t["tune_epochs"]), "tune_epochs")
            tune_button = page.label(gr.Button(t["tune_run"], elem_id="tune-button"), "tune_run")
            tune_result = gr.Markdown(elem_id="tune-result")
            tune_file = page.label(gr.File(label=t["tune_file"], elem_id="tune-file"), "tune_file")
            page.engine_event(tune_button.click, fine_tune_view, {"folder": eval_folder, "archive": eval_zip, "base": tune_base,
                                                                  "epochs": tune_epochs, "resize": eval_resize, "lang": language},
                         [tune_result, tune_file, evaluated])
