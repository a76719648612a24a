"""``/api/v1/notes``: notes with access grants, per-reader pins, search and the editor's hidden chats."""
from __future__ import annotations

from tests.helpers import bearer

BASE = "/api/v1/notes"
LONG = "word " * 400


def create(client, user: dict, title: str = "Groceries", md: str = "eggs and to-do items", **extra) -> dict:
    response = client.post(f"{BASE}/create", headers=bearer(user["token"]),
                           json={"title": title, "data": {"content": {"md": md}}, **extra})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def share_with(client, admin: dict, note: dict, user: dict, permission: str) -> None:
    response = client.post(f"{BASE}/{note['id']}/access/update", headers=bearer(admin["token"]), json={
        "access_grants": [{"principal_type": "user", "principal_id": user["id"], "permission": permission}]})
    assert response.status_code == 200


def test_create_read_update_and_delete(client, admin):
    headers = bearer(admin["token"])
    made = create(client, admin, meta={"colour": "red"})
    assert (made["title"], made["user_id"], made["data"], made["meta"], made["is_pinned"]) == (
        "Groceries", admin["id"], {"content": {"md": "eggs and to-do items"}}, {"colour": "red"}, False)
    assert made["created_at"] > 10**18  # nanoseconds, as Open WebUI's note times

    got = client.get(f"{BASE}/{made['id']}", headers=headers).get_json()
    assert got["write_access"] is True and got["access_grants"] == []

    updated = client.post(f"{BASE}/{made['id']}/update", headers=headers,
                          json={"data": {"files": [{"id": "f1", "type": "file"}]}, "meta": {"size": 2}}).get_json()
    assert updated["data"] == {"content": {"md": "eggs and to-do items"}, "files": [{"id": "f1", "type": "file"}]}
    assert updated["meta"] == {"colour": "red", "size": 2} and updated["title"] == "Groceries"
    assert updated["updated_at"] > made["updated_at"]

    json_md = client.post(f"{BASE}/{made['id']}/update", headers=headers,
                          json={"data": {"content": {"md": {"not": "text"}}}}).get_json()
    assert json_md["data"]["content"]["md"].startswith("```json\n{")

    assert client.delete(f"{BASE}/{made['id']}/delete", headers=headers).get_json() is True
    assert client.get(f"{BASE}/{made['id']}", headers=headers).status_code == 404


def test_lists_preview_the_text_and_pins_are_per_reader(client, admin, make_user):
    alice = make_user("alice@example.com")
    mine = create(client, alice, title="Long", md=LONG)
    shared = create(client, admin, title="Shared by admin")
    share_with(client, admin, shared, alice, "read")
    create(client, admin, title="Private to admin")

    listed = client.get(f"{BASE}/", headers=bearer(alice["token"])).get_json()
    assert {n["title"] for n in listed} == {"Long", "Shared by admin"}
    long_entry = next(n for n in listed if n["id"] == mine["id"])
    assert long_entry["data"] == {"content": {"md": LONG[:1000]}} and long_entry["user"]["id"] == alice["id"]

    pinned = client.post(f"{BASE}/{shared['id']}/pin", headers=bearer(alice["token"])).get_json()
    assert pinned["is_pinned"] is True
    assert [n["id"] for n in client.get(f"{BASE}/pinned", headers=bearer(alice["token"])).get_json()] == [shared["id"]]
    assert client.get(f"{BASE}/pinned", headers=bearer(admin["token"])).get_json() == []
    assert client.post(f"{BASE}/{shared['id']}/pin", headers=bearer(alice["token"])).get_json()["is_pinned"] is False


def test_search_matches_every_word_ignoring_hyphens_and_lists_what_one_may_edit(client, admin, make_user):
    alice = make_user("alice@example.com")
    create(client, alice, title="Week plan", md="todo: call the plumber")
    create(client, alice, title="Recipes", md="bread and butter")
    readable = create(client, admin, title="Admin todo list", md="plumber invoices")
    share_with(client, admin, readable, alice, "read")
    headers = bearer(alice["token"])

    found = client.get(f"{BASE}/search?query=to-do%20plumber", headers=headers).get_json()
    assert [n["title"] for n in found["items"]] == ["Week plan"] and found["total"] == 1
    both = client.get(f"{BASE}/search?query=plumber&permission=read", headers=headers).get_json()
    assert {n["title"] for n in both["items"]} == {"Week plan", "Admin todo list"}
    shared = client.get(f"{BASE}/search?view_option=shared&permission=read", headers=headers).get_json()
    assert [n["title"] for n in shared["items"]] == ["Admin todo list"]
    ordered = client.get(f"{BASE}/search?order_by=name&direction=asc", headers=headers).get_json()
    assert [n["title"] for n in ordered["items"]] == ["Recipes", "Week plan"]


def test_readers_may_not_change_and_strangers_see_nothing(client, admin, make_user):
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    note = create(client, admin)
    share_with(client, admin, note, alice, "read")
    assert client.get(f"{BASE}/{note['id']}", headers=bearer(alice["token"])).get_json()["write_access"] is False
    refused = client.post(f"{BASE}/{note['id']}/update", headers=bearer(alice["token"]), json={"title": "Mine"})
    assert refused.status_code == 401 and refused.get_json()["detail"]
    assert client.delete(f"{BASE}/{note['id']}/delete", headers=bearer(alice["token"])).status_code == 401
    assert client.get(f"{BASE}/{note['id']}", headers=bearer(bob["token"])).status_code == 404

    share_with(client, admin, note, alice, "write")
    assert client.post(f"{BASE}/{note['id']}/update", headers=bearer(alice["token"]),
                       json={"title": "Ours"}).get_json()["title"] == "Ours"


def test_switched_off_or_without_the_permission(client, admin, make_user):
    alice = make_user("alice@example.com")
    config = client.get("/api/v1/auths/admin/config", headers=bearer(admin["token"])).get_json()
    assert config["ENABLE_NOTES"] is True
    assert client.post("/api/v1/users/default/permissions", headers=bearer(admin["token"]),
                       json={"features": {"notes": False}}).status_code == 200
    denied = client.get(f"{BASE}/", headers=bearer(alice["token"]))
    assert denied.status_code == 401 and denied.get_json() == {"detail": "401 Unauthorized"}
    assert client.get(f"{BASE}/", headers=bearer(admin["token"])).status_code == 200

    client.post("/api/v1/auths/admin/config", headers=bearer(admin["token"]), json={**config, "ENABLE_NOTES": False})
    off = client.get(f"{BASE}/search", headers=bearer(admin["token"]))
    assert off.status_code == 403 and off.get_json() == {"detail": "Notes is disabled"}
    assert client.get("/api/config", headers=bearer(admin["token"])).get_json()["features"]["enable_notes"] is False


def test_a_notes_chats_are_hidden_from_chat_lists(client, admin):
    headers = bearer(admin["token"])
    note = create(client, admin)
    first = client.get(f"{BASE}/{note['id']}/chat", headers=headers).get_json()
    assert first["meta"] == {"internal": True, "type": "note", "note_id": note["id"]}
    assert first["chat"]["id"] == first["id"] and f"Current note id: {note['id']}" in first["chat"]["params"]["system"]
    assert client.get(f"{BASE}/{note['id']}/chat", headers=headers).get_json()["id"] == first["id"]
    second = client.post(f"{BASE}/{note['id']}/chat", headers=headers).get_json()
    assert {c["id"] for c in client.get(f"{BASE}/{note['id']}/chats", headers=headers).get_json()} == {
        first["id"], second["id"]}

    visible = client.post("/api/v1/chats/new", headers=headers, json={"chat": {"title": "Visible"}}).get_json()
    assert [c["id"] for c in client.get("/api/v1/chats/", headers=headers).get_json()] == [visible["id"]]
    assert [c["id"] for c in client.get("/api/v1/chats/search?text=chat", headers=headers).get_json()] == []
    assert client.get(f"/api/v1/chats/{first['id']}", headers=headers).status_code == 200
