"""Calling a tool by name: `call_tool` validates the arguments an LLM sent (`parse_arguments`), runs
the handler in the engine's slot and maps every failure to an `{"error": {"type", "message"}}` a
model can act on (`validation_message` for bad arguments); results name files relative to the
output folder, and `result_pictures` finds the PNG pictures a result made.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from plugin.config import get_settings
from plugin.doors.gate import engine_slot
from plugin.doors.tools.arguments import Arguments
from plugin.doors.tools.table import TOOLS
from plugin.errors import PluginError

log = logging.getLogger(__name__)


def result_pictures(name: str, result: Mapping[str, Any]) -> list[Path]:
    """The PNG pictures a tool's result made (a heat map over the photo, a diagram drawn as PNG), as
    files in the output folder, for the doors that can show them (MCP image content, `llm`
    attachments). Empty for an error or a result without one."""
    if "error" in result:
        return []
    if name == "explain_prediction":
        paths = [result.get("overlay_path")]
    elif name == "compare_explanations":
        paths = [result.get("picture_path")]
    elif name == "look_inside":
        pictures = result.get("pictures") or {}
        paths = [pictures.get("filters"), *(pictures.get("feature_maps") or [])[:2], pictures.get("receptive_field")]
    elif name == "describe_architecture":
        paths = [(((result.get("diagram") or {}).get("files") or {}).get("png") or {}).get("path")]
    else:
        return []
    output_dir = get_settings().output_dir
    return [output_dir / path for path in paths if isinstance(path, str) and path and (output_dir / path).is_file()]


def _no_progress(done, total, message) -> None:
    pass


def _within_output(node: Any) -> Any:
    """A result with the output folder's paths written relative to it ("models/cats.keras"): a
    caller learns where its files are, never where the server keeps them."""
    prefix = str(get_settings().output_dir) + os.sep
    if isinstance(node, str):
        return node.replace(prefix, "") if prefix in node else node
    if isinstance(node, dict):
        return {key: _within_output(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_within_output(value) for value in node]
    return node


def _error(kind: str, message: str) -> dict:
    return {"error": {"type": kind, "message": message}}


def validation_message(name: str, exc: ValidationError, see: str = "the tool's input schema") -> str:
    """What pydantic found wrong with a call's arguments, in one sentence a caller can act on."""
    parts = []
    for problem in exc.errors(include_url=False):
        where = ".".join(str(p) for p in problem["loc"]) or "arguments"
        said = problem["type"] == "missing" or "input" not in problem or "Received:" in problem["msg"]  # a message that names it already
        received = "" if said else f" (received {_short(problem['input'])})"
        parts.append(f"{where}: {problem['msg']}{received}")
    return f"Invalid arguments for {name}: " + "; ".join(parts) + f". See {see}."


def _short(value) -> str:
    """A received value as an error may quote it: its type and size when long (never a whole data URI)."""
    try:
        text = repr(value)
    except RecursionError:  # nested too deeply to print: said by its kind, never raised
        return f"a {type(value).__name__} nested too deeply"
    return text if len(text) <= 120 else f"{type(value).__name__} of {len(value) if hasattr(value, '__len__') else '?':,} items/characters"


def parse_arguments(name: str, arguments) -> Arguments:
    """Validate raw arguments (a dict or JSON text; null means "use the default") for a tool."""
    tool = TOOLS[name]
    if arguments is None:
        arguments = {}
    if isinstance(arguments, str):
        arguments = json.loads(arguments or "{}")
    if not isinstance(arguments, dict):
        raise TypeError(f"arguments must be an object, received {type(arguments).__name__}")
    return tool.arguments.model_validate({key: value for key, value in arguments.items() if value is not None})


def call_tool(name: str, arguments=None, progress: Callable[[float, float, str], None] | None = None) -> dict:
    """Run a tool by name with arguments as an LLM sent them; never raises.

    Args:
        name: one of `TOOLS`.
        arguments: a dict, or its JSON text; null values mean "use the default".
        progress: for long tools (evaluate_images, fine_tune), called as `progress(done, total, message)`.

    Returns:
        The tool's JSON-serialisable result, or `{"error": {"type", "message"}}`.
    """
    if not isinstance(name, str) or name not in TOOLS:
        received = _short(name) if isinstance(name, str) else f"a {type(name).__name__}"
        return _error("UnknownTool", f"Expected a tool name among {list(TOOLS)}. Received: {received}")
    try:
        parsed = parse_arguments(name, arguments)
    except ValidationError as exc:
        try:
            return _error("InvalidArguments", validation_message(name, exc))
        except RecursionError:
            return _error("InvalidArguments", f"Expected the arguments of {name} as a JSON object. Received: one nested too deeply.")
    except json.JSONDecodeError as exc:
        return _error("InvalidArguments", f"Expected the arguments of {name} as a JSON object. Received: text that "
                                          f"does not parse ({exc.msg} at character {exc.pos}).")
    except TypeError as exc:
        return _error("InvalidArguments", f"Expected the arguments of {name} as a JSON object. Received: {exc}")
    except RecursionError:
        return _error("InvalidArguments", f"Expected the arguments of {name} as a JSON object. Received: one nested too deeply.")
    try:
        tool = TOOLS[name]
        with engine_slot() if tool.runs_engine else contextlib.nullcontext():
            result = tool.handler(parsed, progress or _no_progress) if tool.reports_progress else tool.handler(parsed)
        return _within_output(json.loads(json.dumps(result, default=str)))
    except PluginError as exc:
        return _error(exc.type, _within_output(str(exc)))
    except Exception as exc:  # the boundary: a model gets a message, the server keeps running
        log.exception("tool %s failed", name)
        return _error("InternalError", f"{name} failed unexpectedly ({type(exc).__name__}). Try other arguments or report it.")
