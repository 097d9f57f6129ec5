"""Benchmarks: the speed claims of the project, measured on this machine.

    python launch.py bench [--models ResNet50 VGG16] [--runs 10]

For each model: one image through the compiled inference function against `model.predict` (the
study post's way), and images per second in a batch of 8. Then the time to draw DenseNet121's
429-layer diagram, first and from the cache. Weights are random: speed does not depend on them.
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


def run_benchmarks(models=("ResNet50",), runs: int = 10, batch: int = 8, diagram: bool = True) -> dict:
    """Measure inference and diagram speed; return the figures and whether the targets are met.

    Returns:
        `{"models": [{"model", "compiled_ms", "predict_ms", "speedup", "batch_images_per_s"}],
        "diagram": {"model", "first_s", "cached_s"} | None, "targets", "met"}`.
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
    return {"models": rows, "diagram": drawing, "targets": TARGETS, "met": met}


def _add_arguments(parser) -> None:
    parser.add_argument("--models", nargs="+", default=["ResNet50"], metavar="MODEL")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--no-diagram", action="store_true", help="skip the DenseNet121 diagram timing")
    parser.add_argument("--json", action="store_true")


def _run(args, console) -> int:
    import json

    from rich import box
    from rich.table import Table

    result = run_benchmarks(args.models, runs=args.runs, diagram=not args.no_diagram)
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
    console.print(f"Targets {result['targets']}: {'met' if result['met'] else 'NOT met'}")
    return 0 if result["met"] else 1


def _command():
    from plugin.doors.cli import Command

    return Command("bench", "measure inference and diagram speed on this machine", _add_arguments, _run)


COMMAND = _command()
