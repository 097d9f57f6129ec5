"""Weights: offline ImageNet requests fail fast and clearly; local files are checked."""

import time

import pytest

import plugin
from plugin import words
from plugin.config import EXAMPLES_DIR
from plugin.engine.models import weights
from plugin.engine.models.registry import MODELS
from plugin.engine.models.weights import cache_shown, keras_cache_dir, parse_weights
from plugin.errors import AccessDeniedError, InvalidInputError, WeightsUnavailableError
from tests.conftest import USER_KERAS_HOME


def test_missing_imagenet_weights_offline_is_a_clear_error_within_seconds(offline):
    record = MODELS["VGG16"].imagenet
    started = time.monotonic()
    with pytest.raises(WeightsUnavailableError) as raised:
        plugin.classify_image(EXAMPLES_DIR / "cat_chelsea.png", models=["VGG16"])
    assert time.monotonic() - started < 15
    message = str(raised.value)
    assert record.file_name in message
    assert f"$KERAS_HOME/models/{record.file_name}" in message and str(keras_cache_dir()) not in message
    assert record.url in message and "528 MiB" in message
    assert "Models that can answer now: EfficientNetLite0, EfficientNetLite1, EfficientNetLite2" in message
    assert "random" not in message  # the models that are ready, not answers that mean nothing
    korean = words.error_text(raised.value, "ko")
    assert record.file_name in korean and "지금 답할 수 있는 모델: EfficientNetLite0" in korean and "Expected" not in korean
    english = words.error_text(raised.value, "en")  # what a person reads: no "Expected ... Received"
    assert english.startswith("VGG16's ImageNet weights") and "Models that can answer now" in english


def test_the_keras_cache_is_named_as_people_write_it_never_by_its_absolute_path(monkeypatch, tmp_path):
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert keras_cache_dir() == tmp_path / ".keras" / "models"
    assert cache_shown(keras_cache_dir() / "vgg16.h5") == "~/.keras/models/vgg16.h5"
    assert cache_shown("/srv/elsewhere/vgg16.h5") == "vgg16.h5"  # outside the Keras home: its name alone
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert cache_shown(keras_cache_dir()) == "$KERAS_HOME/models"


def test_a_failed_download_names_no_server_folder(offline, monkeypatch, tmp_path):
    """Keras's own download fails with the folder it could not make in its message (a file stands
    where the cache folder should be): the error names it from the Keras home."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    (tmp_path / "keras").mkdir()
    (tmp_path / "keras" / "models").write_bytes(b"")
    monkeypatch.setattr(weights, "_unreachable", lambda url: None)  # the host answers; the cache folder is the problem
    with pytest.raises(WeightsUnavailableError) as raised:
        plugin.classify_image(EXAMPLES_DIR / "cat_chelsea.png", models=["VGG16"])
    message = str(raised.value)
    assert raised.value.key == "weights_download_failed" and "$KERAS_HOME/models" in message
    assert str(tmp_path) not in message, message


def test_damaged_cached_file_is_reported_and_kept(offline):
    damaged = keras_cache_dir() / MODELS["ResNet50"].imagenet.file_name
    damaged.parent.mkdir(parents=True, exist_ok=True)
    damaged.write_bytes(b"half a download")
    try:
        with pytest.raises(WeightsUnavailableError, match="fails its hash check"):
            plugin.classify_image(EXAMPLES_DIR / "cat_chelsea.png", models=["ResNet50"])
        assert damaged.read_bytes() == b"half a download"
    finally:
        damaged.unlink()


def test_alexnet_has_no_imagenet_weights():
    with pytest.raises(WeightsUnavailableError, match="architecture-only"):
        plugin.classify_image(EXAMPLES_DIR / "cat_chelsea.png", models=["AlexNet"])


def test_weights_argument_forms(tmp_path):
    assert parse_weights(None).label == "random" and parse_weights(None).untrained
    assert parse_weights("random").kind == "random"
    assert parse_weights("imagenet").label == "imagenet"
    good = tmp_path / "mine.weights.h5"
    good.write_bytes(b"x")
    assert parse_weights(str(good)).label == "mine.weights.h5"
    wrong_suffix = tmp_path / "mine.txt"
    wrong_suffix.write_bytes(b"x")
    with pytest.raises(InvalidInputError, match=".weights.h5"):
        parse_weights(wrong_suffix)
    with pytest.raises(InvalidInputError, match="Received: weights=3"):
        parse_weights(3)


def test_weights_file_outside_the_roots_is_refused(tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "x.weights.h5"
    outside.write_bytes(b"x")
    with pytest.raises(AccessDeniedError):
        parse_weights(str(outside))


def test_weights_file_for_another_architecture_is_a_clear_error(favour_class_weights):
    with pytest.raises(InvalidInputError, match="fits AlexNet"):
        plugin.classify_image(EXAMPLES_DIR / "cat_chelsea.png", models=["AlexNet"], weights=favour_class_weights(207))


def test_pretrained_vgg16_calls_the_example_a_cat():
    file_name = MODELS["VGG16"].imagenet.file_name
    users_copy = USER_KERAS_HOME / "models" / file_name
    if not users_copy.exists():
        pytest.skip(f"ImageNet weights for VGG16 are not in the user's Keras cache ({users_copy}) and cannot be downloaded here")
    cached = keras_cache_dir() / file_name
    cached.parent.mkdir(parents=True, exist_ok=True)
    if not cached.exists():
        cached.symlink_to(users_copy)
    result = plugin.classify_image(EXAMPLES_DIR / "cat_chelsea.png", models=["VGG16"])
    assert result["results"][0]["verdict"]["label"] == "cat"
