"""A guard against DNS rebinding and cross-site requests for the web app, its API, its files, its
uploads and its MCP endpoint (ASGI middleware, outermost: before Gradio's own CORS layer, which
answers preflights itself).

A page on another site can make a visitor's browser resolve its own name to 127.0.0.1 and then
talk to the app as if it were that site: the request reaches the app with `Host: attacker.example`
(and the attacker's `Origin`). So every HTTP and WebSocket request must name a host the app is
served on: localhost, the address it listens on (with all interfaces, this machine's names and
addresses), a share link's domain, a Hugging Face Space's own name (SPACE_HOST, which Spaces set),
and the names in `Settings.allowed_hosts` (for a proxy or a domain; "*" turns the check off).

A browser's `Origin`, when sent, must be the app's own: the same host and port as the request's
Host, or one of the names vouched for (share link, Space, `allowed_hosts`: a proxy's public name).
`Origin: null` (a sandboxed iframe, a `data:` page, a local file) is any page at all, so it is
always refused, and so is a page on another port of this machine. `X-Forwarded-Host` and
`Forwarded: host=`, which Gradio trusts to name itself in its pages, must name a served host too,
and a page or JSON answer to a request that carried forwarded headers is never stored by a cache.
"""

from __future__ import annotations

import fnmatch
import os
import socket
import urllib.parse
from collections.abc import Iterable

__all__ = ["HostGuard", "served_hosts", "vouched_hosts"]

_LOCAL = ("localhost", "127.0.0.1", "::1")
_FORWARDED = (b"x-forwarded-host", b"x-forwarded-proto", b"forwarded")


def vouched_hosts(share: bool, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The names someone vouched for (patterns allowed, "*" for any): `extra` (`allowed_hosts`),
    the Space's own name and a share link's domain. Pages there may call the app from any port."""
    names = {*extra, os.environ.get("SPACE_HOST", "")}
    if share:
        names.add("*.gradio.live")
    return tuple(sorted(name.lower().strip("[]") for name in names if name))


def served_hosts(host: str, share: bool, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The host names a server listening on `host` answers to (patterns allowed, "*" for any)."""
    names = {*_LOCAL, *vouched_hosts(share, extra)}
    if host in ("0.0.0.0", "::", ""):  # every interface: the names and addresses this machine goes by
        machine = socket.gethostname()
        names |= {machine, socket.getfqdn()}
        try:
            names |= {str(info[4][0]) for info in socket.getaddrinfo(machine, None)}
        except OSError:
            pass
    else:
        names.add(host)
    return tuple(sorted(name.lower().strip("[]") for name in names if name))


def _matches(name: str | None, patterns: Iterable[str]) -> bool:
    return name is not None and any(fnmatch.fnmatchcase(name.lower(), pattern) for pattern in patterns)


class HostGuard:
    """Answer 421 to a request whose Host (or forwarded host) is not one of `hosts`, and 403 to one
    whose Origin is not the app's own (see the module's docstring).

    Args:
        app: the ASGI app guarded.
        hosts: the names served (`served_hosts`).
        vouched: the names whose pages may call from any port or scheme (`vouched_hosts`); by
            default those of `hosts` that are not this machine's own names.
    """

    def __init__(self, app, hosts: Iterable[str] = _LOCAL, vouched: Iterable[str] | None = None) -> None:
        self.app = app
        self.hosts = tuple(hosts)
        self.vouched = tuple(vouched) if vouched is not None else tuple(name for name in self.hosts if name not in _LOCAL)
        self.any = "*" in self.hosts

    def allowed(self, name: str | None) -> bool:
        return self.any or _matches(name, self.hosts)

    def origin_allowed(self, origin: bytes, host: bytes) -> bool:
        """Whether a page at `origin` may call the app reached as `host` (the Host header)."""
        text = origin.decode("latin-1").strip().lower()
        if text == "null":
            return False
        parts = urllib.parse.urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        if self.any or parts.netloc == host.decode("latin-1").strip().lower():
            return True  # the app's own page: same host, same port
        return _matches(parts.hostname, self.vouched)

    def forwarded_hosts(self, headers: dict[bytes, bytes]) -> list[str | None]:
        """The host names the forwarded headers claim (each value of each, as Gradio may take any)."""
        claimed: list[str | None] = []
        for value in headers.get(b"x-forwarded-host", b"").decode("latin-1").split(","):
            if value.strip():
                claimed.append(urllib.parse.urlsplit("//" + value.strip()).hostname)
        for element in headers.get(b"forwarded", b"").decode("latin-1").replace(",", ";").split(";"):
            key, _, value = element.strip().partition("=")
            if key.strip().lower() == "host":
                claimed.append(urllib.parse.urlsplit("//" + value.strip().strip('"')).hostname)
        return claimed

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        host_header = headers.get(b"host", b"")
        host = urllib.parse.urlsplit("//" + host_header.decode("latin-1")).hostname
        origin = headers.get(b"origin")
        if not self.allowed(host) or not all(map(self.allowed, self.forwarded_hosts(headers))):
            await _refuse(scope, send, 421, "Misdirected request: this server does not answer to that host name.")
            return
        if origin is not None and not self.origin_allowed(origin, host_header):
            await _refuse(scope, send, 403, "Forbidden: requests from pages of other sites are refused.")
            return
        if scope["type"] == "http" and any(name in headers for name in _FORWARDED):
            send = _uncached(send)
        await self.app(scope, receive, send)


def _uncached(send):
    """`send`, with pages and JSON answers marked never to be stored (they name the forwarded host)."""
    async def sending(message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or [])
            kind = next((value for name, value in headers if name.lower() == b"content-type"), b"")
            if kind.startswith((b"text/html", b"application/json", b"text/event-stream")):
                headers = [(name, value) for name, value in headers if name.lower() != b"cache-control"]
                headers += [(b"cache-control", b"no-store"), (b"vary", b"X-Forwarded-Host, X-Forwarded-Proto, Forwarded")]
                message = {**message, "headers": headers}
        await send(message)

    return sending


async def _refuse(scope, send, status: int, text: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})
