"""The tool-call interface: specs valid for each API, the dispatcher's results and errors, and the
README's function-calling loop driven by tool calls shaped exactly as the APIs send them."""

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

import plugin
from examples.function_calling import anthropic_tool_results, openai_tool_messages
from plugin.config import EXAMPLES_DIR
from plugin.doors.tools import TOOLS, call_tool, tool_specs
from plugin.engine.models.registry import MODELS
from plugin.limits import MAX_MODELS_PER_CALL
from tests.conftest import REPO

NAMES = ["list_models", "classify_image", "explain_prediction", "compare_explanations", "look_inside", "compare_preprocessing", "evaluate_images", "fine_tune",
         "describe_architecture", "compare_models", "render_report"]
CAT = str(EXAMPLES_DIR / "cat_chelsea.png")


def walk(node):
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


@pytest.mark.parametrize("fmt", ["openai", "anthropic", "mcp"])
def test_specs_are_valid_json_schema_with_valid_names(fmt):
    specs = tool_specs(fmt)
    for spec in specs:
        if fmt == "openai":
            assert spec["type"] == "function" and set(spec["function"]) == {"name", "description", "parameters", "strict"}
            name, schema = spec["function"]["name"], spec["function"]["parameters"]
        elif fmt == "anthropic":
            assert set(spec) == {"name", "description", "input_schema"}
            name, schema = spec["name"], spec["input_schema"]
        else:
            assert set(spec) == {"name", "title", "description", "inputSchema", "annotations", "outputSchema"}
            name, schema = spec["name"], spec["inputSchema"]
            Draft202012Validator.check_schema(spec["outputSchema"])
            assert spec["outputSchema"]["type"] == "object"  # MCP: structured content is an object
        assert re.fullmatch(r"^[a-zA-Z0-9_-]{1,64}$", name)
        Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object"
    names = [s["function"]["name"] if fmt == "openai" else s["name"] for s in specs]
    assert names == NAMES


def test_openai_specs_meet_strict_mode():
    for spec in tool_specs("openai"):
        assert spec["function"]["strict"] is True
        for node in walk(spec["function"]["parameters"]):
            if isinstance(node, dict) and node.get("type") == "object":
                assert node["additionalProperties"] is False
                assert sorted(node["required"]) == sorted(node["properties"])
            if isinstance(node, dict):
                assert "default" not in node
    classify = next(s for s in tool_specs("openai") if s["function"]["name"] == "classify_image")["function"]["parameters"]
    assert classify["properties"]["top_k"]["type"] == ["integer", "null"]
    assert classify["properties"]["top_k"]["maximum"] == 20
    assert {"type": "null"} in classify["properties"]["image"]["anyOf"]
    models = next(option for option in classify["properties"]["models"]["anyOf"] if option.get("type") == "array")
    assert models["items"]["enum"] == list(MODELS) and models["maxItems"] == MAX_MODELS_PER_CALL


def test_annotations_say_which_tools_only_read_and_which_write():
    hints = {spec["name"]: spec["annotations"] for spec in tool_specs("mcp")}
    assert all(hint["title"] == TOOLS[name].title and len(hint) == 5 for name, hint in hints.items())
    read_only = {name for name, hint in hints.items() if hint["readOnlyHint"]}
    assert {"list_models", "describe_architecture", "classify_image"} <= read_only
    assert not read_only & {"fine_tune", "render_report", "evaluate_images"}  # they write models, reports, run logs
    assert [name for name, hint in hints.items() if hint["destructiveHint"]] == ["fine_tune"]  # overwrite=true
    assert not hints["fine_tune"]["idempotentHint"] and not hints["render_report"]["idempotentHint"]
    assert {name for name, hint in hints.items() if hint["openWorldHint"]} == {  # the tools that take an image's URL
        name for name, tool in TOOLS.items() if "image" in tool.arguments.model_fields}


def fits(name: str, result: dict) -> dict:
    """`result`, after checking it against the tool's output schema."""
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in Draft202012Validator(TOOLS[name].output_schema()).iter_errors(result)]
    assert not errors, (name, errors)
    return result


def test_every_argument_is_described():
    for tool in TOOLS.values():
        assert len(tool.description) > 80
        for prop in tool.input_schema()["properties"].values():
            assert prop.get("description"), tool.name


def test_tools_command_prints_the_specs():
    out = subprocess.run([sys.executable, str(REPO / "launch.py"), "tools", "--format", "anthropic"],
                         capture_output=True, text=True, timeout=60, cwd=REPO)
    assert out.returncode == 0 and json.loads(out.stdout) == tool_specs("anthropic")


def test_unknown_tool_bad_arguments_and_engine_errors_are_error_objects():
    assert call_tool("delete_everything", {})["error"]["type"] == "UnknownTool"
    bad = call_tool("classify_image", {"image": CAT, "top_k": 0})
    assert bad["error"]["type"] == "InvalidArguments" and "top_k" in bad["error"]["message"]
    assert call_tool("classify_image", {"image": CAT, "images": [CAT]})["error"]["type"] == "InvalidArguments"
    assert call_tool("classify_image", {"image": CAT, "surprise": 1})["error"]["type"] == "InvalidArguments"
    assert call_tool("classify_image", "not json")["error"]["type"] == "InvalidArguments"
    assert call_tool("render_report", {"kind": "classification"})["error"]["type"] == "InvalidArguments"
    offline = call_tool("classify_image", {"image": CAT, "models": ["AlexNet"]})
    assert offline["error"]["type"] == "WeightsUnavailableError" and "architecture-only" in offline["error"]["message"]
    refused = call_tool("classify_image", {"image": "/etc/passwd", "models": ["AlexNet"], "weights": "random",
                                          "allow_random_weights": True})
    assert refused["error"]["type"] == "AccessDeniedError"


def test_classify_with_a_data_uri_batch_and_nulls_as_defaults():
    data_uri = "data:image/png;base64," + base64.b64encode(Path(CAT).read_bytes()).decode()
    result = call_tool("classify_image", {"image": data_uri, "models": ["AlexNet"], "weights": "random",
                                          "allow_random_weights": True, "top_k": None, "model_path": None})
    assert fits("classify_image", result)["image"]["source"] == "data URI" and len(result["results"][0]["predictions"]) == 5
    assert result["results"][0]["untrained"] is True
    batch = call_tool("classify_image", json.dumps({"images": [CAT, data_uri], "models": ["AlexNet"], "weights": "random",
                                                    "allow_random_weights": True, "top_k": 2}))
    assert [r["image"]["source"] for r in fits("classify_image", batch)["images"]] == ["file cat_chelsea.png", "data URI"]


def test_describe_is_sized_for_a_context_window():
    summary = call_tool("describe_architecture", {"model": "ResNet50"})
    assert summary["layers"] is None and summary["diagram"]["path"].endswith(".svg")
    assert len(json.dumps(summary)) < 20_000  # the diagram is a path, not megabytes of SVG
    capped = call_tool("describe_architecture", {"model": "ResNet50", "detail": "layers", "max_layers": 10,
                                                  "include_diagram": False})
    assert len(capped["layers"]) == 10 and "first 10 of 177 layers" in capped["layers_note"]
    for result in (summary, capped):  # the tool's own shape: keras_summary left out, the layer table cut with a note
        fits("describe_architecture", result)


def test_compare_and_render_report_tools():
    compared = call_tool("compare_models", {"models": ["AlexNet", "MobileNetV2"]})
    assert [row["model"] for row in fits("compare_models", compared)["models"]] == ["AlexNet", "MobileNetV2"]
    made = fits("render_report", call_tool("render_report", {"kind": "architecture", "model": "AlexNet", "lang": "en"}))
    output = plugin.get_settings().output_dir
    assert not Path(made["path"]).is_absolute() and (output / made["path"]).is_file()  # relative: no server folder
    assert str(output) not in json.dumps(made)
    assert made["title"] == "AlexNet: architecture"


def test_openai_style_loop_with_scripted_tool_calls():
    tool_calls = [
        {"id": "call_1", "type": "function", "function": {"name": "list_models", "arguments": "{}"}},
        {"id": "call_2", "type": "function", "function": {"name": "classify_image", "arguments": json.dumps(
            {"image": CAT, "images": None, "models": ["AlexNet"], "top_k": 3, "weights": "random", "model_path": None,
             "class_names": None, "preprocessing": None, "allow_random_weights": True})}},
        {"id": "call_3", "type": "function", "function": {"name": "describe_architecture", "arguments": '{"model": "VGG17"}'}},
    ]
    replies = openai_tool_messages(tool_calls)
    assert [(m["role"], m["tool_call_id"]) for m in replies] == [("tool", "call_1"), ("tool", "call_2"), ("tool", "call_3")]
    contents = [json.loads(m["content"]) for m in replies]
    assert contents[0]["models"][0]["name"] == "VGG16"
    assert contents[1]["results"][0]["model"] == "AlexNet"
    assert contents[2]["error"]["type"] == "InvalidArguments"


def test_anthropic_style_loop_with_scripted_tool_use_blocks():
    content = [
        {"type": "text", "text": "Let me look at VGG16."},
        {"type": "tool_use", "id": "toolu_01", "name": "describe_architecture", "input": {"model": "VGG16", "include_diagram": False}},
        {"type": "tool_use", "id": "toolu_02", "name": "compare_models", "input": {"models": ["AlexNet"], "top_k": 99}},
    ]
    results = anthropic_tool_results(content)
    assert [(r["type"], r["tool_use_id"], r["is_error"]) for r in results] == [
        ("tool_result", "toolu_01", False), ("tool_result", "toolu_02", True)]
    assert json.loads(results[0]["content"])["depth"] == 16
