"""Regenerate the gallery of example reports kept in the repository: `python launch.py gallery`.

Each report is made once per language from one engine run: the facts or the result are computed
once and rendered in Korean and English. The evaluation example runs on crops of the two example
photos (8 each, made here with a fixed seed), the only labelled photos the project ships.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from PIL import Image, ImageOps

from plugin import api
from plugin.config import EXAMPLES_DIR, configure, get_settings
from plugin.doors.cli import Command

__all__ = ["GALLERY", "make_gallery", "example_crops", "COMMAND"]

_REAL = ["EfficientNetLite0", "EfficientNetLite1"]  # ImageNet weights that come with the project: real answers
GALLERY = (("classification", {"image": EXAMPLES_DIR / "cat_chelsea.png", "models": _REAL, "expected": "cat"}, "cat-classification"),
           ("classification", {"image": EXAMPLES_DIR / "dog_bicycle.jpg", "models": _REAL, "expected": "dog"}, "dog-classification"),
           ("classification", {"image": EXAMPLES_DIR / "dog_and_cat.jpg", "models": _REAL[:1], "expected": None,
                               "methods": ["gradcam", "occlusion"], "targets": ["dog", "cat"], "metrics": True},
                      "dog-and-cat-explanations"),
           ("architecture", {"model": "VGG16"}, "vgg16-architecture"),
           ("architecture", {"model": "ResNet50"}, "resnet50-architecture"),
           ("architecture", {"model": "EfficientNetLite0"}, "efficientnetlite0-architecture"),
           ("architecture", {"model": "AlexNet"}, "alexnet-architecture"),
           ("comparison", {"models": ["VGG16", "ResNet50"]}, "vgg16-resnet50-comparison"),
           ("structure", {"models": ["AlexNet", "VGG16", "ResNet50"]}, "alexnet-vgg16-resnet50-structure"),
           ("evaluation", {"models": [*_REAL, "EfficientNetLite2"]}, "example-crops-evaluation"))


def crops(picture: Image.Image, count: int, seed: int) -> list[Image.Image]:
    """Crops (70 to 100 %), every other one mirrored, of a photo: a small labelled set from one photo."""
    rng = random.Random(seed)
    out = []
    for index in range(count):
        scale = rng.uniform(0.7, 1.0)
        w, h = int(picture.width * scale), int(picture.height * scale)
        left, top = rng.randint(0, picture.width - w), rng.randint(0, picture.height - h)
        crop = picture.crop((left, top, left + w, top + h))
        out.append(ImageOps.mirror(crop) if index % 2 else crop)
    return out


def example_crops(root: Path, per_class: int = 8) -> Path:
    """Write `cat/` and `dog/` folders of crops of the example cat and dog under `root`; return it."""
    for label, name in (("cat", "cat_chelsea.png"), ("dog", "dog_bicycle.jpg")):
        (root / label).mkdir(parents=True, exist_ok=True)
        for index, crop in enumerate(crops(Image.open(EXAMPLES_DIR / name).convert("RGB"), per_class, seed=len(label))):
            crop.save(root / label / f"{label}_{index}.jpg", quality=90)
    return root


def make_gallery() -> list[dict]:
    """Write every gallery report, in both languages, into the output folder's `gallery/`."""
    roots = list(get_settings().image_roots)
    with tempfile.TemporaryDirectory() as folder:
        crops_folder = example_crops(Path(folder) / "example-crops")
        configure(image_roots=[*roots, Path(folder)])
        try:
            return [made for kind, options, name in GALLERY for made in _make(kind, options, name, crops_folder)]
        finally:
            configure(image_roots=roots)


def _make(kind: str, options: dict, name: str, crops_folder: Path) -> list[dict]:
    if kind == "architecture":
        computed = {"facts": api.describe_architecture(detail="layers", diagram_format="svg", **options)}
    elif kind == "classification":
        explaining = {key: options[key] for key in ("methods", "targets", "metrics", "sanity") if key in options}
        computed = api.study_image(options["image"], options["models"], expected=options["expected"], explain=True,
                                   study_preprocessing=not explaining, **explaining)
    elif kind == "evaluation":
        computed = {"result": api.evaluate(crops_folder, models=options["models"])}
    elif kind == "structure":
        computed = {"result": api.structures(options["models"])}
    else:
        computed = {"result": api.compare_models(**options)}
    return [api.render_report(kind, lang=lang, output_dir="gallery", file_name=f"{name}-{lang}", **computed)
            for lang in ("ko", "en")]


def _run(args, console) -> int:
    for made in make_gallery():
        console.print(made["path"], soft_wrap=True, highlight=False)
    return 0


COMMAND = Command("gallery", lambda parser, lang: None, _run)
