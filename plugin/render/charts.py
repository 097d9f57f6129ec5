"""Chart data from results, and the charts as SVG: probability bars per model, the comparison's
bars and accuracy-against-cost scatter, and a heat map's deletion and insertion curves. The pictures themselves are the macros of
`templates/_charts.html`, so pages, Markdown pictures and the web app draw them alike."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from plugin.engine.results import ComparisonRow, ModelOutcome
from plugin.render.templates import template_environment
from plugin.words import percent, si_number
from plugin.words.results import class_name

__all__ = ["probability_chart", "comparison_charts", "accuracy_chart", "curve_chart", "chart_svg", "charts_html"]


def probability_chart(result: ModelOutcome, t: dict, lang: str) -> dict:
    """One model's top-k predictions as bars (grey when the weights are untrained), named in `lang`."""
    rows = [{"label": class_name(p, lang), "fraction": p["probability"], "text": percent(p["probability"]),
             "color": "#9ca3af" if result["untrained"] else "#3b82f6"} for p in result["predictions"]]
    return {"kind": "bars", "rows": rows, "title": f"{result['model']} · {t['predictions']}", "unit": ""}


def comparison_charts(rows: list[ComparisonRow], t: dict) -> list[dict]:
    """Parameters, multiply-adds, published top-1 and measured time as bars, then the scatter."""
    charts = [
        _scaled_bars(rows, lambda r: r["total_params"], t["chart_params"], "{:.1f}", 1e-6),
        _scaled_bars(rows, lambda r: r["macs"], t["chart_macs"], "{:.2f}", 1e-9),
        _scaled_bars(rows, lambda r: r["published"]["top1"], t["chart_top1"], "{:.1f}", 100),
        _scaled_bars(rows, lambda r: r["inference_ms"], t["chart_time"], "{:.1f}"),
    ]
    scatter = _scatter(rows, t)
    return charts + [scatter] if scatter else charts


def accuracy_chart(models: Sequence[Mapping[str, Any]], key: str, title: str) -> dict:
    """One accuracy (verdict, top-1 or top-5) per model, as bars out of 100 %."""
    rows = [{"label": model["model"], "fraction": model["accuracy"][key] or 0.0,
             "text": percent(model["accuracy"][key]), "color": None}
            for model in models]
    return {"kind": "bars", "rows": rows, "title": title, "unit": ""}


def curve_chart(metrics: Mapping[str, Any], which: str, said: Mapping[str, Any], probability: str) -> dict:
    """A map's deletion or insertion curve (`which`) beside the random map's, as a line chart.

    Args:
        metrics: an explanation's `metrics` (with its `baselines`).
        which: "deletion" or "insertion".
        said: the `explain` words of the page's language (the curve's title, the maps' names).
        probability: the y axis's name in that language.

    Returns:
        `{"kind": "curves", "title", "x_label", "y_label", "lines", "x_ticks", "y_ticks"}`: each line's
        points are (share of pixels, probability) as shares of the plot, the y axis up to a round
        probability above the highest point.
    """
    own, random = metrics[which], metrics["baselines"]["random"][which]
    top = max(0.1, math.ceil(max([*own["curve"], *random["curve"]]) * 10 - 1e-9) / 10)

    def points(curve: Sequence[float]) -> list[tuple[float, float]]:
        last = max(1, len(curve) - 1)
        return [(index / last, min(1.0, value / top)) for index, value in enumerate(curve)]

    lines = [{"label": f"{said['this_map']} · AUC {own['auc']:.3f}", "points": points(own["curve"]),
              "color": "#2563eb", "width": 2.5, "dash": ""},
             {"label": f"{said['random']} · AUC {random['auc']:.3f}", "points": points(random["curve"]),
              "color": "#6b7280", "width": 1.5, "dash": "5 4"}]
    title = said[f"curve_{which}"]
    return {"kind": "curves", "title": title[:1].upper() + title[1:], "x_label": said["curve_axis"], "y_label": probability,
            "lines": lines, "x_ticks": [{"at": at, "text": percent(at, digits=0)} for at in (0.0, 0.5, 1.0)],
            "y_ticks": [{"at": at, "text": percent(at * top, digits=0)} for at in (0.0, 0.5, 1.0)]}


def chart_svg(chart: dict) -> str:
    """A chart as a standalone SVG document (for the Markdown version's pictures)."""
    return template_environment().get_template("chart.svg").render(chart=chart)


def charts_html(charts: list[dict]) -> str:
    """Charts as inline SVG markup, each in a box of readable width (for the web app)."""
    macros: Any = template_environment().get_template("_charts.html").module  # the template's macros
    parts = []
    for chart in charts:
        if chart["kind"] == "bars":
            parts.append(str(macros.bars(chart["rows"], chart["title"], chart["unit"])))
        elif chart["kind"] == "curves":
            parts.append(str(macros.curves(chart)))
        else:
            parts.append(str(macros.scatter(chart["points"], chart["title"], chart["x_label"], chart["y_label"])))
    return "".join(f'<div style="max-width:640px">{part}</div>' for part in parts)


def _scaled_bars(rows: list[ComparisonRow], key: Any, title: str, fmt: str, scale: float = 1.0) -> dict:
    values = [key(row) for row in rows]
    top = max((v for v in values if v is not None), default=0) or 1
    return {"kind": "bars", "title": title, "unit": "", "rows": [
        {"label": row["model"], "fraction": (value or 0) / top, "text": "-" if value is None else fmt.format(value * scale),
         "color": None} for row, value in zip(rows, values)]}


def _scatter(rows: list[ComparisonRow], t: dict) -> dict | None:
    known: list[Any] = [row for row in rows if row["published"]["top1"] is not None]  # each with its top-1
    if not known:
        return None
    logs = [math.log10(row["macs"]) for row in known]
    low, high = math.floor(min(logs) * 2) / 2, math.ceil(max(logs) * 2) / 2
    high = high if high > low else low + 0.5
    accuracies = [row["published"]["top1"] for row in known]
    bottom, top = math.floor(min(accuracies) * 20) / 20, math.ceil(max(accuracies) * 20) / 20
    top = top if top > bottom else bottom + 0.05
    largest = max(row["total_params"] for row in known)
    points = [{"label": row["model"], "x": 0.06 + 0.88 * (math.log10(row["macs"]) - low) / (high - low),
               "y": 0.06 + 0.8 * (row["published"]["top1"] - bottom) / (top - bottom),
               "r": 6 + 22 * math.sqrt(row["total_params"] / largest)} for row in known]
    ticks_x = [{"at": 0.06 + 0.88 * (v - low) / (high - low), "text": si_number(10 ** v, spec=".3g")} for v in _steps(low, high, 0.5)]
    ticks_y = [{"at": 0.06 + 0.8 * (v - bottom) / (top - bottom), "text": percent(v, digits=0)} for v in _steps(bottom, top, 0.05)]
    for point in points:
        point["x_ticks"], point["y_ticks"] = ticks_x, ticks_y
    return {"kind": "scatter", "title": t["chart_scatter"], "points": points,
            "x_label": t["macs"] + " (log)", "y_label": t["top1"]}


def _steps(low: float, high: float, step: float) -> list[float]:
    count = int(round((high - low) / step))
    return [low + i * step for i in range(count + 1)]
