"""The one exception hierarchy of CNN Study Lab.

Every error the engine raises on purpose is a `PluginError`, so each door (Python, tool call,
MCP, web app, command line) can catch one type and show its message as is. Messages say what was
expected and what was received, in English for agents and logs. An error a person is likely to
meet also carries a message key and its values (`key`, `params`), from which a door shows the same
message in the person's language (see `plugin.words.error_text`). Third-party errors are
translated at the boundary where they happen and raised `from` the original, so the cause is kept.

    PluginError
    ├── InvalidInputError          (also a ValueError)
    │   ├── ImageError
    │   ├── AccessDeniedError
    │   └── UnknownModelError
    │   └── PthFormatError         a .pth file that is not a plain state dict
    ├── WeightsUnavailableError
    ├── UnsafeModelFileError
    │   └── UnsafePthError         a .pth file that asks for more than tensors
    ├── ExportError
    ├── RenderError
    ├── LimitExceededError         a call ran past its time (an evaluation resumes where it stopped)
    └── CallCancelledError         the caller went away: the work stopped at its next step
"""

from __future__ import annotations

__all__ = [
    "PluginError",
    "InvalidInputError",
    "ImageError",
    "AccessDeniedError",
    "UnknownModelError",
    "PthFormatError",
    "WeightsUnavailableError",
    "UnsafeModelFileError",
    "UnsafePthError",
    "ExportError",
    "RenderError",
    "LimitExceededError",
    "CallCancelledError",
    "CANNOT_ANSWER",
]


class PluginError(Exception):
    """Base class of every error CNN Study Lab raises on purpose."""

    def __init__(self, message: str = "", *, key: str | None = None, **params) -> None:
        super().__init__(message)
        self.key = key
        self.params = params

    @property
    def type(self) -> str:
        """The error's class name, as tool-call results report it."""
        return type(self).__name__

    def prefixed(self, prefix: str) -> PluginError:
        """The same error with `prefix` before its message (e.g. "images[2]: "), key and values kept."""
        return type(self)(f"{prefix}{self}", key=self.key, **self.params)


class InvalidInputError(PluginError, ValueError):
    """An argument has the wrong type, value or form."""


class ImageError(InvalidInputError):
    """An image could not be read: not an image, truncated, too large, or unsupported."""


class AccessDeniedError(InvalidInputError):
    """A path lies outside the allowed roots, or a URL points at a non-public address."""


class UnknownModelError(InvalidInputError):
    """A model name is not in the registry."""


class WeightsUnavailableError(PluginError):
    """The requested weights cannot be had: not cached and not downloadable, or none exist."""


class UnsafeModelFileError(PluginError):
    """A model file holds code (a Lambda layer) or custom objects that safe mode refuses."""


class ExportError(PluginError):
    """A model could not be exported to another runtime's format (ONNX)."""


class RenderError(PluginError):
    """A diagram or report could not be rendered."""


class LimitExceededError(PluginError):
    """A call ran past what one call may take (`Settings.max_call_seconds`); what it finished is
    kept, and the same call continues from there."""


class CallCancelledError(PluginError):
    """The caller went away (an MCP client hung up); the work stopped at its next step and its
    engine slot was given back."""


class PthFormatError(InvalidInputError):
    """A file is not a well-formed PyTorch .pth state dict (or is too large)."""


class UnsafePthError(UnsafeModelFileError):
    """A .pth file asks for something a plain tensor state dict never needs; refused before anything ran."""


CANNOT_ANSWER: tuple[type[PluginError], ...] = (WeightsUnavailableError, ExportError)
"""Errors that concern one model only (its weights are not here, its export failed): in a request
with several models the others still answer, and this one gets an error entry in the results."""
