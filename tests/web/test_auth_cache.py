"""Checked sessions kept per web process (``shared.services.auth_cache``): served without the
database, and dropped at once when the user changes in any process."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from shared.db import get_engine
from shared.services.auth_cache import AuthCache
from tests.helpers import bearer, statements_on
from web import caller

ROOT = Path(__file__).resolve().parents[2]


def wait_until_listening() -> None:
    deadline = time.monotonic() + 5
    while not caller.checked_sessions.enabled:
        assert time.monotonic() < deadline, "the auth cache never saw its subscription confirmed"
        time.sleep(0.01)


def reads_users(statements: list[str]) -> list[str]:
    return [s for s in statements if 'FROM "user"' in s or "FROM user" in s]


def session_user(client, token: str):
    return client.get("/api/v1/auths/", headers=bearer(token))


def kept(client, token: str) -> dict:
    """Repeat a request until the token's check is served from the cache (the sign-in's own
    announcements may still be on their way and drop the first kept check); its answer."""
    wait_until_listening()
    for _ in range(50):
        assert session_user(client, token).status_code == 200
        with statements_on(get_engine()) as seen:
            answer = session_user(client, token)
        if not reads_users(seen):
            assert answer.status_code == 200
            return answer.get_json()
        time.sleep(0.02)
    raise AssertionError("the checked token was never kept")


def test_a_checked_token_is_served_without_the_database(client, make_user):
    user = make_user()
    assert kept(client, user["token"])["email"] == user["email"]


def test_signing_out_ends_a_kept_session_at_once(client, make_user):
    user = make_user()
    kept(client, user["token"])
    assert client.get("/api/v1/auths/signout", headers=bearer(user["token"])).status_code == 200
    assert session_user(client, user["token"]).status_code == 401


def test_a_role_change_committed_by_another_process_applies_at_once(client, make_user):
    user = make_user()
    kept(client, user["token"])
    script = ("from shared.db import session_scope\nfrom shared.models import User\n"
              f"with session_scope() as s:\n    s.get(User, {user['id']!r}).role = 'pending'\n")
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=os.environ.copy(), check=True, timeout=60)
    deadline = time.monotonic() + 2
    while client.get("/api/v1/jobs/", headers=bearer(user["token"])).status_code == 200:
        assert time.monotonic() < deadline, "the other process's change was not announced"
        time.sleep(0.01)
    assert client.get("/api/v1/jobs/", headers=bearer(user["token"])).status_code == 401


def test_a_profile_update_is_seen_by_the_next_request(client, make_user):
    user = make_user()
    kept(client, user["token"])
    updated = client.post("/api/v1/auths/update/profile", headers=bearer(user["token"]),
                          json={"name": "Renamed", "profile_image_url": "/user.png"})
    assert updated.status_code == 200, updated.get_json()
    assert session_user(client, user["token"]).get_json()["name"] == "Renamed"


class _User:
    def __init__(self, user_id: str) -> None:
        self.__dict__.update({column: None for column in ("email", "role", "name", "token_version")}, id=user_id)

    def __getattr__(self, name: str):
        return None


def test_an_outcome_read_before_an_announcement_is_not_kept():
    cache = AuthCache()
    cache.on_subscription(True)
    started = cache.generation
    cache.on_message("u1")  # the user changed while the check was reading the database
    cache.store("token", {"exp": time.time() + 60}, _User("u1"), started)
    assert cache.lookup("token") is None
    cache.store("token", {"exp": time.time() + 60}, _User("u1"), cache.generation)
    assert cache.lookup("token") is not None


def test_nothing_is_served_while_the_subscription_is_lost_nor_past_the_token_expiry():
    cache = AuthCache()
    cache.on_subscription(True)
    cache.store("token", {"exp": time.time() + 60}, _User("u1"), cache.generation)
    cache.on_subscription(False)
    assert cache.lookup("token") is None
    cache.on_subscription(True)
    cache.store("token", {"exp": time.time() + 60}, _User("u1"), cache.generation)
    cache.on_subscription(True)  # confirmed again after a loss: starts empty
    assert cache.lookup("token") is None
    cache.store("old", {"exp": time.time() - 1}, _User("u1"), cache.generation)
    assert cache.lookup("old") is None
