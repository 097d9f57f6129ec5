"""A function-calling loop: an LLM answers a study question by calling CNN Study Lab's tools.

    OPENAI_API_KEY=... python examples/function_calling.py "Is plugin/examples/cat_chelsea.png a dog or a cat?"

Needs `pip install openai` and a key (set OPENAI_MODEL to choose the model). The loop itself is
two small functions, shaped for the OpenAI Chat Completions and the Anthropic Messages APIs; the
tests drive them with tool calls shaped exactly as those APIs send them.
"""

from __future__ import annotations

import json
import os
import sys

from plugin.doors.tools import call_tool, tool_specs


def openai_tool_messages(tool_calls) -> list[dict]:
    """Run an assistant message's `tool_calls` and return the `role: tool` messages that answer them."""
    messages = []
    for call in tool_calls:
        call = call if isinstance(call, dict) else call.model_dump()
        result = call_tool(call["function"]["name"], call["function"]["arguments"])
        messages.append({"role": "tool", "tool_call_id": call["id"], "content": json.dumps(result, ensure_ascii=False)})
    return messages


def anthropic_tool_results(content) -> list[dict]:
    """Run a response's `tool_use` blocks and return the `tool_result` blocks of the next user turn."""
    results = []
    for block in content:
        block = block if isinstance(block, dict) else block.model_dump()
        if block.get("type") != "tool_use":
            continue
        result = call_tool(block["name"], block["input"])
        results.append({"type": "tool_result", "tool_use_id": block["id"], "is_error": "error" in result,
                        "content": json.dumps(result, ensure_ascii=False)})
    return results


def ask(question: str, *, model: str | None = None, max_turns: int = 6) -> str:
    """Ask an OpenAI model a question it may answer with the tools; return its final answer."""
    from openai import OpenAI  # pip install openai

    client = OpenAI()
    messages = [{"role": "user", "content": question}]
    for _ in range(max_turns):
        reply = client.chat.completions.create(model=model or os.environ.get("OPENAI_MODEL", "gpt-4.1-mini"),
                                               messages=messages, tools=tool_specs("openai"))
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content or ""
        messages.append(message.model_dump(exclude_none=True))
        messages.extend(openai_tool_messages(message.tool_calls))
    return "(no answer within the turn limit)"


if __name__ == "__main__":
    print(ask(" ".join(sys.argv[1:]) or "Compare VGG16 and ResNet50 for a study group."))
