"""Where agents already live, driven offline with the real project answering (EfficientNet-Lite0 on
the bundled cat): the `llm` command with its debug model `echo` and this project's plugin, the OpenAI
Agents SDK with a scripted model over `launch.py mcp`, LangChain's MCP adapters with a fake chat
model, and smolagents' MCP tool converter. No project code is written for any of them: each reads
the tools as the MCP server (or the llm plugin) offers them."""

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from plugin.config import EXAMPLES_DIR
from plugin.doors.tools import TOOLS
from tests.conftest import REPO

CAT = str(EXAMPLES_DIR / "cat_chelsea.png")
LITE = "EfficientNetLite0"
NAMES = set(TOOLS)


def server_environment(out: Path) -> dict:
    """A `launch.py mcp` or `llm` process's environment: this session's threads and Keras cache, the
    examples as the image root, its own output folder, no background export."""
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CNNLAB_AUTO_EXPORT": "0", "CNNLAB_IMAGE_ROOTS": str(EXAMPLES_DIR),
            "CNNLAB_OUTPUT_DIR": str(out)}


def echoed(text: str) -> list[dict]:
    """The JSON objects the `echo` model printed, one per turn of the chain."""
    decoder, objects, at = json.JSONDecoder(), [], 0
    while (start := text.find("{", at)) != -1:
        value, at = decoder.raw_decode(text, start)
        objects.append(value)
    return objects


# --- llm ---------------------------------------------------------------------------------------

def test_llm_lists_the_nine_tools_and_runs_one_with_the_echo_model(tmp_path, monkeypatch):
    from click.testing import CliRunner
    from llm.cli import cli  # the `llm` command itself, run in this process (its models and tools stay loaded)

    monkeypatch.setenv("LLM_USER_PATH", str(tmp_path / "llm"))  # llm's log database and keys
    listed = CliRunner().invoke(cli, ["tools", "list", "--json"], catch_exceptions=False)
    assert listed.exit_code == 0, listed.output
    ours = {tool["name"] for tool in json.loads(listed.output)["tools"] if tool.get("plugin") == "cnn_study_lab"}
    assert ours == NAMES

    # One scripted turn with two calls: a good one and one llm passes on unchecked (it validates nothing).
    calls = {"tool_calls": [{"name": "classify_image", "arguments": {"image": CAT, "models": [LITE]}},
                            {"name": "classify_image", "arguments": {"image": CAT, "models": ["VGG17"]}}]}
    run = CliRunner().invoke(cli, ["-m", "echo", "-T", "classify_image", json.dumps(calls)], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    answered, refused = echoed(run.output)[-1]["tool_results"]
    assert "이집트 고양이" in answered["output"]  # Korean as Korean in what the model reads, not \uc774...
    result = json.loads(answered["output"])
    assert result["results"][0]["model"] == LITE and result["results"][0]["verdict"]["label"] == "cat"
    error = json.loads(refused["output"])["error"]  # the tool's own error object, which the model can act on
    assert error["type"] == "InvalidArguments" and "VGG17" in error["message"]


def test_llm_gives_the_heat_map_as_an_attachment(tmp_path):
    import llm

    tools = llm.get_tools()  # as `llm -T` finds them: through the plugin's entry point
    assert NAMES <= set(tools) and tools["explain_prediction"].plugin == "cnn_study_lab"
    model = llm.get_model("echo")
    call = {"tool_calls": [{"name": "explain_prediction", "arguments": {"image": CAT, "model": LITE}}]}
    response = model.prompt(json.dumps(call), tools=[tools["explain_prediction"]])
    response.text()
    [result] = response.execute_tool_calls()
    explained = json.loads(result.output)
    assert explained["model"] == LITE and "고양이" in result.output
    [picture] = result.attachments
    assert Path(picture.path).is_file() and picture.resolve_type() == "image/png"
    assert Path(picture.path).name == Path(explained["overlay_path"]).name


# --- OpenAI Agents SDK --------------------------------------------------------------------------

def test_an_openai_agent_uses_the_tools_over_stdio(tmp_path):
    from agents import Agent, Runner, set_tracing_disabled
    from agents.items import ModelResponse
    from agents.mcp import MCPServerStdio
    from agents.models.interface import Model
    from agents.usage import Usage
    from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage, ResponseOutputText

    set_tracing_disabled(True)  # nothing is sent anywhere

    class ScriptedModel(Model):
        """Calls classify_image once, then answers with what the tool returned."""

        def __init__(self):
            self.offered: list[str] = []

        async def get_response(self, system_instructions, input, model_settings, tools, output_schema, handoffs,
                               tracing, **_):
            self.offered = [tool.name for tool in tools]
            outputs = [item["output"] for item in input if isinstance(item, dict) and item.get("type") == "function_call_output"]
            if outputs:  # the SDK hands a tool's text back as content items
                said = outputs[-1] if isinstance(outputs[-1], str) else "".join(part["text"] for part in outputs[-1])
                text = ResponseOutputText(type="output_text", text=said, annotations=[])
                return ModelResponse(output=[ResponseOutputMessage(id="answer", type="message", role="assistant",
                                                                   status="completed", content=[text])],
                                     usage=Usage(), response_id=None)
            call = ResponseFunctionToolCall(type="function_call", id="call", call_id="call-1", name="classify_image",
                                            arguments=json.dumps({"image": CAT, "models": [LITE]}), status="completed")
            return ModelResponse(output=[call], usage=Usage(), response_id=None)

        def stream_response(self, *args, **kwargs):
            raise NotImplementedError

    async def main():
        params = {"command": sys.executable, "args": [str(REPO / "launch.py"), "mcp"],
                  "env": server_environment(tmp_path / "out"), "cwd": str(tmp_path)}
        async with MCPServerStdio(params, client_session_timeout_seconds=300) as server:
            model = ScriptedModel()
            agent = Agent(name="study helper", instructions="Answer from the tools.", model=model, mcp_servers=[server])
            result = await Runner.run(agent, "Is plugin/examples/cat_chelsea.png a dog or a cat?")
            return model.offered, result.final_output

    offered, answer = asyncio.run(main())
    assert set(offered) == NAMES
    assert "이집트 고양이" in answer
    assert json.loads(answer)["results"][0]["verdict"]["label"] == "cat"


# --- LangChain and smolagents: the MCP session in this process (the SDK's in-memory transport) --

def in_memory_session(steps):
    """Run `steps(session)` with an MCP client session connected to the project's server in memory."""
    from mcp.shared.memory import create_connected_server_and_client_session

    from plugin.doors.mcp import build_server

    async def main():
        async with create_connected_server_and_client_session(build_server()) as session:
            return await steps(session)

    return asyncio.run(main())


def test_langchain_tools_from_the_mcp_server_answer_a_fake_chat_models_call():
    from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
    from langchain_core.messages import AIMessage, ToolMessage
    from langchain_mcp_adapters.tools import load_mcp_tools

    call = {"name": "classify_image", "args": {"image": CAT, "models": [LITE]}, "id": "call-1", "type": "tool_call"}
    chat = FakeMessagesListChatModel(responses=[AIMessage(content="", tool_calls=[call])])

    async def steps(session):
        tools = {tool.name: tool for tool in await load_mcp_tools(session)}
        asked = await chat.ainvoke("Is the bundled photo a cat?")
        return set(tools), [await tools[c["name"]].ainvoke(c) for c in asked.tool_calls]

    names, [message] = in_memory_session(steps)
    assert names == NAMES and isinstance(message, ToolMessage) and message.status != "error"
    text = message.content if isinstance(message.content, str) else message.content[0]["text"]
    assert json.loads(text)["results"][0]["verdict"]["label"] == "cat"


def test_smolagents_converts_every_tool_and_takes_models_as_a_list():
    from mcpadapt.smolagents_adapter import SmolAgentsAdapter
    from smolagents.tools import validate_tool_arguments

    async def steps(session):
        return (await session.list_tools()).tools

    listed = in_memory_session(steps)

    def run(name):  # what smolagents' adapter calls: the tool over MCP, here through the server's own call path
        from plugin.doors.mcp import run_tool

        return lambda arguments: run_tool(name, arguments)

    tools = {tool.name: SmolAgentsAdapter().adapt(run(tool.name), tool) for tool in listed}
    assert set(tools) == NAMES
    arguments = {"image": CAT, "models": [LITE]}
    validate_tool_arguments(tools["classify_image"], arguments)  # refused before: "models has type 'array' but should be 'string'"
    for name, tool in tools.items():  # every optional argument may be left out
        required = set(next(t for t in listed if t.name == name).inputSchema.get("required", []))
        assert {key for key, spec in tool.inputs.items() if not spec.get("nullable")} == required
    with pytest.raises(TypeError, match="models"):
        validate_tool_arguments(tools["classify_image"], {"image": CAT, "models": LITE})
    result = json.loads(tools["classify_image"](**arguments))
    assert result["results"][0]["verdict"]["label"] == "cat"
