"""The classification report: a photo's predictions by each model as charts, the agreement
sentence and dog/cat verdicts; optionally the right answer, where each model looked (Grad-CAM) and
the preprocessing experiment."""

from __future__ import annotations

from typing import Any

from plugin import words
from plugin.engine.results import ClassificationResult, answers
from plugin.errors import InvalidInputError
from plugin.render.charts import probability_chart
from plugin.render.overlay import draw_regions, overlay_png, png_bytes
from plugin.render.pages import Page, ReportKind
from plugin.render.pages._parts import chart_files, expect, photo_context, photo_of, short_name
from plugin.render.pictures import data_uri
from plugin.words.results import classification_view, display_name, gradcam_caption, region_text


def _run(api: Any, options: dict[str, Any]) -> dict[str, Any]:
    image = options.pop("image", None)
    if image is None:
        raise InvalidInputError("Expected an image for a classification report. Received: no image option", key="image_missing")
    return dict(api.study_image(image, **options))


def _prepare(api: Any, given: dict[str, Any]) -> dict[str, Any]:
    return {"result": expect(given.get("result"), "result", "classify_image", ("image", "results")),
            "photo": photo_of(api, given.get("image")), "explanations": given.get("explanations") or [],
            "study": given.get("preprocessing_study")}


def _build(inputs: dict[str, Any], t: dict, lang: str) -> Page:
    data: ClassificationResult = inputs["result"]
    picture, study = inputs["photo"], inputs["study"]
    answered = answers(data["results"])
    charts = [probability_chart(result, t, lang) for result in answered]
    pictures = chart_files(charts)
    files, file_keys = dict(pictures), dict[str, str]()
    expected: Any = data.get("expected")
    view = classification_view(data, lang)
    context: dict[str, Any] = {"data": data, "sentence": view["sentence"], **photo_context(picture, files, file_keys),
               "source": view["source"], "entries": _entries(view, charts), "verdict_rule": view["verdict_rule"],
               "region": view["region"], "region_warning": view["region_warning"],
               "expected_name": display_name(data["expected"], lang) if (expected or {}).get("label")
               else (words.text(f"agreement.{data['expected']['group']}", lang) if data.get("expected") else None)}
    cams = []
    for index, explained in enumerate(inputs["explanations"]):
        region = explained.get("region")
        picture_cam = overlay_png(picture, explained["heatmap"], region["box"] if region else None) if picture is not None else None
        name = f"gradcam-{index + 1}.png"
        if picture_cam:
            files[name] = picture_cam
        cams.append({"model": explained["model"], "layer": explained["layer"],
                     "label": display_name(explained["class"], lang), "probability": explained["class"]["probability"],
                     "caption": gradcam_caption(explained, lang), "region": region_text(region, lang) if region else "",
                     "uri": data_uri(picture_cam, "image/png") if picture_cam else None, "file": name if picture_cam else None})
    context["cams"] = cams
    context["study"] = None
    if study:
        pixel = study.get("pixel")
        context["study"] = {"model": study["model"], "pixel": pixel, "rows": [
            {"mode": row["mode"], "own": row["own"], "top": display_name(row["predictions"][0], lang),
             "probability": row["predictions"][0]["probability"], "verdict": row["verdict"],
             "formula": row.get("formula", ""), "channel_order": row.get("channel_order", ""),
             "pixel": words.pixel_text(row["pixel"]) if row.get("pixel") else ""} for row in study["modes"]],
            "resizes": [{"resize": row["resize"], "own": row["own"], "top": display_name(row["predictions"][0], lang),
                         "probability": row["predictions"][0]["probability"], "verdict": row["verdict"],
                         "region": region_text(row["region"], lang)} for row in study.get("resizes", [])]}
        if picture is not None and study.get("resizes"):
            regions = png_bytes(draw_regions(picture, [(row["resize"], row["region"]["box"]) for row in study["resizes"]]))
            files["regions.png"], file_keys["regions.png"] = regions, "regions_file"
            context["study"]["regions_uri"] = data_uri(regions, "image/png")
    return Page(
        title=t["classification_title"].format(image=short_name(data["image"])),
        name_parts=[r["model"] for r in answered],
        context=context,
        files=files,
        file_keys=file_keys,
        file_lists={"chart_files": list(pictures), "cam_files": [cam["file"] for cam in cams if cam["file"]]},
    )


def _entries(view: dict[str, Any], charts: list[dict]) -> list[dict[str, Any]]:
    """One card per model, in the order asked (`classification_view`'s cards): an answer with its
    chart, ranked classes and verdict reason, or why the model could not answer (`failure`)."""
    entries: list[dict[str, Any]] = []
    answered = iter(enumerate(charts))
    for card in view["cards"]:
        if card["failure"] is not None:
            entries.append({"result": card["result"], "failure": card["failure"]})
            continue
        index, chart = next(answered)
        entries.append({"result": card["result"], "failure": None, "chart": chart, "chart_index": index,
                        "rows": card["predictions"], "basis": card["basis"]})
    return entries


KIND = ReportKind(
    name="classification",
    description="an image classified by models (charts, agreement, verdict, with explain each model's Grad-CAM, "
                "with study_preprocessing the preprocessing experiment), from image",
    inputs=("result", "image", "explanations", "preprocessing_study"),
    options=("image", "models", "top_k", "weights", "model_path", "class_names", "preprocessing", "allow_random_weights",
             "expected", "explain", "study_preprocessing", "backend", "precision", "resize"),
    required=(("image",),),
    subject="image",
    run=_run, prepare=_prepare, build=_build,
)
