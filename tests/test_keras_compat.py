"""The private parts of Keras and tf2onnx the engine uses live in one module, and are pinned.

When an upgrade makes `test_the_private_parts_were_checked_against_these_releases` fail, re-check
each function of `plugin.engine.models.keras_compat` against the new release (the names it imports
from `keras.src` and tf2onnx, and what they do), run the tests, then update `CHECKED_WITH`.
"""

import importlib.metadata
import re
from pathlib import Path

import pytest

import plugin
from plugin.engine.models import keras_compat

PACKAGE = Path(plugin.__file__).parent
TO_RECHECK = {
    "keras": "StatelessScope(initialize_variables=False) and global_state's 'uninitialized_variables' (weightless), "
             "keras.src.legacy.saving.saving_utils.model_from_config (legacy_model_from_config), "
             "keras.src.backend.tensorflow.nn.conv and _convert_data_format (patch_for_onnx_export)",
    "tf2onnx": "tf2onnx.handler.tf_op, utils.make_name/map_onnx_to_numpy_type, the large-model path's np.product "
               "(patch_for_onnx_export)",
}


@pytest.mark.parametrize("package", sorted(keras_compat.CHECKED_WITH))
def test_the_private_parts_were_checked_against_these_releases(package):
    installed = ".".join(importlib.metadata.version(package).split(".")[:2])
    assert installed == keras_compat.CHECKED_WITH[package], (
        f"{package} {installed} is installed; keras_compat was checked against {keras_compat.CHECKED_WITH[package]}. "
        f"Re-check {TO_RECHECK[package]}, then update CHECKED_WITH.")


def test_no_other_module_reaches_into_keras_private_parts():
    private = re.compile(r"^\s*(from|import)\s+keras\.src\b", re.MULTILINE)
    users = sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py") if private.search(path.read_text("utf-8")))
    assert users == ["engine/models/keras_compat.py"]


def test_a_weightless_build_knows_its_parameters_and_leaves_later_builds_alone():
    import keras

    with keras_compat.weightless():
        vgg = keras.applications.VGG16(weights=None)
    assert vgg.count_params() == 138_357_544  # the Keras Applications table's 138.4M
    small = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    assert small.predict(keras.ops.ones((1, 4)), verbose=0).shape == (1, 2)  # a real build after it still runs
