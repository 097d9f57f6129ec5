"""The benchmark runs and reports what it measured, and judges the targets from those figures
(the targets themselves are checked by `launch.py bench`, never here)."""

from scripts.bench import TARGETS, check_targets, run_benchmarks
from scripts.bench.table import markdown


def test_benchmark_measures_each_backend_and_reports_the_targets():
    result = run_benchmarks(["EfficientNetLite0"], runs=2, batches=False, fresh_export=False, cold=False, service=False,
                            memory=False, evaluation=0, peak_sizes=(1024,))
    assert result["peak_gflops"] > 0 and result["machine"]["cores"] >= 1
    row = result["models"][0]
    assert row["model"] == "EfficientNetLite0" and row["weights"] == "imagenet" and row["predict_ms"] > 0
    assert set(row["backends"]) == {"keras", "onnx"}
    for figures in row["backends"].values():
        assert figures["end_to_end_ms"] > 0 and figures["of_predict"] > 0 and figures["infer_ms"] > 0
    checks = result["targets"]
    assert checks["end_to_end_of_predict"]["met"] is not None and checks["http_overhead_ms"]["met"] is None
    assert "| EfficientNetLite0 | onnx | imagenet | " in markdown(result)
    assert row["floor_ms"] == round(2 * row["multiply_adds"] / (result["peak_gflops"] * 1e9) * 1000, 2)


def test_targets_are_judged_from_the_figures():
    figures = {"models": [{"model": "ResNet50", "backends": {"onnx": {"of_predict": 0.2, "batch16_of_peak": 0.7,
                                                                       "batch64_of_peak": 0.82}}}],
               "http": {"gradio_http_overhead_ms": 20.0, "gradio_overhead_ms": 45.0, "mcp_overhead_ms": 60.0},
               "reports_s": {"architecture": {"first_s": 0.4, "again_s": 0.1}},
               "peak_rss": {"onnx": {"peak_rss_bytes": 2_000_000_000}}}
    checks = check_targets(figures)
    assert checks["end_to_end_of_predict"]["met"] is True and checks["ResNet50_batch_of_peak"] == {
        "value": 0.82, "target": TARGETS["batch_of_peak_min"]["ResNet50"], "met": True}
    assert checks["VGG16_batch_of_peak"]["met"] is None and checks["http_overhead_ms"]["met"] is False
    assert checks["report_s"]["met"] is True and checks["rss_vgg16_resnet50_gb"]["value"] == 2.0
