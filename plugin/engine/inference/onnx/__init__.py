"""Run registry models with onnxruntime: export (in a worker process), cache, and a runner.

    export.py   export_onnx(): a registry model with given weights to an .onnx file, in a child process
    worker.py   that child process: build, patch, convert with tf2onnx, check against Keras
    cache.py    exports kept in KERAS_HOME/models/onnx, keyed by weights and library versions
    session.py  OnnxRunner: the Keras Runner's interface on an onnxruntime session
    background.py  exports that backend="auto" starts, one at a time, each tried once
    features.py a layer's feature map read from the exported graph (Score-CAM, Eigen-CAM)
    head.py     the linear head after the last feature map: the gradients Grad-CAM needs, from its weights

Importing this package imports neither TensorFlow nor onnxruntime.
"""

from plugin.engine.inference.onnx.background import export_state, exports_under_way, request_export
from plugin.engine.inference.onnx.cache import EXPORT_VERSION, cache_path, cached_export, export_cached, onnx_cache_dir
from plugin.engine.inference.onnx.export import export_onnx
from plugin.engine.inference.onnx.session import OnnxRunner

__all__ = ["UNSUPPORTED", "EXPORT_VERSION", "OnnxRunner", "cache_path", "cached_export", "export_cached",
           "export_onnx", "export_state", "exports_under_way", "onnx_cache_dir", "request_export"]

UNSUPPORTED: dict[str, str] = {}
"""Registry models that do not export, with the reason. Every one of the 15 exports and matches Keras
(tests/test_onnx.py checks them all)."""
