"""How long looking inside a model takes: `look_inside`'s views on one photo, warm (the model built
and traced by a first call), each view's own time as the result's `timings` gives it."""

from __future__ import annotations

import statistics
import time

__all__ = ["inside_speed"]


def inside_speed(models, jpeg_path: str, weights: dict[str, str], runs: int = 3) -> dict:
    """Per model: the median of `runs` warm calls of every default view on the photo, each view's
    seconds, and the whole call's; the feature maps of every stage are what the target reads."""
    from plugin.api import look_inside

    rows = []
    for name in models:
        options = {"weights": weights[name], "allow_random_weights": weights[name] != "imagenet"}
        look_inside(jpeg_path, name, **options)  # built, traced and its pictures' fonts loaded: not timed
        calls, views = [], {}
        for _ in range(runs):
            started = time.perf_counter()
            result = look_inside(jpeg_path, name, **options)
            calls.append(time.perf_counter() - started)
            for view, seconds in result["timings"].items():
                views.setdefault(view, []).append(seconds)
        rows.append({"model": name, "call_s": round(statistics.median(calls), 3),
                     "views_s": {view: round(statistics.median(values), 3) for view, values in views.items()},
                     "stages": len(result.get("feature_maps", []))})
    return {"runs": runs, "models": rows}
