"""A guard against DNS rebinding for the web app, its API, its files and its MCP endpoint (ASGI
middleware).

A page on another site can make a visitor's browser resolve its own name to 127.0.0.1 and then
talk to the app as if it were that site: the request reaches the app with `Host: attacker.example`
(and the attacker's `Origin`). So every HTTP and WebSocket request must name a host the app is
served on: localhost, the address it listens on (with all interfaces, this machine's names and
addresses), a share link's domain, a Hugging Face Space's own name (SPACE_HOST, which Spaces set),
and the names in `Settings.allowed_hosts` (for a proxy or a domain; "*" turns the check off). A browser's `Origin`, when sent, must name one of them too.
"""

from __future__ import annotations

import fnmatch
import os
import socket
import urllib.parse
from collections.abc import Iterable

__all__ = ["HostGuard", "served_hosts"]

_LOCAL = ("localhost", "127.0.0.1", "::1")


def served_hosts(host: str, share: bool, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The host names a server listening on `host` answers to (patterns allowed, "*" for any)."""
    names = {*_LOCAL, *extra, os.environ.get("SPACE_HOST", "")}
    if host in ("0.0.0.0", "::", ""):  # every interface: the names and addresses this machine goes by
        machine = socket.gethostname()
        names |= {machine, socket.getfqdn()}
        try:
            names |= {str(info[4][0]) for info in socket.getaddrinfo(machine, None)}
        except OSError:
            pass
    else:
        names.add(host)
    if share:
        names.add("*.gradio.live")
    return tuple(sorted(name.lower().strip("[]") for name in names if name))


class HostGuard:
    """Answer 421 to a request whose Host is not one of `hosts`, and 403 to one whose Origin is not."""

    def __init__(self, app, hosts: Iterable[str] = _LOCAL) -> None:
        self.app = app
        self.hosts = tuple(hosts)
        self.any = "*" in self.hosts

    def allowed(self, name: str | None) -> bool:
        return self.any or (name is not None and any(fnmatch.fnmatchcase(name.lower(), pattern) for pattern in self.hosts))

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket") or self.any:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        host = urllib.parse.urlsplit("//" + headers.get(b"host", b"").decode("latin-1")).hostname
        origin = headers.get(b"origin")
        if not self.allowed(host):
            await _refuse(scope, send, 421, "Misdirected request: this server does not answer to that host name.")
            return
        if origin is not None and origin != b"null" and not self.allowed(urllib.parse.urlsplit(origin.decode("latin-1")).hostname):
            await _refuse(scope, send, 403, "Forbidden: requests from pages of other sites are refused.")
            return
        await self.app(scope, receive, send)


async def _refuse(scope, send, status: int, text: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
