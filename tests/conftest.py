"""Shared fixtures: isolated settings and Keras cache, models built once per session, and small
models trained here on generated images (no network, no downloaded weights)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

# Before anything imports Keras: quiet logs and a private, empty Keras cache.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The user's own cache is remembered once: test workers (pytest-xdist) inherit the variables of the
# process that started them, and each gets a private cache of its own.
USER_KERAS_HOME = Path(os.environ.setdefault("CNNLAB_TEST_USER_KERAS_HOME",
                                             os.environ.get("KERAS_HOME") or str(Path.home() / ".keras")))
os.environ["KERAS_HOME"] = tempfile.mkdtemp(prefix="cnnlab-keras-home-")
atexit.register(shutil.rmtree, os.environ["KERAS_HOME"], ignore_errors=True)  # about 80 MB a process, every run
# Test workers share the cores: each process (and the app, server and Ray processes it starts) computes
# with its share of them, instead of every one of them with all (on 2 cores, 227 s against 241 s).
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    _SHARE = str(max(1, len(os.sched_getaffinity(0)) // _WORKERS))
    for _name in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(_name, _SHARE)
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

# Python's SQLite binds to the first SQLite library loaded in the process. TensorFlow carries one
# without full-text search, which llm's log database needs (tests/test_agents.py runs llm in this
# process), so Python's own is loaded first, as it is in the `llm` command.
import sqlite3  # noqa: E402, F401, I001

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

import plugin  # noqa: E402
from plugin.config import EXAMPLES_DIR, reset_settings  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def pytest_addoption(parser):
    parser.addoption("--all-exports", action="store_true",
                     help="check the ONNX export of every registry model against Keras (about 4 minutes more), "
                          "not only tests/test_onnx.py's DEFAULT_EXPORTS (and its small models of each family)")


SLOW_FIRST = ("test_webapp.py", "test_reports.py", "test_onnx.py", "test_evaluation.py", "test_finetune.py",
              "test_agreement.py", "test_mcp.py", "test_explain_methods.py", "test_explain_doors.py",
              "test_report_explanations.py", "test_notebooks.py", "test_hostile_web.py", "test_ray_local.py",
              "test_bench.py", "test_load.py")
"""The modules that take longest, run first: with one test process per core (pytest-xdist, a module
at a time), the long ones then run side by side instead of one of them alone at the end."""


def pytest_collection_modifyitems(config, items):
    rank = {name: index for index, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each module keeps its order


STRIPE_CLASSES = ["horizontal", "vertical"]


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """A session folder for generated images, weights and model files; an allowed image root."""
    return tmp_path_factory.mktemp("data")


SESSION_SETTINGS = {"model_cache_size": 64, "auto_export": False}
"""In force for the whole session, between tests too: every registry model stays built once built,
and nothing is exported to ONNX in the background unless a test asks for it."""


def settings_between_tests() -> None:
    """The defaults with `SESSION_SETTINGS`: what module and session fixtures run under (pytest sets
    them up before the autouse `isolated_settings`), and what a fixture puts back when it is done."""
    reset_settings()
    plugin.configure(**SESSION_SETTINGS)


@pytest.fixture(scope="session", autouse=True)
def session_settings():
    settings_between_tests()
    yield
    reset_settings()


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, data_dir):
    """Each test reads only below its own folder, the session data folder and the examples; no test
    starts an ONNX export in the background unless it asks to."""
    plugin.configure(image_roots=[tmp_path, data_dir, EXAMPLES_DIR], output_dir=tmp_path / "out", **SESSION_SETTINGS)
    yield
    settings_between_tests()


def stripes(orientation: str, size: int = 48, seed: int = 0) -> np.ndarray:
    """An RGB image of random-coloured stripes, horizontal or vertical, with noise."""
    rng = np.random.default_rng(seed)
    period = int(rng.integers(4, 10))
    phase = int(rng.integers(0, period))
    line = ((np.arange(size) + phase) // (period // 2)) % 2
    mask = np.tile(line[:, None], (1, size)) if orientation == "horizontal" else np.tile(line[None, :], (size, 1))
    low, high = rng.integers(0, 90, 3), rng.integers(150, 256, 3)
    image = np.where(mask[..., None] == 1, high, low).astype(np.float64)
    image += rng.normal(0, 12, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def brightness(bright: bool, size: int = 32, seed: int = 0) -> np.ndarray:
    """A grayscale-looking RGB image, mostly dark or mostly bright, with noise."""
    rng = np.random.default_rng(seed)
    level = rng.integers(170, 240) if bright else rng.integers(15, 85)
    image = np.full((size, size), float(level)) + rng.normal(0, 20, (size, size))
    image = np.clip(image, 0, 255).astype(np.uint8)
    return np.repeat(image[..., None], 3, axis=2)


def save_png(array: np.ndarray, path: Path) -> Path:
    Image.fromarray(array).save(path)
    return path


@pytest.fixture(scope="session")
def stripe_model_files(data_dir) -> dict[str, Path]:
    """A small CNN trained here to tell horizontal from vertical stripes, saved as .keras and .h5."""
    import keras

    keras.utils.set_random_seed(7)
    x = np.stack([stripes(STRIPE_CLASSES[i % 2], seed=i) for i in range(240)]).astype("float32") / 255.0
    y = np.array([i % 2 for i in range(240)])
    model = keras.Sequential([
        keras.Input((48, 48, 3)),
        keras.layers.Conv2D(8, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(2, activation="softmax"),
    ], name="stripes")
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.95, "the stripe model did not learn; the fixture is broken"
    files = {"keras": data_dir / "stripes.keras", "h5": data_dir / "stripes.h5"}
    model.save(files["keras"])
    model.save(files["h5"])
    return files


@pytest.fixture(scope="session")
def brightness_model_file(data_dir) -> Path:
    """A one-channel model with one sigmoid unit, trained here: is the image bright?"""
    import keras

    keras.utils.set_random_seed(11)
    x = np.stack([brightness(i % 2 == 1, seed=i)[..., :1] for i in range(160)]).astype("float32") / 255.0
    y = np.array([i % 2 for i in range(160)], dtype="float32")
    model = keras.Sequential([
        keras.Input((32, 32, 1)),
        keras.layers.Conv2D(4, 3, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(1, activation="sigmoid"),
    ], name="brightness")
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.95, "the brightness model did not learn; the fixture is broken"
    path = data_dir / "brightness.keras"
    model.save(path)
    return path


def save_favouring(model, index: int, path: Path) -> Path:
    """Save `model`'s weights with its head ("predictions") edited to favour ImageNet class `index`;
    the model itself is left as it was (it may be the session's shared registry model)."""
    head = model.get_layer("predictions")
    kernel, bias = head.get_weights()
    favouring = np.zeros_like(bias)
    favouring[index] = 40.0
    head.set_weights([kernel, favouring])
    try:
        model.save_weights(path)
    finally:
        head.set_weights([kernel, bias])
    return path


@pytest.fixture(scope="session")
def favour_class_weights(data_dir, keras_models):
    """Write MobileNetV2 weights whose head is edited to favour one ImageNet class; return a maker."""
    made: dict[int, Path] = {}

    def make(index: int) -> Path:
        if index not in made:
            made[index] = save_favouring(keras_models("MobileNetV2"), index,
                                         data_dir / f"mobilenetv2_favours_{index}.weights.h5")
        return made[index]

    return make


@pytest.fixture(scope="session")
def keras_models():
    """Registry models with random weights, by name: built once, from the engine's own cache."""
    from plugin.engine.inference.prepared import load_registry_model

    return lambda name: load_registry_model(name, None).runner.model


@pytest.fixture(scope="session")
def architectures():
    """Registry models by name, built by Keras from their constructors without allocating weights
    (layers, shapes and counts only; they cannot run): a reference for what describing them says."""
    import functools

    from plugin.engine.models.build import build_architecture
    from plugin.engine.models.registry import get_spec

    return functools.cache(lambda name: build_architecture(get_spec(name)))


@pytest.fixture(scope="session")
def labelled_photos(data_dir) -> Path:
    """Real photos in labelled folders (cat/ and dog/, 8 each): crops of the example cat and dog."""
    from scripts.gallery import example_crops

    return example_crops(data_dir / "labelled")


@pytest.fixture
def launch(capsys):
    """Run `launch.py ARGS` in this process: its exit status and what it printed, as `subprocess.run` gives them."""
    from plugin.doors.cli import main
    from scripts import bench, gallery

    def run(*args):
        capsys.readouterr()  # only this command's output
        returncode = main(list(args), extra_commands=[gallery.COMMAND, bench.COMMAND])
        printed = capsys.readouterr()
        return SimpleNamespace(returncode=returncode, stdout=printed.out, stderr=printed.err)

    return run


@pytest.fixture
def offline(monkeypatch):
    """No way out: every download goes through a proxy on a closed local port."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright (which never downloads a browser here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield launched
        launched.close()


# --- the web app in a browser: one app per test module that asks for it ----------------------------

WEBAPP_ARTIFACTS = REPO / "test-artifacts" / "webapp"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app in a subprocess, started as Hugging Face Spaces and Docker start it (`python app.py`,
    the port in GRADIO_SERVER_PORT); yields its URL and output folder. One per test module, so the
    suite's processes can each drive one."""
    from tests.app_server import running_app

    out = tmp_path_factory.mktemp("app-out")
    with running_app(out, "--lang", "ko") as served:
        yield {"url": served.url, "out": out}


@pytest.fixture
def page(app, browser):
    """A fresh browser context on the app's Korean page, the Classify tab ready."""
    WEBAPP_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    opened = context.new_page()
    opened.goto(app["url"])
    opened.locator("#classify-button").wait_for(timeout=60_000)
    yield opened
    context.close()
