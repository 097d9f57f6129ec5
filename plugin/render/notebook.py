"""Results shown inline in a notebook (Jupyter, Colab, VS Code): `show(result_or_report)`.

A result is rendered through the kind of report that matches it (a classify_image or study_image
result through "classification", describe_architecture's facts through "architecture", ...) by the
`render` function its caller hands in (`plugin.api.render_report`), and the page is shown in a
sandboxed frame, its pictures inline; a report already written (`ReportFiles`) is shown the same
way. A Grad-CAM result (its overlay), a preprocessing experiment (its table) and a look_inside
result (the pictures of the views it was asked for, the walk's numbers, the receptive fields; the
whole page is `make_report("inside", ...)`) are shown as they are, a view at a time as a notebook
goes.

IPython is imported only when `show` is called: in a notebook the HTML is displayed and `show`
returns None; anywhere else it returns the HTML.

    >>> show(plugin.classify_image("dog.jpg"), render=render_report)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from plugin import words
from plugin.engine.results import ReportFiles
from plugin.errors import InvalidInputError
from plugin.render.pictures import data_uri
from plugin.render.templates import template_environment
from plugin.words.results import display_name, gradcam_caption

__all__ = ["show", "kind_of", "KINDS"]

Render = Callable[..., ReportFiles]
"""`render(kind, result=..., facts=..., ...)`: writes a report from results (`plugin.api.render_report`)."""

KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("report", ("path", "markdown_path", "post_path")),
    ("study", ("result", "image", "explanations", "preprocessing_study")),
    ("inside", ("views", "timings")),
    ("explanation", ("heatmap", "class")),
    ("architecture", ("total_params", "stages")),
    ("classification", ("results", "agreement")),
    ("comparison", ("models", "timing")),
    ("evaluation", ("models", "source", "log_path")),
    ("structure", ("models",)),
    ("batch", ("images",)),
    ("preprocessing", ("own_mode", "modes")),
)
"""What `show` takes, each told by the keys it has, the first that matches winning."""

_FRAME = """<div class="cnnlab-show"><iframe sandbox="allow-popups allow-popups-to-escape-sandbox" title="{{ title }}" \
srcdoc="{{ page }}" style="width:100%;height:{{ height }}px;border:1px solid #ccc;border-radius:4px;background:#fff"></iframe>
<p style="font-size:12px;color:#666;margin:2px 0 12px">{{ path }}</p></div>"""

_FIGURES = """<div class="cnnlab-show" style="font-family:{{ font_family }};max-width:1024px">
{% if title %}<h3>{{ title }}</h3>{% endif %}
{% for line in lines %}<p>{{ line }}</p>{% endfor %}
{% for figure in figures %}<figure style="margin:0 0 16px">
<img src="{{ figure.uri }}" alt="{{ figure.alt }}" style="max-width:100%;height:auto;background:#fff">
{% if figure.caption %}<figcaption style="font-size:13px;color:#444">{{ figure.caption }}</figcaption>{% endif %}</figure>{% endfor %}
{% for table in tables %}<table style="border-collapse:collapse;margin:0 0 16px;font-size:13px">
<tr>{% for header in table.headers %}<th style="text-align:left;padding:2px 10px;border-bottom:1px solid #999">{{ header }}</th>{% endfor %}</tr>
{% for row in table.rows %}<tr>{% for cell in row %}<td style="padding:2px 10px">{{ cell }}</td>{% endfor %}</tr>{% endfor %}
</table>{% endfor %}
{% if note %}<p style="font-size:12px;color:#666">{{ note }}</p>{% endif %}
</div>"""

_PICTURES = ("filters", "deeper_filters", "histograms", "feature_maps", "receptive_field", "maximized")
"""look_inside's pictures, in the order its views are shown."""


def kind_of(item: Any) -> str:
    """Which of `KINDS` `item` is; an `InvalidInputError` naming what `show` takes for anything else."""
    if isinstance(item, Mapping):
        for kind, keys in KINDS:
            if all(key in item for key in keys) and (kind != "batch" or isinstance(item["images"], list)):
                return kind
    raise InvalidInputError(f"Expected a result of plugin's functions or a report (make_report, render_report) to show, "
                            f"one of {[kind for kind, _ in KINDS]}. Received: {type(item).__name__}"
                            + (f" with keys {sorted(map(str, item))[:8]}" if isinstance(item, Mapping) else ""))


def show(item: Any, *, render: Render, lang: str | None = None, height: int = 720) -> str | None:
    """Show a result or a written report inline in a notebook.

    Args:
        item: a result of the API (classify_image, classify_images, study_image, explain_image,
            compare_preprocessing, describe_architecture, structures, compare_models, evaluate,
            look_inside) or a written report (`ReportFiles`).
        render: writes a report from results (`plugin.api.render_report`).
        lang: "ko" or "en" for the pages and captions; default CNNLAB_LANG, else Korean.
        height: the frame's height in pixels for a page (it scrolls inside).

    Returns:
        None in a notebook (where the HTML was displayed), else the HTML.
    """
    lang = words.check_lang(lang)
    html = _html(item, render, lang, height)
    shown = _displayer()
    if shown is None:
        return html
    shown(html)
    return None


def _html(item: Any, render: Render, lang: str, height: int) -> str:
    return _VIEWS[kind_of(item)](item, render, lang, height)


def _frame(report: Mapping[str, Any], height: int) -> str:
    """A written report's page in a sandboxed frame (no script runs; links open outside it)."""
    page = Path(report["path"]).read_text("utf-8")
    return template_environment().from_string(_FRAME).render(page=page, height=int(height), path=report["path"],
                                                            title=report.get("title", ""))


def _figure(path: Any, caption: str, *, alt: str = "") -> dict[str, str]:
    uri = data_uri(Path(path).read_bytes(), "image/png") if path else ""
    return {"uri": uri, "caption": caption, "alt": alt or caption}


def _figures(*, title: str = "", lines: list[str] | None = None, figures: list[dict[str, str]] | None = None,
             tables: list[dict[str, Any]] | None = None, note: str = "") -> str:
    return template_environment().from_string(_FIGURES).render(title=title, lines=lines or [], tables=tables or [], note=note,
                                                               figures=[figure for figure in figures or [] if figure["uri"]])


def _preprocessing(study: Mapping[str, Any], lang: str) -> str:
    """The preprocessing experiment as two tables: each mode, then the photo cropped and whole."""
    t = words.section("report", lang)
    headers = [t["mode_column"], t["top1_column"], t["probability"], t["verdict_column"]]
    modes = [[row["mode"] + (f" ({t['own_mode']})" if row["own"] else ""), display_name(row["predictions"][0], lang),
              words.percent(row["predictions"][0]["probability"]), t[row["verdict"]["label"]]] for row in study["modes"]]
    resizes = [[t[f"resize_{row['resize']}"] + (f" ({t['resize_own']})" if row["own"] else ""),
                display_name(row["predictions"][0], lang), words.percent(row["predictions"][0]["probability"]),
                t[row["verdict"]["label"]]] for row in study.get("resizes", [])]
    tables = [{"headers": headers, "rows": modes}] + ([{"headers": [t["resize_study"], *headers[1:]], "rows": resizes}]
                                                      if resizes else [])
    return _figures(title=f"{t['preprocessing_study']} · {study['model']}",
                    lines=[t["preprocessing_study_hint"].format(model=study["model"])], tables=tables)


def _inside(result: Mapping[str, Any], lang: str) -> str:
    """look_inside's pictures (each drawn with its own title), the walk's numbers step by step and
    the receptive fields where they grow."""
    cli, ui, t = words.section("cli", lang), words.section("ui", lang), words.section("report", lang)
    pictures: Mapping[str, Any] = result.get("pictures") or {}
    figures = []
    for view in _PICTURES:
        if view == "feature_maps":
            figures += [_figure(path, "", alt=entry["layer"])
                        for path, entry in zip(pictures.get(view) or [], result.get("feature_maps", []))]
        elif pictures.get(view):
            figures.append(_figure(pictures[view], ui[f"inside_{view}_caption"]))
    lines, tables = [], []
    walk = result.get("walk")
    if walk:
        lines.append(cli["inside_walk"].format(layer=walk["layer"], channel=walk["channel"], row=walk["cell"][0],
                                               column=walk["cell"][1], value=_number(walk["value"]),
                                               model_value=_number(walk["model_value"]), difference=f"{walk['difference']:.1e}"))
        tables.append(_walk_products(walk))
        rows = [[walk["layer"], f"Σ(x · w) + b = {_number(walk['sum'])} + {_number(walk['bias'])}", _number(walk["conv"])]]
        rows += [[f"{step['name']} ({step['layer']})", step.get("formula", ""), _number(step["value"])] for step in walk["steps"]]
        tables.append({"headers": cli["inside_walk_headers"], "rows": rows})
    fields = result.get("receptive_fields")
    if fields:
        tables.append({"headers": [t["layer"], t["receptive_field"]],
                       "rows": [[name, t["receptive_field_cell"].format(size=field["size"], stride=field["stride"])]
                                for name, field in _growing(fields)]})
    timings = result.get("timings") or {}
    note = cli["inside_timings"].format(timings=", ".join(f"{view} {seconds:.2f} s" for view, seconds in timings.items()))
    return _figures(title=cli["inside_title"].format(model=result["model"]), lines=lines, figures=figures, tables=tables,
                    note=note if timings else "")


def _walk_products(walk: Mapping[str, Any]) -> dict[str, Any]:
    """The walk's patch (x), kernel (w) and their products for each input channel, row by row."""
    patch, kernel, products = (np.asarray(walk[key], dtype=float) for key in ("patch", "kernel", "products"))
    rows = []
    for channel in range(patch.shape[-1]):
        rows.append([str(channel), _grid(patch[..., channel]), _grid(kernel[..., channel]), _grid(products[..., channel]),
                     _number(float(products[..., channel].sum()))])
    return {"headers": ["c", "x", "w", "x · w", "Σ"], "rows": rows}


def _grid(values: np.ndarray) -> str:
    return " / ".join(" ".join(f"{value:.3f}" for value in row) for row in values)


def _growing(fields: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, Mapping[str, Any]]]:
    """The layers where the receptive field grows or its stride changes (each convolution and
    pooling), in the model's order: the table a reader follows from 1 pixel to the last layer's."""
    rows, last = [], None
    for name, field in fields.items():
        if (field["size"], field["stride"]) != last:
            rows.append((name, field))
            last = (field["size"], field["stride"])
    return rows


def _number(value: float) -> str:
    return f"{value:.4f}"


def _displayer() -> Callable[[str], None] | None:
    """A function that displays HTML in the notebook running this code, or None outside one (no
    IPython, or IPython in a terminal, which has no kernel to display through)."""
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    return lambda html: display(HTML(html))


def _report_page(kind: str, inputs: Callable[[Any], dict[str, Any]]) -> Callable[[Any, Render, str, int], str]:
    """Show a result as the page of the report `kind`, rendered from `inputs(result)`."""
    return lambda item, render, lang, height: _frame(render(kind, **inputs(item)), height)


_VIEWS: dict[str, Callable[[Any, Render, str, int], str]] = {
    "report": lambda item, render, lang, height: _frame(item, height),
    "study": _report_page("classification", lambda study: {key: study[key] for key in (
        "result", "image", "explanations", "preprocessing_study")}),
    "inside": lambda item, render, lang, height: _inside(item, lang),
    "explanation": lambda item, render, lang, height: _figures(figures=[_figure(item.get("overlay_path"),
                                                                                gradcam_caption(item, lang))]),
    "architecture": _report_page("architecture", lambda facts: {"facts": facts}),
    "classification": _report_page("classification", lambda result: {"result": result}),
    "comparison": _report_page("comparison", lambda result: {"result": result}),
    "evaluation": _report_page("evaluation", lambda result: {"result": result}),
    "structure": _report_page("structure", lambda result: {"result": result}),
    "batch": lambda item, render, lang, height: "\n".join(_frame(render("classification", result=result), height)
                                                          for result in item["images"]),
    "preprocessing": lambda item, render, lang, height: _preprocessing(item, lang),
}
"""How each of `KINDS` is shown."""
