"""Regenerate the gallery of example reports kept in the repository: `python launch.py gallery`.

Each report is made once per language from one engine run: the facts or the result are computed
once and rendered in Korean and English.
"""

from __future__ import annotations

from plugin import api
from plugin.doors.cli import Command

__all__ = ["GALLERY", "make_gallery", "COMMAND"]

GALLERY = (("architecture", {"model": "VGG16"}, "vgg16-architecture"),
           ("architecture", {"model": "ResNet50"}, "resnet50-architecture"),
           ("comparison", {"models": ["VGG16", "ResNet50"]}, "vgg16-resnet50-comparison"))


def make_gallery() -> list[dict]:
    """Write every gallery report, in both languages, into the output folder's `gallery/`."""
    made = []
    for kind, options, name in GALLERY:
        if kind == "architecture":
            computed = {"facts": api.describe_architecture(detail="layers", diagram_format="svg", **options)}
        else:
            computed = {"result": api.compare_models(**options)}
        for lang in ("ko", "en"):
            made.append(api.render_report(kind, lang=lang, output_dir="gallery", file_name=f"{name}-{lang}", **computed))
    return made


def _run(args, console) -> int:
    for made in make_gallery():
        console.print(made["path"], soft_wrap=True, highlight=False)
    return 0


COMMAND = Command("gallery", "regenerate the example gallery (reports/gallery)", lambda parser: None, _run)
