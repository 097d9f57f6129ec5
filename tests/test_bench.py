"""The benchmark script runs and reports what it measured (its targets are checked by `launch.py bench`)."""

from scripts.bench import TARGETS, run_benchmarks


def test_benchmark_reports_each_measurement():
    result = run_benchmarks(["AlexNet"], runs=2, batch=2, diagram=False, evaluation=0)
    row = result["models"][0]
    assert row["model"] == "AlexNet" and row["compiled_ms"] > 0 and row["predict_ms"] > 0 and row["batch_images_per_s"] > 0
    assert result["diagram"] is None and result["targets"] == TARGETS and isinstance(result["met"], bool)
