"""Load a user's own `.keras` or `.h5` classifier safely and prepare it for classification.

A model file is untrusted. Before Keras sees it, its configuration is read as plain JSON and
refused if it names a Lambda layer (which carries Python code) or a custom object Keras does not
ship; its architecture is then built without allocating a single weight (Keras's stateless
scope) to count its parameters and read its input size, and refused over the budget (a 20 KB file
can ask for a 20000 x 20000 input or a Dense layer of many GB); only then is it loaded with
`safe_mode=True`, which is the real guard against code. Input size and channels
come from the model's input shape; class names and preprocessing come from the caller.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from pathlib import Path

from plugin.config import get_settings
from plugin.engine.intake.sources import resolve_local_path
from plugin.engine.preprocessing import MODES, get_mode
from plugin.engine.runtime import PreparedModel, Runner, model_cache
from plugin.errors import InvalidInputError, UnsafeModelFileError

__all__ = ["load_custom_model", "load_model_file", "read_model_config", "find_unsafe_objects", "sidecar"]

_SUFFIXES = (".keras", ".h5", ".hdf5")
_MAX_CONFIG_BYTES = 16 * 1024 * 1024
_MAX_SIDECAR_BYTES = 1024 * 1024
_DEFAULT_SIZE = 224


def read_model_config(path: str) -> dict:
    """Read a model file's architecture configuration as JSON, without running anything."""
    name = os.path.basename(path)
    try:
        if path.endswith(".keras"):
            with zipfile.ZipFile(path) as archive:
                info = archive.getinfo("config.json")
                if info.file_size > _MAX_CONFIG_BYTES:
                    raise InvalidInputError(f"Expected a model configuration under {_MAX_CONFIG_BYTES:,} bytes. Received: {name}, {info.file_size:,} bytes.")
                return json.loads(archive.read(info))
        import h5py

        with h5py.File(path, "r") as handle:
            raw = handle.attrs.get("model_config")
            if raw is None:
                raise InvalidInputError(
                    f"Expected a whole model saved with model.save(). Received: {name}, an .h5 file with "
                    "no model configuration (a weights-only file? pass it as weights= with a registry model)."
                )
            return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except (zipfile.BadZipFile, KeyError, OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"Expected a Keras model file (.keras or .h5). Received: {name}, which could not be read "
                                f"({type(exc).__name__}).",
                                key="model_file_unreadable", name=name) from exc


def find_unsafe_objects(config) -> list[str]:
    """List the Lambda layers and custom (non-Keras) objects named anywhere in a configuration."""
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            class_name = node.get("class_name")
            if isinstance(class_name, str):
                layer = node.get("config", {}).get("name") if isinstance(node.get("config"), dict) else None
                label = f"{class_name} {layer!r}" if layer else class_name
                module = node.get("module")
                registered = node.get("registered_name")
                if class_name == "Lambda":
                    found.append(f"Lambda layer {layer!r} (runs Python code)")
                elif ">" in class_name or (isinstance(registered, str) and ">" in registered):
                    found.append(f"custom object {registered or class_name} ({label})")
                elif isinstance(module, str) and not module.startswith("keras"):
                    found.append(f"custom object {module}.{class_name} ({label})")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return found


def _load_keras_model(path: str):
    import keras

    name = os.path.basename(path)
    config = read_model_config(path)
    unsafe = find_unsafe_objects(config)
    if unsafe:
        raise UnsafeModelFileError(
            f"Expected a model made of built-in Keras layers. Received: {name}, which contains "
            f"{'; '.join(unsafe[:5])}. Such files can run arbitrary code and are refused; rebuild the "
            "model without Lambda or custom layers.", key="unsafe_model", name=name)
    check_model_budget(config, name, legacy=not path.endswith(".keras"))
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - Keras raises ValueError, TypeError and others for bad files
        raise _refusal(exc, name, "a loadable Keras model file") from exc


def _refusal(exc: Exception, name: str, expected: str) -> Exception:
    """Keras's complaint about a model file as our error: unsafe content, or a file it cannot use.
    Keras's own words are kept only where they say what it refused (they can quote server paths)."""
    text = str(exc)
    if "safe_mode" in text or "Lambda" in text or "Unknown" in text or "could not be deserialized" in text:
        return UnsafeModelFileError(
            f"Expected a model made of built-in Keras layers. Received: {name}, which Keras refused in safe mode "
            f"({text.splitlines()[0][:160]}).", key="unsafe_model", name=name)
    return InvalidInputError(f"Expected {expected}. Received: {name}, which Keras could not use ({type(exc).__name__}).",
                             key="model_file_unreadable", name=name)


def check_model_budget(config: dict, name: str, *, legacy: bool = False) -> dict:
    """Build the architecture without allocating weights; refuse it over the parameter or input budget.

    Returns:
        `{"parameters", "input_pixels"}` of the architecture.
    """
    import keras
    from keras.src.backend.common import global_state
    from keras.src.backend.common.stateless_scope import StatelessScope

    settings = get_settings()
    try:
        with StatelessScope(initialize_variables=False):  # variables get shapes, not memory
            if legacy:
                from keras.src.legacy.saving import saving_utils

                model = saving_utils.model_from_config(config)
            else:
                architecture = {key: value for key, value in config.items() if key != "compile_config"}  # no optimizer
                model = keras.saving.deserialize_keras_object(architecture, safe_mode=True)
            parameters = sum(math.prod(variable.shape) for variable in model.weights)
            inputs = [tuple(tensor.shape) for tensor in getattr(model, "inputs", None) or []]
    except (UnsafeModelFileError, InvalidInputError):
        raise
    except Exception as exc:  # noqa: BLE001 - Keras raises many types for a configuration it cannot build
        raise _refusal(exc, name, "a model configuration Keras can build") from exc
    finally:
        global_state.set_global_attribute("uninitialized_variables", [])  # this thread's, never initialised
    pixels = max((math.prod(d or 1 for d in shape[1:-1]) for shape in inputs), default=0)
    if parameters > settings.max_model_parameters:
        raise InvalidInputError(f"Expected a model of at most {settings.max_model_parameters:,} parameters. Received: "
                                f"{name}, whose architecture has {parameters:,}.", key="model_too_large", name=name,
                                count=f"{parameters:,}", limit=f"{settings.max_model_parameters:,}")
    if pixels > settings.max_model_input_pixels:
        raise InvalidInputError(f"Expected a model input of at most {settings.max_model_input_pixels:,} pixels. Received: "
                                f"{name}, whose input is {' x '.join(str(d) for d in inputs[0][1:-1])}.",
                                key="model_input_too_large", name=name, limit=f"{settings.max_model_input_pixels:,}")
    return {"parameters": parameters, "input_pixels": pixels}


def _output_kind(model, classes: int) -> str:
    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    activation_name = getattr(activation, "__name__", str(activation or "")).lower()
    if type(last).__name__ == "Softmax" or "softmax" in activation_name:
        return "softmax"
    if "sigmoid" in activation_name:
        return "binary" if classes == 1 else "sigmoid"
    return "binary_logit" if classes == 1 else "logits"


def load_model_file(model_path) -> tuple[Path, Runner]:
    """Load (or take from the cache) a user's single-input image model file, safely.

    Args:
        model_path: a `.keras` or `.h5` file below the allowed roots.

    Returns:
        The file's resolved path and its `Runner`.
    """
    path = resolve_local_path(model_path, what="model file")
    if not path.name.lower().endswith(_SUFFIXES):
        raise InvalidInputError(f"Expected a model file ending in .keras or .h5. Received: {os.fspath(model_path)!r}")
    stat = path.stat()
    if stat.st_size > get_settings().max_model_bytes:
        raise InvalidInputError(f"Expected a model file of at most {get_settings().max_model_bytes:,} bytes. Received: {path.name}, {stat.st_size:,} bytes.")
    runner = model_cache.get(("file", str(path), stat.st_mtime_ns, stat.st_size), lambda: _prepare(str(path)))
    return path, runner


def sidecar(path: Path) -> dict:
    """What a model file's companion `<file>.json` records (fine_tune writes it): its class names
    and preprocessing, so classifying with the file needs neither. {} when there is none."""
    companion = path.with_name(path.name + ".json")
    if not companion.is_file() or companion.stat().st_size > _MAX_SIDECAR_BYTES:
        return {}
    try:
        data = json.loads(companion.read_text("utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    names = data.get("class_names")
    return {"class_names": [str(n) for n in names] if isinstance(names, list) and all(isinstance(n, str) for n in names) else None,
            "preprocessing": data.get("preprocessing") if data.get("preprocessing") in MODES else None}


def load_custom_model(model_path, *, class_names=None, preprocessing=None) -> PreparedModel:
    """Load a user's classifier file and prepare it for classification.

    Args:
        model_path: a `.keras` or `.h5` file below the allowed roots.
        class_names: names by output index; for a single sigmoid unit, [negative, positive].
            Default: those recorded beside the file (`<file>.json`, written by fine_tune), else
            "class_0", "class_1", ...
        preprocessing: "caffe", "tf", "torch", "lite", "rescale" or "none": it must match how
            the model was trained. Default: the one recorded beside the file; required otherwise.

    Returns:
        A `PreparedModel` named after the file.
    """
    recorded = sidecar(resolve_local_path(model_path, what="model file"))
    class_names = class_names if class_names is not None else recorded.get("class_names")
    preprocessing = preprocessing if preprocessing is not None else recorded.get("preprocessing")
    if preprocessing is None:
        raise InvalidInputError(
            "Expected preprocessing for a custom model, matching its training: one of 'caffe', 'tf', "
            "'torch', 'rescale' (x / 255) or 'none'. Received: preprocessing=None", key="preprocessing_needed")
    if preprocessing == "builtin":
        preprocessing = "none"
    get_mode(preprocessing)
    path, runner = load_model_file(model_path)
    model = runner.model
    output_shape = tuple(model.outputs[0].shape)
    if len(output_shape) != 2:
        raise InvalidInputError(f"Expected a classifier whose output has shape (batch, classes). Received: {path.name} with output shape {output_shape}.")
    input_shape = runner.input_shape
    height, width, channels = (input_shape[1] or _DEFAULT_SIZE), (input_shape[2] or _DEFAULT_SIZE), input_shape[3]
    classes = int(output_shape[-1])
    output = _output_kind(model, classes)
    names = _class_names(class_names, classes, path.name)
    return PreparedModel(
        name=path.name, runner=runner, input_size=(height, width), channels=channels,
        preprocessing=preprocessing, weights="file", untrained=False, class_names=names, output=output,
    )


def _prepare(path: str) -> Runner:
    model = _load_keras_model(path)
    name = os.path.basename(path)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise InvalidInputError(f"Expected a model with one image input and one output. Received: {name} with {len(model.inputs)} inputs and {len(model.outputs)} outputs.")
    input_shape = tuple(model.inputs[0].shape)
    if len(input_shape) != 4 or input_shape[3] not in (1, 3):
        raise InvalidInputError(f"Expected a model input of shape (batch, height, width, 1 or 3). Received: {name} with input shape {input_shape}.")
    return Runner(model)


def _class_names(class_names, classes: int, file_name: str) -> tuple[str, ...]:
    expected = 2 if classes == 1 else classes
    if class_names is None:
        return tuple(f"class_{i}" for i in range(expected))
    if isinstance(class_names, str):
        class_names = [name.strip() for name in class_names.split(",")]
    names = tuple(str(name) for name in class_names)
    if len(names) != expected:
        hint = " (one sigmoid unit: give [negative, positive])" if classes == 1 else ""
        raise InvalidInputError(f"Expected {expected} class names for {file_name}{hint}. Received: {len(names)} ({list(names)[:10]}).",
                                key="class_names_count", name=file_name, expected=expected, count=len(names))
    return names
