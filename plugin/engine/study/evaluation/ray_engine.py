"""The same evaluation on Ray Data, when one machine is not enough.

Per model: the batches still to run become one block each (`from_pandas` of one frame per batch,
so Ray's batches are exactly the local ones and the numbers identical), then `map_batches` with
one actor class per model, which builds the model once and classifies a batch per call, reading
its photos itself (from paths: the photos must be on storage every node sees). Registry models
were exported to ONNX by the driver before (`evaluate`), so an actor runs onnxruntime on the cached
file and never imports TensorFlow. Results stream back to the driver, which logs them and reports
progress as they come (possibly out of order).

A local Ray instance is started with `num_cpus` logical CPUs (default: the cores and one more, for
Ray's own tasks), and one actor computes with every core (onnxruntime's threads follow the CPUs Ray
gives it). On a cluster (RAY_ADDRESS, or one this process already joined) as many actors of one
CPU as there are nodes, placed by Ray Data (which manages scheduling itself since Ray 2.60). Ray
starts quietly and sends no usage statistics.
"""

from __future__ import annotations

import json
import logging
import os

from plugin.config import get_settings
from plugin.engine.study.evaluation.steps import ModelRef, classify_batch, run_models
from plugin.errors import InvalidInputError

__all__ = ["run_ray", "Classifier"]

_PROGRESS_TIMEOUT_S = 600.0


class Classifier:
    """The Ray actor of one model: builds it once, then classifies one batch per call.

    `_actor_class` makes a subclass per model holding its recipe and the driver's settings as class
    attributes, so Ray passes no constructor arguments.
    """

    ref: ModelRef
    roots: tuple[str, ...] = ()
    output_dir: str = ""

    def __init__(self) -> None:
        import ray

        from plugin.config import configure

        configure(image_roots=list(self.roots), output_dir=self.output_dir)  # the driver's roots, in this worker
        self.prepared = self.ref.build()
        self.node = ray.get_runtime_context().get_node_id()

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        records = classify_batch(self.prepared, [str(p) for p in batch["path"]], [str(n) for n in batch["name"]],
                                 [str(label) for label in batch["label"]])
        return {"record": np.array([json.dumps({**record, "node": self.node}, ensure_ascii=False) for record in records])}


def _actor_class(ref: ModelRef) -> type:
    settings = get_settings()
    name = "Classify_" + "".join(ch if ch.isalnum() else "_" for ch in ref.name)
    return type(name, (Classifier,), {"ref": ref, "roots": tuple(str(root) for root in settings.readable_roots),  # with a session's
                                      "output_dir": str(settings.output_dir)})


def start_ray(num_cpus: int | None) -> bool:
    """Start a local Ray instance (or join RAY_ADDRESS) quietly; True when this call started it."""
    try:
        import ray
    except ImportError as exc:
        raise InvalidInputError("Expected Ray for engine='ray'. Received: Ray is not installed. Install the extra: "
                                "pip install '.[ray]' (./test.sh installs it), or use engine='local'.",
                                key="ray_missing") from exc
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    env_vars = {"RAY_USAGE_STATS_ENABLED": "0", "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}
    if os.environ.get("KERAS_HOME"):
        env_vars["KERAS_HOME"] = os.environ["KERAS_HOME"]
    options = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR,
               "runtime_env": {"env_vars": env_vars}}
    if os.environ.get("RAY_ADDRESS"):
        options["address"] = os.environ["RAY_ADDRESS"]
    else:  # "local" starts a new instance even where `ray start` left a cluster behind
        options["address"] = "local"
        options["num_cpus"] = num_cpus or _cores() + 1  # the actor takes the cores; one more for Ray's own tasks
    ray.init(**options)
    data = ray.data.DataContext.get_current()
    data.enable_progress_bars = False
    data.print_on_execution_start = False
    data.wait_for_min_actors_s = _PROGRESS_TIMEOUT_S  # an actor that cannot be placed is an error, not a hang
    data.execution_no_progress_timeout_s = _PROGRESS_TIMEOUT_S
    for handler in logging.getLogger("ray.data").handlers:
        if type(handler).__name__ != "SessionFileHandler":
            handler.setLevel(logging.ERROR)
    return True


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def actor_pool(started_here: bool) -> tuple[int, int]:
    """(actors, CPUs each): on the instance this process started, one actor with every core; on a
    cluster, one actor of one CPU per node that is alive."""
    import ray

    if started_here:
        return 1, _cores()
    return max(1, sum(1 for node in ray.nodes() if node.get("Alive"))), 1


def run_ray(items, refs: list[ModelRef], done: dict, log_path, progress, num_cpus: int | None) -> dict:
    """Run every model's remaining batches on Ray Data; log and report as results arrive.

    Returns (images, seconds) per model: the images it classified in this run, and the time from
    its first batch submitted (the actor starts and builds the model) to its last result.
    """
    import pandas as pd
    import ray
    import ray.data

    started_here = start_ray(num_cpus)
    actors, cpus = actor_pool(started_here)

    def batches_of(ref: ModelRef, plan: list[list]):
        frames = [pd.DataFrame({"path": [i.path for i in chunk], "name": [i.name for i in chunk],
                                "label": [i.label for i in chunk]}) for chunk in plan]
        dataset = ray.data.from_pandas(frames).map_batches(
            _actor_class(ref), compute=ray.data.ActorPoolStrategy(size=actors, max_tasks_in_flight_per_actor=1 if actors > 1 else 2), batch_size=None, batch_format="numpy",
            num_cpus=cpus)
        for columns in dataset.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=0):
            yield [json.loads(text) for text in columns["record"]]

    try:
        return run_models(items, refs, done, log_path, progress, batches_of)
    finally:
        if started_here:
            ray.shutdown()
