"""The Classify tab's "where did it look" section: what it offers (the engine's explanation methods,
each with what it does, the classes a map can explain) and, for the maps a classification made, a
section per method with a card per map: the overlay, its caption (the class explained, and when it
is not the model's answer, that it is not), the layer and why, the numbers that check the map beside
a random and a centre map, and the sanity check where asked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gradio as gr

from plugin import api, words
from plugin.doors.web.markdown import md
from plugin.doors.web.page import texts
from plugin.doors.web.serving import served
from plugin.render.charts import charts_html, curve_chart

__all__ = ["method_choices", "methods_help", "target_choices", "card_text", "draw"]

_METRICS = (("deletion", lambda part: part["deletion"]["auc"]), ("insertion", lambda part: part["insertion"]["auc"]),
            ("road", lambda part: part["road"]["score"]), ("score", lambda part: part["score"]))
"""The numbers under a map, each read the same way from the map's metrics and from each baseline's."""


def _methods() -> dict[str, dict]:
    """The engine's methods by name, asked each time (a method registered at run time is offered too)."""
    return {entry["name"]: entry for entry in api.explanation_methods()}


def _title(name: str, entry: Mapping[str, Any] | None, lang: str) -> str:
    said = api.method_title(name, lang)
    return entry["title"] if entry is not None and said == name else said  # a method without words: its own title


def _description(name: str, entry: Mapping[str, Any] | None, lang: str) -> str:
    return api.method_description(name, lang) or (entry["description"].get(lang, "") if entry is not None else "")


def method_choices(lang: str) -> list[tuple[str, str]]:
    """Every explanation method the engine has, by its title in `lang`."""
    return [(_title(name, entry, lang), name) for name, entry in _methods().items()]


def methods_help(lang: str) -> str:
    """What each method does, one line each (Markdown)."""
    return "\n".join(f"- **{md(_title(name, entry, lang))}**: {md(_description(name, entry, lang))}"
                     for name, entry in _methods().items())


def target_choices(lang: str) -> list[tuple[str, str]]:
    """The classes a map can explain (the model's answer, the right answer, any dog, any cat), in `lang`."""
    said = words.section("explain", lang)["targets"]
    return [(said[target], target) for target in api.EXPLAIN_TARGETS]


def card_text(explained: Mapping[str, Any], lang: str) -> str:
    """What a map's card says under it, in Markdown: its caption, its layer and why, its numbers
    against a random and a centre map with what they add up to, and the sanity check's verdict."""
    said = words.section("explain", lang)
    lines = [f"**{md(api.gradcam_caption(explained, lang))}**", ""]
    reason = said["layer_reasons"].get(explained.get("layer_reason") or "")
    if explained.get("layer") and reason:  # the caption names the method and the layer; here, why that layer
        lines += [f"<small>{md(texts(lang)['explained_layer'].format(reason=reason))}</small>", ""]
    metrics = explained.get("metrics")
    if metrics:
        baselines = metrics["baselines"]
        lines += [f"**{md(said['metrics_title'])}**", ""]
        for key, value in _METRICS:
            lines.append(f"- {md(said[key])}: {md(said['this_map'])} **{value(metrics):.3f}** · "
                         f"{md(said['random'])} {value(baselines['random']):.3f} · {md(said['centre'])} {value(baselines['centre']):.3f}")
        lines += ["", md(api.metrics_sentence(metrics, lang)), ""]
    sanity = explained.get("sanity")
    if sanity:
        sentence = md(api.sanity_sentence(sanity, lang))
        lines.append(f"> **{md(said['sanity_title'])}**: **{sentence}**" if sanity["flagged"]
                     else f"**{md(said['sanity_title'])}**: {sentence}")
    return "\n".join(lines)


def _curves(metrics: Mapping[str, Any], lang: str) -> None:
    """The map's deletion and insertion curves beside the random map's (the reports' charts), side by
    side where the card is wide enough, each under its title."""
    said = words.section("explain", lang)
    with gr.Row(elem_classes="explain-curves"):
        for which in ("deletion", "insertion"):
            chart = curve_chart(metrics, which, said, words.text("report.probability", lang))
            with gr.Column(min_width=220):
                gr.Markdown(f"<small>**{md(chart['title'])}**</small>")
                gr.HTML(charts_html([chart]))


def draw(explanations: Sequence[Mapping[str, Any]] | None, lang: str) -> None:
    """Inside `@gr.render`: the section's heading, then a section per method (its title and what it
    does) holding a card per map, in the order the engine made them; the metrics' definitions and
    sources under the last, where numbers were asked for."""
    if not explanations:
        return
    t, entries = texts(lang), _methods()
    by_method: dict[str, list[Mapping[str, Any]]] = {}
    for explained in explanations:
        by_method.setdefault(explained["method"], []).append(explained)
    gr.Markdown(f"### {md(t['explained'])}\n\n<small>{md(t['explained_hint'])}</small>", elem_classes="explain-heading")
    for name, maps in by_method.items():
        entry = entries.get(name)
        with gr.Column(elem_classes="explain-method"):
            gr.Markdown(f"#### {md(_title(name, entry, lang))}\n\n{md(_description(name, entry, lang))}", elem_classes="explain-method-title")
            with gr.Row(equal_height=False):
                for explained in maps:
                    with gr.Column(min_width=260, variant="panel", elem_classes="explain-card"):
                        gr.Image(served(explained["overlay_path"]), show_label=False, interactive=False, container=False,
                                 buttons=["download", "fullscreen"], elem_classes="explain-map")
                        gr.Markdown(card_text(explained, lang), elem_classes="explain-text")
                        if explained.get("metrics"):
                            _curves(explained["metrics"], lang)
    measured = next((explained["metrics"] for explained in explanations if explained.get("metrics")), None)
    if measured:
        gr.Markdown(f"<small>{md(api.metrics_definitions(measured, lang))}</small>", elem_classes="explain-definitions")
