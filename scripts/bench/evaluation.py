"""Evaluating labelled photos on the local engine and on Ray."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

__all__ = ["evaluation_speed"]


def evaluation_speed(source: Path, model: str = "EfficientNetLite0") -> dict:
    """Evaluate the photos in `source` on each engine; images/s counts from the first batch
    submitted (Ray's start-up and actor included) to the last result, plus the whole call's time."""
    from plugin.api import evaluate

    rows = []
    for engine in ("local", "ray"):
        if engine == "ray" and importlib.util.find_spec("ray") is None:
            continue
        started = time.perf_counter()
        result = evaluate(source, models=[model], engine=engine, resume=False)
        rows.append({"engine": engine, "images": result["images"], "backend": result["models"][0]["backend"],
                     "images_per_second": result["models"][0]["images_per_second"],
                     "call_s": round(time.perf_counter() - started, 2)})
    return {"model": model, "engines": rows}
