"""The README's run command on a fresh data directory: SQLite + embedded Redis, no configuration at all."""
from __future__ import annotations

import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.e2e.processes import free_port, stop
from tests.helpers import WEBUI_INDEX, make_wheel

ROOT = Path(__file__).resolve().parents[2]
CLEARED = ("DATABASE_URL", "REDIS_URL", "REDIS_PREFIX", "WEBUI_SECRET_KEY")


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def default_server(tmp_path_factory):
    """``scripts/run.sh`` with a fresh DATA_DIR and none of the service URLs set (the web app it installs on
    its first start comes from a stand-in wheel instead of PyPI)."""
    tmp_path = tmp_path_factory.mktemp("default-run")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(DATA_DIR=str(tmp_path / "data"), PORT=str(port), HOST="127.0.0.1",
               WORKER_PROCESSES="1", WORKER_THREADS="2", WEBUI_WHEEL=str(make_wheel(tmp_path / "webui.whl")))
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(ROOT / "scripts" / "run.sh")], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def healthy():
        try:
            return requests.get(f"{base}/health", timeout=1).ok
        except requests.RequestException:
            return False

    try:
        _wait_for(lambda: healthy() or proc.poll() is not None, 60, "the server")
        assert proc.poll() is None, log.read_text()
        # The first account, made before any test runs (whichever runs first): it becomes the admin.
        first = requests.post(f"{base}/api/v1/auths/signup", timeout=10,
                              json={"name": "Admin", "email": "admin@example.com", "password": "pw-12345"})
        assert first.status_code == 200, first.text
        yield base, tmp_path / "data", log, first.json()
    finally:
        stop(proc, timeout=20)


def test_run_command_serves_accounts_on_embedded_defaults(default_server):
    base, data_dir, log, first = default_server
    assert f"http://localhost:{base.rsplit(':', 1)[1]}" in log.read_text()
    assert (data_dir / "switchyard.db").exists()
    assert (data_dir / ".webui_secret_key").exists()
    assert (data_dir / "redis" / "redis.sock").exists()
    assert requests.get(f"{base}/ready", timeout=5).json() == {"status": True}

    assert first["role"] == "admin"
    signin = requests.post(f"{base}/api/v1/auths/signin", timeout=10,
                           json={"email": "admin@example.com", "password": "pw-12345"})
    token = signin.json()["token"]
    me = requests.get(f"{base}/api/v1/auths/", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert me.json()["email"] == "admin@example.com"
    key = requests.post(f"{base}/api/v1/auths/api_key", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    api_key = key.json()["api_key"]
    assert requests.get(f"{base}/api/v1/auths/", headers={"Authorization": f"Bearer {api_key}"}, timeout=10).ok
    _wait_for(lambda: "Worker process is ready" in log.read_text(), 60, "the Dramatiq worker")
    # A job end to end on the defaults (SQLite row, embedded Redis, the worker), followed in one request.
    probe = requests.post(f"{base}/api/v1/jobs/probe", json={}, timeout=30,
                          headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"})
    assert probe.status_code == 200 and "event: result" in probe.text, probe.text
    assert probe.text.rstrip().endswith('data: {"status": "succeeded"}')


def test_first_start_installs_the_web_app(default_server):
    base, data_dir, log, _first = default_server
    _wait_for(lambda: (data_dir / "webui" / "index.html").exists(), 60, "the web app's install")
    page = requests.get(f"{base}/c/some-chat", timeout=10)
    assert page.status_code == 200 and page.content == WEBUI_INDEX
    assert "installing the Open WebUI web app in the background" in log.read_text()


def test_concurrent_signups_on_sqlite_make_one_admin(default_server):
    base, _data_dir, _log, _first = default_server

    def register(i: int) -> dict:
        response = requests.post(f"{base}/api/v1/auths/signup", timeout=30,
                                 json={"name": f"r{i}", "email": f"race{i}@example.com", "password": "pw-race"})
        return response.json()

    with ThreadPoolExecutor(max_workers=20) as pool:
        roles = [r.get("role") for r in pool.map(register, range(20))]
    # the admin exists (the fixture's first account): every racer is a default-role user
    assert roles.count("pending") == 20, roles


LOGGED_PID = re.compile(r"\[(\d+) [^\]]*\]")
"""The process id in a log line (``... [<pid> <thread>] <logger> ...``)."""


def _dramatiq_worker_processes(log: Path) -> list[int]:
    """The PIDs of the Dramatiq worker processes (the ones running jobs) of this run."""
    lines = [line for line in log.read_text(errors="replace").splitlines() if "Worker process is ready" in line]
    return [int(found.group(1)) for line in lines if (found := LOGGED_PID.search(line))]


def test_a_killed_worker_process_is_replaced_and_the_service_stays_up(default_server):
    """The OOM killer's kill -9 of one worker process: honcho keeps everything running, the pool starts a new
    process, and a job sent afterwards runs."""
    base, _data_dir, log, first = default_server
    _wait_for(lambda: _dramatiq_worker_processes(log), 60, "the Dramatiq worker")
    victim = _dramatiq_worker_processes(log)[-1]
    os.kill(victim, 9)
    _wait_for(lambda: len(_dramatiq_worker_processes(log)) >= 2 and _dramatiq_worker_processes(log)[-1] != victim,
              60, "a new worker process")
    assert requests.get(f"{base}/ready", timeout=5).json() == {"status": True}
    probe = requests.post(f"{base}/api/v1/jobs/probe", json={}, timeout=30,
                          headers={"Authorization": f"Bearer {first['token']}", "Accept": "text/event-stream"})
    assert probe.status_code == 200 and probe.text.rstrip().endswith('data: {"status": "succeeded"}'), probe.text
