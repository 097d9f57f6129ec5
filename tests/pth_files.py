"""Write PyTorch-style .pth files without torch, for the reader's tests: well-formed state dicts
(legacy and zip formats, any dtype, offset and stride) and hostile ones whose pickle would run code."""

import os
import pickle
import struct
import zipfile

import numpy as np

from plugin.engine.models import pth


class G:  # GLOBAL module.name
    def __init__(self, module, name):
        self.module, self.name = module, name


class R:  # REDUCE callable(*args)
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args


class P:  # BINPERSID
    def __init__(self, pid):
        self.pid = pid


class OD:  # collections.OrderedDict(items)
    def __init__(self, items):
        self.items = list(items)


def _enc(o, out):
    if isinstance(o, G):
        out += b"c" + o.module.encode() + b"\n" + o.name.encode() + b"\n"
    elif isinstance(o, R):
        _enc(o.fn, out)
        _enc(tuple(o.args), out)
        out += b"R"
    elif isinstance(o, P):
        _enc(o.pid, out)
        out += b"Q"
    elif isinstance(o, OD):
        _enc(R(G("collections", "OrderedDict")), out)
        if o.items:
            out += b"("
            for k, v in o.items:
                _enc(k, out)
                _enc(v, out)
            out += b"u"
    elif o is None:
        out += b"N"
    elif o is True:
        out += b"\x88"
    elif o is False:
        out += b"\x89"
    elif isinstance(o, int):
        if -(2**31) <= o < 2**31:
            out += b"J" + struct.pack("<i", o)
        else:
            raw = o.to_bytes((o.bit_length() + 8) // 8, "little", signed=True)
            out += b"\x8a" + bytes([len(raw)]) + raw
    elif isinstance(o, str):
        raw = o.encode()
        out += b"X" + struct.pack("<I", len(raw)) + raw
    elif isinstance(o, tuple):
        if not o:
            out += b")"
        else:
            out += b"("
            for v in o:
                _enc(v, out)
            out += b"t"
    else:
        raise TypeError(type(o))


def dumps(o):
    out = bytearray(b"\x80\x02")
    _enc(o, out)
    out += b"."
    return bytes(out)


TAG = {np.dtype("<f4"): "FloatStorage", np.dtype("<f2"): "HalfStorage",
       np.dtype("<i8"): "LongStorage"}


def tensor(pid, offset, size, stride):
    return R(G("torch._utils", "_rebuild_tensor_v2"), P(pid), offset, tuple(size),
             tuple(stride), False, OD([]))


def make_case():
    """Storages + a state dict exercising dtypes, offsets, strides, sharing, 0-d."""
    rng = np.random.default_rng(0)
    s0 = rng.standard_normal(64).astype("<f4")   # shared by three tensors
    s1 = rng.standard_normal(10).astype("<f2")
    s2 = np.array([7, -3, 2**40], dtype="<i8")
    storages = {"0": s0, "1": s1, "2": s2}
    spec = {
        # name: (key, offset, size, stride)
        "conv.weight": ("0", 0, (4, 2, 2, 2), (8, 4, 2, 1)),       # contiguous
        "conv_t.weight": ("0", 0, (2, 2, 2, 4), (1, 2, 4, 8)),     # transposed view
        "fc.bias": ("0", 40, (6,), (1,)),                          # storage offset
        "half": ("1", 1, (3, 3), (3, 1)),
        "count": ("2", 2, (), ()),                                 # 0-d int64
        "longs": ("2", 0, (2,), (1,)),
    }
    expected = {}
    for name, (key, off, size, stride) in spec.items():
        arr = storages[key]
        expected[name] = np.array(np.lib.stride_tricks.as_strided(
            arr[off:], shape=size, strides=tuple(s * arr.itemsize for s in stride)))
    return storages, spec, expected


def write_legacy(path, storages, spec, obj=None, *, sys_info=None):
    pids = {k: ("storage", G("torch", TAG[v.dtype]), k, "cpu", int(v.size), None)
            for k, v in storages.items()}
    if obj is None:
        obj = OD([(n, tensor(pids[k], off, size, stride))
                  for n, (k, off, size, stride) in spec.items()])
    keys = sorted(storages)
    with open(path, "wb") as fh:
        fh.write(pickle.dumps(pth.LEGACY_MAGIC_NUMBER, protocol=2))
        fh.write(pickle.dumps(pth.LEGACY_PROTOCOL_VERSION, protocol=2))
        fh.write(pickle.dumps(sys_info or {"protocol_version": 1001, "little_endian": True,
                                           "type_sizes": {"short": 2, "int": 4, "long": 8}},
                              protocol=2))
        fh.write(obj if isinstance(obj, bytes) else dumps(obj))
        fh.write(pickle.dumps(keys, protocol=2))
        for k in keys:
            fh.write(struct.pack("<q", storages[k].size))
            fh.write(storages[k].tobytes())


def write_zip(path, storages, spec, obj=None):
    pids = {k: ("storage", G("torch", TAG[v.dtype]), k, "cpu", int(v.size))
            for k, v in storages.items()}
    if obj is None:
        obj = OD([(n, tensor(pids[k], off, size, stride))
                  for n, (k, off, size, stride) in spec.items()])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", obj if isinstance(obj, bytes) else dumps(obj))
        zf.writestr("archive/byteorder", "little")
        for k, v in storages.items():
            zf.writestr(f"archive/data/{k}", v.tobytes())
        zf.writestr("archive/version", "3\n")


class SystemPayload:
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


class EvalPayload:
    def __init__(self, code):
        self.code = code

    def __reduce__(self):
        import builtins
        return (builtins.eval, (self.code,))


def touch_code(marker):
    return f"open({str(marker)!r}, 'w').close()"


def malicious_objects(marker):
    sys_payload = pickle.dumps(SystemPayload(f"touch {marker}"), protocol=2)  # GLOBAL posix system
    eval_payload = pickle.dumps(EvalPayload(touch_code(marker)), protocol=4)  # STACK_GLOBAL
    assert b"system" in sys_payload and b"eval" in eval_payload
    # A state dict whose *value* hides the payload behind legitimate globals.
    nested = dumps(OD([("w", R(G("builtins", "eval"), touch_code(marker)))]))
    # Allowed global fed a non-storage argument.
    misuse = dumps(OD([("w", R(G("torch._utils", "_rebuild_tensor_v2"),
                               R(G("os", "system"), f"touch {marker}"), 0, (1,), (1,), False,
                               OD([])))]))
    return {"os.system": sys_payload, "builtins.eval(STACK_GLOBAL)": eval_payload,
            "nested eval": nested, "rebuild(os.system)": misuse}
