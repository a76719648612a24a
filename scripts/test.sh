#!/usr/bin/env bash
# Run the whole test suite on real PostgreSQL and Redis (started here if they are down), then the API and service
# tests again on the SQLite default. Arguments: run only those pytest arguments (on PostgreSQL).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test || exit 1

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi

# The web app's browser test drives Debian's Chromium (never a downloaded browser build) ...
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -q && apt-get install -y -q --no-install-recommends chromium chromium-driver
  else
    echo "chromium/chromedriver missing and not root: the browser test will be skipped" >&2
  fi
fi
# LDAP sign-in is tested against Debian's OpenLDAP server, started on loopback by the tests themselves.
if ! command -v slapd >/dev/null && [ ! -x /usr/sbin/slapd ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slapd
  else
    echo "slapd missing and not root: the LDAP tests will be skipped" >&2
  fi
fi
# ... and the real Open WebUI 0.12.4 web app, fetched once from PyPI before the tests (they stay on loopback).
wheel_dir=.venv/cache/webui
if ! ls "$wheel_dir"/open_webui-*.whl >/dev/null 2>&1; then
  .venv/bin/python -m pip download --quiet --no-deps --only-binary :all: open-webui==0.12.4 -d "$wheel_dir"
fi
WEBUI_WHEEL=$(ls "$wheel_dir"/open_webui-*.whl | head -n 1)
export WEBUI_WHEEL

# pytest: "no tests collected" (exit 5) fails the command.
run_pytest() {
  .venv/bin/python -m pytest "$@"
  local rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests: failing" >&2
    return 1
  fi
  return "$rc"
}

# Tests run in random order (pytest-randomly prints the seed; --randomly-seed=N
# replays one, -p no:randomly turns it off). The whole suite runs in TEST_PROCESSES pytest processes
# (pytest-xdist; each has its own database, Redis prefix and data directory): most tests wait on real
# processes and sockets rather than on the CPU.
if [ "$#" -gt 0 ]; then
  run_pytest "$@"
  exit $?
fi
processes="${TEST_PROCESSES:-3}"
run_pytest -n "$processes"
rc=$?
# The API and service tests again on what Switchyard runs with no configuration: SQLite + embedded Redis.
echo "--- again on the default backend (SQLite + embedded Redis): tests/web tests/shared"
TEST_BACKEND=sqlite run_pytest tests/web tests/shared -q -n "$processes"
sqlite_rc=$?
[ "$rc" -ne 0 ] && exit "$rc"
exit "$sqlite_rc"
