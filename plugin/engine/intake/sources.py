"""Read untrusted file paths, URLs and data URIs into bytes, within the configured bounds.

Local files are read only below the configured roots (symbolic links are resolved first, so a
link cannot lead out). URLs are fetched only over http(s) from public addresses (or configured
trusted networks): every address a host name resolves to is checked, the connection is made to
the checked address, and each redirect opens a new, re-checked connection. Downloads have a
time limit and a size cap. Environment proxies are not used, since they would hide the address.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import ipaddress
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from plugin.config import Settings, get_settings
from plugin.errors import AccessDeniedError, ImageError, InvalidInputError
from plugin.limits import MAX_PATH_CHARS

__all__ = ["read_local_file", "resolve_local_path", "resolve_local_dir", "fetch_url", "decode_data_uri", "decode_base64",
           "shown"]

_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*?),(?P<data>.*)$", re.S)


def shown(path: str | os.PathLike, settings: Settings | None = None) -> str:
    """A path as an error or result may show it to a remote caller: relative to the root it lies
    in (`photos/cat.jpg`), else its name alone; never the server's folders."""
    text = os.fspath(path)
    try:
        real = Path(os.path.realpath(text))
        for root in (settings or get_settings()).readable_roots:
            if real.is_relative_to(root):
                return real.relative_to(root).as_posix()[-200:] or "."
    except (OSError, ValueError):
        pass
    return os.path.basename(text)[-200:]


def _below_roots(path: str | os.PathLike, what: str, settings: Settings) -> tuple[str, Path]:
    text = os.fspath(path)
    if not isinstance(text, str):
        raise InvalidInputError(f"Expected a path to the {what} as text. Received: {type(text).__name__}")
    name = os.path.basename(text)[-200:]
    if "\x00" in text:
        raise InvalidInputError(f"Expected a path to the {what}. Received: a path containing a NUL byte.")
    if len(text) > MAX_PATH_CHARS:
        raise InvalidInputError(f"Expected a path to the {what} of at most {MAX_PATH_CHARS} characters. "
                                f"Received: {len(text):,} characters.")
    try:
        real = Path(os.path.realpath(text))
        inside = any(real.is_relative_to(root) for root in settings.readable_roots)
        exists = inside and real.exists()
    except (OSError, ValueError) as exc:  # a name too long for the file system, a loop of links
        raise InvalidInputError(f"Expected a path to the {what} that the file system can use. Received: {name!r} "
                                f"({os.strerror(exc.errno) if getattr(exc, 'errno', None) else type(exc).__name__}).") from exc
    if not inside:
        raise AccessDeniedError(
            f"Expected the {what} to lie below one of the allowed folders. Received: {name!r}, which does not. "
            "Move it there or add its folder to the roots (CNNLAB_IMAGE_ROOTS or --image-root).",
            key="path_outside_roots", name=name)
    if not exists:
        raise InvalidInputError(f"Expected the {what} to exist. Received: {shown(real, settings)!r}, which does not exist.",
                                key="path_missing", name=name)
    return text, real


def resolve_local_dir(path: str | os.PathLike, *, what: str = "folder", settings: Settings | None = None) -> Path:
    """Return the real path of an existing folder below one of the allowed roots."""
    text, real = _below_roots(path, what, settings or get_settings())
    if not real.is_dir():
        raise InvalidInputError(f"Expected the {what} to be a folder. Received: {shown(real)!r}, which is not a folder.")
    return real


def resolve_local_path(path: str | os.PathLike, *, what: str = "file", settings: Settings | None = None) -> Path:
    """Return the real path of an existing regular file below one of the allowed roots.

    Args:
        path: a path, absolute or relative to the working directory.
        what: what the file is, for error messages ("image", "model file").
        settings: limits to apply; default: the settings in force.

    Returns:
        The resolved path.
    """
    text, real = _below_roots(path, what, settings or get_settings())
    if not real.is_file():
        raise InvalidInputError(f"Expected the {what} to be a regular file. Received: {shown(real)!r}, which is not a file.")
    return real


def read_local_file(path: str | os.PathLike, *, max_bytes: int, what: str = "file",
                    settings: Settings | None = None) -> bytes:
    """Read a file below the allowed roots, refusing files over `max_bytes`."""
    real = resolve_local_path(path, what=what, settings=settings)
    size = real.stat().st_size
    if size > max_bytes:
        raise ImageError(f"Expected the {what} to be at most {max_bytes:,} bytes. Received: {shown(real)!r}, {size:,} bytes.")
    with open(real, "rb") as handle:
        return handle.read(max_bytes + 1)


def decode_data_uri(uri: str, *, max_bytes: int) -> tuple[bytes, str | None]:
    """Decode a `data:` URI; return its bytes and media type."""
    match = _DATA_URI.match(uri.strip())
    if not match:
        raise ImageError(f"Expected a data URI like 'data:image/png;base64,...'. Received: {uri[:60]!r}...")
    params = match["params"] or ""
    data = match["data"]
    if ";base64" in params:
        raw = decode_base64(data, max_bytes=max_bytes, what="data URI")
    else:
        raw = urllib.parse.unquote_to_bytes(data)
    if len(raw) > max_bytes:
        raise ImageError(f"Expected an image of at most {max_bytes:,} bytes. Received: a data URI of {len(raw):,} bytes.")
    return raw, match["mime"]


def decode_base64(text: str, *, max_bytes: int, what: str = "base64 string") -> bytes:
    """Decode standard or URL-safe base64, refusing oversized input before decoding."""
    compact = re.sub(r"\s+", "", text)
    if len(compact) * 3 // 4 > max_bytes:
        raise ImageError(f"Expected an image of at most {max_bytes:,} bytes. Received: a {what} of about {len(compact) * 3 // 4:,} bytes.")
    compact += "=" * (-len(compact) % 4)
    try:
        if "-" in compact or "_" in compact:
            return base64.urlsafe_b64decode(compact)
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageError(f"Expected valid base64. Received: a {what} that does not decode ({exc}).") from exc


def _address_allowed(address: str, settings: Settings) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip in network for network in settings.trusted_networks):
        return True
    return ip.is_global and not ip.is_multicast


def _guarded_create_connection(settings: Settings):
    """Make a `socket.create_connection` replacement that connects only to allowed addresses."""

    def create_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None, **_):
        host, port = address
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise ImageError(f"Expected a URL whose host resolves. Received host {host!r}: {exc}.") from exc
        refused = [info[4][0] for info in infos if not _address_allowed(info[4][0], settings)]
        if refused:
            raise AccessDeniedError(
                f"Expected a URL to a public address. Received host {host!r}, which resolves to "
                f"{refused[0]} (loopback, private, link-local or reserved): refused.", key="url_not_public", host=host)
        last_error: OSError | None = None
        for family, socktype, proto, _name, sockaddr in infos:
            sock = socket.socket(family, socktype, proto)
            try:
                if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                    sock.settimeout(timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                last_error = exc
                sock.close()
        raise last_error or OSError(f"could not connect to {host!r}")

    return create_connection


def _opener(settings: Settings) -> urllib.request.OpenerDirector:
    create_connection = _guarded_create_connection(settings)

    class GuardedHTTPConnection(http.client.HTTPConnection):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._create_connection = create_connection

    class GuardedHTTPSConnection(http.client.HTTPSConnection):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._create_connection = create_connection

    class GuardedHTTPHandler(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(GuardedHTTPConnection, req)

    class GuardedHTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(GuardedHTTPSConnection, req, context=self._context)

    class CheckedRedirectHandler(urllib.request.HTTPRedirectHandler):
        max_redirections = settings.max_redirects

        def http_error_302(self, req, fp, code, msg, headers):
            location = headers.get("location") or headers.get("uri")
            if location:
                _check_url_form(urllib.parse.urljoin(req.full_url, location), redirected_from=req.full_url)
            return super().http_error_302(req, fp, code, msg, headers)

        http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), GuardedHTTPHandler, GuardedHTTPSHandler, CheckedRedirectHandler
    )


def _check_url_form(url: str, *, redirected_from: str | None = None) -> None:
    parts = urllib.parse.urlsplit(url)
    via = f" (redirected from {redirected_from!r})" if redirected_from else ""
    if parts.scheme not in ("http", "https"):
        raise AccessDeniedError(f"Expected an http or https URL. Received: {url!r}{via}.", key="url_scheme", url=url[:200])
    if not parts.hostname:
        raise InvalidInputError(f"Expected a URL with a host name. Received: {url!r}{via}.")
    if parts.username or parts.password:
        raise InvalidInputError(f"Expected a URL without user name or password. Received: {url!r}{via}.")


def fetch_url(url: str, *, settings: Settings | None = None) -> bytes:
    """Download an image from a public http(s) URL, within the time and size limits.

    Args:
        url: an http or https URL.
        settings: limits to apply; default: the settings in force.

    Returns:
        The response body.
    """
    settings = settings or get_settings()
    _check_url_form(url)
    limit = settings.max_image_bytes
    deadline = time.monotonic() + settings.url_timeout_s
    request = urllib.request.Request(url, headers={"User-Agent": "cnn-study-lab", "Accept": "image/*"})
    try:
        with _opener(settings).open(request, timeout=settings.url_timeout_s) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise ImageError(f"Expected an image of at most {limit:,} bytes. Received: {url!r} declares {int(declared):,} bytes.")
            chunks, size = [], 0
            while chunk := response.read(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise ImageError(f"Expected an image of at most {limit:,} bytes. Received: {url!r} sent more.")
                if time.monotonic() > deadline:
                    raise ImageError(f"Expected {url!r} to download within {settings.url_timeout_s:g} s. It took longer.")
                chunks.append(chunk)
            return b"".join(chunks)
    except urllib.error.HTTPError as exc:
        raise ImageError(f"Expected {url!r} to answer with an image. Received: HTTP {exc.code} {exc.reason}.",
                         key="url_http_error", url=url[:200], code=exc.code) from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, (AccessDeniedError, ImageError)):
            raise exc.reason from exc
        raise ImageError(f"Expected {url!r} to be reachable. Received: {exc.reason}.", key="url_unreachable",
                         url=url[:200]) from exc
    except TimeoutError as exc:
        raise ImageError(f"Expected {url!r} to answer within {settings.url_timeout_s:g} s. It did not.",
                         key="url_timeout", url=url[:200], seconds=f"{settings.url_timeout_s:g}") from exc
    except (http.client.HTTPException, ConnectionError) as exc:
        raise ImageError(f"Expected {url!r} to answer over HTTP. Received: {type(exc).__name__}: {exc}.") from exc
