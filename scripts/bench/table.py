"""The benchmark's figures as tables on the console (rich) and as Markdown for the README."""

from __future__ import annotations

__all__ = ["print_tables", "markdown"]


def _rows(result: dict) -> list[list[str]]:
    rows = []
    for model in result.get("models", []):
        for backend, f in model["backends"].items():
            cold = result.get("cold_start", {}).get(backend, {}).get(model["model"])
            floor = f"{model['floor_ms']:.1f}" if model.get("floor_ms") else ""
            rows.append([model["model"], backend, model["weights"], floor, f"{model['predict_ms']:.1f}", f"{f['end_to_end_ms']:.1f}",
                         f"{f['of_predict']:.2f}", f"{f['infer_ms']:.1f}",
                         _rate(f, 16), _rate(f, 64), f"{cold['wall_s']:.1f}" if cold else "",
                         f"{model['export']['seconds']:.0f}" if backend == "onnx" and model["export"].get("seconds") else "", ""])
        int8 = model.get("int8")
        if int8:
            macs, peak = model.get("multiply_adds"), result.get("int8_peak_gops")
            floor = f"{2 * macs / (peak * 1e9) * 1000:.1f}" if macs and peak else ""
            rows.append([model["model"], "onnx int8" if int8["kept"] else "onnx int8 (refused)", model["weights"], floor,
                         f"{model['predict_ms']:.1f}", f"{int8['end_to_end_ms']:.1f}", f"{int8['of_predict']:.2f}",
                         f"{int8['infer_ms']:.1f}", _rate(int8, 16), "", "", "", _agreement(int8.get("agreement"))])
    return rows


def _agreement(agreement: dict | None) -> str:
    """top-1 the same where float32 is confident / overall, on the held-out check images."""
    if not agreement:
        return "n/a (random weights: speed only)"
    return f"{agreement['top1_confident']:.1%} / {agreement['top1']:.1%}"


def _rate(figures: dict, images: int) -> str:
    rate = figures.get(f"batch{images}_images_per_s")
    if rate is None:
        return ""
    share = figures.get(f"batch{images}_of_peak")
    return f"{rate:.1f} ({share:.2f})" if share is not None else f"{rate:.1f}"


HEADERS = ["model", "backend", "weights", "floor ms", "predict ms", "end to end ms", "÷ predict", "infer ms",
           "16 photos/s (of peak)", "64 photos/s (of peak)", "cold start s", "export s", "int8 top-1 = float32 (confident / all)"]


def _facts(result: dict) -> list[str]:
    lines = []
    machine = result["machine"]
    matmul = result.get("matmul_gflops", {})
    lines.append(f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB; float32 matmul peak "
                 f"{result['peak_gflops']} GFLOP/s (numpy {matmul.get('numpy')}, onnxruntime {matmul.get('onnxruntime')}; "
                 "floor ms: one image's multiply-adds at that peak)")
    if result.get("int8_peak_gops"):
        lines.append(f"int8 matmul peak (onnxruntime MatMulInteger, uint8 x int8): {result['int8_peak_gops']} GOP/s; an int8 row's "
                     "floor ms is one image's multiply-adds at that peak")
    if "describe" in result:
        d = result["describe"]
        lines.append(f"describe {d['model']} with diagram: {d['cold_s']:.2f} s cold, {d['warm_s']:.3f} s warm")
    if "reports_s" in result:
        lines.append("report (ko) from results, first / again: " + ", ".join(
            f"{kind} {r['first_s']:.2f} / {r['again_s']:.2f} s" for kind, r in result["reports_s"].items()))
    if "http" in result:
        h = result["http"]
        lines.append(f"classify_image call: in process {h['in_process_ms']:.1f} ms; Gradio HTTP API {h['gradio_http_ms']:.1f} ms "
                     f"(+{h['gradio_http_overhead_ms']:.1f}), with gradio_client {h['gradio_ms']:.1f} ms (+{h['gradio_overhead_ms']:.1f}); "
                     f"MCP over HTTP {h['mcp_ms']:.1f} ms (+{h['mcp_overhead_ms']:.1f})")
    for row in result.get("inside", {}).get("models", []):
        lines.append(f"look_inside {row['model']} on one photo, warm: {row['call_s']:.2f} s the whole call (pictures "
                     "included); " + ", ".join(f"{view} {seconds:.3f} s" for view, seconds in row["views_s"].items())
                     + f" ({row['stages']} feature-map layers)")
    if "explain" in result:
        e = result["explain"]
        lines.append(f"explain_image on one photo, warm: Grad-CAM for the three Lite models {e['gradcam_three_lites_s']:.2f} s; "
                     f"Lite0 on onnxruntime: Score-CAM {e['scorecam_onnx_s']:.2f} s, occlusion {e['occlusion_onnx_s']:.2f} s; "
                     f"deletion / insertion / ROAD (20 steps): the first map of a photo {e['metrics_first_map_s']:.2f} s "
                     f"(with its random and centre baselines), each further map {e['metrics_per_map_s']:.2f} s")
    for name, row in result.get("waits", {}).items():
        lines.append(f"wait, {name.replace('_', ' ')}: fresh process {row['fresh_s']:.2f} s (target {row['target_s']:.0f} s), "
                     f"warm {row['warm_s']:.2f} s")
    if result.get("ray_reuse"):
        r = result["ray_reuse"]
        lines.append(f"evaluate on Ray twice in one process: the first call {r['ray_first_of_local']} x the local engine's "
                     f"photos/s, the second {r['ray_second_of_local']} x (local {r['local_images_per_s']} photos/s)")
    for backend, probe in result.get("peak_rss", {}).items():
        lines.append(f"peak RSS, VGG16 + ResNet50 loaded and answering, {backend}: {probe['peak_rss_bytes'] / 1e9:.2f} GB")
    for row in result.get("evaluation", {}).get("engines", []):
        lines.append(f"evaluate {row['images']} photos ({result['evaluation']['model']}, {row['backend']}) on {row['engine']}: "
                     f"{row['images_per_second']} photos/s, {row['call_s']:.1f} s the whole call")
    for name, check in result["targets"].items():
        state = "not measured" if check["met"] is None else ("met" if check["met"] else "NOT met")
        lines.append(f"target {name}: {check['value']} against {check['target']}: {state}")
    return lines


def print_tables(result: dict, console) -> None:
    from rich import box
    from rich.table import Table

    table = Table(title="Inference (medians; batches: photos/s and the share of the matmul peak)", title_justify="left",
                  box=box.SIMPLE_HEAD)
    for header in HEADERS:
        table.add_column(header, justify="left" if header in ("model", "backend", "weights") else "right")
    for row in _rows(result):
        table.add_row(*row)
    console.print(table)
    for line in _facts(result):
        console.print(line)


def markdown(result: dict) -> str:
    """The table and the facts below it, as Markdown."""
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(result)]
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {line}" for line in _facts(result)) + "\n"
