"""The inside report (`look_inside`): a model's first filters, its weights trained against
untrained, the photo's feature maps layer by layer, one cell's receptive field, one cell worked out
with its real numbers, and the images that maximise a channel; each figure with what to notice.

The pictures are those the API drew (`plugin.render.inside`) and wrote in the output folder: the
result's `pictures` names them (`{"filters": path, "feature_maps": [path, ...], ...}`, or one such
mapping per language, `{"ko": {...}, "en": {...}}`), and this page reads them there; it never runs
the engine.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from plugin.config import get_settings
from plugin.engine.results import FeatureMap, InsideResult, PatchWalk, ReceptiveField
from plugin.errors import AccessDeniedError, RenderError
from plugin.render.inside import SLICE_INPUTS, map_caption, map_title
from plugin.render.pages import Page, ReportKind
from plugin.render.pages._parts import expect, short_name
from plugin.render.pictures import data_uri

PICTURE_FILES = {"filters": "filters.png", "deeper_filters": "deeper-filters.png", "histograms": "histograms.png",
                 "receptive_field": "receptive-field.png", "maximized": "maximized.png"}
"""The Markdown version's file of each single picture; the feature maps are `feature-map-<n>.png`."""
MAX_PICTURE_BYTES = 32 * 1024 * 1024
_PNG = b"\x89PNG\r\n\x1a\n"
AGREEMENT = 1e-4
"""How close the walk's value and the model's must be to be called the same (the issue's test)."""


def _run(api: Any, options: dict[str, Any]) -> dict[str, Any]:
    return {"result": api.look_inside(**options)}  # `lang`: the report's, for the pictures' words


def _prepare(api: Any, given: dict[str, Any]) -> dict[str, Any]:
    return {"result": expect(given.get("result"), "result", "look_inside", ("model", "weights", "views"))}


def _picture(path: Any, view: str) -> bytes:
    """A picture the API wrote, read from the output folder (a PNG, nowhere else)."""
    if not isinstance(path, (str, os.PathLike)):
        raise RenderError(f"Expected the {view} picture as a path. Received: {type(path).__name__}")
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(Path(os.path.realpath(get_settings().output_dir))):
        raise AccessDeniedError(f"Expected the {view} picture inside the output folder. Received: {real.name!r} outside it")
    if not real.is_file() or real.stat().st_size > MAX_PICTURE_BYTES:
        raise RenderError(f"Expected the {view} picture {real.name!r} in the output folder. Received: no such file, "
                          f"or one over {MAX_PICTURE_BYTES // 2**20} MiB")
    data = real.read_bytes()
    if not data.startswith(_PNG) or data[12:16] != b"IHDR":
        raise RenderError(f"Expected the {view} picture {real.name!r} to be a PNG. Received: {data[:8]!r}")
    return data


def _figure(data: bytes, name: str, alt: str, files: dict[str, bytes]) -> dict[str, Any]:
    """A picture as the page shows it (a data URI, its size) and as the Markdown version's file."""
    width, height = struct.unpack(">II", data[16:24])
    files[name] = data
    return {"uri": data_uri(data, "image/png"), "file": name, "width": width, "height": height, "alt": alt}


def _pictures(data: InsideResult, lang: str) -> Mapping[str, Any]:
    """The result's picture paths in `lang` (a mapping per language) or as they are (one mapping)."""
    pictures: Any = data.get("pictures") or {}
    if isinstance(pictures, Mapping) and isinstance(pictures.get(lang), Mapping):
        return pictures[lang]
    return pictures if isinstance(pictures, Mapping) else {}


def _decimals(largest: float) -> int:
    """Decimals for numbers up to `largest`: one from 100 (a Caffe-preprocessed pixel), two from 10, else four."""
    return 1 if largest >= 100 else 2 if largest >= 10 else 4


def _number(value: float, decimals: int | None = None) -> str:
    """A number of the walk as its blocks write it (`_decimals` of its own size unless given); no "-0.0000"."""
    value = float(value)
    text = f"{value:.{_decimals(abs(value)) if decimals is None else decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _short(value: float) -> str:
    """A statistic in a sentence: three significant figures ("0.198", "12.3"), four decimals below 0.001."""
    value = float(value)
    return f"{value:.3g}" if abs(value) >= 1e-3 else _number(value, 4)


def _build(inputs: dict[str, Any], t: dict, lang: str) -> Page:
    data: InsideResult = inputs["result"]
    paths = _pictures(data, lang)
    files: dict[str, bytes] = {}

    def single(view: str, alt: str) -> dict[str, Any] | None:
        path = paths.get(view)
        return _figure(_picture(path, view), PICTURE_FILES[view], alt, files) if path else None

    model, weights = data["model"], data["weights"]
    context: dict[str, Any] = {
        "data": data, "model": model,
        "intro": t["inside_intro" if data.get("image") else "inside_intro_no_photo"].format(model=model, weights=weights)
        + ("" if data["untrained"] or not data.get("image") else " " + t["inside_intro_book"]),
        "untrained_text": t["inside_untrained"].format(model=model) if data["untrained"] else None,
        "photo_text": t["inside_photo"].format(source=short_name(data["image"]), width=data["image"]["width"],
                                               height=data["image"]["height"]) if data.get("image") else None,
        "filters": None, "deeper": None, "histograms": None, "maps": [], "maps_text": None, "receptive": None,
        "walk": None, "maximized": None, "timings": _timings(data, t)}
    if data.get("filters"):
        view = data["filters"]
        context["filters"] = {"text": _filters_text(view, t, untrained=data["untrained"]), "layer": view["layer"],
                              "figure": single("filters", t["inside_alt_filters"].format(layer=view["layer"]))}
    if data.get("deeper_filters"):
        view = data["deeper_filters"]
        depthwise = "depthwise" in str(view.get("kind", "")).lower()
        text = _filters_text(view, t, untrained=data["untrained"]) if depthwise else t["inside_deeper_text"].format(
            layer=view["layer"], channels=view["shape"][2], shown=len(view["shown"]), inputs=min(SLICE_INPUTS, view["shape"][2]))
        context["deeper"] = {"title": t["inside_deeper"].format(layer=view["layer"]), "text": text,
                             "figure": single("deeper_filters", t["inside_alt_filters"].format(layer=view["layer"]))}
    if data.get("histograms"):
        context["histograms"] = _histograms(data, t, single)
    maps = data.get("feature_maps") or []
    map_paths = paths.get("feature_maps") or []
    if maps:
        context["maps_text"] = t["inside_maps_text"].format(top=len(maps[0]["channels"]))
    for index, entry in enumerate(maps):
        path = map_paths[index] if index < len(map_paths) else None
        figure = _figure(_picture(path, "feature_maps"), f"feature-map-{index + 1}.png",
                         t["inside_alt_map"].format(layer=entry["layer"]), files) if path else None
        every = len(entry["channels"]) >= entry["output_shape"][-1] > 16
        context["maps"].append({"title": map_title(entry, lang), "caption": map_caption(entry, lang), "figure": figure,
                                "all": t["inside_maps_all"].format(count=len(entry["channels"])) if every else None,
                                "tall": bool(figure and figure["height"] > 1400)})
    if data.get("receptive_fields") or paths.get("receptive_field"):
        context["receptive"] = _receptive(data, t, single)
    if data.get("walk"):
        context["walk"] = _walk(data["walk"], t)
    if data.get("maximized"):
        context["maximized"] = _maximized(data, t, single)
    return Page(title=t["inside_title"].format(model=model), name_parts=[model], context=context, files=files)


def _filters_text(view: Any, t: dict, *, untrained: bool) -> str:
    """What the kernels' picture shows: how many, how drawn (colour, grey, depthwise), what to notice
    (for random weights: that there is nothing to notice yet)."""
    kh, kw, channels, out = view["shape"]
    depthwise = "depthwise" in str(view.get("kind", "")).lower()
    count, shown = channels * out if depthwise else out, len(view["shown"])
    drawn = t["inside_filters_drawn_all" if shown >= count else "inside_filters_drawn_some"].format(
        layer=view["layer"], count=count, shown=shown, kh=kh, kw=kw)
    scale = _short(view["scale"])
    if depthwise:
        said = [t["inside_depthwise_text"].format(layer=view["layer"], scale=scale)]
    else:
        kind = "inside_filters" if channels == 3 else "inside_filters_grey"
        said = [t[f"{kind}_how"].format(scale=scale), t[f"{kind}_notice"]]
    if untrained:  # no edge found in noise
        said = said[:1] + [t["inside_filters_untrained"]]
    return " ".join([drawn, *said])


def _histograms(data: InsideResult, t: dict, single: Any) -> dict[str, Any]:
    pair = data["histograms"]
    trained, untrained = pair["trained"], pair["untrained"]
    texts = [t["inside_hist_text"].format(layer=pair["layer"], count=f"{trained['count']:,}", weights=data["weights"],
                                          initializer=pair["initializer"])]
    if data["untrained"]:
        texts.append(t["inside_hist_untrained"])
    elif untrained["std"] > 0:
        ratio = trained["std"] / untrained["std"]
        texts.append(t["inside_hist_wider" if ratio >= 1 else "inside_hist_narrower"].format(
            trained_std=_short(trained["std"]), untrained_std=_short(untrained["std"]), ratio=f"{ratio:.1f}",
            trained_mean=_short(trained["mean"]), untrained_mean=_short(untrained["mean"])))
    batch_norm = pair.get("batch_norm")
    if batch_norm:
        texts.append(t["inside_bn_text"].format(layer=batch_norm.get("layer", "")))
    return {"texts": texts, "layer": pair["layer"],
            "figure": single("histograms", t["inside_alt_histograms"].format(layer=pair["layer"]))}


def _receptive(data: InsideResult, t: dict, single: Any) -> dict[str, Any]:
    """The receptive field drawn on the photo, what it is, and a table of how it grows."""
    fields: Mapping[str, ReceptiveField] = data.get("receptive_fields") or {}
    walk = data.get("walk")
    layer = walk["layer"] if walk else (data["filters"]["layer"] if data.get("filters") else None)
    texts = [t["inside_receptive_what"]]
    figure = single("receptive_field", t["inside_alt_receptive"].format(layer=layer or ""))
    if figure and walk and layer is not None and layer in fields:
        texts.append(t["inside_receptive_square"].format(layer=layer, row=walk["cell"][0], column=walk["cell"][1],
                                                         size=fields[layer]["size"]))
    rows = _field_rows(fields, data.get("feature_maps") or [])
    if rows:
        last = rows[-1]
        texts.append(t["inside_receptive_grows"].format(last_layer=last["layer"], last_size=last["size"]))
    return {"texts": texts, "figure": figure, "rows": rows, "table_text": t["inside_receptive_table_text"] if rows else None}


def _field_rows(fields: Mapping[str, ReceptiveField], maps: Sequence[FeatureMap]) -> list[dict[str, Any]]:
    """The layers whose receptive field the table shows: the feature maps' layers where there are
    some, else each layer where the field changes (at most 40), with their size, stride and start."""
    if maps:
        chosen = [(entry["layer"], entry.get("receptive_field") or fields.get(entry["layer"])) for entry in maps]
    else:
        chosen, last = [], None
        for name, field in fields.items():
            key = (field["size"], field["stride"])
            if key != last:
                chosen.append((name, field))
                last = key
        chosen = chosen[:40]
    return [{"layer": name, "size": field["size"], "stride": field["stride"], "start": f"{float(field['start']):g}"}
            for name, field in chosen if field]


def _grid(values: Any, channel: int) -> list[list[str]]:
    """One input channel of a (kh, kw, in) nested list as rows of numbers, all with the same decimals."""
    rows = [[float(cell[channel] if isinstance(cell, Sequence) else cell) for cell in row] for row in values]
    decimals = _decimals(max((abs(cell) for row in rows for cell in row), default=0.0))
    return [[_number(cell, decimals) for cell in row] for row in rows]


def _walk(walk: PatchWalk, t: dict) -> dict[str, Any]:
    """The walk as blocks: each input channel's patch, kernel and products with its sum, then the
    sum, bias and each following step, ending at the model's own value and the difference."""
    patch = walk["patch"]
    kh, kw = len(patch), len(patch[0]) if patch else 0
    first = patch[0][0] if patch and patch[0] else []
    inputs = len(first) if isinstance(first, Sequence) else 1
    channels = []
    for channel in range(inputs):
        products = [[float(cell[channel] if isinstance(cell, Sequence) else cell) for cell in row] for row in walk["products"]]
        channels.append({"title": t["inside_walk_input"].format(index=channel), "patch": _grid(patch, channel),
                         "kernel": _grid(walk["kernel"], channel), "products": _grid(walk["products"], channel),
                         "sum": t["inside_walk_channel_sum"].format(value=_number(sum(map(sum, products))))})
    steps = [{"name": t.get(f"inside_step_{step.get('name')}", str(step.get("name", ""))), "layer": step.get("layer", ""),
              "formula": step.get("formula", ""), "value": _number(step["value"])} for step in walk["steps"]]
    row, column = walk["cell"][0], walk["cell"][1]
    texts = [t["inside_walk_text"].format(layer=walk["layer"], channel=walk["channel"], row=row, column=column, kh=kh, kw=kw,
                                          count=kh * kw * inputs)]
    if steps:
        texts.append(t["inside_walk_steps"].format(steps=", ".join(step["name"] for step in steps)))
    difference = abs(float(walk["difference"]))
    ending = t["inside_walk_agree" if difference <= AGREEMENT else "inside_walk_disagree"].format(
        value=_number(walk["value"]), model_value=_number(walk["model_value"]), difference=f"{difference:.1e}")
    return {"texts": texts, "channels": channels, "sum": _number(walk["sum"]), "bias": _number(walk["bias"]),
            "conv": _number(walk["conv"]), "steps": steps, "model_value": _number(walk["model_value"]),
            "model_layer": walk["model_layer"], "difference": f"{difference:.1e}", "ending": ending}


def _maximized(data: InsideResult, t: dict, single: Any) -> dict[str, Any]:
    found = data["maximized"]
    layers = ", ".join(dict.fromkeys(item["layer"] for item in found))
    steps = sorted({item["steps"] for item in found})
    seconds = (data.get("timings") or {}).get("maximize", max((item["seconds"] for item in found), default=0.0))
    texts = [t["inside_maximize_text"].format(layer=layers, count=len(found), seconds=f"{seconds:.1f}",
                                              steps=str(steps[0]) if len(steps) == 1 else f"{steps[0]}–{steps[-1]}")]
    maps = data.get("feature_maps") or []
    if any(entry["layer"] == item["layer"] and item["channel"] in entry["channels"] for entry in maps for item in found):
        texts.append(t["inside_maximize_maps"])
    return {"texts": texts, "figure": single("maximized", t["inside_alt_maximized"].format(layer=layers))}


def _timings(data: InsideResult, t: dict) -> list[dict[str, str]]:
    """How long each view took, in the order they are shown."""
    keys = {"receptive_fields": "receptive_field"}
    return [{"view": t.get(f"inside_view_{keys.get(view, view)}", view), "seconds": t["inside_seconds"].format(seconds=f"{seconds:.2f}")}
            for view, seconds in (data.get("timings") or {}).items()]


KIND = ReportKind(
    name="inside",
    description="what a model sees inside (look_inside): the first layer's filters, weights trained against untrained, "
                "the photo's feature maps, receptive fields, one cell worked out with its real numbers, maximised "
                "filters; from model (and image for the photo's views)",
    inputs=("result",),
    options=("model", "image", "model_path", "preprocessing", "weights", "allow_random_weights", "layers", "views", "layer", "maximize",
             "cell", "all_channels", "resize"),
    required=(("model", "model_path"),),
    pictures_in_language=True,
    subject="model",
    run=_run, prepare=_prepare, build=_build,
)
