"""One layer's feature map from an exported model, read by onnxruntime: what Score-CAM and Eigen-CAM
need, without TensorFlow (and, where the layer is the last feature map before a linear head, what
Grad-CAM, Grad-CAM++ and LayerCAM need: see `head`).

tf2onnx names each node after the TensorFlow op it came from, under the Keras layer's scope
(`efficientnet_lite0_1/top_activation_1/Relu6:0`); the last node of a layer's scope, in the graph's
order (topological), gives the layer's output in the model's own layout (batch, height, width,
channels: tf2onnx transposes back after each convolution). That tensor is added as a second output
of an in-memory copy of the graph; the file on disk is not changed. Quantised (int8) graphs keep the
scopes, so the same holds for them.
"""

from __future__ import annotations

import os

import numpy as np

from plugin.engine.inference.onnx.head import layer_tensor, linear_head
from plugin.engine.intake.parallel import threads
from plugin.errors import ExportError

__all__ = ["FeatureSession", "head_session"]


def head_session(path: str | os.PathLike) -> FeatureSession | None:
    """A session on the exported model's last feature map where a linear head follows it (its
    `head` set: see `head.linear_head`), else None; the graph is read once for both."""
    import onnx

    model = onnx.load(os.fspath(path))
    head = linear_head(model)
    return FeatureSession(path, head.layer, model=model) if head is not None else None


class FeatureSession:
    """An onnxruntime session giving a named layer's feature map and the model's outputs.

    Attributes:
        head: the linear head after the layer, where it is the last feature map before one (the
            gradients of every class's score then follow from the map), else None.
    """

    def __init__(self, path: str | os.PathLike, layer: str, *, model=None) -> None:
        """`model`: the graph read from `path` already (it is changed: the layer becomes an output)."""
        import onnx
        import onnxruntime as ort

        model = model if model is not None else onnx.load(os.fspath(path))
        found = layer_tensor(model, layer)
        if found is None:
            raise ExportError(f"Expected layer {layer!r} in the exported graph of {os.path.basename(os.fspath(path))!r}. "
                              "Received: no node in its scope.", key="onnx_layer_missing", value=layer)
        head = linear_head(model)
        self.head = head if head is not None and head.tensor == found else None
        model.graph.output.append(onnx.helper.make_empty_tensor_value_info(found))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads()
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        self._input = self.session.get_inputs()[0].name
        self._outputs = [self.session.get_outputs()[0].name, found]

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`(feature maps (N, h, w, C), model outputs (N, classes))` for a preprocessed float32 batch."""
        outputs, features = self.session.run(self._outputs, {self._input: batch.astype(np.float32)})
        if features.ndim != 4:
            raise ExportError(f"Expected a feature map of 4 dimensions. Received: shape {features.shape}.",
                              key="onnx_layer_missing", value=self._outputs[1])
        return np.asarray(features), np.asarray(outputs)
