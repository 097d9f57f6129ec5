"""Files written whole or not at all (`plugin.files`)."""

import os
import stat

import pytest

from plugin.files import atomic_path, write_atomically


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_write_atomically_writes_bytes_and_text_readable_by_all(tmp_path):
    page, picture = tmp_path / "page.html", tmp_path / "picture.png"
    write_atomically(page, "Grüße")
    write_atomically(picture, b"\x89PNG")
    assert page.read_bytes() == "Grüße".encode() and picture.read_bytes() == b"\x89PNG"
    assert _mode(page) == _mode(picture) == 0o644
    assert sorted(os.listdir(tmp_path)) == ["page.html", "picture.png"]  # no temporary left


def test_write_atomically_replaces_the_old_file_with_the_mode_asked_for(tmp_path):
    target = tmp_path / "model.keras.json"
    target.write_text("old")
    write_atomically(target, "new", mode=0o600)
    assert target.read_text() == "new" and _mode(target) == 0o600


def test_mode_none_gives_what_the_umask_gives_a_new_file(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    write_atomically(tmp_path / "record.json", "{}", mode=None)
    assert _mode(tmp_path / "record.json") == 0o666 & ~umask


def test_a_failure_while_writing_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "weights.weights.h5"
    target.write_bytes(b"old weights")
    with pytest.raises(RuntimeError, match="disk full"), atomic_path(target, suffix=".weights.h5") as temporary:
        assert temporary.parent == tmp_path and temporary.name.startswith(".") and temporary.name.endswith(".weights.h5")
        temporary.write_bytes(b"half of the new")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old weights"
    assert os.listdir(tmp_path) == ["weights.weights.h5"]


def test_a_failure_moving_into_place_leaves_no_temporary(tmp_path):
    target = tmp_path / "taken"
    (target / "inside").mkdir(parents=True)  # a folder that is not empty: os.replace refuses it
    with pytest.raises(OSError):
        write_atomically(target, b"data")
    assert os.listdir(tmp_path) == ["taken"] and os.listdir(target) == ["inside"]


def test_the_block_sees_the_temporary_before_the_target_changes(tmp_path):
    """A check inside the block (the ONNX export's) runs on the new file while the old one is still in place."""
    target = tmp_path / "model.onnx"
    target.write_bytes(b"old")
    with pytest.raises(ValueError), atomic_path(target) as temporary:
        temporary.write_bytes(b"new")
        assert target.read_bytes() == b"old"
        raise ValueError("the check failed")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["model.onnx"]


def test_a_temporary_named_by_the_caller_is_used_and_removed(tmp_path):
    target, named = tmp_path / "model.onnx", tmp_path / ".model.onnx.123.tmp"
    with atomic_path(target, temporary=named) as temporary:
        assert temporary == named and not named.exists()  # not made here: the writer makes it
        temporary.write_bytes(b"graph")
    assert target.read_bytes() == b"graph" and _mode(target) == 0o644 and os.listdir(tmp_path) == ["model.onnx"]
    with pytest.raises(RuntimeError), atomic_path(target, temporary=named) as temporary:
        temporary.write_bytes(b"other")
        raise RuntimeError
    assert target.read_bytes() == b"graph" and os.listdir(tmp_path) == ["model.onnx"]
