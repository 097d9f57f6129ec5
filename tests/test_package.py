"""The package's promises: a cheap import, honest exports, one error hierarchy."""

import inspect
import subprocess
import sys

import plugin
from plugin import errors
from tests.conftest import REPO


def test_import_builds_nothing_and_loads_no_tensorflow():
    code = "import sys, plugin; plugin.list_models(); print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_exports_exist_and_are_documented():
    for name in plugin.__all__:
        obj = getattr(plugin, name)
        assert inspect.getdoc(obj), f"plugin.{name} has no docstring"


def test_every_error_is_a_plugin_error_with_a_docstring():
    classes = [getattr(errors, name) for name in errors.__all__ if isinstance(getattr(errors, name), type)]
    assert set(errors.CANNOT_ANSWER) <= set(classes)
    for cls in classes:
        assert issubclass(cls, errors.PluginError)
        assert cls.__doc__ and cls.__doc__.strip()
    assert errors.UnknownModelError("x").type == "UnknownModelError"
    assert issubclass(errors.InvalidInputError, ValueError)
