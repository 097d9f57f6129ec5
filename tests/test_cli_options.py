"""The command line's options come from the tools' pydantic models: every field a tool has is an
option of its command (a new field needs no second writing), and values are checked by the same
model, so the command line refuses what a tool call refuses, with the registry's own error for a
model name."""

import argparse
import re

import pytest

from plugin import words
from plugin.doors import tools
from plugin.doors.cli import build_parser, main
from plugin.errors import InvalidInputError, UnknownModelError

COMMANDS = {  # command: (its tool's arguments, the fields it takes its own way or does not offer)
    "classify": (tools.ClassifyImageArguments, {"image"}),
    "explain": (tools.ExplainPredictionArguments, {"include_image"}),
    "preprocessing": (tools.ComparePreprocessingArguments, set()),
    "describe": (tools.DescribeArchitectureArguments, {"max_layers", "include_image"}),
    "compare": (tools.CompareModelsArguments, set()),
    "report": (tools.RenderReportArguments, {"kind", "lang", "model", "source"}),
    "evaluate": (tools.EvaluateImagesArguments, set()),
    "fine-tune": (tools.FineTuneArguments, set()),
}


def _subparser(command: str) -> argparse.ArgumentParser:
    parser = build_parser()
    choices = next(action.choices for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    return choices[command]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_tool_field_is_an_option_of_its_command(command):
    arguments, skipped = COMMANDS[command]
    destinations = {action.dest for action in _subparser(command)._actions}
    assert set(arguments.model_fields) - skipped <= destinations


def test_options_keep_the_tools_defaults_and_limits(capsys):
    args = build_parser().parse_args(["classify", "cat.jpg"])
    assert args.top_k == tools.ClassifyImageArguments.model_fields["top_k"].default
    assert args.backend == tools.ClassifyImageArguments.model_fields["backend"].default
    assert main(["classify", "cat.jpg", "--top-k", "50", "--lang", "en"]) == 2
    assert "top_k" in capsys.readouterr().err  # refused before any image is read, as a tool call would be


def test_a_model_name_in_any_case_is_the_registrys_and_an_unknown_one_its_error():
    from plugin.doors.cli_options import validated

    args = build_parser().parse_args(["compare", "vgg16", "resnet50"])
    assert validated(tools.CompareModelsArguments, args).models == ["VGG16", "ResNet50"]
    with pytest.raises(UnknownModelError):
        validated(tools.CompareModelsArguments, build_parser().parse_args(["compare", "VGG17"]))
    with pytest.raises(InvalidInputError, match="NAME=VALUE"):
        validated(tools.EvaluateImagesArguments, build_parser().parse_args(["evaluate", "photos", "--labels", "kitties"]))
    labelled = validated(tools.EvaluateImagesArguments, build_parser().parse_args(["evaluate", "photos", "--labels", "kitties=cat"]))
    assert labelled.labels == {"kitties": "cat"}


@pytest.mark.parametrize(("command", "flag", "field", "value"), [
    ("classify", "--model", "models", ["VGG16"]), ("classify", "--models", "models", ["VGG16"]),
    ("explain", "--models", "model", "VGG16"), ("evaluate", "--model", "models", ["VGG16"]),
    ("report", "--model", "models", ["VGG16"])])
def test_model_and_models_both_work_where_a_command_takes_models(command, flag, field, value):
    first = {"classify": ["cat.jpg"], "explain": ["cat.jpg"], "evaluate": ["photos"], "report": ["classification", "cat.jpg"]}
    args = build_parser().parse_args([command, *first[command], flag, "VGG16"])
    assert getattr(args, field) == value


def test_the_app_is_the_default_command_and_listens_where_asked(monkeypatch):
    from plugin.doors.cli import served_address

    args = build_parser().parse_args(["--port", "8000", "--lang", "en"])  # no command: the app's options work alone
    assert args.command is None and args.port == 8000
    for name in ("CNNLAB_HOST", "CNNLAB_PORT", "GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert served_address() == ("127.0.0.1", 7860)
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")  # what Hugging Face Spaces and Docker images set
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7999")
    assert served_address() == ("0.0.0.0", 7999)
    monkeypatch.setenv("CNNLAB_PORT", "8001")  # the project's own variable, then its options, win
    assert served_address() == ("0.0.0.0", 8001) and served_address("127.0.0.1", 8002) == ("127.0.0.1", 8002)
    monkeypatch.setenv("CNNLAB_PORT", "eighty")
    with pytest.raises(InvalidInputError, match="Expected CNNLAB_PORT to be a port number from 1 to 65535. Received: 'eighty'"):
        served_address()


def _helps(parser: argparse.ArgumentParser) -> dict[str, str]:
    return {action.dest: action.help for action in parser._actions if action.help and action.help != argparse.SUPPRESS}


def test_help_reads_in_korean_or_english_as_asked():
    korean, english = build_parser(lang="ko").format_help(), build_parser(lang="en").format_help()
    assert korean.startswith("사용법: launch.py") and "옵션:" in korean and "이 도움말을 보여 주고 끝냅니다" in korean
    assert not [word for word in ("usage:", "options:", "show this help", "positional arguments") if word in korean]
    assert english.startswith("usage: launch.py") and "show this help message and exit" in english
    for command in COMMANDS:  # every option of every command says what it does in Korean
        parser = build_parser(lang="ko")
        choices = next(action.choices for action in parser._actions if isinstance(action, argparse._SubParsersAction))
        for dest, text in _helps(choices[command]).items():
            assert re.search("[가-힣]", text), (command, dest, text)
    offered = {name for arguments, skipped in COMMANDS.values() for name in set(arguments.model_fields) - skipped}
    assert set(words.section("cli", "ko")["help"]["fields"]) <= {n for t in tools.TOOLS.values() for n in t.arguments.model_fields}
    assert offered <= set(words.section("cli", "ko")["help"]["fields"]) | {"images"}


@pytest.mark.parametrize("lang, said", [
    ("ko", "launch.py classify: 오류: 인자 --top-k: 'abc'은(는) 올바른 정수 값이 아닙니다"),
    ("en", "launch.py classify: error: argument --top-k: invalid int value: 'abc'"),
])
def test_argparse_errors_read_in_the_chosen_language(capsys, lang, said):
    with pytest.raises(SystemExit) as exited:
        main(["--lang", lang, "classify", "cat.jpg", "--top-k", "abc"])
    assert exited.value.code == 2 and said in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--lang", lang, "frobnicate"])
    wrong = capsys.readouterr().err
    assert ("고를 수 없는 값 'frobnicate'" if lang == "ko" else "invalid choice: 'frobnicate'") in wrong


def test_an_option_of_several_values_may_be_given_again():
    """`--target dog --target cat` means `--target dog cat`; values given replace the default."""
    parser = _subparser("explain")
    again = parser.parse_args(["photo.jpg", "--target", "dog", "--target", "cat", "--method", "scorecam"])
    at_once = parser.parse_args(["photo.jpg", "--target", "dog", "cat", "--method", "scorecam"])
    assert again.target == at_once.target == ["dog", "cat"]
    assert again.method == at_once.method == ["scorecam"]
    assert parser.parse_args(["photo.jpg"]).target == _subparser("explain").get_default("target")
