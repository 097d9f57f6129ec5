"""The command line: `python launch.py COMMAND ...`.

    python launch.py models [--json]
    python launch.py classify IMAGE [IMAGE ...] [--models VGG16 ResNet50] [--top-k 5] [--json]

A thin door: each command calls the engine and prints its result as readable tables, or as JSON
with `--json`. Engine errors are printed as one line on stderr (exit status 2), never a traceback.
Images named on the command line are trusted: their folders are added to the image roots.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from plugin.classify import DEFAULT_MODELS, MAX_TOP_K
from plugin.config import configure, get_settings
from plugin.errors import PluginError
from plugin.preprocessing import MODES
from plugin.registry import MODELS

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="launch.py",
        description="CNN Study Lab: classify images with classic CNNs and study their architecture.",
    )
    parser.add_argument("--image-root", action="append", default=[], metavar="DIR",
                        help="folder local images and model files may be read from (repeatable; "
                             "default: the working directory and the bundled examples)")
    parser.add_argument("--output-dir", metavar="DIR", help="folder generated files are written to (default: ./reports)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    models = commands.add_parser("models", help="list the models in the registry")
    models.add_argument("--json", action="store_true", help="print JSON instead of a table")

    classify = commands.add_parser("classify", help="classify images with one or more models")
    classify.add_argument("images", nargs="+", metavar="IMAGE", help="image file, http(s) URL or data URI")
    classify.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), metavar="MODEL",
                          help=f"registry models (default: {' '.join(DEFAULT_MODELS)}; one of {', '.join(MODELS)})")
    classify.add_argument("--top-k", type=int, default=5, help=f"classes to show per model, 1 to {MAX_TOP_K} (default: 5)")
    classify.add_argument("--weights", default="imagenet",
                          help="'imagenet' (default; downloaded once and cached), 'random', or a weights file")
    classify.add_argument("--allow-random-weights", action="store_true",
                          help="allow classifying with random weights (results are marked untrained)")
    classify.add_argument("--model-path", metavar="FILE", help="your own .keras or .h5 classifier instead of --models")
    classify.add_argument("--class-names", nargs="+", metavar="NAME", help="class names of --model-path, by output index")
    classify.add_argument("--preprocessing", choices=[m for m in MODES if m != "builtin"],
                          help="preprocessing of --model-path (required with it)")
    classify.add_argument("--json", action="store_true", help="print JSON instead of tables")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 120)
    try:
        _apply_settings(args)
        if args.command == "classify":
            return _classify(args, console)
        if args.command in (None, "models"):
            return _models(getattr(args, "json", False), console, hint=args.command is None)
    except PluginError as exc:
        Console(stderr=True).print(f"[bold red]error[/] ({exc.type}): {exc}", markup=True, highlight=False, soft_wrap=True)
        return 2
    return 0


def _apply_settings(args) -> None:
    roots = list(args.image_root)
    for image in getattr(args, "images", None) or []:
        if "://" not in image and not image.startswith("data:") and os.path.exists(image):
            roots.append(str(Path(image).resolve().parent))
    for path in (getattr(args, "model_path", None), getattr(args, "weights", None)):
        if path and os.path.exists(path):
            roots.append(str(Path(path).resolve().parent))
    changes = {}
    if roots:
        changes["image_roots"] = [*get_settings().image_roots, *roots]
    if args.output_dir:
        changes["output_dir"] = args.output_dir
    if changes:
        configure(**changes)


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _models(as_json: bool, console: Console, *, hint: bool = False) -> int:
    from plugin.registry import list_models

    listing = list_models()
    if as_json:
        _print_json(listing)
        return 0
    table = Table(title="Models (published figures)", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column, justify in (("model", "left"), ("input", "right"), ("prep", "left"), ("params", "right"),
                            ("mult-adds", "right"), ("top-1", "right"), ("top-5", "right"), ("depth", "right"),
                            ("MB", "right"), ("ImageNet", "left")):
        table.add_column(column, justify=justify, no_wrap=True)
    for model in listing["models"]:
        published = model["published"]
        table.add_row(
            model["name"], "x".join(map(str, model["input_shape"][:2])), model["preprocessing"],
            _si(published["parameters"]), _si(published["multiply_adds"]), _percent(published["top1"]),
            _percent(published["top5"]), _plain(published["depth"]), _plain(published["size_mb"]),
            "yes" if "imagenet" in model["weights"] else "no",
        )
    console.print(table)
    console.print("Sources: the Keras Applications table and each paper (models --json names them).")
    if hint:
        console.print("Next: [bold]python launch.py classify IMAGE --models VGG16 ResNet50[/]  (see --help)")
    return 0


def _classify(args, console: Console) -> int:
    from plugin.classify import classify_images

    weights = None if args.weights.lower() in ("random", "none") else args.weights
    result = classify_images(
        args.images, models=args.models, top_k=args.top_k, weights=weights, model_path=args.model_path,
        class_names=args.class_names, preprocessing=args.preprocessing, allow_random_weights=args.allow_random_weights,
    )
    if args.json:
        _print_json(result)
        return 0
    for record in result["images"]:
        image = record["image"]
        console.print(f"\n[bold]{_escape(image['source'])}[/]  {image['width']} x {image['height']}")
        for model in record["results"]:
            status = " [bold red]UNTRAINED (random weights)[/]" if model["untrained"] else ""
            table = Table(title=f"{_escape(model['model'])} ({_escape(model['weights'])}, {model['inference_ms']} ms){status}",
                          title_justify="left")
            table.add_column("#", justify="right")
            table.add_column("class")
            table.add_column("probability", justify="right")
            table.add_column("")
            for prediction in model["predictions"]:
                p = prediction["probability"]
                table.add_row(str(prediction["rank"]), _escape(prediction["label"]), f"{p:.2%}", "█" * round(p * 20))
            console.print(table)
            if model["verdict"]:
                verdict = model["verdict"]
                scores = ", ".join(f"{k} {v:.1%}" for k, v in verdict["scores"].items())
                console.print(f"  dog or cat? [bold]{verdict['label']}[/] ({scores})")
        agreement = record["agreement"]
        if agreement["agree"] is not None:
            word = "agree" if agreement["agree"] else "disagree"
            console.print(f"Models {word} (on the {agreement['basis']}).")
    return 0


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(str(text))


def _si(value) -> str:
    if value is None:
        return "-"
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.1f}{suffix}"
    return str(value)


def _percent(value) -> str:
    return "-" if value is None else f"{value:.1%}"


def _plain(value) -> str:
    return "-" if value is None else f"{value:g}"
