#!/usr/bin/env bash
# Set up everything CNN Study Lab needs on a Debian machine with Python >= 3.10: Debian packages
# (graphviz for diagrams, libcairo2 and Noto CJK fonts for the reports' PNG pictures in Korean;
# with --test also Chromium for the browser tests), a virtualenv in .venv
# and the project installed into it. Idempotent and quiet: it only does what is missing, and one
# stamp records what is installed (the test set-up includes the app's, so ./run.sh after
# ./test.sh installs nothing).
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

packages=()
command -v dot >/dev/null 2>&1 || packages+=(graphviz)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || packages+=(python3-venv)
dpkg -s libcairo2 >/dev/null 2>&1 || packages+=(libcairo2)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || packages+=(fonts-noto-cjk)
if [ $want_test -eq 1 ]; then
  # The report tests drive Debian's Chromium with Playwright (Playwright never downloads a browser here).
  [ -x /usr/bin/chromium ] || packages+=(chromium)
fi
if [ ${#packages[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${packages[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi

# The stamp holds the hash of pyproject.toml and what was installed: "app" or "test" (app + tests).
stamp=.venv/.cnnlab-installed
project_hash=$(sha256sum pyproject.toml | cut -c1-16)
installed=$(cat "$stamp" 2>/dev/null || true)
need="app"; extras=""
[ $want_test -eq 1 ] && need="test" && extras="[test,ray,llm]"  # CI tests the Ray engine too
if [ "$installed" != "$project_hash test" ] && [ "$installed" != "$project_hash $need" ]; then
  echo "setup: installing the project${extras} into .venv (the first time takes a few minutes)"
  log=$(mktemp)
  if ! { .venv/bin/python -m pip install --quiet --upgrade pip \
         && .venv/bin/python -m pip install --quiet --quiet -e ".${extras}"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
  echo "$project_hash $need" > "$stamp"
fi
