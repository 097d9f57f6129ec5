"""One limit on engine runs for the whole process, whichever door a request came through.

The web app's events, its API endpoints and the MCP calls over HTTP (and stdio) all take a slot
here before they run the engine, so "four at a time" (`Settings.concurrent_runs`) means four in
all; the rest wait their turn. Requests in flight for the same model run as one batch
(`plugin.engine.inference.batching`), so the limit is also how many requests can share a batch. A thread that already holds a slot passes straight through, so a
door that calls another door's code cannot wait on itself.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator

from plugin.config import get_settings

__all__ = ["engine_slot", "gated", "gate_stats"]

_condition = threading.Condition()
_held = threading.local()
_running = 0
_peak = 0


@contextlib.contextmanager
def engine_slot() -> Iterator[None]:
    """Hold one of the process's engine slots for the duration of the block (waiting for one if need be)."""
    global _running, _peak
    if getattr(_held, "slot", False):
        yield
        return
    with _condition:
        _condition.wait_for(lambda: _running < max(1, get_settings().concurrent_runs))
        _running += 1
        _peak = max(_peak, _running)
    _held.slot = True
    try:
        yield
    finally:
        _held.slot = False
        with _condition:
            _running -= 1
            _condition.notify()


def gated(function: Callable) -> Callable:
    """`function`, run in an engine slot."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        with engine_slot():
            return function(*args, **kwargs)

    return run


def gate_stats(reset: bool = False) -> dict:
    """`{"running", "peak", "limit"}`: engine runs now, the most at once so far, the limit."""
    global _peak
    with _condition:
        stats = {"running": _running, "peak": _peak, "limit": get_settings().concurrent_runs}
        if reset:
            _peak = _running
        return stats
