"""TensorFlow's start-up lines kept off the terminal.

As it loads, TensorFlow's C++ side writes to the process's standard error before its logging is
set up ("All log messages before absl::InitializeLog() …", "oneDNN custom operations are on",
"Could not find cuda drivers"), whatever TF_CPP_MIN_LOG_LEVEL says. The commands install a hook
that loads `tensorflow` with file descriptor 2 pointed at a temporary file: what it wrote is
dropped when it loads, and written out when it fails, so a broken install still explains itself.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
import tempfile

__all__ = ["quiet_tensorflow_start"]


def quiet_tensorflow_start() -> None:
    """Load TensorFlow quietly when something first imports it (once per process)."""
    if "tensorflow" not in sys.modules and not any(isinstance(finder, _QuietFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder())


class _QuietFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # from here on, the ordinary finders
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader) -> None:
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no descriptor 2 to borrow: load as is
            self.loader.exec_module(module)
            return
        with tempfile.TemporaryFile() as held:
            os.dup2(held.fileno(), 2)
            try:
                self.loader.exec_module(module)
            except BaseException:
                os.dup2(saved, 2)
                held.seek(0)
                sys.stderr.write(held.read().decode("utf-8", "replace"))  # a broken install explains itself
                raise
            finally:
                os.dup2(saved, 2)
                os.close(saved)
