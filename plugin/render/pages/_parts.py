"""Pieces several kinds of report share: the photo, the charts as pictures, a model's stage view as
a picture, the machine's words, a photo's short name, a result's given inputs checked."""

from __future__ import annotations

import re
from typing import Any

from plugin.engine.results import ImageRecord, Timing
from plugin.errors import InvalidInputError
from plugin.render.charts import chart_svg
from plugin.render.pictures import data_uri, jpeg, svg_to_png
from plugin.render.stage_view import stage_view_svg

__all__ = ["photo_context", "chart_files", "stage_view_picture", "machine", "short_name", "expect", "photo_of"]


def expect(value: Any, name: str, source: str, keys: tuple[str, ...]) -> Any:
    """`value` if it is a `source` result (a dict with `keys`), else a clear error."""
    if not isinstance(value, dict) or not all(key in value for key in keys):
        raise InvalidInputError(f"Expected {name}= to be a {source} result (a dict with {', '.join(keys)}). "
                                f"Received: {type(value).__name__}")
    return value


def photo_of(api: Any, image: Any) -> Any:
    """The photo as a picture (PIL), read by the public API's intake (a `LoadedImage` is not read again)."""
    return api.load_image(image).image if image is not None else None


def photo_context(picture: Any, files: dict, file_keys: dict) -> dict:
    """The photo as the page shows it (a data URI) and as the Markdown version's `image.jpg`."""
    if picture is None:
        return {"image_uri": None}
    data, width, height = jpeg(picture)
    files["image.jpg"] = data
    file_keys["image.jpg"] = "image_file"
    return {"image_uri": data_uri(data, "image/jpeg"), "image_width": width, "image_height": height}


def chart_files(charts: list[dict]) -> dict[str, bytes]:
    """Each chart as a PNG picture for the Markdown version: {"chart-1.png": ...}."""
    return {f"chart-{index + 1}.png": svg_to_png(chart_svg(chart)) for index, chart in enumerate(charts)}


def stage_view_picture(facts: Any, t: dict, files: dict) -> dict:
    """A model's stage view on a page of several models: `{"stage_view"}`, the drawing the page
    shows inline, and `{"stage_view_file"}`, its picture for the Markdown version
    (`stages-<model>.png`, added to `files`); both None for a model of one stage."""
    drawing = stage_view_svg(facts, t)  # our own template, every word escaped: safe to inline
    if drawing is None:
        return {"stage_view": None, "stage_view_file": None}
    name = "stages-" + re.sub(r"[^A-Za-z0-9._-]+", "_", str(facts["model"]))[:60] + ".png"
    files[name] = svg_to_png(drawing)
    return {"stage_view": drawing, "stage_view_file": name}


def machine(timing: Timing, t: dict) -> str:
    """The machine a timing was measured on, in words."""
    device = timing.get("device")
    if not device:
        return timing.get("machine", "")
    return t["machine_gpu" if device["gpus"] else "machine_cpu"].format(**device)


def short_name(image: ImageRecord) -> str:
    """A photo's name for a title: at most 60 characters."""
    name = image.get("name") or image["source"]
    return name if len(name) <= 60 else name[:57] + "…"
