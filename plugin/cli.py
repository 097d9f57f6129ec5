"""The command line: `python launch.py COMMAND ...`.

    python launch.py [app] [--host 127.0.0.1] [--port 7860] [--share] [--lang ko|en]
    python launch.py models [--json]
    python launch.py bench [--models ResNet50] [--runs 10]
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
from plugin.errors import InvalidInputError, PluginError
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

    app = commands.add_parser("app", help="start the web app with its MCP endpoint (the default command)")
    app.add_argument("--host", default=os.environ.get("CNNLAB_HOST", "127.0.0.1"), help="address to listen on (default 127.0.0.1)")
    app.add_argument("--port", type=int, default=int(os.environ.get("CNNLAB_PORT", "7860")), help="port (default 7860)")
    app.add_argument("--share", action="store_true", help="make a public Gradio share link (off by default)")
    app.add_argument("--lang", choices=["ko", "en"], help="interface and report language (default: CNNLAB_LANG, else ko)")

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

    describe = commands.add_parser("describe", help="describe a model's architecture and draw it")
    describe.add_argument("model", nargs="?", default="ResNet50", help=f"registry model (default ResNet50; one of {', '.join(MODELS)})")
    describe.add_argument("--model-path", metavar="FILE", help="describe your own .keras or .h5 file instead")
    describe.add_argument("--detail", choices=["summary", "layers", "full"], default="summary")
    describe.add_argument("--format", dest="diagram_format", choices=["svg", "png", "dot"], default="svg", help="diagram format")
    describe.add_argument("--no-diagram", action="store_true", help="skip drawing the diagram")
    describe.add_argument("--expand-nested", action="store_true", help="draw the layers of nested models")
    describe.add_argument("--rankdir", choices=["TB", "LR"], default="TB", help="diagram direction")
    describe.add_argument("--json", action="store_true", help="print JSON instead of tables")

    compare = commands.add_parser("compare", help="compare models side by side (optionally on an image)")
    compare.add_argument("models", nargs="*", default=list(DEFAULT_MODELS), metavar="MODEL")
    compare.add_argument("--image", help="also classify this image with every model")
    compare.add_argument("--weights", default="imagenet", help="weights for --image: 'imagenet' (default), 'random' or a file")
    compare.add_argument("--allow-random-weights", action="store_true", help="allow --image with random weights")
    compare.add_argument("--top-k", type=int, default=3)
    compare.add_argument("--json", action="store_true", help="print JSON instead of a table")

    report = commands.add_parser("report", help="make a study report (HTML + Markdown)",
                                 description="report architecture MODEL | report classification IMAGE [--models ...] | "
                                             "report comparison MODEL [MODEL ...] [--image IMAGE]")
    report.add_argument("kind", choices=["architecture", "classification", "comparison"])
    report.add_argument("subjects", nargs="*", metavar="MODEL_OR_IMAGE",
                        help="architecture: a model; classification: an image; comparison: models")
    report.add_argument("--lang", choices=["ko", "en"], help="report language (default: CNNLAB_LANG, else ko)")
    report.add_argument("--models", nargs="+", metavar="MODEL", help="classification: models (default VGG16 ResNet50)")
    report.add_argument("--image", help="comparison: also classify this image")
    report.add_argument("--model-path", metavar="FILE", help="your own .keras/.h5 model")
    report.add_argument("--class-names", nargs="+", metavar="NAME")
    report.add_argument("--preprocessing", choices=[m for m in MODES if m != "builtin"])
    report.add_argument("--weights", default="imagenet")
    report.add_argument("--allow-random-weights", action="store_true")
    report.add_argument("--top-k", type=int, default=5)
    report.add_argument("--expand-nested", action="store_true")

    commands.add_parser("gallery", help="regenerate the example gallery (reports/gallery)")

    bench = commands.add_parser("bench", help="measure inference and diagram speed on this machine")
    bench.add_argument("--models", nargs="+", default=["ResNet50"], metavar="MODEL")
    bench.add_argument("--runs", type=int, default=10)
    bench.add_argument("--no-diagram", action="store_true", help="skip the DenseNet121 diagram timing")
    bench.add_argument("--json", action="store_true")

    commands.add_parser("mcp", help="serve the tools over MCP stdio (for desktop agents)")
    tools = commands.add_parser("tools", help="print the tool definitions for an LLM API")
    tools.add_argument("--format", choices=["openai", "anthropic", "mcp"], default="openai")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 120)
    try:
        _apply_settings(args)
        if args.command == "classify":
            return _classify(args, console)
        if args.command == "describe":
            return _describe(args, console)
        if args.command == "compare":
            return _compare(args, console)
        if args.command == "report":
            return _report(args, console)
        if args.command == "gallery":
            return _gallery(console)
        if args.command == "bench":
            return _bench(args, console)
        if args.command == "tools":
            from plugin.tools import tool_specs

            _print_json(tool_specs(args.format))
            return 0
        if args.command == "mcp":
            from plugin.mcp_server import serve_stdio

            serve_stdio()
            return 0
        if args.command == "models":
            return _models(args.json, console)
        if args.command in (None, "app"):
            from plugin.webapp import launch

            launch(host=getattr(args, "host", None) or os.environ.get("CNNLAB_HOST", "127.0.0.1"),
                   port=getattr(args, "port", None) or int(os.environ.get("CNNLAB_PORT", "7860")),
                   share=getattr(args, "share", False), lang=getattr(args, "lang", None))
            return 0
    except PluginError as exc:
        Console(stderr=True).print(f"[bold red]error[/] ({exc.type}): {exc}", markup=True, highlight=False, soft_wrap=True)
        return 2
    return 0


def _apply_settings(args) -> None:
    roots = list(args.image_root)
    for image in (getattr(args, "images", None) or []) + ([args.image] if getattr(args, "image", None) else []):
        if "://" not in image and not image.startswith("data:") and os.path.exists(image):
            roots.append(str(Path(image).resolve().parent))
    if getattr(args, "kind", None) == "classification":
        for image in args.subjects:
            if os.path.exists(image):
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


def _models(as_json: bool, console: Console) -> int:
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


def _describe(args, console: Console) -> int:
    from plugin.architecture import describe_architecture

    facts = describe_architecture(args.model, detail=args.detail, include_diagram=not args.no_diagram,
                                  diagram_format=args.diagram_format, expand_nested=args.expand_nested,
                                  rankdir=args.rankdir, model_path=args.model_path)
    if args.json:
        _print_json(facts)
        return 0
    console.print(f"[bold]{_escape(facts['model'])}[/]  input {_shape(facts['input_shape'])} -> output {_shape(facts['output_shape'])}")
    console.print(f"params {facts['total_params']:,} (trainable {facts['trainable_params']:,}), multiply-adds {_si(facts['macs'])}, "
                  f"FLOPs {_si(facts['flops'])}, depth {facts['depth']}, layers {facts['num_layers']}, {facts['size_mb']} MB (float32)")
    stages = Table(title="Stages", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("stage", "output", "blocks", "layout", "params", "mult-adds"):
        stages.add_column(column, justify="right" if column in ("params", "mult-adds", "blocks") else "left")
    for stage in facts["stages"]:
        stages.add_row(_escape(stage["name"]), str(stage["output_size"]), _plain(stage["blocks"]), _escape(stage["layout"]),
                       f"{stage['params']:,}", _si(stage["macs"]))
    console.print(stages)
    structure = Table(title="Structure", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("kind", "count", "shapes", "details"):
        structure.add_column(column)
    for row in facts["structure"]:
        structure.add_row(row["label"]["en"], str(row["count"]), row["shapes"], _escape(row["details"]))
    console.print(structure)
    if facts["layers"]:
        layers = Table(title="Layers", title_justify="left", box=box.SIMPLE_HEAD)
        for column in ("layer", "type", "output", "params", "mult-adds", "connected to"):
            layers.add_column(column)
        for row in facts["layers"]:
            layers.add_row(_escape(row["name"]), row["type"], _shape(row["output_shape"]), f"{row['params']:,}",
                           _si(row["macs"]), _escape(", ".join(row["inbound"])))
        console.print(layers)
    if facts["diagram"]:
        console.print(f"diagram: {facts['diagram']['path']} ({facts['diagram']['bytes']:,} bytes)")
    return 0


def _compare(args, console: Console) -> int:
    from plugin.compare import compare_models

    options = {}
    if args.image:
        weights = None if args.weights.lower() in ("random", "none") else args.weights
        options = {"weights": weights, "allow_random_weights": args.allow_random_weights, "top_k": args.top_k}
    result = compare_models(args.models, image=args.image, **options)
    if args.json:
        _print_json(result)
        return 0
    table = Table(title="Comparison", title_justify="left", box=box.SIMPLE_HEAD)
    columns = ["model", "params", "mult-adds", "depth", "MB", "top-1 (pub.)", "top-5 (pub.)", "ms / image"]
    if args.image:
        columns += ["top-1 here", "dog or cat?"]
    for column in columns:
        table.add_column(column, justify="left" if column in ("model", "top-1 here", "dog or cat?") else "right")
    for row in result["models"]:
        cells = [row["model"], _si(row["total_params"]), _si(row["macs"]), str(row["depth"]), f"{row['size_mb']:.1f}",
                 _percent(row["published"]["top1"]), _percent(row["published"]["top5"]), f"{row['inference_ms']:.1f}"]
        if args.image:
            untrained = " (untrained)" if row["untrained"] else ""
            cells += [_escape(row["predictions"][0]["label"]) + untrained, row["verdict"]["label"]]
        table.add_row(*cells)
    console.print(table)
    console.print(f"Timing: median of {result['timing']['runs']} runs of one image on {result['timing']['machine']}.")
    return 0


def _report(args, console: Console) -> int:
    from plugin.reports import render_report

    weights = None if args.weights.lower() in ("random", "none") else args.weights
    classify = {"top_k": args.top_k, "weights": weights, "allow_random_weights": args.allow_random_weights}
    if args.kind == "architecture":
        if args.model_path:
            options = {"model_path": args.model_path}
        else:
            options = {"model": args.subjects[0] if args.subjects else "ResNet50"}
        options["expand_nested"] = args.expand_nested
    elif args.kind == "classification":
        if len(args.subjects) != 1:
            raise InvalidInputError(f"Expected one image for a classification report. Received: {len(args.subjects)}")
        options = {"image": args.subjects[0], **classify, "model_path": args.model_path,
                   "class_names": args.class_names, "preprocessing": args.preprocessing}
        if args.models:
            options["models"] = args.models
    else:
        options = {"models": args.subjects or list(DEFAULT_MODELS)}
        if args.image:
            options |= {"image": args.image, **classify}
    made = render_report(args.kind, lang=args.lang, **options)
    console.print(made["path"], soft_wrap=True, highlight=False)
    console.print(made["markdown_path"], soft_wrap=True, highlight=False)
    return 0


GALLERY = (("architecture", {"model": "VGG16"}, "vgg16-architecture"),
           ("architecture", {"model": "ResNet50"}, "resnet50-architecture"),
           ("comparison", {"models": ["VGG16", "ResNet50"]}, "vgg16-resnet50-comparison"))


def _gallery(console: Console) -> int:
    """Regenerate the gallery of example reports kept in the repository (reports/gallery)."""
    from plugin.reports import render_report

    for kind, options, name in GALLERY:
        for lang in ("ko", "en"):
            made = render_report(kind, lang=lang, output_dir="gallery", file_name=f"{name}-{lang}", **options)
            console.print(made["path"], soft_wrap=True, highlight=False)
    return 0


def _bench(args, console: Console) -> int:
    from plugin.bench import run_benchmarks

    result = run_benchmarks(args.models, runs=args.runs, diagram=not args.no_diagram)
    if args.json:
        _print_json(result)
    else:
        table = Table(title="Inference, one image (median)", title_justify="left", box=box.SIMPLE_HEAD)
        for column in ("model", "compiled ms", "model.predict ms", "speed-up", "batch of 8, images/s"):
            table.add_column(column, justify="left" if column == "model" else "right")
        for row in result["models"]:
            table.add_row(row["model"], f"{row['compiled_ms']:.1f}", f"{row['predict_ms']:.1f}", f"{row['speedup']:.2f}x",
                          f"{row['batch_images_per_s']:.1f}")
        console.print(table)
        if result["diagram"]:
            d = result["diagram"]
            console.print(f"{d['model']} diagram: {d['first_s']:.2f} s first, {d['cached_s']:.3f} s cached")
        console.print(f"Targets {result['targets']}: {'met' if result['met'] else 'NOT met'}")
    return 0 if result["met"] else 1


def _shape(shape) -> str:
    if not shape:
        return "?"
    return "x".join("?" if d is None else str(d) for d in shape[1:])


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
