"""Caps on request bodies for the web app, its API and its MCP endpoint (ASGI middleware).

A JSON call is read whole into memory by the framework before anyone looks at it, so a body is
refused as soon as it is known to be too large: by its Content-Length before a byte is read, or,
sent in chunks, the moment the bytes received pass the cap. File uploads (Gradio's upload route,
which streams to disk) have their own, larger cap: model files.

The bodies being read, waiting and answered share one budget (`Settings.max_request_bytes_in_flight`):
each request reserves its declared length (a chunked one, the cap) before a byte of it is read and
gives it back when it is answered, or, put in Gradio's queue (`/gradio_api/call/...`,
`/gradio_api/queue/join`), once its event has left the queue. A request that does not fit is
answered 503 with `Retry-After`, its body let go as it arrives, never held (answering before it
has arrived would close the connection under the caller's feet, and the caller would see a reset,
not the answer). So the memory requests hold grows with the budget, not with the number of
callers. Small bodies (a click, a page, a listing) are never turned away.
"""

from __future__ import annotations

import json
import re
import threading

from plugin.doors.gradio_compat import event_waiting
from plugin.limits import MAX_REQUEST_BYTES

__all__ = ["BodyLimit", "UPLOAD_PATH", "SMALL_BODY_BYTES", "bodies_in_flight", "discard_body"]

UPLOAD_PATH = "/gradio_api/upload"
SMALL_BODY_BYTES = 1024 * 1024
"""A body this small is read whatever the budget holds: the page's own calls are never refused."""
_QUEUED = re.compile(r"/gradio_api/(call/[^/]+|queue/join)/?")
"""The routes whose body waits in Gradio's queue after the request is answered."""


class _Budget:
    """Bytes reserved by requests in flight and by the queued events they left behind."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reserved = 0
        self.queued: dict[str, int] = {}  # Gradio event id -> the bytes its request reserved

    def reserve(self, size: int, budget: int | None, app) -> bool:
        with self.lock:
            if budget is not None and size > SMALL_BODY_BYTES and self.reserved + size > budget:
                for event in [event for event in self.queued if not event_waiting(app, event)]:
                    self.reserved -= self.queued.pop(event)
                if self.reserved + size > budget:
                    return False
            self.reserved += size
            return True

    def release(self, size: int) -> None:
        with self.lock:
            self.reserved -= size

    def keep_for(self, event: str, size: int) -> None:
        with self.lock:
            self.queued[event] = self.queued.get(event, 0) + size


_budget = _Budget()


class _TooLarge(Exception):
    pass


def bodies_in_flight() -> int:
    """Bytes of request bodies reserved now (being read, answered or waiting in the queue)."""
    return _budget.reserved


class BodyLimit:
    """Refuse request bodies over `limit` bytes (`uploads` bytes on the upload route) with 413, and
    bodies that would take the bytes in flight past `budget` (uploads aside) with 503."""

    def __init__(self, app, limit: int = MAX_REQUEST_BYTES, uploads: int = MAX_REQUEST_BYTES, budget: int | None = None) -> None:
        self.app, self.limit, self.uploads, self.budget = app, limit, uploads, budget

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        upload = path.rstrip("/").endswith(UPLOAD_PATH)
        cap = self.uploads if upload else self.limit
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > cap):
            await _refuse(send, cap, declared.decode("latin-1")[:20])
            return
        size = 0 if upload else int(declared) if declared is not None else cap if b"transfer-encoding" in headers else 0
        if not _budget.reserve(size, self.budget, scope.get("app")):
            await discard_body(receive)
            await _busy(send, size, self.budget or 0)
            return
        queued = size > SMALL_BODY_BYTES and scope.get("method") == "POST" and _QUEUED.fullmatch(path) is not None
        if queued:  # its answer (the event's id) is read here: never compressed
            scope = {**scope, "headers": [(name, value) for name, value in scope["headers"] if name.lower() != b"accept-encoding"]}
        answer: list[bytes] = []
        try:
            await self._limited(scope, receive, send, cap, answer if queued else None)
        finally:
            event = _event_id(answer)
            if event is not None:
                _budget.keep_for(event, size)
            else:
                _budget.release(size)

    async def _limited(self, scope, receive, send, cap: int, answer: list[bytes] | None) -> None:
        received = 0
        started = False
        collecting = answer is not None

        too_large = False

        async def counted_receive():
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    too_large = True
                    raise _TooLarge
            return message

        async def tracked_send(message):
            nonlocal started, collecting
            if too_large:
                return  # the framework's own answer to the error raised above (a 500): ours is sent instead
            if message["type"] == "http.response.start":
                started = True
                collecting = collecting and message["status"] == 200
            elif message["type"] == "http.response.body" and collecting and answer is not None:
                answer.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if not started:
                await _refuse(send, cap, "more")


def _event_id(answer: list[bytes]) -> str | None:
    """The event id in Gradio's answer to a queued call, if it put one in the queue."""
    if not answer:
        return None
    try:
        event = json.loads(b"".join(answer)).get("event_id")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return None
    return event if isinstance(event, str) else None


async def discard_body(receive) -> None:
    """Let a refused request's body go as it arrives, keeping none of it, so that the caller reads
    the answer (one sent before would end the connection under it: a reset, not the answer)."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            return


async def _busy(send, size: int, budget: int) -> None:
    body = json.dumps({"error": {"type": "ServerBusy", "message": (
        f"Expected the request bodies being read or waiting at once to fit in {budget:,} bytes. Received: one of "
        f"{size:,} bytes while others fill the budget; try again in a moment.")}}).encode()
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", b"1")]})
    await send({"type": "http.response.body", "body": body})


async def _refuse(send, cap: int, received: str) -> None:
    body = json.dumps({"error": {"type": "RequestTooLarge",
                                 "message": f"Expected a request body of at most {cap:,} bytes. Received: {received}."}}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
