"""Download an image from an untrusted http(s) URL: public addresses only, one deadline, one size cap.

The client is httpx, with a transport of our own over httpcore whose network backend does three
things httpx leaves to the operating system:

- it resolves the host name itself, judges every address it resolves to (`address_allowed`) and
  connects to a judged address, so no second lookup can lead elsewhere (DNS rebinding); httpcore
  still knows the host by name, so the Host header, TLS SNI and the certificate check use the name;
- it gives every blocking step (DNS, connect, TLS handshake, each write and each read) only the
  time left until one deadline for the whole download, redirects included, so a server that
  answers slowly or sends one byte at a time is cut off when the deadline passes;
- it is the only way out: environment proxies are never used (`trust_env=False`).

Redirects are followed here, not by httpx, so that each hop's URL is checked (scheme, user info,
host name) before its own connection is opened and judged. Errors are translated into
`PluginError`s at one boundary, `fetch_url`, and never quote the response's bytes.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
import urllib.parse

import httpcore
import httpx
import idna

from plugin.config import Settings, get_settings
from plugin.errors import AccessDeniedError, ImageError, InvalidInputError

__all__ = ["fetch_url", "address_allowed"]

_HEADERS = {"User-Agent": "cnn-study-lab", "Accept": "image/*", "Accept-Encoding": "identity"}

# A host that ends in a number is an IPv4 address in decimal, octal or hex, whole or in parts (as
# inet_aton and browsers read it); httpx would refuse some of these spellings, the resolver accepts them.
_NUMERIC_IPV4 = re.compile(r"^(?:(?:0x[0-9a-f]*|[0-9]+)\.){0,3}(?:0x[0-9a-f]*|[0-9]+)\.?$", re.I)

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _embedded_ipv4(ip: IpAddress) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 transition form wraps (mapped, compatible, NAT64, 6to4, Teredo)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return ()
    if ip.ipv4_mapped:
        return (ip.ipv4_mapped,)
    if ip.sixtofour:
        return (ip.sixtofour,)
    if ip.teredo:
        return ip.teredo  # (server, client): traffic reaches both
    last32 = ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    if ip in ipaddress.IPv6Network("::/96") or ip in ipaddress.IPv6Network("64:ff9b::/96"):
        return (last32,)
    return ()


def _public(ip: IpAddress) -> bool:
    return ip.is_global and not (ip.is_multicast or ip.is_private or ip.is_reserved or ip.is_loopback
                                 or ip.is_link_local or ip.is_unspecified)


def address_allowed(address: str, settings: Settings) -> bool:
    """Whether a download may connect to `address`.

    An address is allowed when it lies in one of `settings.trusted_networks`, or when it is public:
    not loopback, private, link-local, reserved, multicast or unspecified. An IPv6 address that wraps
    an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64 `64:ff9b::/96`, 6to4, Teredo) is judged
    by the IPv4 address(es) it wraps.

    Args:
        address: an IP address as `getaddrinfo` gives it (an IPv6 scope such as `%eth0` is ignored).
        settings: the settings whose trusted networks apply.

    Returns:
        True when the address may be reached.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    wrapped = _embedded_ipv4(ip)
    if any(ip in network for network in settings.trusted_networks):
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:  # the same host, reached over IPv4
        if any(ip.ipv4_mapped in network for network in settings.trusted_networks):
            return True
    if wrapped:
        return all(_public(inner) for inner in wrapped)
    return _public(ip)


def _describe(address: str) -> str:
    wrapped = _embedded_ipv4(ipaddress.ip_address(address.split("%", 1)[0]))
    return f"{address} (wrapping {', '.join(map(str, wrapped))})" if wrapped else address


class _Deadline:
    """The end of one download; every blocking step gets only the time left."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self, timeout: float | None, error: type[httpcore.TimeoutException]) -> float:
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise error(f"the {self.seconds:g} s deadline passed")
        return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and handshake ends by the deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname: str | None = None, timeout: float | None = None):
        inner = self._inner.start_tls(ssl_context, server_hostname, self._deadline.left(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


def _resolve(host: str, port: int, deadline: _Deadline) -> list[str]:
    """Resolve `host` in a helper thread, giving up when the deadline passes (getaddrinfo has no timeout)."""
    result: dict = {}

    def lookup() -> None:
        try:
            result["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            result["error"] = exc

    thread = threading.Thread(target=lookup, name="cnnlab-resolve", daemon=True)
    thread.start()
    thread.join(deadline.left(None, httpcore.ConnectTimeout))
    if thread.is_alive():
        raise httpcore.ConnectTimeout(f"resolving {host!r} outlasted the {deadline.seconds:g} s deadline")
    if "error" in result:
        raise ImageError(f"Expected a URL whose host resolves. Received host {host!r}: {result['error']}.",
                         key="url_unreachable", url=host[:200]) from result["error"]
    return list(dict.fromkeys(info[4][0] for info in result["infos"] if info[0] in (socket.AF_INET, socket.AF_INET6)))


class _PinnedBackend(httpcore.NetworkBackend):
    """Connect only to addresses judged here, by the deadline."""

    def __init__(self, settings: Settings, deadline: _Deadline) -> None:
        self._settings = settings
        self._deadline = deadline
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options=None) -> httpcore.NetworkStream:
        addresses = _resolve(host, port, self._deadline)
        refused = [address for address in addresses if not address_allowed(address, self._settings)]
        if refused or not addresses:
            shown = _describe(refused[0]) if refused else "no address"
            raise AccessDeniedError(
                f"Expected a URL to a public address. Received host {host!r}, which resolves to {shown} "
                "(loopback, private, link-local, reserved or wrapping one of these): refused.",
                key="url_not_public", host=host[:200])
        error: httpcore.ConnectError | None = None
        for address in addresses:  # numeric: the socket connects to this very address, no new lookup
            try:
                stream = self._inner.connect_tcp(address, port, self._deadline.left(timeout, httpcore.ConnectTimeout),
                                                 local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc
                continue
            return _DeadlineStream(stream, self._deadline)
        raise error  # type: ignore[misc]

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise httpcore.ConnectError("downloads do not use Unix sockets")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _Body(httpx.SyncByteStream):
    def __init__(self, stream) -> None:
        self._stream = stream

    def __iter__(self):
        yield from self._stream

    def close(self) -> None:
        if hasattr(self._stream, "close"):
            self._stream.close()


class _PinnedTransport(httpx.BaseTransport):
    """httpx's transport, over a connection pool whose network backend is `_PinnedBackend`."""

    def __init__(self, settings: Settings, deadline: _Deadline) -> None:
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(), http1=True, http2=False,
                                             network_backend=_PinnedBackend(settings, deadline))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        response = self._pool.handle_request(httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
            headers=request.headers.raw, content=request.stream, extensions=request.extensions))
        return httpx.Response(status_code=response.status, headers=response.headers, stream=_Body(response.stream),
                              extensions=response.extensions)

    def close(self) -> None:
        self._pool.close()


def _ascii_host(host: str, url: str) -> str:
    """The host as DNS knows it: non-ASCII names IDNA-encoded, numeric IPv4 spellings made dotted quads."""
    try:
        if not host.isascii():
            host = idna.encode(host, uts46=True).decode("ascii")
        elif any(label.startswith("xn--") for label in host.split(".")):
            idna.decode(host)  # an A-label must decode (xn--.example does not): checked here, not deep in httpx
    except (idna.IDNAError, UnicodeError) as exc:  # InvalidCodepoint and friends are IDNAErrors
        raise InvalidInputError(f"Expected a host name that IDNA can encode. Received: {host!r} in {url[:200]!r} ({exc}).",
                                key="url_bad_host", host=host[:200]) from exc
    if _NUMERIC_IPV4.match(host):  # 2130706433, 0177.0.0.1, 0x7f.1, 127.1: what the resolver makes of them
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            pass
    return host


_REDIRECTS = (301, 302, 303, 307, 308)


def _checked_url(url: str, *, redirected_from: str | None = None) -> httpx.URL:
    """Check a URL's form (scheme, host, no user info) and return it with an ASCII host."""
    via = f" (redirected from {redirected_from[:200]!r})" if redirected_from else ""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInputError(f"Expected a valid URL. Received: {url[:200]!r}{via} ({exc}).") from exc
    if parts.scheme not in ("http", "https"):
        raise AccessDeniedError(f"Expected an http or https URL. Received: {url[:200]!r}{via}.", key="url_scheme", url=url[:200])
    if not parts.hostname:
        raise InvalidInputError(f"Expected a URL with a host name. Received: {url[:200]!r}{via}.")
    if parts.username or parts.password or "@" in parts.netloc:
        raise InvalidInputError(f"Expected a URL without user name or password. Received: {url[:200]!r}{via}.")
    host = _ascii_host(parts.hostname, url)
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port is not None else "")
    try:
        return httpx.URL(urllib.parse.urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")))
    except (httpx.InvalidURL, idna.IDNAError, UnicodeError) as exc:
        raise InvalidInputError(f"Expected a valid URL. Received: {url[:200]!r}{via} ({exc}).") from exc


def _read_body(response: httpx.Response, url: str, limit: int) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ImageError(f"Expected an image of at most {limit:,} bytes. Received: {url!r} declares {int(declared):,} bytes.")
    chunks, size = [], 0
    for chunk in response.iter_raw():  # as the bytes come (each read ends by the deadline)
        size += len(chunk)
        if size > limit:
            raise ImageError(f"Expected an image of at most {limit:,} bytes. Received: {url!r} sent more.")
        chunks.append(chunk)
    return b"".join(chunks)


def _download(url: str, settings: Settings, deadline: _Deadline) -> bytes:
    try:
        return _follow(url, settings, deadline)
    except (httpx.InvalidURL, idna.IDNAError, UnicodeError) as exc:  # httpx parses a redirect's Location itself
        raise InvalidInputError(f"Expected {url[:200]!r} to lead to a valid URL. Received: a redirect to a malformed one "
                                f"({type(exc).__name__}).", key="url_bad_redirect", url=url[:200]) from exc


def _follow(url: str, settings: Settings, deadline: _Deadline) -> bytes:
    current = _checked_url(url)
    with httpx.Client(transport=_PinnedTransport(settings, deadline), trust_env=False, follow_redirects=False,
                      timeout=settings.url_timeout_s, headers=_HEADERS) as client:
        for _hop in range(settings.max_redirects + 1):
            with client.stream("GET", current) as response:
                location = response.headers.get("Location")
                if response.status_code in _REDIRECTS and location:  # read as text: httpx would parse it unchecked
                    current = _checked_url(urllib.parse.urljoin(str(current), location), redirected_from=str(current))
                    continue
                if response.status_code >= 400:
                    raise ImageError(
                        f"Expected {url!r} to answer with an image. Received: HTTP {response.status_code} "
                        f"{response.reason_phrase}.", key="url_http_error", url=url[:200], code=response.status_code)
                return _read_body(response, url, settings.max_image_bytes)
    raise ImageError(f"Expected {url!r} to lead to an image in at most {settings.max_redirects} redirects. "
                     "Received: more redirects.", key="url_redirects", url=url[:200], limit=settings.max_redirects)


def fetch_url(url: str, *, settings: Settings | None = None) -> bytes:
    """Download an image from a public http(s) URL, within the time and size limits.

    One deadline (`settings.url_timeout_s`) covers the whole download: name lookup, connection,
    TLS, headers, every redirect and the body. Each redirect is checked like the first URL.

    Args:
        url: an http or https URL.
        settings: limits to apply; default: the settings in force.

    Returns:
        The response body.
    """
    settings = settings or get_settings()
    deadline = _Deadline(settings.url_timeout_s)
    try:
        return _download(url, settings, deadline)
    except (httpcore.TimeoutException, httpx.TimeoutException) as exc:
        raise ImageError(f"Expected {url!r} to download within {settings.url_timeout_s:g} s. It took longer.",
                         key="url_timeout", url=url[:200], seconds=f"{settings.url_timeout_s:g}") from exc
    except (httpcore.ConnectError, httpx.ConnectError) as exc:
        raise ImageError(f"Expected {url!r} to be reachable. Received: {exc}.", key="url_unreachable",
                         url=url[:200]) from exc
    except (httpcore.ProtocolError, httpcore.NetworkError, httpx.TransportError, httpx.DecodingError) as exc:
        # a protocol error's message may quote what the server sent: name its type only
        raise ImageError(f"Expected {url!r} to answer over HTTP. Received: a broken response ({type(exc).__name__}).",
                         key="url_unreachable", url=url[:200]) from exc
