"""Read a PyTorch `.pth` state dict into `{name: numpy array}` without torch, running nothing.

Two on-disk formats are supported:

* the **legacy** format written by ``torch.save`` before 1.6 (or with
  ``_use_new_zipfile_serialization=False``): five pickles back to back -- the
  magic number ``0x1950a86a20f9469cfc6c``, the protocol version ``1001``, a
  ``sys_info`` dict, the object itself (tensors as persistent ids) and the sorted
  list of storage keys -- followed, for every key in that order, by an
  int64 little-endian element count and the raw storage bytes;
* the **zip** format (``archive/data.pkl`` + ``archive/data/<key>``).

Security model: every pickle is read by `_RestrictedUnpickler`, whose
``find_class`` resolves ONLY the handful of globals a plain tensor state dict
needs, and maps each of them to a local, numpy-producing stand-in. No torch
object, and no other callable, can ever be reached. Any other global raises
`UnsafeModelFileError` at the ``GLOBAL`` opcode, i.e. before the ``REDUCE``
that would call it; a file that is not a well-formed state dict raises `InvalidInputError`. A static opcode scan (``pickletools.genops``) rejects the
file even earlier, before unpickling starts, whenever a ``GLOBAL``/``INST``
names something outside the allow-list or an extension-registry opcode is
used.  Tensor views are bounds-checked against their storage before
``as_strided`` is used, so a crafted offset/stride cannot read foreign memory.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import pickletools
import struct
import zipfile

import numpy as np

from plugin.errors import PthFormatError, UnsafePthError

__all__ = ["load_pth", "DEFAULT_MAX_BYTES"]

#: Default upper bound on the file size (and on the sum of zip entries).
DEFAULT_MAX_BYTES = 512 * 1024 * 1024

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001


def _unsafe(detail: str) -> UnsafePthError:
    return UnsafePthError(f"Expected a .pth file holding only tensors. Received one that asks for more ({detail}): "
                          "refused before anything ran.", key="unsafe_model", name=".pth")


def _malformed(detail: str) -> PthFormatError:
    return PthFormatError(f"Expected a PyTorch .pth state dict. Received a file that is not one ({detail}).")


# ---------------------------------------------------------------------------
# Stand-ins for the torch globals.
# ---------------------------------------------------------------------------


class _StorageTag:
    """Stand-in for ``torch.FloatStorage`` & co: only carries a numpy dtype."""

    __slots__ = ("name", "dtype")

    def __init__(self, name, dtype):
        self.name = name
        self.dtype = np.dtype(dtype)

    def __repr__(self):
        return f"<storage tag torch.{self.name} -> {self.dtype}>"

    def __reduce__(self):  # pragma: no cover - never pickled back
        raise TypeError("not picklable")


# Little-endian dtypes; the files are checked to be little-endian.
_STORAGE_TAGS = {
    name: _StorageTag(name, dt)
    for name, dt in {
        "FloatStorage": "<f4",
        "DoubleStorage": "<f8",
        "HalfStorage": "<f2",
        "LongStorage": "<i8",
        "IntStorage": "<i4",
        "ShortStorage": "<i2",
        "CharStorage": "i1",
        "ByteStorage": "u1",
        "BoolStorage": "?",
    }.items()
}


class _Storage:
    """A storage announced by a persistent id; bytes arrive later (legacy)."""

    __slots__ = ("key", "dtype", "numel", "array")

    def __init__(self, key, dtype, numel):
        self.key = key
        self.dtype = dtype
        self.numel = numel
        self.array = None


class _StorageView:
    """Legacy ``view_metadata``: (root storage, element offset, element count)."""

    __slots__ = ("root", "offset", "numel")

    def __init__(self, root, offset, numel):
        self.root = root
        self.offset = offset
        self.numel = numel


class _PendingTensor:
    """Result of ``_rebuild_tensor_v2``; turned into an ndarray once bytes are in."""

    __slots__ = ("storage", "offset", "size", "stride")

    def __init__(self, storage, offset, size, stride):
        self.storage = storage
        self.offset = offset
        self.size = size
        self.stride = stride

    def __setstate__(self, state):  # BUILD on a tensor is never legitimate here
        raise _unsafe("BUILD/__setstate__ on a tensor is not allowed")


def _int_tuple(value, what):
    if not isinstance(value, (tuple, list)) or not all(
        type(v) is int for v in value
    ):
        raise _malformed(f"tensor {what} must be a tuple of ints, got {value!r}")
    return tuple(value)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    """Stand-in for ``torch._utils._rebuild_tensor_v2`` (stores, never computes)."""
    if not isinstance(storage, (_Storage, _StorageView)):
        raise _unsafe(f"tensor storage must come from a persistent id, got {type(storage)!r}")
    if type(storage_offset) is not int:
        raise _malformed("storage offset must be an int")
    return _PendingTensor(storage, storage_offset, _int_tuple(size, "size"),
                          _int_tuple(stride, "stride"))


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    """Stand-in for ``torch._utils._rebuild_parameter``: a Parameter is its data."""
    if not isinstance(data, _PendingTensor):
        raise _unsafe("parameter data must be a tensor")
    return data


def _torch_size(iterable=()):
    return tuple(int(v) for v in iterable)


#: (module, name) -> local object. Nothing else can be named by the pickle.
_ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch", "Size"): _torch_size,
}
_ALLOWED_GLOBALS.update({("torch", n): tag for n, tag in _STORAGE_TAGS.items()})

_FORBIDDEN_OPCODES = {"EXT1", "EXT2", "EXT4"}


def _static_scan(data: bytes, start: int = 0) -> None:
    """Reject before unpickling: unknown GLOBAL/INST names, extension opcodes.

    STACK_GLOBAL takes its names from the stack; those are caught by
    ``find_class`` at unpickling time (still before anything is called).
    """
    stream = io.BytesIO(data)  # shares the buffer, no copy
    stream.seek(start)
    try:
        for op, arg, _pos in pickletools.genops(stream):
            if op.name in _FORBIDDEN_OPCODES:
                raise _unsafe(f"pickle opcode {op.name} is not allowed")
            if op.name in ("GLOBAL", "INST"):
                module, _, name = str(arg).partition(" ")
                if (module, name) not in _ALLOWED_GLOBALS:
                    raise _unsafe(f"global {module}.{name} is not allowed")
    except UnsafePthError:
        raise
    except Exception as exc:  # malformed opcode stream
        raise _malformed(f"malformed pickle stream: {exc}") from exc


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, persistent_load=None):
        super().__init__(file, encoding="utf-8")
        self._persistent = persistent_load

    def find_class(self, module, name):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise _unsafe(f"global {module}.{name} is not allowed") from None

    def persistent_load(self, pid):
        if self._persistent is None:
            raise _unsafe("persistent id where none is expected")
        return self._persistent(pid)


# ---------------------------------------------------------------------------
# Materialising tensors.
# ---------------------------------------------------------------------------


def _materialise(t: _PendingTensor, max_bytes: int) -> np.ndarray:
    st = t.storage
    base_offset = 0
    if isinstance(st, _StorageView):
        base_offset, limit, st = st.offset, st.numel, st.root
    else:
        limit = st.numel
    arr = st.array
    if arr is None:
        raise _malformed(f"storage {st.key!r} has no data")
    if base_offset < 0 or base_offset + limit > arr.size:
        raise _malformed(f"storage view out of range in {st.key!r}")
    size, stride, offset = t.size, t.stride, t.offset
    if len(size) != len(stride):
        raise _malformed("size and stride differ in length")
    if offset < 0 or any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise _malformed("negative offset, size or stride")
    n = 1
    for s in size:
        n *= s
    if n * arr.itemsize > max_bytes:  # e.g. a huge zero-stride "expanded" view
        raise _malformed(f"tensor of shape {size} exceeds the size limit")
    if n == 0:
        return np.zeros(size, dtype=arr.dtype)
    last = offset + sum((sz - 1) * sd for sz, sd in zip(size, stride))
    if last >= limit:
        raise _malformed(
            f"tensor reaches element {last} of a storage of {limit} elements")
    flat = arr[base_offset: base_offset + limit]
    item = flat.itemsize
    view = np.lib.stride_tricks.as_strided(
        flat[offset:], shape=size, strides=tuple(s * item for s in stride),
        writeable=False)
    # Copy into native byte order, C-contiguous (np.array keeps 0-d shapes,
    # np.ascontiguousarray would turn them into 1-d).
    return np.array(view, dtype=arr.dtype.newbyteorder("="), order="C", copy=True)


def _resolve(obj, max_bytes, depth=0):
    if depth > 16:
        raise _malformed("object nested too deeply")
    if isinstance(obj, _PendingTensor):
        return _materialise(obj, max_bytes)
    if isinstance(obj, dict):
        out = collections.OrderedDict() if isinstance(obj, collections.OrderedDict) else {}
        for k, v in obj.items():
            out[k] = _resolve(v, max_bytes, depth + 1)
        return out
    if isinstance(obj, list):
        return [_resolve(v, max_bytes, depth + 1) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_resolve(v, max_bytes, depth + 1) for v in obj)
    return obj


def _unpickle(stream, persistent_load=None):
    """Run the restricted unpickler; turn stray errors into PthFormatError."""
    try:
        return _RestrictedUnpickler(stream, persistent_load).load()
    except (UnsafePthError, PthFormatError):
        raise
    except Exception as exc:  # e.g. calling a storage tag, truncated stream
        raise _malformed(f"cannot unpickle: {type(exc).__name__}: {exc}") from exc


def _flatten_state_dict(obj):
    """Accept a state dict, or {'state_dict': ...}/{'model': ...} wrappers."""
    if isinstance(obj, dict) and obj and all(isinstance(v, np.ndarray) for v in obj.values()):
        return dict(obj)
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if key in obj and isinstance(obj[key], dict):
                return _flatten_state_dict(obj[key])
    raise _malformed("file does not hold a flat {name: tensor} state dict")


# ---------------------------------------------------------------------------
# Legacy (pre-1.6) format.
# ---------------------------------------------------------------------------


def _load_legacy(data: bytes, max_bytes: int) -> dict:
    bio = io.BytesIO(data)

    def small_pickle():
        _static_scan(data, bio.tell())
        return _unpickle(bio)

    magic = small_pickle()
    if magic != LEGACY_MAGIC_NUMBER:
        raise _malformed("bad magic number")
    protocol = small_pickle()
    if protocol != LEGACY_PROTOCOL_VERSION:
        raise _malformed(f"unsupported legacy protocol {protocol!r}")
    sys_info = small_pickle()
    if not isinstance(sys_info, dict) or sys_info.get("little_endian") is not True:
        raise _malformed(f"unsupported sys_info {sys_info!r}")

    storages: dict[str, _Storage] = {}

    def persistent_load(pid):
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise _unsafe(f"unsupported persistent id {pid!r}")
        if len(pid) != 6:
            raise _malformed(f"bad storage persistent id {pid!r}")
        _, tag, key, _location, numel, view_metadata = pid
        if not isinstance(tag, _StorageTag) or not isinstance(key, str) or type(numel) is not int:
            raise _unsafe(f"bad storage persistent id {pid!r}")
        root = storages.get(key)
        if root is None:
            root = storages[key] = _Storage(key, tag.dtype, numel)
        elif root.dtype != tag.dtype:
            raise _malformed(f"storage {key!r} used with two dtypes")
        if view_metadata is None:
            return root
        _view_key, offset, view_size = view_metadata
        return _StorageView(root, int(offset), int(view_size))

    start = bio.tell()
    _static_scan(data, start)
    obj = _unpickle(bio, persistent_load)
    keys = small_pickle()
    if (not isinstance(keys, list) or not all(isinstance(k, str) for k in keys)
            or len(keys) != len(set(keys)) or set(keys) != set(storages)):
        raise _malformed("storage key list does not match the persistent ids")

    for key in keys:
        st = storages[key]
        header = bio.read(8)
        if len(header) != 8:
            raise _malformed("truncated storage header")
        (numel,) = struct.unpack("<q", header)
        if numel != st.numel:
            raise _malformed(f"storage {key!r}: header says {numel}, pickle said {st.numel}")
        nbytes = numel * st.dtype.itemsize
        raw = bio.read(nbytes)
        if len(raw) != nbytes:
            raise _malformed(f"storage {key!r} truncated")
        st.array = np.frombuffer(raw, dtype=st.dtype)
    if bio.tell() != len(data):
        raise _malformed(f"{len(data) - bio.tell()} trailing bytes after the storages")
    return _flatten_state_dict(_resolve(obj, max_bytes))


# ---------------------------------------------------------------------------
# Zip format (torch >= 1.6).
# ---------------------------------------------------------------------------


def _load_zip(path: str, max_bytes: int) -> dict:
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if sum(i.file_size for i in infos) > max_bytes:
            raise _malformed("uncompressed archive exceeds the size limit")
        pkl = [i.filename for i in infos if i.filename.endswith("/data.pkl")
               and i.filename.count("/") == 1]
        if len(pkl) != 1:
            raise _malformed("zip archive without exactly one <root>/data.pkl")
        prefix = pkl[0][: -len("data.pkl")]
        names = {i.filename for i in infos}
        byteorder = "little"
        if prefix + "byteorder" in names:
            byteorder = zf.read(prefix + "byteorder").decode("ascii").strip()
        if byteorder != "little":
            raise _malformed(f"unsupported byte order {byteorder!r}")
        storages: dict[str, _Storage] = {}

        def persistent_load(pid):
            if not isinstance(pid, tuple) or len(pid) != 5 or pid[0] != "storage":
                raise _unsafe(f"unsupported persistent id {pid!r}")
            _, tag, key, _location, numel = pid
            if not isinstance(tag, _StorageTag) or not isinstance(key, str) or type(numel) is not int:
                raise _unsafe(f"bad storage persistent id {pid!r}")
            if not key.isalnum():
                raise _malformed(f"bad storage key {key!r}")
            st = storages.get(key)
            if st is None:
                name = f"{prefix}data/{key}"
                if name not in names:
                    raise _malformed(f"missing storage {name}")
                raw = zf.read(name)
                if len(raw) != numel * tag.dtype.itemsize:
                    raise _malformed(f"storage {key!r} has {len(raw)} bytes, expected "
                                         f"{numel * tag.dtype.itemsize}")
                st = storages[key] = _Storage(key, tag.dtype, numel)
                st.array = np.frombuffer(raw, dtype=tag.dtype)
            elif st.dtype != tag.dtype:
                raise _malformed(f"storage {key!r} used with two dtypes")
            return st

        data = zf.read(pkl[0])
        _static_scan(data)
        obj = _unpickle(io.BytesIO(data), persistent_load)
    return _flatten_state_dict(_resolve(obj, max_bytes))


# ---------------------------------------------------------------------------
# Public API.
# ---------------------------------------------------------------------------


def detect_format(path) -> str:
    """'zip' or 'legacy' (from the first bytes)."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head[:2] == b"PK":
        return "zip"
    if head[:1] == b"\x80":
        return "legacy"
    raise _malformed("neither a zip archive nor a pickle stream")


def load_pth(path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> dict:
    """Read a .pth state dict as ``{name: np.ndarray}`` (no torch, no code run).

    Raises :class:`UnsafePthError` for any global outside the allow-list and
    :class:`PthFormatError` for malformed or oversize files.
    """
    path = os.fspath(path)
    size = os.path.getsize(path)
    if size > max_bytes:
        raise _malformed(f"{path}: {size} bytes exceeds the limit of {max_bytes}")
    fmt = detect_format(path)
    if fmt == "zip":
        return _load_zip(path, max_bytes)
    with open(path, "rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _malformed("file grew beyond the size limit while reading")
    return _load_legacy(data, max_bytes)
