"""The MCP stdio server, started once for this module as a subprocess (`launch.py mcp`) and driven
by the official MCP client: one client session, held open on an event loop in a thread, serves
every test in turn (a stdio server has exactly one client)."""

import asyncio
import concurrent.futures
import json
import os
import sys
import threading
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from plugin.config import EXAMPLES_DIR
from plugin.doors.tools import TOOLS, tool_specs
from tests.conftest import REPO
from tests.test_limits import CASES, RANDOM

CAT = str(EXAMPLES_DIR / "cat_chelsea.png")
BOTH = str(EXAMPLES_DIR / "dog_and_cat.jpg")  # a dog on the left, a cat on the right
OFFLINE_PROXY = "http://127.0.0.1:9"  # a closed port: no download can succeed


class StdioServer:
    """`launch.py mcp` in a subprocess with an initialised client session; `run(steps)` runs
    `steps(session)` on the session's event loop and returns what it returns."""

    def __init__(self, folder: Path, roots):
        self.folder = folder
        self.out = folder / "out"
        self.params = StdioServerParameters(
            command=sys.executable,
            args=[str(REPO / "launch.py"), *[arg for root in (EXAMPLES_DIR, *roots) for arg in ("--image-root", str(root))],
                  "--output-dir", str(self.out), "mcp"],
            # No background ONNX export: the server answers on the backend it started with, as this process does
            # (the background export is tested in tests/test_onnx.py). Offline: downloads go through a closed port.
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CNNLAB_AUTO_EXPORT": "0", "HTTPS_PROXY": OFFLINE_PROXY,
                 "https_proxy": OFFLINE_PROXY, "NO_PROXY": "127.0.0.1,localhost"}, cwd=str(folder))
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="mcp-client", daemon=True)
        self.session_ready: concurrent.futures.Future = concurrent.futures.Future()
        self.held = None

    async def _hold(self):
        stop = asyncio.Event()
        try:
            with open(self.folder / "server.log", "w") as errlog:
                async with stdio_client(self.params, errlog=errlog) as (read, write):
                    async with ClientSession(read, write) as session:
                        await asyncio.wait_for(session.initialize(), timeout=300)
                        self.session_ready.set_result((session, stop))
                        await stop.wait()
        except BaseException as exc:
            if not self.session_ready.done():
                self.session_ready.set_exception(exc)
            raise

    def start(self) -> "StdioServer":
        self.thread.start()
        self.held = asyncio.run_coroutine_threadsafe(self._hold(), self.loop)
        self.session, self._stop = self.session_ready.result(timeout=310)
        return self

    def run(self, steps):
        return asyncio.run_coroutine_threadsafe(asyncio.wait_for(steps(self.session), timeout=300), self.loop).result()

    def close(self):
        if self.session_ready.done() and not self.session_ready.exception():
            self.loop.call_soon_threadsafe(self._stop.set)
        try:
            self.held.result(timeout=60)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=30)
            self.loop.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, labelled_photos):
    """One `launch.py mcp` for the module; the labelled photos are an image root."""
    started = StdioServer(tmp_path_factory.mktemp("mcp-stdio"), roots=[labelled_photos, REPO / "tests" / "photos"])
    try:
        yield started.start()
    finally:
        started.close()


def payload(result) -> dict:
    return json.loads(result.content[0].text)


def test_stdio_server_lists_and_runs_every_tool(server, labelled_photos):
    notes = []

    async def on_progress(progress, total, message):
        notes.append((progress, total, message))

    async def steps(session):
        listed = await session.list_tools()
        outcomes = {"tools": {tool.name: tool for tool in listed.tools}}
        outcomes["list_models"] = await session.call_tool("list_models", {})
        outcomes["classify_image"] = await session.call_tool("classify_image", {
            "image": CAT, "models": ["AlexNet"], "weights": "random", "allow_random_weights": True, "top_k": 3})
        outcomes["describe_architecture"] = await session.call_tool("describe_architecture", {
            "model": "AlexNet", "include_image": True})
        outcomes["compare_models"] = await session.call_tool("compare_models", {"models": ["AlexNet", "MobileNetV2"]})
        outcomes["render_report"] = await session.call_tool("render_report", {"kind": "architecture", "model": "AlexNet"})
        outcomes["explain_prediction"] = await session.call_tool("explain_prediction", {
            "image": CAT, "model": "EfficientNetLite0", "include_image": True})
        outcomes["compare_explanations"] = await session.call_tool("compare_explanations", {
            "image": BOTH, "model": "EfficientNetLite0", "methods": ["gradcam"], "targets": ["dog", "cat"], "metrics": True,
            "steps": 5, "include_image": True})
        outcomes["look_inside"] = await session.call_tool("look_inside", {
            "image": CAT, "model": "EfficientNetLite0", "views": ["filters", "walk"], "include_image": True})
        outcomes["compare_preprocessing"] = await session.call_tool("compare_preprocessing", {
            "image": CAT, "model": "EfficientNetLite0", "modes": ["lite", "none"], "top_k": 1})
        outcomes["evaluate_images"] = await session.call_tool("evaluate_images", {
            "source": str(labelled_photos), "models": ["EfficientNetLite0"]}, progress_callback=on_progress)
        outcomes["fine_tune"] = await session.call_tool("fine_tune", {"source": str(labelled_photos), "epochs": 2, "augment": False})
        return outcomes

    outcomes = server.run(steps)
    tools = outcomes["tools"]
    assert list(tools) == list(TOOLS)
    for spec in tool_specs("mcp"):  # the schema of each tool's pydantic model, as is
        assert tools[spec["name"]].inputSchema == spec["inputSchema"]
        assert tools[spec["name"]].description == spec["description"]
        assert tools[spec["name"]].title == spec["title"] == TOOLS[spec["name"]].title
        assert tools[spec["name"]].annotations.model_dump(exclude_none=True) == spec["annotations"]
        assert tools[spec["name"]].outputSchema == spec["outputSchema"]
    assert "dog/cat verdict" in tools["classify_image"].description
    assert tools["list_models"].annotations.readOnlyHint and tools["describe_architecture"].annotations.readOnlyHint
    assert tools["fine_tune"].annotations.readOnlyHint is False and tools["render_report"].annotations.readOnlyHint is False
    assert tools["fine_tune"].annotations.destructiveHint and tools["classify_image"].annotations.openWorldHint
    for name in TOOLS:
        assert not outcomes[name].isError, outcomes[name].content[0].text
        # The client has checked it too (ClientSession.call_tool raises on a result its schema refuses).
        schema = tools[name].outputSchema
        Draft202012Validator.check_schema(schema)
        errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in Draft202012Validator(schema).iter_errors(outcomes[name].structuredContent)]
        assert not errors, (name, errors)
    assert payload(outcomes["list_models"])["models"][-1]["name"] == "AlexNet"
    classified = outcomes["classify_image"].structuredContent
    assert classified["results"][0]["untrained"] is True and len(classified["results"][0]["predictions"]) == 3
    described = outcomes["describe_architecture"]
    assert described.structuredContent["depth"] == 8
    assert [block.type for block in described.content] == ["text", "image"]
    assert described.content[1].mimeType == "image/png"
    assert [row["model"] for row in payload(outcomes["compare_models"])["models"]] == ["AlexNet", "MobileNetV2"]
    explained = outcomes["explain_prediction"]
    assert [block.type for block in explained.content] == ["text", "image"] and explained.content[1].mimeType == "image/png"
    assert explained.structuredContent["class"]["index"] in range(281, 286) and explained.structuredContent["target"] == "answer"
    contrast = outcomes["compare_explanations"]
    assert [block.type for block in contrast.content] == ["text", "image"]  # the grid of maps
    dog, cat = contrast.structuredContent["explanations"]
    assert (dog["class"]["group"], dog["is_answer"], cat["class"]["group"], cat["is_answer"]) == ("dog", False, "cat", True)
    assert len(cat["metrics"]["deletion"]["curve"]) == 6 and set(cat["metrics"]["baselines"]) == {"random", "centre"}
    assert [row["own"] for row in outcomes["compare_preprocessing"].structuredContent["modes"]] == [True, False]
    inside = outcomes["look_inside"]
    assert inside.structuredContent["walk"]["difference"] < 1e-4 and [block.type for block in inside.content] == ["text", "image"]
    assert outcomes["evaluate_images"].structuredContent["models"][0]["accuracy"]["verdict"] == 1.0
    assert notes and notes[-1][:2] == (16.0, 16.0) and "EfficientNetLite0" in notes[-1][2]  # progress notifications
    tuned = outcomes["fine_tune"].structuredContent
    assert tuned["class_names"] == ["cat", "dog"] and (server.out / tuned["model_path"]).is_file()
    report = payload(outcomes["render_report"])
    assert (server.out / report["path"]).is_file() and all(str(server.out) not in outcome.content[0].text for outcome in outcomes.values() if hasattr(outcome, "content"))


def test_bad_arguments_and_engine_errors_are_tool_errors_and_the_server_keeps_serving(server):
    async def steps(session):
        return [
            await session.call_tool("classify_image", {"image": CAT, "top_k": 99}),
            await session.call_tool("classify_image", {"image": CAT, "images": [CAT]}),
            await session.call_tool("classify_image", {"image": "/etc/passwd", "weights": "random", "allow_random_weights": True}),
            await session.call_tool("describe_architecture", {"model": "AlexNet", "include_diagram": False}),
            await session.call_tool("no_such_tool", {}),
            await session.call_tool("classify_image", {"image": CAT, "surprise": 1}),
            await session.call_tool("classify_image", {"image": CAT, "models": ["VGG16"]}),
            await session.call_tool("explain_prediction", {"image": CAT, "model": "EfficientNetLite0", "method": "magic"}),
        ]

    too_many, both, outside, fine, unknown, extra, no_weights, no_method = server.run(steps)
    assert no_method.isError and payload(no_method)["error"]["type"] == "InvalidArguments"
    assert "Expected method to be one of ['gradcam'," in payload(no_method)["error"]["message"]
    assert too_many.isError and payload(too_many)["error"]["type"] == "InvalidArguments" and "top_k" in too_many.content[0].text
    assert both.isError and payload(both)["error"]["type"] == "InvalidArguments"
    assert outside.isError and payload(outside)["error"]["type"] == "AccessDeniedError"
    assert not fine.isError and payload(fine)["model"] == "AlexNet"
    assert unknown.isError and payload(unknown)["error"]["type"] == "UnknownTool"
    # An error is text only: structured content is a result, which the tool's output schema describes.
    assert all(outcome.structuredContent is None for outcome in (too_many, both, outside, unknown, extra, no_weights))
    assert extra.isError and "surprise" in payload(extra)["error"]["message"]  # unknown fields are refused, not dropped
    missing = payload(no_weights)["error"]  # the file by its name in the Keras home, not the server's folder
    assert no_weights.isError and missing["type"] == "WeightsUnavailableError"
    assert "$KERAS_HOME/models/vgg16_weights_tf_dim_ordering_tf_kernels.h5" in missing["message"]
    assert not any(folder in no_weights.content[0].text for folder in (os.environ["KERAS_HOME"], "/tmp/", str(REPO)))


def test_limits_over_stdio_are_the_engines(server):
    async def steps(session):
        return [await session.call_tool("classify_image", arguments | RANDOM) for _, arguments, _ in CASES]

    for (case, _, accepted), outcome in zip(CASES, server.run(steps)):
        assert outcome.isError is not accepted, case
        if not accepted:
            assert payload(outcome)["error"]["type"] == "InvalidArguments", case


def test_real_weights_give_the_python_answer_over_stdio(server):
    import plugin

    async def steps(session):
        return await session.call_tool("classify_image", {"image": CAT, "top_k": 5})

    outcome = server.run(steps)
    assert not outcome.isError
    expected = plugin.classify_image(CAT, top_k=5)["results"][0]["predictions"]
    got = outcome.structuredContent["results"][0]["predictions"]
    assert [(p["index"], p["probability"]) for p in got] == [(p["index"], p["probability"]) for p in expected]


def test_the_dog_cat_verdicts_over_stdio_with_real_weights(server, labelled_photos):
    """Crops of the dog are dogs and of the cat cats for all three Lite models, a crop whose top-1 is
    lynx is a cat, and a bird, a painting and horses are "other" (tests/photos, MIT)."""
    import base64
    import io

    from PIL import Image

    from tests.test_partial_results import LITE, lynx_crop

    buffer = io.BytesIO()
    Image.fromarray(lynx_crop()).save(buffer, format="PNG")
    lynx = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    photos = REPO / "tests" / "photos"
    cases = {"dog": [str(p) for p in sorted((labelled_photos / "dog").glob("*.jpg"))[:4]],
             "cat": [str(p) for p in sorted((labelled_photos / "cat").glob("*.jpg"))[:4]],
             "other": [str(photos / f"{name}.jpg") for name in ("eagle", "scream", "horses")]}
    for label, paths in cases.items():
        async def steps(session, paths=paths):
            return await session.call_tool("classify_image", {"images": paths, "models": LITE})

        outcome = server.run(steps)
        assert not outcome.isError, outcome.content
        found = [(o["model"], o["verdict"]["label"]) for r in outcome.structuredContent["images"] for o in r["results"]]
        assert len(found) == 3 * len(paths) and {verdict for _, verdict in found} == {label}, found

    async def lynx_step(session):
        return await session.call_tool("classify_image", {"image": lynx, "models": ["EfficientNetLite0"], "resize": "whole"})

    answer = server.run(lynx_step).structuredContent["results"][0]
    assert answer["predictions"][0]["label"] == "lynx" and answer["verdict"]["label"] == "cat"
