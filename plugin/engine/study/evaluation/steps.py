"""The steps both evaluation engines share: a picklable recipe for each model, decoding a batch of
images, classifying it into per-image records, the fixed grid of batches, and the JSON Lines log
a run writes as it goes (and resumes from).

The grid matters: EfficientNet-Lite's outputs move by up to 4e-7 when an image runs in a batch of
another size, so every engine, and a resumed run, classifies images[0:16], images[16:32], ...
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from plugin.limits import EVALUATION_BATCH

__all__ = ["ModelRef", "classify_batch", "batch_plan", "run_models", "read_log", "RunLog", "TOP"]

TOP = 5


@dataclasses.dataclass(frozen=True)
class ModelRef:
    """What a worker needs to build one model: a registry name, its weights, the backend that runs
    it ("onnx" or "keras") and its precision ("int8" only where its int8 model was kept), all decided
    before the workers start; or a model file."""

    name: str
    weights: str = "imagenet"
    model_path: str | None = None
    class_names: tuple[str, ...] | None = None
    preprocessing: str | None = None
    backend: str = "keras"
    precision: str = "float32"
    precision_note: str | None = None
    resize: str = "crop"

    def build(self):
        """The model, built (or taken from the cache) in this process, compiled; a `PreparedModel`."""
        from plugin.engine.inference.custom import load_custom_model
        from plugin.engine.inference.prepared import load_registry_model
        from plugin.engine.study.labels import verdict_labels

        if self.model_path:
            prepared = load_custom_model(self.model_path, class_names=self.class_names, preprocessing=self.preprocessing)
        else:
            prepared = load_registry_model(self.name, self.weights, self.backend, self.precision, verdicts=verdict_labels)
        prepared.runner.compile()
        return prepared


def classify_batch(prepared, paths: Sequence[str], names: Sequence[str], labels: Sequence[str],
                   resize: str | None = None) -> list[dict]:
    """Per-image records of one batch: the top classes, the verdict, the predicted group; each photo
    brought to the input by `resize` ("crop" or "whole"; None: the model's own way)."""
    from plugin.engine.imagenet import group_of
    from plugin.engine.inference.prepared import prepare_batch
    from plugin.engine.study.evaluation.dataset import group_label
    from plugin.engine.study.labels import dog_cat_verdict

    batch = prepare_batch(paths, prepared, resize=resize)
    probabilities = np.asarray(prepared.probabilities(batch), dtype=np.float64)
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :TOP]
    records = []
    for row, ranked, path, name, label in zip(probabilities, order, paths, names, labels):
        top: list[list[Any]] = [[int(index), round(float(row[index]), 6)] for index in ranked]
        answer: str | None
        group: str | None
        if prepared.imagenet_head:
            verdict = dog_cat_verdict(row)
            answer, group = None, verdict["label"]
        else:
            verdict = None
            answer = prepared.class_names[top[0][0]]
            group = group_label(answer)
        records.append({"model": prepared.name, "path": path, "image": name, "label": label, "top": top,
                        "answer": answer, "group": group, "group_of_top": group_of(top[0][0]) if prepared.imagenet_head else group,
                        "verdict_probability": verdict["probability"] if verdict else None, "batch": len(paths)})
    return records


def run_models(items: Sequence, refs: Sequence[ModelRef], done: dict, log_path: Path | None, progress,
               batches_of: Callable[[ModelRef, list[list]], Iterable[list[dict]]]) -> dict[str, tuple[int, float]]:
    """Each model over the batches still to run, whichever engine classifies them.

    `batches_of(ref, plan)` prepares the model and returns an iterable of each batch's records (in
    any order); every record is logged as it comes and progress reported. Returns (images, seconds)
    per model: the images classified in this run, and the time from the first batch asked for to
    the last record.
    """
    log = RunLog(log_path)
    timings: dict[str, tuple[int, float]] = {}
    total = len(items) * len(refs)
    finished = sum(1 for ref in refs for item in items if (ref.name, item.path) in done)
    try:
        for ref in refs:
            plan = batch_plan(items, ref.name, done)
            if not plan:
                continue
            batches = batches_of(ref, plan)
            started, count = time.perf_counter(), 0
            for records in batches:
                log.write(records)
                count += len(records)
                finished += sum(1 for record in records if (ref.name, record["path"]) not in done)
                if progress:
                    progress(finished, total, ref.name)
            timings[ref.name] = (count, time.perf_counter() - started)
    finally:
        log.close()
    return timings


def batch_plan(items: Sequence, model: str, done: dict, batch_size: int = EVALUATION_BATCH) -> list[list]:
    """The batches still to run for one model: the fixed grid, less the batches whose images are
    all in the log (a partly logged batch runs whole again, in the same company)."""
    grid = [list(items[i:i + batch_size]) for i in range(0, len(items), batch_size)]
    return [chunk for chunk in grid if any((model, item.path) not in done for item in chunk)]


_RECORD_KEYS = frozenset({"model", "path", "image", "label", "top", "answer", "group", "group_of_top"})


def read_log(path: Path | None) -> dict[tuple[str, str], dict]:
    """Records already in a run's log, by (model, path). A line that is not a whole record of the
    form `classify_batch` writes (cut short by an interruption, or edited) is skipped: its image
    is classified again."""
    done: dict[tuple[str, str], dict] = {}
    if path and path.is_file():
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except (json.JSONDecodeError, RecursionError):
                    continue
                if _whole(record):
                    done[(record["model"], record["path"])] = record
    return done


def _whole(record: Any) -> bool:
    """Whether a logged line is a record as `classify_batch` writes it."""
    if not isinstance(record, dict) or not _RECORD_KEYS <= set(record):
        return False
    top = record["top"]
    return (all(isinstance(record[key], str) for key in ("model", "path", "image", "label")) and isinstance(top, list)
            and bool(top) and all(isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], int)
                                  and isinstance(pair[1], (int, float)) for pair in top)
            and all(record[key] is None or isinstance(record[key], str) for key in ("answer", "group", "group_of_top")))


class RunLog:
    """The run's JSON Lines log, appended to and synced after every batch, so an interrupted run
    loses at most the batch it was in."""

    def __init__(self, path: Path | None) -> None:
        self.handle = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            torn = path.is_file() and path.stat().st_size > 0 and _last_byte(path) != b"\n"
            self.handle = open(path, "a", encoding="utf-8")
            if torn:  # an interrupted write left half a line: end it, so the next record starts clean
                self.handle.write("\n")

    def write(self, records: list[dict]) -> None:
        if self.handle:
            for record in records:
                self.handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.handle.flush()
            os.fsync(self.handle.fileno())

    def close(self) -> None:
        if self.handle:
            self.handle.close()


def _last_byte(path: Path) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1)
