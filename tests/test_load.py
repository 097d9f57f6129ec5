"""Load and faults: the running app answers 50 requests at once without running more than its
engine limit, a long run of calls holds its memory, and a request killed while writing leaves no
half-written report. The app runs in this process, so the engine gate can be read directly."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

import plugin
from plugin.config import EXAMPLES_DIR
from plugin.doors.gate import gate_stats
from plugin.doors.tools import call_tool
from tests.app_server import free_port
from tests.conftest import REPO

CAT = str(EXAMPLES_DIR / "cat_chelsea.png")
CLASSIFY = {"image": CAT, "models": ["AlexNet"], "weights": "random", "allow_random_weights": True, "top_k": 1}


@pytest.fixture(scope="module")
def running_app(tmp_path_factory):
    from plugin.doors.webapp import launch

    out = tmp_path_factory.mktemp("load-out")
    plugin.configure(image_roots=[EXAMPLES_DIR], output_dir=out, concurrent_runs=2)
    port = free_port()
    app = launch(port=port, lang="en", block=False)
    yield f"http://127.0.0.1:{port}"
    app.close()


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def test_fifty_requests_at_once_are_all_answered_within_the_engine_limit(running_app):
    from gradio_client import Client

    plugin.configure(image_roots=[EXAMPLES_DIR], concurrent_runs=2)
    call_tool("classify_image", CLASSIFY)  # AlexNet built once, before the crowd
    gate_stats(reset=True)
    client = Client(running_app, verbose=False)
    jobs = [client.submit(api_name="/classify_image", **CLASSIFY) for _ in range(25)]  # the Gradio API door

    async def mcp_crowd():  # and the MCP door over HTTP, at the same time
        async with streamable_http_client(f"{running_app}/gradio_api/mcp/") as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await asyncio.gather(*[session.call_tool("classify_image", CLASSIFY) for _ in range(25)])

    answers = asyncio.run(asyncio.wait_for(mcp_crowd(), timeout=300))
    results = [json.loads(job.result(timeout=300)) for job in jobs]
    assert all(not answer.isError for answer in answers) and len(answers) == 25
    assert all(result["results"][0]["model"] == "AlexNet" for result in results) and len(results) == 25
    stats = gate_stats()
    assert stats["peak"] == stats["limit"] == 2, stats  # both doors together never ran more than two at once


def _post_head(url: str, headers: str, body_chunks=()) -> bytes:
    """Send a POST's head (and chunks, if any) over a raw socket; return what the server answers."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(f"POST /gradio_api/mcp/ HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                           f"Accept: application/json, text/event-stream\r\n{headers}\r\n".encode())
        try:
            for chunk in body_chunks:
                connection.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        except OSError:
            pass  # the server stopped reading: its answer is waiting
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < _content_length(answer):
            chunk = connection.recv(4096)  # the head and the body may come in separate segments
            if not chunk:
                break
            answer += chunk
        return answer


def _content_length(answer: bytes) -> int:
    for line in answer.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def test_an_oversized_body_is_refused_before_it_is_read(running_app):
    declared = _post_head(running_app, "Content-Length: 41943040\r\n")  # 40 MiB announced, none sent
    assert declared.startswith(b"HTTP/1.1 413") and b"at most 33,554,432 bytes" in declared
    chunked = _post_head(running_app, "Transfer-Encoding: chunked\r\n", [b"A" * (1 << 20)] * 40)
    assert chunked.startswith(b"HTTP/1.1 413")
    with urllib.request.urlopen(running_app, timeout=30) as page:  # and the app goes on
        assert page.status == 200


def test_two_hundred_calls_in_a_row_hold_their_memory():
    call = {"image": CAT, "models": ["EfficientNetLite0"], "top_k": 3}
    for _ in range(20):  # warm: the model built, the allocator settled
        assert "error" not in call_tool("classify_image", call)
    before = rss_mb()
    for _ in range(180):
        assert call_tool("classify_image", call)["results"][0]["predictions"][0]["index"] in range(281, 286)  # a house cat
    grown = rss_mb() - before
    assert grown < 60, f"memory grew by {grown:.0f} MB over 180 calls"


def test_a_request_killed_while_writing_leaves_no_half_written_report(tmp_path):
    """The process dies after the page's bytes are written and before they are moved into place."""
    code = f"""
import os, sys, time
import plugin
from plugin import files
plugin.configure(image_roots=[{str(EXAMPLES_DIR)!r}], output_dir={str(tmp_path)!r})
real = os.replace
def slow(source, target):
    if str(target).endswith(".html") and "index" not in str(target):
        print("writing", flush=True)
        time.sleep(60)
    real(source, target)
files.os.replace = slow
plugin.make_report("architecture", model="AlexNet", lang="en")
"""
    process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, text=True)
    try:
        assert process.stdout.readline().strip() == "writing"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert list(tmp_path.glob("*.html")) == []  # no page, not even a part of one, under a report's name
    assert not (tmp_path / "index.json").exists() or "AlexNet" not in (tmp_path / "index.json").read_text()
    left = [path.name for path in tmp_path.iterdir() if path.name.startswith(".")]
    assert all(name.endswith(".part") for name in left)  # at most a hidden temporary file


def test_mcp_calls_that_arrive_together_run_as_fewer_batches(running_app):
    """Twelve classify calls at once over MCP (HTTP) for one model: every caller gets its own
    answer, and the model ran fewer batches than there were calls."""
    from plugin.engine.inference.prepared import load_registry_model

    plugin.configure(image_roots=[EXAMPLES_DIR], concurrent_runs=4)
    arguments = {"image": CAT, "models": ["EfficientNetLite0"], "top_k": 1, "backend": "keras"}
    assert "error" not in call_tool("classify_image", arguments)  # built before the crowd
    batcher = load_registry_model("EfficientNetLite0", "imagenet", "keras").runner.batcher
    before = batcher.stats()

    async def crowd():
        async with streamable_http_client(f"{running_app}/gradio_api/mcp/") as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await asyncio.gather(*[session.call_tool("classify_image", arguments) for _ in range(12)])

    answers = asyncio.run(asyncio.wait_for(crowd(), timeout=300))
    results = [json.loads(answer.content[0].text) for answer in answers]
    assert all(result["results"][0]["verdict"]["label"] == "cat" for result in results)
    after = batcher.stats()
    assert after["requests"] - before["requests"] == 12
    assert after["runs"] - before["runs"] < 12, (before, after)
