"""`model.summary()` as Keras prints it, captured as text for a page or a blog post.

Keras renders the summary with rich at the terminal's width; captured (with `print_fn`) it is cut
to 80 columns and the "Param #" column is lost. The width rich and Keras read is the COLUMNS
variable, so it is set for the moment of capture (under a lock: the environment is the process's).
"""

from __future__ import annotations

import os
import threading
from typing import Any

__all__ = ["keras_summary", "SUMMARY_COLUMNS"]

SUMMARY_COLUMNS = 124
"""Wide enough for Keras's widest default table (108 columns, 120 with a "Connected to" column)."""
_lock = threading.Lock()


def keras_summary(model: Any) -> str:
    """The text `model.summary()` prints: the layer table (Layer (type), Output Shape, Param #,
    and for functional models Connected to) and the totals lines, exactly as Keras writes them."""
    parts: list[str] = []
    with _lock:
        saved = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = str(SUMMARY_COLUMNS)
        try:
            model.summary(print_fn=lambda text, line_break=True: parts.append(text))
        finally:
            if saved is None:
                os.environ.pop("COLUMNS", None)
            else:
                os.environ["COLUMNS"] = saved
    return "".join(parts).rstrip() + "\n"
