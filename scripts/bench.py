"""Benchmarks: the speed claims of the project, measured on this machine.

    python launch.py bench [--models ResNet50 VGG16] [--runs 10]

For each model: one image through the compiled inference function against `model.predict` (the
study post's way), and images per second in a batch of 8. Then the time to draw DenseNet121's
429-layer diagram, first and from the cache. Weights are random: speed does not depend on them.
Then the evaluation of 64 labelled photos by EfficientNet-Lite0 (its real weights) on the local
engine and, where Ray is installed, on a local Ray instance: images per second, start-up included.
Targets (checked here, not in the unit tests): the compiled path at least 1.5x faster than predict
for one image, and a cached diagram in under a second.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

__all__ = ["run_benchmarks", "TARGETS", "COMMAND"]

TARGETS = {"compiled_speedup_min": 1.5, "cached_diagram_max_s": 1.0}


def _median_ms(call, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times)


def evaluation_speed(images: int = 64, model: str = "EfficientNetLite0") -> dict:
    """Evaluate `images` labelled photos on each engine; images/s counts from the first batch
    submitted (Ray's start-up and actor included) to the last result, plus the whole call's time."""
    import importlib.util
    import tempfile
    from pathlib import Path

    from plugin.api import evaluate
    from plugin.config import configure, get_settings
    from scripts.gallery import example_crops

    previous = get_settings()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        source = example_crops(Path(scratch) / "photos", per_class=images // 2)
        configure(image_roots=[*previous.image_roots, Path(scratch)], output_dir=Path(scratch) / "out")
        try:
            for engine in ("local", "ray"):
                if engine == "ray" and importlib.util.find_spec("ray") is None:
                    continue
                started = time.perf_counter()
                result = evaluate(source, models=[model], engine=engine, resume=False)
                rows.append({"engine": engine, "images": result["images"], "images_per_second": result["models"][0]["images_per_second"],
                             "call_s": round(time.perf_counter() - started, 2)})
        finally:
            configure(image_roots=list(previous.image_roots), output_dir=previous.output_dir)
    return {"model": model, "engines": rows}


def run_benchmarks(models=("ResNet50",), runs: int = 10, batch: int = 8, diagram: bool = True, evaluation: int = 64) -> dict:
    """Measure inference, diagram and evaluation speed; return the figures and whether the targets are met.

    Returns:
        `{"models": [{"model", "compiled_ms", "predict_ms", "speedup", "batch_images_per_s"}],
        "diagram": {"model", "first_s", "cached_s"} | None, "evaluation": {"model", "engines":
        [{"engine", "images", "images_per_second", "call_s"}]} | None, "targets", "met"}`.
    """
    from plugin.engine.runtime import load_registry_model

    rows = []
    for name in models:
        runner = load_registry_model(name, None).runner
        one = np.random.default_rng(0).uniform(0, 255, (1, *runner.input_shape[1:])).astype(np.float32)
        many = np.repeat(one, batch, axis=0)
        runner(one)
        runner.model.predict(one, verbose=0)
        compiled = _median_ms(lambda runner=runner, one=one: runner(one), runs)
        predict = _median_ms(lambda runner=runner, one=one: runner.model.predict(one, verbose=0), runs)
        batch_ms = _median_ms(lambda runner=runner, many=many: runner(many), max(3, runs // 3))
        rows.append({"model": name, "compiled_ms": round(compiled, 2), "predict_ms": round(predict, 2),
                     "speedup": round(predict / compiled, 2), "batch_images_per_s": round(batch * 1000.0 / batch_ms, 1)})
    drawing = None
    if diagram:
        import tempfile

        from plugin.api import describe_architecture
        from plugin.config import configure, get_settings

        previous = get_settings().output_dir
        with tempfile.TemporaryDirectory() as scratch:
            configure(output_dir=scratch)
            try:
                started = time.perf_counter()
                describe_architecture("DenseNet121", include_diagram=True)
                first = time.perf_counter() - started
                started = time.perf_counter()
                describe_architecture("DenseNet121", include_diagram=True)
                cached = time.perf_counter() - started
            finally:
                configure(output_dir=previous)
        drawing = {"model": "DenseNet121", "first_s": round(first, 2), "cached_s": round(cached, 3)}
    met = all(row["speedup"] >= TARGETS["compiled_speedup_min"] for row in rows)
    if drawing:
        met = met and drawing["cached_s"] <= TARGETS["cached_diagram_max_s"]
    evaluated = evaluation_speed(evaluation) if evaluation else None
    return {"models": rows, "diagram": drawing, "evaluation": evaluated, "targets": TARGETS, "met": met}


def _add_arguments(parser) -> None:
    parser.add_argument("--models", nargs="+", default=["ResNet50"], metavar="MODEL")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--no-diagram", action="store_true", help="skip the DenseNet121 diagram timing")
    parser.add_argument("--evaluation-images", type=int, default=64, help="photos for the local-vs-Ray evaluation (0: skip)")
    parser.add_argument("--json", action="store_true")


def _run(args, console) -> int:
    import json

    from rich import box
    from rich.table import Table

    result = run_benchmarks(args.models, runs=args.runs, diagram=not args.no_diagram, evaluation=args.evaluation_images)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0 if result["met"] else 1
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
    if result["evaluation"]:
        for row in result["evaluation"]["engines"]:
            console.print(f"evaluate {row['images']} photos, {result['evaluation']['model']}, {row['engine']}: "
                          f"{row['images_per_second']} images/s ({row['call_s']:.1f} s the whole call)")
    console.print(f"Targets {result['targets']}: {'met' if result['met'] else 'NOT met'}")
    return 0 if result["met"] else 1


def _command():
    from plugin.doors.cli import Command

    return Command("bench", "measure inference and diagram speed on this machine", _add_arguments, _run)


COMMAND = _command()
