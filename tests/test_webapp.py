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


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield launched
        launched.close()


@pytest.fixture
def page(app, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    opened = context.new_page()
    opened.goto(app["url"])
    opened.locator("#classify-button").wait_for(timeout=60_000)
    yield opened
    context.close()


def toasts(page) -> str:
    return " ".join(page.locator("[class*=toast]").all_inner_texts())


def test_upload_and_classify_with_the_random_weights_switch(page):
    page.locator("#classify-image input[type=file]").set_input_files(CAT)
    page.locator("#random-weights input[type=checkbox]").check()
    page.locator("#classify-button").click()
    page.locator(".model-label").first.wait_for(state="visible", timeout=180_000)
    assert page.locator(".model-label:visible").count() == 2  # VGG16 and ResNet50, side by side
    summary = page.locator("#classify-summary").inner_text()
    assert "VGG16" in summary and "ResNet50" in summary and "학습 안 됨" in summary
    page.screenshot(path=str(ARTIFACTS / "classify.png"), full_page=True)

    page.locator("#classify-report").click()
    link = page.locator("#classify-report-file a").first
    link.wait_for(timeout=180_000)
    with page.expect_download() as download:
        link.click()
    saved = download.value.path()
    assert "분류 결과" in Path(saved).read_text("utf-8")


def test_without_weights_classification_explains_how_to_get_them(page):
    page.locator("#classify-image input[type=file]").set_input_files(CAT)
    page.locator("#classify-button").click()
    page.wait_for_function("document.body.innerText.includes('Keras cache')", timeout=120_000)
    assert "vgg16_weights_tf_dim_ordering_tf_kernels.h5" in toasts(page)
    assert "Traceback" not in page.content()


def test_architecture_tab_shows_the_diagram_and_makes_a_report(page):
    page.get_by_role("tab", name="구조").click()
    page.locator("#describe-button").click()
    diagram = page.locator("#arch-diagram img")
    diagram.wait_for(state="visible", timeout=180_000)
    box = diagram.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 200
    assert "138,357,544" in page.locator("#arch-figures").inner_text()
    assert page.get_by_text("block5", exact=False).count() > 0
    page.screenshot(path=str(ARTIFACTS / "architecture.png"))
    page.locator("#arch-report").click()
    link = page.locator("#arch-report-file a").first
    link.wait_for(timeout=180_000)
    with page.expect_download() as download:
        link.click()
    assert "VGG16 구조 분석" in Path(download.value.path()).read_text("utf-8")


def test_switching_language_relabels_the_interface(page):
    page.locator("#language").get_by_label("en").check()
    page.wait_for_function("document.querySelector('#classify-button').innerText.includes('Classify')", timeout=30_000)
    page.get_by_role("tab", name="Architecture").wait_for(timeout=30_000)
    assert page.get_by_role("tab", name="구조").count() == 0
    page.screenshot(path=str(ARTIFACTS / "english.png"))


def test_a_bad_model_upload_shows_the_engine_error_and_the_app_keeps_serving(page, tmp_path):
    garbage = tmp_path / "broken.keras"
    garbage.write_bytes(b"PK\x03\x04 this is not a model")
    page.locator("#classify-image input[type=file]").set_input_files(CAT)
    page.get_by_text("직접 만든 모델", exact=False).first.click()
    page.locator("input[type=file]").nth(1).set_input_files(str(garbage))
    page.wait_for_timeout(1500)
    page.locator("#classify-button").click()
    page.wait_for_function("document.body.innerText.includes('could not be read')", timeout=120_000)
    assert "broken.keras" in toasts(page)
    page.screenshot(path=str(ARTIFACTS / "bad-upload.png"))
    page.get_by_role("tab", name="보고서").click()
    page.locator("#reports-refresh").click()
    page.wait_for_timeout(1000)
    assert "Traceback" not in page.content()


def test_compare_tab_and_the_reports_made_so_far(page, app):
    page.get_by_role("tab", name="비교").click()
    page.locator("#compare-button").click()
    page.wait_for_function("document.body.innerText.includes('MobileNetV2') && document.querySelectorAll('svg.chart').length >= 4",
                           timeout=180_000)
    page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True)
    from gradio_client import Client

    made = json.loads(Client(app["url"], verbose=False).predict(kind="architecture", model="AlexNet", lang="en",
                                                                api_name="/render_report"))
    assert Path(made["path"]).is_file()
    page.get_by_role("tab", name="보고서").click()
    page.locator("#reports-refresh").click()
    page.wait_for_function("document.querySelector('#reports-preview iframe') !== null", timeout=60_000)
    assert page.frame_locator("#reports-preview iframe").locator("h1").count() == 1
