"""The cores this process may use, and work mapped over them in threads.

Decoding and resizing photos release the GIL (Pillow's decoders and resampling run in C without
it), so the photos of one call are read side by side: on two cores, 16 JPEGs of 768 x 576 decode
in 37 ms instead of 67, and resize in 21 instead of 39.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["threads", "in_threads"]

T = TypeVar("T")
R = TypeVar("R")


def threads() -> int:
    """The cores this process may use, or fewer where OMP_NUM_THREADS says so (as TensorFlow's own
    TF_NUM_INTRAOP_THREADS does for Keras): several processes sharing a machine each take a part."""
    cores = len(os.sched_getaffinity(0))
    wanted = os.environ.get("OMP_NUM_THREADS", "")
    return max(1, min(cores, int(wanted))) if wanted.isdigit() else cores


def in_threads(function: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`[function(item) for item in items]`, run in `threads()` threads where there are several
    items; the results in order, and the first item's error (in order) raised as it was.

    Each item runs in a copy of the caller's context (a web session's granted folders are a
    context variable), and each call has its own threads, so a function that itself calls
    `in_threads` cannot starve.
    """
    workers = min(threads(), len(items))
    if workers <= 1:
        return [function(item) for item in items]
    context = contextvars.copy_context()
    with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="intake") as pool:
        return list(pool.map(lambda item: context.copy().run(function, item), items))
