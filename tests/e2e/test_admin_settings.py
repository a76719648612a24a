"""Admin settings that a job checks against a server (web -> Redis -> worker -> fake server -> back)."""
from __future__ import annotations

import pytest
import requests

from tests.e2e.processes import web_server
from tests.fakes.server import FakeUpstream, Received, Reply
from tests.helpers import bearer
from tests.jobs.worker import running_worker


class FakeTerminal(FakeUpstream):
    """A plain ``open-terminal`` server: ``/api/config`` only, behind a bearer key."""

    def __init__(self, key: str) -> None:
        super().__init__()

        @self.route("GET", "/api/config")
        def config(request: Received, reply: Reply) -> None:
            if request.headers.get("Authorization") != f"Bearer {key}":
                reply.json({"detail": "Not authenticated"}, 401)
                return
            reply.json({"version": "0.1"})


@pytest.fixture(scope="module")
def live(database):
    with running_worker(threads=2, modules=()), web_server() as url:
        yield url


def test_a_terminal_server_is_checked_by_a_job(live, admin):
    auth = bearer(admin["token"])
    terminal = FakeTerminal(key="term-key").start()
    try:
        found = requests.post(f"{live}/api/v1/configs/terminal_servers/verify", headers=auth, timeout=60,
                              json={"url": terminal.url, "key": "term-key", "auth_type": "bearer"})
        assert found.status_code == 200 and found.json() == {"status": True, "type": "terminal"}
        refused = requests.post(f"{live}/api/v1/configs/terminal_servers/verify", headers=auth, timeout=60,
                                json={"url": terminal.url, "key": "wrong", "auth_type": "bearer"})
        assert refused.status_code == 400
        assert refused.json()["detail"] == "Failed to connect to the terminal server"
    finally:
        terminal.stop()
