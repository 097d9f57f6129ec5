"""An architecture's tables as HTML for a page that is not a report (the web app's Architecture tab):
the stage table, the structure table and `model.summary()`, from the same template macros as the
reports (`templates/_tables.html`), so the app and a report show one table the same way. On a wide
screen they are tables; in a box narrower than 600 px each row is a card (`tables_css`)."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from plugin import words
from plugin.engine.results import ArchitectureFacts
from plugin.render.templates import template_environment

__all__ = ["stage_table_html", "structure_table_html", "keras_summary_html", "tables_css"]


def _macros() -> Any:
    return template_environment().get_template("_tables.html").module


def stage_table_html(facts: ArchitectureFacts, lang: str, *, table_id: str = "stages") -> Markup:
    """The paper's stages, one row (or card) each: name, output size, blocks, layout, parameters, multiply-adds."""
    return Markup(_macros().stage_table(facts["stages"], words.section("report", lang), table_id))


def structure_table_html(facts: ArchitectureFacts, lang: str, *, table_id: str = "structure") -> Markup:
    """Each kind of layer, one row (or card) each: how many, at which shapes, its kernels in network order, its role."""
    return Markup(_macros().structure_table(facts["structure"], words.section("report", lang), lang, table_id))


def keras_summary_html(facts: ArchitectureFacts, lang: str, *, summary_id: str = "keras-summary") -> Markup:
    """`model.summary()` as Keras prints it, folded, in a box that scrolls; empty where the facts have none."""
    text = facts.get("keras_summary")
    if not text:
        return Markup("")
    return Markup(_macros().keras_summary(text, words.section("report", lang), summary_id))


def tables_css() -> str:
    """The style of these tables (and of the reports' own): a page that shows them adds it once."""
    return str(_macros().stacked_css())
