"""What surrounds inference: drawing a diagram (cold and warm), rendering each kind of report from
results already made, and what HTTP adds to a tool call through the Gradio API and MCP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import statistics
import sys
import time

import httpx

from scripts.bench.inference import median_ms

__all__ = ["describe_speed", "report_speed", "http_overhead"]


def describe_speed(model: str = "DenseNet121") -> dict:
    """describe_architecture with its diagram: first in this process (built and drawn), then again (cached)."""
    from plugin.api import describe_architecture

    started = time.perf_counter()
    describe_architecture(model, include_diagram=True)
    cold = time.perf_counter() - started
    warm = median_ms(lambda: describe_architecture(model, include_diagram=True), 3) / 1000.0
    return {"model": model, "cold_s": round(cold, 2), "warm_s": round(warm, 3)}


def report_speed(model: str, weights: str, jpeg: bytes, source, runs: int = 3) -> dict:
    """Seconds to render each kind of report, Korean, from results made beforehand: the first time
    in this process (an architecture page rasterises the diagram for its Markdown version), and
    again (median of `runs`)."""
    from plugin.api import classify_image, compare_models, describe_architecture, evaluate, render_report

    inputs = {
        "architecture": {"facts": describe_architecture(model, include_diagram=True)},
        "classification": {"result": classify_image(jpeg, models=[model], weights=weights), "image": jpeg},
        "comparison": {"result": compare_models([model, "ResNet50"])},
        "evaluation": {"result": evaluate(source, models=[model], weights=weights, resume=False)},
    }
    times = {}
    for kind, given in inputs.items():
        started = time.perf_counter()
        render_report(kind, "ko", **given)
        first = time.perf_counter() - started
        again = median_ms(lambda kind=kind, given=given: render_report(kind, "ko", **given), runs) / 1000.0
        times[kind] = {"first_s": round(first, 3), "again_s": round(again, 3)}
    return times


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_overhead(arguments: dict, runs: int = 15) -> dict:
    """Median ms of one classify_image tool call in this process, through the Gradio API (with
    gradio_client, and with plain HTTP requests as Gradio documents for curl) and as an MCP call
    over Streamable HTTP, on the running app; the overheads are the differences."""
    from gradio_client import Client
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    from plugin.doors.tools import TOOLS, call_tool
    from plugin.doors.webapp import launch

    fields = TOOLS["classify_image"].arguments.model_fields
    arguments_in_order = [arguments.get(name, field.default) for name, field in fields.items()]

    port = _free_port()
    app = launch(port=port, lang="en", block=False)
    url = f"http://127.0.0.1:{port}"
    try:
        assert "error" not in call_tool("classify_image", arguments)
        local = median_ms(lambda: call_tool("classify_image", arguments), runs)
        client = Client(url, verbose=False)
        json.loads(client.predict(api_name="/classify_image", **arguments))
        gradio = median_ms(lambda: client.predict(api_name="/classify_image", **arguments), runs)
        with httpx.Client(base_url=f"{url}/gradio_api/call/classify_image", timeout=60) as http:
            def over_http() -> None:  # Gradio's documented HTTP API: POST the call, read its result stream
                event = http.post("", json={"data": list(arguments_in_order)}).json()["event_id"]
                stream = http.get(f"/{event}").text
                assert "event: complete" in stream, stream[:300]

            over_http()
            raw = median_ms(over_http, runs)

        async def over_mcp() -> float:
            async with streamable_http_client(f"{url}/gradio_api/mcp/") as (read, write, _):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    await session.call_tool("classify_image", arguments)
                    times = []
                    for _ in range(runs):
                        started = time.perf_counter()
                        answer = await session.call_tool("classify_image", arguments)
                        times.append((time.perf_counter() - started) * 1000.0)
                        assert not answer.isError
                    return statistics.median(times)

        mcp = asyncio.run(over_mcp())
    finally:
        with contextlib.redirect_stdout(sys.stderr):  # Gradio says "Closing server..." on stdout, where --json goes
            app.close()
    return {"in_process_ms": round(local, 2), "gradio_ms": round(gradio, 2), "gradio_http_ms": round(raw, 2),
            "mcp_ms": round(mcp, 2), "gradio_overhead_ms": round(gradio - local, 2),
            "gradio_http_overhead_ms": round(raw - local, 2), "mcp_overhead_ms": round(mcp - local, 2)}
