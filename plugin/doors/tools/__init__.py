"""The tool-call interface: one pydantic model per tool is the single source of its schema, its
limits and its description; `tool_specs` turns them into OpenAI, Anthropic or MCP tool lists and
`call_tool` validates arguments, runs the engine and maps every failure to an error a model can
act on. Results are sized for a model's context: summaries by default, long tables capped with a
note, diagrams and reports as file paths.

Each tool also declares its title, what a call does besides answering (`Effects`, which MCP lists
as the tool's annotations) and the public API functions whose result it passes on, whose declared
result types are its output schema.

One job per module:

    arguments.py  the argument models, their field types and shared descriptions
    handlers.py   each tool's handler, a call to the public API
    table.py      `Tool`, `Effects` and `TOOLS`, the table of tools with their descriptions
    schemas.py    `tool_specs`: the table as OpenAI, Anthropic or MCP tool lists
    dispatch.py   `call_tool`, `parse_arguments`, `validation_message`, `result_pictures`
"""

from plugin.doors.tools.arguments import (  # noqa: F401 (each tool's arguments, from which the CLI makes its options)
    Arguments,
    ClassifyImageArguments,
    CompareExplanationsArguments,
    CompareModelsArguments,
    ComparePreprocessingArguments,
    DescribeArchitectureArguments,
    EvaluateImagesArguments,
    ExplainPredictionArguments,
    FineTuneArguments,
    ListModelsArguments,
    LookInsideArguments,
    RenderReportArguments,
)
from plugin.doors.tools.dispatch import call_tool, parse_arguments, result_pictures, validation_message
from plugin.doors.tools.schemas import FORMATS, tool_specs
from plugin.doors.tools.table import TOOLS, Effects, Tool

__all__ = ["TOOLS", "Tool", "Effects", "tool_specs", "call_tool", "parse_arguments", "validation_message", "result_pictures", "FORMATS"]
