"""The command line's options, made from the tools' pydantic models: an option a tool gains is
written once, in its model, and the command line offers it with the same name, default, choices,
description and limits. Values given on the command line are validated by the same model.

    add_options(parser, ClassifyImageArguments, positional={"images": {"nargs": "+"}}, skip={"image"})
    arguments = validated(ClassifyImageArguments, args)    # an InvalidInputError if a value is off
"""

from __future__ import annotations

import argparse
import types
import typing
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticUndefined

from plugin import api, words
from plugin.doors.tools import validation_message
from plugin.errors import InvalidInputError, PluginError

__all__ = ["add_options", "validated"]

_SCALARS = (int, float, str)


def add_options(parser: argparse.ArgumentParser, arguments: type[BaseModel], lang: str, *, skip: Collection[str] = (),
                positional: Mapping[str, Mapping[str, Any]] = {}, flags: Mapping[str, Sequence[str]] = {},
                defaults: Mapping[str, Any] = {}, helps: Mapping[str, str] = {}, many: Collection[str] = ()) -> None:
    """Add one option (or positional argument) per field of a tool's arguments model.

    Args:
        parser: the command's parser.
        arguments: the tool's pydantic model.
        lang: the help's language: English says the field's own description (what the calling model
            reads too); Korean the catalogue's words for it (`cli.help.fields`).
        skip: fields the command does not offer (or offers its own way).
        positional: fields taken as positional arguments, with their argparse keywords (nargs, metavar).
        flags: other spellings for a field's option (default `--field-name`; `--no-field-name` for a
            switch that is on by default).
        defaults: the command's own defaults where they differ from the tool's.
        helps: the command's own help where the tool's description does not fit.
        many: fields that take one value in the tool and several on the command line (`--method
            gradcam scorecam`): the command says what several mean, and checks each value with the model.
    """
    said = words.section("cli", lang)["help"]
    described = said.get("fields", {})  # Korean only: English is the models' own descriptions
    spellings = {"models": "model", "model": "models"}  # either spelling works on a command that has one of them
    for name, field in arguments.model_fields.items():
        if name in skip:
            continue
        if name in spellings and name not in flags and (spellings[name] not in arguments.model_fields or spellings[name] in skip):
            flags = {**flags, name: [f"--{name}", f"--{spellings[name]}"]}
        shape, inner, choices = _shape(field.annotation)
        default = defaults.get(name, None if field.default is PydanticUndefined else field.default)
        text = helps.get(name, described.get(name, field.description or ""))
        if choices:
            text += " (" + said["one_of"].format(choices=", ".join(map(str, choices))) + ")"
        if name in positional:
            parser.add_argument(name, default=default, help=text, **positional[name])
            continue
        if shape == "switch":
            on = default is True
            names = flags.get(name) or [f"--no-{_dashed(name)}" if on else f"--{_dashed(name)}"]
            text = said["switch_off"].format(text=text) if on and name not in helps else text
            parser.add_argument(*names, dest=name, action="store_false" if on else "store_true", default=default, help=text)
            continue
        names = flags.get(name) or [f"--{_dashed(name)}"]
        options: dict[str, Any] = {"dest": name, "default": default, "help": text, "metavar": name.upper()}
        if shape in ("list", "mapping") or name in many:
            options["nargs"] = "+"
            options["action"] = _Extend
            options["metavar"] = "KEY=VALUE" if shape == "mapping" else name.upper().removesuffix("S")
        if inner in (int, float):
            options["type"] = inner
        parser.add_argument(*names, **options)


class _Extend(argparse.Action):
    """Several values after an option, or the option given again: `--target dog --target cat` is
    `--target dog cat` (argparse's own "store" keeps the last only, its "extend" adds to the default)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        before = getattr(namespace, self.dest, None)
        setattr(namespace, self.dest, ([] if before is self.default or before is None else list(before)) + list(values))


def validated(arguments: type[BaseModel], args: argparse.Namespace, *, skip: Collection[str] = (), **values: Any) -> Any:
    """The command's values (from `args`, then `values`; not the fields in `skip`) checked by the tool's model.

    Returns:
        The model instance; an `InvalidInputError` says what is off, as a tool call would (the
        engine's own error, with its words in each language, where a field's check raised one).
    """
    given = {name: getattr(args, name) for name in arguments.model_fields
             if name not in skip and getattr(args, name, None) is not None}
    given |= {name: value for name, value in values.items() if value is not None}
    for name, value in given.items():
        shape, _, choices = _shape(arguments.model_fields[name].annotation)
        if shape == "mapping" and isinstance(value, list):
            given[name] = _pairs(name, value)
        elif choices == api.MODEL_NAMES:  # the registry's own error for an unknown name; any case; "A,B" or "A B"
            given[name] = ([api.model_name(part) for v in value for part in str(v).split(",") if part.strip()]
                           if isinstance(value, list) else api.model_name(value))
    try:
        return arguments.model_validate(given)
    except ValidationError as exc:
        raised = [problem["ctx"]["error"] for problem in exc.errors() if isinstance((problem.get("ctx") or {}).get("error"), PluginError)]
        if raised:
            raise raised[0] from exc
        command = getattr(args, "command", None) or arguments.__name__
        raise InvalidInputError(validation_message(command, exc, see=f"launch.py {command} --help")) from exc


def _pairs(name: str, items: list[str]) -> dict[str, str]:
    pairs = [item.split("=", 1) for item in items]
    bad = [item for item, pair in zip(items, pairs) if len(pair) != 2 or not all(pair)]
    if bad:
        raise InvalidInputError(f"Expected --{_dashed(name)} as NAME=VALUE pairs. Received: {bad[:3]}")
    return {pair[0]: pair[1] for pair in pairs}


def _dashed(name: str) -> str:
    return name.replace("_", "-")


def _shape(annotation: Any) -> tuple[str, Any, tuple]:
    """("switch" | "list" | "mapping" | "value", the scalar type, the allowed values) of a field's type."""
    annotation = _plain(annotation)
    origin = typing.get_origin(annotation)
    if annotation is bool:
        return "switch", bool, ()
    if origin in (list, tuple):
        inner = _plain(typing.get_args(annotation)[0])
        return "list", _scalar(inner), _choices(inner)
    if origin is dict:
        return "mapping", str, ()
    return "value", _scalar(annotation), _choices(annotation)


def _plain(annotation: Any) -> Any:
    """The type without Optional (`X | None`) and Annotated constraints."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            remaining = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            annotation = remaining[0] if len(remaining) == 1 else str
        else:
            return annotation


def _choices(annotation: Any) -> tuple:
    return typing.get_args(annotation) if typing.get_origin(annotation) is typing.Literal else ()


def _scalar(annotation: Any) -> Any:
    if typing.get_origin(annotation) is typing.Literal:
        values = typing.get_args(annotation)
        return type(values[0]) if values else str
    return annotation if annotation in _SCALARS else str
