"""int8 models: a static quantisation of a cached float32 export, kept only if it agrees with it.

The recipe (onnxruntime's `quantize_static`): QDQ format, weights int8 per channel, activations
uint8, ranges from MinMax calibration on the project's calibration photos
(`plugin.engine.inference.onnx.calibration`), with the classifier, the softmax and the first
convolutions kept in float32 (how many: `float32_convolution_tries`). Measured on EfficientNet-Lite0 with real
weights, on the 160 held-out images (75 where float32's top-1 is at least 0.3 likely), top-1 the
same as float32 where it is confident / overall, and int8's time over float32's for one image:

    kept in float32                  confident   overall   time
    first convolution                  93.3 %     81.9 %   0.53
    first 3 convolutions               96.0 %     86.2 %
    first 5                            97.3 %     89.4 %   0.62
    first 7 (stem and blocks 1-2)      98.7 %     91.9 %   0.66
    first 10                           98.7 %     93.1 %

(With `eagle.jpg` saved again at JPEG quality 91 since, the first 7 give 98.7 % and 92.5 %. Since every
framing reaches the model through its evaluation protocol's centre crop, they give 98.1 % of 53
confident images and 92.5 %, the top-5 and the verdict 100 %; on 1,000 ImageNet photos int8 Lite0's
top-1 is 88.4 % against float32's 88.8 %.)

Percentile (99.99 %, 99.999 %) and Entropy calibration did no better than MinMax with the first
convolution kept (92.0 to 93.3 %) and took 6 times as long; float32's top-1 was within int8's
top-5 and the verdict the same (99.4 %) with every recipe. EfficientNet-Lite keeps its first 7.

Other models are quantised whole first, and with their first convolution in float32 only where
that falls short of the check. Their agreement cannot be measured here (their ImageNet weights do
not install offline), but their input is the photo's pixels less a mean (caffe or torch
preprocessing), which uint8 holds to about one grey level, and ResNet50 is known to keep its
accuracy quantised whole. On ResNet50 (random weights, for time only) the float32 stem cost 20 %
of int8's time in batches of 16: 14.2 ms an image against 11.4 quantised whole (float32 37.6 ms);
one image 14.9 against 14.1 (42.4).

Before a file is kept it is checked on the held-out photos against float32 (`NEEDED`); one that
falls short is refused, the numbers are recorded beside it (so the check is not repeated on every
call) and float32 answers. The file's name holds a hash of the float32 export, the calibration
images, the recipe and onnxruntime's version.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from plugin.engine.inference.onnx.cache import versions
from plugin.engine.inference.onnx.export import export_lock
from plugin.engine.inference.onnx.graphs import GraphIndex
from plugin.errors import ExportError
from plugin.files import write_atomically

__all__ = ["INT8_VERSION", "METHOD", "NEEDED", "CONFIDENT", "int8_path", "read_record", "ensure_int8", "shortfalls",
           "refusal_message", "float32_convolution_tries", "quantize_unchecked", "fold_pads_into_max_pools"]

INT8_VERSION = 2
"""Bump when the recipe changes (method, kept nodes, calibration photos)."""

METHOD = "MinMax"

CONFIDENT = 0.3
"""float32's top-1 probability from which its answer counts as confident."""

NEEDED = {"top1_confident": 0.97, "top5": 0.99, "verdict": 0.98}
"""What an int8 model must reach against float32 on the held-out images to be kept: its top-1 the
same where float32 is confident, float32's top-1 within its top-5, the same dog/cat verdict."""

Verdicts = Callable[[np.ndarray], Sequence[str]]
"""The dog/cat verdict label of each row of probabilities (the study layer's rule)."""


def float32_convolution_tries(model: str) -> tuple[int, ...]:
    """How many of a model's first convolutions stay in float32, in the order tried: the next only
    where the one before falls short of the check (see above)."""
    return (7,) if model.lower().startswith("efficientnetlite") else (0, 1)


def int8_path(model: str, fp32: Path, calibration_key: str) -> Path:
    """Where the int8 model made from `fp32` (the export of `model`) with this calibration is kept (beside it)."""
    identity = {"float32": fp32.name, "calibration": calibration_key, "int8_version": INT8_VERSION, "method": METHOD,
                "float32_convolutions": float32_convolution_tries(model),
                "onnxruntime": versions()["onnxruntime"]}
    key = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
    return fp32.with_name(f"{fp32.stem}-int8-{key}.onnx")


def read_record(path: Path) -> dict | None:
    """What the check found for an int8 file (`{"kept", "agreement", ...}`), or None when it has not
    been made (or a kept file has since been evicted from the cache)."""
    try:
        record = json.loads(path.with_suffix(".json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or (record.get("kept") and not path.is_file()):
        return None
    return record


def ensure_int8(model: str, fp32: Path, calibration_key: str, images: Callable[[], tuple[np.ndarray, np.ndarray]],
                verdicts: Verdicts) -> tuple[Path, dict]:
    """The int8 model of a float32 export, quantised and checked once, then read from the cache.

    Args:
        model: the model's name, for messages.
        fp32: the cached float32 export.
        calibration_key: names the calibration images (`calibration.calibration_key`).
        images: makes `(calibration, check)`, preprocessed (N, H, W, C) batches that share no
            photo; called only when the model is quantised.
        verdicts: the dog/cat verdict of each row of probabilities.

    Returns:
        `(path, record)`: the record says whether the file was kept (`kept`), how many first
        convolutions it keeps in float32 and its `agreement` with float32 on the check images (of
        the last recipe tried; every one in `tried`), what was `needed`, the calibration and the
        time it took.
    """
    target = int8_path(model, fp32, calibration_key)
    record = read_record(target)
    if record is not None:
        return target, record
    with export_lock(target):
        record = read_record(target)
        if record is not None:  # made by another process while we waited
            return target, record
        started = time.perf_counter()
        calibration, check = images()
        tried: list[dict[str, Any]] = []
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".int8-") as folder:
            for kept_float32 in float32_convolution_tries(model):
                made = Path(folder) / f"model-{kept_float32}.onnx"
                _quantize(fp32, made, calibration, Path(folder), kept_float32)
                tried.append({"float32_convolutions": kept_float32, "agreement": _agreement(fp32, made, check, verdicts),
                              "size_bytes": made.stat().st_size})
                if not shortfalls(tried[-1]["agreement"]):
                    os.replace(made, target)
                    break
            record = {"model": model, "kept": not shortfalls(tried[-1]["agreement"]), **tried[-1], "tried": tried,
                      "needed": NEEDED, "confident_at": CONFIDENT, "method": METHOD,
                      "calibration_images": int(len(calibration)), "seconds": round(time.perf_counter() - started, 1)}
        write_atomically(target.with_suffix(".json"), json.dumps(record, indent=1), mode=None)
    return target, record


def quantize_unchecked(model: str, fp32: Path, target: Path, calibration: np.ndarray) -> None:
    """Quantise with the same recipe into `target`, unchecked and never cached: for the benchmark's
    speed rows of models with random weights, whose agreement with float32 means nothing."""
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".int8-") as folder:
        _quantize(fp32, target, calibration, Path(folder), float32_convolution_tries(model)[0])


def shortfalls(agreement: dict[str, Any]) -> list[str]:
    """The measures of `NEEDED` an agreement falls short of."""
    return [name for name, needed in NEEDED.items() if agreement[name] < needed]


def refusal_message(record: dict) -> str:
    """Why an int8 model was refused, with its numbers, in one sentence."""
    agreement = record["agreement"]
    said = {"top1_confident": f"top-1 the same on {agreement['top1_confident']:.1%} of the {agreement['confident_images']} "
                              f"images where float32 is at least {CONFIDENT:.0%} sure (needs {NEEDED['top1_confident']:.0%})",
            "top5": f"float32's top-1 within its top-5 on {agreement['top5']:.1%} (needs {NEEDED['top5']:.0%})",
            "verdict": f"the same dog/cat verdict on {agreement['verdict']:.1%} (needs {NEEDED['verdict']:.0%})"}
    return (f"Expected the int8 {record['model']} to agree with float32 on the {agreement['images']} held-out check images. "
            f"Received: {'; '.join(said[name] for name in shortfalls(agreement))} (top-1 the same on "
            f"{agreement['top1']:.1%} overall), so it was not kept and float32 answers.")


def _quantize(fp32: Path, target: Path, calibration: np.ndarray, folder: Path, first: int) -> None:
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = folder / "prepared.onnx"
    try:
        quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)  # ONNX's own shape inference; no sympy
        model = onnx.load(str(prepared))
        if fold_pads_into_max_pools(model.graph):
            onnx.save(model, str(prepared))
        graph = model.graph
        convolutions = [node.name for node in graph.node if node.op_type == "Conv"]
        dense = [node.name for node in graph.node if node.op_type in ("MatMul", "Gemm")]
        kept = convolutions[:first] + dense[-1:] + [node.name for node in graph.node if node.op_type == "Softmax"]
        name = graph.input[0].name

        class Reader(CalibrationDataReader):  # onnxruntime's calibration input: one image at a time
            def __init__(self) -> None:
                self.rows = iter([{name: calibration[i:i + 1]} for i in range(len(calibration))])

            def get_next(self) -> dict | None:
                return next(self.rows, None)

        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):  # the calibrator prints its progress
            quantize_static(str(prepared), str(target), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            calibrate_method=getattr(CalibrationMethod, METHOD), nodes_to_exclude=kept)
    except Exception as exc:  # onnxruntime's and onnx's own error types
        raise ExportError(f"Expected {fp32.name} to quantise to int8. Received: {type(exc).__name__}: {str(exc)[:200]}",
                          key="int8_failed") from exc


def fold_pads_into_max_pools(graph) -> int:
    """Fold each zero Pad between a Relu and the max pools it feeds into their own padding (ResNet's
    `pool1_pad`); return how many. The same numbers (a max over values that are at least 0 is not
    changed by zeros beside them), but onnxruntime keeps a Pad between quantised nodes in float32:
    dequantise, pad, quantise again, 18 % of ResNet50's int8 time in batches of 16."""
    from onnx import helper, numpy_helper

    index = GraphIndex.of(graph)
    producer, consumers, constants = index.producers, index.consumers, index.constants

    def attribute(node, name, default=None):
        return next((helper.get_attribute_value(a) for a in node.attribute if a.name == name), default)

    folded = 0
    for pad in list(graph.node):
        if pad.op_type != "Pad" or len(pad.input) < 2 or pad.input[1] not in constants:
            continue
        value = pad.input[2] if len(pad.input) > 2 and pad.input[2] else None
        if attribute(pad, "mode", b"constant") != b"constant" or (
                value and (value not in constants or numpy_helper.to_array(constants[value]).any())):
            continue
        pads = numpy_helper.to_array(constants[pad.input[1]])
        source, users = producer.get(pad.input[0]), consumers.get(pad.output[0], [])
        if (source is None or source.op_type != "Relu" or not users or len(pads) != 8 or pads[[0, 1, 4, 5]].any()
                or any(user.op_type != "MaxPool" or attribute(user, "pads") or attribute(user, "auto_pad", b"NOTSET") != b"NOTSET"
                       for user in users)):
            continue  # only spatial zero padding of an NCHW activation that is never negative
        for user in users:
            user.attribute.append(helper.make_attribute("pads", [int(pads[2]), int(pads[3]), int(pads[6]), int(pads[7])]))
            user.input[0] = pad.input[0]
        graph.node.remove(pad)
        if not any(pad.input[1] in node.input for node in graph.node):
            graph.initializer.remove(constants[pad.input[1]])
        folded += 1
    return folded


def _agreement(fp32: Path, int8: Path, check: np.ndarray, verdicts: Verdicts) -> dict[str, Any]:
    from plugin.engine.inference.onnx.session import OnnxRunner

    reference = np.asarray(OnnxRunner(fp32)(check), dtype=np.float64)  # in slices of BATCH_SIZE, as every call
    quantised = np.asarray(OnnxRunner(int8)(check), dtype=np.float64)
    top1, top1_int8 = reference.argmax(axis=1), quantised.argmax(axis=1)
    confident = reference.max(axis=1) >= CONFIDENT
    top5 = np.argsort(-quantised, axis=1, kind="stable")[:, :5]
    same = top1 == top1_int8
    return {"images": int(len(check)), "top1": round(float(same.mean()), 4),
            "top1_confident": round(float(same[confident].mean()) if confident.any() else 1.0, 4),
            "confident_images": int(confident.sum()),
            "top5": round(float(np.mean([a in row for a, row in zip(top1, top5)])), 4),
            "verdict": round(float(np.mean([a == b for a, b in zip(verdicts(reference), verdicts(quantised))])), 4)}
