"""The MCP door over SSE, attacked as the issue's attacker did: sessions that post more calls than
they may (each answered 202 at once) and hang up. The app runs in a subprocess with one engine slot
and a bound of four calls per connection; the attacker is a raw SSE client (a streamed GET read for
its `endpoint` event, JSON-RPC POSTed to it, the GET closed), the honest caller the official client.

Which calls ran is read from what they leave: each explain_prediction call asks for its own class,
and its heat map is written as `explanations/EfficientNetLite0-<class>-<digest>.png`."""

import asyncio
import contextlib
import json
import threading
import time

import httpx
import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client

from plugin.config import EXAMPLES_DIR
from tests.app_server import cpu_seconds, running_app, threads

PER_CONNECTION = 4
CONNECTIONS = 4
POSTED = PER_CONNECTION + 2
"""Calls each attacking connection posts: two past its bound."""
EXPLAIN = {"image": str(EXAMPLES_DIR / "cat_chelsea.png"), "model": "EfficientNetLite0"}  # real weights, bundled


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app in a subprocess (`python app.py`), one engine slot, four calls per MCP connection."""
    with running_app(tmp_path_factory.mktemp("sse-abandon-out"), CNNLAB_CONCURRENT_RUNS="1",
                     CNNLAB_CALLS_PER_CONNECTION=str(PER_CONNECTION)) as served:
        yield served


def explained(out, classes) -> set[int]:
    """The classes among `classes` whose explanation was written: the calls that ran."""
    return {index for index in classes if any((out / "explanations").glob(f"EfficientNetLite0-{index}-*.png"))}


async def honest_call(url: str, class_index: int | None = None) -> tuple[float, object]:
    """One explain_prediction call through the official SSE client: (seconds it took, its result)."""
    async with sse_client(f"{url}/gradio_api/mcp/sse") as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            started = time.monotonic()
            result = await session.call_tool("explain_prediction", {**EXPLAIN, "class_index": class_index})
            return time.monotonic() - started, result


class RawSession:
    """An SSE session driven by hand: the GET stream is read for events, messages are POSTed."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.client, self.url = client, url
        self.stack = contextlib.AsyncExitStack()

    async def open(self) -> None:
        response = await self.stack.enter_async_context(self.client.stream("GET", f"{self.url}/gradio_api/mcp/sse"))
        self.lines = response.aiter_lines()
        self.messages = self.url + await self.event("endpoint")
        await self.post({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}})
        assert json.loads(await self.event("message"))["id"] == 0
        await self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})

    async def event(self, kind: str) -> str:
        """The data of the next event of `kind` on the stream."""
        current = None
        async for line in self.lines:
            if line.startswith("event:"):
                current = line[6:].strip()
            elif line.startswith("data:") and current == kind:
                return line[5:].strip()
        raise AssertionError("the SSE stream ended")

    async def post(self, message: dict) -> None:
        response = await self.client.post(self.messages, json=message)
        assert response.status_code == 202, response.text

    async def hang_up(self) -> None:
        await self.stack.aclose()


def test_calls_of_a_caller_who_hung_up_are_not_run_and_an_honest_caller_is_answered(app):
    asyncio.run(honest_call(app.url))  # the model built once
    cpu_before = cpu_seconds(app.pid)
    warm_seconds, _ = asyncio.run(honest_call(app.url))
    one_call_cpu = cpu_seconds(app.pid) - cpu_before
    baseline = threads(app.pid)
    peak = [baseline]
    watching = threading.Event()

    def watch() -> None:  # the server's threads, sampled through the attack and after it
        while not watching.wait(0.02):
            with contextlib.suppress(OSError, StopIteration):
                peak[0] = max(peak[0], threads(app.pid))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    classes = {(connection, call): 100 + 10 * connection + call for connection in range(CONNECTIONS) for call in range(POSTED)}

    async def attack() -> tuple[list[list[dict]], set[int], float]:
        async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
            sessions = [RawSession(client, app.url) for _ in range(CONNECTIONS)]
            for session in sessions:
                await session.open()
            await asyncio.gather(*[session.post({"jsonrpc": "2.0", "id": 1 + call, "method": "tools/call", "params": {
                "name": "explain_prediction", "arguments": {**EXPLAIN, "class_index": classes[(connection, call)]}}})
                for connection, session in enumerate(sessions) for call in range(POSTED)])

            async def answers(session: RawSession) -> list[dict]:
                """What came back before hanging up: until the calls past the bound are refused (or answered)."""
                got: list[dict] = []
                while len(got) < POSTED - PER_CONNECTION:
                    got.append(json.loads(await session.event("message")))
                return got

            got = await asyncio.wait_for(asyncio.gather(*map(answers, sessions)), timeout=60)
            ran_before = explained(app.out, classes.values())
            for session in sessions:
                await session.hang_up()
            return got, ran_before, cpu_seconds(app.pid)

    got, ran_before, cpu_at_hang_up = asyncio.run(attack())
    wait, answer = asyncio.run(honest_call(app.url, class_index=999))
    quiet_by = time.monotonic() + 30
    last = cpu_seconds(app.pid)
    while time.monotonic() < quiet_by:  # the server at rest: nothing left running for the callers who left
        time.sleep(0.5)
        now = cpu_seconds(app.pid)
        if now - last < 0.05:
            break
        last = now
    spent = cpu_seconds(app.pid) - cpu_at_hang_up
    watching.set()
    watcher.join()
    ran_after = explained(app.out, classes.values()) - ran_before
    numbers = (f"{len(ran_after)} calls ran after the hang-up, {spent:.1f} CPU s (one call: {one_call_cpu:.1f}), "
               f"honest wait {wait:.1f} s (warm call: {warm_seconds:.1f} s), threads {baseline} -> {peak[0]}")

    refusals = [message for messages in got for message in messages if message.get("result", {}).get("isError")]
    assert len(refusals) >= CONNECTIONS, got  # each connection is told promptly, while its others still wait
    for refusal in refusals:
        error = json.loads(refusal["result"]["content"][0]["text"])["error"]
        assert error["type"] == "LimitExceededError", error
        assert f"Expected at most {PER_CONNECTION} calls in progress per connection" in error["message"], error
        assert "retry" in error["message"], error
    # The property: what had not started when its caller left never runs. With one engine slot, at most
    # the call running at the hang-up (and one started in the moment before it) finishes; the others,
    # up to CONNECTIONS * PER_CONNECTION of them, are dropped.
    assert len(ran_after) <= 2, numbers
    assert spent < 3 * one_call_cpu + 1.0, numbers  # the honest call and at most two abandoned ones
    assert not answer.isError and json.loads(answer.content[0].text)["class"]["index"] == 999, answer.content[0].text
    assert wait < 3 * warm_seconds + 2.0, numbers  # not behind the abandoned calls
    assert peak[0] <= baseline + 4, numbers  # threads held by calls allowed to run only, not by the backlog
