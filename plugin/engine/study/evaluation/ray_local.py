"""The one local Ray instance of this process: started by the first evaluation that asks for Ray,
shared by every later and concurrent one, shut down when the process exits; bound to loopback.

Where RAY_ADDRESS names a cluster, or the caller already ran `ray.init` (their own instance or
cluster), none of this applies: that Ray is used as it is and never shut down here.

Loopback: Ray 2.60's `ray.init(_node_ip_address="127.0.0.1")` replaces a loopback address with
the machine's own (`ray._private.services.resolve_ip_for_localhost`, "so that it is reachable
from other nodes"), and its servers then listen on every interface. A local instance has no
other node, so while this process runs one, that function keeps the address it is given: every
server (GCS, raylet, workers, the runtime-env agent) then listens on 127.0.0.1 only (checked
against Ray 2.60.0 with `ss -ltnp`). Its session folder is a temporary folder of this process,
removed at exit.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading

from plugin.errors import InvalidInputError

__all__ = ["start_ray", "shutdown", "LOOPBACK", "local_instance"]

LOOPBACK = "127.0.0.1"

_lock = threading.Lock()
_local: dict = {"temp_dir": None}


def local_instance() -> bool:
    """Whether this process runs its own local Ray instance now."""
    return _local["temp_dir"] is not None


def start_ray(num_cpus: int | None, cores: int) -> bool:
    """Make sure Ray is up: this process's local instance (started now or kept from an earlier call),
    or the cluster of RAY_ADDRESS or of the caller's own `ray.init`. True where the instance is this
    process's own (its actors size to its cores), False on a cluster."""
    try:
        import ray
    except ImportError as exc:
        raise InvalidInputError("Expected Ray for engine='ray'. Received: Ray is not installed. Install the extra: "
                                "pip install '.[ray]' (./test.sh installs it), or use engine='local'.",
                                key="ray_missing") from exc
    with _lock:
        if ray.is_initialized():
            return local_instance()
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        env_vars = {"RAY_USAGE_STATS_ENABLED": "0", "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}
        if os.environ.get("KERAS_HOME"):
            env_vars["KERAS_HOME"] = os.environ["KERAS_HOME"]
        options = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR,
                   "runtime_env": {"env_vars": env_vars}}
        if os.environ.get("RAY_ADDRESS"):
            ray.init(address=os.environ["RAY_ADDRESS"], **options)
            return False
        temp_dir = tempfile.mkdtemp(prefix="cnnlab-ray-")  # short: Ray's socket paths must fit 107 characters
        _keep_loopback(True)
        try:  # "local" starts a new instance even where `ray start` left a cluster behind
            _in_owner_thread(lambda: ray.init(address="local", num_cpus=num_cpus or cores + 1, _node_ip_address=LOOPBACK,
                                              _temp_dir=temp_dir, **options))
        except BaseException:
            _keep_loopback(False)
            shutil.rmtree(temp_dir, ignore_errors=True)
            raise
        _local["temp_dir"] = temp_dir
        atexit.register(shutdown)
        return True


def _in_owner_thread(start) -> None:
    """Run `start` (ray.init) in a thread of its own that lives until `shutdown`.

    Ray starts its GCS and raylet with PR_SET_PDEATHSIG, which Linux fires when the *thread* that
    started them exits: started from a web request's or a thread pool's worker thread, the instance
    would be killed when that thread ends, under the next call that uses it.
    """
    started: dict = {}
    ready, stop = threading.Event(), threading.Event()

    def own() -> None:
        try:
            start()
        except BaseException as exc:  # handed to the caller's thread
            started["error"] = exc
        ready.set()
        if "error" not in started:
            stop.wait()

    threading.Thread(target=own, name="cnnlab-ray-owner", daemon=True).start()
    ready.wait()
    if "error" in started:
        raise started["error"]
    _local["stop"] = stop


def shutdown() -> None:
    """Shut this process's local instance down and remove its session folder (at exit; nothing where
    there is none: a cluster is never shut down here)."""
    import ray

    with _lock:
        temp_dir, _local["temp_dir"] = _local["temp_dir"], None
        if temp_dir is None:
            return
        ray.shutdown()
        _local.pop("stop").set()
        _keep_loopback(False)
        shutil.rmtree(temp_dir, ignore_errors=True)


def _keep_loopback(keep: bool) -> None:
    """While this process's local instance lives, a loopback node address stays loopback (see the
    module docstring): Ray's driver resolves it again whenever it reconnects."""
    from ray._private import services

    original = _local.setdefault("resolve", services.resolve_ip_for_localhost)
    services.resolve_ip_for_localhost = (lambda host: host) if keep else original
