"""The tools as Gradio API endpoints, which `launch(mcp_server=True)` serves over MCP
(Streamable HTTP at /gradio_api/mcp/): the same names, parameters, descriptions and results as
`plugin.tools`, since each endpoint is built from the tool's pydantic model and runs `call_tool`.
Results are JSON text (Gradio would otherwise print a Python repr); an engine error becomes a Gradio
error, which MCP clients see as a tool error.
"""

from __future__ import annotations

import inspect
import json

from plugin.tools import TOOLS, Tool, call_tool

__all__ = ["register_tool_endpoints"]


def _docstring(tool: Tool) -> str:
    lines = [tool.description, "", "Args:"]
    for name, field in tool.arguments.model_fields.items():
        lines.append(f"    {name}: {' '.join((field.description or '').split())}")
    lines += ["", "Returns:", "    The tool's result as JSON text (see the description)."]
    return "\n".join(lines)


def _endpoint(tool: Tool):
    import gradio as gr

    names = list(tool.arguments.model_fields)

    def run(*values) -> str:
        result = call_tool(tool.name, dict(zip(names, values)))
        text = json.dumps(result, ensure_ascii=False)
        if "error" in result:
            raise gr.Error(text, print_exception=False)
        return text

    parameters = []
    annotations = {}
    for name, field in tool.arguments.model_fields.items():
        default = inspect.Parameter.empty if field.is_required() else field.default
        parameters.append(inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default,
                                            annotation=field.annotation))
        annotations[name] = field.annotation
    annotations["return"] = str
    run.__name__ = run.__qualname__ = tool.name
    run.__doc__ = _docstring(tool)
    run.__signature__ = inspect.Signature(parameters, return_annotation=str)
    run.__annotations__ = annotations
    run._mcp_type = "tool"
    run._mcp_name = tool.name
    run._mcp_description = tool.description
    run._mcp_structured_output = False  # Gradio would wrap the text blocks, not the object
    run._mcp_meta = None
    return run


def register_tool_endpoints() -> None:
    """Add one API endpoint per tool to the Gradio Blocks being built (call inside `with gr.Blocks()`)."""
    import gradio as gr

    for tool in TOOLS.values():
        gr.api(_endpoint(tool), api_name=tool.name, api_description=tool.description, concurrency_limit=2)
