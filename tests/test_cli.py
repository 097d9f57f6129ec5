"""The command line: `python launch.py ...` run once as a user runs it, in a new process; every
other command through `main(argv)` in this process, with the commands launch.py adds, its output
captured as the terminal would get it."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO, save_png, stripes


def launch_py(*args, cwd=REPO):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, str(REPO / "launch.py"), *args], cwd=cwd, capture_output=True,
                          text=True, env=env, timeout=300)


def test_launch_py_is_the_entry_point_and_names_every_command(tmp_path):
    """The one test that starts `python launch.py` in a new process, as a user does: its commands,
    and a command that loads TensorFlow prints none of TensorFlow's start-up lines."""
    out = launch_py("--help", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    for command in ("app", "models", "classify", "describe", "compare", "report", "gallery", "mcp", "tools"):
        assert command in out.stdout
    described = launch_py("describe", "AlexNet", "--lang", "en", cwd=tmp_path)
    assert described.returncode == 0 and "62,378,344" in described.stdout and "MiB (float32)" in described.stdout
    for noise in ("absl", "oneDNN", "cuda", "I0000"):
        assert noise not in described.stderr + described.stdout, noise


def test_models_table_and_json(launch):
    table = launch("--lang", "en", "models")
    assert table.returncode == 0
    assert "VGG16" in table.stdout and "AlexNet" in table.stdout and "15.3G" in table.stdout and "mult-adds" in table.stdout
    korean = launch("models")  # Korean unless asked otherwise
    assert "곱셈-덧셈" in korean.stdout and "mult-adds" not in korean.stdout
    listing = json.loads(launch("models", "--json").stdout)
    assert [m["name"] for m in listing["models"]][:2] == ["VGG16", "VGG19"]


def test_help_names_every_command(launch, capsys):
    with pytest.raises(SystemExit) as exited:
        launch("--help")
    assert exited.value.code == 0
    out = capsys.readouterr()
    for command in ("app", "models", "classify", "describe", "compare", "report", "gallery", "mcp", "tools"):
        assert command in out.out


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_commands_help_prints_in_both_languages(launch, capsys, lang):
    """`launch.py COMMAND --help --lang xx` exits 0 with the command's help in that language, and
    nothing on stderr: a description with a percent sign ("97% of") once broke argparse's English
    help with a traceback (`%o format: an integer is required`)."""
    from plugin import words
    from plugin.doors.cli import build_parser
    from scripts import bench, gallery

    said, other = words.section("cli", lang)["help"], words.section("cli", "en" if lang == "ko" else "ko")["help"]
    parser = build_parser([gallery.COMMAND, bench.COMMAND], lang=lang)
    commands = next(action for action in parser._actions if action.choices and "report" in action.choices)
    assert {"classify", "report", "evaluate", "gallery", "bench"} <= set(commands.choices)
    for command in commands.choices:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exited:  # the order: --lang after --help
            launch(command, "--help", "--lang", lang)
        printed = capsys.readouterr()
        assert exited.value.code == 0, command
        assert printed.err == "", command
        out = " ".join(printed.out.split())  # argparse wraps lines at the terminal's width
        assert out.startswith(said["usage"].strip() + f" launch.py {command}"), command
        assert said["help"] in out and f"{said['options']}:" in out, command
        assert other["help"] not in out, command
        if command == "report":  # its description names every kind of report, with what follows it
            assert all(f"report {kind}" in out for kind in ("architecture", "classification", "evaluation", "structure"))
        else:
            assert " ".join(said["command"][command].split()) in out, command
        if lang == "en" and command in ("classify", "report", "evaluate"):  # the description that broke it, as written
            assert "top-1 on 97% of" in out and "%%" not in out, command


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_percent_sign_in_any_help_is_text(capsys, lang):
    """Every help handed to argparse is plain text: an added command's option, its own help and the
    command's words print a "%" as written, never as argparse's %-template."""
    from plugin.doors.cli import Command, main

    def add_arguments(parser, lang):
        parser.add_argument("--share", type=int, default=50, help=f"keep 50% of them (%d, %o, %(default)s stay as written, {lang})")

    extra = Command("bench", add_arguments, lambda args, console: 0)
    with pytest.raises(SystemExit) as exited:
        main(["bench", "--help", "--lang", lang], extra_commands=[extra])
    assert exited.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"keep 50% of them (%d, %o, %(default)s stay as written, {lang})" in out


@pytest.mark.parametrize(("lang", "said"), [("ko", ["'beagel'(이)라는 ImageNet 클래스는 없습니다", "비글 (beagle)"]),
                                           ("en", ["No ImageNet class is called 'beagel'", "beagle, bagel"])])
def test_a_misspelt_right_answer_is_refused_with_the_nearest_classes(launch, tmp_path, lang, said):
    """The right answer is checked before any model is built: a misspelt class is one line on
    stderr, in the command's language, naming the classes nearest by name."""
    image = save_png(stripes("vertical", size=32), tmp_path / "picture.png")
    out = launch("classify", str(image), "--models", "AlexNet", "--weights", "random", "--allow-random-weights",
                 "--expected", "beagel", "--lang", lang)
    assert out.returncode == 2 and out.stdout == ""
    error = " ".join(out.stderr.split())
    assert all(words in error for words in said), error
    assert "Traceback" not in out.stderr and "Expected" not in error  # the catalogue's words, not the engine's message


def test_classify_json_and_table(launch, tmp_path):
    image = save_png(stripes("vertical", size=64), tmp_path / "picture.png")
    out = launch("classify", str(image), "--models", "AlexNet", "--weights", "random", "--allow-random-weights",
                 "--top-k", "3", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)["images"][0]
    assert result["image"]["source"] == "file picture.png"
    assert result["results"][0]["untrained"] is True and len(result["results"][0]["predictions"]) == 3
    table = launch("classify", str(image), "--models", "AlexNet", "--weights", "random", "--allow-random-weights",
                   "--lang", "en")
    assert table.returncode == 0 and "UNTRAINED" in table.stdout and "dog or cat?" in table.stdout
    korean = launch("classify", str(image), "--models", "AlexNet", "--weights", "random", "--allow-random-weights")
    assert korean.returncode == 0 and "학습 안 됨" in korean.stdout and "개일까 고양이일까?" in korean.stdout


def test_engine_errors_are_one_line_without_traceback(launch, tmp_path):
    image = save_png(stripes("vertical"), tmp_path / "picture.png")
    out = launch("classify", str(image), "--models", "VGG17")
    assert out.returncode == 2
    assert "UnknownModelError" in out.stderr and "Traceback" not in out.stderr
    assert "VGG17" in out.stderr and "찾을 수 없습니다" in out.stderr  # said in Korean, the default
    refused = launch("--lang", "en", "classify", str(image), "--models", "AlexNet", "--weights", "random")
    assert refused.returncode == 2 and "allow_random_weights=True" in refused.stderr and "Traceback" not in refused.stderr


def test_the_command_line_reads_any_path_its_user_names(launch, tmp_path_factory):
    """A person's own shell is no door for strangers: a file outside the image roots is read, and a
    missing one is "not found" (in the chosen language), never "outside the allowed folders"."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")  # not below this test's image roots
    image = save_png(stripes("vertical", size=64), elsewhere / "mine.png")
    out = launch("classify", str(image), "--model", "AlexNet", "--weights", "random", "--allow-random-weights", "--json")
    assert out.returncode == 0, out.stderr
    missing = launch("classify", str(elsewhere / "gone" / "nothing.png"), "--model", "AlexNet")
    assert missing.returncode == 2 and "파일이 없습니다: nothing.png" in missing.stderr and "허용된 폴더" not in missing.stderr


def test_describe_prints_stages_and_writes_the_diagram(launch, tmp_path):
    out = launch("--output-dir", str(tmp_path / "out"), "describe", "AlexNet", "--rankdir", "LR", "--lang", "en")
    assert out.returncode == 0, out.stderr
    assert "conv1" in out.stdout and "fc8" in out.stdout and "Structure" in out.stdout
    diagrams = list((tmp_path / "out" / "diagrams").glob("AlexNet-*.svg"))
    assert len(diagrams) == 1 and str(diagrams[0]) in out.stdout.replace("\n", "")


def test_compare_json(launch, tmp_path):
    out = launch("compare", "AlexNet", "MobileNetV2", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["models"]
    assert [row["model"] for row in rows] == ["AlexNet", "MobileNetV2"] and all(row["inference_ms"] > 0 for row in rows)


def test_evaluate_and_fine_tune_from_the_command_line(launch, labelled_photos, tmp_path):
    out = launch("--output-dir", str(tmp_path / "out"), "--lang", "en", "evaluate", str(labelled_photos),
                 "--models", "EfficientNetLite0", "--report")
    assert out.returncode == 0, out.stderr
    assert "16 labelled photos" in out.stdout and "100.0%" in out.stdout and ".html" in out.stdout
    tuned = launch("--output-dir", str(tmp_path / "out"), "fine-tune", str(labelled_photos), "--epochs", "3", "--json")
    assert tuned.returncode == 0, tuned.stderr
    result = json.loads(tuned.stdout)
    assert result["class_names"] == ["cat", "dog"] and result["model_path"].endswith(".keras")
