"""Every private part of Keras (and of tf2onnx) the engine uses, in one place.

Checked against Keras 3.15 (and tf2onnx 1.17); `tests/test_keras_compat.py` pins the versions
and says what to re-check when they change. Nothing else in `plugin` imports `keras.src`.

    weightless()                  build models whose variables get shapes but no memory
    legacy_model_from_config()    an .h5 file's architecture, as Keras's legacy loader reads it
    patch_for_onnx_export()       the export worker's patches (never call in a server process)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["CHECKED_WITH", "weightless", "legacy_model_from_config", "patch_for_onnx_export"]

CHECKED_WITH = {"keras": "3.15", "tf2onnx": "1.17"}
"""The releases (major.minor) these private parts were read from."""


@contextlib.contextmanager
def weightless() -> Iterator[None]:
    """Build Keras models inside without allocating their weights (`StatelessScope(initialize_variables=False)`).

    A model built here knows its layers, shapes and parameter counts; its variables hold nothing and
    the model cannot run. VGG16 takes 0.05 s instead of 4 s. The variables left uninitialised are
    forgotten on the way out, so a later real build in this thread is not affected.
    """
    from keras.src.backend.common import global_state
    from keras.src.backend.common.stateless_scope import StatelessScope

    try:
        with StatelessScope(initialize_variables=False):
            yield
    finally:
        global_state.set_global_attribute("uninitialized_variables", [])  # this thread's, never initialised


def legacy_model_from_config(config: dict) -> Any:
    """The model an `.h5` file's `model_config` describes, built by Keras's legacy loader (no weights),
    in safe mode: the legacy loader does not set it itself, and layers such as `StringLookup` refuse
    file vocabularies only in safe mode."""
    from keras.src.legacy.saving import saving_utils
    from keras.src.saving.serialization_lib import SafeModeScope

    with SafeModeScope(True):
        return saving_utils.model_from_config(config)


def patch_for_onnx_export() -> None:
    """Make tf2onnx convert every registry model (never call this in a server process).

    1. Keras's TensorFlow backend runs grouped convolutions (ConvNeXt's depthwise Conv2D(groups=C)) in a
       nested `tf.function(jit_compile=True)`, which reaches tf2onnx as an opaque StatefulPartitionedCall.
       Only tracing happens here, so the plain `tf.nn.convolution` is used; it becomes an ONNX Conv with `group`.
    2. Exact GELU (ConvNeXt) uses Erfc, which tf2onnx cannot convert: it is written as 1 - Erf(x).
    3. tf2onnx's large-model path calls `np.product`, which NumPy 2 removed.
    """
    import numpy as np
    import tensorflow as tf
    from keras.src.backend.tensorflow import nn as keras_tf_nn
    from tf2onnx import utils
    from tf2onnx.handler import tf_op

    def conv_without_xla(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
        data_format = keras_tf_nn.backend.standardize_data_format(data_format)
        tf_format = keras_tf_nn._convert_data_format(data_format, len(inputs.shape))
        return tf.nn.convolution(inputs, kernel, strides, padding.upper(), data_format=tf_format, dilations=dilation_rate)

    @tf_op("Erfc")
    class _Erfc:
        @classmethod
        def version_9(cls, ctx, node, **kwargs):
            dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(node.input[0]))
            node.type = "Erf"
            one = ctx.make_const(utils.make_name(f"{node.name}_one"), np.array(1, dtype=dtype))
            ctx.insert_new_node_on_output("Sub", node.output[0], name=utils.make_name(f"{node.name}_erfc"),
                                          inputs=[one.output[0], node.output[0]])

    keras_tf_nn.conv = conv_without_xla
    np.product = np.prod  # type: ignore[attr-defined]  # NumPy 2 removed np.product; tf2onnx still calls it
