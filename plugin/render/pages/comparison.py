"""The comparison report: models side by side (published figures, size, multiply-adds, the time
measured here) with charts; with a photo, each model's answer too."""

from __future__ import annotations

from typing import Any

from plugin import words
from plugin.engine.results import ComparisonResult
from plugin.render.charts import comparison_charts
from plugin.render.pages import Page, ReportKind
from plugin.render.pages._parts import chart_files, expect, machine, photo_context, photo_of
from plugin.words import failure_text
from plugin.words.results import display_name, sentence, source_text, verdict_rule


def _run(api: Any, options: dict[str, Any]) -> dict[str, Any]:
    image = options.pop("image", None)
    loaded = api.load_image(image) if image is not None else None
    return {"result": api.compare_models(image=loaded, **options), "image": loaded}


def _prepare(api: Any, given: dict[str, Any]) -> dict[str, Any]:
    return {"result": expect(given.get("result"), "result", "compare_models", ("models", "timing")),
            "photo": photo_of(api, given.get("image"))}


def _build(inputs: dict[str, Any], t: dict, lang: str) -> Page:
    data: ComparisonResult = inputs["result"]
    rows = data["models"]
    charts = comparison_charts(rows, t)
    pictures = chart_files(charts)
    files, file_keys = dict(pictures), dict[str, str]()
    keys = sorted({row["published"].get("source_key", "") for row in rows} - {""})
    context: dict[str, Any] = {"data": data, "charts": charts, "sources": [words.text(f"sources.{key}", lang) for key in keys],
               "machine": machine(data["timing"], t), "sentence": None, "failures": {}, "verdict_rule": None}
    if data.get("image"):
        context |= photo_context(inputs["photo"], files, file_keys)
        context["source"] = source_text(data["image"], lang)
        if any("predictions" in row for row in rows):  # no model may have answered (no weights here): each row says why
            context["sentence"] = sentence({"results": rows, "expected": data.get("expected")}, lang)
        context["top_names"] = {row["model"]: display_name(row["predictions"][0], lang) for row in rows if "predictions" in row}
        context["failures"] = {row["model"]: failure_text(row["error"], lang) for row in rows if "error" in row}
        context["verdict_rule"] = verdict_rule(lang)
    return Page(
        title=t["comparison_title"].format(models=", ".join(row["model"] for row in rows)),
        name_parts=[row["model"] for row in rows],
        context=context,
        files=files,
        file_keys=file_keys,
        file_lists={"chart_files": list(pictures)},
    )


KIND = ReportKind(
    name="comparison",
    description="models side by side with charts (figures, size, multiply-adds, time measured here), with image "
                "each model's answer too",
    inputs=("result", "image"),
    options=("models", "image", "top_k", "weights", "allow_random_weights", "preprocessing", "resize"),
    subject="models",
    many_subjects=True,
    run=_run, prepare=_prepare, build=_build,
)
