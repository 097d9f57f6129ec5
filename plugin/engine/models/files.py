"""A user's own `.keras` or `.h5` model file, read safely: configuration, refusals, budget, load.

A model file is untrusted. Before Keras sees it, its configuration is read as plain JSON and
refused if it names a Lambda layer (which carries Python code) or a custom object Keras does not
ship; its architecture is then built without allocating a single weight (Keras's stateless
scope) to count its parameters and read its input size, and refused over the budget (a 20 KB file
can ask for a 20000 x 20000 input or a Dense layer of many GB); only then is it loaded with
`safe_mode=True`, which is the real guard against code.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from typing import Any

from plugin.config import get_settings
from plugin.engine.models.keras_compat import legacy_model_from_config, weightless
from plugin.errors import InvalidInputError, UnsafeModelFileError

__all__ = ["read_model_config", "find_unsafe_objects", "check_model_budget", "load_keras_file", "MODEL_SUFFIXES"]

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
"""The file names a model file may have."""
_MAX_CONFIG_BYTES = 16 * 1024 * 1024


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


def load_keras_file(path: str) -> Any:
    """Load a user's model file after the checks: no code, within the budget, then Keras's safe mode."""

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

    settings = get_settings()
    try:
        with weightless():  # variables get shapes, not memory
            if legacy:
                model = legacy_model_from_config(config)
            else:
                architecture = {key: value for key, value in config.items() if key != "compile_config"}  # no optimizer
                model = keras.saving.deserialize_keras_object(architecture, safe_mode=True)
            parameters = sum(math.prod(variable.shape) for variable in model.weights)
            inputs = [tuple(tensor.shape) for tensor in getattr(model, "inputs", None) or []]
    except (UnsafeModelFileError, InvalidInputError):
        raise
    except Exception as exc:  # noqa: BLE001 - Keras raises many types for a configuration it cannot build
        raise _refusal(exc, name, "a model configuration Keras can build") from exc
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
