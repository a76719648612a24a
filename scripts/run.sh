#!/usr/bin/env bash
# Run Switchyard: its own virtualenv, migrations, web and worker, on embedded SQLite + Redis unless configured.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/switchyard serve "$@"
