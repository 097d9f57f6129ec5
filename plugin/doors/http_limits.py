"""A cap on request bodies for the web app, its API and its MCP endpoint (ASGI middleware).

A JSON call is read whole into memory by the framework before anyone looks at it, so a body is
refused as soon as it is known to be too large: by its Content-Length before a byte is read, or,
sent in chunks, the moment the bytes received pass the cap. File uploads (Gradio's upload route,
which streams to disk) have their own, larger cap: model files.
"""

from __future__ import annotations

import json

from plugin.limits import MAX_REQUEST_BYTES

__all__ = ["BodyLimit", "UPLOAD_PATH"]

UPLOAD_PATH = "/gradio_api/upload"


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuse request bodies over `limit` bytes (`uploads` bytes on the upload route) with 413."""

    def __init__(self, app, limit: int = MAX_REQUEST_BYTES, uploads: int = MAX_REQUEST_BYTES) -> None:
        self.app, self.limit, self.uploads = app, limit, uploads

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.uploads if scope.get("path", "").rstrip("/").endswith(UPLOAD_PATH) else self.limit
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > cap):
            await _refuse(send, cap, declared.decode("latin-1")[:20])
            return
        received = 0
        started = False

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise _TooLarge
            return message

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if not started:
                await _refuse(send, cap, "more")


async def _refuse(send, cap: int, received: str) -> None:
    body = json.dumps({"error": {"type": "RequestTooLarge",
                                 "message": f"Expected a request body of at most {cap:,} bytes. Received: {received}."}}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
