#!/usr/bin/env bash
# Install everything the test suite needs (a venv with the project and its test and dev extras,
# and Debian's chromium for the browser test), check format, lint and types, then run the whole suite.
# Usage: bash scripts/test.sh [pytest args…]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
  else
    echo "scripts/test.sh: chromium is not installed and cannot be installed without root; the browser test will be skipped (outside CI)" >&2
  fi
fi

PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test,dev]'

# The rails before the tests: formatting, lint and types are enforced here, so CI enforces them.
.venv/bin/ruff format --check --quiet . || { echo "scripts/test.sh: ruff format --check failed (run: .venv/bin/ruff format .)" >&2; exit 1; }
.venv/bin/ruff check --quiet . || { echo "scripts/test.sh: ruff check failed" >&2; exit 1; }
.venv/bin/mypy || { echo "scripts/test.sh: mypy failed" >&2; exit 1; }

# pytest exits 5 when it collects no tests: that is a failure here, never a silent pass.
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then
  echo "scripts/test.sh: pytest collected no tests" >&2
  exit 5
fi
exit "$rc"
