"""socket.io at /ws/socket.io on real gunicorn processes: auth, rooms, and delivery through Redis."""
from __future__ import annotations

import time

import pytest
import requests

from shared import socket_events
from tests.e2e.processes import web_server
from tests.e2e.socket_client import Browser


@pytest.fixture(scope="module")
def two_webs():
    """Two web processes behind one Redis, as a scaled deployment runs them."""
    with web_server() as first, web_server() as second:
        yield first, second


def signup(base: str, email: str, name: str) -> dict:
    response = requests.post(f"{base}/api/v1/auths/signup", json={"name": name, "email": email, "password": "pw-123456"})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def users(two_webs):
    """The admin and a verified user (each with ``token`` and ``id``)."""
    first, _ = two_webs
    admin = signup(first, "admin@example.com", "Admin")
    added = requests.post(f"{first}/api/v1/auths/add", headers={"Authorization": f"Bearer {admin['token']}"},
                          json={"name": "Other", "email": "other@example.com", "password": "pw-123456", "role": "user"})
    assert added.status_code == 200, added.text
    other = requests.post(f"{first}/api/v1/auths/signin", json={"email": "other@example.com", "password": "pw-123456"})
    return admin, other.json()


def test_worker_events_reach_the_users_sockets_on_every_web_process(two_webs, users):
    (first, second), (admin, _) = two_webs, users
    on_first, on_second = Browser(first, admin["token"]), Browser(second, admin["token"])
    try:
        for n in range(3):
            socket_events.emit_chat_event(admin["id"], "chat-1", "msg-1", "chat:completion", {"content": "Hi" * (n + 1)})
        for browser in (on_first, on_second):
            events = [e for e in browser.wait_until(lambda ev: sum(e["chat_id"] == "chat-1" for e in ev) >= 3)
                      if e["chat_id"] == "chat-1"]
            assert [e["data"]["data"]["content"] for e in events] == ["Hi", "HiHi", "HiHiHi"]
            assert events[0] == {"chat_id": "chat-1", "message_id": "msg-1",
                                 "data": {"type": "chat:completion", "data": {"content": "Hi"}}}
    finally:
        on_first.close()
        on_second.close()


def test_a_fresh_web_process_passes_on_what_is_sent_as_soon_as_a_socket_is_connected(users):
    """python-socketio listens on Redis only from the first connection on; the connection waits for it."""
    admin, _ = users
    for _attempt in range(3):
        with web_server() as fresh:
            browser = Browser(fresh, admin["token"])
            try:
                socket_events.emit_chat_event(admin["id"], "chat-2", "msg-2", "chat:active", {"active": True})
                events = browser.wait_until(lambda ev: any(e["chat_id"] == "chat-2" for e in ev), timeout=3)
                assert [e["data"]["type"] for e in events if e["chat_id"] == "chat-2"] == ["chat:active"]
            finally:
                browser.close()


def test_events_go_only_to_the_owner(two_webs, users):
    (first, second), (admin, other) = two_webs, users
    mine, theirs, anonymous = Browser(second, admin["token"]), Browser(first, other["token"]), Browser(first, None)
    try:
        time.sleep(0.2)
        socket_events.emit_chat_event(admin["id"], "c", "m", "chat:title", "Secret plans")
        assert mine.wait_for(1)[0]["data"] == {"type": "chat:title", "data": "Secret plans"}
        time.sleep(0.5)
        assert theirs.events == [] and anonymous.events == []
    finally:
        for browser in (mine, theirs, anonymous):
            browser.close()


def test_user_join_authenticates_a_socket_that_connected_without_a_token(two_webs, users):
    (_, second), (admin, _) = two_webs, users
    browser = Browser(second, None)
    try:
        assert browser.client.call("user-join", {"auth": {"token": "not-a-jwt"}}, timeout=5) is None
        ack = browser.client.call("user-join", {"auth": {"token": admin["token"]}}, timeout=5)
        assert ack == {"id": admin["id"], "name": "Admin"}
        browser.client.emit("heartbeat", {})
        browser.client.emit("usage", {"action": "chat", "model": "m", "chat_id": "c"})
        time.sleep(0.2)
        socket_events.emit_chat_event(admin["id"], "c", "m", "status", {"description": "Thinking", "done": False})
        assert browser.wait_for(1)[0]["data"]["type"] == "status"
    finally:
        browser.close()


def test_a_revoked_token_does_not_join(two_webs, users):
    (first, _), (admin, _) = two_webs, users
    token = requests.post(f"{first}/api/v1/auths/signin",
                          json={"email": "admin@example.com", "password": "pw-123456"}).json()["token"]
    requests.get(f"{first}/api/v1/auths/signout", headers={"Authorization": f"Bearer {token}"})
    browser = Browser(first, token)
    try:
        time.sleep(0.2)
        socket_events.emit_chat_event(admin["id"], "c", "m", "chat:title", "x")
        time.sleep(0.5)
        assert browser.events == []
    finally:
        browser.close()


def test_chat_rooms_only_for_readable_chats(two_webs, users):
    from shared.db import session_scope
    from shared.services.chats import store

    (first, _), (admin, other) = two_webs, users
    with session_scope() as session:
        admins_chat = store.create_chat(session, admin["id"], {"title": "Admin's"}).id
        own_chat = store.create_chat(session, other["id"], {"title": "Mine"}).id
    browser = Browser(first, other["token"])
    try:
        def join(chat_id: str, kind: str = "join"):
            return browser.client.call("events:chat", {"chat_id": chat_id, "data": {"type": kind}}, timeout=5)

        assert join("no-such-chat") is False
        assert join(admins_chat) is False
        assert join(own_chat) is True
        assert join(own_chat, "leave") is True
    finally:
        browser.close()


def test_sockets_without_a_user_cannot_join_chats(two_webs):
    browser = Browser(two_webs[0], None)
    try:
        assert browser.client.call("events:chat", {"chat_id": "x", "data": {"type": "join"}}, timeout=5) is False
    finally:
        browser.close()


def test_heartbeats_and_usage_pings_feed_api_usage(two_webs, users):
    from sqlalchemy import update

    from shared.db import session_scope
    from shared.models import User

    (first, _), (admin, _) = two_webs, users
    with session_scope() as session:
        session.execute(update(User).where(User.id == admin["id"]).values(last_active_at=0))
    browser = Browser(first, admin["token"])
    try:
        browser.client.emit("heartbeat", {})
        browser.client.emit("usage", {"action": "chat", "model": "llama-fake:latest", "chat_id": "c"})
        deadline = time.monotonic() + 5
        seen = 0
        while not seen and time.monotonic() < deadline:
            time.sleep(0.1)
            with session_scope() as session:
                seen = session.get(User, admin["id"]).last_active_at
        assert seen > time.time() - 60
        usage = requests.get(f"{first}/api/usage", headers={"Authorization": f"Bearer {admin['token']}"}).json()
        assert usage == {"model_ids": ["llama-fake:latest"], "user_count": 2}  # both signed in just now
    finally:
        browser.close()


def test_every_web_process_reports_in_one_scrape(two_webs, users):
    """/metrics of one web process counts the other's sockets and requests too (one METRICS_DIR)."""
    (first, second), (admin, _) = two_webs, users
    headers = {"Authorization": f"Bearer {admin['token']}"}

    def scrape(name: str, **labels) -> float:
        response = requests.get(f"{first}/metrics", headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
        line = next((line for line in response.text.splitlines()
                     if line.startswith(f"{name}{{{wanted}}} " if labels else f"{name} ")), None)
        return float(line.rsplit(" ", 1)[1]) if line else 0.0

    def settles(name: str, expected: float, **labels) -> None:
        deadline = time.monotonic() + 10
        while scrape(name, **labels) != expected:
            assert time.monotonic() < deadline, f"{name} stayed {scrape(name, **labels)}, expected {expected}"
            time.sleep(0.1)

    route = {"method": "GET", "route": "/api/v1/auths/", "status": "200"}
    before = scrape("switchyard_http_requests_total", **route)
    assert requests.get(f"{second}/api/v1/auths/", headers=headers, timeout=10).ok
    assert scrape("switchyard_http_requests_total", **route) == before + 1

    sockets = scrape("switchyard_socketio_connections")
    browsers = [Browser(first, admin["token"]), Browser(second, admin["token"])]
    try:
        settles("switchyard_socketio_connections", sockets + 2)
    finally:
        for browser in browsers:
            browser.close()
    settles("switchyard_socketio_connections", sockets)
