"""argparse in the reader's language: the help's frame ("usage:", the section titles, -h) and the
errors argparse writes itself come from the catalogue (`cli.help`), so `launch.py --help` and a
mistyped option read in Korean on a Korean command line, and in English with `--lang en`.

argparse words its frame and its errors in English (through gettext, with no Korean catalogue);
this parser sets its section titles, usage prefix and -h help from the catalogue, and words the
errors people meet (a missing or unknown argument, a wrong choice or value) again from argparse's
own message. Any other error keeps argparse's words after the translated "error:".
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence

from plugin import words

__all__ = ["parser_class", "requested_lang"]


def requested_lang(argv: Sequence[str] | None) -> str:
    """The language the command line asks for (`--lang xx` anywhere in it), else the default."""
    argv = list(sys.argv[1:] if argv is None else argv)
    for i, arg in enumerate(argv):
        value = argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else arg.removeprefix("--lang=") if arg.startswith("--lang=") else None
        if value in words.LANGUAGES:
            return value
    return words.default_lang()


# argparse's messages (Python 3.10 to 3.13), each with the catalogue key that says it again.
_MESSAGES = (
    (re.compile(r"the following arguments are required: (?P<names>.+)"), "required"),
    (re.compile(r"unrecognized arguments: (?P<names>.+)"), "unrecognized"),
    (re.compile(r"argument (?P<name>\S+?): invalid choice: (?P<value>.+?) \(choose from (?P<choices>.+)\)"), "invalid_choice"),
    (re.compile(r"argument (?P<name>\S+?): invalid (?P<kind>\w+) value: (?P<value>.+)"), "invalid_value"),
    (re.compile(r"argument (?P<name>\S+?): expected one argument"), "expected_one"),
    (re.compile(r"argument (?P<name>\S+?): expected at least one argument"), "expected_some"),
)


def _worded(message: str, lang: str) -> str:
    for pattern, key in _MESSAGES:
        found = pattern.fullmatch(message)
        if found:
            named = found.groupdict()
            if "kind" in named:
                named["kind"] = words.section("cli", lang)["help"]["kinds"].get(named["kind"], named["kind"])
            return words.text(f"cli.help.argparse.{key}", lang, **named)
    return message


def parser_class(lang: str) -> type[argparse.ArgumentParser]:
    """An `ArgumentParser` class that speaks `lang` (its sub-commands' parsers are of the same class)."""
    said = words.section("cli", lang)["help"]

    class Formatter(argparse.HelpFormatter):
        def add_usage(self, usage, actions, groups, prefix=None):
            super().add_usage(usage, actions, groups, said["usage"] if prefix is None else prefix)

        def _get_help_string(self, action):
            # argparse reads every help as a %-template ("%(default)s"); ours are plain text, so a
            # description's "97% of" is escaped here, once, for every option and command, whoever
            # added it (argparse's `_expand_help` formats what this returns; checked with Python 3.11).
            text = super()._get_help_string(action)
            return text.replace("%", "%%") if isinstance(text, str) else text

    class Parser(argparse.ArgumentParser):
        def __init__(self, *args, **kwargs) -> None:
            kwargs.setdefault("formatter_class", Formatter)
            add_help, kwargs["add_help"] = kwargs.get("add_help", True), False  # -h is added below, in this language
            super().__init__(*args, **kwargs)
            # The two groups every parser has; argparse offers no other way to title them.
            self._positionals.title = said["positionals"]
            self._optionals.title = said["options"]
            if add_help:
                self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=said["help"])

        def error(self, message: str):  # argparse's hook; exits as argparse does
            self.print_usage(sys.stderr)
            self.exit(2, said["error"].format(prog=self.prog, message=_worded(message, lang)))

    return Parser
