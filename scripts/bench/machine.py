"""The machine a benchmark ran on, and its limit: float32 matrix multiplication in GFLOP/s."""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata

import numpy as np

__all__ = ["describe_machine", "matmul_peak_gflops", "peak_rss_bytes"]


def matmul_peak_gflops(sizes=(2048, 4096), repeats: int = 4) -> dict:
    """The best float32 matrix-product rate on every core, in GFLOP/s: numpy's BLAS, onnxruntime's
    MatMul, and the higher of the two ("peak", the limit the batch figures are shares of)."""
    import onnxruntime as ort
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], "matmul",
                              [helper.make_tensor_value_info(n, TensorProto.FLOAT, [None, None]) for n in "ab"],
                              [helper.make_tensor_value_info("c", TensorProto.FLOAT, [None, None])])
    session = ort.InferenceSession(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    best = {"numpy": 0.0, "onnxruntime": 0.0}
    for size in sizes:
        a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
        runs = {"numpy": lambda a=a, b=b: a @ b, "onnxruntime": lambda a=a, b=b: session.run(None, {"a": a, "b": b})}
        for name, run in runs.items():
            run()  # warm up the threads
            for _ in range(repeats):
                started = time.perf_counter()
                run()
                best[name] = max(best[name], 2.0 * size**3 / (time.perf_counter() - started) / 1e9)
    best = {name: round(rate, 1) for name, rate in best.items()}
    return best | {"peak": max(best.values())}


def describe_machine() -> dict:
    """CPU model, cores this process may use, memory, and the versions that decide the speed."""
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), model)
        with open("/proc/meminfo") as info:
            memory = next(int(line.split()[1]) for line in info if line.startswith("MemTotal")) / 2**20
    except OSError:
        memory = None
    versions = {}
    for distribution in ("tensorflow", "keras", "onnxruntime", "numpy", "gradio"):
        try:
            versions[distribution] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            versions[distribution] = None
    return {"cpu": model, "cores": len(os.sched_getaffinity(0)), "memory_gib": round(memory, 1) if memory else None,
            "python": platform.python_version(), "versions": versions}


def peak_rss_bytes() -> int:
    """This process's peak resident memory so far (VmHWM)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))


def int8_matmul_peak_gops(size: int = 2048, repeats: int = 4) -> float:
    """The best int8 matrix-product rate on every core (onnxruntime's MatMulInteger, uint8 by int8
    into int32, as the int8 models' convolutions compute), in GOP/s: the int8 floor's limit."""
    import onnxruntime as ort
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("MatMulInteger", ["a", "b"], ["c"])], "matmul_int8",
                              [helper.make_tensor_value_info("a", TensorProto.UINT8, [None, None]),
                               helper.make_tensor_value_info("b", TensorProto.INT8, [None, None])],
                              [helper.make_tensor_value_info("c", TensorProto.INT32, [None, None])])
    session = ort.InferenceSession(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, (size, size), dtype=np.uint8)
    b = rng.integers(-127, 127, (size, size), dtype=np.int8)
    session.run(None, {"a": a, "b": b})
    best = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        session.run(None, {"a": a, "b": b})
        best = max(best, 2.0 * size**3 / (time.perf_counter() - started) / 1e9)
    return round(best, 1)
