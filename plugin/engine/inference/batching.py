"""Requests that reach one model at nearly the same time run as one batch.

A model runs a batch of 16 images in much less than 16 times one image's time, so when the web
app or the MCP server answers several callers at once, their images are put together: requests
that arrive while the model is busy wait and then run as one batch, and while requests keep
arriving within a few milliseconds of each other (the `batch_window_ms` setting), that batch waits
that long for them. A caller alone, or one after another, runs at once, without waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, cast

import numpy as np

from plugin.config import get_settings
from plugin.limits import MAX_BATCH_IMAGES

__all__ = ["Batcher", "in_slices", "BATCH_SIZE"]

BATCH_SIZE = 16
"""Images one inference call runs at most; larger batches are run in slices of this size, which bounds
the memory one call holds (VGG16's first activations take 13 MB an image)."""


def in_slices(run: Callable[[np.ndarray], np.ndarray], batch: np.ndarray) -> np.ndarray:
    """Run `run` on `batch` in slices of `BATCH_SIZE` images and join the outputs."""
    return np.concatenate([run(batch[i:i + BATCH_SIZE]) for i in range(0, len(batch), BATCH_SIZE)], axis=0)


class _Request:
    __slots__ = ("batch", "arrived", "done", "output", "error")
    output: np.ndarray | None
    error: BaseException | None

    def __init__(self, batch: np.ndarray) -> None:
        self.batch, self.arrived = batch, time.monotonic()
        self.done, self.output, self.error = False, None, None


class Batcher:
    """Runs `run(batch)` for concurrent callers, merging their batches where they arrive together.

    Attributes:
        runs: how many times `run` was called.
        requests: how many calls were answered (requests / runs is the mean merge).
    """

    def __init__(self, run: Callable[[np.ndarray], np.ndarray], max_images: int = MAX_BATCH_IMAGES) -> None:
        self._run, self._max_images = run, max_images
        self._condition = threading.Condition()
        self._pending: list[_Request] = []
        self._busy = False
        self._inside = 0
        self._last_arrival = float("-inf")
        self.runs = 0
        self.requests = 0

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        request = _Request(batch)
        window = get_settings().batch_window_ms / 1000.0
        with self._condition:
            burst = self._inside > 0 and request.arrived - self._last_arrival < window
            self._last_arrival = request.arrived
            self._inside += 1
            self._pending.append(request)
            while not request.done and (self._busy or self._pending[0] is not request):
                self._condition.wait()
            if request.done:
                self._inside -= 1
                return _answer(request)
            self._busy = True
            if burst or len(self._pending) > 1:  # others are arriving: give them the window to join
                deadline = request.arrived + window
                while (left := deadline - time.monotonic()) > 0 and self._images() < self._max_images:
                    self._condition.wait(left)
            taken = self._take()
        outputs: Any
        failure: BaseException | None
        try:
            outputs = self._run(np.concatenate([r.batch for r in taken]) if len(taken) > 1 else taken[0].batch)
        except BaseException as exc:
            outputs, failure = None, exc
        else:
            failure = None
        with self._condition:
            start = 0
            for r in taken:
                if failure is None:
                    r.output = outputs[start:start + len(r.batch)]
                    start += len(r.batch)
                r.error, r.done = failure, True
            self.runs += 1
            self.requests += len(taken)
            self._inside -= 1
            self._busy = False
            self._condition.notify_all()
        return _answer(request)

    def _images(self) -> int:
        return sum(len(r.batch) for r in self._pending)

    def _take(self) -> list[_Request]:
        """The first pending request and those after it that fit in one batch (same image shape)."""
        taken, images = [self._pending[0]], len(self._pending[0].batch)
        for r in self._pending[1:]:
            if r.batch.shape[1:] != taken[0].batch.shape[1:] or images + len(r.batch) > self._max_images:
                break
            taken.append(r)
            images += len(r.batch)
        del self._pending[:len(taken)]
        return taken

    def stats(self) -> dict:
        """`{"runs", "requests"}` so far."""
        with self._condition:
            return {"runs": self.runs, "requests": self.requests}


def _answer(request: _Request) -> np.ndarray:
    if request.error is not None:
        raise request.error
    return cast(np.ndarray, request.output)  # set whenever no error was
