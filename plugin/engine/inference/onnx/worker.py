"""The export worker: `python -m plugin.engine.inference.onnx.worker MODEL WEIGHTS TARGET SHA256` writes one
registry model as ONNX. It runs only as a child process of `plugin.engine.inference.onnx.export`: an export needs
up to about 6 GB (VGG19), and the patches it applies (`keras_compat.patch_for_onnx_export`) change process-wide,
private attributes of Keras and tf2onnx.

Weights: the worker copies the weights file into a private folder beside the target while hashing it
(one read, `hashing.copy_hashed`) and builds the model from that copy, never from the file it was
given. Where the parent passes SHA256 (the digest the cache keys the target on), a copy of other
bytes is refused before anything is built: a file swapped or rewritten after the parent hashed it
(by whoever can write it) is never exported under the key of the bytes it had. The copy is removed
once the model is built (by the parent after a killed worker); it costs one more read and write of
the file (here 0.02 s for Lite0's 19 MB, 0.6 to 2 s for 550 MB, as VGG19's).

Route: `tf2onnx.convert.from_keras` with a dynamic batch, `large_model=True` (TensorFlow freezes the
graph without grappler and imports it without the weights) and no tf2onnx optimizers (onnxruntime
optimises the graph itself when it loads it). The weights are then put back into the graph, so the
file is one ordinary `.onnx`. Against tf2onnx's defaults this exports VGG16 in 20 s instead of 70-140 s,
with a peak of 6.4 GB instead of 13.6 GB, and runs as fast.

Protocol: one JSON object per line on stdout, `{"stage": ...}` while working, then `{"result": {...}}`
or `{"error": {"type", "message", "key", "params"}}`. Whatever libraries print goes to stderr.

A parent that ends meanwhile (a command that answered while its export ran in the background) does
not end the export: the worker goes on without telling anyone, puts the file in place for the next
command, and stops itself after `EXPORT_TIMEOUT_S` as the parent would have.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from pathlib import Path

import numpy as np

from plugin.engine.models.hashing import copy_hashed
from plugin.errors import ExportError, InvalidInputError, PluginError
from plugin.files import atomic_path

EXPORT_TIMEOUT_S = 1800
"""Longest an export may take; VGG19 takes about 25 s on 2 cores."""
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


def weights_folder(target: Path, pid: int) -> Path:
    """Where worker `pid` keeps its private copy of the weights while it exports `target` (same folder, hidden)."""
    return target.with_name(f".{target.name}.{pid}.weights")


def private_copy(model: str, weights: str, folder: Path, expected: str | None) -> tuple[str, str]:
    """Copy the weights file into `folder` (made here, readable by this user only) while hashing it.

    Args:
        model: the registry model's name, for messages.
        weights: the weights file given.
        folder: a folder that does not exist yet.
        expected: the SHA-256 the copy must have (the digest the target's key was made from), or None.

    Returns:
        `(path of the copy, its SHA-256)`; the copy keeps the file's name, whose suffix Keras reads.
    """
    name = os.path.basename(weights)
    folder.mkdir(mode=0o700)
    copy = folder / name
    try:
        digest = copy_hashed(weights, copy)
    except OSError as exc:
        raise InvalidInputError(f"Expected a weights file for {model}. Received: {name!r}, which could not be read "
                                f"({exc.strerror or type(exc).__name__}).", key="weights_missing", model=model) from exc
    if expected and digest != expected:
        raise ExportError(f"Expected the weights file {name!r} to have SHA-256 {expected}, the digest its export is "
                          f"cached under. Received: a file with SHA-256 {digest}; it changed after it was hashed, so "
                          "nothing was exported.", key="onnx_export_failed", model=model)
    return str(copy), digest


def export(name: str, weights: str | None, target: Path, say, expected: str | None = None) -> dict:
    """Build the registry model as the runtime does, from a private copy of the weights that has the
    `expected` SHA-256 where one is given; convert it and move the file into place."""
    from plugin.engine.models.keras_compat import patch_for_onnx_export
    from plugin.engine.models.registry import get_spec

    say({"stage": "build"})
    spec = get_spec(name)
    model, digest = _build(spec, weights, weights_folder(target, os.getpid()), expected)
    patch_for_onnx_export()
    say({"stage": "convert"})
    data = convert(model)
    with atomic_path(target, temporary=temporary_path(target, os.getpid())) as temporary:  # checked, then moved into place
        temporary.write_bytes(data)
        del data
        say({"stage": "check"})
        difference = check(model, str(temporary))
    return {"model": spec.name, "weights_sha256": digest, "size_bytes": target.stat().st_size,
            "peak_rss_bytes": _peak_rss(), "max_abs_diff": difference}


def _build(spec, weights: str | None, folder: Path, expected: str | None) -> tuple:
    """The model built from a private copy of the weights in `folder` (removed once it is built),
    and the copy's SHA-256 (None for random weights)."""
    from plugin.engine.models.build import build_registry_model

    if weights is None:
        return build_registry_model(spec, None), None
    try:
        copy, digest = private_copy(spec.name, weights, folder, expected)
        return build_registry_model(spec, copy), digest
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _peak_rss() -> int:
    """This process's peak resident memory (VmHWM starts afresh at exec, unlike ru_maxrss, which
    keeps the parent's at fork)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))


def main(argv: list[str]) -> int:
    try:
        return _main(argv)
    finally:
        if not _parent_listens:  # the parent is gone: release the lock file as it would have (it is held till exit)
            Path(argv[2] + ".lock").unlink(missing_ok=True)


_parent_listens = [True]


def _main(argv: list[str]) -> int:
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # library output goes to stderr; stdout carries only the protocol

    def say(message: dict) -> None:
        if _parent_listens:
            try:
                protocol.write(json.dumps(message) + "\n")
            except BrokenPipeError:  # the parent has ended: the export goes on for the next command
                _parent_listens.clear()

    name, weights, target, expected = argv
    try:
        say({"result": export(name, weights or None, Path(target), say, expected or None)})
        return 0
    except Exception as exc:
        first_line = (str(exc).splitlines() or [""])[0][:500]
        say({"error": {"type": type(exc).__name__, "message": first_line if isinstance(exc, PluginError) else
                       f"{type(exc).__name__}: {first_line}", "key": getattr(exc, "key", None),
                       "params": getattr(exc, "params", None) or {}, "plugin_error": isinstance(exc, PluginError)}})
        return 1


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    signal.alarm(EXPORT_TIMEOUT_S)
    sys.exit(main(sys.argv[1:]))
