"""Hostile input, by surface: whatever an agent or a web user sends ends in a result or a clear
error (`PluginError`, or the tool's `{"error": ...}` object), never another exception, never the
server's folders or a file's bytes in the message. Property-based (hypothesis) for the tool calls
and image intake; examples for what a probe of the doors found."""

import base64
import io
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import plugin
from plugin.config import EXAMPLES_DIR
from plugin.doors.tools import TOOLS, call_tool
from plugin.engine.intake.images import load_image
from plugin.engine.models.registry import MODELS
from plugin.errors import PluginError
from tests.conftest import REPO

CAT = str(EXAMPLES_DIR / "cat_chelsea.png")
ERROR_TYPES = {"InvalidArguments", "UnknownTool", "InvalidInputError", "ImageError", "AccessDeniedError",
               "UnknownModelError", "WeightsUnavailableError", "UnsafeModelFileError", "RenderError"}
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True)
def short_downloads(isolated_settings):
    plugin.configure(url_timeout_s=2.0)


def server_folders() -> list[str]:
    """Absolute folders of this server that no message to a remote caller may name: the checkout,
    the temporary folder, the Keras home (a temporary folder in the tests) and the home folder."""
    folders = [str(EXAMPLES_DIR.parent), "/tmp/", tempfile.gettempdir(), os.environ["KERAS_HOME"]]
    return folders + ([str(Path.home())] if len(Path.home().parts) > 1 else [])


ABSOLUTE_PATH = re.compile(r"(?<![\w.~$:/])/[\w.-]+/")
"""The start of an absolute path ("/srv/lab/"), not a URL's path ("https://host/a/"), nor a path
written from a root people know ("~/.keras/", "$KERAS_HOME/models/")."""


def assert_clean(result: dict, *secrets: str, sent: object = None) -> None:
    """A tool result, or an error object of a known type whose message leaks nothing the caller did
    not send (`sent`: the call's arguments; an error may quote them)."""
    assert isinstance(result, dict)
    if "error" in result:
        assert result["error"]["type"] in ERROR_TYPES, result
        message = result["error"]["message"]
        quoted = repr(sent)
        for folder in server_folders():
            assert folder not in message or folder in quoted, message
        for secret in secrets:
            assert secret not in message, message
    json.dumps(result)


# --- strategies ----------------------------------------------------------------------------

hostile_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["../../../etc/passwd", "/etc/shadow", "cat_chelsea.png\x00.txt", "a" * 5000, "~/.ssh/id_rsa",
                     "http://127.0.0.1:9/x.png", "http://[::ffff:127.0.0.1]/", "http://2130706433/", "https://☃.example/",
                     "file:///etc/passwd", "gopher://x", "data:image/png;base64,!!!", "data:,hello", "   ", "", "<script>",
                     "VGG16<img src=x onerror=alert(1)>", "../" * 300, "\udcff", "%2e%2e%2f", CAT]),
)
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                      st.floats(allow_nan=True, allow_infinity=True), hostile_text)
json_value = st.recursive(json_leaf, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                               st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                          max_leaves=12)


@st.composite
def tool_calls(draw):
    """A tool name (real or not, a string or not) and arguments built from its real fields and junk."""
    name = draw(st.one_of(st.sampled_from(list(TOOLS)), st.text(max_size=20), json_value))
    fields = list(TOOLS[name].arguments.model_fields) if isinstance(name, str) and name in TOOLS else []
    keys = st.one_of(st.sampled_from(fields), st.text(max_size=10)) if fields else st.text(max_size=10)
    arguments = draw(st.one_of(st.dictionaries(keys, json_value, max_size=6), json_value,
                               st.text(max_size=40).map(lambda text: "{" + text)))
    return name, arguments


# --- tool calls ----------------------------------------------------------------------------

@FUZZ
@given(tool_calls())
def test_any_tool_call_ends_in_a_result_or_a_clean_error(call):
    name, arguments = call
    assert_clean(call_tool(name, arguments), sent=call)


@FUZZ
@given(st.sampled_from(["classify_image", "explain_prediction", "compare_models", "compare_preprocessing"]), hostile_text)
def test_hostile_images_reach_the_engine_and_end_cleanly(name, image):
    """Arguments that pass validation, with an image an attacker chose: the engine's intake answers."""
    arguments = {"image": image, "weights": "random", "allow_random_weights": True,
                 "model" if name in ("explain_prediction", "compare_preprocessing") else "models":
                 "AlexNet" if name in ("explain_prediction", "compare_preprocessing") else ["AlexNet"]}
    result = call_tool(name, arguments)
    assert_clean(result)
    if "error" not in result:
        assert image == CAT  # only the real photo is ever classified


def test_what_the_probe_found_in_call_tool_is_a_structured_error(tmp_path):
    nested = "[" * 100_000 + "]" * 100_000
    assert call_tool("classify_image", nested)["error"]["type"] == "InvalidArguments"  # RecursionError before
    assert call_tool(["classify_image"], {})["error"]["type"] == "UnknownTool"  # TypeError before
    assert call_tool({"a": 1}, {})["error"]["type"] == "UnknownTool"
    long_path = call_tool("classify_image", {"image": "x/" * 3000 + "cat.png"})
    assert long_path["error"]["type"] == "InvalidInputError" and "4096" in long_path["error"]["message"]
    too_long_name = call_tool("classify_image", {"image": str(tmp_path / ("a" * 300 + ".png"))})  # ENAMETOOLONG before
    assert too_long_name["error"]["type"] == "InvalidInputError" and "file system" in too_long_name["error"]["message"]
    huge = call_tool("classify_image", {"image": "data:image/png;base64," + "A" * 30_000_000})
    assert huge["error"]["type"] == "InvalidArguments" and len(huge["error"]["message"]) < 500  # not echoed back
    assert call_tool("describe_architecture", {"model": "VGG16<script>"})["error"]["type"] == "InvalidArguments"
    deep: dict = {}
    level = deep
    for _ in range(50_000):  # a Python caller's dict, too deep to print: still an error object, never a raise
        level["a"] = level = {}
    assert call_tool("classify_image", {"image": CAT, "models": deep})["error"]["type"] == "InvalidArguments"
    assert call_tool("classify_image", deep)["error"]["type"] == "InvalidArguments"
    assert call_tool("classify_image", {"image": "http://xn--.example/cat.png"})["error"]["type"] != "InternalError"


def test_errors_for_remote_callers_name_no_server_folder(tmp_path):
    secret = tmp_path / ".env"
    secret.write_text("API_KEY=sk-live-abcdef\n")
    for image in (str(secret), str(tmp_path / "missing.png"), "/etc/passwd", str(tmp_path)):
        assert_clean(call_tool("classify_image", {"image": image, "models": ["AlexNet"], "weights": "random",
                                                  "allow_random_weights": True}), "sk-live", "API_KEY", str(tmp_path))
    assert_clean(call_tool("evaluate_images", {"source": "/etc"}), "/etc")
    assert_clean(call_tool("render_report", {"kind": "evaluation", "source": str(tmp_path / "nope")}), str(tmp_path))


def test_missing_weights_are_named_by_file_never_by_a_server_folder(offline):
    """VGG16's ImageNet weights are not here and cannot be downloaded. Every tool that builds a
    registry model tells the remote caller which file is missing and where it goes, from the Keras
    home as people write it, and names no folder of this server: not in the error, not in the error
    entry of a model that could not answer beside one that did."""
    file_name = MODELS["VGG16"].imagenet.file_name
    calls = {"classify_image": {"image": CAT, "models": ["VGG16"]},
             "explain_prediction": {"image": CAT, "model": "VGG16"},
             "render_report": {"kind": "classification", "image": CAT, "models": ["VGG16"]}}
    for name, arguments in calls.items():
        result = call_tool(name, arguments)
        assert result["error"]["type"] == "WeightsUnavailableError", result
        assert f"$KERAS_HOME/models/{file_name}" in result["error"]["message"], result  # what is missing, where it goes
        assert_clean(result)
        assert not ABSOLUTE_PATH.search(result["error"]["message"]), result
    partial = call_tool("classify_image", {"image": CAT, "models": ["EfficientNetLite0", "VGG16"]})
    failure = partial["results"][1]["error"]
    assert failure["params"]["file"] == file_name and failure["params"]["folder"] == "$KERAS_HOME/models"
    compared = call_tool("compare_models", {"image": CAT, "models": ["VGG16"]})  # its architecture, and why no answer
    assert compared["models"][0]["total_params"] == 138_357_544
    assert f"$KERAS_HOME/models/{file_name}" in compared["models"][0]["error"]["message"]
    for text in (json.dumps(partial), json.dumps(compared)):
        assert not any(folder in text for folder in server_folders()) and not ABSOLUTE_PATH.search(text), text


# --- image intake --------------------------------------------------------------------------

def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_header(width: int, height: int, depth: int = 8, colour: int = 2) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))


def encoded(format_: str, size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(buffer, format_)
    return buffer.getvalue()


image_bytes = st.one_of(
    st.binary(max_size=300),
    st.sampled_from([encoded(f) for f in ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")]).flatmap(
        lambda data: st.integers(0, len(data)).map(lambda cut: data[:cut])),  # every truncation
    st.sampled_from([encoded(f) for f in ("PNG", "JPEG", "BMP")]).flatmap(
        lambda data: st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255)).map(
            lambda flip: data[:flip[0]] + bytes([flip[1]]) + data[flip[0] + 1:])),  # a byte changed
    st.tuples(st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1), st.sampled_from([1, 2, 4, 8, 16]),
              st.sampled_from([0, 2, 3, 4, 6, 7])).map(lambda h: png_header(*h) + png_chunk(b"IEND", b"")),
)


@FUZZ
@given(image_bytes)
def test_any_bytes_end_in_an_image_or_an_image_error(data):
    for form in (data, "data:image/png;base64," + base64.b64encode(data).decode()):
        try:
            loaded = load_image(form)
        except PluginError as error:
            assert "\\x" not in str(error) and "b'" not in str(error)  # the bytes are never quoted
        else:
            assert loaded.image.mode == "RGB" and loaded.image.width * loaded.image.height <= 4_000_000


@FUZZ
@given(st.one_of(
    st.tuples(st.integers(1, 64), st.integers(1, 64), st.sampled_from([1, 2, 3, 4, 5]),
              st.sampled_from(["uint8", "uint16", "int32", "int64", "float32", "float64", "bool", "complex64"])),
    st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3), st.sampled_from(["uint8", "float32"]))))
def test_any_array_ends_in_an_image_or_an_image_error(spec):
    height, width, channels, dtype = spec
    array = (np.random.default_rng(0).uniform(-3, 70000, (height, width, channels))).astype(dtype)
    try:
        loaded = load_image(array)
    except PluginError:
        return
    assert loaded.image.mode == "RGB" and loaded.image.size == (width, height)


def test_a_decompression_bomb_costs_nothing(tmp_path):
    """A 190 KB PNG of 169 megapixels is refused from its header."""
    bomb = png_header(13_000, 13_000) + png_chunk(b"IDAT", zlib.compress(b"\x00" * (1 + 13_000 * 3) * 64)) + png_chunk(b"IEND", b"")
    with pytest.raises(plugin.ImageError, match="at most 50,000,000 pixels"):
        load_image(bomb)


def test_small_files_of_huge_images_cost_bounded_memory(tmp_path):
    """A 13 KB palette PNG and a 200 KB RGBA PNG of 50 megapixels each: decoded, then scaled down
    before any colour work, in a fresh process whose peak memory is measured."""
    from PIL import Image

    Image.new("P", (8000, 6250), 3).save(tmp_path / "palette.png", optimize=True)
    Image.new("RGBA", (8000, 6250), (10, 20, 30, 200)).save(tmp_path / "rgba.png", optimize=True)
    script = ("import resource, sys; from plugin.engine.intake.images import load_image; import plugin;"
              "plugin.configure(image_roots=[sys.argv[1]], output_dir=sys.argv[1]);"
              "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; image = load_image(sys.argv[2]);"
              "print(image.image.size, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)")
    runs = {name: subprocess.Popen([sys.executable, "-c", script, str(tmp_path), str(tmp_path / name)], cwd=REPO,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for name in ("palette.png", "rgba.png")}  # side by side, each in a fresh process
    for name, bound in (("palette.png", 350), ("rgba.png", 550)):  # MB: 50 MP of RGBA is 200 MB decoded
        out, err = runs[name].communicate(timeout=120)
        assert runs[name].returncode == 0, err[-800:]
        size, grown = out.strip().rsplit(" ", 1)
        assert size == "(2262, 1767)" and int(grown) < bound, (name, out, err[-500:])


def test_paths_that_the_file_system_refuses_are_clear_errors(tmp_path):
    for path in ("a" * 300 + ".png", str(tmp_path / ("b" * 255) / "c.png"), "x" * 5000):
        with pytest.raises(plugin.InvalidInputError):
            load_image(path)
    loop = tmp_path / "loop.png"
    os.symlink(loop, loop)
    with pytest.raises(plugin.InvalidInputError):
        load_image(str(loop))


# --- DNS rebinding: the host allow-list --------------------------------------------------------

def test_the_host_guard_answers_only_the_names_it_is_served_on():
    import asyncio

    from plugin.doors.http_hosts import HostGuard, served_hosts

    async def reached(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})

    def status(hosts, host, origin=None):
        sent = []
        headers = [(b"host", host.encode())] + ([(b"origin", origin.encode())] if origin else [])

        async def send(message):
            sent.append(message)

        asyncio.run(HostGuard(reached, hosts)({"type": "http", "headers": headers}, None, send))
        return sent[0]["status"]

    proxied = served_hosts("127.0.0.1", share=False, extra=["lab.example.org", "*.campus.example"])
    assert status(proxied, "127.0.0.1:7860") == status(proxied, "lab.example.org") == status(proxied, "a.campus.example") == 200
    assert status(proxied, "attacker.example") == 421 and status(proxied, "lab.example.org.attacker.example") == 421
    assert status(proxied, "localhost:7860", origin="http://attacker.example") == 403
    assert status(proxied, "localhost:7860", origin="http://localhost:7860") == 200
    assert status(proxied, "localhost:7860", origin="null") == 403  # a sandboxed iframe, a data: page, a local file
    assert status(proxied, "localhost:7860", origin="http://localhost:8080") == 403  # another site on this machine
    assert status(proxied, "127.0.0.1:7860", origin="https://lab.example.org") == 200  # a proxy's public name, vouched for
    assert status(served_hosts("127.0.0.1", share=False, extra=["*"]), "a.example", origin="null") == 403
    assert status(served_hosts("127.0.0.1", share=False, extra=["*"]), "anything.example") == 200  # behind a proxy that checks
    assert "*.gradio.live" in served_hosts("127.0.0.1", share=True)


def test_the_file_guard_passes_file_paths_and_stops_urls_before_gradio():
    import asyncio

    from plugin.doors.http_files import LocalFilesOnly

    reached = []

    async def gradio(scope, receive, send):
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def nowhere(message):
        pass

    for path in ("/gradio_api/file=http://a.example/x", "/gradio_api/file=ftp://a.example/x", "/gradio_api/file=//a.example/x",
                 "/gradio_api/file=/tmp/gradio/abc/cat.png", "/gradio_api/info"):
        asyncio.run(LocalFilesOnly(gradio)({"type": "http", "path": path}, None, nowhere))
    assert reached == ["/gradio_api/file=/tmp/gradio/abc/cat.png", "/gradio_api/info"]


def test_an_upload_an_event_used_is_kept_and_unused_ones_are_swept(tmp_path):
    import asyncio

    from plugin.doors.http_uploads import UploadQuota, mark_used

    made = []

    async def gradio(scope, receive, send):
        await receive()
        path = tmp_path / f"upload-{len(made)}" / "photo.png"
        path.parent.mkdir()
        path.write_bytes(b"x" * 10)
        made.append(path)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": json.dumps([str(path)]).encode()})

    statuses = []

    async def noted(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    quota = UploadQuota(gradio, path="/gradio_api/upload", total=25, cap=100, unused_s=0)

    def upload(size: int) -> None:
        scope = {"type": "http", "method": "POST", "path": "/gradio_api/upload",
                 "headers": [(b"content-length", str(size).encode()), (b"accept-encoding", b"br")]}
        async def body():
            return {"type": "http.request", "body": b"x" * size, "more_body": False}

        asyncio.run(quota(scope, body, noted))

    upload(10)
    mark_used(made[0])  # an event read it
    upload(10)
    upload(10)  # sweeps the second, which no event used
    assert made[0].exists() and not made[1].exists() and made[2].exists()
    upload(30)  # more than the total: refused before Gradio sees it
    assert statuses == [200, 200, 200, 507] and len(made) == 3


def test_errors_about_a_list_of_photos_say_where_never_what_its_cells_hold(tmp_path):
    """A CSV or JSON list is the caller's data: an error names its row, never echoes a cell."""
    import shutil

    shutil.copy(CAT, tmp_path / "cat.png")
    cases = {"missing.csv": "image,label\ndb_password=hunter2.png,cat\n",
             "label.csv": "image,label\ncat.png,sk-live-abcdef\n",
             "odd.json": '[{"image": "cat.png", "label": "cat"}, "db_password=hunter2"]',
             "outside.json": '[["/etc/db_password=hunter2.png", "cat"]]'}
    for name, content in cases.items():
        (tmp_path / name).write_text(content)
        result = call_tool("evaluate_images", {"source": str(tmp_path / name), "models": ["EfficientNetLite0"]})
        assert "error" in result, name
        assert_clean(result, "hunter2", "sk-live", "db_password")
        assert f"{name} #" in result["error"]["message"] or "entry 2" in result["error"]["message"], result["error"]["message"]
