"""``/api/v1/memories``: a user's memories, embedded by jobs and searched semantically."""
from __future__ import annotations

import time

from shared.db import session_scope
from shared.models import Job
from tests.helpers import bearer
from tests.rag_support import embeddings, fake_ollama, rag_worker  # noqa: F401


def add(client, token: str, content: str):
    response = client.post("/api/v1/memories/add", headers=bearer(token), json={"content": content})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def settle(timeout: float = 20.0) -> None:
    """Wait until the memory-indexing jobs queued so far have finished."""
    from sqlalchemy import select

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope() as session:
            pending = session.scalars(select(Job.id).where(Job.kind == "memory.index",
                                                           Job.status.in_(("queued", "running")))).all()
        if not pending:
            return
        time.sleep(0.05)
    raise AssertionError("memory indexing did not finish")


def query(client, token: str, content: str, k: int = 1):
    return client.post("/api/v1/memories/query", headers=bearer(token), json={"content": content, "k": k})


def test_add_list_query_update_delete(client, admin, embeddings):
    token = admin["token"]
    first = add(client, token, "My favourite colour is green")
    add(client, token, "I live in Lisbon near the river")
    assert first["type"] == "context" and first["user_id"] == admin["id"]
    listed = client.get("/api/v1/memories/", headers=bearer(token)).get_json()
    assert sorted(m["content"] for m in listed) == ["I live in Lisbon near the river", "My favourite colour is green"]
    settle()

    found = query(client, token, "favourite colour green").get_json()
    assert found["documents"] == [["My favourite colour is green"]] and found["ids"] == [[first["id"]]]

    updated = client.post(f"/api/v1/memories/{first['id']}/update", headers=bearer(token),
                          json={"content": "My favourite animal is the otter"}).get_json()
    assert updated["content"] == "My favourite animal is the otter"
    settle()
    assert query(client, token, "favourite animal otter").get_json()["ids"] == [[first["id"]]]

    assert client.delete(f"/api/v1/memories/{first['id']}", headers=bearer(token)).get_json() is True
    settle()
    remaining = query(client, token, "favourite animal otter", k=5).get_json()
    assert remaining["documents"] == [["I live in Lisbon near the river"]]


def test_memories_are_private(client, admin, make_user, embeddings):
    user = make_user()
    mine = add(client, admin["token"], "admin secret")
    assert client.get("/api/v1/memories/", headers=bearer(user["token"])).get_json() == []
    assert client.post(f"/api/v1/memories/{mine['id']}/update", headers=bearer(user["token"]),
                       json={"content": "x"}).status_code == 404
    assert client.delete(f"/api/v1/memories/{mine['id']}", headers=bearer(user["token"])).status_code == 404
    assert query(client, user["token"], "secret").status_code == 404


def test_reset_and_delete_all(client, admin, embeddings):
    token = admin["token"]
    add(client, token, "remember the milk")
    settle()
    assert client.post("/api/v1/memories/reset", headers=bearer(token)).get_json() is True
    settle()
    assert query(client, token, "milk").get_json()["documents"] == [["remember the milk"]]
    assert client.delete("/api/v1/memories/delete/user", headers=bearer(token)).get_json() is True
    assert client.get("/api/v1/memories/", headers=bearer(token)).get_json() == []


def test_switched_off_or_not_permitted(client, admin, make_user):
    user = make_user()
    client.post("/api/v1/users/default/permissions", headers=bearer(admin["token"]),
                json={"features": {"memories": False}})
    assert client.get("/api/v1/memories/", headers=bearer(user["token"])).status_code == 403
    bad = client.post("/api/v1/memories/add", headers=bearer(admin["token"]), json={"content": ""})
    assert bad.status_code == 422
