"""The benchmark runs and reports what it measured, and judges the targets from those figures
(the targets themselves are checked by `launch.py bench`, never here)."""

from scripts.bench import TARGETS, check_targets, run_benchmarks
from scripts.bench.table import markdown


def test_benchmark_measures_each_backend_and_reports_the_targets():
    result = run_benchmarks(["EfficientNetLite0"], runs=2, batches=False, fresh_export=False, cold=False, service=False,
                            memory=False, evaluation=0, peak_sizes=(1024,), int8=False)  # int8 is made and checked in test_onnx
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
               "peak_rss": {"onnx": {"peak_rss_bytes": 2_000_000_000}},
               "evaluation": {"model": "EfficientNetLite0", "engines": [{"engine": "local", "images_per_second": 110.0},
                                                                      {"engine": "ray", "images_per_second": 88.0}]}}
    checks = check_targets(figures)
    assert checks["ray_of_local"] == {"value": 0.8, "target": 0.7, "met": True}
    assert checks["end_to_end_of_predict"]["met"] is True and checks["ResNet50_batch_of_peak"] == {
        "value": 0.82, "target": TARGETS["batch_of_peak_min"]["ResNet50"], "met": True}
    assert checks["VGG16_batch_of_peak"]["met"] is None and checks["http_overhead_ms"]["met"] is False
    assert checks["report_s"]["met"] is True and checks["rss_vgg16_resnet50_gb"]["value"] == 2.0
    assert checks["scorecam_onnx_s"]["met"] is None  # explanations not measured


def test_explanation_targets_and_their_line_come_from_the_figures():
    figures = {"machine": {"cpu": "x", "cores": 2, "memory_gib": 4}, "peak_gflops": 200.0, "models": [],
               "explain": {"gradcam_three_lites_s": 1.7, "scorecam_onnx_s": 1.1, "occlusion_onnx_s": 0.6,
                           "metrics_first_map_s": 3.2, "metrics_per_map_s": 1.2, "runs": 3}}
    checks = check_targets(figures)
    assert checks["gradcam_three_lites_s"] == {"value": 1.7, "target": 3.0, "met": True}
    assert checks["metrics_per_map_s"]["met"] is True and checks["scorecam_onnx_s"]["target"] == 5.0
    figures["targets"] = checks
    assert "Score-CAM 1.10 s, occlusion 0.60 s" in markdown(figures)


def test_the_waits_and_ray_reuse_are_judged_from_the_figures():
    figures = {"machine": {"cpu": "x", "cores": 2, "memory_gib": 4}, "peak_gflops": 200.0, "models": [],
               "waits": {"explain": {"fresh_s": 4.3, "target_s": 4.0, "warm_s": 0.3},
                         "report_architecture": {"fresh_s": 2.5, "target_s": 3.0, "warm_s": 0.2}},
               "ray_reuse": {"local_images_per_s": 180.0, "ray_first_of_local": 0.4, "ray_second_of_local": 0.77}}
    checks = check_targets(figures)
    assert checks["wait_explain_s"] == {"value": 4.3, "target": 4.0, "met": False}
    assert checks["wait_report_architecture_s"]["met"] is True and checks["ray_second_of_local"]["met"] is True
    figures["targets"] = checks
    assert "wait, explain: fresh process 4.30 s (target 4 s), warm 0.30 s" in markdown(figures)


def test_int8_rows_and_targets_come_from_the_figures():
    row = {"model": "ResNet50", "weights": "random, seed 0", "multiply_adds": 3.8e9, "predict_ms": 100.0, "floor_ms": 36.0,
           "export": {"seconds": 9.0},
           "backends": {"onnx": {"end_to_end_ms": 45.0, "of_predict": 0.45, "infer_ms": 40.0, "batch16_images_per_s": 20.0}},
           "int8": {"kept": True, "agreement": None, "infer_ms": 15.0, "end_to_end_ms": 21.0, "of_predict": 0.21,
                    "batch16_images_per_s": 55.0}}
    figures = {"machine": {"cpu": "x", "cores": 2, "memory_gib": 4}, "peak_gflops": 200.0, "int8_peak_gops": 760.0,
               "models": [row]}
    checks = check_targets(figures)
    assert checks["ResNet50_int8_infer_of_float32"] == {"value": 0.375, "target": 0.4, "met": True}
    assert checks["ResNet50_int8_end_to_end_of_predict"]["met"] is False  # 0.21 against 0.2
    assert checks["ResNet50_int8_batch16_of_float32"] == {"value": 2.75, "target": 2.5, "met": True}
    figures["targets"] = checks
    table = markdown(figures)
    assert "| ResNet50 | onnx int8 | random, seed 0 | 10.0 |" in table  # the floor at the int8 peak
    assert "n/a (random weights: speed only)" in table and "760.0 GOP/s" in table
