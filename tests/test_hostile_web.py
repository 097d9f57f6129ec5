"""The web app's third security round, through the doors the attacks used: pages of other origins
(a sandboxed iframe's `null` origin, another port) in a real browser, forwarded host headers, the
file route asked to fetch a URL, concurrent large requests and huge images with the server's memory
measured, and uploads with no event to follow. One app per module, with small budgets so that the
bounds show in seconds."""

import base64
import concurrent.futures
import http.server
import io
import json
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

from plugin.config import EXAMPLES_DIR
from tests.app_server import peak_memory, resident_mb, running_app

REQUEST_BUDGET = 14 * 1024 * 1024
"""Bytes of request bodies the app reads at once here: two of the 6 MB calls below, not three."""
UPLOAD_TOTAL = 3_000_000
UNUSED_UPLOAD_S = 2
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile-web-out")
    uploads = out / "gradio-uploads"
    with running_app(out, CNNLAB_MAX_REQUEST_BYTES_IN_FLIGHT=str(REQUEST_BUDGET), CNNLAB_MAX_UPLOAD_BYTES=str(UPLOAD_TOTAL),
                     CNNLAB_UNUSED_UPLOAD_S=str(UNUSED_UPLOAD_S), GRADIO_TEMP_DIR=str(uploads)) as served:
        served.uploads = uploads
        yield served


def send(app, path, body=None, headers=None, method=None):
    """`(status, headers, body)` of one request to the app."""
    request = urllib.request.Request(app.url + path, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers, refused.read()


def mcp_call(name: str, arguments: dict) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": {"name": name, "arguments": arguments}}).encode()


def multipart(name: str, data: bytes) -> tuple[bytes, dict]:
    boundary = "cnnlab-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def png_uri(image: Image.Image) -> str:
    encoded = io.BytesIO()
    image.save(encoded, "PNG")
    return "data:image/png;base64," + base64.b64encode(encoded.getvalue()).decode()


# --- origins: a sandboxed iframe (Origin: null) and a page on another port --------------------

PROBES = """
async function probe(app) {
  const out = {};
  const attempt = async (name, request) => {
    try { const answer = await request(); out[name] = "read " + answer.status + " " + (await answer.text()).length; }
    catch (error) { out[name] = "refused"; }
  };
  await attempt("config", () => fetch(app + "/config", {credentials: "include"}));
  await attempt("mcp", () => fetch(app + "/gradio_api/mcp/", {method: "POST", headers: %(headers)s, body: %(call)s}));
  const form = new FormData();
  form.append("files", new Blob(["not a photo"]), "probe.txt");
  await attempt("upload", () => fetch(app + "/gradio_api/upload", {method: "POST", body: form}));
  out.sse = await new Promise((resolve) => {
    const stream = new EventSource(app + "/gradio_api/mcp/sse");
    stream.addEventListener("endpoint", (event) => { stream.close(); resolve("read " + event.data); });
    stream.onerror = () => { stream.close(); resolve("refused"); };
  });
  return out;
}
"""


class _OtherSite(http.server.BaseHTTPRequestHandler):
    """Another site: `/` probes the app from its own origin and frames `/framed`, sandboxed, which
    probes it from the `null` origin."""

    app_url = ""

    def do_GET(self):  # noqa: N802 - the standard library's name
        script = PROBES % {"headers": json.dumps(MCP_HEADERS), "call": json.dumps(mcp_call(
            "explain_prediction", {"image": str(EXAMPLES_DIR / "cat_chelsea.png"), "model": "EfficientNetLite0", "include_image": True}).decode())}
        if self.path == "/framed":
            page = f"<script>{script} probe({json.dumps(self.app_url)}).then((out) => parent.postMessage(out, '*'));</script>"
        else:
            page = (f"<script>{script} window.results = {{}};"
                    "addEventListener('message', (event) => { window.results.framed = event.data; });"
                    f"probe({json.dumps(self.app_url)}).then((out) => {{ window.results.page = out; }});</script>"
                    '<iframe sandbox="allow-scripts" src="/framed"></iframe>')
        body = page.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def uploaded_files(app) -> list:
    return [path for path in app.uploads.rglob("*") if path.is_file()] if app.uploads.exists() else []


def test_pages_of_other_origins_read_nothing_a_sandboxed_null_origin_included(app, browser):
    """The issue's attack: a page on another origin frames a sandboxed iframe (Origin: null) that
    calls the app's MCP endpoint for a photo and its heat map, reads /config, uploads, opens the SSE
    stream. Neither the frame nor the page itself (another port of this machine) reads anything, and
    the server ran nothing for them; the app's own page still reads its config."""
    _OtherSite.app_url = app.url
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OtherSite)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    stored = uploaded_files(app)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{other.server_address[1]}/")
        page.wait_for_function("window.results && window.results.page && window.results.framed", timeout=60_000)
        results = page.evaluate("window.results")
        page.goto(app.url + "/gradio_api/info")  # the app's own origin: its own page reads as before
        own = page.evaluate("fetch('/config', {method: 'GET'}).then((answer) => answer.status)")
    finally:
        context.close()
        other.shutdown()
    assert set(results["framed"]) == set(results["page"]) == {"config", "mcp", "upload", "sse"}
    assert all(value == "refused" for value in [*results["framed"].values(), *results["page"].values()]), results
    assert own == 200
    assert not (app.out / "explanations").exists()  # the explanation was never made
    assert uploaded_files(app) == stored  # nor the upload kept

    call = mcp_call("list_models", {})
    for method, path, body, headers in [("GET", "/config", None, {}), ("GET", "/", None, {}),
                                        ("POST", "/gradio_api/mcp/", call, MCP_HEADERS), ("GET", "/gradio_api/mcp/sse", None, {}),
                                        ("POST", "/gradio_api/upload", *multipart("a.txt", b"x")),
                                        ("OPTIONS", "/gradio_api/mcp/", None, {"Access-Control-Request-Method": "POST"}),
                                        ("OPTIONS", "/gradio_api/upload", None, {"Access-Control-Request-Method": "POST"})]:
        for origin in ("null", "http://127.0.0.1:1", "http://attacker.example"):
            status, answered, _ = send(app, path, body, {**headers, "Origin": origin}, method)
            assert status == 403 and answered.get("Access-Control-Allow-Origin") is None, (method, path, origin, status)
    status, answered, _ = send(app, "/gradio_api/mcp/", call, {**MCP_HEADERS, "Origin": app.url})
    assert status == 200 and answered.get("Access-Control-Allow-Origin") in (None, app.url)


# --- forwarded host headers and the file route ------------------------------------------------

def test_forwarded_hosts_are_checked_like_host_and_pages_that_name_them_are_not_cached(app):
    for forwarded in ({"X-Forwarded-Host": "attacker.example"}, {"X-Forwarded-Host": "127.0.0.1, attacker.example"},
                      {"Forwarded": 'for=1.2.3.4;host="attacker.example";proto=https'}):
        status, _, body = send(app, "/config", headers=forwarded)
        assert status == 421 and b"attacker.example" not in body, forwarded
    port = app.url.rsplit(":", 1)[1]
    status, answered, body = send(app, "/config", headers={"X-Forwarded-Host": f"localhost:{port}"})
    assert status == 200 and f"localhost:{port}".encode() in body
    assert answered["Cache-Control"] == "no-store" and "X-Forwarded-Host" in answered["Vary"]


def test_the_file_route_serves_files_and_never_fetches_a_url(app):
    for target in ("http://93.184.215.14/anything", "https://example.com/a.png", "HTTP://example.com/",
                   "http://[2606:2800:220:1:248:1893:25c8:1946]/x", "//example.com/a.png", "http%3A//example.com/a.png"):
        status, _, body = send(app, "/gradio_api/file=" + target)
        assert status == 403 and b"fetches nothing" in body, target


# --- memory: request bodies and decoding --------------------------------------------------------

def test_concurrent_large_calls_hold_the_budget_not_one_body_per_caller(app):
    """Sixteen 6 MB calls at once, over MCP and over the Gradio API: two at a time are read and run,
    the others are told at once to retry (503, Retry-After), a small call always passes, and the
    server's memory grows by what two calls hold, not sixteen."""
    rng = np.random.default_rng(0)
    uri = png_uri(Image.fromarray(rng.integers(0, 256, (1350, 1350, 3), dtype=np.uint8)))
    assert 6_000_000 < len(uri) < REQUEST_BUDGET / 2
    arguments = {"image": uri, "models": ["EfficientNetLite0"], "top_k": 1}
    assert send(app, "/gradio_api/mcp/", mcp_call("classify_image", arguments), MCP_HEADERS)[0] == 200  # the model built

    from plugin.doors.tools import TOOLS

    fields = TOOLS["classify_image"].arguments.model_fields
    api_body = json.dumps({"data": [arguments.get(name, None if field.is_required() else field.default)
                                    for name, field in fields.items()]}).encode()
    doors = {"mcp": ("/gradio_api/mcp/", mcp_call("classify_image", arguments), MCP_HEADERS),
             "api": ("/gradio_api/call/classify_image", api_body, {"Content-Type": "application/json"})}
    resident = resident_mb(app.pid)  # what the server held with the model built: both doors measured from it
    for door, (path, body, headers) in doors.items():
        with peak_memory(app.pid, since=resident) as grown, concurrent.futures.ThreadPoolExecutor(17) as pool:
            large = [pool.submit(send, app, path, body, headers) for _ in range(16)]
            small = pool.submit(send, app, "/gradio_api/mcp/", mcp_call("list_models", {}), MCP_HEADERS)
            answers = [future.result() for future in large]
            assert small.result()[0] == 200
            if door == "api":  # the queued calls run on after they are answered
                wait_until_idle(app)
        busy = [(headers, json.loads(body)) for status, headers, body in answers if status == 503]
        assert 2 <= len(answers) - len(busy) < 16 and busy, door
        assert all(headers["Retry-After"] and "try again" in body["error"]["message"] for headers, body in busy)
        assert all(status in (200, 503) for status, _, _ in answers)
        assert grown.mb < 300, (door, grown.mb)


def wait_until_idle(app, quiet_s: float = 1.0, deadline_s: float = 120) -> None:
    """Until the server has used no CPU for `quiet_s` (its queue is empty)."""
    from tests.app_server import cpu_seconds

    deadline = time.monotonic() + deadline_s
    last = cpu_seconds(app.pid)
    while time.monotonic() < deadline:
        time.sleep(quiet_s)  # sampled: the queue's end shows only as the server going quiet
        now = cpu_seconds(app.pid)
        if now - last < 0.05:
            return
        last = now


def test_huge_images_are_decoded_one_at_a_time_whatever_the_callers(app):
    """Two calls of three 25-megapixel PNGs (small files, 100 MB each decoded) at once: the server
    holds about one decoded image at a time, not one per thread."""
    uri = png_uri(Image.new("RGBA", (5000, 5000), (200, 120, 40, 128)))
    arguments = {"images": [uri] * 3, "models": ["EfficientNetLite0"], "top_k": 1}
    send(app, "/gradio_api/mcp/", mcp_call("classify_image", {**arguments, "images": [uri]}), MCP_HEADERS)  # warm
    with peak_memory(app.pid) as grown, concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: send(app, "/gradio_api/mcp/", mcp_call("classify_image", arguments), MCP_HEADERS),
                                range(2)))
    assert all(status == 200 and b'"isError":true' not in body for status, _, body in answers)
    assert grown.mb < 500, grown.mb


# --- uploads with no event to follow ---------------------------------------------------------------

def test_uploads_no_event_uses_are_bounded_and_swept(app):
    first = time.monotonic()
    status, _, body = send(app, "/gradio_api/upload", *multipart("one.bin", b"1" * 2_000_000))
    assert status == 200
    kept = json.loads(body)[0]
    assert len(uploaded_files(app)) >= 1
    status, answered, body = send(app, "/gradio_api/upload", *multipart("two.bin", b"2" * 2_000_000))
    assert status == 507 or time.monotonic() - first >= UNUSED_UPLOAD_S  # over the total, unless the first expired
    if status == 507:
        assert answered["Retry-After"] and "UploadQuotaExceeded" in body.decode()
    deadline = time.monotonic() + 30
    while status != 200 and time.monotonic() < deadline:  # accepted once the unused first one has expired
        time.sleep(0.25)
        status, _, body = send(app, "/gradio_api/upload", *multipart("two.bin", b"2" * 2_000_000))
    assert status == 200 and time.monotonic() - first >= UNUSED_UPLOAD_S
    assert kept not in map(str, uploaded_files(app))
