"""Built runners, cached per key (model, weights, backend) and safe for concurrent callers.

A model is built once per key: concurrent callers asking for the same key wait for the one build.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Hashable
from typing import Any

from plugin.config import get_settings

__all__ = ["ModelCache", "model_cache", "cache_info"]


class ModelCache:
    """Least-recently-used cache of runners (or of anything else worth making once) with one build
    per key, whatever the concurrency."""

    def __init__(self, size: int | None = None) -> None:
        """`size`: how many entries are kept; None follows `Settings.model_cache_size`."""
        self._size = size
        self._entries: collections.OrderedDict = collections.OrderedDict()
        self._key_locks: dict = {}
        self._lock = threading.Lock()
        self.builds = 0

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    return self._entries[key]
            try:
                runner = build()
            except BaseException:
                with self._lock:  # a failed build leaves nothing behind: the next call builds afresh
                    if self._key_locks.get(key) is key_lock:
                        del self._key_locks[key]
                raise
            with self._lock:
                self.builds += 1
                self._entries[key] = runner
                self._entries.move_to_end(key)
                while len(self._entries) > max(1, self._size or get_settings().model_cache_size):
                    evicted, _ = self._entries.popitem(last=False)
                    self._key_locks.pop(evicted, None)
            return runner

    def keys(self) -> list:
        with self._lock:
            return list(self._entries)


model_cache = ModelCache()


def cache_info() -> dict:
    """Which models are built and held in memory, and how many builds happened so far."""
    return {"models": [list(map(str, key)) for key in model_cache.keys()], "builds": model_cache.builds}
