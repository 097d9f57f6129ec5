"""The structure report: the homework's table for each model (No., kind, main parts, summary()
info, plot_model info, receptive field, role) and one table across the models."""

from __future__ import annotations

from typing import Any

from plugin import words
from plugin.render.pages import Page, ReportKind
from plugin.render.pages._parts import expect, stage_view_picture
from plugin.words import architecture as architecture_words


def _run(api: Any, options: dict[str, Any]) -> dict[str, Any]:
    return {"result": api.structures(options.get("models"))}


def _prepare(api: Any, given: dict[str, Any]) -> dict[str, Any]:
    return {"result": expect(given.get("result"), "result", "structures", ("models",))}


def _build(inputs: dict[str, Any], t: dict, lang: str) -> Page:
    """Every number from `describe_architecture`'s facts."""
    ideas = words.section("structure_ideas", lang)
    models = []
    for facts in inputs["result"]["models"]:
        rows = [{"no": number, "kind": row["label"][lang], "parts": row["details"],
                 "summary": t["structure_summary_cell"].format(count=row["count"], types=", ".join(row.get("types", [])),
                                                               params=f"{row.get('params', 0):,}"),
                 "plot": row["shapes"], "field": row.get("receptive_field"), "role": row["role"][lang]}
                for number, row in enumerate(facts["structure"], 1)]
        published = facts.get("published")
        counts = facts.get("depth_counts")
        paper_depth = published.get("paper_depth") if published else None
        models.append({"model": facts["model"], "rows": rows, "year": architecture_words.paper_year_text(published),
                       "paper_depth": architecture_words.paper_depth_text(
                           paper_depth, lang, main_path=bool(counts and counts.get("projection_shortcuts"))) if published else "-",
                       "keras_depth": architecture_words.keras_depth_text(facts["depth"], counts, lang),
                       "differ": bool(paper_depth and paper_depth["layers"] != facts["depth"]),
                       "params": facts["total_params"], "macs": facts["macs"], "layers": facts["num_layers"],
                       "idea": ideas.get(facts.get("family") or "", ideas["default"])})
    files: dict[str, bytes] = {}  # each model's stage view: the Markdown version's pictures
    for model, facts in zip(models, inputs["result"]["models"]):
        model.update(stage_view_picture(facts, t, files))
    names = [model["model"] for model in models]
    return Page(title=t["structure_title"].format(models=", ".join(names)), name_parts=names, files=files,
                context={"models": models, "depth_note": t["depth_note"] if any(m["differ"] for m in models) else None})


KIND = ReportKind(
    name="structure",
    description="the homework's structure table (No., kind, main parts, summary() info, plot_model info, role) for each "
                "of models (default AlexNet, VGG16, ResNet50) and one table across them",
    inputs=("result",),
    options=("models",),
    subject="models",
    many_subjects=True,
    run=_run, prepare=_prepare, build=_build,
)
