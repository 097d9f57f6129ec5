"""Limits are defined once: each door accepts exactly what the engine accepts and refuses one more
(models, top_k, images), whatever the door. The MCP doors and the Gradio API are checked in
test_mcp.py and test_webapp.py with the same cases."""

import json

import pytest

import plugin
from plugin.config import EXAMPLES_DIR
from plugin.doors.tools import TOOLS, call_tool
from plugin.limits import DEFAULT_TOP_K, MAX_IMAGES_PER_CALL, MAX_MODELS_PER_CALL, MAX_TOP_K

CAT = str(EXAMPLES_DIR / "cat_chelsea.png")
RANDOM = {"weights": "random", "allow_random_weights": True}

# (name, arguments of classify_image, accepted?)
CASES = [
    ("models at the limit", {"image": CAT, "models": ["AlexNet"] * MAX_MODELS_PER_CALL}, True),
    ("one model too many", {"image": CAT, "models": ["AlexNet"] * (MAX_MODELS_PER_CALL + 1)}, False),
    ("top_k at the limit", {"image": CAT, "models": ["AlexNet"], "top_k": MAX_TOP_K}, True),
    ("top_k one over", {"image": CAT, "models": ["AlexNet"], "top_k": MAX_TOP_K + 1}, False),
    ("images at the limit", {"images": [CAT] * MAX_IMAGES_PER_CALL, "models": ["AlexNet"]}, True),
    ("one image too many", {"images": [CAT] * (MAX_IMAGES_PER_CALL + 1), "models": ["AlexNet"]}, False),
]


def engine_call(arguments: dict) -> dict:
    options = {key: value for key, value in arguments.items() if key not in ("image", "images")} | RANDOM
    if "images" in arguments:
        return plugin.classify_images(arguments["images"], **options)
    return plugin.classify_image(arguments["image"], **options)


@pytest.mark.parametrize(("case", "arguments", "accepted"), CASES, ids=[case[0] for case in CASES])
def test_python_and_tool_calls_accept_and_refuse_alike(case, arguments, accepted):
    tool_result = call_tool("classify_image", arguments | RANDOM)
    if accepted:
        engine_call(arguments)
        assert "error" not in tool_result, tool_result
    else:
        with pytest.raises(plugin.InvalidInputError):
            engine_call(arguments)
        assert tool_result["error"]["type"] == "InvalidArguments"


def test_tool_schemas_carry_the_engine_limits():
    properties = TOOLS["classify_image"].input_schema()["properties"]
    top_k = properties["top_k"]
    assert (top_k["minimum"], top_k["maximum"], top_k["default"]) == (1, MAX_TOP_K, DEFAULT_TOP_K)
    images = next(option for option in properties["images"]["anyOf"] if option.get("type") == "array")
    assert images["maxItems"] == MAX_IMAGES_PER_CALL
    for name in ("classify_image", "compare_models", "render_report"):
        models = next(option for option in TOOLS[name].input_schema()["properties"]["models"]["anyOf"]
                      if option.get("type") == "array")
        assert models["maxItems"] == MAX_MODELS_PER_CALL, name


def test_the_command_line_accepts_and_refuses_alike(launch):
    random = ["--weights", "random", "--allow-random-weights", "--json"]
    at_limits = launch("classify", *[CAT] * MAX_IMAGES_PER_CALL, "--models", *["AlexNet"] * MAX_MODELS_PER_CALL,
                    "--top-k", str(MAX_TOP_K), *random)
    assert at_limits.returncode == 0, at_limits.stderr
    assert len(json.loads(at_limits.stdout)["images"]) == MAX_IMAGES_PER_CALL
    for extra in (["--models", *["AlexNet"] * (MAX_MODELS_PER_CALL + 1)], ["--models", "AlexNet", "--top-k", str(MAX_TOP_K + 1)]):
        refused = launch("classify", CAT, *extra, *random)
        assert refused.returncode == 2 and "InvalidInputError" in refused.stderr and "Traceback" not in refused.stderr
    too_many = launch("classify", *[CAT] * (MAX_IMAGES_PER_CALL + 1), "--models", "AlexNet", *random)
    assert too_many.returncode == 2 and f"{MAX_IMAGES_PER_CALL}" in too_many.stderr
