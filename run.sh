#!/usr/bin/env bash
# Set up (first time only) and run CNN Study Lab: ./run.sh [COMMAND ...]; see ./run.sh --help.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
exec .venv/bin/python launch.py "$@"
