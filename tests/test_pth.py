"""Reading .pth state dicts without torch: every dtype, offset and stride comes out right, broken
files are clear errors, and a file whose pickle would run code is refused with nothing run."""

import io
import os
import pickle

import numpy as np
import pytest

from plugin.engine.models import pth
from plugin.engine.models.pth import load_pth
from plugin.errors import InvalidInputError, UnsafeModelFileError
from tests.pth_files import (
    OD,
    EvalPayload,
    G,
    R,
    SystemPayload,
    dumps,
    make_case,
    malicious_objects,
    tensor,
    touch_code,
    write_legacy,
    write_zip,
)


@pytest.mark.parametrize("writer", [write_legacy, write_zip], ids=["legacy", "zip"])
def test_dtypes_offsets_and_strides_are_honoured(tmp_path, writer):
    storages, spec, expected = make_case()
    path = tmp_path / "case.pth"
    writer(path, storages, spec)
    state = load_pth(path)
    assert list(state) == list(spec)
    for name, want in expected.items():
        assert state[name].shape == want.shape and state[name].dtype == want.dtype, name
        np.testing.assert_array_equal(state[name], want)
    np.testing.assert_array_equal(state["conv_t.weight"], state["conv.weight"].transpose(3, 2, 1, 0))
    state["conv.weight"][...] = 0  # copies, not views of one shared buffer
    assert np.any(state["conv_t.weight"] != 0)


def test_size_limit(tmp_path):
    storages, spec, _ = make_case()
    path = tmp_path / "case.pth"
    write_legacy(path, storages, spec)
    load_pth(path, max_bytes=os.path.getsize(path))
    with pytest.raises(InvalidInputError, match="exceeds the limit"):
        load_pth(path, max_bytes=os.path.getsize(path) - 1)


@pytest.mark.parametrize(("offset", "size", "stride"), [
    (60, (6,), (1,)),             # runs past the end of a 64-element storage
    (0, (8, 8), (9, 1)),          # a stride reaching beyond the storage
    (-1, (2,), (1,)),             # a negative offset
    (0, (2, 2), (-1, 1)),         # a negative stride
    (0, (10**6, 10**6), (0, 0)),  # a zero-stride bomb: tiny storage, huge copy
])
def test_views_outside_their_storage_are_refused(tmp_path, offset, size, stride):
    pid = ("storage", G("torch", "FloatStorage"), "0", "cpu", 64, None)
    path = tmp_path / "oob.pth"
    write_legacy(path, {"0": np.zeros(64, "<f4")}, None, OD([("w", tensor(pid, offset, size, stride))]))
    with pytest.raises(InvalidInputError):
        load_pth(path, max_bytes=10**7)


def test_truncated_and_padded_files_are_refused(tmp_path):
    storages, spec, _ = make_case()
    path = tmp_path / "case.pth"
    write_legacy(path, storages, spec)
    data = path.read_bytes()
    for name, body in (("short.pth", data[:-3]), ("long.pth", data + b"xyz")):
        (tmp_path / name).write_bytes(body)
        with pytest.raises(InvalidInputError):
            load_pth(tmp_path / name)


def test_the_payloads_would_run_under_plain_pickle(tmp_path):
    """The control: plain pickle runs these payloads, so the refusals below mean something."""
    first, second = tmp_path / "m1", tmp_path / "m2"
    pickle.loads(pickle.dumps(SystemPayload(f"touch {first}"), protocol=2))
    pickle.loads(pickle.dumps(EvalPayload(touch_code(second)), protocol=4))
    assert first.exists() and second.exists()


@pytest.mark.parametrize("writer", [write_legacy, write_zip], ids=["legacy", "zip"])
@pytest.mark.parametrize("which", ["os.system", "builtins.eval(STACK_GLOBAL)", "nested eval", "rebuild(os.system)"])
def test_a_pickle_that_would_run_code_is_refused_and_runs_nothing(tmp_path, writer, which):
    marker = tmp_path / "PWNED"
    path = tmp_path / "evil.pth"
    writer(path, {"0": np.zeros(4, "<f4")}, None, malicious_objects(marker)[which])
    with pytest.raises(UnsafeModelFileError, match="refused before anything ran"):
        load_pth(path)
    assert not marker.exists()


def test_a_hidden_global_is_stopped_by_the_unpickler_itself(tmp_path):
    """STACK_GLOBAL names are invisible to the opcode scan; the restricted unpickler stops them."""
    marker = tmp_path / "PWNED"
    payload = pickle.dumps(EvalPayload(touch_code(marker)), protocol=4)
    pth._static_scan(payload)
    with pytest.raises(UnsafeModelFileError):
        pth._RestrictedUnpickler(io.BytesIO(payload)).load()
    assert not marker.exists()


def test_a_hostile_header_is_refused(tmp_path):
    marker = tmp_path / "PWNED"
    path = tmp_path / "evil_header.pth"
    path.write_bytes(pickle.dumps(SystemPayload(f"touch {marker}"), protocol=2))
    with pytest.raises(UnsafeModelFileError):
        load_pth(path)
    assert not marker.exists()


def test_a_storage_tag_cannot_be_called(tmp_path):
    path = tmp_path / "call_tag.pth"
    write_legacy(path, {"0": np.zeros(4, "<f4")}, None, dumps(OD([("w", R(G("torch", "FloatStorage"), 4))])))
    with pytest.raises(InvalidInputError):
        load_pth(path)


def test_nothing_allowed_can_run_code():
    for obj in pth._ALLOWED_GLOBALS.values():
        assert getattr(obj, "__module__", "") in ("collections", "plugin.engine.models.pth") or isinstance(obj, pth._StorageTag)
