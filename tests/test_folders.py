"""Folders of labelled photos named as a web user names them: found under the image roots, and
listed for the app's picker."""

from pathlib import Path

import pytest

import plugin
from plugin.api import labelled_folders


def photo_folders(root: Path, name: str, labels: list[str]) -> Path:
    for label in labels:
        (root / name / label).mkdir(parents=True, exist_ok=True)
        (root / name / label / "a.jpg").write_bytes(b"\xff\xd8")
    return root / name


def test_the_labelled_folders_below_the_roots_are_listed_with_their_labels(tmp_path):
    photo_folders(tmp_path, "eval", ["cat", "dog"])
    photo_folders(tmp_path, "course/week3", ["beagle", "foxhound", "tabby"])
    photo_folders(tmp_path, "one-label", ["cat"])  # one label: nothing to tell apart
    photo_folders(tmp_path, ".hidden", ["cat", "dog"])
    photo_folders(tmp_path, "a/b/c/too-deep", ["cat", "dog"])
    (tmp_path / "empty" / "cat").mkdir(parents=True)
    (tmp_path / "empty" / "dog").mkdir(parents=True)  # folders without photos
    plugin.configure(image_roots=[tmp_path], output_dir=tmp_path / "out")
    photo_folders(tmp_path / "out", "uploads", ["cat", "dog"])  # the output folder is not offered
    assert labelled_folders() == [{"name": "eval", "root": tmp_path.name, "labels": ["cat", "dog"]},
                                  {"name": "course/week3", "root": tmp_path.name, "labels": ["beagle", "foxhound", "tabby"]}]


def test_a_folder_named_without_a_path_is_evaluated_from_under_the_roots(labelled_photos, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a working directory with no such folder: the web app's case
    result = plugin.evaluate(labelled_photos.name, models=["EfficientNetLite0"])
    assert result["images"] == 16 and result["source"] == labelled_photos.name
    with pytest.raises(plugin.InvalidInputError, match="does not exist") as missing:
        plugin.evaluate("no-such-photos", models=["EfficientNetLite0"])
    assert str(tmp_path) not in str(missing.value)  # says the name, not where the server looked
