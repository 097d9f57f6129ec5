"""evaluate: how often is each model right on a folder of labelled photos?

Images stream through each model in batches (the same grid everywhere); every per-image result is
appended to a JSON Lines log as it comes, so an interrupted run resumes where it stopped and
loses nothing. The work runs in this process (engine "local") or on Ray actors (engine "ray",
`pip install .[ray]`: a local Ray instance, or the cluster in RAY_ADDRESS); both give the same
numbers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

from plugin.config import get_settings
from plugin.engine.inference.custom import load_custom_model
from plugin.engine.inference.options import RunOptions
from plugin.engine.inference.prepared import load_registry_model, resolve_backend
from plugin.engine.models.defaults import default_models
from plugin.engine.models.registry import get_spec
from plugin.engine.models.weights import parse_weights, weights_path
from plugin.engine.results import (
    EvaluationResult,
    Fallback,
    ModelEvaluation,
    ModelFailure,
    ModelNames,
    ModelSummary,
    PathInput,
    WeightsInput,
)
from plugin.engine.study.classify import check_model_names, model_failure, none_can_answer
from plugin.engine.study.evaluation.dataset import Item, interpret, read_source
from plugin.engine.study.evaluation.metrics import summarise
from plugin.engine.study.evaluation.steps import ModelRef, classify_batch, read_log, run_models
from plugin.engine.study.labels import verdict_labels
from plugin.errors import CANNOT_ANSWER, ExportError, InvalidInputError, LimitExceededError, PluginError
from plugin.limits import EVALUATION_BATCH

__all__ = ["evaluate", "ENGINES", "Progress"]

log = logging.getLogger(__name__)

ENGINES = ("local", "ray")
Progress = Callable[[int, int, str], None]


def evaluate(source: PathInput, models: ModelNames = None, labels: dict[str, str] | None = None, *,
             options: RunOptions = RunOptions(), engine: str = "local", resume: bool = True, progress: Progress | None = None,
             num_cpus: int | None = None) -> EvaluationResult:
    """Evaluate models on labelled images (`plugin.api.evaluate` says how): `options` as for
    `classify_image`, one weights value for every model."""
    if engine not in ENGINES:
        raise InvalidInputError(f"Expected engine to be one of {list(ENGINES)}. Received: engine={engine!r}")
    items, described = read_source(source, labels)
    refs, missing, fallback = _models(models, options, export_now=engine == "ray")
    options.require_trained("to evaluate", "random weights, whose accuracy means nothing",
                            untrained=any(parse_weights(ref.weights).untrained for ref in refs if not ref.model_path))
    distinct = sorted({item.label for item in items})
    origins = {item.label: item.origin for item in items if item.origin}
    meanings = {ref.name: interpret(distinct, list(ref.class_names or ()) if ref.model_path else None, origins) for ref in refs}
    log_path = _log_path(items, refs, described)
    label_of = {item.path: item.label for item in items}
    done = _matching(read_log(log_path), label_of)
    if log_path.exists() and (not resume or all((ref.name, item.path) in done for ref in refs for item in items)):
        log_path.unlink()  # a finished run is run again, not replayed: only an interrupted one resumes
        done = {}
    budgeted = _within_time(progress, get_settings().max_call_seconds)
    if engine == "ray":
        from plugin.engine.study.evaluation.ray_engine import run_ray

        timings = run_ray(items, refs, done, log_path, budgeted, num_cpus)
    else:
        timings = _run_local(items, refs, done, log_path, budgeted)
    done = _matching(read_log(log_path), label_of)
    result: EvaluationResult = {
        "source": described,
        "images": len(items),
        "labels": distinct,
        "label_counts": {label: sum(item.label == label for item in items) for label in distinct},
        "log_path": str(log_path),
        "engine": engine,
        "models": [_entry(ref, summarise(ref.name, [record for (model, path), record in done.items() if model == ref.name],
                                         meanings[ref.name], custom=bool(ref.model_path), class_names=ref.class_names,
                                         timing=timings.get(ref.name))) for ref in refs],
    }
    result["models"] = [*missing, *result["models"]]  # the models that could not answer say why, first
    if fallback:
        result["note"] = fallback.pop("note")
        result["fallback"] = fallback
    return result


def _within_time(progress: Progress | None, seconds: float) -> Progress:
    """`progress`, also stopping the run once it has taken `seconds` (after the batch in hand,
    which is logged): one call never holds an engine slot for hours, and calling again resumes."""
    started = time.monotonic()

    def report(done: int, total: int, model: str) -> None:
        if progress:
            progress(done, total, model)
        if time.monotonic() - started > seconds and done < total:
            raise LimitExceededError(
                f"Expected an evaluation to finish within {seconds:g} s. Received: {done:,} of {total:,} classifications "
                "done, kept in the run's log; call again with the same images and models to continue from there.",
                key="call_too_long", seconds=f"{seconds:g}", done=f"{done:,}", total=f"{total:,}")

    return report


def _matching(done: dict, label_of: dict[str, str]) -> dict:
    """The logged records of this run's images with the labels they have now (a record that names
    another image or label is classified again, never trusted)."""
    return {key: record for key, record in done.items() if label_of.get(key[1]) == record["label"]}


def _backend_now(name: str, weights: WeightsInput, backend: str, export_now: bool) -> str:
    """The backend a model runs on for the whole run; with `export_now`, "auto" exports it first
    where it has trained weights and exports (Keras runs it where the export fails)."""
    if not export_now or backend != "auto" or parse_weights(weights).untrained:
        return resolve_backend(name, weights, backend)
    try:
        return resolve_backend(name, weights, "onnx")
    except ExportError as exc:
        log.warning("%s could not be exported before the run (%s); Keras runs it.", name, exc)
        return "keras"


def _entry(ref: ModelRef, summary: ModelSummary) -> ModelEvaluation:
    entry: ModelEvaluation = {**summary, "backend": ref.backend, "precision": ref.precision, "resize": ref.resize}
    if ref.precision_note:
        entry["precision_note"] = ref.precision_note
    if not ref.model_path:
        spec = get_spec(ref.name)
        entry["published"] = {"top1": spec.published.top1, "top5": spec.published.top5,
                              "source_key": spec.published.source_key, "protocol": spec.protocol.describe()}
    return entry


def _models(models: ModelNames, options: RunOptions, *,
            export_now: bool = False) -> tuple[list[ModelRef], list[ModelFailure], Fallback | None]:
    """The models to run, an entry for each that cannot answer (its weights are not here: the
    others still run, as in `classify_image`), and the fallback note.

    With `export_now` (Ray), "auto" exports a registry model that is not exported yet here, once,
    before the workers start: they then run onnxruntime on the cached file and never load
    TensorFlow (a worker starts in about a second instead of building the model in Keras)."""
    weights, model_path, backend, precision = options.weights, options.model_path, options.backend, options.precision
    if weights is not None and not isinstance(weights, str):
        raise InvalidInputError(f"Expected one weights value for every model evaluated. Received: {type(weights).__name__}")
    refs: list[ModelRef] = []
    problems: dict[str, PluginError] = {}
    fallback: Fallback | None = None
    if model_path is None or models is not None:
        names, fallback = default_models(weights) if models is None else (check_model_names(models), None)
        chosen = "random" if weights is None else weights
        for name in names:
            try:
                weights_path(get_spec(name), parse_weights(chosen))  # fetched now (or found cached), not by a worker
                if precision == "int8":  # exported, quantised and checked now, once, not by a worker
                    prepared = load_registry_model(name, chosen, backend, precision, verdicts=verdict_labels)
                    refs.append(ModelRef(name, weights=chosen, backend=prepared.backend, precision=prepared.precision,
                                         precision_note=prepared.precision_note, resize=options.resize or "crop"))
                else:
                    refs.append(ModelRef(name, weights=chosen, backend=_backend_now(name, chosen, backend, export_now),
                                         resize=options.resize or "crop"))
            except CANNOT_ANSWER as exc:
                if len(names) == 1 and model_path is None:
                    raise
                problems[name] = exc
    if model_path is not None:
        prepared = load_custom_model(model_path, class_names=options.class_names, preprocessing=options.preprocessing)
        refs.append(ModelRef(prepared.name, model_path=str(model_path), class_names=prepared.class_names,
                             preprocessing=prepared.preprocessing, resize=options.resize or prepared.resize))
    if not refs:
        raise none_can_answer(problems)
    return refs, [model_failure(name, exc) for name, exc in problems.items()], fallback


def _log_path(items: list[Item], refs: list[ModelRef], described: str) -> Path:
    """One log per run: the same images (unchanged on disk) and models find, and resume, the same log."""
    identity = json.dumps([[(item.path, item.label, *_stamp(item.path)) for item in items],
                           [list(map(str, vars(ref).values())) for ref in refs], EVALUATION_BATCH])
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]
    stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in described)[:40] or "images"
    return get_settings().output_dir / "evaluations" / f"{stem}-{digest}.jsonl"


def _stamp(path: str) -> tuple[int, int]:
    try:
        stat = Path(path).stat()
    except OSError:
        return (-1, -1)
    return (stat.st_size, stat.st_mtime_ns)


def _run_local(items: list[Item], refs: list[ModelRef], done: dict, log_path: Path, progress: Progress | None) -> dict:
    """Each model over the batches still to run, in this process; (images, seconds) classified per model."""
    def batches_of(ref: ModelRef, plan: list[list]):
        prepared = ref.build()  # before the clock starts: the time counts classification only
        return (classify_batch(prepared, [item.path for item in chunk], [item.name for item in chunk],
                               [item.label for item in chunk], ref.resize) for chunk in plan)

    return run_models(items, refs, done, log_path, progress, batches_of)
