"""evaluate: real weights on real (cropped) photos; every metric where it applies and None where not;
lists, renamed and Korean labels; a run interrupted and resumed loses nothing; Ray gives the same
numbers; a zip is unpacked safely."""

import json
import shutil
import zipfile
from pathlib import Path

import pytest

import plugin
from plugin.api import evaluate
from plugin.doors.tools import call_tool
from plugin.engine.intake.archives import extract_images

LITE = ["EfficientNetLite0", "EfficientNetLite2"]


@pytest.fixture(scope="module")
def lite_run(labelled_photos, tmp_path_factory):
    plugin.configure(image_roots=[labelled_photos], output_dir=tmp_path_factory.mktemp("evaluation"))
    steps = []
    result = evaluate(labelled_photos, models=LITE, progress=lambda done, total, model: steps.append((done, total, model)))
    return result, steps


def test_the_result_contract_and_the_numbers(lite_run):
    result, steps = lite_run
    assert {"images", "labels", "log_path", "models"} <= set(result)
    assert result["images"] == 16 and result["labels"] == ["cat", "dog"] and result["label_counts"] == {"cat": 8, "dog": 8}
    lite0, lite2 = result["models"]
    assert set(lite0) >= {"model", "accuracy", "confusion_matrix", "per_class", "mistakes", "images_per_second"}
    assert lite0["accuracy"] == {"verdict": 1.0, "top1": None, "top5": None}  # dog/cat labels: no class to rank
    assert lite0["confusion_matrix"] == {"labels": ["dog", "cat", "other"], "counts": [[8, 0, 0], [0, 8, 0], [0, 0, 0]]}
    # Lite2's top-1 is a dog breed on the dog crops though the bicycle outweighs any one breed: dog, every time
    assert lite2["confusion_matrix"]["counts"] == [[8, 0, 0], [0, 8, 0], [0, 0, 0]]
    assert lite2["accuracy"]["verdict"] == 1.0 and lite2["mistake_count"] == 0 == len(lite2["mistakes"])
    recall = {row["label"]: row["recall"] for row in lite2["per_class"]}
    assert recall["cat"] == 1.0 and recall["dog"] == 1.0
    assert lite0["images_per_second"] > 0
    assert steps == [(16, 32, "EfficientNetLite0"), (32, 32, "EfficientNetLite2")]  # one batch of 16 per model


def test_the_log_has_one_line_per_image_and_model(lite_run):
    result, _ = lite_run
    lines = [json.loads(line) for line in Path(result["log_path"]).read_text("utf-8").splitlines()]
    assert len(lines) == 32 and {(r["model"], r["image"]) for r in lines} == {(m, f"{label}/{label}_{i}.jpg") for m in LITE
                                                                                for label in ("cat", "dog") for i in range(8)}


def test_an_interrupted_run_resumes_and_loses_nothing(labelled_photos, tmp_path):
    plugin.configure(image_roots=[labelled_photos], output_dir=tmp_path)

    class Stop(Exception):
        pass

    def stop_after_first_batch(done, total, model):
        raise Stop

    models = ["EfficientNetLite0", "EfficientNetLite1"]
    with pytest.raises(Stop):
        evaluate(labelled_photos, models=models, progress=stop_after_first_batch)
    log = next((tmp_path / "evaluations").glob("*.jsonl"))
    assert len(log.read_text().splitlines()) == 16  # the first batch was logged before the stop
    seen = []
    resumed = evaluate(labelled_photos, models=models, progress=lambda d, t, m: seen.append((d, m)))
    assert seen == [(32, "EfficientNetLite1")]  # only the batch not done ran
    assert len(log.read_text().splitlines()) == 32
    assert resumed["models"][0]["images_per_second"] is None and resumed["models"][1]["images_per_second"] > 0
    again = []  # a finished run is run again, not replayed from its log
    fresh = evaluate(labelled_photos, models=models, progress=lambda d, t, m: again.append((d, m)))
    assert again == [(16, "EfficientNetLite0"), (32, "EfficientNetLite1")] and len(log.read_text().splitlines()) == 32
    for before, after in zip(resumed["models"], fresh["models"]):
        assert (before["accuracy"], before["confusion_matrix"]) == (after["accuracy"], after["confusion_matrix"])
        assert after["images_per_second"] > 0


def test_a_changed_photo_is_not_answered_from_an_old_log(labelled_photos, tmp_path):
    shutil.copytree(labelled_photos, tmp_path / "photos")
    plugin.configure(image_roots=[tmp_path], output_dir=tmp_path / "out")
    before = evaluate(tmp_path / "photos", models=["EfficientNetLite0"])
    shutil.copy(labelled_photos / "cat" / "cat_0.jpg", tmp_path / "photos" / "dog" / "dog_0.jpg")  # a cat filed as a dog
    after = evaluate(tmp_path / "photos", models=["EfficientNetLite0"])
    assert after["log_path"] != before["log_path"]
    assert [m["image"] for m in after["models"][0]["mistakes"]] == ["dog/dog_0.jpg"]


def test_imagenet_class_labels_are_ranked_and_matrixed_by_class(labelled_photos, tmp_path):
    for folder, label in (("cat", "Egyptian cat"), ("dog", "저먼 셰퍼드")):
        shutil.copytree(labelled_photos / folder, tmp_path / "classes" / label)
    plugin.configure(image_roots=[tmp_path], output_dir=tmp_path / "out")
    model = evaluate(tmp_path / "classes", models=["EfficientNetLite0"])["models"][0]
    assert model["accuracy"]["top1"] is not None and model["accuracy"]["top5"] >= model["accuracy"]["top1"]
    assert model["confusion_matrix"]["labels"] == ["Egyptian cat", "저먼 셰퍼드", "other"]
    assert model["accuracy"]["verdict"] == 1.0


def test_lists_renamed_and_korean_labels(labelled_photos, tmp_path):
    plugin.configure(image_roots=[labelled_photos, tmp_path], output_dir=tmp_path / "out")
    rows = [(f"{labelled_photos}/cat/cat_{i}.jpg", "고양이") for i in range(3)] + [(f"{labelled_photos}/dog/dog_{i}.jpg", "doggo") for i in range(3)]
    listing = tmp_path / "list.csv"
    listing.write_text("image,label\n" + "".join(f"{image},{label}\n" for image, label in rows), encoding="utf-8")
    result = evaluate(listing, models=["EfficientNetLite0"], labels={"doggo": "dog"})
    assert result["labels"] == ["dog", "고양이"] and result["models"][0]["accuracy"]["verdict"] == 1.0
    as_json = tmp_path / "list.json"
    as_json.write_text(json.dumps([{"image": image, "label": "cat" if label == "고양이" else "dog"} for image, label in rows]))
    assert evaluate(as_json, models=["EfficientNetLite0"])["images"] == 6


def test_bad_sources_are_clear_errors(labelled_photos, tmp_path, tmp_path_factory):
    plugin.configure(image_roots=[tmp_path], output_dir=tmp_path / "out")
    with pytest.raises(plugin.AccessDeniedError):
        evaluate(labelled_photos)
    (tmp_path / "unicorn").mkdir()
    shutil.copy(labelled_photos / "cat" / "cat_0.jpg", tmp_path / "unicorn" / "u.jpg")
    with pytest.raises(plugin.InvalidInputError, match="Expected labels that are"):
        evaluate(tmp_path, models=["EfficientNetLite0"])
    with pytest.raises(plugin.InvalidInputError, match="engine to be one of"):
        evaluate(tmp_path, engine="spark")


def test_the_tool_reports_progress(labelled_photos, tmp_path):
    plugin.configure(image_roots=[labelled_photos], output_dir=tmp_path)
    steps = []
    result = call_tool("evaluate_images", {"source": str(labelled_photos), "models": ["EfficientNetLite0"]},
                       progress=lambda done, total, message: steps.append((done, total)))
    assert result["models"][0]["accuracy"]["verdict"] == 1.0 and steps == [(16, 16)]


def test_ray_on_two_nodes_gives_the_same_numbers(tmp_path):
    """A real two-node Ray cluster on this machine (a head and a worker node, one CPU each): the
    evaluation's actors run on both, on onnxruntime (Lite0 exported once, by the driver), and the
    numbers are the local engine's, photo by photo."""
    ray = pytest.importorskip("ray", reason="Ray is the optional extra '.[ray]' (./test.sh installs it)")
    import logging

    from ray.cluster_utils import Cluster

    from scripts.gallery import example_crops

    photos = example_crops(tmp_path / "photos", per_class=24)  # 48 photos: three batches, to share out
    plugin.configure(image_roots=[photos], output_dir=tmp_path / "local")
    local = evaluate(photos, models=["EfficientNetLite0"], backend="onnx")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        cluster.add_node(num_cpus=1)
        ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        plugin.configure(output_dir=tmp_path / "ray")
        on_ray = evaluate(photos, models=["EfficientNetLite0"], engine="ray")
    finally:
        ray.shutdown()
        cluster.shutdown()
    assert on_ray["engine"] == "ray" and on_ray["models"][0]["backend"] == "onnx"

    def records(result):
        return [json.loads(line) for line in Path(result["log_path"]).read_text().splitlines()]

    assert len({record["node"] for record in records(on_ray)}) == 2  # both nodes classified
    assert {r["path"]: r["top"] for r in records(on_ray)} == {r["path"]: r["top"] for r in records(local)}
    assert on_ray["models"][0]["confusion_matrix"] == local["models"][0]["confusion_matrix"]



def test_ray_on_this_machine_starts_its_own_instance_and_keeps_it_for_the_process(labelled_photos, tmp_path, monkeypatch):
    """Without RAY_ADDRESS or an instance already joined (what most users run): a local instance,
    its actors on this one node, the right answers, and Ray kept for the next call (shut down at
    exit: tests/test_ray_local.py)."""
    ray = pytest.importorskip("ray", reason="Ray is the optional extra '.[ray]' (./test.sh installs it)")
    from plugin.engine.study.evaluation import ray_local

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert not ray.is_initialized()
    plugin.configure(image_roots=[labelled_photos], output_dir=tmp_path)
    try:
        result = evaluate(labelled_photos, models=["EfficientNetLite0"], engine="ray")
        assert ray.is_initialized() and ray_local.local_instance()
    finally:
        ray_local.shutdown()  # this test process's other tests start Ray their own way
    assert not ray.is_initialized()
    entry = result["models"][0]
    assert result["engine"] == "ray" and entry["backend"] == "onnx" and entry["accuracy"]["verdict"] == 1.0
    records = [json.loads(line) for line in Path(result["log_path"]).read_text().splitlines()]
    assert len(records) == 16 and len({record["node"] for record in records}) == 1

def test_a_zip_is_unpacked_safely(labelled_photos, tmp_path):
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as archive:
        archive.write(labelled_photos / "cat" / "cat_0.jpg", "cat/a.jpg")
        archive.write(labelled_photos / "dog" / "dog_0.jpg", "photos/dog/b.jpg")
        archive.writestr("notes.txt", "not an image")
    folder = extract_images(good, tmp_path / "uploads")
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == ["cat/a.jpg", "dog/b.jpg"]
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../../escape/x.jpg", b"\xff\xd8")
    with pytest.raises(plugin.InvalidInputError, match="label/image paths"):
        extract_images(evil, tmp_path / "uploads")
    assert not (tmp_path / "escape").exists() and not (tmp_path.parent / "escape").exists()
    half = tmp_path / "half.zip"  # a good image, then a bad path: nothing of it is left behind
    with zipfile.ZipFile(half, "w") as archive:
        archive.write(labelled_photos / "cat" / "cat_0.jpg", "cat/a.jpg")
        archive.writestr("../dog/b.jpg", b"\xff\xd8")
    with pytest.raises(plugin.InvalidInputError, match="label/image paths"):
        extract_images(half, tmp_path / "uploads")
    assert folder.name == "good" and sorted(p.name for p in (tmp_path / "uploads").rglob("*")) == sorted(
        [folder.parent.name, "good", "cat", "dog", "a.jpg", "b.jpg"])


def test_a_zip_listing_too_many_entries_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    from plugin.engine.intake import archives

    crowded = tmp_path / "crowded.zip"
    with zipfile.ZipFile(crowded, "w") as archive:
        for index in range(archives.MAX_ZIP_ENTRIES + 1):
            archive.writestr(f"cat/{index}.txt", b"")

    def never(*args, **kwargs):
        raise AssertionError("the zip's directory was parsed")

    monkeypatch.setattr(archives.zipfile, "ZipFile", never)
    with pytest.raises(plugin.InvalidInputError, match=f"at most {archives.MAX_ZIP_ENTRIES:,} entries. Received: crowded.zip, which lists 4,001"):
        extract_images(crowded, tmp_path / "uploads")
    not_a_zip = tmp_path / "photos.zip"
    not_a_zip.write_bytes(b"just text")
    with pytest.raises(plugin.InvalidInputError, match="not one"):
        extract_images(not_a_zip, tmp_path / "uploads")


def test_a_log_with_edited_or_broken_records_is_resumed_safely(labelled_photos, tmp_path):
    plugin.configure(image_roots=[labelled_photos], output_dir=tmp_path)
    first = evaluate(labelled_photos, models=["EfficientNetLite0"])
    log = Path(first["log_path"])
    lines = log.read_text("utf-8").splitlines()
    edited = [json.loads(line) for line in lines[:4]]
    edited[0].pop("top")  # a record without its classes
    edited[1]["label"] = "no-such-label"  # a record that names another label
    edited[2]["top"] = [["x", "y"]]  # a record of the wrong shape
    log.write_text("\n".join([json.dumps(record) for record in edited[:3]] + ["[" * 100_000] + lines[3:8]) + "\n", "utf-8")
    resumed = evaluate(labelled_photos, models=["EfficientNetLite0"])  # interrupted-looking: resumed, not replayed
    assert resumed["models"][0]["accuracy"] == first["models"][0]["accuracy"]
    assert resumed["models"][0]["confusion_matrix"] == first["models"][0]["confusion_matrix"]


def test_one_call_stops_at_its_time_budget_and_the_next_resumes(labelled_photos, tmp_path):
    plugin.configure(image_roots=[labelled_photos], output_dir=tmp_path, max_call_seconds=0.001)
    with pytest.raises(plugin.LimitExceededError, match="16 of 32 classifications done"):
        evaluate(labelled_photos, models=LITE)  # stops after the first model's batch, which is logged
    plugin.configure(max_call_seconds=600)
    steps = []
    resumed = evaluate(labelled_photos, models=LITE, progress=lambda done, total, model: steps.append((done, model)))
    assert steps == [(32, "EfficientNetLite2")]  # only what was left
    assert [model["accuracy"]["verdict"] for model in resumed["models"]] == [1.0, 1.0]


def test_a_caller_that_hangs_up_stops_the_work_at_its_next_step(labelled_photos, tmp_path):
    """MCP's progress function (the caller's task cancelled) stops an evaluation after the batch in hand."""
    import threading

    from plugin.doors.mcp import progress_until_gone
    from plugin.doors.tools import call_tool

    plugin.configure(image_roots=[labelled_photos], output_dir=tmp_path)
    gone = threading.Event()
    gone.set()  # the caller hung up while the first batch ran
    result = call_tool("evaluate_images", {"source": str(labelled_photos), "models": LITE},
                       progress_until_gone("evaluate_images", gone))
    assert result["error"]["type"] == "CallCancelledError"
    log = next((tmp_path / "evaluations").glob("*.jsonl"))
    assert len(log.read_text("utf-8").splitlines()) == 16  # the batch in hand was kept; the second model never ran


def test_a_zip_whose_names_the_file_system_refuses_is_a_clear_error(labelled_photos, tmp_path):
    long = tmp_path / "long.zip"
    with zipfile.ZipFile(long, "w") as archive:
        archive.write(labelled_photos / "cat" / "cat_0.jpg", "c" * 300 + "/a.jpg")
    with pytest.raises(plugin.InvalidInputError) as raised:
        extract_images(long, tmp_path / "uploads")
    assert str(tmp_path) not in str(raised.value) and "long.zip" in str(raised.value)
