"""The classification report: a photo's predictions by each model as charts, the agreement
sentence and dog/cat verdicts; optionally the right answer, where each model looked (a section per
explanation method, each map with its numbers against a random and a centre map, its deletion and
insertion curves and its sanity check where measured) and the preprocessing experiment."""

from __future__ import annotations

from typing import Any

from plugin import words
from plugin.engine.results import ClassificationResult, Explanation, MapMetrics, answers
from plugin.errors import InvalidInputError
from plugin.render.charts import chart_svg, curve_chart, probability_chart
from plugin.render.overlay import draw_regions, overlay_png, png_bytes
from plugin.render.pages import Page, ReportKind
from plugin.render.pages._parts import chart_files, expect, photo_context, photo_of, short_name
from plugin.render.pictures import data_uri, svg_to_png
from plugin.words.results import (
    classification_view,
    display_name,
    gradcam_caption,
    method_description,
    method_title,
    metrics_definitions,
    metrics_sentence,
    region_text,
    sanity_sentence,
)

_MAPS = ("this_map", "random", "centre")
"""The rows of a map's numbers: the map, then its baselines."""


def _run(api: Any, options: dict[str, Any]) -> dict[str, Any]:
    image = options.pop("image", None)
    if image is None:
        raise InvalidInputError("Expected an image for a classification report. Received: no image option", key="image_missing")
    if options.get("methods") or options.get("metrics"):  # asking how to explain, or for the numbers, asks for the maps
        options["explain"] = True
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
    context["explained"] = _explained(inputs["explanations"], picture, files, t, lang)
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
        file_lists={"chart_files": list(pictures)},
    )


def _explained(explanations: list[Explanation], picture: Any, files: dict[str, bytes], t: dict, lang: str) -> dict[str, Any] | None:
    """The heat maps as the page shows them: a section per method, in the order first asked, each
    map with its caption and, where measured, its numbers beside its baselines', its curves and
    its sanity check; the metrics' definitions once. Each picture is also a file of the Markdown
    version (`gradcam-1.png`, `curve-1-deletion.png`, ...)."""
    if not explanations:
        return None
    said = words.section("explain", lang)
    sections: dict[str, dict[str, Any]] = {}
    definitions = ""
    for index, explained in enumerate(explanations):
        method = explained.get("method", "gradcam")
        if method not in sections:
            title = method_title(method, lang)
            sections[method] = {"method": method, "title": explained.get("method_title", title) if title == method else title,
                                "description": method_description(method, lang), "maps": []}
        region = explained.get("region")
        cam = overlay_png(picture, explained["heatmap"], region["box"] if region else None) if picture is not None else None
        name = f"gradcam-{index + 1}.png"
        if cam:
            files[name] = cam
        entry: dict[str, Any] = {
            "model": explained["model"], "layer": explained["layer"], "label": display_name(explained["class"], lang),
            "alt": t["alt_gradcam"].format(model=explained["model"], method=sections[method]["title"],
                                          label=display_name(explained["class"], lang)),
            "caption": gradcam_caption(explained, lang), "region": region_text(region, lang) if region else "",
            "uri": data_uri(cam, "image/png") if cam else None, "file": name if cam else None,
            "metrics": None, "sanity": None}
        metrics = explained.get("metrics")
        if metrics and "baselines" in metrics:
            entry["metrics"] = _numbers(metrics, index, files, said, t, lang)
            definitions = definitions or metrics_definitions(metrics, lang)
        sanity = explained.get("sanity")
        if sanity:
            entry["sanity"] = {"flagged": sanity["flagged"], "sentence": sanity_sentence(sanity, lang), "steps": [
                said["sanity_step"].format(layers=len(step["randomised"]), correlation=f"{step['rank_correlation']:.2f}")
                for step in sanity["steps"]]}
        sections[method]["maps"].append(entry)
    return {"heading": t["explain_heading"].format(methods=", ".join(section["title"] for section in sections.values())),
            "sections": list(sections.values()), "definitions": definitions, "sanity_title": said["sanity_title"]}


def _numbers(metrics: MapMetrics, index: int, files: dict[str, bytes], said: dict, t: dict, lang: str) -> dict[str, Any]:
    """One map's numbers: a row for the map and for each baseline (deletion, insertion and ROAD
    beside the score), the sentence that says what they mean, and the two curves (inline SVG for
    the page draws with the `curves` macro, PNG files for the Markdown version)."""
    measured = {"this_map": metrics, **metrics["baselines"]}
    rows = [{"name": said[key][:1].upper() + said[key][1:], "own": key == "this_map", "deletion": f"{measured[key]['deletion']['auc']:.3f}",
             "insertion": f"{measured[key]['insertion']['auc']:.3f}", "road": f"{measured[key]['road']['score']:.3f}",
             "score": f"{measured[key]['score']:.3f}"} for key in _MAPS if key in measured]
    curves = []
    for which in ("deletion", "insertion"):
        chart = curve_chart(metrics, which, said, t["probability"])
        name = f"curve-{index + 1}-{which}.png"
        files[name] = svg_to_png(chart_svg(chart))
        curves.append({"which": which, "chart": chart, "file": name, "alt": t["alt_curve"].format(title=chart["title"])})
    return {"rows": rows, "sentence": metrics_sentence(metrics, lang), "worse": metrics["better_than_random"] < 0,
            "curves": curves, "columns": {key: said[key] for key in ("deletion", "insertion", "road", "score")}}


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
    description="an image classified by models (charts, agreement, verdict; with explain each model's heat map, "
                "a section per method of methods, with metrics each map's numbers and curves against a random map; "
                "with study_preprocessing the preprocessing experiment), from image",
    inputs=("result", "image", "explanations", "preprocessing_study"),
    options=("image", "models", "top_k", "weights", "model_path", "class_names", "preprocessing", "allow_random_weights",
             "expected", "explain", "methods", "metrics", "study_preprocessing", "backend", "precision", "resize"),
    required=(("image",),),
    subject="image",
    run=_run, prepare=_prepare, build=_build,
)
