"""One limit on engine runs for the whole process, whichever door a request came through.

The web app's events, its API endpoints and the MCP calls over HTTP (and stdio) all take a slot
here before they run the engine, so "four at a time" (`Settings.concurrent_runs`) means four in
all; the rest wait their turn. Requests in flight for the same model run as one batch
(`plugin.engine.inference.batching`), so the limit is also how many requests can share a batch. A thread that already holds a slot passes straight through, so a
door that calls another door's code cannot wait on itself.

A wait can be given up: in `abandonable(gone)`, a thread waiting for a slot leaves the wait, with
`CallCancelledError`, once its caller went away (`abandon(gone)`), and a call whose caller is gone
already takes no slot at all. What never started is never run.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator

from plugin.config import get_settings
from plugin.errors import CallCancelledError

__all__ = ["engine_slot", "gated", "gate_stats", "abandonable", "abandon"]

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
    gone = getattr(_held, "gone", None)
    with _condition:
        _condition.wait_for(lambda: _running < max(1, get_settings().concurrent_runs) or (gone is not None and gone.is_set()))
        if gone is not None and gone.is_set():
            _condition.notify()  # a slot freed for this wait goes to the next one
            raise CallCancelledError("Expected the caller to wait for its call to start. Received: it went away first; "
                                     "the call was not run.")
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


@contextlib.contextmanager
def abandonable(gone: threading.Event) -> Iterator[None]:
    """In the block, on this thread, a wait for an engine slot gives up once `gone` is set (its
    caller went away: see `abandon`), and a call whose caller is already gone takes no slot."""
    outer = getattr(_held, "gone", None)
    _held.gone = gone
    try:
        yield
    finally:
        _held.gone = outer


def abandon(gone: threading.Event) -> None:
    """Say that the caller behind `gone` went away: set it, and wake the waits for a slot, so the
    one waiting on its behalf (in `abandonable(gone)`) gives up at once instead of running."""
    gone.set()
    with _condition:
        _condition.notify_all()


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
