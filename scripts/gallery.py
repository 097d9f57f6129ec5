"""Regenerate the gallery of example reports kept in the repository: `python launch.py gallery`.

Each report is made once per language from one engine run: the facts or the result are computed
once and rendered in Korean and English.
"""

from __future__ import annotations

from plugin import api
from plugin.config import EXAMPLES_DIR
from plugin.doors.cli import Command
from plugin.engine.intake.images import load_image

__all__ = ["GALLERY", "make_gallery", "COMMAND"]

_REAL = ["EfficientNetLite0", "EfficientNetLite1"]  # ImageNet weights that come with the project: real answers
GALLERY = (("classification", {"image": EXAMPLES_DIR / "cat_chelsea.png", "models": _REAL, "expected": "cat"}, "cat-classification"),
           ("classification", {"image": EXAMPLES_DIR / "dog_bicycle.jpg", "models": _REAL, "expected": "dog"}, "dog-classification"),
           ("architecture", {"model": "VGG16"}, "vgg16-architecture"),
           ("architecture", {"model": "ResNet50"}, "resnet50-architecture"),
           ("architecture", {"model": "EfficientNetLite0"}, "efficientnetlite0-architecture"),
           ("architecture", {"model": "AlexNet"}, "alexnet-architecture"),
           ("comparison", {"models": ["VGG16", "ResNet50"]}, "vgg16-resnet50-comparison"))


def make_gallery() -> list[dict]:
    """Write every gallery report, in both languages, into the output folder's `gallery/`."""
    made = []
    for kind, options, name in GALLERY:
        if kind == "architecture":
            computed = {"facts": api.describe_architecture(detail="layers", diagram_format="svg", **options)}
        elif kind == "classification":
            image = load_image(options["image"])
            result = api.classify_image(image, models=options["models"], expected=options["expected"])
            explanations = [api.explain_image(image, model, expected=options["expected"]) for model in options["models"]]
            study = api.compare_preprocessing(image, options["models"][0], top_k=3)
            computed = {"result": result, "image": image, "explanations": explanations, "preprocessing_study": study}
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
