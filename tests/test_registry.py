"""The registry table: contents, published figures, constructors and ImageNet weight files."""

import pytest

from plugin.engine.inference.listing import list_models
from plugin.engine.models.registry import MODELS, BundledWeights, ImagenetWeights, get_spec
from plugin.errors import UnknownModelError

REQUIRED = ["VGG16", "VGG19", "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "MobileNetV2",
            "EfficientNetB0", "EfficientNetLite0", "EfficientNetLite1", "EfficientNetLite2", "InceptionV3",
            "DenseNet121", "ConvNeXtTiny", "AlexNet"]


def test_list_models_has_every_required_model_with_the_contract_fields():
    models = list_models()["models"]
    assert [m["name"] for m in models] == REQUIRED
    for model in models:
        assert {"name", "family", "input_shape", "preprocessing", "weights", "published"} <= set(model)
        assert model["preprocessing"] in {"caffe", "tf", "torch", "builtin", "lite"}
        assert {"available", "source", "size_mb", "options"} <= set(model["weights"])
        published = model["published"]
        assert {"size_mb", "top1", "top5", "parameters", "depth", "source", "multiply_adds", "multiply_adds_source"} <= set(published)
        assert published["source"] and published["multiply_adds_source"]


def test_alexnet_is_architecture_only_and_says_so():
    alexnet = next(m for m in list_models()["models"] if m["name"] == "AlexNet")
    assert "imagenet" not in alexnet["weights"]["options"] and alexnet["weights"]["available"] is False
    assert "Architecture only" in alexnet["note"] and "No ImageNet weights" in alexnet["note"]
    assert alexnet["input_shape"] == [227, 227, 3]


def test_unknown_model_lists_the_choices():
    with pytest.raises(UnknownModelError, match=r"Expected one of \['VGG16'.*Received: model='VGG17'"):
        get_spec("VGG17")
    assert get_spec("resnet50").name == "ResNet50"


@pytest.mark.parametrize("name", REQUIRED)
def test_constructor_builds_the_registered_shape_and_parameter_count(name, architectures):
    spec = MODELS[name]
    model = architectures(name)
    assert tuple(model.inputs[0].shape[1:]) == spec.input_shape
    assert tuple(model.outputs[0].shape) == (None, 1000)
    if name == "AlexNet":  # the paper says "about 60 million"
        assert model.count_params() == pytest.approx(spec.published.parameters, rel=0.05)
    elif isinstance(spec.imagenet, BundledWeights):  # the Lite release prints 4.7, 5.4, 6.1 M
        assert model.count_params() == pytest.approx(spec.published.parameters, rel=0.02)
    else:  # the table rounds to 0.1 M
        assert round(model.count_params() / 1e5) / 10 == spec.published.parameters / 1e6


@pytest.mark.parametrize("name", [n for n in REQUIRED if isinstance(MODELS[n].imagenet, ImagenetWeights)])
def test_imagenet_weights_record_is_the_file_keras_itself_asks_for(name, monkeypatch):
    """Build with weights='imagenet' while Keras's downloader only records its request (the
    architecture only: its weights are never allocated, so no model takes seconds to build)."""
    from keras.src.utils import file_utils

    from plugin.engine.models.keras_compat import weightless

    class Asked(Exception):
        pass

    asked = {}

    def record(fname=None, origin=None, file_hash=None, cache_subdir=None, **_):
        asked.update(fname=fname, origin=origin, file_hash=file_hash, cache_subdir=cache_subdir)
        raise Asked

    monkeypatch.setattr(file_utils, "get_file", record)
    spec = MODELS[name]
    with pytest.raises(Asked), weightless():
        spec.build("imagenet")
    assert asked == {"fname": spec.imagenet.file_name, "origin": spec.imagenet.url,
                     "file_hash": spec.imagenet.file_hash, "cache_subdir": "models"}
