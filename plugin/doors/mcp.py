"""The tools over MCP, for agents: over stdio (`python launch.py mcp`) and, mounted by the web app
at /gradio_api/mcp, over Streamable HTTP (/gradio_api/mcp/) and over SSE (/gradio_api/mcp/sse, the
path Gradio documents), with Gradio's schema listing at /gradio_api/mcp/schema.

One server, built with the official SDK's low-level `Server`: each tool is listed with the input
schema of its pydantic model (`plugin.doors.tools`), its title and annotations (read-only,
destructive, idempotent, open-world hints) and the output schema of its result, and every call goes
through `call_tool`, so arguments are validated once, by the same models, and names, limits, results
and errors are those of the other doors. A result comes back as JSON text and as structured content
(which its output schema describes); an error as a tool error (isError) whose text is the
`{"error": {"type", "message"}}` object, with no structured content (clients check structured
content against the output schema, the TypeScript SDK's client even on an error); the server keeps
running.

What a caller may hold is bounded (`Calls`): calls in progress per connection
(`Settings.calls_per_connection`) and in all (`Settings.queue_size`), past which a call is
answered at once with `LimitExceededError` and a request to retry. A call waits for the engine
without a thread until it may run, and a caller who hangs up takes its calls with it: those not
started never run, a long one stops at its next step.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import sys
import threading
import typing
from collections.abc import Iterator
from pathlib import Path

import anyio
from mcp import types
from mcp.server.lowlevel import Server
from mcp.shared.message import SessionMessage

from plugin.config import get_settings
from plugin.doors.gate import abandon, abandonable
from plugin.doors.tools import TOOLS, call_tool, result_pictures, tool_specs
from plugin.errors import CallCancelledError, LimitExceededError, PluginError
from plugin.limits import MAX_REQUEST_BYTES

__all__ = ["build_server", "serve_stdio", "streamable_http_app", "Calls", "INSTRUCTIONS"]

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
    if "error" in result:  # the object as text only: structured content is a result, as the output schema says
        return types.CallToolResult(content=[text], isError=True)
    content: list = [text]
    if isinstance(arguments, dict) and arguments.get("include_image"):
        content += [image for image in map(_png_content, result_pictures(name, result)) if image is not None]
    return types.CallToolResult(content=content, structuredContent=result)


def _error_result(exc: PluginError) -> types.CallToolResult:
    """An error the door raised itself, answered as `call_tool` answers the engine's."""
    result = {"error": {"type": exc.type, "message": str(exc)}}
    return types.CallToolResult(content=[types.TextContent(type="text", text=json.dumps(result))], isError=True)


def _png_content(file: Path) -> types.ImageContent | None:
    """A PNG made by the call (a diagram, a heat map) as an image content block, if not too large."""
    if file.stat().st_size > _MAX_IMAGE_BYTES:
        return None
    return types.ImageContent(type="image", data=base64.b64encode(file.read_bytes()).decode("ascii"), mimeType="image/png")


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


class Calls:
    """The calls in progress on one server (waiting for the engine or running), per connection and
    in all, and the runners they wait for.

    Used from the server's event loop only. A call past a bound is refused before it takes
    anything; one within waits for a runner (`Settings.concurrent_runs` of them, as many as the
    engine has slots) as a task, without a thread, so a caller's backlog costs no threads, and a
    waiting call whose caller hangs up is dropped unrun.
    """

    def __init__(self) -> None:
        self.runners = anyio.CapacityLimiter(max(1, get_settings().concurrent_runs))
        self._per_connection: dict[object, int] = {}
        self._in_all = 0

    @contextlib.contextmanager
    def admitted(self, connection: object) -> Iterator[None]:
        """Count one call of `connection` (its session) as in progress for the block.

        Raises:
            LimitExceededError: the connection, or the server, has as many calls in progress as it may.
        """
        settings = get_settings()
        held = self._per_connection.get(connection, 0)
        if held >= settings.calls_per_connection:
            raise LimitExceededError(f"Expected at most {settings.calls_per_connection} calls in progress per connection. "
                                     f"Received: another while {held} wait or run; retry when one of them has answered.")
        if self._in_all >= settings.queue_size:
            raise LimitExceededError(f"Expected at most {settings.queue_size} calls in progress on this server. "
                                     f"Received: another while {self._in_all} wait or run; the server is busy, retry in a "
                                     "few seconds.")
        self._per_connection[connection] = held + 1
        self._in_all += 1
        try:
            yield
        finally:
            self._in_all -= 1
            left = self._per_connection.pop(connection) - 1
            if left:
                self._per_connection[connection] = left

    def runner(self, name: str) -> contextlib.AbstractAsyncContextManager:
        """What a call of tool `name` waits for before it takes a thread: a runner if it runs the engine."""
        tool = TOOLS.get(name)
        if tool is None or not tool.runs_engine:
            return contextlib.nullcontext()
        self.runners.total_tokens = max(1, get_settings().concurrent_runs)  # follows configure(), as the engine's slots do
        return self.runners


def _methods(union) -> frozenset[str]:
    return frozenset(member.model_fields["method"].annotation.__args__[0]
                     for member in typing.get_args(union.model_fields["root"].annotation))


_KNOWN_REQUESTS = _methods(types.ClientRequest)
_KNOWN_NOTIFICATIONS = _methods(types.ClientNotification)


class _Server(Server):
    """The SDK's server, which answers a request for a method its protocol version does not know
    (mcp 2 clients open with `server/discover`) with JSON-RPC's "method not found" and no log line,
    and drops such notifications quietly: the SDK itself logs a warning for each and answers
    "invalid parameters", which makes a newer client's first attempt look like an error."""

    async def run(self, read_stream, write_stream, initialization_options, raise_exceptions: bool = False,
                  stateless: bool = False):
        known_send, known_receive = anyio.create_memory_object_stream[SessionMessage | Exception](0)

        async def sift() -> None:
            async with known_send:
                try:
                    async for message in read_stream:
                        root = message.message.root if isinstance(message, SessionMessage) else None
                        if isinstance(root, types.JSONRPCRequest) and root.method not in _KNOWN_REQUESTS:
                            error = types.ErrorData(code=types.METHOD_NOT_FOUND, message=f"Method not found: {root.method[:100]}")
                            await write_stream.send(SessionMessage(types.JSONRPCMessage(
                                types.JSONRPCError(jsonrpc="2.0", id=root.id, error=error))))
                        elif not (isinstance(root, types.JSONRPCNotification) and root.method not in _KNOWN_NOTIFICATIONS):
                            await known_send.send(message)
                except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                    pass  # the transport closed its stream (a stateless HTTP request is answered): the session ends

        async with anyio.create_task_group() as group:
            group.start_soon(sift)
            await super().run(known_receive, write_stream, initialization_options, raise_exceptions, stateless)
            group.cancel_scope.cancel()


def build_server() -> Server:
    """An MCP server offering every tool of `plugin.doors.tools`."""
    server = _Server("cnn-study-lab", instructions=INSTRUCTIONS)
    calls = Calls()
    listed = [types.Tool(name=spec["name"], title=spec["title"], description=spec["description"],
                         inputSchema=spec["inputSchema"], outputSchema=spec.get("outputSchema"),
                         annotations=types.ToolAnnotations(**spec["annotations"]))
              for spec in tool_specs("mcp")]

    @server.list_tools()
    async def list_tools() -> list[types.Tool]:
        return listed

    # The SDK's own schema check is off: call_tool validates with the pydantic models, once, and
    # answers bad arguments with the same error object as every other door. A handler that returns
    # a CallToolResult, as this one does, has no output check by the SDK's server either: the output
    # schemas are kept true by the tests, which check real results against them.
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

        def run() -> types.CallToolResult:
            with abandonable(gone):  # a wait for an engine slot ends when the caller hangs up: the call is not run
                return run_tool(name, arguments, progress)

        # A caller that hangs up cancels this task: a call still waiting for a runner is dropped without
        # having taken a thread; a running one stops at its next step and frees its engine slot.
        try:
            with calls.admitted(context.session):
                async with calls.runner(name):
                    return await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
        except LimitExceededError as exc:
            return _error_result(exc)
        except anyio.get_cancelled_exc_class():
            abandon(gone)
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
    """The server as an ASGI app to mount at /gradio_api/mcp, and the lifespan that must wrap its use.

    Below the mount: "/" is the Streamable HTTP endpoint (stateless), "/sse" and "/messages/" the
    SSE transport, "/schema" every tool's name, description and input schema as Gradio's own MCP
    server lists them (for clients that read a Space's tools without connecting), with its title,
    annotations and output schema as the server lists them.

    Returns:
        `(app, lifespan)`: mount `app` at a path; enter `lifespan(asgi_app)` while serving.
    """
    from mcp.server.sse import SseServerTransport
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route, Router

    server = build_server()
    # The SDK's own cap on a body is 4 MiB; the app's is MAX_REQUEST_BYTES (a data URI of a 20 MiB photo), checked first by BodyLimit.
    manager = StreamableHTTPSessionManager(app=server, stateless=True, max_request_body_size=MAX_REQUEST_BYTES)
    sse = SseServerTransport("/messages/")  # said to the client below the mount's own path

    class SseConnection:  # an ASGI app (a class instance, which Starlette's Route passes the raw connection)
        async def __call__(self, scope, receive, send) -> None:
            async with sse.connect_sse(scope, receive, send) as (read, write):
                await server.run(read, write, server.create_initialization_options())

    async def streamable(scope, receive, send) -> None:
        await manager.handle_request(scope, receive, send)

    async def schema(_request):
        return JSONResponse([{**spec, "meta": {"mcp_type": "tool", "file_data_present": False, "endpoint_name": spec["name"]}}
                             for spec in tool_specs("mcp")])

    app = Router(routes=[Route("/schema", schema, methods=["GET"]), Route("/sse", SseConnection(), methods=["GET"]),
                         Mount("/messages/", app=sse.handle_post_message), Mount("/", app=streamable)])

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        async with manager.run():
            yield

    return app, lifespan
