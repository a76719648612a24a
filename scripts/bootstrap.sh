#!/usr/bin/env bash
# Create .venv and install Switchyard when pyproject.toml (or the wanted extras) changed since the last install.
# Usage: scripts/bootstrap.sh [EXTRAS]   e.g. "test" for the test suite; nothing for just running Switchyard.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
extras=${1:-}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.switchyard-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1) ${extras}"
# An install with the test extras also covers a plain run.
if [ -f "$stamp" ] && { [ "$(cat "$stamp")" = "$want" ] || { [ -z "$extras" ] && [ "$(cut -d' ' -f1 "$stamp")" = "${want% }" ]; }; }; then
  exit 0
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}"
echo "$want" > "$stamp"
