#!/usr/bin/env python3
"""CNN Study Lab's one entry point: `python launch.py --help`."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from plugin.doors.quiet_start import quiet_tensorflow_start  # noqa: E402

quiet_tensorflow_start()  # TensorFlow's start-up lines (absl, oneDNN, CUDA) kept off the terminal

from plugin.doors.cli import main  # noqa: E402  (the environment must be set before TensorFlow loads)
from scripts import bench, gallery  # noqa: E402


def run(argv: list[str] | None = None) -> int:
    """Run a command (`argv`, default the process's arguments); return its exit status."""
    return main(argv, extra_commands=[gallery.COMMAND, bench.COMMAND])


if __name__ == "__main__":
    sys.exit(run())
