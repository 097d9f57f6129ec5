"""The tools over MCP, for agents: over stdio (`python launch.py mcp`) and over Streamable HTTP
(mounted by the web app at /gradio_api/mcp/).

One server, built with the official SDK's low-level `Server`: each tool is listed with the input
schema of its pydantic model (`plugin.doors.tools`), and every call goes through `call_tool`, so
arguments are validated once, by the same models, and names, limits, results and errors are those
of the other doors. A result comes back as JSON text and as structured content; an error as a tool
error (isError) whose text is the `{"error": {"type", "message"}}` object; the server keeps running.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import sys
import threading

import anyio
from mcp import types
from mcp.server.lowlevel import Server

from plugin.config import get_settings
from plugin.doors.tools import call_tool, tool_specs
from plugin.errors import CallCancelledError
from plugin.limits import MAX_REQUEST_BYTES

__all__ = ["build_server", "serve_stdio", "streamable_http_app", "INSTRUCTIONS"]

INSTRUCTIONS = (
    "CNN Study Lab: classify images with classic CNNs (VGG16, ResNet50, AlexNet...), describe their "
    "architecture, compare them and make study reports. Start with list_models. Images are file paths below "
    "the allowed folders, public http(s) URLs or data: URIs."
)
_MAX_IMAGE_BYTES = 2 * 1024 * 1024


def run_tool(name: str, arguments: dict | None, progress=None) -> types.CallToolResult:
    """Run one tool call as MCP answers it (blocking: call it from a worker thread)."""
    result = call_tool(name, arguments, progress)
    text = types.TextContent(type="text", text=json.dumps(result, ensure_ascii=False))
    if "error" in result:
        return types.CallToolResult(content=[text], structuredContent=result, isError=True)
    content: list = [text]
    if isinstance(arguments, dict) and arguments.get("include_image"):
        if name == "describe_architecture":
            image = _png_content(((result.get("diagram") or {}).get("files") or {}).get("png", {}).get("path"))
        elif name == "explain_prediction":
            image = _png_content(result.get("overlay_path"))
        else:
            image = None
        if image is not None:
            content.append(image)
    return types.CallToolResult(content=content, structuredContent=result)


def _png_content(path: str | None) -> types.ImageContent | None:
    """A PNG made in the same call (a diagram, a heat map; its path relative to the output folder, as
    results give it), as an image content block, if not too large."""
    if not path:
        return None
    file = get_settings().output_dir / path
    if not file.is_file() or file.stat().st_size > _MAX_IMAGE_BYTES:
        return None
    data = file.read_bytes()
    return types.ImageContent(type="image", data=base64.b64encode(data).decode("ascii"), mimeType="image/png")


def progress_until_gone(name: str, gone: threading.Event, notify=None):
    """The progress function a long tool calls after each step (from its worker thread): it stops
    the work, with `CallCancelledError`, once `gone` is set (the caller hung up), else passes the
    step on to `notify` (a progress notification, when the caller asked for them)."""
    def progress(done: float, total: float, message: str) -> None:
        if gone.is_set():
            raise CallCancelledError(f"Expected the caller of {name} to wait for its result. Received: it went away; "
                                     f"stopped after step {done:g} of {total:g}.")
        if notify is not None:
            notify(done, total, message)

    return progress


def build_server() -> Server:
    """An MCP server offering every tool of `plugin.doors.tools`."""
    server = Server("cnn-study-lab", instructions=INSTRUCTIONS)
    listed = [types.Tool(name=spec["name"], description=spec["description"], inputSchema=spec["inputSchema"])
              for spec in tool_specs("mcp")]

    @server.list_tools()
    async def list_tools() -> list[types.Tool]:
        return listed

    # The SDK's own schema check is off: call_tool validates with the pydantic models, once, and
    # answers bad arguments with the same error object as every other door.
    @server.call_tool(validate_input=False)
    async def call(name: str, arguments: dict) -> types.CallToolResult:
        context = server.request_context
        token = context.meta.progressToken if context.meta is not None else None
        gone = threading.Event()
        notify = None
        if token is not None:
            def notify(done: float, total: float, message: str) -> None:
                anyio.from_thread.run(lambda: context.session.send_progress_notification(
                    token, float(done), float(total), message, related_request_id=str(context.request_id)))
        progress = progress_until_gone(name, gone, notify)
        try:  # a caller that hangs up cancels this task; the thread stops at its next step and frees its engine slot
            return await anyio.to_thread.run_sync(run_tool, name, arguments, progress, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            gone.set()
            raise

    return server


def serve_stdio() -> None:
    """Serve the tools over stdio until the client closes the connection.

    The protocol owns the process's real standard output. It is set apart once, at start: the
    protocol writes to a duplicate of file descriptor 1, and descriptor 1 itself (and `sys.stdout`)
    then point at standard error, so a progress bar printed by Keras or a library, from any thread,
    lands in the log instead of corrupting the protocol stream.
    """
    from mcp.server.stdio import stdio_server

    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    server = build_server()

    async def main() -> None:
        writer = anyio.wrap_file(io.TextIOWrapper(protocol, encoding="utf-8", write_through=True))
        async with stdio_server(stdout=writer) as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(main)


def streamable_http_app():
    """The server as an ASGI app for Streamable HTTP, and the lifespan that must wrap its use.

    Returns:
        `(app, lifespan)`: mount `app` at a path; enter `lifespan(asgi_app)` while serving.
    """
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

    # The SDK's own cap on a body is 4 MiB; the app's is MAX_REQUEST_BYTES (a data URI of a 20 MiB photo), checked first by BodyLimit.
    manager = StreamableHTTPSessionManager(app=build_server(), stateless=True, max_request_body_size=MAX_REQUEST_BYTES)

    async def app(scope, receive, send) -> None:
        await manager.handle_request(scope, receive, send)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        async with manager.run():
            yield

    return app, lifespan
