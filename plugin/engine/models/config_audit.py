"""What a user's model configuration may name, read as plain JSON before Keras sees it.

Keras's safe mode refuses Lambda layers and custom objects, and nothing more. A configuration can
still make Keras call any public Keras function (`{"class_name": "function", "module":
"keras.config", "config": "set_max_steps_per_epoch"}` as a Dense layer's activation sets a
process-wide value), build classes from any Keras module, or give a layer a file to open (a
`StringLookup` vocabulary of "/etc/passwd", a `TFSMLayer` filepath). So the configuration is
audited against allow-lists:

- objects (`class_name` with `module`) come from Keras's modules of layers, models, operations,
  initialisers, regularisers, constraints and dtype policies only;
- a function named by reference is one of `keras.activations`;
- no layer that wraps foreign code or loads a file (`TFSMLayer`, `TorchModuleWrapper`, `JaxLayer`,
  `FlaxLayer`), no Lambda layer;
- no argument names a file: a string under a file-like key (`vocabulary`, `path`, `*_file`, ...) or
  any string shaped like a path (a separator, a leading `~`). The file system is never asked
  whether such a string exists, so a refusal tells nothing about the server's files.
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["audit_config"]

_MODULES = ("keras.layers", "keras.src.layers", "keras.models", "keras.src.models", "keras.ops", "keras.src.ops",
            "keras.initializers", "keras.src.initializers", "keras.regularizers", "keras.src.regularizers",
            "keras.constraints", "keras.src.constraints", "keras.activations", "keras.src.activations",
            "keras.dtype_policies", "keras.src.dtype_policies", "keras.applications", "keras.src.applications",
            "keras.optimizers", "keras.src.optimizers", "keras.losses", "keras.src.losses", "keras.metrics",
            "keras.src.metrics")
"""Modules whose classes a model configuration may name (optimizers, losses and metrics appear in a
saved `compile_config`)."""
_TOP_LEVEL = frozenset({"Sequential", "Functional", "Model", "Input", "InputLayer", "DTypePolicy", "FloatDTypePolicy",
                        "QuantizedDTypePolicy", "QuantizedFloat8DTypePolicy", "DTypePolicyMap"})
"""Classes a configuration may take from the top-level `keras` module."""
_FOREIGN_LAYERS = frozenset({"Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer"})
"""Layers that run code the file carries or load another file."""
_FILE_KEYS = frozenset({"vocabulary", "path", "filepath", "file_path", "filename", "file_name", "directory", "dir"})


@functools.cache
def _activation_names() -> frozenset[str]:
    import keras

    return frozenset(name for name in dir(keras.activations)
                     if not name.startswith("_") and name not in {"get", "serialize", "deserialize"})


def audit_config(config: Any) -> list[str]:
    """What a configuration names that a model file may not, each in a few words (layer and key,
    never the value); an empty list for a configuration made of Keras's own building blocks."""
    found: list[str] = []
    _walk(config, found, layer=None, key=None)
    return found


def _walk(node: Any, found: list[str], layer: str | None, key: str | None) -> None:
    if isinstance(node, dict):
        inner = node.get("config")
        if isinstance(inner, dict) and isinstance(inner.get("name"), str):
            layer = inner["name"]
        if isinstance(node.get("class_name"), str):
            _check_object(node, found, layer, key)
        for child_key, value in node.items():
            if isinstance(value, str) and isinstance(child_key, str):
                _check_string(child_key, value, found, layer)
            else:
                _walk(value, found, layer, child_key if isinstance(child_key, str) else key)
    elif isinstance(node, list):  # strings in a list are tokens (a vocabulary) or layer names, never opened
        for value in node:
            if not isinstance(value, str):
                _walk(value, found, layer, key)


def _check_string(key: str, value: str, found: list[str], layer: str | None) -> None:
    where = f"{key} of layer {layer!r}" if layer else key
    if key in ("class_name", "module", "registered_name", "name"):  # identifiers Keras never opens
        return
    if _names_a_file(key):
        found.append(f"a file argument ({where})")
    elif _path_shaped(value):
        found.append(f"a path ({where})")


def _check_object(node: dict, found: list[str], layer: str | None, key: str | None) -> None:
    class_name, module, registered = node["class_name"], node.get("module"), node.get("registered_name")
    label = f"{class_name} {layer!r}" if layer else class_name
    if class_name in _FOREIGN_LAYERS:
        found.append(f"{class_name} layer {layer!r} (runs code or loads a file)")
    elif ">" in class_name or (isinstance(registered, str) and ">" in registered):
        found.append(f"custom object {registered or class_name} ({label})")
    elif class_name == "function":
        name = node.get("config")
        if module not in ("keras.activations", "keras.src.activations", "keras.src.activations.activations") \
                or name not in _activation_names():
            found.append(f"a function that is not a Keras activation ({key or 'argument'} of layer {layer!r})")
    elif isinstance(module, str):
        if module == "keras":
            if class_name not in _TOP_LEVEL:
                found.append(f"keras.{class_name} ({label})")
        elif not module.startswith("keras"):
            found.append(f"custom object {module}.{class_name} ({label})")
        elif not any(module == allowed or module.startswith(allowed + ".") for allowed in _MODULES):
            found.append(f"{module}.{class_name}, which is not a model's building block ({label})")


def _names_a_file(key: str) -> bool:
    lowered = key.lower()
    return lowered in _FILE_KEYS or lowered.endswith(("_file", "_path", "_dir", "_filename"))


def _path_shaped(value: str) -> bool:
    return "/" in value or "\\" in value or value.startswith("~")
