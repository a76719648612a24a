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


def update(client, token: str, *operations: dict, **extra):
    return client.post("/api/v1/memories/update", headers=bearer(token), json={"operations": list(operations), **extra})


def test_operations_are_applied_together_and_indexed(client, admin, make_user, embeddings):
    token = admin["token"]
    tea = add(client, token, "Drinks green tea every morning")
    done = update(client, token,
                  {"action": "add", "content": "Prefers window seats", "type": "user", "path": "/travel//flights/"},
                  {"action": "add", "content": "Drinks green tea every morning"},
                  {"action": "replace", "id": tea["id"], "content": "Drinks black coffee every morning",
                   "path": "food/drinks"})
    assert done.status_code == 200, done.get_json()
    created, skipped, replaced = done.get_json()
    assert (created["action"], created["status"]) == ("add", "created")
    assert created["memory"]["path"] == "travel/flights" and created["memory"]["type"] == "user"
    assert "meta" not in created["memory"]
    assert (skipped["status"], skipped["reason"], skipped["memory"]["id"]) == ("skipped", "duplicate", tea["id"])
    assert replaced["status"] == "updated" and replaced["memory"]["content"] == "Drinks black coffee every morning"
    settle()
    assert query(client, token, "black coffee morning").get_json()["ids"] == [[tea["id"]]]

    moved = update(client, token, {"action": "move", "id": created["memory"]["id"], "path": "travel"},
                   {"action": "remove", "id": tea["id"]}).get_json()
    assert moved[0]["memory"]["path"] == "travel" and moved[1] == {"action": "remove", "status": "deleted",
                                                                   "id": tea["id"]}
    settle()
    assert [m["content"] for m in client.get("/api/v1/memories/", headers=bearer(token)).get_json()] == [
        "Prefers window seats"]

    # all or nothing: an unknown id leaves the earlier operations undone
    missing = update(client, token, {"action": "add", "content": "Owns a cat"}, {"action": "remove", "id": "nope"})
    assert missing.status_code == 404 and missing.get_json()["detail"] == "Memory not found: nope"
    assert len(client.get("/api/v1/memories/", headers=bearer(token)).get_json()) == 1
    other = make_user()
    assert update(client, other["token"], {"action": "remove", "id": created["memory"]["id"]}).status_code == 404
    assert update(client, token).get_json()["detail"] == "No memory operations provided"
    assert update(client, token, {"action": "replace", "content": "x"}).get_json()[
        "detail"] == "Memory id is required for replace"
    assert update(client, token, {"action": "add", "content": "   "}).status_code == 400
    assert update(client, token, {"action": "add", "content": "x", "path": "a/../b"}).get_json()[
        "detail"] == "Invalid memory path"
    assert update(client, token, {"action": "forget", "id": "x"}).status_code == 422


def test_search_paths_and_path(client, admin, make_user):
    token = admin["token"]
    update(client, token,
           {"action": "add", "content": "Works on the Apollo launch", "path": "work/projects/apollo"},
           {"action": "add", "content": "Team standup at ten", "path": "work"},
           {"action": "add", "content": "Allergic to peanuts", "type": "user", "path": "health"},
           {"action": "add", "content": "Likes jazz"})

    def post(route: str, body: dict):
        response = client.post(f"/api/v1/memories/{route}", headers=bearer(token), json=body)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    assert [m["content"] for m in post("search", {"query": "PEANUT"})] == ["Allergic to peanuts"]
    near = post("search", {"path": "work/projects"})
    assert [m["path"] for m in near] == ["work/projects/apollo", "work"]  # below before above
    assert [m["content"] for m in post("search", {"type": "user"})] == ["Allergic to peanuts"]

    groups = post("paths", {})
    assert groups["count"] == 4
    work = next(g for g in groups["paths"] if g["path"] == "work")
    assert work["count"] == 1 and work["children"] == ["work/projects"] and work["type"] == "context"

    read = post("path", {"path": "/work/projects/"})
    assert read["path"] == "work/projects" and read["parents"] == ["work"] and read["children"] == [
        "work/projects/apollo"]
    assert [m["content"] for m in read["memories"]] == ["Works on the Apollo launch", "Team standup at ten"]
    assert "meta" not in read["memories"][0]
    assert client.post("/api/v1/memories/path", headers=bearer(token), json={"path": "//"}).get_json()[
        "detail"] == "Memory path is required"
    assert client.post("/api/v1/memories/search", headers=bearer(token), json={"type": "other"}).status_code == 422
    assert client.post("/api/v1/memories/search", headers=bearer(make_user()["token"]), json={}).get_json() == []


def test_admin_reindexes_every_users_memories(client, admin, make_user, embeddings):
    user = make_user()
    add(client, admin["token"], "admin likes tea")
    mine = add(client, user["token"], "user likes chess")
    settle()
    assert client.post("/api/v1/memories/reindex", headers=bearer(user["token"])).status_code == 401
    done = client.post("/api/v1/memories/reindex", headers=bearer(admin["token"]))
    assert done.status_code == 200 and done.get_json() == {"status": True, "total_users": 2, "total_memories": 2}
    found = query(client, user["token"], "chess").get_json()
    assert found["ids"] == [[mine["id"]]]
    queued = client.post("/api/v1/memories/reindex", headers={**bearer(admin["token"]), "Prefer": "respond-async"})
    assert queued.status_code == 202 and queued.get_json()["kind"] == "memory.reindex"
