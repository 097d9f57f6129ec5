"""The Classify tab: a photo studied by the chosen models (classified, and explained on request), the
preprocessing experiment on the same photo, and a report of what the tab already has."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import gradio as gr

from plugin import api, words
from plugin.api import display_name
from plugin.config import EXAMPLES_DIR
from plugin.doors.web import where_it_looked
from plugin.doors.web.choices import MODEL_CHOICES, PREPROCESSING_CHOICES, resize_choices
from plugin.doors.web.markdown import failure_cards, md
from plugin.doors.web.page import Page, engine_error, texts
from plugin.doors.web.serving import keep_upload, photo, render_saved, served
from plugin.errors import PluginError
from plugin.limits import DEFAULT_PRECISION, DEFAULT_TOP_K, MAX_PATH_CHARS, MAX_TOP_K, PRECISIONS
from plugin.render.overlay import draw_regions as regions_picture

__all__ = ["ClassifyForm", "classify_view", "preprocessing_view", "classification_report", "build", "MAX_LABELS"]

MAX_LABELS = 4
"""Models whose answers get a card of their own."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClassifyForm:
    """What the tab's form holds when its button is pressed."""

    image: str | None
    models: list[str] | None = None
    top_k: float = DEFAULT_TOP_K
    random_weights: bool = False
    model_file: str | None = None
    class_names: str | None = None
    preprocessing: str | None = None
    expected: str | None = None
    explain: bool = False
    methods: list[str] | None = None
    targets: list[str] | None = None
    metrics: bool = False
    sanity: bool = False
    precision: str | None = DEFAULT_PRECISION
    resize: str | None = None


def classify_view(form: ClassifyForm, lang: str, request: gr.Request | None, progress=gr.Progress()):
    """Classify the photo once (and, with the switch on, show where each model looked: the methods,
    classes, numbers and sanity check chosen); keep the result, the photo and the heat maps for the
    report button, and hand the maps to the cards (`where_it_looked.draw`)."""
    t = texts(lang)
    image, models, top_k, random_weights = form.image, form.models, form.top_k, form.random_weights
    model_file, class_names, preprocessing, expected = form.model_file, form.class_names, form.preprocessing, form.expected
    explain, precision = form.explain, form.precision
    if image is None:
        raise gr.Error(t["no_image"], print_exception=False)
    image = photo(image, lang)
    if not models and not model_file:
        raise gr.Error(t["no_models"], print_exception=False)
    options: dict[str, Any] = {"top_k": int(top_k), "weights": "random" if random_weights else "imagenet",
               "allow_random_weights": bool(random_weights), "models": list(models or []),
               "precision": precision or DEFAULT_PRECISION,  # int8 with random weights: the engine says why not
               "resize": form.resize or None}
    if model_file:
        names = [name.strip() for name in (class_names or "").split(",") if name.strip()] or None
        options = {"top_k": int(top_k), "model_path": keep_upload(model_file, request), "class_names": names,
                   "preprocessing": preprocessing or "rescale"}
    options["expected"] = (expected or "").strip() or None
    progress(0.2, desc=t["building"])
    if explain:
        progress(0.4, desc=t["explaining"])
    methods, targets = list(form.methods or []) or None, list(form.targets or []) or ["answer"]
    try:  # the model's answer alone: each answer, and the right one beside it where a model missed
        study = api.study_image(image, explain=bool(explain), methods=methods, targets=None if targets == ["answer"] else targets,
                                metrics=bool(form.metrics), sanity=bool(form.sanity), **options)
        explanations = study["explanations"] or []
    except PluginError as exc:
        raise engine_error(exc, lang) from exc
    result = study["result"]
    progress(1.0, desc=t["running"])
    labels = []
    for outcome in api.answers(result["results"])[:MAX_LABELS]:
        name = f"{outcome['model']} · {outcome['inference_ms']:.0f} ms {words.run_by(outcome, lang)}".rstrip() + (
            f" · {t['untrained_short']}" if outcome["untrained"] else "")
        labels.append(gr.update(value={display_name(p, lang): p["probability"] for p in outcome["predictions"]},
                                label=name, visible=True))
    labels += [gr.update(value=None, visible=False)] * (MAX_LABELS - len(labels))
    state = {"result": result, "image": study["image"], "explanations": explanations or None}
    return [_summary(result, lang), *labels, explanations, state]


def _summary(result: Mapping[str, Any], lang: str) -> str:
    """The answer in Markdown, from the classification's one view (`api.classification_view`)."""
    t = texts(lang)
    view = api.classification_view(result, lang)
    answered = [card for card in view["cards"] if card["failure"] is None]
    lines = [f"### {md(view['sentence'])}", ""]
    if view["region"]:
        lines += [f"> {md(view['region'])}" if view["region_warning"] else f"<small>{md(view['region'])}</small>", ""]
    lines += [f"> ⚠️ **{md(card['model'])}: {t['untrained']}**" for card in answered if card["untrained"]]
    lines += failure_cards(result["results"], lang)
    lines += [f"> {md(card['precision'])}" for card in answered if card["precision"]]
    lines.append("")
    for card in answered:
        top, outcome = card["predictions"][0], card["result"]
        text = f"- **{md(card['model'])}**: {md(top['name'])} ({top['probability']:.1%})"
        if card["verdict"]:
            text += f" · {t['verdict']} **{card['verdict']}** ({md(card['basis'])})"
        if outcome.get("correct"):
            right = words.text("report.right" if outcome["correct"]["top1"] else "report.wrong", lang)
            text += f" · {words.text('report.correct_top1', lang)} **{right}**"
        lines.append(text + f" · {outcome['inference_ms']:.1f} ms")
    if view["verdict_rule"]:
        lines += ["", f"<small>{md(view['verdict_rule'])}</small>"]
    return "\n".join(lines)


def preprocessing_view(*, state, model, lang, progress=gr.Progress()):
    """The preprocessing experiment on the photo the Classify tab already has: each mode as a short
    block (a phone reads it whole), then the photo with the region each way of resizing hands the
    model drawn on it, and what the model answered for each."""
    t = texts(lang)
    if not state:
        raise gr.Error(t["no_result"], print_exception=False)
    result = state["result"]
    first = api.answers(result["results"])[0]
    chosen = model or first["model"]
    weights = first["weights"] if first["weights"] in ("imagenet", "random") else "imagenet"
    progress(0.3, desc=t["running"])
    try:
        study = api.compare_preprocessing(state["image"], chosen, top_k=3, weights=weights,
                                          allow_random_weights=weights == "random", resize=first["region"]["resize"])
    except PluginError as exc:
        raise engine_error(exc, lang) from exc
    said = words.section("report", lang)
    lines = [f"#### {md(said['study_ran_by'].format(model=study['model']))}", "", md(said["preprocessing_study_hint"].format(model=study["model"])), ""]
    for row in study["modes"]:
        top = row["predictions"][0]
        own = f" ({md(said['own_mode'])})" if row["own"] else ""
        lines.append(f"- **{row['mode']}**{own}: {md(display_name(top, lang))} {top['probability']:.1%} · {t[row['verdict']['label']]}  \n"
                     f"  `{row['formula']}`" + (f" · `{words.pixel_text(row['pixel'])}` {row['channel_order']}" if row.get("pixel") else ""))
    pixel = study.get("pixel")
    if pixel:
        lines += ["", f"<small>{md(said['pixel_hint'].format(x=pixel['at'][0], y=pixel['at'][1], rgb=words.pixel_text(pixel['rgb'])))}</small>"]
    lines += ["", f"#### {md(said['resize_study'])}", "", md(said["resize_study_hint"].format(model=study["model"])), ""]
    for way in study["resizes"]:
        top = way["predictions"][0]
        own = f" ({md(said['resize_own'])})" if way["own"] else ""
        lines.append(f"- **{md(said['resize_' + way['resize']])}**{own}: {md(display_name(top, lang))} {top['probability']:.1%} · "
                     f"{t[way['verdict']['label']]}  \n  {md(api.region_text(way['region'], lang))}")
    regions = regions_picture(state["image"].image, [(way["resize"], way["region"]["box"]) for way in study["resizes"]])
    return "\n".join(lines), gr.update(value=regions, visible=True), {**state, "preprocessing_study": study}


def classification_report(state, lang, request: gr.Request, progress=gr.Progress()):
    """Render the result the Classify tab already has (with its heat maps and preprocessing
    experiment, if made): no second classification."""
    return render_saved("classification", "no_result", {key: value for key, value in (state or {}).items() if value is not None} or None,
                   lang, request, progress)


def build(page: Page, language: gr.State) -> None:
    """The tab's components and events."""
    t = page.t
    with page.tab("tab_classify", "classify"):
        with gr.Row():
            with gr.Column():
                image = page.label(gr.Image(type="filepath", image_mode=None, sources=["upload", "clipboard", "webcam"],
                                       label=t["image"], elem_id="classify-image"), "image")
                # served from where Gradio takes files: it refuses an example from the package's folder
                examples = gr.Examples([[served(str(EXAMPLES_DIR / "cat_chelsea.png"))]], inputs=[image], label=t["examples"])
                page.label(examples.dataset, "examples")
                models = page.models_picker(api.default_models()[0], "classify-models")
                top_k = page.label(gr.Slider(1, MAX_TOP_K, value=DEFAULT_TOP_K, step=1, label=t["top_k"]), "top_k")
                precision = page.say(gr.Radio(list(PRECISIONS), value=DEFAULT_PRECISION, label=t["precision"], info=t["precision_info"],
                                              elem_id="classify-precision"), label="precision", info="precision_info")
                resize = page.also(gr.Radio(resize_choices(page.lang), value="crop", label=t["resize"], info=t["resize_info"],
                                            elem_id="classify-resize"),
                                   lambda chosen: gr.update(label=texts(chosen)["resize"], info=texts(chosen)["resize_info"],
                                                            choices=resize_choices(chosen)))
                random_weights = page.label(gr.Checkbox(False, label=t["random"], elem_id="random-weights"), "random")
                expected = page.say(gr.Textbox(label=t["expected"], placeholder=t["expected_hint"], elem_id="classify-expected",
                                               max_length=200), label="expected", placeholder="expected_hint")
                explain = page.label(gr.Checkbox(False, label=t["explain"], elem_id="classify-explain"), "explain")
                with gr.Group(visible=False, elem_id="classify-explain-choices") as explain_choices:
                    methods = page.also(page.say(gr.CheckboxGroup(where_it_looked.method_choices(page.lang), value=[api.DEFAULT_EXPLAIN_METHOD],
                                                                  label=t["explain_methods"], info=t["explain_methods_info"],
                                                                  elem_id="classify-methods"),
                                                 label="explain_methods", info="explain_methods_info"),
                                        lambda chosen: gr.update(choices=where_it_looked.method_choices(chosen)))
                    page.also(gr.Markdown(where_it_looked.methods_help(page.lang), padding=True, elem_id="classify-methods-help"),
                                             lambda chosen: gr.update(value=where_it_looked.methods_help(chosen)))
                    targets = page.also(page.say(gr.CheckboxGroup(where_it_looked.target_choices(page.lang), value=["answer"],
                                                                  label=t["explain_targets"], info=t["explain_targets_info"],
                                                                  elem_id="classify-targets"),
                                                 label="explain_targets", info="explain_targets_info"),
                                        lambda chosen: gr.update(choices=where_it_looked.target_choices(chosen)))
                    metrics = page.label(gr.Checkbox(False, label=t["explain_metrics"], elem_id="classify-metrics"), "explain_metrics")
                    sanity = page.label(gr.Checkbox(False, label=t["explain_sanity"], elem_id="classify-sanity"), "explain_sanity")
                with page.label(gr.Accordion(t["custom_model"], open=False, elem_id="custom-model-fold"), "custom_model"):
                    model_file = page.label(gr.File(file_types=[".keras", ".h5"], label=t["custom_model"], elem_id="classify-model-file"), "custom_model")
                    class_names = page.label(gr.Textbox(label=t["class_names"], max_length=MAX_PATH_CHARS), "class_names")
                    preprocessing = page.label(gr.Dropdown(PREPROCESSING_CHOICES, value="rescale", label=t["preprocessing"]), "preprocessing")
                classify_button = page.label(gr.Button(t["classify"], variant="primary", elem_id="classify-button"), "classify")
            with gr.Column():
                summary = page.say(gr.Markdown(t["weights_hint"], elem_id="classify-summary"), value="weights_hint")
                with gr.Row():
                    outputs = [gr.Label(visible=False, num_top_classes=MAX_TOP_K, elem_classes="model-label", min_width=280) for _ in range(MAX_LABELS)]
                explained = gr.State([])
                with gr.Column(elem_id="classify-explained"):
                    @gr.render(inputs=[explained, language], triggers=[explained.change])
                    def where(shown, lang):
                        where_it_looked.draw(shown, lang)
                with page.label(gr.Accordion(t["study"], open=False, elem_id="study-fold"), "study"):
                    study_model = page.label(gr.Dropdown(MODEL_CHOICES, value=None, label=t["study_model"], elem_id="study-model"), "study_model")
                    study_button = page.label(gr.Button(t["study_run"], elem_id="study-button"), "study_run")
                    study_text = gr.Markdown(elem_id="study-text")
                    study_picture = gr.Image(visible=False, show_label=False, interactive=False, elem_id="study-regions",
                                             buttons=["download"])
                report_button = page.label(gr.Button(t["make_report"], elem_id="classify-report"), "make_report")
                report_file = page.label(gr.File(label=t["report_file"], elem_id="classify-report-file"), "report_file")
        classified = gr.State(None)
        page.engine_event(classify_button.click, classify_view,
                          {"image": image, "models": models, "top_k": top_k, "random_weights": random_weights, "model_file": model_file,
                           "class_names": class_names, "preprocessing": preprocessing, "expected": expected, "explain": explain,
                           "methods": methods, "targets": targets, "metrics": metrics, "sanity": sanity,
                           "precision": precision, "resize": resize, "lang": language}, [summary, *outputs, explained, classified],
                          form=ClassifyForm)
        explain.change(lambda on: gr.update(visible=on), [explain], [explain_choices], api_visibility="private", queue=False)
        page.engine_event(study_button.click, preprocessing_view, {"state": classified, "model": study_model, "lang": language},
                          [study_text, study_picture, classified])
        report_button.click(classification_report, [classified, language], [report_file], api_visibility="private")
