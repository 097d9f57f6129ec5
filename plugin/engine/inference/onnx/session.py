"""An exported model run by onnxruntime, with the Keras `Runner`'s interface.

One CPU session per file, shared by concurrent callers: `InferenceSession.run` is thread-safe and
releases the GIL, and requests that arrive together run as one batch (`plugin.engine.inference.batching`) on
its pool of one thread per core. The graph is optimised by onnxruntime when the session is created
(constant folding, Conv + BatchNorm + activation fusion). Batches run in slices of `BATCH_SIZE`
images, as on Keras, which bounds the memory one call holds (VGG16's first activations take 13 MB
an image).
"""

from __future__ import annotations

import os

import numpy as np

from plugin.engine.inference.batching import Batcher, in_slices
from plugin.engine.intake.parallel import threads
from plugin.errors import ExportError, InvalidInputError

__all__ = ["OnnxRunner"]


class OnnxRunner:
    """An onnxruntime session on an `.onnx` file with one image input (N, H, W, C)."""

    backend = "onnx"

    def __init__(self, path: str | os.PathLike) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path = os.fspath(path)
        try:
            self.session = ort.InferenceSession(self.path, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for a damaged or foreign file
            raise ExportError(f"Expected an ONNX model file onnxruntime can load. Received: {os.path.basename(self.path)!r}, "
                              f"which it refused ({type(exc).__name__}).", key="onnx_unreadable") from exc
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise InvalidInputError(f"Expected an ONNX model with one input of shape (N, H, W, C). Received: "
                                    f"{os.path.basename(self.path)!r} with inputs {[i.shape for i in inputs]}.")
        self._input = inputs[0].name
        self._shape = (None, *(int(d) for d in inputs[0].shape[1:]))
        self.batcher = Batcher(self._run)

    def compile(self) -> OnnxRunner:
        """Nothing to compile: the session was optimised when it was created."""
        return self

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Run a float32 batch (N, H, W, C) and return the model's raw outputs as numpy."""
        if not isinstance(batch, np.ndarray) or batch.dtype != np.float32 or batch.ndim != 4 or batch.shape[1:] != self._shape[1:]:
            received = f"{type(batch).__name__} {getattr(batch, 'dtype', '')} of shape {getattr(batch, 'shape', None)}"
            raise InvalidInputError(f"Expected a float32 array of shape {self._shape}. Received: {received}.")
        return self.batcher(batch)

    def _run(self, batch: np.ndarray) -> np.ndarray:
        return in_slices(lambda part: self.session.run(None, {self._input: part})[0], batch)

    @property
    def input_shape(self) -> tuple:
        """(None, H, W, C), as the Keras model's input shape."""
        return self._shape
