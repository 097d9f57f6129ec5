"""Run in a child process by tests/test_ray_local.py: a local evaluation, then two Ray evaluations at
once and a third after them, in one process; prints what the test checks as one JSON line."""

import concurrent.futures
import json
import sys
from pathlib import Path

import psutil

import plugin
from plugin.api import evaluate
from plugin.engine.study.evaluation import ray_local


def answers(result) -> dict:
    records = [json.loads(line) for line in Path(result["log_path"]).read_text().splitlines()]
    return {record["path"]: record["top"] for record in records}


def main(photos: str, out: str) -> None:
    import ray

    plugin.configure(image_roots=[photos], output_dir=out)
    local = answers(evaluate(photos, models=["EfficientNetLite0"], backend="onnx"))
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        both = list(pool.map(lambda _: evaluate(photos, models=["EfficientNetLite0"], engine="ray"), range(2)))
    node = ray.get_runtime_context().get_node_id()
    again = evaluate(photos, models=["EfficientNetLite0"], engine="ray")
    children = psutil.Process().children(recursive=True)  # Ray's GCS, raylet, agents and workers
    listening = set()
    for child in children:
        try:
            listening |= {connection.laddr.ip for connection in child.net_connections(kind="inet")
                          if connection.status == psutil.CONN_LISTEN}
        except psutil.NoSuchProcess:  # a worker that ended meanwhile
            pass
    print(json.dumps({"local": local, "concurrent": [answers(result) for result in both], "again": answers(again),
                      "same_node": node == ray.get_runtime_context().get_node_id(), "kept": ray.is_initialized(),
                      "temp_dir": ray_local._local["temp_dir"], "listening": sorted(listening),
                      "ray_pids": [child.pid for child in children]}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
