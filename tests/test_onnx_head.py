"""The linear head read from an exported graph: where global average pooling, one dense layer and a
softmax follow the last feature map, the gradients Grad-CAM needs are the dense layer's weights
(checked here against finite differences), and any other head is left to Keras."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from plugin.engine.inference.onnx.head import head_gradients, linear_head

CHANNELS, CLASSES = 4, 6
RNG = np.random.default_rng(3)
KERNEL = RNG.normal(size=(CHANNELS, CLASSES)).astype(np.float32)
BIAS = RNG.normal(size=CLASSES).astype(np.float32)


def graph(*, head: str = "linear", extra_user: bool = False, pooled: bool = False) -> onnx.ModelProto:
    """A tf2onnx-like graph: a convolution and ReLU in `net_1/top_activation_1/`, then the head."""
    scope = "net_1/top_activation_1/Relu:0"
    nodes = [helper.make_node("Conv", ["images", "w"], ["net_1/top_conv_1/Conv:0"]),
             helper.make_node("Relu", ["net_1/top_conv_1/Conv:0"], [scope])]
    constants = [numpy_helper.from_array(RNG.normal(size=(CHANNELS, 3, 1, 1)).astype(np.float32), "w"),
                 numpy_helper.from_array(KERNEL, "kernel"), numpy_helper.from_array(BIAS, "bias")]
    feature = scope
    if pooled:
        nodes.append(helper.make_node("MaxPool", [scope], ["net_1/pool_1/MaxPool:0"], kernel_shape=[2, 2]))
        feature = "net_1/pool_1/MaxPool:0"
    nodes.append(helper.make_node("ReduceMean", [feature], ["net_1/avg_pool_1/Mean:0"], axes=[1, 2], keepdims=0))
    if extra_user:
        nodes.append(helper.make_node("Identity", [feature], ["elsewhere"]))
    last = "net_1/avg_pool_1/Mean:0"
    if head == "two_dense":
        constants.append(numpy_helper.from_array(np.eye(CHANNELS, dtype=np.float32), "hidden"))
        nodes += [helper.make_node("MatMul", [last, "hidden"], ["net_1/fc1_1/MatMul:0"]),
                  helper.make_node("Relu", ["net_1/fc1_1/MatMul:0"], ["net_1/fc1_1/Relu:0"])]
        last = "net_1/fc1_1/Relu:0"
    nodes += [helper.make_node("MatMul", [last, "kernel"], ["net_1/predictions_1/MatMul:0"]),
              helper.make_node("Add", ["net_1/predictions_1/MatMul:0", "bias"], ["net_1/predictions_1/BiasAdd:0"])]
    if head != "no_softmax":
        nodes.append(helper.make_node("Softmax", ["net_1/predictions_1/BiasAdd:0"], ["net_1/predictions_1/Softmax:0"]))
    nodes.append(helper.make_node("Identity", [nodes[-1].output[0]], ["predictions"]))
    outputs = [helper.make_tensor_value_info("predictions", TensorProto.FLOAT, [None, CLASSES])]
    if extra_user:
        outputs.append(helper.make_tensor_value_info("elsewhere", TensorProto.FLOAT, None))
    return helper.make_model(helper.make_graph(nodes, "net", [helper.make_tensor_value_info("images", TensorProto.FLOAT, [None, 5, 5, 3])],
                                              outputs, constants))


def test_a_linear_head_is_found_with_its_layer_and_kernel():
    head = linear_head(graph())
    assert head is not None
    assert (head.layer, head.tensor) == ("top_activation", "net_1/top_activation_1/Relu:0")
    assert np.array_equal(head.kernel, KERNEL.astype(np.float64))


@pytest.mark.parametrize("case", ["two_dense", "no_softmax", "extra_user", "pooled"])
def test_any_other_head_is_left_to_keras(case):
    """VGG's dense layers, outputs that are not a softmax, a map that also feeds something else, and a
    pooled map (Keras's layer choice skips pooling, so the two backends would explain different maps)."""
    made = graph(head=case if case in ("two_dense", "no_softmax") else "linear",
                 extra_user=case == "extra_user", pooled=case == "pooled")
    assert linear_head(made) is None


@pytest.mark.parametrize("indices", [[2], [1, 3, 4]], ids=["one class", "a group"])
def test_the_head_gradients_are_those_of_the_score_by_finite_differences(indices):
    """The score is a class's logit, or a group's log-sum-exp of logits, of z = mean(A) W + b."""
    features = RNG.uniform(0, 2, size=(3, 5, CHANNELS))
    kernel, bias = KERNEL.astype(np.float64), BIAS.astype(np.float64)

    def score(a: np.ndarray) -> float:
        logits = a.mean(axis=(0, 1)) @ kernel + bias
        return float(np.log(np.exp(logits[indices]).sum()))

    logits = features.mean(axis=(0, 1)) @ kernel + bias
    probabilities = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    numeric = np.zeros_like(features)
    step = 1e-6
    for place in np.ndindex(features.shape):
        moved = features.copy()
        moved[place] += step
        numeric[place] = (score(moved) - score(features)) / step
    assert np.abs(head_gradients(kernel, features.shape, probabilities, indices) - numeric).max() < 1e-5
