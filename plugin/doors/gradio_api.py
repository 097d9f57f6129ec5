"""The tools as Gradio API endpoints (for `gradio_client` and the app's API page): the same names,
parameters, descriptions and results as `plugin.doors.tools`, since each endpoint is made from the
tool's pydantic model and runs `call_tool`. Results are JSON text; an engine error becomes a Gradio
error whose text is the `{"error": {"type", "message"}}` object.
"""

from __future__ import annotations

import inspect
import json

from plugin.doors.tools import TOOLS, Tool, call_tool

__all__ = ["register_tool_endpoints", "ENGINE_QUEUE"]

ENGINE_QUEUE = "engine"
"""The Gradio concurrency group of every event and endpoint that runs the engine."""


def _docstring(tool: Tool) -> str:
    lines = [tool.description, "", "Args:"]
    for name, field in tool.arguments.model_fields.items():
        lines.append(f"    {name}: {' '.join((field.description or '').split())}")
    lines += ["", "Returns:", "    The tool's result as JSON text (see the description)."]
    return "\n".join(lines)


def _endpoint(tool: Tool):
    """A function whose parameters are the tool's fields.

    Gradio describes an endpoint by reading its function's signature and docstring, so the
    signature is made from the pydantic model (Python's documented `__signature__`): the API page
    and gradio_client then show exactly the tool's parameters and defaults.
    """
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
    run.__signature__ = inspect.Signature(parameters, return_annotation=str)  # type: ignore[attr-defined]  # read by inspect.signature
    run.__annotations__ = annotations
    return run


def register_tool_endpoints(concurrency_limit: int) -> None:
    """Add one API endpoint per tool to the Gradio Blocks being built (call inside `with gr.Blocks()`)."""
    import gradio as gr

    for tool in TOOLS.values():
        gr.api(_endpoint(tool), api_name=tool.name, api_description=tool.description,
               concurrency_limit=concurrency_limit, concurrency_id=ENGINE_QUEUE)
