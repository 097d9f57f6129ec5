"""The command line: `python launch.py [COMMAND] ...`.

    python launch.py [app] [--host 127.0.0.1] [--port 7860] [--share] [--allowed-host NAME] [--lang ko|en]
    python launch.py models [--json]
    python launch.py classify IMAGE [IMAGE ...] [--models VGG16 ResNet50] [--top-k 5] [--json]
    python launch.py explain IMAGE [--method scorecam] [--target cat] [--metrics] [--sanity]   (several values: side by side)
    python launch.py describe ResNet50 | compare VGG16 ResNet50 | report KIND ... | mcp | tools

With no command it starts the web app, so the app's options work on their own
(`python launch.py --port 8000`). A thin door: each command calls the public API and prints its
result as tables in the chosen language (`--lang`, else CNNLAB_LANG, else Korean), or as JSON with
`--json`. Engine errors are printed as one line on stderr (exit status 2), never a traceback.
Images, folders and model files named on the command line are trusted: their folders are added
to the image roots.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

import numpy as np
from rich import box
from rich.console import Console
from rich.table import Table

from plugin import api, words
from plugin.api import display_name, fallback_note, gradcam_caption, region_text
from plugin.config import configure, get_settings
from plugin.doors import tools
from plugin.doors.cli_options import add_options, validated
from plugin.doors.cli_parser import parser_class, requested_lang
from plugin.errors import InvalidInputError, PluginError
from plugin.limits import DEFAULT_ARCHITECTURE_MODEL, FALLBACK_MODEL, MAX_IMAGES_PER_CALL

__all__ = ["main", "build_parser", "Command"]


@dataclasses.dataclass(frozen=True)
class Command:
    """A command added from outside the package (the checkout's scripts: bench, gallery); its help
    is the catalogue's `cli.help.command.<name>`, its options' helps in the language it is given."""

    name: str
    add_arguments: Callable[[argparse.ArgumentParser, str], None]
    run: Callable[[argparse.Namespace, Console], int]


def _app_options(parser: argparse.ArgumentParser, said: dict) -> None:
    """The web app's options, accepted before any command and after `app`."""
    suppress = argparse.SUPPRESS
    option = said["option"]
    parser.add_argument("--host", default=suppress,
                        help=option["host"].format(variables=" / ".join(HOST_VARIABLES), default=DEFAULT_HOST))
    parser.add_argument("--port", type=int, default=suppress,
                        help=option["port"].format(variables=" / ".join(PORT_VARIABLES), default=DEFAULT_PORT))
    parser.add_argument("--share", action="store_true", default=suppress, help=option["share"])
    parser.add_argument("--allowed-host", action="append", default=suppress, metavar="NAME", help=option["allowed_host"])
    _lang_option(parser, said)


def build_parser(extra_commands: Sequence[Command] = (), lang: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser, its help and errors in `lang` (default: the `--lang` asked for, else
    CNNLAB_LANG, else Korean)."""
    lang = words.check_lang(lang or requested_lang(None))
    said = words.section("cli", lang)["help"]
    command_help, option = said["command"], said["option"]
    parser = parser_class(lang)(prog="launch.py", description=said["description"])
    parser.add_argument("--image-root", action="append", default=[], metavar="DIR", help=option["image_root"])
    parser.add_argument("--output-dir", metavar="DIR", help=option["output_dir"])
    _app_options(parser, said)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title=said["commands"])

    def command(name: str, **kwargs) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=command_help[name], description=command_help[name], **kwargs)

    _app_options(command("app"), said)

    models = command("models")
    models.add_argument("--json", action="store_true", help=option["json"])

    # Each command's options come from its tool's arguments model (plugin.doors.tools): written once.
    classify = command("classify")
    add_options(classify, tools.ClassifyImageArguments, lang, skip={"image"},
                positional={"images": {"nargs": "+", "metavar": "IMAGE"}},
                helps={"images": option["images"].format(count=MAX_IMAGES_PER_CALL)})
    _output_options(classify, said)

    # One map, or several side by side: --method and --target take several values (compare_explanations).
    explain = command("explain")
    methods = [entry["name"] for entry in api.explanation_methods()]  # the table now, a method registered at run time too
    add_options(explain, tools.ExplainPredictionArguments, lang, skip={"class_index", "include_image"},
                positional={"image": {"metavar": "IMAGE"}}, defaults={"model": FALLBACK_MODEL}, many={"method", "target"},
                helps={"method": option["explain_method"].format(methods=", ".join(methods), default=api.DEFAULT_EXPLAIN_METHOD),
                       "target": option["explain_target"], "layer": option["explain_layer"]})
    explain.add_argument("--class", dest="class_index", metavar="CLASS", help=option["class"])
    _output_options(explain, said)

    inside = command("inside")
    add_options(inside, tools.LookInsideArguments, lang, skip={"include_image", "lang"},
                positional={"image": {"nargs": "?", "metavar": "IMAGE"}})
    inside.add_argument("--walk", action="store_true", help=option["walk"])
    _output_options(inside, said)

    study = command("preprocessing")
    add_options(study, tools.ComparePreprocessingArguments, lang, positional={"image": {"metavar": "IMAGE"}},
                defaults={"model": FALLBACK_MODEL, "top_k": 3})
    _output_options(study, said)

    describe = command("describe")
    add_options(describe, tools.DescribeArchitectureArguments, lang, skip={"max_layers", "include_image"},
                positional={"model": {"nargs": "?", "metavar": "MODEL"}},
                flags={"diagram_format": ["--format"], "include_diagram": ["--no-diagram"]})
    _output_options(describe, said)

    compare = command("compare")
    add_options(compare, tools.CompareModelsArguments, lang, positional={"models": {"nargs": "*", "metavar": "MODEL"}})
    _output_options(compare, said)

    kinds, subject = api.report_kinds(), said["subject"]  # every kind of report, each with what its words after it name
    report = commands.add_parser("report", help=command_help["report"], description=" | ".join(
        f"report {name} {subject[kind.subject]}" for name, kind in kinds.items()))
    report.add_argument("kind", choices=list(kinds), help=option["kind"])
    report.add_argument("subjects", nargs="*", metavar="SUBJECT", help="; ".join(
        f"{name}: {subject[kind.subject]}" for name, kind in kinds.items()))
    add_options(report, tools.RenderReportArguments, lang, skip={"kind", "lang", "model", "source"})
    _lang_option(report, said)

    evaluate = command("evaluate")
    add_options(evaluate, tools.EvaluateImagesArguments, lang, positional={"source": {"metavar": "FOLDER"}})
    evaluate.add_argument("--fresh", action="store_true", help=option["fresh"])
    evaluate.add_argument("--report", action="store_true", help=option["report"])
    _output_options(evaluate, said)

    tune = command("fine-tune")
    add_options(tune, tools.FineTuneArguments, lang, positional={"source": {"metavar": "FOLDER"}}, flags={"evaluate": ["--report"]},
                helps={"evaluate": option["tune_report"]})
    _output_options(tune, said)

    command("mcp")
    specs = command("tools")
    specs.add_argument("--format", choices=["openai", "anthropic", "mcp"], default="openai", help=option["format"])

    for extra in extra_commands:
        extra.add_arguments(command(extra.name), lang)
    return parser


def _output_options(parser: argparse.ArgumentParser, said: dict) -> None:
    parser.add_argument("--json", action="store_true", help=said["option"]["json"])
    _lang_option(parser, said)


def _lang_option(parser: argparse.ArgumentParser, said: dict) -> None:
    parser.add_argument("--lang", choices=list(words.LANGUAGES), default=argparse.SUPPRESS, help=said["option"]["lang"])


def main(argv: list[str] | None = None, extra_commands: Sequence[Command] = ()) -> int:
    """Run the command line; return the exit status."""
    args = build_parser(extra_commands, requested_lang(argv)).parse_args(argv)
    lang = getattr(args, "lang", None) or words.default_lang()
    console = Console(width=None if sys.stdout.isatty() else 120)
    extra = {command.name: command for command in extra_commands}
    try:
        _apply_settings(args)
        if args.command in (None, "app"):
            from plugin.doors.webapp import launch

            host, port = served_address(getattr(args, "host", None), getattr(args, "port", None))
            launch(host=host, port=port, share=getattr(args, "share", False), lang=getattr(args, "lang", None))
            return 0
        if args.command == "mcp":
            from plugin.doors.mcp import serve_stdio

            serve_stdio()
            return 0
        if args.command == "tools":
            _print_json(tools.tool_specs(args.format))
            return 0
        if args.command in extra:
            return extra[args.command].run(args, console)
        handler = {"models": _models, "classify": _classify, "describe": _describe, "compare": _compare,
                   "report": _report, "explain": _explain, "inside": _inside, "preprocessing": _preprocessing, "evaluate": _evaluate,
                   "fine-tune": _fine_tune}[args.command]
        status = handler(args, console, lang)
        _say_exports_under_way(lang)
        return status
    except PluginError as exc:
        title = words.text("cli.error", lang)
        Console(stderr=True).print(f"[bold red]{title}[/] ({exc.type}): {_escape(words.error_text(exc, lang))}",
                                   markup=True, highlight=False, soft_wrap=True)
        return 2


def _say_exports_under_way(lang: str) -> None:
    """Tell the student, on stderr, which exports go on after the command (why the next one is faster)."""
    under_way = api.exports_under_way()
    if under_way:
        Console(stderr=True).print(words.text("cli.exports_under_way", lang).format(models=", ".join(under_way)),
                                   markup=False, highlight=False, soft_wrap=True)


DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 7860
HOST_VARIABLES = ("CNNLAB_HOST", "GRADIO_SERVER_NAME")  # the project's own first; Gradio's is what Spaces and Docker set
PORT_VARIABLES = ("CNNLAB_PORT", "GRADIO_SERVER_PORT")


def served_address(host: str | None = None, port: int | None = None) -> tuple[str, int]:
    """Where the web app listens: the options given, else the environment's variables, else the defaults."""
    host = host or next((os.environ[name] for name in HOST_VARIABLES if os.environ.get(name)), DEFAULT_HOST)
    if port is None:
        for name in PORT_VARIABLES:
            text = os.environ.get(name, "").strip()
            if text:
                if not text.isdigit() or not 0 < int(text) < 65536:
                    raise InvalidInputError(f"Expected {name} to be a port number from 1 to 65535. Received: {text[:20]!r}.")
                port = int(text)
                break
    return host, port or DEFAULT_PORT


def _apply_settings(args) -> None:
    roots = list(args.image_root)
    named = list(getattr(args, "images", None) or []) + ([args.image] if getattr(args, "image", None) else [])
    if getattr(args, "kind", None) == "classification":
        named += args.subjects
    for path in named + [getattr(args, "model_path", None)]:
        if path and "://" not in path and not path.startswith("data:"):  # a missing file is then "not found"
            roots.append(str(Path(path).resolve().parent))
    weights = getattr(args, "weights", None)  # "imagenet" and "random" are words, not files
    if weights and os.path.exists(weights):
        roots.append(str(Path(weights).resolve().parent))
    source = getattr(args, "source", None)  # a folder (or list) of photos to evaluate or train on
    if source and os.path.exists(source):
        roots.append(str(Path(source).resolve() if os.path.isdir(source) else Path(source).resolve().parent))
    changes = {}
    if roots:
        changes["image_roots"] = [*get_settings().image_roots, *roots]
    if args.output_dir:
        changes["output_dir"] = args.output_dir
    if getattr(args, "allowed_host", None):
        changes["allowed_hosts"] = [*get_settings().allowed_hosts, *args.allowed_host]
    if changes:
        configure(**changes)


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _table(title: str | None, headers: list[str], right: AbstractSet[int] = frozenset()) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for index, column in enumerate(headers):
        table.add_column(column, justify="right" if index in right else "left")
    return table


def _models(args, console: Console, lang: str) -> int:
    listing = api.list_models()
    if args.json:
        _print_json(listing)
        return 0
    t = words.section("cli", lang)
    table = _table(t["models_title"], t["models_headers"], right={1, 3, 4, 5, 6, 7, 8})
    for model in listing["models"]:
        published = model["published"]
        table.add_row(
            model["name"], "x".join(map(str, model["input_shape"][:2])), model["preprocessing"],
            words.si_number(published["parameters"]), words.si_number(published["multiply_adds"]), words.percent(published["top1"]),
            words.percent(published["top5"]), _depths(published), _plain(published["size_mb"]), _weights(model["weights"], t),
        )
    console.print(table)
    console.print(t["models_sources"])
    return 0


def _depths(published) -> str:
    """The depth as the paper counts it, and Keras's count in brackets where it differs: "50 (107)"."""
    paper, keras = (published["paper_depth"] or {}).get("layers"), published["depth"]
    if paper is not None and keras not in (None, paper):
        return f"{paper} ({keras})"
    if paper is None and keras is not None:
        return f"- ({keras})"
    return _plain(paper)


def _classify(args, console: Console, lang: str) -> int:
    given = validated(tools.ClassifyImageArguments, args)
    result = api.classify_images(given.images, **given.model_dump(exclude={"image", "images"}))
    if args.json:
        _print_json(result)
        return 0
    t = words.section("cli", lang)
    rule = None
    for record in result["images"]:
        image, view = record["image"], api.classification_view(record, lang)
        console.print(f"\n[bold]{_escape(view['source'])}[/]  {image['width']} x {image['height']}")
        for card in view["cards"]:
            if card["failure"] is not None:
                _print_failures(console, [card["result"]], lang)
                continue
            model = card["result"]
            status = f" [bold red]{t['untrained']}[/]" if card["untrained"] else ""
            # the title on its own line: a table wraps its title to the table's width, mid-word
            console.print(f"{_escape(model['model'])} ({_escape(model['weights'])}, {model['inference_ms']} ms {card['run_by']}){status}",
                          soft_wrap=True, highlight=False)
            table = _table(None, t["predictions_headers"], right={0, 2})
            for prediction in card["predictions"]:
                p = prediction["probability"]
                table.add_row(str(prediction["rank"]), _escape(prediction["name"]), f"{p:.2%}", "█" * round(p * 20))
            console.print(table)
            if card["precision"]:
                console.print("  " + _escape(card["precision"]), soft_wrap=True, highlight=False)
            if card["verdict"]:
                console.print(f"  {t['verdict']} [bold]{card['verdict']}[/] ({_escape(card['basis'])})")
            region = model["region"]
            console.print(f"  [{'yellow' if region['warning'] else 'dim'}]{_escape(region_text(region, lang))}[/]",
                          soft_wrap=True, highlight=False)
        console.print(f"[bold]{_escape(view['sentence'])}[/]")
        if record.get("note"):
            console.print(_escape(view["fallback"] or ""))
        rule = rule or view["verdict_rule"]
    if rule:
        console.print(f"[dim]{_escape(rule)}[/]", soft_wrap=True, highlight=False)
    return 0


def _explain(args, console: Console, lang: str) -> int:
    """One map (explain_image), or with several --method or --target values the maps side by side
    (compare_explanations); --class names the one class to explain, instead of --target."""
    class_index = int(args.class_index) if args.class_index and args.class_index.isdigit() else args.class_index
    methods, targets = _several(args.method), _several(args.target)
    if len(methods) == 1 and len(targets) == 1:
        given = validated(tools.ExplainPredictionArguments, args, skip={"class_index"},  # a class here may be a name
                          method=methods[0], target=targets[0])
        result = api.explain_image(given.image, given.model, class_index,
                                   **given.model_dump(exclude={"image", "model", "class_index", "include_image"}))
        if args.json:
            _print_json(result)
            return 0
        _print_explanation(console, result, lang)
        return 0
    compared = validated(tools.CompareExplanationsArguments, args, skip={"lang"}, methods=methods,
                         targets=targets if class_index is None else [class_index])
    comparison = api.compare_explanations(compared.image, compared.model, lang=lang,
                                          **compared.model_dump(exclude={"image", "model", "lang", "include_image"}))
    if args.json:
        _print_json(comparison)
        return 0
    _print_comparison(console, comparison, lang)
    return 0


def _several(value) -> list:
    """An option's values as a list (its default is the tool's one value)."""
    return list(value) if isinstance(value, list) else [value]


def _print_explanation(console: Console, result: Mapping[str, Any], lang: str) -> None:
    """A map: its caption, the method's description, the layer and why, the region, the grid in
    characters, the picture's path, and the numbers that check it where they were asked for."""
    t, said = words.section("cli", lang), words.section("explain", lang)
    console.print(_escape(gradcam_caption(result, lang)), soft_wrap=True)
    console.print(f"[bold]{_escape(_method_line(result, lang))}[/]", soft_wrap=True, highlight=False)
    if result["layer"]:
        reason = said["layer_reasons"].get(result["layer_reason"] or "", result["layer_reason"] or "")
        console.print(_escape(t["explain_layer"].format(layer=result["layer"], reason=reason)), soft_wrap=True, highlight=False)
    console.print(_escape(region_text(result["region"], lang)), soft_wrap=True, highlight=False)
    shades = " .:-=+*#%@"
    for row in result["heatmap"]:
        console.print("  " + "".join(shades[min(9, int(value * 10))] * 2 for value in row), highlight=False)
    console.print(result["overlay_path"], soft_wrap=True, highlight=False)
    metrics = result.get("metrics")
    if metrics:
        baselines = metrics.get("baselines", {})
        columns = [metrics, baselines.get("random"), baselines.get("centre")]
        table = _table(said["metrics_title"], [t["explain_metric"], said["this_map"], said["random"], said["centre"]], right={1, 2, 3})
        for label, number in ((said["deletion"], lambda m: m["deletion"]["auc"]), (said["insertion"], lambda m: m["insertion"]["auc"]),
                              (said["road"], lambda m: m["road"]["score"]), (said["score"], lambda m: m["score"])):
            table.add_row(_escape(label), *("-" if column is None else f"{number(column):.3f}" for column in columns))
        console.print(table)
        if "better_than_random" in metrics:
            console.print(f"[bold]{_escape(api.metrics_sentence(metrics, lang))}[/]", soft_wrap=True, highlight=False)
    sanity = result.get("sanity")
    if sanity:
        console.print(f"[bold]{_escape(said['sanity_title'])}[/]", soft_wrap=True, highlight=False)
        for step in sanity["steps"]:
            console.print("  " + _escape(said["sanity_step"].format(layers=len(step["randomised"]),
                                                                    correlation=f"{step['rank_correlation']:.2f}")),
                          soft_wrap=True, highlight=False)
        console.print(_escape(api.sanity_sentence(sanity, lang)), soft_wrap=True, highlight=False)


def _method_line(result: Mapping[str, Any], lang: str) -> str:
    """The method's name and what it does, in `lang` (a method without words of its own: its title)."""
    name = result["method"]
    title = words.section("explain", lang)["titles"].get(name) or result["method_title"]
    entry = next((entry for entry in api.explanation_methods() if entry["name"] == name), None)
    description = api.method_description(name, lang) or (entry["description"][lang] if entry else "")
    return f"{title}: {description}" if description and description != title else title


def _print_comparison(console: Console, comparison: Mapping[str, Any], lang: str) -> None:
    """Maps side by side: a line per map (its caption; the sentence its numbers say, with --metrics;
    the sanity check's, with --sanity), each method's description once, and the grid picture's path."""
    t, said = words.section("cli", lang), words.section("explain", lang)
    contrast = sorted(comparison["targets"]) == ["cat", "dog"] and len(comparison["methods"]) == 1
    console.print(f"[bold]{_escape(said['contrast_title' if contrast else 'compare_title'])} · {_escape(comparison['model'])}[/]",
                  soft_wrap=True, highlight=False)
    described = []
    for explained in comparison["explanations"]:
        if explained["method"] not in described:
            described.append(explained["method"])
            console.print(f"[dim]{_escape(_method_line(explained, lang))}[/]", soft_wrap=True, highlight=False)
    for explained in comparison["explanations"]:
        console.print("- " + _escape(gradcam_caption(explained, lang)), soft_wrap=True, highlight=False)
        if "metrics" in explained and "better_than_random" in explained["metrics"]:
            console.print("  " + _escape(api.metrics_sentence(explained["metrics"], lang)), soft_wrap=True, highlight=False)
        if "sanity" in explained:
            console.print("  " + _escape(api.sanity_sentence(explained["sanity"], lang)), soft_wrap=True, highlight=False)
    if any("metrics" in explained for explained in comparison["explanations"]):
        table = _table(t["explain_maps_title"], [t["explain_map"], said["deletion"], said["insertion"], said["road"], said["score"]],
                       right={1, 2, 3, 4})
        for explained in comparison["explanations"]:
            metrics = explained["metrics"]
            table.add_row(_escape(f"{_map_name(explained, lang)}"), f"{metrics['deletion']['auc']:.3f}",
                          f"{metrics['insertion']['auc']:.3f}", f"{metrics['road']['score']:.3f}", f"{metrics['score']:.3f}")
        console.print(table)
    console.print(_escape(t["explain_grid"].format(path=comparison["picture_path"])), soft_wrap=True, highlight=False)


def _map_name(explained: Mapping[str, Any], lang: str) -> str:
    """A map in a table row: its method and the class it explains ("Score-CAM · 고양이")."""
    said, explained_class = words.section("explain", lang), explained["class"]
    title = said["titles"].get(explained["method"]) or explained["method_title"]
    group = explained_class.get("group")
    return f"{title} · {said['groups'][group] if group else display_name(explained_class, lang)}"


def _preprocessing(args, console: Console, lang: str) -> int:
    given = validated(tools.ComparePreprocessingArguments, args)
    result = api.compare_preprocessing(given.image, given.model, given.modes, **given.model_dump(exclude={"image", "model", "modes"}))
    if args.json:
        _print_json(result)
        return 0
    report = words.section("report", lang)
    table = _table(report["preprocessing_study"] + f" · {result['model']}",
                   [report["mode_column"], report["top1_column"], report["probability"], report["verdict_column"]], right={2})
    for row in result["modes"]:
        mode = row["mode"] + (f" ({report['own_mode']})" if row["own"] else "")
        top = row["predictions"][0]
        table.add_row(mode, _escape(display_name(top, lang)), f"{top['probability']:.1%}", report[row["verdict"]["label"]])
    console.print(table)
    console.print(f"\n[bold]{_escape(report['resize_study'])}[/]", soft_wrap=True, highlight=False)
    for way in result["resizes"]:
        top = way["predictions"][0]
        own = f" ({report['resize_own']})" if way["own"] else ""
        console.print(f"- {_escape(report['resize_' + way['resize']])}{_escape(own)}: {_escape(display_name(top, lang))} "
                      f"{top['probability']:.1%} · {report[way['verdict']['label']]}", soft_wrap=True, highlight=False)
        console.print(f"  [dim]{_escape(region_text(way['region'], lang))}[/]", soft_wrap=True, highlight=False)
    return 0


def _inside(args, console: Console, lang: str) -> int:
    given = validated(tools.LookInsideArguments, args, skip={"lang"})
    options = given.model_dump(exclude={"image", "model", "layers", "include_image", "lang"})
    result = api.look_inside(given.image, given.model, given.layers, lang=lang, **options)
    if args.json:
        _print_json(result)
        return 0
    t, pictures = words.section("cli", lang), result.get("pictures") or {}
    console.print(f"[bold]{_escape(t['inside_title'].format(model=result['model']))}[/]")
    if "filters" in result:
        view = result["filters"]
        console.print(_escape(t["inside_filters"].format(layer=view["layer"], count=len(view["shown"]),
                                                         shape="x".join(map(str, view["shape"][:3])))), highlight=False)
    if "histograms" in result:
        pair = result["histograms"]
        console.print(_escape(t["inside_histograms"].format(
            layer=pair["layer"], initializer=pair["initializer"], trained_mean=f"{pair['trained']['mean']:.4f}",
            trained_std=f"{pair['trained']['std']:.4f}", untrained_mean=f"{pair['untrained']['mean']:.4f}",
            untrained_std=f"{pair['untrained']['std']:.4f}")), soft_wrap=True, highlight=False)
    for entry in result.get("feature_maps", []):
        field = entry.get("receptive_field")
        console.print(_escape(t["inside_feature_map"].format(
            layer=entry["layer"], stage=entry["stage"] or "-", shape="x".join(map(str, entry["output_shape"])),
            field=t["inside_field"].format(size=field["size"], stride=field["stride"]) if field else "-",
            channels=", ".join(map(str, entry["channels"][:8])))), soft_wrap=True, highlight=False)
    walked = result.get("walk")
    if walked:
        console.print(_escape(t["inside_walk"].format(
            layer=walked["layer"], channel=walked["channel"], row=walked["cell"][0], column=walked["cell"][1],
            value=f"{walked['value']:.4f}", model_value=f"{walked['model_value']:.4f}",
            difference=f"{walked['difference']:.1e}")), soft_wrap=True, highlight=False)
        if args.walk:
            _print_patch(console, walked)
            table = _table(None, t["inside_walk_headers"], right={2})
            steps = t["inside_steps"]
            table.add_row(_escape(f"{steps['conv']} ({walked['layer']})"), "Σ patch · kernel + bias", f"{walked['conv']:.4f}")
            for step in walked["steps"]:
                table.add_row(_escape(f"{steps.get(step['name'], step['name'])} ({step['layer']})"), _escape(step.get("formula", "")),
                              f"{step['value']:.4f}")
            console.print(table)
    for found in result.get("maximized", []):
        console.print(_escape(t["inside_maximized"].format(
            layer=found["layer"], channel=found["channel"], start=f"{found['activation_start']:.3f}",
            end=f"{found['activation_end']:.3f}", steps=found["steps"], seconds=f"{found['seconds']:.1f}")), highlight=False)
    shown = [path for value in pictures.values() for path in (value if isinstance(value, list) else [value])]
    if shown:
        console.print(t["inside_pictures"])
        for path in shown:
            console.print(f"  {path}", soft_wrap=True, highlight=False)
    console.print(f"[dim]{_escape(t['inside_timings'].format(timings=', '.join(f'{view} {seconds:.2f} s' for view, seconds in result['timings'].items())))}[/]",
                  soft_wrap=True, highlight=False)
    return 0


def _print_patch(console: Console, walked) -> None:
    """The walked window and the kernel side by side, one input channel after another, as numbers."""
    patch, kernel = np.asarray(walked["patch"], dtype=float), np.asarray(walked["kernel"], dtype=float)
    for channel in range(patch.shape[-1]):
        for row in range(patch.shape[0]):
            left = " ".join(f"{value:8.3f}" for value in patch[row, :, channel])
            right = " ".join(f"{value:8.3f}" for value in kernel[row, :, channel])
            console.print(f"  [{channel}] {left}   x   {right}", highlight=False)
        console.print("")


def _describe(args, console: Console, lang: str) -> int:
    given = validated(tools.DescribeArchitectureArguments, args)
    facts = api.describe_architecture(**given.model_dump(exclude={"max_layers", "include_image"}))
    if args.json:
        _print_json(facts)
        return 0
    t = words.section("cli", lang)
    shapes = t["input_output"].format(input=_shape(facts["input_shape"]), output=_shape(facts["output_shape"]))
    console.print(f"[bold]{_escape(facts['model'])}[/]  {shapes}")
    console.print(t["summary"].format(params=f"{facts['total_params']:,}", trainable=f"{facts['trainable_params']:,}",
                                      macs=words.si_number(facts["macs"]), flops=words.si_number(facts["flops"]), depth=facts["depth"],
                                      layers=facts["num_layers"], size=facts["size_mb"]))
    stages = _table(t["stages"], t["stages_headers"], right={2, 4, 5})
    for stage in facts["stages"]:
        stages.add_row(_escape(stage["name"]), str(stage["output_size"]), _plain(stage["blocks"]), _escape(stage["layout"]),
                       f"{stage['params']:,}", words.si_number(stage["macs"]))
    console.print(stages)
    structure = _table(t["structure"], t["structure_headers"], right={1})
    for kind in facts["structure"]:
        structure.add_row(kind["label"][lang], str(kind["count"]), kind["shapes"], _escape(kind["details"]))
    console.print(structure)
    if facts["layers"]:
        layers = _table(t["layers"], t["layers_headers"], right={3, 4})
        for row in facts["layers"]:
            layers.add_row(_escape(row["name"]), row["type"], _shape(row["output_shape"]), f"{row['params']:,}",
                           words.si_number(row["macs"]), _escape(", ".join(row["inbound"])))
        console.print(layers)
    if facts["diagram"]:
        console.print(t["diagram"].format(path=facts["diagram"]["path"], bytes=f"{facts['diagram']['bytes']:,}"),
                      soft_wrap=True, highlight=False)
    return 0


def _compare(args, console: Console, lang: str) -> int:
    given = validated(tools.CompareModelsArguments, args, models=args.models or None)
    options = given.model_dump(exclude={"models", "image"}) if given.image else {}
    result = api.compare_models(given.models, image=given.image, **options)
    if args.json:
        _print_json(result)
        return 0
    t, report = words.section("cli", lang), words.section("report", lang)
    headers = t["compare_headers"] + (t["compare_image_headers"] if args.image else [])
    table = _table(t["comparison"], headers, right=set(range(1, 8)))
    for row in result["models"]:
        cells = [row["model"], words.si_number(row["total_params"]), words.si_number(row["macs"]), str(row["depth"]), f"{row['size_mb']:.1f}",
                 words.percent(row["published"]["top1"]), words.percent(row["published"]["top5"]), f"{row['inference_ms']:.1f}"]
        if args.image and "error" in row:
            cells += [report["no_answer"], "—"]
        elif args.image:
            untrained = f" ({report['untrained']})" if row["untrained"] else ""
            verdict = row["verdict"]
            assert verdict is not None  # registry models have an ImageNet head, so a verdict
            cells += [_escape(display_name(row["predictions"][0], lang)) + untrained, report[verdict["label"]]]
        table.add_row(*cells)
    console.print(table)
    _print_failures(console, result["models"], lang)
    console.print(t["timing"].format(runs=result["timing"]["runs"], machine=result["timing"]["machine"]))
    return 0


def _report(args, console: Console, lang: str) -> int:
    """`report KIND SUBJECT...`: the words after the kind fill its subject option (a model, an image,
    models, a folder); a kind whose subject is a model describes the default one when none is named."""
    kind = api.report_kinds()[args.kind]
    subjects = list(args.subjects)
    if not kind.many_subjects and len(subjects) > 1:
        raise InvalidInputError(f"Expected one {kind.subject} for a {args.kind} report. Received: {len(subjects)}")
    if kind.subject == "model" and not subjects and not args.model_path:
        subjects = [DEFAULT_ARCHITECTURE_MODEL]
    named = {kind.subject: subjects if kind.many_subjects else subjects[0]} if subjects else {}
    given = validated(tools.RenderReportArguments, args, kind=args.kind, **named)
    options = given.model_dump(include=set(api.REPORT_OPTIONS[args.kind]), exclude_none=True)
    made = api.make_report(args.kind, lang=lang, **options)
    console.print(made["path"], soft_wrap=True, highlight=False)
    console.print(made["markdown_path"], soft_wrap=True, highlight=False)
    console.print(made["post_path"], soft_wrap=True, highlight=False)  # the Markdown and its pictures in one zip, for a blog
    return 0


def _print_failures(console: Console, entries: Sequence[Any], lang: str) -> None:
    """A line for each model that could not answer: its name, "no answer", and why."""
    said = words.text("report.no_answer", lang)
    for entry in api.failures(entries):
        console.print(f"[bold yellow]{_escape(entry['model'])}: {said}[/] · {_escape(words.failure_text(entry['error'], lang))}",
                      soft_wrap=True, highlight=False)


def _weights(weights: Mapping[str, Any], t: dict) -> str:
    if weights["source"] == "bundled":
        return t["weights_bundled"]
    if weights["available"]:
        return t["weights_cached"]
    if weights["source"] == "download":
        return t["weights_download"].format(size=f"{weights['size_mb']:g}")
    return t["weights_none"]


def _bar(console: Console):
    """A progress bar on stderr (so --json output stays clean); returns it and its update function."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=Console(stderr=True), transient=True)
    task = bar.add_task("", total=None)

    def update(done, total, message) -> None:
        bar.update(task, completed=done, total=total, description=_escape(str(message)))

    return bar, update


def _evaluate(args, console: Console, lang: str) -> int:
    given = validated(tools.EvaluateImagesArguments, args)
    bar, update = _bar(console)
    with bar:
        result = api.evaluate(given.source, **given.model_dump(exclude={"source"}), resume=not args.fresh,
                              progress=lambda done, total, model: update(done, total, model))
    made = api.render_report("evaluation", lang=lang, result=result) if args.report else None
    if args.json:
        _print_json(result | ({"report": made} if made else {}))
        return 0
    t = words.section("report", lang)
    console.print(t["evaluation_intro"].format(images=result["images"], source=result["source"]) + " "
                  + " · ".join(f"{label} {count}" for label, count in result["label_counts"].items()))
    table = _table(t["evaluation_summary"], [t["model"], t["accuracy_verdict"], t["accuracy_top1"], t["accuracy_top5"],
                                             t["mistakes"], t["images_per_second"]], right={1, 2, 3, 4, 5})
    for model in api.answers(result["models"]):
        accuracy = model["accuracy"]
        table.add_row(_escape(model["model"]), words.percent(accuracy["verdict"]), words.percent(accuracy["top1"]), words.percent(accuracy["top5"]),
                      str(model["mistake_count"]), _plain(model["images_per_second"]))
    console.print(table)
    _print_failures(console, result["models"], lang)
    if result.get("fallback"):
        console.print(_escape(fallback_note(result["fallback"], lang)))
    if made:
        console.print(made["path"], soft_wrap=True, highlight=False)
    return 0


def _fine_tune(args, console: Console, lang: str) -> int:
    bar, update = _bar(console)
    with bar:
        given = validated(tools.FineTuneArguments, args)
        result = api.fine_tune(**given.model_dump(), progress=lambda step, steps, stage: update(step, steps, stage))
        evaluated = result.pop("evaluation", None)
        made = api.render_report("evaluation", lang=lang, result=evaluated) if evaluated else None
    if args.json:
        _print_json(result | ({"report": made} if made else {}))
        return 0
    t = words.section("cli", lang)
    console.print(t["fine_tuned"].format(path=result["model_path"], classes=", ".join(result["class_names"]),
                                         epochs=result["history"]["epochs_run"]), soft_wrap=True, highlight=False)
    console.print(t["fine_tune_accuracy"].format(base=result["base"], base_accuracy=words.percent(result["accuracy"]["base"]),
                                                 tuned=words.percent(result["accuracy"]["fine_tuned"]),
                                                 validation=result["images"]["validation"]))
    if made:
        console.print(made["path"], soft_wrap=True, highlight=False)
    return 0


def _shape(shape) -> str:
    if not shape:
        return "?"
    return "x".join("?" if d is None else str(d) for d in shape[1:])


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(str(text))


def _plain(value) -> str:
    return "-" if value is None else f"{value:g}"
