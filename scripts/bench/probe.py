"""Measurements that need a fresh process: `python -m scripts.bench.probe MODE BACKEND JPEG MODEL=WEIGHTS...`.

    cold   classify the photo once with each model; the parent times the whole process to the answer
    rss    classify the photo with every model (all stay loaded); print the peak resident memory

Prints one JSON line: `{"backends": [...], "peak_rss_bytes", "seconds"}` (seconds from the start of
this script: imports, building or loading, the answer).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["run_probe"]

_started = time.perf_counter()


def run_probe(mode: str, backend: str, jpeg: str, models: dict[str, str], timeout_s: float = 600) -> dict:
    """Run the probe in a fresh interpreter; add `wall_s`, the whole process's time to the answer."""
    command = [sys.executable, "-m", "scripts.bench.probe", mode, backend, jpeg, *(f"{m}={w}" for m, w in models.items())]
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CNNLAB_AUTO_EXPORT": "0"}
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, env=environment,
                              cwd=Path(__file__).resolve().parents[2])
    wall = time.perf_counter() - started
    if finished.returncode != 0:
        raise RuntimeError(f"the {mode} probe failed: {finished.stderr[-2000:]}")
    return json.loads(finished.stdout.strip().splitlines()[-1]) | {"wall_s": round(wall, 2)}


def main(argv: list[str]) -> None:
    mode, backend, jpeg, *pairs = argv
    from plugin.api import classify_image
    from plugin.config import configure, get_settings
    from scripts.bench.inference import bench_folder
    from scripts.bench.machine import peak_rss_bytes

    configure(image_roots=[*get_settings().image_roots, bench_folder()])

    image = Path(jpeg).read_bytes()
    answered = []
    for pair in pairs:
        model, weights = pair.split("=", 1)
        result = classify_image(image, models=[model], weights=weights, backend=backend, top_k=1)
        answered.append(result["results"][0]["backend"])
    print(json.dumps({"mode": mode, "backends": answered, "peak_rss_bytes": peak_rss_bytes(),
                      "seconds": round(time.perf_counter() - _started, 2)}))


if __name__ == "__main__":
    main(sys.argv[1:])
