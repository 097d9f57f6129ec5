"""A quota on Gradio's uploads (ASGI middleware on `/gradio_api/upload`).

Anyone who can reach the app may post files to the upload route, with no page session and no
event to follow; Gradio keeps them until its hourly sweep removes what is a day old. Here every
upload is remembered as it is answered, and:

- an upload that no event has used (`mark_used`: the app's handlers mark what they read) is
  deleted once it is `unused_s` old (`Settings.unused_upload_s`), at the next upload;
- the bytes of the uploads not yet used, with those being received, stay under `total`
  (`Settings.max_upload_bytes`), and their number under `MAX_UNUSED_UPLOADS` (each is a folder and
  a file); an upload that would go past either is answered 507, its body let go as it arrives and
  never stored, after the old ones are swept.

What a handler has used is left to Gradio's own sweep, as before.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from pathlib import Path

from plugin.doors.http_limits import discard_body

__all__ = ["UploadQuota", "mark_used", "unused_uploads", "MAX_UNUSED_UPLOADS"]

MAX_UNUSED_UPLOADS = 1000
"""Uploads no event has used that are kept at once, whatever their size."""

_lock = threading.Lock()
_unused: dict[str, tuple[float, int]] = {}  # upload path -> (when it was answered, its share of the request's bytes)
_receiving = 0


def mark_used(path: str | os.PathLike[str] | None) -> None:
    """Say that an event read this upload: it is kept as long as Gradio keeps its files."""
    if path:
        with _lock:
            _unused.pop(os.fspath(path), None)


def unused_uploads() -> dict[str, float]:
    """The uploads no event has used yet, with the time each was answered."""
    with _lock:
        return {path: when for path, (when, _size) in _unused.items()}


def _sweep(older_than: float) -> None:
    """Delete the unused uploads answered before `older_than` (and their folders, once empty)."""
    with _lock:
        stale = [path for path, (when, _size) in _unused.items() if when < older_than]
        for path in stale:
            del _unused[path]
    for path in stale:
        with contextlib.suppress(OSError):
            os.unlink(path)
        with contextlib.suppress(OSError):
            Path(path).parent.rmdir()  # Gradio keeps each upload in a folder of its own


class UploadQuota:
    """Keep the upload route's unused files to `total` bytes and `unused_s` seconds each.

    Args:
        app: the ASGI app.
        path: the upload route (`plugin.doors.http_limits.UPLOAD_PATH`).
        total: most bytes of unused uploads kept and being received.
        cap: the largest upload (a body without a length reserves this much while it is received).
        unused_s: how long an unused upload is kept.
    """

    def __init__(self, app, path: str, total: int, cap: int, unused_s: float) -> None:
        self.app, self.path, self.total, self.cap, self.unused_s = app, path, total, cap, unused_s

    async def __call__(self, scope, receive, send) -> None:
        global _receiving
        if scope["type"] != "http" or scope.get("method") != "POST" or not scope.get("path", "").rstrip("/").endswith(self.path):
            await self.app(scope, receive, send)
            return
        headers = [(name, value) for name, value in scope.get("headers") or [] if name.lower() != b"accept-encoding"]
        scope = {**scope, "headers": headers}  # the answer (the stored paths) is read here: never compressed
        declared = dict(headers).get(b"content-length", b"")
        size = int(declared) if declared.isdigit() else self.cap
        _sweep(time.time() - self.unused_s)
        with _lock:
            kept = sum(share for _when, share in _unused.values())
            fits = kept + _receiving + size <= self.total and len(_unused) < MAX_UNUSED_UPLOADS
            if fits:
                _receiving += size
        if not fits:
            await discard_body(receive)
            await _full(send, self.total)
            return
        status, body, received = 0, [], 0

        async def counting() -> dict:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            return message

        async def noting(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and status == 200:
                body.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting, noting)
        finally:
            with _lock:
                _receiving -= size
        if status == 200:
            with contextlib.suppress(ValueError, TypeError, UnicodeDecodeError):
                stored = [path for path in json.loads(b"".join(body)) if isinstance(path, str)]
                now = time.time()
                with _lock:
                    _unused.update({path: (now, received // max(1, len(stored))) for path in stored})


async def _full(send, total: int) -> None:
    body = json.dumps({"error": {"type": "UploadQuotaExceeded", "message": (
        f"Expected the uploads waiting to be used to fit in {total:,} bytes and {MAX_UNUSED_UPLOADS:,} files. Received: one "
        "more that does not fit; use or let go of earlier uploads, or try again later.")}}).encode()
    await send({"type": "http.response.start", "status": 507,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", b"60")]})
    await send({"type": "http.response.body", "body": body})
