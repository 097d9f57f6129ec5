"""Small models of the registry's families, built from Keras's own building blocks, exported to ONNX
the way the export worker exports a registry model: `python -m tests.onnx_small_models FOLDER`.

Each family keeps what its export has to get right (see tests/test_onnx.py's `DEFAULT_EXPORTS`),
at a size that converts in a second or two: ResNet's batch norm and residual adds, MobileNetV2's
depthwise convolutions and ReLU6, EfficientNet's rescaling, normalisation and squeeze-excite, and
ConvNeXt's grouped convolutions and exact GELU (the two the worker patches). Like the worker, it
runs in its own process: `patch_for_onnx_export` changes process-wide, private parts of Keras.

For each family FOLDER gets `NAME.onnx` (the worker's `convert`, checked with its `check`) and
`NAME.npz`: the fixed random batch, Keras's probabilities and the classifier's input (computed
before the patches), and the worker's check figure. The last line on stdout is a JSON list of the
names written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

CLASSES = 10


def small_models() -> dict:
    """The small models by family name, with random weights (input 64x64, or MobileNetV2's smallest, 96x96)."""
    import keras
    from keras.src.applications import convnext, efficientnet, resnet

    keras.utils.set_random_seed(0)

    def stacks(x):
        x = resnet.stack_residual_blocks_v1(x, 8, 2, stride1=1, name="conv2")
        return resnet.stack_residual_blocks_v1(x, 16, 2, name="conv3")

    return {
        "ResNet": resnet.ResNet(stacks, preact=False, use_bias=True, weights=None, input_shape=(64, 64, 3),
                                classes=CLASSES, name="resnet_small"),
        "MobileNetV2": keras.applications.MobileNetV2(alpha=0.35, weights=None, input_shape=(96, 96, 3), classes=CLASSES),
        "EfficientNet": efficientnet.EfficientNet(0.25, 0.2, 64, weights=None, input_shape=(64, 64, 3), classes=CLASSES,
                                                  name="efficientnet_small"),
        "ConvNeXt": convnext.ConvNeXt(depths=[1, 1, 2, 1], projection_dims=[8, 16, 32, 64], default_size=64, weights=None,
                                      input_shape=(64, 64, 3), classes=CLASSES, name="convnext_small"),
    }


def main(folder: Path) -> list[str]:
    import keras

    from plugin.engine.inference.onnx.worker import check, convert
    from plugin.engine.models.keras_compat import patch_for_onnx_export

    folder.mkdir(parents=True, exist_ok=True)
    models = small_models()
    expected = {}
    for name, model in models.items():  # Keras's answers, before any patch
        batch = np.random.default_rng(0).uniform(-1, 1, (2, *model.inputs[0].shape[1:])).astype(np.float32)
        features = np.asarray(keras.Model(model.inputs[0], model.layers[-1].input)(batch, training=False))
        expected[name] = {"batch": batch, "features": features, "probabilities": np.asarray(model(batch, training=False))}
    patch_for_onnx_export()
    for name, model in models.items():
        path = folder / f"{name}.onnx"
        path.write_bytes(convert(model))
        np.savez(folder / f"{name}.npz", **expected[name], max_abs_diff=check(model, str(path)))
    return list(models)


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
