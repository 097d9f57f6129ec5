"""What derives from the code and an input is kept on disk: a second process writes an architecture
report (facts, diagram, Markdown pictures) without TensorFlow and with the same files, and an entry
follows its identity and the code, survives nothing it did not write, and the cache keeps its size."""

import os
import subprocess
import sys

import plugin
from plugin.engine import disk_cache
from tests.conftest import REPO

MODEL = "EfficientNetLite0"


def test_an_entry_follows_its_identity_and_the_code(monkeypatch):
    disk_cache.store("kind", {"model": "a"}, [b"first", b"", b"third"])
    assert disk_cache.load("kind", {"model": "a"}) == [b"first", b"", b"third"]
    assert disk_cache.load("kind", {"model": "b"}) is None
    assert disk_cache.cached("kind", {"model": "b"}, lambda: [b"made"]) == [b"made"]
    assert disk_cache.cached("kind", {"model": "b"}, lambda: [b"made again"]) == [b"made"]
    monkeypatch.setattr(disk_cache, "code_digest", lambda: "another version of the code")
    assert disk_cache.load("kind", {"model": "a"}) is None


def test_a_damaged_entry_is_made_again():
    disk_cache.store("kind", {"model": "damaged"}, [b"0123456789"])
    (entry,) = [path for path in (disk_cache.cache_dir() / "kind").iterdir() if path.read_bytes().endswith(b"0123456789")]
    entry.write_bytes(entry.read_bytes()[:-3])  # cut short, as by a full disk
    assert disk_cache.load("kind", {"model": "damaged"}) is None
    assert disk_cache.cached("kind", {"model": "damaged"}, lambda: [b"again"]) == [b"again"]


def test_the_cache_forgets_the_least_recently_used_beyond_its_size():
    plugin.configure(max_derived_cache_bytes=3000)
    for name in ("old", "newer", "newest"):
        disk_cache.store("sized", {"model": name}, [bytes(1200)])
    assert disk_cache.load("sized", {"model": "old"}) is None
    assert disk_cache.load("sized", {"model": "newer"}) == [bytes(1200)]
    assert disk_cache.load("sized", {"model": "newest"}) == [bytes(1200)]


def test_a_second_process_writes_the_architecture_report_without_tensorflow_and_with_the_same_files(tmp_path):
    environment = {**os.environ, "KERAS_HOME": str(tmp_path / "keras"), "TF_CPP_MIN_LOG_LEVEL": "3", "CNNLAB_AUTO_EXPORT": "0"}
    report = "import sys, launch; code = launch.run(sys.argv[1:]); print('tensorflow' in sys.modules); sys.exit(code)"
    outputs, imported = [], []
    for run in ("first", "second"):
        out = tmp_path / run
        done = subprocess.run([sys.executable, "-c", report, "--output-dir", str(out), "report", "architecture", MODEL],
                              capture_output=True, text=True, env=environment, cwd=REPO, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        imported.append(done.stdout.strip().splitlines()[-1])
        outputs.append(out)
    assert imported == ["True", "False"]
    first, second = ({path.name: path.read_bytes() for path in out.rglob("*.png")} for out in outputs)
    assert first and len(first) == len(second)
    assert sorted(first.values()) == sorted(second.values())  # the diagram's pieces, the stage view
    (markdown_first,), (markdown_second,) = (list(out.glob("architecture-*.md")) for out in outputs)
    assert markdown_first.read_text().count("diagram-") == markdown_second.read_text().count("diagram-") > 0
