"""Hostile model files, through the tool call an agent makes: a configuration that names a file to
read, a Keras function that is not an activation, and archives that inflate (weights, assets,
compressed HDF5 datasets) are refused before Keras opens them, with bounded memory, and a refusal
tells nothing about which files exist on the server."""

import resource
import shutil
import zipfile

import h5py
import pytest

from plugin.config import EXAMPLES_DIR
from plugin.doors.tools import call_tool
from tests.test_custom_models import _rewritten

CAT = str(EXAMPLES_DIR / "cat_chelsea.png")
POISON = ('{"module": "keras.config", "class_name": "function", "config": "set_max_steps_per_epoch", '
          '"registered_name": "function"}')


@pytest.fixture(scope="module")
def plain_files(tmp_path_factory):
    """A tiny classifier and a tiny string-lookup model, each as .keras and .h5."""
    import keras

    folder = tmp_path_factory.mktemp("plain-models")
    classifier = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(name="flatten"),
                                   keras.layers.Dense(2, activation="softmax", name="dense")], name="classifier")
    inputs = keras.Input((1,), dtype="string")
    hidden = keras.layers.CategoryEncoding(num_tokens=3, output_mode="one_hot")(
        keras.layers.StringLookup(vocabulary=["a", "b"], name="lookup")(inputs))
    lookup = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="dense")(hidden), name="lookup_model")
    files = {}
    for suffix in (".keras", ".h5"):
        files["classifier", suffix] = folder / f"classifier{suffix}"
        classifier.save(files["classifier", suffix])
        files["lookup", suffix] = folder / f"lookup{suffix}"
        lookup.save(files["lookup", suffix])
    return files


def rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def describe(path) -> dict:
    return call_tool("describe_architecture", {"model_path": str(path)})


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_vocabulary_that_names_a_file_is_refused_without_opening_it(suffix, plain_files, tmp_path):
    answers = {}
    before = rss_kib()
    for target in ("/etc/hostname", "/no/such/file", "/dev/zero", "~/.ssh/id_rsa"):
        bad = _rewritten(plain_files["lookup", suffix], tmp_path / f"vocab-{len(answers)}{suffix}",
                         '"vocabulary": ["a", "b"]', f'"vocabulary": "{target}"')
        answers[target] = describe(bad)["error"]
    assert rss_kib() - before < 100 * 1024  # /dev/zero was never read
    for target, error in answers.items():
        assert error["type"] == "UnsafeModelFileError" and "vocabulary of layer 'lookup'" in error["message"]
        assert target not in error["message"]
    messages = {error["message"].split(".keras")[-1].split(".h5")[-1] for error in answers.values()}
    assert len(messages) == 1  # an existing and a missing file read the same: no oracle


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_path_or_a_file_argument_anywhere_in_the_configuration_is_refused(suffix, plain_files, tmp_path):
    dtype = _rewritten(plain_files["classifier", suffix], tmp_path / f"dtype{suffix}", '"name": "dense"',
                       '"name": "dense", "weights_file": "notes.txt"')
    assert "weights_file of layer 'dense'" in describe(dtype)["error"]["message"]
    pathy = _rewritten(plain_files["classifier", suffix], tmp_path / f"path{suffix}", '"data_format": "channels_last"',
                       '"data_format": "../../secret"')
    assert "a path (data_format of layer" in describe(pathy)["error"]["message"]


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_keras_function_that_is_not_an_activation_is_refused_and_changes_nothing(suffix, plain_files, tmp_path):
    import keras

    bad = _rewritten(plain_files["classifier", suffix], tmp_path / f"poison{suffix}", '"activation": "softmax"',
                     f'"activation": {POISON}')
    before = keras.config.max_steps_per_epoch()
    result = call_tool("classify_image", {"image": CAT, "model_path": str(bad), "preprocessing": "rescale"})
    assert result["error"]["type"] == "UnsafeModelFileError"
    assert "a function that is not a Keras activation (activation of layer 'dense')" in result["error"]["message"]
    assert keras.config.max_steps_per_epoch() == before


def test_a_keras_archive_that_inflates_is_refused_before_keras_opens_it(plain_files, tmp_path):
    def repacked(name, extra):
        target = tmp_path / name
        with zipfile.ZipFile(plain_files["classifier", ".keras"]) as source, \
                zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
            for item in source.infolist():
                data = source.read(item)
                copy.writestr(item.filename, data + extra.get(item.filename, b""))
            for member, data in extra.items():
                if member.startswith("assets/"):
                    copy.writestr(member, data)
        return target

    weights = repacked("weights-bomb.keras", {"model.weights.h5": bytes(300 * 2**20)})
    assets = repacked("assets-bomb.keras", {f"assets/vocabulary-{i}.txt": bytes(12 * 2**20) for i in range(2)})
    assert weights.stat().st_size < 1_000_000
    before = rss_kib()  # the peak so far (making the files); refusing them must not raise it
    error = describe(weights)["error"]
    assert error["type"] == "InvalidInputError" and "bytes once unpacked" in error["message"]
    assert "bytes of assets" in describe(assets)["error"]["message"]
    assert rss_kib() - before < 50 * 1024  # nothing was inflated


def test_compressed_hdf5_datasets_are_budgeted_for_model_and_weights_files(plain_files, tmp_path):
    bomb = tmp_path / "bomb.h5"
    shutil.copy(plain_files["classifier", ".h5"], bomb)
    with h5py.File(bomb, "r+") as handle:
        handle["model_weights"].create_dataset("junk", shape=(80 * 2**20,), dtype="u1", chunks=(2**20,))  # never written: reads as zeros
    assert bomb.stat().st_size < 1_000_000
    assert "bytes of datasets once decompressed" in describe(bomb)["error"]["message"]
    weights = tmp_path / "alexnet.weights.h5"
    with h5py.File(weights, "w") as handle:
        handle.create_dataset("dense", shape=(2**30,), dtype="u1", chunks=(2**20,))
    result = call_tool("classify_image", {"image": CAT, "models": ["AlexNet"], "weights": str(weights),
                                          "allow_random_weights": True})
    assert result["error"]["type"] == "InvalidInputError" and "once decompressed" in result["error"]["message"]
