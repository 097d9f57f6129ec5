"""The architecture report: one model's figures, stage and structure tables, batch normalisation
counted, its whole diagram, the residual block and study notes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from markupsafe import Markup

from plugin import words
from plugin.config import get_settings
from plugin.engine.results import ArchitectureFacts
from plugin.errors import AccessDeniedError
from plugin.render.pages import Page, ReportKind
from plugin.render.pages._parts import expect
from plugin.render.pictures import svg_to_png, svg_to_pngs
from plugin.render.stage_view import stage_view_note, stage_view_svg
from plugin.render.svg import inline_svg
from plugin.render.templates import template_environment
from plugin.words import architecture as architecture_words


def _run(api: Any, options: dict[str, Any]) -> dict[str, Any]:
    detail = "full" if options.get("expand_nested") else "layers"
    return {"facts": api.describe_architecture(detail=detail, diagram_format="svg", **options)}


def _prepare(api: Any, given: dict[str, Any]) -> dict[str, Any]:
    return {"facts": expect(given.get("facts"), "facts", "describe_architecture", ("model", "stages"))}


def _diagram_svg(facts: ArchitectureFacts) -> bytes | None:
    """The facts' SVG diagram, read only from the output folder's diagram cache."""
    diagram: Any = facts.get("diagram") or {}
    record = (diagram.get("files") or {}).get("svg") or (diagram if diagram.get("format") == "svg" else None)
    if not record:
        return None
    path = Path(os.path.realpath(record["path"]))
    if not path.is_relative_to(get_settings().output_dir / "diagrams") or not path.is_file():
        raise AccessDeniedError(f"Expected the diagram inside the output folder's diagrams. Received: {record['path']!r}")
    return path.read_bytes()


def _build(inputs: dict[str, Any], t: dict, lang: str) -> Page:
    facts: ArchitectureFacts = inputs["facts"]
    notes = words.section("notes", lang)
    family = facts.get("family") or ""
    svg = _diagram_svg(facts)
    diagram = inline_svg(svg, label=t["alt_diagram"].format(model=facts["model"])) if svg else None
    files: dict[str, bytes] = {}
    file_keys: dict[str, str] = {}
    diagram_files: list[str] = []
    if svg is not None:
        # drawn from the drawing without its (language's) label: the same pictures, rasterised once, in every language
        for index, piece in enumerate(svg_to_pngs(str(inline_svg(svg)))):
            diagram_files.append(f"diagram-{index + 1}.png")
            files[diagram_files[-1]] = piece
    stage_view = stage_view_svg(facts, t)  # our own template, every word escaped: safe to inline
    if stage_view is not None:
        files["stages.png"] = svg_to_png(stage_view)
        file_keys["stages.png"] = "stage_view_file"
    residual = None
    if family.startswith("ResNet"):
        # Made by our own template with every word escaped: safe to inline as it is.
        residual = Markup(template_environment().get_template("residual_block.svg").render(t=t))
        files["residual-block.png"] = svg_to_png(residual)
        file_keys["residual-block.png"] = "residual_file"
    published = facts.get("published")
    sources = None
    if published:
        sources = {"source": words.text(f"sources.{published['source_key']}", lang),
                   "multiply_adds_source": words.text(f"sources.{published['multiply_adds_key']}", lang)}
    preprocessing = facts["preprocessing"]
    low_high = preprocessing.get("value_range")
    return Page(
        title=t["architecture_title"].format(model=facts["model"]),
        name_parts=[facts["model"]],
        context={"facts": facts, "notes": notes.get(family) or notes.get(family.split(" ")[0]) or notes["default"],
                 "diagram": diagram, "stage_view": stage_view,
                 "stage_view_text": stage_view_note(facts, t),
                 "macs_note": words.text("results.macs_note", lang), "residual": residual,
                 "sources": sources, "has_blocks": any(stage["blocks"] is not None for stage in facts["stages"]),
                 **_depth_texts(facts, lang),
                 "value_range": t["value_range_text"].format(low=f"{low_high[0]:g}", high=f"{low_high[1]:g}") if low_high else None,
                 "preprocessing_text": preprocessing["description"][lang],
                 "sample_text": t["sample_pixel"].format(rgb=words.pixel_text(preprocessing["sample"]["rgb"]),
                                                         values=words.pixel_text(preprocessing["sample"]["values"]),
                                                         order=preprocessing["channel_order"])
                 if preprocessing.get("sample") else None},
        files=files,
        file_keys=file_keys,
        file_lists={"diagram_files": diagram_files},
    )


def _depth_texts(facts: ArchitectureFacts, lang: str) -> dict[str, str | None]:
    """The depth as the paper names it and as Keras counts it, each with what it counts, and the
    note that says why they differ (where they do)."""
    published = facts.get("published")
    counts = facts.get("depth_counts")
    paper = published.get("paper_depth") if published else None
    return {"paper_depth_text": architecture_words.paper_depth_text(
                paper, lang, main_path=bool(counts and counts.get("projection_shortcuts"))) if published else None,
            "keras_depth_text": architecture_words.keras_depth_text(facts["depth"], counts, lang),
            "depth_note": words.text("report.depth_note", lang) if paper and paper["layers"] != facts["depth"] else None}


KIND = ReportKind(
    name="architecture",
    description="one model's structure report (its figures, stage and structure tables, batch normalisation counted, "
                "diagram, study notes), from model or model_path",
    inputs=("facts",),
    options=("model", "model_path", "expand_nested", "show_shapes", "rankdir"),
    required=(("model", "model_path"),),
    subject="model",
    run=_run, prepare=_prepare, build=_build,
)
