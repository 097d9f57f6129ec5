"""The web app started as a user starts it (`launch.py --port N`) on a free port: its MCP endpoint
driven by the official MCP client over Streamable HTTP, its API by gradio_client, and its pages
by Debian's Chromium through Playwright. The app runs offline: its downloads go through a proxy on
a closed port."""

import asyncio
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from plugin.config import EXAMPLES_DIR
from plugin.doors.tools import TOOLS, tool_specs
from tests.conftest import REPO
from tests.test_limits import CASES, RANDOM

CAT = str(EXAMPLES_DIR / "cat_chelsea.png")
ARTIFACTS = REPO / "test-artifacts" / "webapp"


def mcp_session(url, steps):
    async def main():
        async with streamable_http_client(f"{url}/gradio_api/mcp/") as (read, write, _):
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
    for spec in tool_specs("mcp"):  # the same schemas, limits included, as over stdio and in call_tool
        assert by_name[spec["name"]].inputSchema == spec["inputSchema"]
        assert by_name[spec["name"]].description == spec["description"]
        assert by_name[spec["name"]].annotations.model_dump(exclude_none=True) == spec["annotations"]
        assert by_name[spec["name"]].outputSchema == spec["outputSchema"]


def test_gradios_documented_mcp_paths_answer_with_the_same_server(app):
    """/gradio_api/mcp/sse (the SSE transport most tutorials and client configs use) and
    /gradio_api/mcp/schema (how Hugging Face lists a Space's tools) serve the project's own server;
    a newer client's first request (mcp 2's server/discover) gets "method not found", quietly."""
    import httpx
    from mcp.client.sse import sse_client

    schema = httpx.get(app["url"] + "/gradio_api/mcp/schema", timeout=30)
    assert schema.status_code == 200
    assert [(tool["name"], tool["inputSchema"], tool["annotations"], tool["outputSchema"]) for tool in schema.json()] == [
        (s["name"], s["inputSchema"], s["annotations"], s["outputSchema"]) for s in tool_specs("mcp")]

    async def over_sse():
        async with sse_client(app["url"] + "/gradio_api/mcp/sse") as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                listed = [tool.name for tool in (await session.list_tools()).tools]
                return listed, await session.call_tool("classify_image", {"image": CAT, "models": ["EfficientNetLite0"]})

    listed, outcome = asyncio.run(asyncio.wait_for(over_sse(), timeout=300))
    assert listed == list(TOOLS) and not outcome.isError
    assert outcome.structuredContent["results"][0]["verdict"]["label"] == "cat"

    discover = httpx.post(app["url"] + "/gradio_api/mcp/", timeout=30,
                          json={"jsonrpc": "2.0", "id": 7, "method": "server/discover", "params": {}},
                          headers={"Accept": "application/json, text/event-stream"})
    answer = json.loads(next(line[5:] for line in discover.text.splitlines() if line.startswith("data:")))
    assert answer == {"jsonrpc": "2.0", "id": 7, "error": {"code": -32601, "message": "Method not found: server/discover"}}
    log = (app["out"] / "server.log").read_text()
    assert "Failed to validate" not in log and "Traceback" not in log  # quiet, and no request's end logged as a crash


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
    results = {name: outcome.structuredContent for name, outcome in outcomes.items() if not outcome.isError}
    for name, result in results.items():
        assert json.loads(outcomes[name].content[0].text) == result
    assert set(results) == {"list_models", "classify_image", "describe_architecture", "compare_models", "render_report", "after"}
    assert results["list_models"]["models"][0]["name"] == "VGG16"
    assert results["classify_image"]["results"][0]["untrained"] is True
    assert results["describe_architecture"]["depth"] == 8 and results["describe_architecture"]["layers"] is None
    assert results["compare_models"]["models"][0]["model"] == "AlexNet"
    assert (app["out"] / results["render_report"]["path"]).is_file()  # relative: the server's folders stay unsaid
    assert str(app["out"]) not in json.dumps(results)
    assert outcomes["bad"].isError and json.loads(outcomes["bad"].content[0].text)["error"]["type"] == "InvalidArguments"
    assert outcomes["outside"].isError and json.loads(outcomes["outside"].content[0].text)["error"]["type"] == "AccessDeniedError"


def test_mcp_over_http_carries_a_data_uri_as_large_as_the_tools_take(app):
    """The README's 32 MiB body (a 20 MiB photo as a data URI) holds for MCP over HTTP too, not the SDK's 4 MiB."""
    import base64

    noise = "data:image/png;base64," + base64.b64encode(os.urandom(9 * 2**20)).decode("ascii")  # 12 MB of text

    async def steps(session):
        return await session.call_tool("classify_image", {"image": noise})

    outcome = mcp_session(app["url"], steps)
    assert outcome.isError and json.loads(outcome.content[0].text)["error"]["type"] == "ImageError"  # read, then refused


def test_limits_over_http_are_the_engines(app):
    from gradio_client import Client

    async def steps(session):
        return [await session.call_tool("classify_image", arguments | RANDOM) for _, arguments, _ in CASES]

    client = Client(app["url"], verbose=False)
    for (case, arguments, accepted), outcome in zip(CASES, mcp_session(app["url"], steps)):
        assert outcome.isError is not accepted, case
        try:
            client.predict(**arguments, **RANDOM, api_name="/classify_image")
            answered = True
        except Exception as exc:  # gradio_client raises its AppError with the tool's error object
            assert "InvalidArguments" in str(exc), case
            answered = False
        assert answered is accepted, case


def answer(result: dict) -> list:
    return [(p["index"], p["probability"]) for p in result["results"][0]["predictions"]]


def test_the_gradio_api_and_mcp_over_http_give_the_python_answer(app):
    """Real weights through every HTTP door: the same classes and probabilities as in Python."""
    from gradio_client import Client

    import plugin

    expected = answer(plugin.classify_image(CAT))

    async def steps(session):
        return await session.call_tool("classify_image", {"image": CAT})

    over_mcp = mcp_session(app["url"], steps).structuredContent
    over_api = json.loads(Client(app["url"], verbose=False).predict(image=CAT, api_name="/classify_image"))
    assert answer(over_mcp) == answer(over_api) == expected
    assert over_mcp["results"][0]["model"] == "EfficientNetLite0" and expected[0][0] in range(281, 286)


def test_gradio_client_calls_the_public_endpoints(app):
    from gradio_client import Client

    client = Client(app["url"], verbose=False)
    listing = json.loads(client.predict(api_name="/list_models"))
    assert [m["name"] for m in listing["models"]][-1] == "AlexNet"
    described = json.loads(client.predict(model="VGG16", include_diagram=False, api_name="/describe_architecture"))
    assert described["total_params"] == 138_357_544
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert sorted(endpoints) == sorted(f"/{name}" for name in TOOLS)


def upload(page, component: str, path) -> None:
    """Give a file component a file and wait until it shows its name. A component that was just
    revealed (a tab, an accordion) can miss the first change event while the page is busy: the
    file is then given again, up to three times, but only while the component is still empty (one
    that shows a file has no file field: a slow upload is waited for, not sent twice)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    name = Path(path).name
    state = r"""([selector, name]) => { const c = document.querySelector(selector);
        if (!c) return false; if (c.textContent.replace(/\s+/g, "").includes(name)) return "shown";  /* its parts in spans */
        return c.querySelector("input[type=file]") ? "empty" : false; }"""
    try:
        for attempt in range(3):
            if page.wait_for_function(state, arg=[component, name], timeout=60_000).json_value() == "shown":
                return
            page.locator(f"{component} input[type=file]").set_input_files(str(path))
            try:
                page.wait_for_function(f"([selector, name]) => ({state})([selector, name]) === 'shown'",
                                       arg=[component, name], timeout=30_000)
                return
            except PlaywrightTimeout:
                if attempt == 2:
                    raise
    except PlaywrightTimeout:
        page.screenshot(path=str(ARTIFACTS / "upload-stuck.png"), full_page=True)  # what the page showed instead
        raise


def toasts(page) -> str:
    return " ".join(page.locator("[class*=toast]").all_inner_texts())


def pick_models(page, names):
    """Tick exactly `names` in the Classify tab's model picker (labels may add a download size)."""
    for box in page.locator("#classify-models label").all():
        name = box.inner_text().split(" · ")[0].strip()
        checkbox = box.locator("input[type=checkbox]")
        if (name in names) != checkbox.is_checked():
            checkbox.click()


def test_the_first_click_gives_a_real_answer_and_its_report_which_no_stranger_sees(page, app):
    picker = page.locator("#classify-models").inner_text()
    assert "VGG16 · 528 MiB 내려받기" in picker and "AlexNet · ImageNet 가중치 없음" in picker
    checked = [box.inner_text() for box in page.locator("#classify-models label").all()
               if box.locator("input").is_checked()]
    assert checked == ["EfficientNetLite0"]  # preselected: its weights are ready
    page.locator("#classify-image input[type=file]").set_input_files(CAT)
    page.locator("#classify-button").click()
    page.locator(".model-label").first.wait_for(state="visible", timeout=180_000)
    summary = page.locator("#classify-summary").inner_text()
    assert "EfficientNetLite0" in summary and "호랑이무늬 고양이 (tiger cat)" in summary and "_" not in summary
    assert "학습 안 됨" not in summary
    page.screenshot(path=str(ARTIFACTS / "classify.png"), full_page=True)

    page.locator("#classify-report").click()
    link = page.locator("#classify-report-file a").first
    link.wait_for(timeout=180_000)
    with page.expect_download() as download:
        link.click()
    report = Path(download.value.path()).read_text("utf-8")
    assert "분류 결과" in report and "호랑이무늬 고양이 (tiger cat)" in report
    strangers_see_nothing_of(app)


def strangers_see_nothing_of(app):
    """Another client (no page, the public API) can neither download a page session's report and
    photo, nor read them as inputs, nor learn its folder's name, though the app's working folder
    (an image root) holds the output folder."""
    from gradio_client import Client

    sessions = app["out"] / "sessions"
    report = max(sessions.glob("*/classification-*.html"), key=lambda path: path.stat().st_mtime)
    photo = next(report.parent.glob(f"{report.stem}_files/image.jpg"))
    hashes = [folder.name for folder in sessions.iterdir()]
    for private in (report, photo, report.parent / "index.json", app["out"] / "index.json"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{app['url']}/gradio_api/file={private}", timeout=10)
        assert refused.value.code == 403
    stranger = Client(app["url"], verbose=False)

    def refusal(**arguments) -> str:
        with pytest.raises(Exception) as raised:  # gradio_client's AppError, with the tool's error object
            stranger.predict(**arguments)
        assert "AccessDeniedError" in str(raised.value), str(raised.value)[:300]
        return str(raised.value)

    said = [refusal(image=image, api_name="/classify_image")
            for image in (str(photo), f"sessions/{report.parent.name}/{report.stem}_files/image.jpg")]
    said.append(refusal(source="sessions", api_name="/evaluate_images"))
    assert not any(name in text for name in hashes for text in said) and not any(str(app["out"]) in text for text in said)


def test_the_random_weights_switch_runs_untrained_models_and_says_so(page):
    pick_models(page, ["AlexNet", "MobileNetV2"])
    page.locator("#classify-image input[type=file]").set_input_files(CAT)
    page.locator("#random-weights input[type=checkbox]").check()
    page.locator("#classify-button").click()
    page.locator(".model-label").first.wait_for(state="visible", timeout=180_000)
    assert page.locator(".model-label:visible").count() == 2  # AlexNet and MobileNetV2, side by side
    summary = page.locator("#classify-summary").inner_text()
    assert "AlexNet" in summary and "MobileNetV2" in summary and "학습 안 됨" in summary


def test_a_model_without_weights_gets_a_card_and_the_others_answer(page):
    pick_models(page, ["VGG16", "EfficientNetLite0", "EfficientNetLite1"])
    page.locator("#classify-image input[type=file]").set_input_files(CAT)
    page.locator("#classify-button").click()
    page.locator(".model-label").first.wait_for(state="visible", timeout=180_000)
    assert page.locator(".model-label:visible").count() == 2  # the two models that could answer
    summary = page.locator("#classify-summary").inner_text()
    assert "VGG16 · 답하지 못함" in summary and "지금 답할 수 있는 모델: EfficientNetLite0, EfficientNetLite1" in summary
    assert "EfficientNetLite1" in summary and "이집트 고양이" in summary and "판정 규칙:" in summary
    assert "무작위" not in summary and toasts(page).strip() == ""
    page.screenshot(path=str(ARTIFACTS / "partial.png"), full_page=True)


def test_without_weights_classification_explains_how_to_get_them_in_korean(page):
    pick_models(page, ["VGG16"])
    page.locator("#classify-image input[type=file]").set_input_files(CAT)
    page.locator("#classify-button").click()
    page.wait_for_function("document.body.innerText.includes('vgg16_weights_tf_dim_ordering_tf_kernels.h5')", timeout=120_000)
    assert "Keras 캐시 폴더" in toasts(page) and "내려받을 서버" in toasts(page)
    assert "Expected" not in toasts(page) and "Traceback" not in page.content()


def test_architecture_tab_shows_the_diagram_and_makes_a_report(page):
    page.get_by_role("tab", name="구조").click()
    page.locator("#describe-button").click()
    diagram = page.locator("#arch-diagram .diagram-box svg")  # the whole diagram, inline, in its scroll box
    diagram.wait_for(state="visible", timeout=180_000)
    box, frame = diagram.bounding_box(), page.locator("#arch-diagram .diagram-box").bounding_box()
    assert box and frame and box["width"] > 600 and box["height"] > 20 * frame["height"] > 0  # ResNet50 at full size, scrolled
    assert "conv5_block3_out" in diagram.text_content()
    assert "25,636,712" in page.locator("#arch-figures").inner_text()  # ResNet50, the default
    assert page.get_by_text("conv5_x", exact=False).count() > 0
    stage_view = page.locator("#arch-stage-view svg")
    assert "conv2_x × 3" in stage_view.text_content() and "스킵 연결" in stage_view.text_content()
    headers = " ".join(page.locator("#arch-stages th, #arch-structure th, #arch-layers th").all_inner_texts())
    for korean in ("단계", "출력 크기", "블록 수", "파라미터 수", "역할", "연결된 층"):
        assert korean in headers
    for english in ("stage", "output", "blocks", "params", "MACs"):
        assert english not in headers
    page.screenshot(path=str(ARTIFACTS / "architecture.png"))
    page.locator("#arch-report").click()
    link = page.locator("#arch-report-file a").first
    link.wait_for(timeout=180_000)
    with page.expect_download() as download:
        link.click()
    assert "ResNet50 구조 분석" in Path(download.value.path()).read_text("utf-8")


CUT_CELLS = """(selector) => [...document.querySelectorAll(selector)].filter(cell => cell.offsetParent)
  .filter(cell => { const box = cell.getBoundingClientRect();
                    return cell.scrollWidth > cell.clientWidth + 1 || box.left < -1 || box.right > innerWidth + 1; })
  .map(cell => cell.innerText.slice(0, 40))"""
"""The table cells whose text does not fit their box, or lies outside the window."""


def choose_model(page, name: str) -> None:
    page.locator("#arch-model input").click()
    page.get_by_role("option", name=name, exact=True).click()


def test_architecture_tab_says_depth_as_the_paper_does_shows_summary_and_reports_the_model_chosen(page):
    page.get_by_role("tab", name="구조").click()
    page.locator("#describe-button").click()
    page.locator("#arch-stage-table").wait_for(timeout=180_000)
    figures = page.locator("#arch-figures").inner_text()  # ResNet50, the default
    assert "깊이 50 ·" in figures and "50층 = 주 경로의 합성곱 49 + 완전 연결 1" in figures
    assert "107개 = 합성곱 53 (지름길의 1x1 투영 합성곱 4 포함) · 배치 정규화 53 · 완전 연결(Dense) 1" in figures
    layers = page.locator("#arch-layers").inner_text()
    assert "(None, 224, 224, 3)" in layers and "null" not in layers
    structure = page.locator("#arch-structure").inner_text()
    assert "7x7/2, 64; 1x1, 64 (x3); 3x3, 64 (x3)" in structure  # kernels in network order
    summary = page.locator("#arch-keras-summary")
    summary.locator("summary").click()
    assert "Total params: 25,636,712" in summary.inner_text() and "Layer (type)" in summary.inner_text()
    summary.locator("summary").click()
    for width in (1280, 400):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_function(f"document.documentElement.clientWidth <= {width}")
        assert page.evaluate(CUT_CELLS, "#arch-stages td, #arch-structure td") == [], width
        display = page.locator("#arch-structure-table tbody tr").first.evaluate("row => getComputedStyle(row).display")
        assert display == ("block" if width == 400 else "table-row")  # a phone: a card per row
        page.screenshot(path=str(ARTIFACTS / f"architecture-tables-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 1000})
    choose_model(page, "VGG16")  # another model, and straight to its report: never the last model's
    page.locator("#arch-report").click()
    link = page.locator("#arch-report-file a").first
    link.wait_for(timeout=180_000)
    with page.expect_download() as download:
        link.click()
    report = Path(download.value.path()).read_text("utf-8")
    assert "VGG16 구조 분석" in report and "ResNet50" not in report
    figures = page.locator("#arch-figures").inner_text()
    assert figures.startswith("VGG16 ·") and "깊이 16 ·" in figures  # the tab shows the model reported
    choose_model(page, "AlexNet")
    page.wait_for_function("!document.querySelector('#arch-report-file a')", timeout=30_000)  # VGG16's link is gone
    page.locator("#describe-button").click()
    page.wait_for_function("document.querySelector('#arch-figures').innerText.includes('AlexNet')", timeout=180_000)
    assert "8층 = 합성곱 5 + 완전 연결 3" in page.locator("#arch-figures").inner_text()


def test_evaluate_a_zip_of_photos_and_fine_tune_on_it(page, labelled_photos, tmp_path):
    import zipfile

    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(labelled_photos.rglob("*.jpg")):
            zipped.write(path, path.relative_to(labelled_photos).as_posix())
    page.get_by_role("tab", name="평가").click()
    upload(page, "#eval-zip", archive)
    page.locator("#eval-button").click()
    page.wait_for_function("document.querySelector('#eval-summary') && document.querySelector('#eval-summary').innerText.includes('고양이 8')",
                           timeout=180_000)
    assert "고양이 8 · 개 8" in page.locator("#eval-summary").inner_text()
    assert "100.0%" in page.locator("#eval-table").inner_text()
    assert page.locator("#eval-matrices svg").count() == 1
    page.get_by_text("이 사진들로 미세 조정하기").first.click()
    page.locator("#tune-button").click()
    page.wait_for_function("document.querySelector('#tune-result') && document.querySelector('#tune-result').innerText.includes('미세 조정 후')",
                           timeout=300_000)
    assert "cat, dog" in page.locator("#tune-result").inner_text()
    page.screenshot(path=str(ARTIFACTS / "evaluate.png"), full_page=True)
    page.locator("#eval-report").click()
    link = page.locator("#eval-report-file a").first
    link.wait_for(timeout=180_000)
    with page.expect_download() as download:
        link.click()
    report = Path(download.value.path()).read_text("utf-8")
    assert "혼동 행렬" in report and "fine-tuned.keras" in report


VISIBLE_TEXT = """() => { const out = []; const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) { const node = walker.currentNode, parent = node.parentElement;
    if (!parent || parent.closest("#language, td, [role=cell], [role=gridcell], #reports-pick, #reports-table tbody")) continue;  /* the switch names both languages; table
       cells and the report picker hold data (a report's own title and language), not the interface's words */
    const style = getComputedStyle(parent), box = parent.getBoundingClientRect();
    if (style.display === "none" || style.visibility === "hidden" || (box.width === 0 && box.height === 0)) continue;
    if (node.textContent.trim()) out.push(node.textContent.trim()); }
  for (const field of document.querySelectorAll("input[placeholder], textarea[placeholder]"))
    if (field.offsetParent && field.placeholder) out.push(field.placeholder);
  return out; }"""


OVERFLOWING = """() => { const out = [];
  if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push("the page: " + document.documentElement.scrollWidth + "px");
  for (const el of document.querySelectorAll(".block, .form, .prose, label, button")) {
    const style = getComputedStyle(el);
    if (!el.offsetParent || style.overflowX === "auto" || style.overflowX === "scroll") continue;  /* meant to scroll */
    if (el.scrollWidth > el.clientWidth + 1) out.push((el.id || el.className || el.tagName) + ": " + el.scrollWidth + " > " + el.clientWidth);
  }
  for (const header of document.querySelectorAll("th span.header")) {  /* Gradio's columns have fixed widths: a header must fit its own */
    if (header.offsetParent && header.scrollWidth > header.clientWidth + 1) out.push("header " + header.innerText + ": cut off");
  }
  return out; }"""
"""What is wider than its box (tables scroll inside theirs, and are left out), and table headers cut off."""


@pytest.mark.parametrize(("lang", "browser_locale"), [("ko", "en-US"), ("en", "ko-KR")])
def test_every_tab_reads_in_the_pages_language_whatever_the_browsers(app, browser, lang, browser_locale):
    """Every tab, every fold open, Gradio's own texts included: a Korean page in an English browser has
    no English word beyond names, units and code; an English page in a Korean browser has no Hangul."""
    import re

    from tests.test_words import KOREAN_PAGE_LATIN

    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale=browser_locale)
    try:
        page = context.new_page()
        page.goto(f"{app['url']}/?lang={lang}")
        page.locator("#classify-button").wait_for(timeout=60_000)
        page.wait_for_function("(word) => document.querySelector('#classify-button').innerText.includes(word)",
                               arg="분류하기" if lang == "ko" else "Classify", timeout=30_000)
        for tab in page.get_by_role("tab").all():
            tab.click()
            for fold in page.locator(".label-wrap").all():  # accordions: their insides drawn too
                if fold.is_visible():
                    fold.click()
            texts = page.evaluate(VISIBLE_TEXT)
            if lang == "en":
                stray = [text for text in texts if re.search(r"[\uac00-\ud7a3]", text)]
            else:
                stray = [text for text in texts  # a time Gradio counts while an event runs ("0.1s") is a number and a unit
                         if set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", re.sub(r"\b\d+(\.\d+)?s\b", "", text))) - KOREAN_PAGE_LATIN]
            assert not stray, (lang, tab.inner_text(), stray)
            name = tab.inner_text()
            page.screenshot(path=str(ARTIFACTS / f"tab-{lang}-{name}-1280.png"), full_page=True)
            page.set_viewport_size({"width": 400, "height": 900})  # a phone: nothing wider than its screen or its card
            page.wait_for_function("document.documentElement.clientWidth <= 400")
            assert page.evaluate(OVERFLOWING) == [], (lang, name)
            page.screenshot(path=str(ARTIFACTS / f"tab-{lang}-{name}-400.png"), full_page=True)
            page.set_viewport_size({"width": 1280, "height": 1000})
    finally:
        context.close()


def test_switching_language_relabels_the_interface(page):
    page.locator("#language").get_by_label("en").check()
    page.wait_for_url("**?lang=en", timeout=30_000)  # the page is drawn again, wholly in English
    page.locator("#classify-button").wait_for(timeout=60_000)
    page.wait_for_function("document.querySelector('#classify-button').innerText.includes('Classify')", timeout=30_000)
    page.get_by_role("tab", name="Architecture").wait_for(timeout=30_000)
    assert page.get_by_role("tab", name="구조").count() == 0
    page.screenshot(path=str(ARTIFACTS / "english.png"))


def test_a_bad_model_upload_shows_the_engine_error_and_the_app_keeps_serving(page, tmp_path):
    garbage = tmp_path / "broken.keras"
    garbage.write_bytes(b"PK\x03\x04 this is not a model")
    page.locator("#classify-image input[type=file]").set_input_files(CAT)
    page.locator("#classify-image img").first.wait_for(state="visible", timeout=60_000)  # uploaded: the form settles
    page.get_by_text("직접 만든 모델", exact=False).first.click()
    page.locator("#classify-model-file").wait_for(state="visible", timeout=30_000)  # the accordion is open
    upload(page, "#classify-model-file", garbage)
    page.locator("#classify-button").click()
    page.wait_for_function("document.body.innerText.includes('읽을 수 없습니다')", timeout=120_000)
    assert "broken.keras" in toasts(page)
    page.screenshot(path=str(ARTIFACTS / "bad-upload.png"))
    page.get_by_role("tab", name="보고서").click()
    page.locator("#reports-refresh").click()
    page.locator("#reports-table").wait_for(timeout=30_000)
    assert "Traceback" not in page.content()


def test_compare_tab_and_the_reports_made_so_far(page, app, browser):
    page.get_by_role("tab", name="비교").click()
    for box in page.locator("#compare-models label").all():  # VGG16 (no weights here) and Lite0 (weights bundled)
        if (box.inner_text().split(" · ")[0].strip() in ("VGG16", "EfficientNetLite0")) != box.locator("input").is_checked():
            box.locator("input").click()
    page.locator("#compare-image input[type=file]").set_input_files(CAT)
    page.locator("#compare-button").click()
    page.wait_for_function("document.body.innerText.includes('EfficientNetLite0') && document.querySelectorAll('svg.chart').length >= 4",
                           timeout=180_000)
    failures = page.locator("#compare-failures").inner_text()  # VGG16 gets a card, Lite0 answers
    assert failures.count("답하지 못함") == 1 and "VGG16" in failures and "지금 답할 수 있는 모델" in failures
    table = page.locator("#compare-table").inner_text()
    assert "호랑이무늬 고양이 (tiger cat)" in table and "tiger_cat" not in table
    page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True)
    page.locator("#compare-report").click()
    page.locator("#compare-report-file a").first.wait_for(timeout=120_000)
    from gradio_client import Client

    made = json.loads(Client(app["url"], verbose=False).predict(kind="architecture", model="AlexNet", lang="en",
                                                                api_name="/render_report"))
    assert (app["out"] / made["path"]).is_file()
    page.get_by_role("tab", name="보고서").click()
    page.locator("#reports-refresh").click()
    page.wait_for_function("document.querySelector('#reports-preview iframe') !== null", timeout=60_000)
    assert page.frame_locator("#reports-preview iframe").locator("h1").count() == 1
    listing = page.locator("#reports-table").inner_text()
    cells = [line.strip() for line in listing.splitlines() if line.strip()]  # title, kind, language, made, whose
    whose = {cells[i]: cells[i + 4] for i, cell in enumerate(cells) if cell.endswith((" 비교", ": architecture"))}
    assert whose == {"EfficientNetLite0, VGG16 비교": "내 보고서",  # this page's comparison; an agent's report on this
                     "AlexNet: architecture": "이 컴퓨터 (명령줄·도구)"}  # one-user app is the computer's, not the page's

    page.reload()  # the page finds its reports again after a reload
    page.locator("#classify-button").wait_for(timeout=60_000)
    page.get_by_role("tab", name="보고서").click()
    page.locator("#reports-refresh").click()
    page.wait_for_function("document.querySelector('#reports-table').innerText.includes('내 보고서')", timeout=30_000)

    stranger = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()  # another user of the app
    stranger.goto(app["url"])
    stranger.get_by_role("tab", name="보고서").click()
    stranger.locator("#reports-refresh").click()  # the listing has come when it shows the computer's report
    stranger.wait_for_function("document.querySelector('#reports-table').innerText.includes('AlexNet: architecture')",
                               timeout=30_000)
    assert "내 보고서" not in stranger.locator("#reports-table").inner_text()  # nobody sees another's reports

    page.locator("#reports-share").click()  # until they are shared
    page.wait_for_function("document.querySelector('#reports-table').innerText.includes('공유됨')", timeout=30_000)
    stranger.locator("#reports-refresh").click()
    stranger.wait_for_function("document.querySelector('#reports-table').innerText.includes('공유됨')", timeout=30_000)
    stranger.context.close()
    shared = [path.name for path in (app["out"] / "shared").glob("comparison-*.html")]
    mine = [folder for folder in (app["out"] / "sessions").iterdir() if set(shared) & {p.name for p in folder.glob("*.html")}]
    assert len(shared) == 1 and len(mine) == 1 and len(mine[0].name) == 32  # made in one unguessable page-session folder


def offered(page, selector: str) -> list[str]:
    """The names of the files a report offer lists, in order."""
    return [link.get_attribute("download") or "" for link in page.locator(f"{selector} a[download]").all()]


def downloaded(page, link) -> Path:
    with page.expect_download() as download:
        link.click()
    return Path(download.value.path())


def a_post_that_opens(path: Path) -> list[str]:
    """The pictures a downloaded post (.zip) shows, each found in the zip where its Markdown's link
    points and each a picture Pillow reads."""
    import io
    import re
    import zipfile

    from PIL import Image

    with zipfile.ZipFile(path) as post:
        names = post.namelist()
        markdown = post.read(next(name for name in names if name.endswith(".md") and "/" not in name)).decode("utf-8")
        links = [link for _, link in re.findall(r"!\[([^\]]*)\]\(([^)]+)\)", markdown)]
        assert links and set(links) <= set(names), set(links) - set(names)
        for link in links:
            Image.open(io.BytesIO(post.read(link))).verify()
    return links


CUT_OFFER = """(selector) => { const out = [];
  for (const cell of document.querySelectorAll(selector + " .file-preview td.filename"))
    if (cell.offsetParent && (cell.scrollWidth > cell.clientWidth + 1 || cell.getBoundingClientRect().right > innerWidth + 1))
      out.push(cell.innerText);
  for (const input of document.querySelectorAll(selector + " input[role=combobox]")) {  /* a dropdown's text clear of its arrow */
    const arrow = input.closest(".wrap").querySelector(".icon-wrap"), style = getComputedStyle(input);
    if (arrow && input.getBoundingClientRect().right - parseFloat(style.paddingRight) > arrow.getBoundingClientRect().left + 1)
      out.push("arrow over: " + input.value);
  }
  return out; }"""
"""File names of a report offer cut off or out of the window, and dropdowns whose arrow lies over their text."""


def overflowing(page) -> list[str]:
    """`OVERFLOWING`, less Gradio's icon buttons over a photo (full screen, clear), whose drawing is a
    few pixels wider than the button and shows whole."""
    return [found for found in page.evaluate(OVERFLOWING) if not found.startswith("icon-button")]


def test_the_compare_tab_answers_offline_by_default_and_offers_the_blog_files(page, app):
    """Offline, the picker starts with models that can answer; a photo gets answers, the report
    button offers the page, the post's zip, the Markdown and the pictures (the zip opens with every
    picture its Markdown shows), nothing cut at 1280 and 400 px; models without weights keep their
    architecture columns and get a card each, with no error."""
    page.get_by_role("tab", name="비교").click()
    ticked = [box.inner_text() for box in page.locator("#compare-models label").all() if box.locator("input").is_checked()]
    assert ticked == ["EfficientNetLite0", "EfficientNetLite1", "EfficientNetLite2"]  # their weights come with the project
    page.locator("#compare-image input[type=file]").set_input_files(CAT)
    page.locator("#compare-image img").first.wait_for(state="visible", timeout=60_000)
    page.locator("#compare-button").click()
    page.wait_for_function("document.querySelectorAll('svg.chart').length >= 4 && document.querySelector('#compare-table').innerText.includes('고양이')",
                           timeout=300_000)
    assert "답하지 못함" not in page.locator("#compare-table").inner_text() and toasts(page).strip() == ""
    page.locator("#compare-report").click()
    page.locator('#compare-report-file a[download$=".zip"]').wait_for(timeout=180_000)
    names = offered(page, "#compare-report-file")
    assert [Path(name).suffix for name in names[:3]] == [".html", ".zip", ".md"], names
    assert {"image.jpg", "chart-1.png"} <= set(names[3:])
    for width in (1280, 400):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_function(f"document.documentElement.clientWidth <= {width}")
        assert overflowing(page) == [], width
        assert page.evaluate(CUT_OFFER, "#compare-report-file") == [], width
        page.screenshot(path=str(ARTIFACTS / f"compare-offer-{width}.png"), full_page=True)
    shown = a_post_that_opens(downloaded(page, page.locator('#compare-report-file a[download$=".zip"]')))  # on a phone
    assert {Path(link).name for link in shown} == set(names[3:])
    markdown = downloaded(page, page.locator('#compare-report-file a[download$=".md"]')).read_text("utf-8")
    assert markdown.startswith("# EfficientNetLite0, EfficientNetLite1, EfficientNetLite2 비교")
    post = max((app["out"] / "sessions").glob("*/comparison-*.zip"), key=lambda path: path.stat().st_mtime)
    for private in (post, post.with_suffix(".md"), next(post.parent.glob(f"{post.stem}_files/*.png"))):  # the page gets copies only
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{app['url']}/gradio_api/file={private}", timeout=10)
        assert refused.value.code == 403

    page.set_viewport_size({"width": 1280, "height": 1000})
    for box in page.locator("#compare-models label").all():
        if (box.inner_text().split(" · ")[0].strip() in ("VGG16", "ResNet50")) != box.locator("input").is_checked():
            box.locator("input").click()
    page.locator("#compare-button").click()
    page.wait_for_function("document.querySelector('#compare-table').innerText.includes('ResNet50')", timeout=300_000)
    cells = [line.strip() for line in page.locator("#compare-table").inner_text().splitlines() if line.strip()]
    vgg16, resnet50 = (cells[cells.index(name):][:9] for name in ("VGG16", "ResNet50"))  # model, then its eight columns
    assert vgg16[1:3] == ["138.4", "15.47"] and resnet50[1:3] == ["25.6", "3.86"]  # parameters and multiply-adds, no weights
    assert vgg16[7:] == resnet50[7:] == ["답하지 못함", "—"] and all(float(cell) > 0 for cell in vgg16[4:5] + resnet50[4:5])
    failures = page.locator("#compare-failures").inner_text()
    assert failures.count("답하지 못함") == 2 and "지금 답할 수 있는 모델" in failures and toasts(page).strip() == ""
    assert offered(page, "#compare-report-file") == []  # the earlier comparison's report is no longer offered
    page.set_viewport_size({"width": 400, "height": 900})
    page.wait_for_function("document.documentElement.clientWidth <= 400")
    assert overflowing(page) == []
    page.screenshot(path=str(ARTIFACTS / "compare-no-weights-400.png"), full_page=True)


def test_the_reports_tab_offers_a_structure_posts_zip_with_its_stage_views(page, app):
    """A structure report (made by an agent on this one-user app) picked on the Reports tab: its page,
    zip, Markdown and each model's stage view offered; the zip downloaded on a phone opens with the
    pictures its Markdown shows; the picker's arrow covers none of its text; the note says what a
    reload does, truly."""
    from gradio_client import Client

    made = json.loads(Client(app["url"], verbose=False).predict(kind="structure", models=["AlexNet", "VGG16"], lang="ko",
                                                                api_name="/render_report"))
    page.get_by_role("tab", name="보고서").click()
    page.locator("#reports-refresh").click()
    page.wait_for_function("(title) => document.querySelector('#reports-table').innerText.includes(title)", arg=made["title"],
                           timeout=60_000)
    page.locator("#reports-pick input").click()
    page.get_by_role("option", name=made["title"], exact=False).first.click()
    stem = Path(made["path"]).stem
    page.wait_for_function("(name) => [...document.querySelectorAll('#reports-download a[download]')].some(a => a.getAttribute('download') === name)",
                           arg=f"{stem}.zip", timeout=60_000)
    names = offered(page, "#reports-download")
    assert names == [f"{stem}.html", f"{stem}.zip", f"{stem}.md", "stages-AlexNet.png", "stages-VGG16.png"]
    note = page.get_by_text("새로 고침해도 그대로", exact=False)
    assert note.count() == 1 and "새 목록이 시작됩니다" in note.inner_text()  # what a reload does, as it does it
    for width in (1280, 400):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_function(f"document.documentElement.clientWidth <= {width}")
        assert overflowing(page) == [], width
        assert page.evaluate(CUT_OFFER, "#reports-download") == page.evaluate(CUT_OFFER, "#reports-pick") == [], width
        page.screenshot(path=str(ARTIFACTS / f"reports-offer-{width}.png"), full_page=True)
    shown = a_post_that_opens(downloaded(page, page.locator(f'#reports-download a[download="{stem}.zip"]')))
    assert [Path(link).name for link in shown] == ["stages-AlexNet.png", "stages-VGG16.png"]


TITLE_AND_BADGES = """() => { const title = document.querySelector('.toast-title');
  const badges = [...document.querySelectorAll('[data-testid=status-tracker] .error')].filter(e => e.getBoundingClientRect().width > 0);
  return {title: title ? getComputedStyle(title, '::before').content : null, text: title ? title.innerText : null,
          badges: badges.map(e => e.closest('[id]') ? e.closest('[id]').id : e.innerText)}; }"""


def test_an_error_toast_is_titled_in_the_pages_language_and_covers_no_help_text(page):
    """Classify with no photo, at 1280 and 400 px: the toast is titled 오류 (Gradio titles it
    "Error" on any page), and no red badge lies over the summary's help text."""
    for width in (1280, 400):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_function(f"document.documentElement.clientWidth <= {width}")
        page.locator("#classify-button").click()
        page.locator(".toast-body").first.wait_for(timeout=30_000)
        page.wait_for_function("getComputedStyle(document.querySelector('.toast-body')).opacity === '1'", timeout=30_000)  # faded in
        said = page.evaluate(TITLE_AND_BADGES)
        assert said == {"title": '"오류"', "text": "", "badges": []}, said
        assert "이미지가 필요합니다" in toasts(page) and "Error" not in toasts(page)
        page.screenshot(path=str(ARTIFACTS / f"error-toast-{width}.png"))
        page.locator(".toast-close").first.click()
        page.wait_for_function("!document.querySelector('.toast-body')", timeout=30_000)
        hint = page.locator("#classify-summary p").first
        hint.scroll_into_view_if_needed()
        box = hint.bounding_box()
        assert box is not None
        on_top = page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('#classify-summary') !== null",
                               [box["x"] + box["width"] / 2, box["y"] + 10])
        assert on_top, width  # the help text is what a reader sees there


def test_a_report_from_the_apps_result_runs_no_second_inference(monkeypatch):
    """Classify in the app, then make the report: the photo is classified once, the report renders that result."""
    from plugin.doors.web import classify_tab
    from plugin.engine.inference.runners import KerasRunner as Runner

    calls = []
    original = Runner.__call__

    def counting(self, batch):
        calls.append(len(batch))
        return original(self, batch)

    monkeypatch.setattr(Runner, "__call__", counting)
    outputs = classify_tab.classify_view(
        classify_tab.ClassifyForm(image=CAT, models=["AlexNet"], top_k=3, random_weights=True, model_file=None, class_names="",
                                  preprocessing="rescale", expected="", explain=False, precision="float32"),
        lang="ko", request=None, progress=lambda *a, **k: None)
    assert calls == [1]
    offer = classify_tab.classification_report(outputs[-1], "ko", None, progress=lambda *a, **k: None)
    assert calls == [1]  # no second inference
    assert [Path(name).suffix for name in offer[:3]] == [".html", ".zip", ".md"]  # the page, then the blog's files
    page = Path(offer[0]).read_text("utf-8")
    assert "AlexNet" in page and "data:image/jpeg;base64," in page  # the photo the app already had


def test_the_classify_tab_contrasts_dog_and_cat_and_marks_a_map_the_sanity_check_flags():
    """Any dog and any cat on the photo with both: one map per class, each card naming the class it
    explains and the model's own answer; under a map the sanity check passed, its verdict, and a
    flagged one set apart (the check itself is tested in tests/test_explain_methods.py)."""
    from plugin.doors.web import classify_tab, where_it_looked

    form = classify_tab.ClassifyForm(image=str(EXAMPLES_DIR / "dog_and_cat.jpg"), models=["EfficientNetLite0"], top_k=3,
                                     explain=True, methods=["gradcam"], targets=["dog", "cat"])
    *_, explanations, state = classify_tab.classify_view(form, lang="ko", request=None, progress=lambda *a, **k: None)
    assert [(e["method"], e["target"]) for e in explanations] == [("gradcam", "dog"), ("gradcam", "cat")]
    assert state["explanations"] == explanations  # what the report button renders
    cards = [where_it_looked.card_text(e, "ko") for e in explanations]
    assert "개 전체" in cards[0] and "고양이 전체" in cards[1] and all("모델의 답은 이집트 고양이" in card for card in cards), cards
    checked = {"steps": [{"randomised": ["predictions", "top_conv"], "rank_correlation": 0.12}], "flagged": False, "threshold": 0.5}
    passed = where_it_looked.card_text({**explanations[0], "sanity": checked}, "ko")
    flagged = where_it_looked.card_text({**explanations[0], "sanity": {**checked, "flagged": True}}, "ko")
    assert "**온전성 검사 (Adebayo 외 2018)**: 모델 위쪽 층 2개를 무작위로 바꾸자 지도가 달라졌습니다" in passed and "⚠" not in passed
    assert "> **온전성 검사 (Adebayo 외 2018)**: **⚠ 모델 위쪽 층 2개를 무작위로 바꿔도 지도가 거의 그대로입니다" in flagged


@pytest.mark.parametrize(("lang", "said"), [("ko", ["'beagel'(이)라는 ImageNet 클래스는 없습니다", "비글 (beagle)"]),
                                           ("en", ["No ImageNet class is called 'beagel'", "beagle"])])
def test_a_misspelt_right_answer_is_said_in_the_pages_language_with_the_nearest_classes(lang, said):
    """정답 "beagel" on the Classify tab: the engine's error, worded by the catalogue in the page's
    language, before any model is built."""
    import gradio as gr

    from plugin.doors.web import classify_tab

    form = classify_tab.ClassifyForm(image=CAT, models=["AlexNet"], top_k=3, random_weights=True, model_file=None,
                                     class_names="", preprocessing="rescale", expected="beagel", explain=False,
                                     precision="float32")
    with pytest.raises(gr.Error) as raised:
        classify_tab.classify_view(form, lang=lang, request=None, progress=lambda *a, **k: None)
    assert all(words in raised.value.message for words in said) and "Expected" not in raised.value.message
    assert raised.value.title == ("잘못된 입력" if lang == "ko" else "Invalid input")


def rendered(markdown: str) -> tuple[set[str], str]:
    """Markdown as a CommonMark renderer with raw HTML allowed (as Gradio's is) makes it: the
    elements it holds, and its text as a reader sees it."""
    from html.parser import HTMLParser

    from markdown_it import MarkdownIt

    class Reader(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.tags: set[str] = set()
            self.text = ""

        def handle_starttag(self, tag, attrs):
            self.tags.add(tag)

        def handle_data(self, data):
            self.text += data

    reader = Reader()
    reader.feed(MarkdownIt("commonmark").render(markdown))
    return reader.tags, reader.text


def test_the_evaluate_tab_writes_folder_and_class_names_as_text(tmp_path):
    """A folder named `<img src="x">` (evaluated through the tab, as a user picks it) and classes
    named `<a>x</a>` and `<a>` (a fine-tuned model's, from the user's sub-folders) reach the tab's
    Markdown as text: escaped as the reports escape them, no element for Gradio's sanitiser to catch."""
    import shutil

    from plugin.doors.web import evaluate_tab

    folder, tag = '<img src="x">', "<a>x</a>"
    for label in ("cat", "dog"):
        (tmp_path / folder / label).mkdir(parents=True)
        shutil.copy(CAT, tmp_path / folder / label / "photo.png")
    summary, *_ = evaluate_tab.evaluate_view(folder=folder, archive=None, models=["EfficientNetLite0"], engine="local",
                                             precision="float32", lang="en", request=None, progress=lambda *a, **k: None)
    result = {"source": folder, "images": 2, "label_counts": {tag: 1, "<a>": 1}, "models": []}
    tuned = {"class_names": [tag, "<a>"], "base": "EfficientNetLite0", "history": {"epochs_run": 1},
             "accuracy": {"base": 0.5, "fine_tuned": 1.0}, "images": {"validation": 2}}
    for markdown in (summary, evaluate_tab.evaluation_summary(result, "en"), evaluate_tab.fine_tune_text(tuned, "en")):
        tags, text = rendered(markdown)
        assert not tags & {"img", "a"}, markdown
    assert folder in rendered(summary)[1] and "2 labelled photos" in rendered(summary)[1]
    assert f"{tag} 1 · <a> 1" in rendered(evaluate_tab.evaluation_summary(result, "en"))[1]
    assert f"Classes {tag}, <a>," in rendered(evaluate_tab.fine_tune_text(tuned, "en"))[1]


def test_an_architecture_report_from_the_apps_facts_describes_once(monkeypatch):
    from plugin import api
    from plugin.doors.web import architecture_tab

    calls = []
    original = api.describe_registry_model

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(api, "describe_registry_model", counting)
    outputs = architecture_tab.architecture_view(model="AlexNet", model_file=None, expand_nested=False, rankdir="TB", lang="en",
                                                 request=None, progress=lambda *a, **k: None)
    facts = outputs[-1]
    assert set(facts["diagram"]["files"]) == {"svg"}  # drawn once, shown inline and offered as the file
    offer = architecture_tab.architecture_report(facts, "en", None, progress=lambda *a, **k: None)
    assert calls == [1] and "AlexNet: architecture" in Path(offer[0]).read_text("utf-8")


def test_requests_naming_another_host_or_origin_are_refused(app):
    """DNS rebinding: a page on another site reaching the app by its own name (Host) or from its
    own origin (Origin) gets nothing: not the page, not the API, not MCP."""
    def status(path, headers, body=None):
        request = urllib.request.Request(f"{app['url']}{path}", data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as refused:
            return refused.code

    mcp_call = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                           "params": {"name": "list_models", "arguments": {}}}).encode()
    mcp_headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    assert status("/", {}) == 200 and status("/", {"Host": "localhost"}) == 200
    assert status("/", {"Host": "attacker.example"}) == 421
    assert status("/gradio_api/info", {"Host": "attacker.example:7860"}) == 421
    assert status("/gradio_api/mcp/", {**mcp_headers, "Host": "attacker.example"}, mcp_call) == 421
    assert status("/gradio_api/mcp/", {**mcp_headers, "Origin": "http://attacker.example"}, mcp_call) == 403
    assert status("/gradio_api/mcp/", {**mcp_headers, "Origin": app["url"]}, mcp_call) == 200


NOTHING_CUT = """(selector) => [...document.querySelectorAll(selector)].filter(e => e.offsetParent !== null).map(e => {
    const box = e.getBoundingClientRect();
    return {text: e.innerText, cut: e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1,
            outside: box.right > window.innerWidth + 1 || box.left < -1};
})"""
"""Each visible element's text, and whether it is cut (its content overflows it) or reaches outside the window."""


LITE = ["EfficientNetLite0", "EfficientNetLite1", "EfficientNetLite2"]


def maps_shown(page) -> None:
    """Scroll to each heat map of the Classify tab (they load lazily, as a reader reaches them) and wait until all are drawn."""
    for picture in page.locator("#classify-explained .explain-card img").all():
        picture.scroll_into_view_if_needed()
    page.wait_for_function("[...document.querySelectorAll('#classify-explained .explain-card img')].every(i => i.complete && i.naturalWidth > 0)",
                           timeout=60_000)


def test_where_it_looked_names_the_class_explained_and_the_experiment_shows_both_regions(page):
    """Run once, read at 1280 px and again at 400 px (a phone): the captions and pictures whole."""
    pick_models(page, LITE)
    page.locator("#classify-image input[type=file]").set_input_files(str(EXAMPLES_DIR / "dog_bicycle.jpg"))
    page.locator("#classify-expected textarea, #classify-expected input").first.fill("비글")
    page.locator("#classify-explain input[type=checkbox]").check()
    page.locator("#classify-button").click()
    page.wait_for_function("document.querySelectorAll('#classify-explained .explain-card img').length === 6", timeout=240_000)
    maps_shown(page)
    summary = page.locator("#classify-summary").inner_text()
    assert "정답: 비글" in summary and "알래스칸 말라뮤트 (malamute)" in summary and "_" not in summary
    assert "모델이 본 곳: 짧은 변의 87.5%만큼 가운데를 잘라 낸 부분" in summary
    for width in (1280, 400):
        page.set_viewport_size({"width": width, "height": 1000})
        maps_shown(page)
        captions = page.evaluate(NOTHING_CUT, "#classify-explained .block.explain-text")
        assert len(captions) == 6 and not any(c["cut"] or c["outside"] for c in captions), (width, captions)
        for name in LITE:  # each model's own answer, and where it found the right answer it missed, side by side
            assert sum(c["text"].startswith(f"{name}의 답 알래스칸 말라뮤트 (malamute)") for c in captions) == 1, captions
            assert sum(c["text"].startswith(f"{name}: 정답 비글 (beagle)을 찾은 곳") for c in captions) == 1, captions
        pictures = page.evaluate(NOTHING_CUT, "#classify-explained .explain-card img")
        assert len(pictures) == 6 and not any(p["outside"] for p in pictures), (width, pictures)  # the third model's whole
        page.screenshot(path=str(ARTIFACTS / f"cams-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 1000})

    page.get_by_text("전처리 실험", exact=True).first.click()
    page.locator("#study-button").click()
    page.wait_for_function("document.querySelector('#study-text') && document.querySelector('#study-text').innerText.includes('학습 때 방식')",
                           timeout=120_000)
    study = page.locator("#study-text").inner_text()
    assert "실험한 모델: EfficientNetLite0" in study and "lite (학습 때 방식)" in study
    assert "(x − 127) / 128" in study and "x / 127.5 − 1" in study and "BGR" in study  # each mode's formula and pixel
    assert "사진 한가운데 픽셀 하나" in study
    assert "가운데 자르기 (흰 테두리) (이 모델의 평가 방식)" in study and "사진 전체 (노란 테두리)" in study
    assert page.locator("#study-text table").count() == 0  # stacked rows, not a squeezed table
    regions = page.locator("#study-regions img")
    regions.wait_for(state="visible", timeout=30_000)
    for width in (400, 1280):
        page.set_viewport_size({"width": width, "height": 1000})
        blocks = page.evaluate(NOTHING_CUT, "#study-text li, #study-text p")
        assert blocks and not any(b["cut"] or b["outside"] for b in blocks), [b for b in blocks if b["cut"] or b["outside"]]
        assert page.evaluate(NOTHING_CUT, "#study-regions img")[0]["outside"] is False
        page.screenshot(path=str(ARTIFACTS / f"study-{width}.png"), full_page=True)
    # the report of what the tab shows
    page.locator("#classify-report").click()
    link = page.locator("#classify-report-file a").first
    link.wait_for(timeout=180_000)
    with page.expect_download() as download:
        link.click()
    report = Path(download.value.path()).read_text("utf-8")
    assert "모델은 어디를 보았을까? (Grad-CAM)" in report and "전처리 실험" in report
    assert "정답 비글 (beagle)을 찾은 곳" in report and "사진을 입력 크기로 맞추는 두 방식" in report


@pytest.mark.parametrize(("lang", "said"), [("ko", ["속 들여다보기", "EfficientNetLite0 속 들여다보기", "첫 합성곱 stem_conv: 필터 32개",
                                                      "수용 영역 787픽셀 (간격 32)", "배치 정규화 (stem_bn)", "차이"]),
                                           ("en", ["Inside", "Inside EfficientNetLite0", "First convolution stem_conv: 32 filters",
                                                   "receptive field 787 px (stride 32)", "batch norm (stem_bn)", "difference"])])
def test_the_inside_tab_shows_every_view_and_reads_at_1280_and_400(page, app, lang, said):
    if lang != "ko":
        page.goto(f"{app['url']}/?lang={lang}")
        page.locator("#classify-button").wait_for(timeout=60_000)
    tab, *expected = said
    page.get_by_role("tab", name=tab, exact=True).click()
    page.locator("#inside-image input[type=file]").set_input_files(str(EXAMPLES_DIR / "dog_bicycle.jpg"))
    page.wait_for_function("document.querySelector('#inside-image img') !== null", timeout=60_000)
    page.locator("#inside-button").click()
    page.wait_for_function("document.querySelectorAll('#inside-pictures img').length >= 10", timeout=240_000)
    summary = page.locator("#inside-summary").inner_text()
    assert all(text in summary for text in expected), summary
    for picture in page.locator("#inside-pictures img").all():  # lazily loaded: as a reader scrolls to them
        picture.scroll_into_view_if_needed()
    page.wait_for_function("[...document.querySelectorAll('#inside-pictures img')].every(i => i.complete && i.naturalWidth > 0)",
                           timeout=60_000)
    for width in (1280, 400):
        page.set_viewport_size({"width": width, "height": 1000})
        pictures = page.evaluate(NOTHING_CUT, "#inside-pictures img")
        assert len(pictures) >= 10 and not any(p["outside"] for p in pictures), (width, pictures)
        lines = page.evaluate(NOTHING_CUT, "#inside-summary li, #inside-pictures .caption-label")
        assert not any(line["cut"] or line["outside"] for line in lines), [line for line in lines if line["cut"] or line["outside"]]
        page.screenshot(path=str(ARTIFACTS / f"inside-{lang}-{width}.png"), full_page=True)
    if lang == "ko":  # the report of what the tab shows
        page.set_viewport_size({"width": 1280, "height": 1000})
        page.locator("#inside-report").click()
        link = page.locator("#inside-report-file a").first
        link.wait_for(timeout=120_000)
        with page.expect_download() as download:
            link.click()
        assert "EfficientNetLite0" in Path(download.value.path()).read_text("utf-8")


@pytest.mark.parametrize(("lang", "said"), [
    ("ko", {"caption": "EfficientNetLite0의 답 알래스칸 말라뮤트 (malamute)", "titles": ["Grad-CAM", "Grad-CAM++"],
            "described": ["가장 널리 쓰이는 방법입니다", "양(+)의 기울기만"],
            "numbers": ["이 지도를 믿을 수 있을까?", "삭제 AUC (낮을수록 좋음): 이 지도 0.", "삽입 AUC (높을수록 좋음): 이 지도 0.",
                        "ROAD 점수 (높을수록 좋음): 이 지도 ", "무작위 지도 0.", "가운데 지도 0.", "이 지도는 무작위보다 0."],
            "cited": "Petsiuk 외 (2018, RISE)"}),
    ("en", {"caption": "EfficientNetLite0's answer: malamute", "titles": ["Grad-CAM", "Grad-CAM++"],
            "described": ["The most widely used method", "Weights each channel by its positive gradients"],
            "numbers": ["Can this map be trusted?", "Deletion AUC (lower is better): this map 0.", "Insertion AUC (higher is better): this map 0.",
                        "ROAD score (higher is better): this map ", "random map 0.", "centre map 0.", "This map beats a random one by 0."],
            "cited": "Petsiuk et al. (2018, RISE)"})])
def test_where_it_looked_draws_a_section_per_method_with_the_numbers_that_check_each_map(page, app, lang, said):
    """Two methods and their numbers on the example dog: a section per method (its title and what it
    does), a card per map with its caption, the numbers beside a random and a centre map, and what they
    say; read at 1280 px and at 400 px from one run, nothing cut and no sideways scroll."""
    if lang != "ko":
        page.goto(f"{app['url']}/?lang={lang}")
        page.locator("#classify-button").wait_for(timeout=60_000)
    page.locator("#classify-image input[type=file]").set_input_files(str(EXAMPLES_DIR / "dog_bicycle.jpg"))
    page.locator("#classify-explain input[type=checkbox]").check()
    page.locator("#classify-methods label").first.wait_for(timeout=30_000)  # the choices appear with the switch
    offered = [label.inner_text() for label in page.locator("#classify-methods label").all()]
    assert offered[:2] == ["Grad-CAM", "Grad-CAM++"] and len(offered) >= 6, offered  # the engine's table, titled
    assert page.locator("#classify-methods input[name=gradcam]").is_checked()  # the default
    page.locator("#classify-methods input[name='gradcam++']").check()
    page.locator("#classify-metrics input[type=checkbox]").check()
    page.locator("#classify-button").click()
    page.wait_for_function("document.querySelectorAll('#classify-explained .explain-card img').length === 2", timeout=240_000)
    sections = page.locator("#classify-explained .explain-method")
    assert sections.count() == 2
    for section, title, described in zip(sections.all(), said["titles"], said["described"]):
        text = section.inner_text()
        assert text.startswith(title + "\n") and described in text, text
        card = section.locator(".block.explain-text").inner_text()
        assert card.startswith(said["caption"]) and f"{title}, " in card and "top_activation" in card, card
        assert all(number in card for number in said["numbers"]), card
    assert said["cited"] in page.locator("#classify-explained").inner_text()
    assert page.locator("#classify-explained .explain-card svg.chart").count() == 4  # each map's deletion and insertion curves
    for width in (1280, 400):
        page.set_viewport_size({"width": width, "height": 1000})
        maps_shown(page)
        blocks = page.evaluate(NOTHING_CUT, "#classify-explained .explain-card img, #classify-explained .prose p, "
                                            "#classify-explained .prose li, #classify-explained svg.chart")
        assert len(blocks) > 12 and not any(b["cut"] or b["outside"] for b in blocks), [b for b in blocks if b["cut"] or b["outside"]]
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(ARTIFACTS / f"explain-{lang}-{width}.png"), full_page=True)


def test_bold_titles_are_drawn_in_one_font(page):
    """A semibold title (each explanation's method, a card's caption) in Latin and Hangul is drawn from
    one font, not a bundled font's few glyphs with another's for the rest ("Grad-CAM" with a small "A")."""
    page.evaluate("""() => { const probe = document.createElement('h3'); probe.id = 'font-probe';
        probe.textContent = 'Grad-CAM ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 모델이 본 곳'; probe.style.fontWeight = '600';
        document.querySelector('#classify-button').parentElement.prepend(probe); }""")
    devtools = page.context.new_cdp_session(page)
    devtools.send("DOM.enable")
    devtools.send("CSS.enable")
    root = devtools.send("DOM.getDocument")["root"]["nodeId"]
    probe = devtools.send("DOM.querySelector", {"nodeId": root, "selector": "#font-probe"})["nodeId"]
    fonts = devtools.send("CSS.getPlatformFontsForNode", {"nodeId": probe})["fonts"]
    assert len({font["familyName"] for font in fonts}) == 1, fonts
