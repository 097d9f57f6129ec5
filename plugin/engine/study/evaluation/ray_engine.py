"""The same evaluation on Ray, when one machine is not enough.

Per model, a few Ray actors each build the model once and classify one batch of the fixed grid
per call, reading its photos themselves (from paths: the photos must be on storage every node
sees); the driver keeps two batches queued at each actor, so an actor never waits for the next,
and logs and reports each batch's records as they come (possibly out of order). Registry models
were exported to ONNX by the driver before (`evaluate`), so an actor runs onnxruntime on the
cached file and never imports TensorFlow.

This process's local Ray instance (`plugin.engine.study.evaluation.ray_local`: started by the first
call, shared by later and concurrent ones, shut down at exit, on loopback) has `num_cpus` logical
CPUs (default: the cores and one more, for Ray's own tasks), and each call one actor of one CPU per
core: on a small machine, batches side by side use the cores better than one batch spread over
them; a concurrent call's actors wait for the CPUs the first call's free. On a cluster (RAY_ADDRESS, or one this process
already joined) one actor of one CPU per node that is alive, spread over the nodes. Actors are plain
Ray actors (Ray Data's streaming executor took seconds to start its pool: most of the time of a
few hundred photos). Ray starts quietly and sends no usage statistics.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from plugin.config import get_settings
from plugin.engine.study.evaluation.ray_local import start_ray
from plugin.engine.study.evaluation.steps import ModelRef, classify_batch, run_models
from plugin.errors import LimitExceededError, PluginError

__all__ = ["run_ray", "Classifier", "actor_pool"]

_PROGRESS_TIMEOUT_S = 600.0
"""Longest wait for any batch's records: an actor that cannot be placed is an error, not a hang."""
_QUEUED_PER_ACTOR = 2


class Classifier:
    """The Ray actor of one model: builds it once, then classifies one batch per call."""

    def __init__(self, ref: ModelRef, roots: tuple[str, ...], output_dir: str) -> None:
        import ray

        from plugin.config import configure

        configure(image_roots=list(roots), output_dir=output_dir)  # the driver's roots, in this worker
        self.prepared, self.resize = ref.build(), ref.resize
        self.node = ray.get_runtime_context().get_node_id()

    def classify(self, paths: list[str], names: list[str], labels: list[str]) -> list[dict]:
        return [{**record, "node": self.node} for record in classify_batch(self.prepared, paths, names, labels, self.resize)]


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def actor_pool(started_here: bool) -> int:
    """How many actors of one CPU: one per core on the instance this process started, one per node
    that is alive on a cluster."""
    import ray

    if started_here:
        return max(1, min(_cores(), int(ray.cluster_resources().get("CPU", 1)) - 1))
    return max(1, sum(1 for node in ray.nodes() if node.get("Alive")))


def run_ray(items, refs: list[ModelRef], done: dict, log_path, progress, num_cpus: int | None) -> dict:
    """Run every model's remaining batches on Ray actors; log and report as results arrive.

    Returns (images, seconds) per model: the images it classified in this run, and the time from
    its actors asked for (they start and build the model) to its last result.
    """
    import ray

    started_here = start_ray(num_cpus, _cores())
    count = actor_pool(started_here)
    settings = get_settings()
    roots = tuple(str(root) for root in settings.readable_roots)  # with a session's

    def batches_of(ref: ModelRef, plan: list[list]) -> Iterator[list[dict]]:
        actor_class = ray.remote(num_cpus=1, scheduling_strategy="DEFAULT" if started_here else "SPREAD")(Classifier)
        actors = [actor_class.remote(ref, roots, str(settings.output_dir)) for _ in range(min(count, len(plan)))]
        try:
            yield from _stream(actors, plan)
        finally:
            for actor in actors:
                ray.kill(actor)  # their CPUs go to the next model's actors

    return run_models(items, refs, done, log_path, progress, batches_of)


def _stream(actors: list, plan: list[list]) -> Iterator[list[dict]]:
    """Each batch's records as they come, `_QUEUED_PER_ACTOR` batches queued at each actor."""
    import ray
    from ray.exceptions import RayTaskError

    waiting = list(plan)
    pending: dict = {}  # result reference -> its actor

    def submit(actor) -> None:
        chunk = waiting.pop(0)
        reference = actor.classify.remote([i.path for i in chunk], [i.name for i in chunk], [i.label for i in chunk])
        pending[reference] = actor

    for actor in actors:
        for _ in range(_QUEUED_PER_ACTOR):
            if waiting:
                submit(actor)
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1, timeout=_PROGRESS_TIMEOUT_S)
        if not ready:
            raise LimitExceededError(f"Expected a batch's results from Ray within {_PROGRESS_TIMEOUT_S:.0f} s. Received: none "
                                     "(an actor could not be placed, or the cluster is too busy); the batches done are "
                                     "logged, and the same call continues from there.",
                                     key="ray_no_progress", seconds=int(_PROGRESS_TIMEOUT_S))
        actor = pending.pop(ready[0])
        try:
            records = ray.get(ready[0])
        except RayTaskError as exc:
            if isinstance(exc.cause, PluginError):
                raise exc.cause from None  # the engine's own error, as the local engine raises it
            raise
        if waiting:
            submit(actor)
        yield records
