"""A user's own .keras / .h5 classifier: trained here on generated images, classified end to end;
unsafe or unfit files are refused with clear errors."""

import h5py
import pytest

import plugin
from plugin.errors import AccessDeniedError, InvalidInputError, UnsafeModelFileError
from tests.conftest import STRIPE_CLASSES, brightness, save_png, stripes


@pytest.fixture(scope="module")
def fresh_stripes(data_dir):
    """Images the model never saw (other seeds), with their true class."""
    images = []
    for i in range(6):
        kind = STRIPE_CLASSES[i % 2]
        images.append((save_png(stripes(kind, size=96, seed=1000 + i), data_dir / f"fresh_{i}.png"), kind))
    return images


@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_trained_model_file_classifies_new_images_correctly(fmt, stripe_model_files, fresh_stripes):
    path = stripe_model_files[fmt]
    result = plugin.classify_images([str(p) for p, _ in fresh_stripes], models=["ignored"], model_path=str(path),
                                    class_names=STRIPE_CLASSES, preprocessing="rescale", top_k=5)
    for (image, truth), record in zip(fresh_stripes, result["images"]):
        model = record["results"][0]
        assert model["model"] == path.name and model["weights"] == "file" and model["untrained"] is False
        assert model["verdict"] is None
        assert model["input_size"] == [48, 48]
        assert [p["label"] for p in model["predictions"]][0] == truth, image.name
        assert len(model["predictions"]) == 2 and model["predictions"][0]["class_id"] is None
        assert sum(p["probability"] for p in model["predictions"]) == pytest.approx(1, abs=1e-4)


def test_one_channel_sigmoid_model_uses_negative_positive_names(brightness_model_file, tmp_path):
    dark = save_png(brightness(False, size=50, seed=5), tmp_path / "dark.png")
    bright = save_png(brightness(True, size=50, seed=6), tmp_path / "bright.png")
    result = plugin.classify_images([dark, bright], model_path=brightness_model_file, class_names=["dark", "bright"],
                                    preprocessing="rescale")
    labels = [r["results"][0]["predictions"][0]["label"] for r in result["images"]]
    assert labels == ["dark", "bright"]
    assert result["images"][0]["results"][0]["input_size"] == [32, 32]


def test_default_class_names_and_wrong_count(stripe_model_files, fresh_stripes):
    image = fresh_stripes[0][0]
    result = plugin.classify_image(image, model_path=stripe_model_files["keras"], preprocessing="rescale")
    assert {p["label"] for p in result["results"][0]["predictions"]} == {"class_0", "class_1"}
    with pytest.raises(InvalidInputError, match="Expected 2 class names"):
        plugin.classify_image(image, model_path=stripe_model_files["keras"], preprocessing="rescale", class_names=["a"])


def test_preprocessing_is_required_for_a_custom_model(stripe_model_files, fresh_stripes):
    with pytest.raises(InvalidInputError, match="Expected preprocessing for a custom model"):
        plugin.classify_image(fresh_stripes[0][0], model_path=stripe_model_files["keras"])


def small_model_with(layer_factory):
    import keras

    inputs = keras.Input((8, 8, 3))
    x = layer_factory()(inputs)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_lambda_layer_is_refused(suffix, tmp_path, fresh_stripes):
    import keras

    path = tmp_path / f"lambda{suffix}"
    small_model_with(lambda: keras.layers.Lambda(lambda t: t * 2, name="sneaky")).save(path)
    with pytest.raises(UnsafeModelFileError, match=r"Lambda layer 'sneaky'"):
        plugin.classify_image(fresh_stripes[0][0], model_path=path, preprocessing="rescale")


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_unknown_custom_object_is_refused(suffix, tmp_path, fresh_stripes):
    import keras

    @keras.saving.register_keras_serializable(package="studytest")
    class Doubler(keras.layers.Layer):
        def call(self, x):
            return x * 2

    path = tmp_path / f"custom{suffix}"
    small_model_with(Doubler).save(path)
    with pytest.raises(UnsafeModelFileError, match="custom object studytest>Doubler"):
        plugin.classify_image(fresh_stripes[0][0], model_path=path, preprocessing="rescale")


def test_files_that_are_not_models(tmp_path, fresh_stripes, favour_class_weights):
    image = fresh_stripes[0][0]
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(InvalidInputError, match="garbage.keras, which could not be read"):
        plugin.classify_image(image, model_path=garbage, preprocessing="rescale")
    weights_only = favour_class_weights(207)
    plain = tmp_path / "weights_only.h5"
    plain.write_bytes(weights_only.read_bytes())
    with pytest.raises(InvalidInputError, match="weights-only file"):
        plugin.classify_image(image, model_path=plain, preprocessing="rescale")
    other = tmp_path / "model.onnx"
    other.write_bytes(b"x")
    with pytest.raises(InvalidInputError, match=r"\.keras or \.h5"):
        plugin.classify_image(image, model_path=other, preprocessing="rescale")


def test_model_with_two_outputs_is_refused(tmp_path, fresh_stripes):
    import keras

    inputs = keras.Input((8, 8, 3))
    flat = keras.layers.Flatten()(inputs)
    model = keras.Model(inputs, [keras.layers.Dense(2)(flat), keras.layers.Dense(3)(flat)])
    path = tmp_path / "two_heads.keras"
    model.save(path)
    with pytest.raises(InvalidInputError, match="one image input and one output"):
        plugin.classify_image(fresh_stripes[0][0], model_path=path, preprocessing="rescale")


def test_model_file_outside_the_roots_is_refused(tmp_path_factory, fresh_stripes, stripe_model_files):
    outside = tmp_path_factory.mktemp("not_allowed") / "stripes.keras"
    outside.write_bytes(stripe_model_files["keras"].read_bytes())
    with pytest.raises(AccessDeniedError):
        plugin.classify_image(fresh_stripes[0][0], model_path=outside, preprocessing="rescale")


def test_h5_config_is_read_without_loading(stripe_model_files):
    from plugin.engine.models.config_audit import audit_config
    from plugin.engine.models.files import read_model_config

    with h5py.File(stripe_model_files["h5"], "r") as handle:
        assert "model_config" in handle.attrs
    config = read_model_config(str(stripe_model_files["h5"]))
    assert config["class_name"] == "Sequential"
    assert audit_config(config) == []


def test_safe_mode_still_refuses_lambda_if_the_scan_missed_it(tmp_path, monkeypatch):
    """The configuration scan gives the clear message; Keras's safe mode is the real guard."""
    import keras

    from plugin.engine.models import files

    path = tmp_path / "lambda.keras"
    small_model_with(lambda: keras.layers.Lambda(lambda t: t + 1)).save(path)
    monkeypatch.setattr(files, "audit_config", lambda config: [])
    with pytest.raises(UnsafeModelFileError, match="refused in safe mode"):
        files.load_keras_file(str(path))


def _rewritten(source, target, old: str, new: str):
    """A copy of a model file whose architecture says `new` where it said `old` (weights untouched)."""
    import zipfile

    if target.suffix == ".keras":
        with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
            for item in original.infolist():
                data = original.read(item)
                copy.writestr(item, data.decode().replace(old, new).encode() if item.filename == "config.json" else data)
    else:
        target.write_bytes(source.read_bytes())
        with h5py.File(target, "r+") as handle:
            config = handle.attrs["model_config"]
            handle.attrs["model_config"] = (config.decode() if isinstance(config, bytes) else config).replace(old, new)
    return target


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_small_file_asking_for_huge_weights_or_inputs_is_refused_before_allocating(suffix, tmp_path, fresh_stripes):
    """A 20 KB file can declare a Dense layer of gigabytes or a 20000 x 20000 input: counted, not allocated."""
    import resource

    import keras

    plain = tmp_path / f"plain{suffix}"
    keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")]).save(plain)
    wide = _rewritten(plain, tmp_path / f"wide{suffix}", '"units": 2', '"units": 2000000')  # 192 x 2e6 = 384 M weights
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(InvalidInputError, match=r"at most 250,000,000 parameters. Received: wide\S+, whose architecture has 386,000,000"):
        plugin.classify_image(fresh_stripes[0][0], model_path=wide, preprocessing="rescale", class_names=["a", "b"])
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) < 300 * 1024  # KiB: 1.5 GB were never allocated
    pooled = tmp_path / f"pooled{suffix}"
    keras.Sequential([keras.Input((8, 8, 3)), keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2, activation="softmax")]).save(pooled)
    huge = _rewritten(pooled, tmp_path / f"huge{suffix}", "8, 8, 3]", "20000, 20000, 3]")
    with pytest.raises(InvalidInputError, match="input of at most 1,048,576 pixels. Received: huge\\S+, whose input is 20000 x 20000"):
        plugin.describe_architecture(model_path=huge, include_diagram=False)
    plugin.configure(max_model_parameters=10)
    try:
        with pytest.raises(InvalidInputError, match="at most 10 parameters"):  # the budget is a setting
            plugin.classify_image(fresh_stripes[0][0], model_path=plain, preprocessing="rescale", class_names=["a", "b"])
    finally:
        plugin.configure(max_model_parameters=250_000_000)
