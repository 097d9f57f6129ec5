"""The classifier head of an exported model, where it is linear: what Grad-CAM and its kin need,
read from the graph instead of asked of TensorFlow's gradients.

Most ImageNet classifiers end with global average pooling, one dense layer and a softmax. Their
logits are z = mean_ij(A) W + b of the last feature map A (h x w x C), so the gradient of logit c
with respect to A[i, j, k] is W[k, c] / (h w), the same at every cell: there Grad-CAM is CAM
(Zhou et al. 2016), as Selvaraju et al. show (Grad-CAM, section 3.1). A group's score, the
log-sum-exp of its logits, has the gradient sum_c q_c W[:, c] / (h w), q being the group's
probabilities scaled to sum to 1. Where the graph after a feature map is exactly that chain
(identities, reshapes and the dropout tf2onnx leaves out aside), `linear_head` gives the map's
tensor, its Keras layer and W; anywhere else (VGG's three dense layers, an int8 graph's quantised
product, a pooled or padded map) it gives None and Keras computes the gradients.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np
from onnx import numpy_helper

from plugin.engine.inference.onnx.graphs import GraphIndex

__all__ = ["LinearHead", "linear_head", "layer_tensor", "head_gradients"]

_PASS_THROUGH = ("Identity", "Reshape", "Squeeze", "Flatten")
_NOT_A_FEATURE_MAP = ("MaxPool", "AveragePool", "Pad", "Identity", "Dropout")
"""Producers whose output Keras's choice of layer skips (`layers.last_conv_layer`): not explained here."""


@dataclasses.dataclass(frozen=True)
class LinearHead:
    """The last feature map and the dense layer after it.

    Attributes:
        layer: the Keras layer whose output the feature map is.
        tensor: its tensor in the exported graph.
        kernel: the dense layer's weights, float64 (channels, classes).
    """

    layer: str
    tensor: str
    kernel: np.ndarray

    def gradients(self, features: np.ndarray, probabilities: np.ndarray, indices: list[int]) -> np.ndarray:
        """The gradient of the target's score (a class's logit; a group's log-sum-exp of logits) with
        respect to one photo's feature map (h, w, channels), from its probabilities (classes,)."""
        return head_gradients(self.kernel, features.shape, probabilities, indices)


def head_gradients(kernel: np.ndarray, shape: tuple, probabilities: np.ndarray, indices: list[int]) -> np.ndarray:
    """See `LinearHead.gradients`; `shape` is the feature map's (h, w, channels)."""
    chosen = np.asarray(probabilities, np.float64)[indices]
    share = chosen / chosen.sum() if len(indices) > 1 and chosen.sum() > 0 else np.full(len(indices), 1.0 / len(indices))
    column = kernel[:, indices] @ share
    height, width = shape[0], shape[1]
    return np.broadcast_to(column / (height * width), (height, width, kernel.shape[0])).copy()


def layer_tensor(model: Any, layer: str) -> str | None:
    """The tensor of a Keras layer's output in a tf2onnx graph: the last node of its scope
    (`efficientnet_lite0_1/top_activation_1/Relu6:0`), in the graph's (topological) order."""
    scope = re.compile(rf"(^|/){re.escape(layer)}(_\d+)?/")
    found = [node.output[0] for node in model.graph.node if node.output and scope.search(node.output[0])]
    return found[-1] if found else None


def linear_head(model: Any) -> LinearHead | None:
    """The graph's last feature map and dense kernel where global average pooling, one dense layer
    and a softmax are all that follow it; else None."""
    graph = model.graph
    index = GraphIndex.of(graph)
    producers, consumers, constants = index.producers, index.consumers, index.constants

    def only_consumer(tensor: str, node) -> bool:
        return [id(user) for user in consumers.get(tensor, [])] == [id(node)]

    def back(tensor: str, ops: tuple[str, ...]) -> str:
        """Walk up through pass-through nodes, each the only user of its input."""
        while (node := producers.get(tensor)) is not None and node.op_type in ops and only_consumer(node.input[0], node):
            tensor = node.input[0]
        return tensor

    tensor = graph.output[0].name
    tensor = back(tensor, ("Identity",))
    softmax = producers.get(tensor)
    if softmax is None or softmax.op_type != "Softmax":
        return None
    tensor = back(softmax.input[0], ("Identity",))
    node = producers.get(tensor)
    if node is not None and node.op_type == "Add" and len(consumers.get(tensor, [])) == 1:
        others = [name for name in node.input if name not in constants]
        if len(others) != 1:
            return None
        tensor = back(others[0], ("Identity",))
        node = producers.get(tensor)
    if node is None or node.op_type != "MatMul" or node.input[1] not in constants or len(consumers.get(tensor, [])) != 1:
        return None
    kernel = numpy_helper.to_array(constants[node.input[1]]).astype(np.float64)
    if kernel.ndim != 2:
        return None
    tensor = back(node.input[0], _PASS_THROUGH)
    pooling = producers.get(tensor)
    if (pooling is None or pooling.op_type != "ReduceMean" or not _spatial_axes(pooling, constants)
            or len(consumers.get(tensor, [])) != 1):
        return None
    feature = pooling.input[0]
    source = producers.get(feature)
    if source is None or source.op_type in _NOT_A_FEATURE_MAP or not only_consumer(feature, pooling):
        return None
    layer = _layer_of(model, feature)
    if layer is None:
        return None
    return LinearHead(layer=layer, tensor=feature, kernel=kernel)


def _spatial_axes(node, constants: dict) -> bool:
    """Whether a ReduceMean averages over height and width of a (batch, height, width, channels) map."""
    axes = next((list(attribute.ints) for attribute in node.attribute if attribute.name == "axes"), None)
    if axes is None and len(node.input) > 1 and node.input[1] in constants:
        axes = numpy_helper.to_array(constants[node.input[1]]).tolist()
    return axes is not None and sorted(axes) == [1, 2]


def _layer_of(model: Any, tensor: str) -> str | None:
    """The Keras layer whose scope ends with `tensor`: a scope name (`top_activation_1`) without the
    number TensorFlow adds, checked by finding the same tensor again from it."""
    for scope in tensor.split("/")[1:-1]:
        for name in (re.sub(r"_\d+$", "", scope), scope):
            if layer_tensor(model, name) == tensor:
                return name
    return None
