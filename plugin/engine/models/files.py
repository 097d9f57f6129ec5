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
from plugin.engine.models.config_audit import audit_config
from plugin.engine.models.keras_compat import legacy_model_from_config, weightless
from plugin.errors import InvalidInputError, UnsafeModelFileError
from plugin.limits import MAX_MODEL_ASSET_BYTES, MAX_MODEL_MEMBERS, STORED_BYTES_PER_PARAMETER, STORED_SLACK_BYTES

__all__ = ["read_model_config", "check_model_budget", "check_stored_sizes", "load_keras_file", "MODEL_SUFFIXES"]

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


def load_keras_file(path: str) -> Any:
    """Load a user's model file after the checks: no code, within the budget, then Keras's safe mode."""

    import keras

    name = os.path.basename(path)
    config = read_model_config(path)
    unsafe = audit_config(config)
    if unsafe:
        raise UnsafeModelFileError(
            f"Expected a model made of built-in Keras layers. Received: {name}, which contains "
            f"{'; '.join(unsafe[:5])}. Such files can run code or read the server's files and are refused; "
            "rebuild the model from Keras's own layers, with lists (not files) for vocabularies.",
            key="unsafe_model", name=name)
    budget = check_model_budget(config, name, legacy=not path.endswith(".keras"))
    check_stored_sizes(path, name, budget["parameters"])
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


def check_stored_sizes(path: str, name: str, parameters: int) -> None:
    """Refuse a file that stores more than its architecture can hold, before Keras opens it.

    A `.keras` file is a zip: a 1.6 MB file can inflate to gigabytes of weights, or to many
    assets of 250 MiB each (under Keras's own guards). Every member's uncompressed size is read
    from the zip's directory and budgeted: the weights at `STORED_BYTES_PER_PARAMETER` per
    parameter of the architecture plus `STORED_SLACK_BYTES`, the assets (vocabularies) at
    `MAX_MODEL_ASSET_BYTES`, the members at `MAX_MODEL_MEMBERS`. An `.h5` file's datasets
    (possibly compressed) are budgeted the same way from their shapes.
    """
    allowed = parameters * STORED_BYTES_PER_PARAMETER + STORED_SLACK_BYTES
    if path.endswith(".keras"):
        try:
            with zipfile.ZipFile(path) as archive:
                members = archive.infolist()
        except (zipfile.BadZipFile, OSError):
            return  # not a zip: the loader that follows says what is wrong with it
        assets = sum(item.file_size for item in members if item.filename.startswith("assets/"))
        stored = sum(item.file_size for item in members) - assets
        problem = (f"{len(members):,} members (at most {MAX_MODEL_MEMBERS})" if len(members) > MAX_MODEL_MEMBERS
                   else f"{assets:,} bytes of assets (at most {MAX_MODEL_ASSET_BYTES:,})" if assets > MAX_MODEL_ASSET_BYTES
                   else f"{stored:,} bytes once unpacked" if stored > allowed else None)
    else:
        try:
            stored = _h5_dataset_bytes(path)
        except OSError:
            return  # not HDF5: the loader that follows says what is wrong with it
        problem = f"{stored:,} bytes of datasets once decompressed" if stored > allowed else None
    if problem:
        raise InvalidInputError(
            f"Expected a model file that stores no more than its architecture holds ({parameters:,} parameters: at most "
            f"{allowed:,} bytes). Received: {name}, with {problem}.", key="model_file_inflated", name=name)


def _h5_dataset_bytes(path: str) -> int:
    import h5py

    total = 0

    def add(_: str, item: Any) -> None:
        nonlocal total
        if isinstance(item, h5py.Dataset):
            total += int(item.size) * item.dtype.itemsize

    with h5py.File(path, "r") as handle:
        handle.visititems(add)
    return total
