"""The tools in three dialects of tool list: OpenAI's function tools (strict mode), Anthropic's tools
and MCP's `Tool` (with the title, the annotations made from each tool's `Effects` and the output
schema of a result), all made from the same argument models.
"""

from __future__ import annotations

import copy

from plugin.doors.tools.table import TOOLS
from plugin.errors import InvalidInputError

FORMATS = ("openai", "anthropic", "mcp")


def _strict(schema: dict) -> dict:
    """OpenAI strict mode: every property required (optional ones nullable), no extra properties, no defaults."""
    schema = copy.deepcopy(schema)

    def visit(node):
        if isinstance(node, dict):
            node.pop("default", None)
            if node.get("type") == "object" or "properties" in node:
                properties = node.setdefault("properties", {})
                optional = set(properties) - set(node.get("required", []))
                for name in optional:
                    properties[name] = _nullable(properties[name])
                node["required"] = list(properties)
                node["additionalProperties"] = False
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema)
    return schema


def _plain_optional(schema: dict) -> dict:
    """MCP and Anthropic: each optional property in its own plain type (`{"type": "array", ...}`, not
    pydantic's `anyOf: [array, null]`), with its default where it has one, and `"nullable": true`,
    the keyword that says a property may be left out or sent as null (which means "the default").

    One shape every common consumer reads: JSON Schema validators ignore `nullable`; smolagents and
    other converters that read only `type` need it plain, and take `nullable` to mean optional.
    """
    schema = copy.deepcopy(schema)
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        if name in required:
            continue
        options = prop.get("anyOf", [])
        kept = [option for option in options if option.get("type") != "null"]
        if len(kept) == 1 and len(options) == 2:
            prop = {**kept[0], **{key: value for key, value in prop.items() if key != "anyOf"}}
        if "default" in prop and prop["default"] is None:
            del prop["default"]
        schema["properties"][name] = {**prop, "nullable": True}
    return schema


def _nullable(prop: dict) -> dict:
    if "anyOf" in prop:
        if not any(option.get("type") == "null" for option in prop["anyOf"]):
            prop["anyOf"].append({"type": "null"})
        return prop
    if "enum" in prop and None not in prop["enum"]:
        prop["enum"] = [*prop["enum"], None]
    kind = prop.get("type")
    if isinstance(kind, str) and kind != "null":
        prop["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        prop["type"] = [*kind, "null"]
    return prop


def tool_specs(format: str = "openai") -> list[dict]:
    """The tools as a list for an LLM API.

    Args:
        format: "openai" (function tools, strict mode), "anthropic" or "mcp" (MCP's `Tool`: also the
            title, the annotations made from the tool's `Effects`, and the output schema of a result).

    Returns:
        A list of tool definitions in that API's shape.
    """
    if format not in FORMATS:
        raise InvalidInputError(f"Expected format to be one of {list(FORMATS)}. Received: format={format!r}")
    specs = []
    for tool in TOOLS.values():
        schema = tool.input_schema()
        if format == "openai":
            specs.append({"type": "function", "function": {"name": tool.name, "description": tool.description,
                                                           "parameters": _strict(schema), "strict": True}})
        elif format == "anthropic":
            specs.append({"name": tool.name, "description": tool.description, "input_schema": _plain_optional(schema)})
        else:
            spec = {"name": tool.name, "title": tool.title, "description": tool.description,
                    "inputSchema": _plain_optional(schema), "annotations": {"title": tool.title, **tool.effects.hints()}}
            output = tool.output_schema()
            specs.append(spec if output is None else {**spec, "outputSchema": output})
    return specs
