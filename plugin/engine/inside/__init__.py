"""Inside the network: what a convolutional model sees, for the study's next chapter (혼자 공부하는
머신러닝+딥러닝 8-3; CNN Explainer; keras.io's "Visualizing what convnets learn").

One orchestration, `look_inside`, over a table of views, each a module of its own:

    filters         the first convolution's kernels (kernels.py), and a deeper layer's per-channel slices
    histograms      the chosen layer's weights trained against freshly initialised (histograms.py)
    feature_maps    the photo's activations at the first convolution and each stage's end (feature_maps.py)
    receptive_field what one output cell of each layer sees of the input (receptive.py)
    walk            one output value traced back to its 3x3 input window with the real numbers (walk.py)
    maximize        the image that maximises a channel (maximize.py)

The engine returns numbers and arrays (`InsideStudy`); pictures are drawn by `plugin.render.inside`
and written by the API.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from plugin.engine.inference.options import RunOptions
from plugin.engine.inference.prepared import PreparedModel, prepare_batch
from plugin.engine.inference.preprocessing import get_mode
from plugin.engine.inference.runners import KerasRunner
from plugin.engine.intake.images import load_image
from plugin.engine.results import ImageInput, InsideResult, LoadedImage
from plugin.errors import InvalidInputError

__all__ = ["VIEWS", "PHOTO_VIEWS", "DEFAULT_VIEWS", "InsideStudy", "look_inside", "check_views"]

VIEWS = ("filters", "histograms", "feature_maps", "receptive_field", "walk", "maximize")
"""Every view, in the order a page shows them."""

PHOTO_VIEWS = ("feature_maps", "walk", "maximize")
"""Views that need a photo (`maximize` draws beside the photo's own map)."""

DEFAULT_VIEWS = ("filters", "histograms", "feature_maps", "receptive_field", "walk")
"""What `look_inside` shows unless asked: all but the slow gradient ascent."""


@dataclasses.dataclass
class InsideStudy:
    """What `look_inside` found: the result (JSON-ready) and the arrays its pictures are drawn from.

    Attributes:
        result: the `InsideResult`.
        image: the photo as read, or None.
        kernels: the first convolution's kernels for the channels shown, (kh, kw, in, shown).
        deeper_kernels: a deeper layer's kernels for the channels shown, or None.
        feature_maps: one array per `result["feature_maps"]` entry, (H, W, channels shown).
        maximized: one RGB image (uint8, H x W x 3) per `result["maximized"]` entry.
        cell_box: the input window (left, top, right, bottom, in the photo's pixels) of the
            feature-map cell whose receptive field is drawn, or None.
        channel_order: the order of the model input's channels ("BGR" for caffe preprocessing),
            which the first filters' colours follow.
        stage_boxes: (stage, window in the photo's pixels) of the cell over the walked spot at each
            feature-map layer: the receptive field growing stage by stage.
    """

    result: InsideResult
    image: LoadedImage | None = None
    kernels: np.ndarray | None = None
    deeper_kernels: np.ndarray | None = None
    feature_maps: list[np.ndarray] = dataclasses.field(default_factory=list)
    maximized: list[np.ndarray] = dataclasses.field(default_factory=list)
    cell_box: tuple[float, float, float, float] | None = None
    channel_order: str = "RGB"
    stage_boxes: list[tuple[str, tuple[float, float, float, float]]] = dataclasses.field(default_factory=list)


def check_views(views: Sequence[str] | None, *, photo: bool) -> list[str]:
    """The views asked for, in `VIEWS` order (None: `DEFAULT_VIEWS`, less those needing a photo
    where there is none); refuse an unknown one, or a photo view without a photo."""
    if views is None:
        return [view for view in DEFAULT_VIEWS if photo or view not in PHOTO_VIEWS]
    if isinstance(views, str) or not isinstance(views, Sequence) or not views:
        raise InvalidInputError(f"Expected a list of views from {list(VIEWS)}. Received: views={str(views)[:80]!r}",
                                key="inside_views", value=str(views)[:80], choices=", ".join(VIEWS))
    unknown = [str(view)[:40] for view in views if view not in VIEWS]
    if unknown:
        raise InvalidInputError(f"Expected views from {list(VIEWS)}. Received: {unknown}", key="inside_views",
                                value=", ".join(unknown), choices=", ".join(VIEWS))
    needing = [view for view in views if view in PHOTO_VIEWS]
    if needing and not photo:
        raise InvalidInputError(f"Expected a photo (image=...) for the views {needing}. Received: no image.",
                                key="inside_needs_photo", views=", ".join(needing))
    return [view for view in VIEWS if view in views]


def look_inside(prepared: PreparedModel, image: ImageInput | None = None, *, layers: Sequence[str] | None = None,
                views: Sequence[str] | None = None, layer: str | None = None, maximize: int = 0,
                cell: Sequence[int] | None = None, all_channels: bool = False, top: int = 16,
                family: str | None = None, options: RunOptions = RunOptions()) -> InsideStudy:
    """Look inside a Keras model (`prepared`, on Keras): the views asked for (see `VIEWS`).

    Args:
        prepared: the model, prepared on Keras (its weights, preprocessing and protocol).
        image: a photo, for the views that need one.
        layers: feature-map layers by name instead of the first convolution and each stage's end.
        views: the views to compute; None for `DEFAULT_VIEWS` (less the photo's where there is none).
        layer: the layer of the histograms and the deeper filters (default: the first convolution).
        maximize: how many channels of `layer` (or of the last feature-map layer) to maximise.
        cell: the (row, column) of the first convolution's output traced by the walk and drawn
            with its receptive field (default: the most active cell of the most active channel).
        all_channels: every channel of each feature-map layer, not the `top` most active.
        top: channels shown per feature-map layer.
        family: the registry family (stage rules), or None for a model file.
        options: resize and preprocessing, as for classification.
    """
    from plugin.engine.inside import feature_maps, histograms, kernels, receptive, walk
    from plugin.engine.inside import maximize as maximizing

    model = cast(KerasRunner, prepared.runner).model
    if views is None and maximize and image is not None:  # maximise asked for by a count alone
        views = [*DEFAULT_VIEWS, "maximize"]
    chosen = check_views(views, photo=image is not None)
    timings: dict[str, float] = {}
    result: InsideResult = {"model": prepared.name, "weights": prepared.weights, "untrained": prepared.untrained,
                            "views": chosen, "timings": timings}
    study = InsideStudy(result=result, channel_order=get_mode(prepared.input_mode(options.preprocessing)).channel_order)
    first = kernels.first_convolution(model)
    started = time.perf_counter()
    fields = receptive.receptive_fields(model)
    if "receptive_field" in chosen:
        timings["receptive_field"] = round(time.perf_counter() - started, 3)
    batch = None
    if image is not None:
        loaded = load_image(image)
        study.image = loaded
        result["image"] = loaded.describe()
        result["region"] = prepared.framing(loaded.image, options.resize).describe()
        batch = prepare_batch([loaded.image], prepared, prepared.input_mode(options.preprocessing), options.resize)

    def timed(view: str, work) -> Any:
        started = time.perf_counter()
        value = work()
        timings[view] = round(time.perf_counter() - started, 3)
        return value

    if "filters" in chosen:
        result["filters"], study.kernels = timed("filters", lambda: kernels.kernel_view(model, first))
        if layer and layer != first:
            result["deeper_filters"], study.deeper_kernels = kernels.kernel_view(model, layer, shown=8)
    if "histograms" in chosen:
        result["histograms"] = timed("histograms", lambda: histograms.weight_histograms(model, layer or first))
    if "receptive_field" in chosen:
        result["receptive_fields"] = fields
    if batch is not None and "feature_maps" in chosen:
        asked = [(name, None) for name in layers] if layers else feature_maps.default_layers(model, family)
        maps, arrays = timed("feature_maps", lambda: feature_maps.feature_maps(model, batch, asked, top=top, fields=fields,
                                                                               all_channels=all_channels))
        result["feature_maps"], study.feature_maps = maps, arrays
    if batch is not None and ("walk" in chosen or "receptive_field" in chosen):
        started = time.perf_counter()
        walked = walk.walk_patch(model, batch, cell=cell)  # the receptive field is drawn for the walked cell
        if "walk" in chosen:
            result["walk"] = walked
            timings["walk"] = round(time.perf_counter() - started, 3)
        if "receptive_field" in chosen:
            study.cell_box = _cell_box(result, walked["cell"], fields.get(first), prepared.input_size)
            study.stage_boxes = _stage_boxes(result, walked["cell"], fields.get(first), prepared.input_size)
    if batch is not None and "maximize" in chosen and maximize:
        target = layer or (result["feature_maps"][-1]["layer"] if result.get("feature_maps") else first)
        channels = _channels_to_maximise(result, target, maximize)
        mode = prepared.input_mode(options.preprocessing)
        found, images = timed("maximize", lambda: maximizing.maximize_filters(model, target, channels, seed=0, preprocessing=mode))
        result["maximized"], study.maximized = found, images
    return study


def _channels_to_maximise(result: InsideResult, layer: str, count: int) -> list[int]:
    """The photo's most active channels of `layer` where its feature map was computed, else the first ones."""
    for entry in result.get("feature_maps", []):
        if entry["layer"] == layer:
            return entry["channels"][:count]
    return list(range(count))


def _stage_boxes(result: InsideResult, cell: Sequence[int], field,
                 input_size: tuple[int, int]) -> list[tuple[str, tuple[float, float, float, float]]]:
    """At each feature-map layer, the window of the cell over the walked spot: the same point of the
    photo seen from deeper and deeper, its window growing."""
    if field is None:
        return []
    centre_y, centre_x = field["start"] + cell[0] * field["stride"], field["start"] + cell[1] * field["stride"]
    boxes = []
    for entry in result.get("feature_maps", []):
        stage_field = entry.get("receptive_field")
        if not stage_field or len(entry["output_shape"]) < 2:
            continue
        rows, columns = entry["output_shape"][:2]
        row = min(rows - 1, max(0, round((centre_y - stage_field["start"]) / stage_field["stride"])))
        column = min(columns - 1, max(0, round((centre_x - stage_field["start"]) / stage_field["stride"])))
        box = _cell_box(result, (row, column), stage_field, input_size)
        if box is not None and stage_field["size"] > field["size"]:
            boxes.append((entry["stage"] or entry["layer"], box))
    return boxes


def _cell_box(result: InsideResult, cell: Sequence[int], field, input_size: tuple[int, int]) -> tuple[float, float, float, float] | None:
    """The photo's pixels (left, top, right, bottom) that `cell` of the first convolution sees: its
    receptive field in the model's input, mapped back through the region the model saw."""
    region = result.get("region")
    if field is None or region is None:
        return None
    row, column = cell
    left, top, right, bottom = region["box"]
    scale_x, scale_y = (right - left) / input_size[1], (bottom - top) / input_size[0]
    half = field["size"] / 2
    centre_x, centre_y = field["start"] + column * field["stride"], field["start"] + row * field["stride"]
    return (left + (centre_x - half + 0.5) * scale_x, top + (centre_y - half + 0.5) * scale_y,
            left + (centre_x + half + 0.5) * scale_x, top + (centre_y + half + 0.5) * scale_y)
