"""The export worker: `python -m plugin.engine.inference.onnx.worker MODEL WEIGHTS TARGET` writes one registry
model as ONNX. It runs only as a child process of `plugin.engine.inference.onnx.export`: an export needs up to
about 6 GB (VGG19), and the patches it applies (`keras_compat.patch_for_onnx_export`) change process-wide, private
attributes of Keras and tf2onnx.

Route: `tf2onnx.convert.from_keras` with a dynamic batch, `large_model=True` (TensorFlow freezes the
graph without grappler and imports it without the weights) and no tf2onnx optimizers (onnxruntime
optimises the graph itself when it loads it). The weights are then put back into the graph, so the
file is one ordinary `.onnx`. Against tf2onnx's defaults this exports VGG16 in 20 s instead of 70-140 s,
with a peak of 6.4 GB instead of 13.6 GB, and runs as fast.

Protocol: one JSON object per line on stdout, `{"stage": ...}` while working, then `{"result": {...}}`
or `{"error": {"type", "message", "key", "params"}}`. Whatever libraries print goes to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from plugin.errors import PluginError

INPUT_NAME = "images"
STAGES = ("build", "convert", "check")
_CHECK_TOLERANCE = 1e-4


def convert(model) -> bytes:
    """The model as a serialized ONNX graph with one input, `images`, of shape (any batch, H, W, C)."""
    import tensorflow as tf
    import tf2onnx
    from onnx import TensorProto

    signature = [tf.TensorSpec((None, *model.inputs[0].shape[1:]), tf.float32, name=INPUT_NAME)]
    proto, storage = tf2onnx.convert.from_keras(model, input_signature=signature, large_model=True, optimizers={})
    for tensor in proto.graph.initializer:
        if tensor.data_location == TensorProto.EXTERNAL:
            location = next(entry.value for entry in tensor.external_data if entry.key == "location")
            tensor.raw_data = storage.name_to_tensor_data.pop(location)
            del tensor.external_data[:]
            tensor.data_location = TensorProto.DEFAULT
    if storage.name_to_tensor_data:
        raise RuntimeError(f"{len(storage.name_to_tensor_data)} weight tensors were left outside the graph")
    return proto.SerializeToString()


def check(model, path: str) -> float:
    """The largest difference between Keras's and onnxruntime's outputs on one fixed random batch."""
    import onnxruntime as ort

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    inputs = session.get_inputs()
    expected = ["batch", *model.inputs[0].shape[1:]]
    if len(inputs) != 1 or len(inputs[0].shape) != 4 or list(inputs[0].shape[1:]) != expected[1:]:
        raise RuntimeError(f"the graph takes {[(i.name, i.shape) for i in inputs]}, not one input of shape {expected}")
    batch = np.random.default_rng(0).uniform(-1, 1, (2, *expected[1:])).astype(np.float32)
    difference = float(np.abs(session.run(None, {inputs[0].name: batch})[0] - np.asarray(model(batch, training=False))).max())
    if not difference <= _CHECK_TOLERANCE:
        raise RuntimeError(f"onnxruntime's outputs differ from Keras's by {difference:.3g} (at most {_CHECK_TOLERANCE} allowed)")
    return difference


def temporary_path(target: Path, pid: int) -> Path:
    """Where worker `pid` writes `target` before moving it into place (same folder, hidden)."""
    return target.with_name(f".{target.name}.{pid}.tmp")


def export(name: str, weights: str | None, target: Path, say) -> dict:
    """Build the registry model as the runtime does, convert it and move the file into place."""
    from plugin.engine.models.build import build_registry_model
    from plugin.engine.models.keras_compat import patch_for_onnx_export
    from plugin.engine.models.registry import get_spec

    say({"stage": "build"})
    spec = get_spec(name)
    model = build_registry_model(spec, weights)
    patch_for_onnx_export()
    say({"stage": "convert"})
    data = convert(model)
    temporary = temporary_path(target, os.getpid())
    try:
        temporary.write_bytes(data)
        del data
        os.chmod(temporary, 0o644)
        say({"stage": "check"})
        difference = check(model, str(temporary))
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return {"model": spec.name, "size_bytes": target.stat().st_size,
            "peak_rss_bytes": _peak_rss(), "max_abs_diff": difference}


def _peak_rss() -> int:
    """This process's peak resident memory (VmHWM starts afresh at exec, unlike ru_maxrss, which
    keeps the parent's at fork)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))


def main(argv: list[str]) -> int:
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # library output goes to stderr; stdout carries only the protocol

    def say(message: dict) -> None:
        protocol.write(json.dumps(message) + "\n")

    name, weights, target = argv
    try:
        say({"result": export(name, weights or None, Path(target), say)})
        return 0
    except Exception as exc:
        first_line = (str(exc).splitlines() or [""])[0][:500]
        say({"error": {"type": type(exc).__name__, "message": first_line if isinstance(exc, PluginError) else
                       f"{type(exc).__name__}: {first_line}", "key": getattr(exc, "key", None),
                       "params": getattr(exc, "params", None) or {}, "plugin_error": isinstance(exc, PluginError)}})
        return 1


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main(sys.argv[1:]))
