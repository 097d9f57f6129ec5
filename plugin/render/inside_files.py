"""Write the pictures of a `look_inside` study into the output folder: each view's PNG (drawn by
`plugin.render.inside`), named by its content, so the same picture is one file.

    write_pictures(study, "ko")  ->  {"filters": ".../inside/VGG16-filters-3f2a....png", "feature_maps": [...], ...}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from plugin.render import inside
from plugin.render.overlay import write_by_content

if TYPE_CHECKING:
    from plugin.engine.inside import InsideStudy

__all__ = ["write_pictures"]


def _write(model: str, view: str, data: bytes) -> str:
    """The PNG `data` in the output folder's `inside/`, named by the model, the view and its content; its path."""
    return str(write_by_content("inside", model, view, data))


def write_pictures(study: InsideStudy, lang: str) -> dict[str, Any]:
    """Each view's picture (`plugin.render.inside.inside_pictures`) written; their paths by view."""
    model = study.result["model"]
    drawn = inside.inside_pictures(study.result, lang, photo=study.image.image if study.image else None,
                                   kernels=study.kernels, deeper_kernels=study.deeper_kernels, feature_maps=study.feature_maps,
                                   maximized=study.maximized, cell_box=study.cell_box, channel_order=study.channel_order,
                                   stage_boxes=study.stage_boxes)
    pictures: dict[str, Any] = {}
    for view, data in drawn.items():
        if view == "feature_maps":
            pictures[view] = [_write(model, f"features-{entry['layer']}", picture)
                              for picture, entry in zip(data, study.result.get("feature_maps", []))]
        else:
            pictures[view] = _write(model, view.replace("_", "-"), data)
    return pictures
