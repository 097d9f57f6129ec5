"""The waits a student feels (issue 35): each action as a fresh process (caches on disk already
filled by a first, untimed run, as a student's own first run fills them: converted weights, the
ONNX exports it starts in the background, architecture facts, diagrams and pictures) and warm in
this process, against its target; and Ray's first and second evaluation in one process against the
local engine's photos per second.

    explain                 launch.py explain PHOTO --model EfficientNetLite0
    report_classification   launch.py report classification PHOTO --models <Lite0, Lite1, Lite2> --explain --study-preprocessing
    report_architecture     launch.py report architecture ResNet50, into an empty output folder
    app_first_explanation   a fresh process with the app's modules imported (what `launch.py` has loaded when the
                            page opens), then the first "where did it look" for the three Lite models (study_image)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["waits", "WAIT_TARGETS", "ray_reuse"]

LITES = ["EfficientNetLite0", "EfficientNetLite1", "EfficientNetLite2"]
WAIT_TARGETS = {"explain": 4.0, "report_classification": 7.0, "report_architecture": 3.0, "app_first_explanation": 5.0}
"""Seconds, fresh process (issue 35)."""
_REPO = Path(__file__).resolve().parents[2]
_APP_FIRST = ("import sys, time; import plugin.doors.webapp; from plugin import api; started = time.perf_counter(); "
              "api.study_image(sys.argv[1], {models!r}, explain=True); print(round(time.perf_counter() - started, 3))")


def _commands(photo: str, out: str) -> dict[str, list[str]]:
    launch = [sys.executable, str(_REPO / "launch.py"), "--output-dir", out]
    return {
        "explain": [*launch, "explain", photo, "--model", LITES[0]],
        "report_classification": [*launch, "report", "classification", photo, "--models", *LITES, "--explain",
                                  "--study-preprocessing"],
        "report_architecture": [*launch, "report", "architecture", "ResNet50"],
        "app_first_explanation": [sys.executable, "-c", _APP_FIRST.format(models=LITES), photo],
    }


def waits(photo: str, runs: int = 3) -> dict:
    """Each action's fresh-process seconds (median of `runs`, after one untimed run that fills the caches
    on disk) and warm in-process seconds, with its target."""
    from plugin.api import make_report, study_image

    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CNNLAB_AUTO_EXPORT": "1",
                   "CNNLAB_IMAGE_ROOTS": os.pathsep.join([os.environ.get("CNNLAB_IMAGE_ROOTS", ""), str(Path(photo).parent)])}
    rows = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name in WAIT_TARGETS:
            seconds = []
            for run in range(runs + 1):
                out = Path(scratch) / f"{name}-{run}"  # an empty output folder every time
                command = _commands(photo, str(out))[name]
                started = time.perf_counter()
                finished = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=_REPO, timeout=600)
                elapsed = time.perf_counter() - started
                if finished.returncode != 0:
                    raise RuntimeError(f"{name} failed: {finished.stderr[-1500:]}")
                if run:  # the first run fills the caches on disk
                    seconds.append(elapsed if name != "app_first_explanation" else float(finished.stdout.strip().splitlines()[-1]))
                else:
                    _wait_for_exports()
            rows[name] = {"fresh_s": round(statistics.median(seconds), 2), "target_s": WAIT_TARGETS[name]}
        warm = {
            "explain": lambda: study_image(photo, LITES[:1], explain=True),
            "report_classification": lambda: make_report("classification", image=photo, models=LITES, explain=True,
                                                         study_preprocessing=True),
            "report_architecture": lambda: make_report("architecture", model="ResNet50"),
            "app_first_explanation": lambda: study_image(photo, LITES, explain=True),
        }
        for name, call in warm.items():
            call()
            started = time.perf_counter()
            call()
            rows[name]["warm_s"] = round(time.perf_counter() - started, 2)
    return rows


def _wait_for_exports() -> None:
    """Wait for the exports a first run left working in the background (and only those): each worker
    holds its lock file, so asking for its export waits for it, then finds it cached."""
    from plugin.engine.inference.onnx import cache_path, export_cached
    from plugin.engine.models.registry import get_spec
    from plugin.engine.models.weights import parse_weights, weights_path

    for name in LITES:
        weights = weights_path(get_spec(name), parse_weights("imagenet"))
        target = cache_path(name, weights)
        if target.with_name(target.name + ".lock").exists():
            export_cached(name, weights)


def ray_reuse(source: Path, model: str = "EfficientNetLite0") -> dict:
    """Ray's first and second evaluation in this process, each as a share of the local engine's photos
    per second (the whole call's photos over its seconds: Ray's start counts in the first)."""
    from plugin.api import evaluate

    def rate(engine: str) -> float:
        started = time.perf_counter()
        result = evaluate(source, models=[model], engine=engine, resume=False)
        return result["images"] / (time.perf_counter() - started)

    local = rate("local")
    first, second = rate("ray"), rate("ray")
    return {"local_images_per_s": round(local, 1), "ray_first_of_local": round(first / local, 2),
            "ray_second_of_local": round(second / local, 2)}
