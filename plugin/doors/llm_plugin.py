"""The tools as a plugin for Simon Willison's `llm` command (`llm install -e .`, then
`llm tools list`, `llm -T classify_image "Is this a cat? plugin/examples/cat_chelsea.png"`).

`llm` imports every plugin on every command, so this module imports nothing of the project at the
top: the tools are made when `llm` asks for them. Each is an `llm.Tool` with the name, description
and input schema of its pydantic model (`plugin.doors.tools`); a call goes through `call_tool`,
which validates the arguments (`llm` does not) and never raises. The result is the tool's JSON
with Korean written as Korean; a heat map or a diagram made by the call comes with it as an
attachment the model can look at.
"""

from __future__ import annotations

import inspect
import json

import llm

__all__ = ["register_tools", "llm_tools"]


@llm.hookimpl
def register_tools(register) -> None:
    """`llm`'s hook: register one tool per project tool."""
    for tool in llm_tools():
        register(tool)


def llm_tools() -> list:
    """One `llm.Tool` per tool, with the project's own schemas and descriptions."""
    from plugin.doors.tools import tool_specs

    return [llm.Tool(name=spec["name"], description=spec["description"], input_schema=spec["inputSchema"],
                     implementation=_implementation(spec["name"], spec["inputSchema"])) for spec in tool_specs("mcp")]


def _implementation(name: str, schema: dict):
    """The function `llm` calls with a tool call's arguments. Its signature, which `llm tools list`
    prints, names the tool's parameters with their defaults (None: the tool's own default)."""
    def run(**arguments):
        from plugin.doors.tools import call_tool, result_pictures

        result = call_tool(name, arguments)
        text = json.dumps(result, ensure_ascii=False)
        pictures = [] if "error" in result else result_pictures(name, result)
        if not pictures:
            return text
        return llm.ToolOutput(output=text, attachments=[llm.Attachment(path=str(path)) for path in pictures])

    required = set(schema.get("required", []))
    run.__name__ = run.__qualname__ = name
    run.__signature__ = inspect.Signature([  # type: ignore[attr-defined]  # read by inspect.signature
        inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY,
                          default=inspect.Parameter.empty if key in required else prop.get("default"))
        for key, prop in sorted(schema["properties"].items(), key=lambda item: item[0] not in required)])
    return run
