"""Gradio's file route serves files, never fetches (ASGI middleware).

`/gradio_api/file=<path or url>` serves a file a page was given, and, given an http(s) URL,
fetches it from the server and streams it back (Gradio checks the address is public). This app
never hands a page a URL to fetch through it: such a request only makes the server reach out on a
stranger's behalf, so it is refused before Gradio sees it.
"""

from __future__ import annotations

import re

__all__ = ["LocalFilesOnly"]

_URL_FILE = re.compile(r"/file=\s*(?:[a-z][a-z0-9+.-]*:|//|\\\\)", re.IGNORECASE)
"""A file route's argument that names a scheme (http:, https:, ...) or a network location."""


class LocalFilesOnly:
    """Answer 403 to a file-route request that names a URL instead of a file."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and _URL_FILE.search(scope.get("path", "")):
            body = b"Forbidden: this server serves the files its pages were given and fetches nothing."
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
