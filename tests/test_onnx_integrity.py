"""The ONNX export cache keeps an export only under the key of the exact bytes it was built from.

The attack (from the issue tracker): someone who can write one file under an image root copies a
model's weights there, asks for the ONNX export of that copy, and swaps the file for tampered weights
(of the same size and time stamp) once the export worker has started. Before the fix the tampered
export was stored under the key of the bytes the file had when it was hashed, the official weights'
key, and every later caller of `weights="imagenet"` got the tampered model.

Here the swap is raced against the real worker, and the property is checked, not a symptom: every
file in the cache, whatever happened to the export, reproduces the model built from the bytes its
name is the key of. The weights are EfficientNet-Lite0's with random values ("original"), and the
same with the classifier's bias edited to favour one class ("tampered"): both fit the model.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from plugin.engine.inference.onnx import OnnxRunner, cache, cache_path, export_cached, export_state, request_export
from plugin.engine.inference.onnx import export as export_module
from plugin.engine.models.hashing import file_hash
from plugin.errors import ExportError
from tests.conftest import save_favouring

LITE = "EfficientNetLite0"
FAVOURED = 207  # golden retriever


@pytest.fixture(scope="module")
def weights(tmp_path_factory, keras_models) -> dict:
    """Lite0's original and tampered weights files, untouched, and what a model built from each
    gives on a fixed batch (by name: "original", "tampered")."""
    folder = tmp_path_factory.mktemp("weights")
    model = keras_models(LITE)
    original = folder / "original.weights.h5"
    model.save_weights(original)
    tampered = save_favouring(model, FAVOURED, folder / "tampered.weights.h5")
    batch = np.random.default_rng(0).uniform(-1, 1, (2, *model.inputs[0].shape[1:])).astype(np.float32)
    head = model.get_layer("predictions")
    kernel, bias = head.get_weights()
    outputs = {"original": np.asarray(model(batch, training=False))}
    try:
        head.set_weights([kernel, np.where(np.arange(len(bias)) == FAVOURED, 40.0, 0.0).astype(bias.dtype)])
        outputs["tampered"] = np.asarray(model(batch, training=False))
    finally:
        head.set_weights([kernel, bias])
    assert outputs["tampered"].argmax(axis=1).tolist() == [FAVOURED, FAVOURED] != outputs["original"].argmax(axis=1).tolist()
    assert os.path.getsize(original) == os.path.getsize(tampered)  # the swap keeps the file's size
    return {"files": {"original": original, "tampered": tampered}, "batch": batch, "outputs": outputs}


@pytest.fixture
def onnx_cache(tmp_path, monkeypatch) -> Path:
    """An empty export cache of this test's own."""
    folder = tmp_path / "onnx-cache"
    monkeypatch.setattr(cache, "onnx_cache_dir", lambda: folder)
    return folder


def swap(raced: Path, tampered: Path, how: str) -> None:
    """Put the tampered bytes at `raced` keeping its size and time stamp: as a new file moved over it
    ("replace") or written into the same file ("overwrite")."""
    kept = raced.stat()
    if how == "replace":
        shutil.copyfile(tampered, raced.with_name("incoming"))
        os.replace(raced.with_name("incoming"), raced)
    else:
        with open(raced, "r+b") as handle:
            handle.write(tampered.read_bytes())
    os.utime(raced, ns=(kept.st_atime_ns, kept.st_mtime_ns))


def assert_each_export_is_built_from_its_keys_bytes(folder: Path, weights: dict) -> list[str]:
    """Every `.onnx` file in the cache gives the outputs of the model built from the weights whose key
    names it; return which weights those are."""
    keys = {cache_path(LITE, path).name: which for which, path in weights["files"].items()}
    stored = sorted(path.name for path in folder.glob("*.onnx"))
    assert set(stored) <= set(keys), f"exports stored under no weights' key: {set(stored) - set(keys)}"
    for name in stored:
        outputs = OnnxRunner(folder / name)(weights["batch"])
        expected = weights["outputs"][keys[name]]
        difference = float(np.abs(outputs - expected).max())
        assert difference <= 1e-4, (
            f"the export stored under the {keys[name]} weights' key was built from other bytes: top-1 "
            f"{outputs.argmax(axis=1).tolist()} ({outputs.max(axis=1).round(2).tolist()}), the {keys[name]} "
            f"weights give {expected.argmax(axis=1).tolist()}")
    return [keys[name] for name in stored]


@pytest.mark.parametrize("how", ["replace", "overwrite"])
def test_weights_swapped_as_the_worker_starts_never_poison_the_key_they_were_hashed_under(weights, onnx_cache, tmp_path, how):
    """The issue's race: the file is swapped when the real worker reports its first stage. The
    export is refused, or it is built from the bytes that were hashed."""
    raced = tmp_path / "lite0.weights.h5"
    shutil.copyfile(weights["files"]["original"], raced)
    assert cache_path(LITE, raced) == cache_path(LITE, weights["files"]["original"])  # the official key, as in the issue
    stages = []

    def progress(step: int, steps: int, stage: str) -> None:
        if not stages:
            swap(raced, weights["files"]["tampered"], how)
        stages.append(stage)

    try:
        export_cached(LITE, raced, progress=progress)
    except ExportError as refused:
        assert "SHA-256" in str(refused) and str(tmp_path) not in str(refused)
    assert stages, "the worker reported no stage"
    assert assert_each_export_is_built_from_its_keys_bytes(onnx_cache, weights) in ([], ["original"])


@pytest.mark.parametrize("door", ["onnx", "auto"])
def test_weights_swapped_before_the_worker_starts_are_refused_and_nothing_is_stored(weights, onnx_cache, tmp_path,
                                                                                    monkeypatch, door):
    """The file is swapped after its key is computed, just before the real worker starts: through
    `export_cached` (backend "onnx") and the background export (backend "auto"). The worker finds
    bytes of another key and refuses; nothing is stored under either key."""
    raced = tmp_path / "lite0.weights.h5"
    shutil.copyfile(weights["files"]["original"], raced)
    key = cache_path(LITE, raced)
    real_popen = subprocess.Popen

    def swap_then_start(*args, **kwargs):
        swap(raced, weights["files"]["tampered"], "replace")
        return real_popen(*args, **kwargs)

    monkeypatch.setattr(export_module.subprocess, "Popen", swap_then_start)
    started = time.perf_counter()
    if door == "onnx":
        with pytest.raises(ExportError, match="Expected the weights file 'lite0.weights.h5' to have SHA-256") as refused:
            export_cached(LITE, raced)
        assert str(tmp_path) not in str(refused.value)
    else:
        assert request_export(LITE, str(raced)) == "queued"
        while (state := export_state(LITE, weights["files"]["original"])) in ("queued", "exporting"):
            assert time.perf_counter() - started < 120, "the background export did not end"
            time.sleep(0.05)
        assert state == "failed"
    assert not key.exists()
    assert assert_each_export_is_built_from_its_keys_bytes(onnx_cache, weights) == []


def test_a_file_changed_in_place_keeping_its_size_and_time_stamp_is_hashed_again(tmp_path):
    """The hash of a file is remembered, but not across a change that keeps its size and time stamp
    (the memory that made a swapped file keep the key of its old bytes)."""
    path = tmp_path / "weights.h5"
    path.write_bytes(b"original bytes")
    (tmp_path / "tampered").write_bytes(b"tampered bytes")
    before = file_hash(path)
    for how in ("overwrite", "replace"):
        swap(path, tmp_path / "tampered", how)
        assert file_hash(path) != before
        path.write_bytes(b"original bytes")
        before = file_hash(path)
