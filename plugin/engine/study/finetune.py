"""fine_tune: a new head for a folder's classes on a frozen, pretrained backbone.

The study post's next chapter, improving the dog/cat classifier, on the weights that come with the
project. The backbone (EfficientNet-Lite0 by default) turns each photo into the feature vector its
ImageNet head reads; those features are computed once (the training photos also in a few flipped
and cropped variants, with a fixed seed) and kept on disk, so training the head takes seconds. A
validation split, early stopping and a fixed seed make the run repeatable. The result is one
`.keras` model (backbone + new head, loadable in safe mode) with its class names and preprocessing
recorded beside it (`<file>.json`), so classifying with it needs neither.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import cast

import numpy as np
from PIL import Image, ImageOps

from plugin.config import get_settings
from plugin.engine.inference.custom import load_custom_model
from plugin.engine.inference.options import RunOptions
from plugin.engine.inference.prepared import load_registry_model, prepare_batch
from plugin.engine.inference.preprocessing import check_resize
from plugin.engine.inference.runners import KerasRunner
from plugin.engine.intake.images import load_image
from plugin.engine.models.registry import get_spec
from plugin.engine.models.weights import parse_weights, weights_path
from plugin.engine.results import FineTuneResult, PathInput, TrainingHistory
from plugin.engine.study.evaluation import evaluate as run_evaluation
from plugin.engine.study.evaluation.dataset import Item, group_label, interpret, read_source
from plugin.engine.study.labels import dog_cat_verdict
from plugin.errors import InvalidInputError
from plugin.files import atomic_path, write_atomically
from plugin.limits import DEFAULT_FINE_TUNE_EPOCHS, FINE_TUNE_BASE, MAX_FINE_TUNE_EPOCHS

__all__ = ["fine_tune", "FineTuneOptions", "AUGMENTED_VARIANTS"]

AUGMENTED_VARIANTS = 4
"""Flipped and cropped variants of each training photo (besides the photo itself)."""

Progress = Callable[[int, int, str], None]


@dataclasses.dataclass(frozen=True, kw_only=True)
class FineTuneOptions:
    """How `fine_tune` trains the head and where it keeps the model, checked when made.

    Attributes:
        epochs: most epochs of training (early stopping may end sooner), 1 to `MAX_FINE_TUNE_EPOCHS`.
        validation_split: share of each class's photos kept for validation, 0.05 to 0.5.
        learning_rate: Adam's learning rate for the head.
        patience: epochs without a better validation loss before stopping.
        seed: fixes the split, the augmentation and the head's initialisation.
        augment: also train on flipped and cropped variants of the training photos.
        name: the model file's name; None: from the source and base.
        overwrite: replace a model of the same name.
        output_dir: a folder inside the output folder to save into; None: the output folder.
        resize: how photos reach the backbone, "crop" (its evaluation protocol) or "whole"; None:
            "crop". Recorded beside the model, so classifying with it later does the same.
    """

    epochs: int = DEFAULT_FINE_TUNE_EPOCHS
    validation_split: float = 0.25
    learning_rate: float = 0.01
    patience: int = 5
    seed: int = 0
    augment: bool = True
    name: str | None = None
    overwrite: bool = False
    output_dir: PathInput | None = None
    resize: str | None = None

    def __post_init__(self) -> None:
        check_resize(self.resize)
        epochs = self.epochs
        if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= MAX_FINE_TUNE_EPOCHS:
            raise InvalidInputError(f"Expected epochs from 1 to {MAX_FINE_TUNE_EPOCHS}. Received: epochs={epochs!r}")
        if not 0.05 <= float(self.validation_split) <= 0.5:
            raise InvalidInputError(f"Expected validation_split from 0.05 to 0.5. Received: {self.validation_split!r}")


def fine_tune(source: PathInput, base: str = FINE_TUNE_BASE, options: FineTuneOptions = FineTuneOptions(), *,
              labels: dict[str, str] | None = None, progress: Progress | None = None, evaluate: bool = False) -> FineTuneResult:
    """Train a new head for the folder's classes on a frozen pretrained backbone and save the model
    (`plugin.api.fine_tune` says how and what it returns).

    Args:
        source: a folder whose sub-folders name the classes, or a CSV/JSON list of (image, label).
        base: the registry model whose ImageNet weights give the backbone.
        options: the training and where the model is kept.
        labels: optional renaming of the source's labels.
        progress: called as `progress(step, steps, stage)`.
        evaluate: then evaluate the base and the fine-tuned model on the held-out photos, once.
    """
    import keras

    epochs, seed, augment = options.epochs, options.seed, options.augment
    items, described = read_source(source, labels)
    class_names = sorted({item.label for item in items})
    if len(class_names) < 2:
        raise InvalidInputError(f"Expected photos of at least two classes (sub-folders). Received: {len(class_names)}.")
    spec = get_spec(base)
    stem = _file_name(options.name, described, spec.name)  # a bad name fails before any training
    folder = _models_folder(options.output_dir)
    train, validation = _split(items, class_names, options.validation_split, seed)
    backbone = load_registry_model(spec.name, "imagenet")
    features = _feature_model(cast(KerasRunner, backbone.runner).model)  # registry models load on Keras by default
    resize = options.resize or backbone.resize
    train_x, train_y = _features(features, backbone, train, class_names, augment, seed, progress, resize)
    val_x, val_y = _features(features, backbone, validation, class_names, False, seed, progress, resize)

    keras.utils.set_random_seed(seed)
    head = keras.layers.Dense(len(class_names), activation="softmax", name="fine_tuned_head")
    trainer = keras.Sequential([keras.Input((train_x.shape[1],)), head])
    trainer.compile(optimizer=keras.optimizers.Adam(options.learning_rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=options.patience, restore_best_weights=True)

    class Report(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if progress:
                progress(epoch + 1, epochs, "training")

    fitted = trainer.fit(train_x, train_y, validation_data=(val_x, val_y), epochs=epochs, batch_size=16, shuffle=True,
                         verbose=0, callbacks=[stop, Report()])
    path = _save(_assemble(spec, head), _reserve(folder, stem, options.overwrite), class_names, spec, described,
                 {"resize": resize, "crop_fraction": backbone.crop_fraction, "interpolation": backbone.interpolation})
    tuned = load_custom_model(path)  # loaded back as any user's file is, in safe mode
    curves = {key: [round(float(v), 4) for v in fitted.history.get(key, [])] for key in ("loss", "val_loss", "accuracy", "val_accuracy")}
    history: TrainingHistory = {"loss": curves["loss"], "val_loss": curves["val_loss"], "accuracy": curves["accuracy"],
                                "val_accuracy": curves["val_accuracy"], "epochs_run": len(curves["loss"]),
                                "stopped_early": len(curves["loss"]) < epochs}
    result: FineTuneResult = {
        "model_path": str(path),
        "class_names": class_names,
        "history": history,
        "accuracy": {"base": _base_accuracy(backbone, validation, class_names, resize),
                     "fine_tuned": _accuracy(tuned, validation, lambda probabilities, item: class_names[int(np.argmax(probabilities))] == item.label)},
        "base": spec.name,
        "images": {"train": len(train), "validation": len(validation)},
    }
    if evaluate:
        held_out = _held_out_list(path, validation)
        evaluation = run_evaluation(held_out, models=[spec.name], options=RunOptions(model_path=str(path), resize=resize), progress=(
            (lambda done, total, _model: progress(done, total, "evaluating")) if progress else None))
        evaluation["source"] = described  # the photos' folder (or list), as people named it, not the list written for it
        per_class = {name: sum(item.label == name for item in validation) for name in class_names}
        evaluation["held_out"] = {"images": len(validation), "per_class": per_class, "trained_on": len(train),
                                  "enough": min(per_class.values()) >= MIN_HELD_OUT_PER_CLASS}
        result["evaluation"] = evaluation
    return result


MIN_HELD_OUT_PER_CLASS = 10
"""Held-out photos per class below which an accuracy is too coarse to compare models by (one photo
moves it 10 points or more): the evaluation report says so."""


def _held_out_list(model_path: Path, validation: list[Item]) -> Path:
    """The held-out photos (never trained on) as a JSON list beside the model, where an evaluation may read it."""
    listed = model_path.with_name(model_path.stem + ".held-out.json")
    write_atomically(listed, json.dumps([{"image": item.path, "label": item.label} for item in validation], ensure_ascii=False),
                     mode=None)
    return listed


def _assemble(spec, head):
    """One model: a fresh copy of the pretrained backbone, frozen, and the trained head on top
    (the copy keeps the cached model the engine classifies with untouched)."""
    import keras

    backbone = spec.build(weights_path(spec, parse_weights("imagenet")))
    backbone.trainable = False
    new_head = keras.layers.Dense(head.units, activation="softmax", name="fine_tuned_head")
    outputs = new_head(backbone.layers[-1].input)
    new_head.set_weights(head.get_weights())
    return keras.Model(backbone.inputs, outputs, name="fine_tuned")


def _split(items: list[Item], class_names: list[str], share: float, seed: int) -> tuple[list[Item], list[Item]]:
    """Per class, a seeded shuffle; `share` of it (at least one photo) for validation."""
    rng = random.Random(seed)
    train, validation = [], []
    for label in class_names:
        group = [item for item in items if item.label == label]
        if len(group) < 2:
            raise InvalidInputError(f"Expected at least two photos of each class. Received: {len(group)} of {label!r}.")
        rng.shuffle(group)
        cut = max(1, round(len(group) * share))
        validation += group[:cut]
        train += group[cut:]
    return train, validation


def _feature_model(model):
    """The backbone up to what its ImageNet head reads (the pooled feature vector)."""
    import keras

    return keras.Model(model.inputs[0], model.layers[-1].input, name="backbone")


def _variants(picture: Image.Image, count: int, rng: random.Random) -> list[Image.Image]:
    out = [picture]
    width, height = picture.size
    for index in range(count):
        scale = rng.uniform(0.7, 0.95)
        w, h = int(width * scale), int(height * scale)
        left, top = rng.randint(0, width - w), rng.randint(0, height - h)
        variant = picture.crop((left, top, left + w, top + h))
        out.append(ImageOps.mirror(variant) if index % 2 == 0 else variant)
    return out


def _features(features, backbone, items: list[Item], class_names: list[str], augment: bool, seed: int,
              progress: Progress | None, resize: str) -> tuple[np.ndarray, np.ndarray]:
    """Feature vectors (and class indices) of the photos and their variants, each brought to the
    input by `resize`, computed once and cached."""
    cache = _cache_path(backbone.name, items, augment, seed, [resize, backbone.crop_fraction, backbone.interpolation])
    if cache.is_file():
        with np.load(cache) as stored:
            return stored["x"], stored["y"]
    rng = random.Random(seed)
    rows, targets = [], []
    for step, item in enumerate(items, start=1):
        pictures = _variants(load_image(item.path).image, AUGMENTED_VARIANTS if augment else 0, rng)
        batch = prepare_batch(pictures, backbone, resize=resize)
        rows.append(np.asarray(features(batch, training=False)))
        targets += [class_names.index(item.label)] * len(pictures)
        if progress:
            progress(step, len(items), "features")
    x, y = np.concatenate(rows).astype(np.float32), np.asarray(targets, dtype=np.int64)
    cache.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(cache, mode=0o600, suffix=".npz") as temporary, open(temporary, "wb") as out:
        np.savez(out, x=x, y=y)
    return x, y


def _cache_path(base: str, items: list[Item], augment: bool, seed: int, framing: list) -> Path:
    digest = hashlib.sha256()
    digest.update(json.dumps([base, augment, seed, AUGMENTED_VARIANTS, framing]).encode())
    for item in items:
        stat = os.stat(item.path)
        digest.update(f"{item.path}|{item.label}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return get_settings().output_dir / "features" / f"{base}-{digest.hexdigest()[:20]}.npz"


_MAX_SAME_NAME = 100


def _file_name(name: str | None, described: str, base: str) -> str:
    if name is not None:
        if not isinstance(name, str) or not name or len(name) > 80 or not all(ch.isalnum() or ch in "-_" for ch in name):
            raise InvalidInputError(f"Expected a model name of letters, digits, '-' or '_'. Received: {str(name)[:80]!r}")
        return name
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in described)[:40] or "photos"
    return f"{stem}-{base.lower()}-fine-tuned"


def _reserve(folder: Path, stem: str, overwrite: bool) -> Path:
    """The file the model is saved as: `stem.keras`, or with `overwrite` off and that name taken,
    the first free `stem-N.keras`, claimed at once (two callers never get the same file)."""
    folder.mkdir(parents=True, exist_ok=True)
    if overwrite:
        return folder / f"{stem}.keras"
    for number in range(1, _MAX_SAME_NAME + 1):
        candidate = folder / (f"{stem}.keras" if number == 1 else f"{stem}-{number}.keras")
        try:
            os.close(os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY))  # an empty claim, replaced whole when saved
        except FileExistsError:
            continue
        return candidate
    raise InvalidInputError(f"Expected a free model name. Received: {stem!r}, taken {_MAX_SAME_NAME} times over; "
                            "choose another name or pass overwrite=True.")


def _models_folder(output_dir: PathInput | None) -> Path:
    """`models/` in the output folder, or in a folder inside it."""
    root = get_settings().output_dir
    if output_dir is None:
        return root / "models"
    folder = Path(os.path.realpath(root / os.fspath(output_dir)))
    if not folder.is_relative_to(root):
        raise InvalidInputError(f"Expected output_dir inside the output folder. Received: {os.fspath(output_dir)[:200]!r}, "
                                "which leads out of it.")
    return folder / "models"


def _save(model, path: Path, class_names: list[str], spec, described: str, protocol: dict) -> Path:
    """The model and, first, what classifying with it needs beside it (class names, preprocessing
    and how photos were brought to the input); each file appears whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    companion = {"class_names": class_names, "preprocessing": spec.preprocessing, "protocol": protocol, "base": spec.name,
                 "trained_on": described, "made_by": "CNN Study Lab fine_tune"}
    try:
        write_atomically(path.with_name(path.name + ".json"), json.dumps(companion, ensure_ascii=False, indent=1),
                         mode=0o600)
        with atomic_path(path, mode=0o600, suffix=".keras") as temporary:
            model.save(str(temporary))
    except BaseException:
        if path.is_file() and path.stat().st_size == 0:
            path.unlink()  # the claim of a save that failed
        raise
    return path


def _accuracy(prepared, items: list[Item], right: Callable, resize: str | None = None) -> float | None:
    if not items:
        return None
    hits = []
    for item in items:
        batch = prepare_batch([item.path], prepared, resize=resize)
        hits.append(bool(right(np.asarray(prepared.probabilities(batch))[0], item)))
    return round(sum(hits) / len(hits), 4)


def _base_accuracy(backbone, validation: list[Item], class_names: list[str], resize: str) -> float | None:
    """The base model's own answer on the validation photos: its verdict for dog/cat classes, its
    top-1 for ImageNet classes; None for classes ImageNet does not know."""
    try:
        meanings = interpret(class_names)
    except InvalidInputError:
        return None
    if all(group_label(label) for label in class_names):
        return _accuracy(backbone, validation, lambda p, item: dog_cat_verdict(p)["label"] == meanings[item.label].group, resize)
    indices = {label: known.index for label in class_names if (known := meanings[label].item) is not None}
    if len(indices) == len(class_names):
        return _accuracy(backbone, validation, lambda p, item: int(np.argmax(p)) == indices[item.label], resize)
    return None
