"""The tools over MCP stdio, for desktop agents: `python launch.py mcp`.

Built with the official SDK's FastMCP. Each tool's parameters are taken from the same pydantic
model `plugin.tools` uses, and every call goes through `call_tool`, so names, limits, results and
errors are those of the other doors. Engine errors come back as tool errors (isError) whose text
is the `{"error": {"type", "message"}}` object; the server keeps running.
"""

from __future__ import annotations

import base64
import contextlib
import inspect
import json
import sys
from pathlib import Path
from typing import Annotated

import anyio
from mcp.server.fastmcp import FastMCP
from mcp.types import CallToolResult, ImageContent, TextContent

from plugin.tools import TOOLS, Tool, call_tool

__all__ = ["build_server", "serve_stdio"]

INSTRUCTIONS = (
    "CNN Study Lab: classify images with classic CNNs (VGG16, ResNet50, AlexNet...), describe their "
    "architecture, compare them and make study reports. Start with list_models. Images are file paths below "
    "the allowed folders, public http(s) URLs or data: URIs."
)
_MAX_IMAGE_BYTES = 2 * 1024 * 1024


def _signature(tool: Tool) -> inspect.Signature:
    parameters = []
    for name, field in tool.arguments.model_fields.items():
        default = inspect.Parameter.empty if field.is_required() else field.default
        parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                            annotation=Annotated[field.annotation, field]))
    return inspect.Signature(parameters, return_annotation=CallToolResult)


def _diagram_image(arguments: dict) -> ImageContent | None:
    """The diagram as a PNG content block, drawn (or taken from the cache) for the same options."""
    from plugin.architecture import describe_architecture

    png = describe_architecture(arguments.get("model") or "ResNet50", include_diagram=True, diagram_format="png",
                                expand_nested=bool(arguments.get("expand_nested")), show_shapes=arguments.get("show_shapes", True),
                                rankdir=arguments.get("rankdir") or "TB", model_path=arguments.get("model_path"))["diagram"]
    data = Path(png["path"]).read_bytes()
    if len(data) > _MAX_IMAGE_BYTES:
        return None
    return ImageContent(type="image", data=base64.b64encode(data).decode("ascii"), mimeType="image/png")


def _run(tool: Tool, arguments: dict) -> CallToolResult:
    with contextlib.redirect_stdout(sys.stderr):  # Keras prints progress; stdout carries the protocol
        result = call_tool(tool.name, arguments)
        text = TextContent(type="text", text=json.dumps(result, ensure_ascii=False))
        if "error" in result:
            return CallToolResult(content=[text], isError=True)
        content: list = [text]
        if tool.name == "describe_architecture" and arguments.get("include_image"):
            image = _diagram_image(arguments)
            if image is not None:
                content.append(image)
    return CallToolResult(content=content, structuredContent=result)


def _function(tool: Tool):
    async def run(**arguments) -> CallToolResult:
        return await anyio.to_thread.run_sync(_run, tool, arguments)

    run.__name__ = tool.name
    run.__doc__ = tool.description
    run.__signature__ = _signature(tool)
    return run


def build_server() -> FastMCP:
    """A FastMCP server with every tool of `plugin.tools`."""
    server = FastMCP("cnn-study-lab", instructions=INSTRUCTIONS)
    for tool in TOOLS.values():
        server.add_tool(_function(tool), name=tool.name, description=tool.description)
    return server


def serve_stdio() -> None:
    """Serve the tools over stdio until the client closes the connection."""
    build_server().run("stdio")
