"""The evaluation report: accuracy on labelled photos (verdict, top-1, top-5) as charts, each
model's confusion matrix and a gallery of its mistakes."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from plugin import words
from plugin.engine.imagenet import find_class
from plugin.engine.results import EvaluationResult, ModelEvaluation, answers, failures
from plugin.errors import PluginError
from plugin.render.charts import accuracy_chart
from plugin.render.pages import Page, ReportKind
from plugin.render.pages._parts import chart_files, expect
from plugin.render.pictures import data_uri, jpeg, svg_to_png
from plugin.render.templates import template_environment
from plugin.words import failure_text
from plugin.words.results import display_name

__all__ = ["KIND", "confusion_html"]

_GALLERY = 12
"""Mistakes shown per model."""


def _run(api: Any, options: dict[str, Any]) -> dict[str, Any]:
    return {"result": api.evaluate(options.pop("source", None), **options)}


def _prepare(api: Any, given: dict[str, Any]) -> dict[str, Any]:
    result = expect(given.get("result"), "result", "evaluate", ("models", "labels", "images"))
    return {"result": result, "thumbnails": _thumbnails(api, result)}


def _thumbnails(api: Any, result: EvaluationResult) -> dict[str, Any]:
    """The mistakes' photos, read once, for the gallery (paths the evaluation already checked)."""
    pictures = {}
    for model in answers(result["models"]):
        for mistake in model["mistakes"]:
            if mistake["path"] not in pictures:
                try:
                    pictures[mistake["path"]] = api.load_image(mistake["path"]).image
                except PluginError:
                    continue  # a photo gone since the evaluation: the gallery shows the others
    return pictures


def _label_namer(t: dict, lang: str):
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


def _build(inputs: dict[str, Any], t: dict, lang: str) -> Page:
    data: EvaluationResult = inputs["result"]
    thumbnails = inputs["thumbnails"]
    label_name = _label_namer(t, lang)
    evaluated = answers(data["models"])
    charts = [accuracy_chart(evaluated, key, t[f"accuracy_{key}"]) for key in ("verdict", "top1", "top5")
              if any(model["accuracy"][key] is not None for model in evaluated)]
    pictures = chart_files(charts)
    files = dict(pictures)
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
    published = {model["model"]: (f"{words.percent(model['published']['top1'])} / {words.percent(model['published']['top5'])}"
                                  if model.get("published") else "-") for model in evaluated}
    protocols = list(dict.fromkeys(words.text(f"sources.{model['published']['protocol']['source_key']}", lang)
                                   for model in evaluated if model.get("published")))
    resizes = ", ".join(dict.fromkeys(t[f"resize_way_{model.get('resize', 'crop')}"] for model in evaluated))
    context = {"data": data, "evaluated": evaluated, "charts": charts, "matrices": matrices, "gallery": gallery,
               "published": published, "protocols": protocols, "resizes": resizes,
               "failures": {entry["model"]: failure_text(entry["error"], lang) for entry in failures(data["models"])},
               "labels": [(label_name(label), count) for label, count in data["label_counts"].items()]}
    return Page(
        title=t["evaluation_title"].format(source=data["source"]),
        name_parts=[model["model"] for model in evaluated],
        context=context,
        files=files,
        file_lists={"chart_files": list(pictures), "matrix_files": [m["file"] for m in matrices],
                    "gallery_files": [g["file"] for g in gallery]},
    )


KIND = ReportKind(
    name="evaluation",
    description="accuracy on labelled photos (source: a folder of labelled sub-folders, a list or a zip) with charts, "
                "confusion matrices and mistakes",
    inputs=("result",),
    options=("source", "models", "labels", "weights", "allow_random_weights", "model_path", "class_names", "preprocessing",
             "engine", "backend", "precision", "resize"),
    required=(("source",),),
    subject="source",
    run=_run, prepare=_prepare, build=_build,
)
