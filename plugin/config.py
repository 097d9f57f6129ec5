"""Settings: where the engine may read and write, and the bounds that depend on where it runs.

Defaults come from environment variables (read when first needed, not at import) and can be
changed at run time with `configure()`; the doors (command line, MCP server, web app) map their
flags onto it. Limits of one call (models, images, top_k) are not settings: see `plugin.limits`.

    CNNLAB_IMAGE_ROOTS      folders local files may be read from (os.pathsep-separated);
                            default: the working directory and the bundled examples
    CNNLAB_OUTPUT_DIR       where diagrams and reports are written; default: ./reports
    CNNLAB_TRUSTED_NETWORKS networks URLs may reach besides public addresses (comma-separated
                            CIDRs, e.g. "10.0.0.0/8"); default: none
    CNNLAB_ALLOWED_HOSTS    host names the web app answers to besides the ones it is served on
                            (comma-separated; "*.example.org" matches sub-domains; "*" turns the
                            check off, e.g. behind a proxy that checks hosts itself); default: none
    CNNLAB_<FIELD>          any numeric or yes/no field below, e.g. CNNLAB_MAX_MODEL_BYTES=2147483648,
                            CNNLAB_CONCURRENT_RUNS=4, CNNLAB_AUTO_EXPORT=0
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import ipaddress
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from plugin.errors import InvalidInputError

__all__ = ["Settings", "EXAMPLES_DIR", "SESSIONS", "get_settings", "configure", "reset_settings", "granted_roots"]

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
SESSIONS = "sessions"
"""The output folder's folder of web sessions (`Settings.sessions_dir`)."""

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_HOST_PATTERN = re.compile(r"\*|(\*\.)?[a-z0-9.-]+|\[?[0-9a-f:]+\]?")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Limits and locations for one process.

    Attributes:
        image_roots: folders below which local image, weights and model files may be read.
        output_dir: folder that generated files are written to.
        trusted_networks: networks that URLs may reach in addition to public addresses.
        allowed_hosts: host names the web app answers to (Host and Origin headers) besides
            localhost and the address it listens on: a guard against DNS rebinding.
        max_image_bytes: largest encoded image accepted (file, download, upload).
        max_image_pixels: largest decoded image accepted (width x height); guards against
            decompression bombs.
        max_working_pixels: an image larger than this is scaled down as it is read (the models
            read 224 to 299 pixels a side, reports show 1024 at most), bounding the memory a
            request holds.
        max_model_bytes: largest model or weights file accepted (and uploaded to the web app).
        max_upload_bytes: most bytes of uploads to the web app that no event has used yet, with
            those being received (past it an upload is refused, 507).
        unused_upload_s: seconds an upload no event has used is kept (a photo chosen, then
            classified a while later); then it is deleted.
        max_request_bytes_in_flight: most bytes of request bodies the web app, its API and its MCP
            endpoint read and answer at once (past it a request is refused, 503 with Retry-After,
            before its body is read; bodies under 1 MiB always pass).
        max_model_parameters: most parameters a model file's architecture may have (VGG19 has 144
            million); counted before any weight is allocated.
        max_model_input_pixels: largest input (height x width) a model file may ask for.
        max_onnx_cache_bytes: most bytes of ONNX exports kept (least recently used forgotten first).
        max_derived_cache_bytes: most bytes kept of what is derived from the code and an input
            (architecture facts, diagrams, Markdown pictures; least recently used forgotten first).
        max_call_seconds: longest an evaluation runs in one call while others may wait for the
            engine; it then stops with its log kept, and the same call resumes it.
        url_timeout_s: seconds allowed for a whole image download.
        max_redirects: redirects followed per download, each one re-checked.
        model_cache_size: built models kept in memory (least recently used are dropped).
        concurrent_runs: requests the web app runs at once (every event and API endpoint that runs
            the engine shares this limit; the rest wait in its queue).
        queue_size: requests that may wait for the engine before more are turned away with a
            request to retry later: the web app's queue holds this many, and the MCP door this many
            calls in progress (waiting or running), over all its connections together.
        calls_per_connection: MCP calls one connection (an SSE session, a stdio client) may have in
            progress (waiting or running) at once; more are turned away with a request to retry later.
        batch_window_ms: requests for one model that arrive within this many milliseconds of each
            other (or while it is busy) run as one batch.
        auto_export: whether backend="auto" exports a model to ONNX in the background the first
            time it runs (else it stays on Keras until exported with backend="onnx").
    """

    image_roots: tuple[Path, ...]
    output_dir: Path
    trusted_networks: tuple[IpNetwork, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    max_image_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 50_000_000
    max_working_pixels: int = 4_000_000
    max_model_bytes: int = 1024 * 1024 * 1024
    max_upload_bytes: int = 4 * 1024 * 1024 * 1024
    unused_upload_s: float = 900.0
    max_request_bytes_in_flight: int = 128 * 1024 * 1024
    max_model_parameters: int = 250_000_000
    max_model_input_pixels: int = 1024 * 1024
    max_onnx_cache_bytes: int = 4 * 1024**3
    max_derived_cache_bytes: int = 512 * 1024**2
    max_call_seconds: float = 600.0
    url_timeout_s: float = 10.0
    max_redirects: int = 5
    model_cache_size: int = 6
    concurrent_runs: int = 4
    queue_size: int = 64
    calls_per_connection: int = 8
    batch_window_ms: float = 5.0
    auto_export: bool = True

    @property
    def sessions_dir(self) -> Path:
        """Where the web app keeps each page session's files, one private folder per session."""
        return self.output_dir / SESSIONS

    @property
    def readable_roots(self) -> tuple[Path, ...]:
        """Where files may be read: the image roots, the models fine_tune wrote into the output
        folder, and the folders granted to the call in progress (`granted_roots`: a web session's
        own folder). Below `sessions_dir` only a granted session folder opens anything."""
        return (*self.image_roots, self.output_dir / "models", *_granted.get())


_granted: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar("cnnlab_granted_roots", default=())


@contextlib.contextmanager
def granted_roots(*folders: str | os.PathLike) -> Iterator[None]:
    """Let the code in the block (this thread or task only) read below `folders` too: a web
    session's own uploads and models, never another's."""
    token = _granted.set((*_granted.get(), *(Path(folder).expanduser().resolve() for folder in folders)))
    try:
        yield
    finally:
        _granted.reset(token)


_lock = threading.Lock()
_settings: Settings | None = None


def _parse_networks(value: str | list | tuple) -> tuple[IpNetwork, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    networks = []
    for item in items:
        if isinstance(item, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
            networks.append(item)
            continue
        text = str(item).strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise InvalidInputError(
                f"Expected a network in CIDR form such as '10.0.0.0/8'. Received: {text!r}"
            ) from exc
    return tuple(networks)


def _parse_hosts(value: str | list | tuple) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    hosts = tuple(str(item).strip().lower().rstrip(".") for item in items if str(item).strip())
    bad = [host for host in hosts if not _HOST_PATTERN.fullmatch(host)]
    if bad:
        raise InvalidInputError(f"Expected host names such as 'lab.example.org', '*.example.org' or '*'. Received: {bad[0][:80]!r}")
    return hosts


def _resolve_dirs(paths) -> tuple[Path, ...]:
    if isinstance(paths, (str, os.PathLike)):
        paths = str(paths).split(os.pathsep)
    return tuple(Path(p).expanduser().resolve() for p in paths if str(p).strip())


_YES, _NO = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _fields_from_environment() -> dict:
    """The numeric and yes/no fields set as CNNLAB_<FIELD> in the environment."""
    found: dict[str, Any] = {}
    for field in dataclasses.fields(Settings):
        text = os.environ.get(f"CNNLAB_{field.name.upper()}")
        if text is not None and field.type == "bool":
            if text.strip().lower() not in _YES + _NO:
                raise InvalidInputError(f"Expected 1 or 0 (yes or no) in CNNLAB_{field.name.upper()}. Received: {text[:40]!r}")
            found[field.name] = text.strip().lower() in _YES
            continue
        if text is None or field.type not in ("int", "float"):
            continue
        try:
            value = int(text) if field.type == "int" else float(text)
        except ValueError as exc:
            raise InvalidInputError(f"Expected a number in CNNLAB_{field.name.upper()}. Received: {text[:40]!r}") from exc
        if value <= 0:
            raise InvalidInputError(f"Expected a positive number in CNNLAB_{field.name.upper()}. Received: {text[:40]!r}")
        found[field.name] = value
    return found


def _from_environment() -> Settings:
    roots = os.environ.get("CNNLAB_IMAGE_ROOTS")
    return Settings(
        image_roots=_resolve_dirs(roots) if roots else (Path.cwd().resolve(), EXAMPLES_DIR),
        output_dir=Path(os.environ.get("CNNLAB_OUTPUT_DIR") or "reports").expanduser().resolve(),
        trusted_networks=_parse_networks(os.environ.get("CNNLAB_TRUSTED_NETWORKS", "")),
        allowed_hosts=_parse_hosts(os.environ.get("CNNLAB_ALLOWED_HOSTS", "")),
        **_fields_from_environment(),
    )


def get_settings() -> Settings:
    """Return the settings in force, reading the environment the first time."""
    global _settings
    with _lock:
        if _settings is None:
            _settings = _from_environment()
        return _settings


def configure(**changes) -> Settings:
    """Change settings for this process and return the new ones.

    Args:
        **changes: any `Settings` field; `image_roots` and `output_dir` take paths,
            `trusted_networks` takes CIDR strings.

    Returns:
        The settings now in force.
    """
    unknown = set(changes) - {f.name for f in dataclasses.fields(Settings)}
    if unknown:
        raise InvalidInputError(
            f"Expected settings among {sorted(f.name for f in dataclasses.fields(Settings))}. "
            f"Received: {sorted(unknown)}"
        )
    if "image_roots" in changes:
        changes["image_roots"] = _resolve_dirs(changes["image_roots"])
    if "output_dir" in changes:
        changes["output_dir"] = Path(changes["output_dir"]).expanduser().resolve()
    if "trusted_networks" in changes:
        changes["trusted_networks"] = _parse_networks(changes["trusted_networks"])
    if "allowed_hosts" in changes:
        changes["allowed_hosts"] = _parse_hosts(changes["allowed_hosts"])
    global _settings
    current = get_settings()
    with _lock:
        _settings = dataclasses.replace(current, **changes)
        return _settings


def reset_settings() -> None:
    """Forget run-time changes; the next `get_settings()` reads the environment again."""
    global _settings
    with _lock:
        _settings = None
