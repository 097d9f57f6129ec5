"""The web app started as a user starts it (`launch.py app`) on a free port: its MCP endpoint
driven by the official MCP client over Streamable HTTP, its API by gradio_client, and its pages
by Debian's Chromium through Playwright."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

from plugin.config import EXAMPLES_DIR
from plugin.tools import TOOLS
from tests.conftest import REPO

CAT = str(EXAMPLES_DIR / "cat_chelsea.png")
ARTIFACTS = REPO / "test-artifacts" / "webapp"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app in a subprocess; yields its URL and output folder."""
    out = tmp_path_factory.mktemp("app-out")
    port = free_port()
    log = open(out / "server.log", "w")
    process = subprocess.Popen(
        [sys.executable, str(REPO / "launch.py"), "--image-root", str(EXAMPLES_DIR), "--output-dir", str(out),
         "app", "--port", str(port), "--lang", "ko"],
        cwd=out, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
                                                             "GRADIO_ANALYTICS_ENABLED": "False"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"the app exited: {(out / 'server.log').read_text()[-2000:]}")
            time.sleep(1)
    else:
        process.kill()
        raise RuntimeError("the app did not start within 180 s")
    yield {"url": url, "out": out}
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def mcp_session(url, steps):
    async def main():
        async with streamablehttp_client(f"{url}/gradio_api/mcp/") as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await steps(session)

    return asyncio.run(asyncio.wait_for(main(), timeout=300))


def test_mcp_over_http_lists_the_same_tools_and_no_ui_events(app):
    async def steps(session):
        return (await session.list_tools()).tools

    tools = mcp_session(app["url"], steps)
    assert [tool.name for tool in tools] == list(TOOLS)
    by_name = {tool.name: tool for tool in tools}
    assert by_name["classify_image"].description == TOOLS["classify_image"].description
    properties = by_name["describe_architecture"].inputSchema["properties"]
    assert set(properties) == set(TOOLS["describe_architecture"].arguments.model_fields)
    assert "ResNet50" in properties["model"]["enum"] and properties["detail"]["enum"] == ["summary", "layers", "full"]


def test_mcp_over_http_calls_each_tool(app):
    async def steps(session):
        return {
            "list_models": await session.call_tool("list_models", {}),
            "classify_image": await session.call_tool("classify_image", {
                "image": CAT, "models": ["AlexNet"], "weights": "random", "allow_random_weights": True, "top_k": 2}),
            "describe_architecture": await session.call_tool("describe_architecture", {"model": "AlexNet"}),
            "compare_models": await session.call_tool("compare_models", {"models": ["AlexNet"]}),
            "render_report": await session.call_tool("render_report", {"kind": "architecture", "model": "AlexNet", "lang": "en"}),
            "bad": await session.call_tool("classify_image", {"image": CAT, "top_k": 0}),
            "outside": await session.call_tool("classify_image", {"image": "/etc/passwd", "models": ["AlexNet"]}),
            "after": await session.call_tool("list_models", {}),
        }

    outcomes = mcp_session(app["url"], steps)
    results = {name: json.loads(outcome.content[0].text) for name, outcome in outcomes.items() if not outcome.isError}
    assert set(results) == {"list_models", "classify_image", "describe_architecture", "compare_models", "render_report", "after"}
    assert results["list_models"]["models"][0]["name"] == "VGG16"
    assert results["classify_image"]["results"][0]["untrained"] is True
    assert results["describe_architecture"]["depth"] == 8 and results["describe_architecture"]["layers"] is None
    assert results["compare_models"]["models"][0]["model"] == "AlexNet"
    assert Path(results["render_report"]["path"]).is_relative_to(app["out"])
    assert outcomes["bad"].isError and "top_k" in outcomes["bad"].content[0].text
    assert outcomes["outside"].isError and "AccessDeniedError" in outcomes["outside"].content[0].text


def test_gradio_client_calls_the_public_endpoints(app):
    from gradio_client import Client

    client = Client(app["url"], verbose=False)
    listing = json.loads(client.predict(api_name="/list_models"))
    assert [m["name"] for m in listing["models"]][-1] == "AlexNet"
    described = json.loads(client.predict(model="VGG16", include_diagram=False, api_name="/describe_architecture"))
    assert described["total_params"] == 138_357_544
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert sorted(endpoints) == sorted(f"/{name}" for name in TOOLS)
