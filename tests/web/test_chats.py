"""``/api/v1/chats``: every route, its Open WebUI shape, bad input, and that no route reaches another user's chat."""
from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import text

from shared.db import get_engine, session_scope
from shared.models import Job
from tests.helpers import bearer

CHATS = "/api/v1/chats"


def _chat(title: str = "Hello", n: int = 2) -> dict:
    """A chat object as the web app sends it: history tree, flat messages, and fields we must not lose."""
    messages, parent = {}, None
    for i in range(n):
        mid = f"m{i}"
        messages[mid] = {"id": mid, "parentId": parent, "childrenIds": [f"m{i + 1}"] if i + 1 < n else [],
                         "role": "user" if i % 2 == 0 else "assistant", "content": f"message {i} of {title}",
                         "timestamp": 1700000000 + i}
        parent = mid
    return {"id": "", "title": title, "models": ["llama3"], "params": {}, "files": [], "tags": [],
            "timestamp": 1700000000000, "x-custom": {"ünïcode": "✓", "nested": [1, 2.5, None, True]},
            "messages": list(messages.values()), "history": {"messages": messages, "currentId": parent}}


@pytest.fixture
def alice(client, make_user):
    return bearer(make_user("alice@example.com")["token"])


@pytest.fixture
def bob(client, make_user):
    return bearer(make_user("bob@example.com")["token"])


def new_chat(client, headers, title="Hello", **extra) -> dict:
    response = client.post(f"{CHATS}/new", json={"chat": _chat(title), **extra}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_create_and_open_round_trips_the_chat_object(client, alice):
    sent = _chat("Round trip")
    created = client.post(f"{CHATS}/new", json={"chat": sent}, headers=alice).get_json()
    assert set(created) >= {"id", "user_id", "title", "chat", "updated_at", "created_at", "share_id", "archived",
                            "pinned", "meta", "variables", "folder_id", "tasks", "summary", "current_message_id"}
    assert created["title"] == "Round trip" and created["archived"] is False and created["pinned"] is False
    assert created["current_message_id"] == "m1" and created["share_id"] is None and created["meta"] == {}
    got = client.get(f"{CHATS}/{created['id']}", headers=alice).get_json()
    assert json.dumps(got["chat"]) == json.dumps(sent)  # same keys, same order, same values
    # posting the whole object back changes nothing either
    saved = client.post(f"{CHATS}/{created['id']}", json={"chat": got["chat"]}, headers=alice).get_json()
    assert json.dumps(saved["chat"]) == json.dumps(sent)


def test_update_merges_top_level_keys(client, alice):
    chat = new_chat(client, alice)
    updated = client.post(f"{CHATS}/{chat['id']}", json={"chat": {"title": "Renamed"}}, headers=alice).get_json()
    assert updated["title"] == "Renamed" and updated["chat"]["title"] == "Renamed"
    assert updated["chat"]["history"] == chat["chat"]["history"]
    assert updated["updated_at"] >= chat["updated_at"]
    # the client's key order wins: a chat posted whole in another order comes back in that order
    reordered = dict(reversed(list(updated["chat"].items())))
    again = client.post(f"{CHATS}/{chat['id']}", json={"chat": reordered}, headers=alice).get_json()
    assert json.dumps(again["chat"]) == json.dumps(reordered)


def test_bad_input_is_a_clear_4xx(client, alice):
    chat = new_chat(client, alice)
    for path in (f"{CHATS}/new", f"{CHATS}/{chat['id']}"):
        not_object = client.post(path, json={"chat": "text"}, headers=alice)
        assert not_object.status_code == 422 and "chat" in not_object.get_json()["detail"]
        missing = client.post(path, json={}, headers=alice)
        assert missing.status_code == 422 and "chat" in missing.get_json()["detail"]
        broken = client.post(path, data="{not json", content_type="application/json", headers=alice)
        assert 400 <= broken.status_code < 500 and "detail" in broken.get_json()
    unknown = client.get(f"{CHATS}/no-such-chat", headers=alice)
    assert unknown.status_code == 404
    assert unknown.get_json() == {"detail": "We could not find what you're looking for :/"}
    too_big = client.post(f"{CHATS}/new", data=b'{"chat": {"x": "' + b"a" * (17 * 1024 * 1024) + b'"}}',
                          content_type="application/json", headers=alice)
    assert too_big.status_code == 413 and "detail" in too_big.get_json()
    too_deep = '{"chat": {"a": ' + "[" * 5000 + "]" * 5000 + "}}"
    deep = client.post(f"{CHATS}/new", data=too_deep, content_type="application/json", headers=alice)
    assert deep.status_code == 400 and "nested" in deep.get_json()["detail"]
    assert client.get(f"{CHATS}/?page=0", headers=alice).status_code == 422
    assert client.get(f"{CHATS}/?page={10**18}", headers=alice).status_code == 422
    beyond_64_bits = client.post(f"{CHATS}/import", json={"chats": [{"chat": {}, "created_at": 2**70}]},
                                 headers=alice)
    assert beyond_64_bits.status_code == 400 and "64 bits" in beyond_64_bits.get_json()["detail"]
    assert client.get(f"{CHATS}/search", headers=alice).status_code == 422


def test_large_chat_saves_and_loads(client, alice):
    sent = _chat("Big", n=5000)
    for message in sent["history"]["messages"].values():
        message["content"] = message["content"] + " " + "x" * 1000
    body = json.dumps({"chat": sent})
    assert len(body) > 5_000_000 * 2  # history and the flat list both carry the text
    created = client.post(f"{CHATS}/new", data=body, content_type="application/json", headers=alice)
    assert created.status_code == 200
    got = client.get(f"{CHATS}/{created.get_json()['id']}", headers=alice).get_json()
    assert json.dumps(got["chat"]) == json.dumps(sent)


def test_list_pages_pinned_and_archived(client, alice):
    ids = [new_chat(client, alice, f"chat {i}")["id"] for i in range(62)]
    page1 = client.get(f"{CHATS}/?page=1", headers=alice).get_json()
    assert len(page1) == 60
    assert set(page1[0]) == {"id", "title", "updated_at", "created_at", "last_read_at", "snippet", "active",
                             "archived"}
    page2 = client.get(f"{CHATS}/list?page=2", headers=alice).get_json()
    assert len(page2) == 2 and not {c["id"] for c in page1} & {c["id"] for c in page2}
    assert client.get(f"{CHATS}/?page=3", headers=alice).get_json() == []
    assert len(client.get(f"{CHATS}/", headers=alice).get_json()) == 62

    pinned = client.post(f"{CHATS}/{ids[0]}/pin", headers=alice).get_json()
    assert pinned["pinned"] is True
    assert client.get(f"{CHATS}/{ids[0]}/pinned", headers=alice).get_json() is True
    assert [c["id"] for c in client.get(f"{CHATS}/pinned", headers=alice).get_json()] == [ids[0]]
    assert ids[0] not in {c["id"] for c in client.get(f"{CHATS}/", headers=alice).get_json()}
    assert ids[0] in {c["id"] for c in client.get(f"{CHATS}/?include_pinned=true", headers=alice).get_json()}
    assert client.post(f"{CHATS}/{ids[0]}/pin", headers=alice).get_json()["pinned"] is False

    assert client.post(f"{CHATS}/{ids[1]}/archive", headers=alice).get_json()["archived"] is True
    assert client.get(f"{CHATS}/archived/count", headers=alice).get_json() == 1
    archived = client.get(f"{CHATS}/archived", headers=alice).get_json()
    assert [c["id"] for c in archived] == [ids[1]] and archived[0]["archived"] is True
    assert [c["id"] for c in client.get(f"{CHATS}/all/archived", headers=alice).get_json()] == [ids[1]]
    assert client.get(f"{CHATS}/archived?query=CHAT 1&order_by=title&direction=asc",
                      headers=alice).get_json()[0]["id"] == ids[1]
    assert client.post(f"{CHATS}/archive/all", headers=alice).get_json() is True
    assert client.get(f"{CHATS}/archived/count", headers=alice).get_json() == 62
    assert client.get(f"{CHATS}/", headers=alice).get_json() == []
    assert client.post(f"{CHATS}/unarchive/all", headers=alice).get_json() is True
    assert client.get(f"{CHATS}/archived/count", headers=alice).get_json() == 0


def test_messages_update_and_delete_keep_the_tree(client, alice):
    chat = new_chat(client, alice)
    cid = chat["id"]
    updated = client.post(f"{CHATS}/{cid}/messages/m1", json={"content": "edited"}, headers=alice)
    assert updated.status_code == 200
    body = updated.get_json()["chat"]
    assert body["history"]["messages"]["m1"]["content"] == "edited"
    assert body["messages"][-1] == body["history"]["messages"]["m1"]
    assert client.post(f"{CHATS}/{cid}/messages/m1", json={}, headers=alice).status_code == 400
    assert client.post(f"{CHATS}/{cid}/messages/nope", json={"content": "x"}, headers=alice).status_code == 404
    deleted = client.delete(f"{CHATS}/{cid}/messages/m1", headers=alice).get_json()["chat"]
    assert set(deleted["history"]["messages"]) == {"m0"}
    assert deleted["history"]["messages"]["m0"]["childrenIds"] == []
    assert deleted["history"]["currentId"] == "m0" and [m["id"] for m in deleted["messages"]] == ["m0"]
    assert client.delete(f"{CHATS}/{cid}/messages/m1", headers=alice).status_code == 404


def test_clone_share_and_snapshot(client, alice, admin):
    chat = new_chat(client, alice, "Original")
    clone = client.post(f"{CHATS}/{chat['id']}/clone", json={}, headers=alice).get_json()
    assert clone["id"] != chat["id"] and clone["title"] == "Clone of Original"
    assert clone["chat"]["originalChatId"] == chat["id"] and clone["chat"]["branchPointMessageId"] == "m1"
    named = client.post(f"{CHATS}/{chat['id']}/clone", json={"title": "Copy"}, headers=alice).get_json()
    assert named["title"] == "Copy"

    client.post(f"{CHATS}/{chat['id']}/messages/m0", json={"content": "first, edited"}, headers=alice)
    client.post(f"{CHATS}/{chat['id']}/tags", json={"name": "kept"}, headers=alice)
    fork = client.post(f"{CHATS}/{chat['id']}/fork", json={"message_id": "m0"}, headers=alice).get_json()
    assert fork["title"] == "Original (fork)" and fork["meta"]["forked_from"] == chat["id"]
    assert fork["chat"]["history"] == {"messages": {"m0": {**chat["chat"]["history"]["messages"]["m0"],
                                                           "content": "first, edited", "childrenIds": []}},
                                       "currentId": "m0"}
    assert [m["id"] for m in fork["chat"]["messages"]] == ["m0"] and fork["meta"]["tags"] == ["kept"]
    assert client.post(f"{CHATS}/{chat['id']}/fork", json={"message_id": "nope"}, headers=alice).status_code == 404
    whole = client.post(f"{CHATS}/{chat['id']}/fork", json={}, headers=alice).get_json()
    assert set(whole["chat"]["history"]["messages"]) == {"m0", "m1"}

    shared = client.post(f"{CHATS}/{chat['id']}/share", headers=alice).get_json()
    share_id = shared["share_id"]
    assert share_id
    client.post(f"{CHATS}/{chat['id']}", json={"chat": {"title": "Changed later"}}, headers=alice)
    snapshot = client.get(f"{CHATS}/share/{share_id}", headers=alice).get_json()
    assert snapshot["title"] == "Original" and set(snapshot["chat"]["history"]["messages"]) == {"m0", "m1"}
    assert snapshot["chat"]["history"]["messages"]["m0"]["content"] == "first, edited"
    # an admin may open it (Open WebUI's admin chat access), and any chat by its id through this route
    assert client.get(f"{CHATS}/share/{share_id}", headers=bearer(admin["token"])).status_code == 200
    assert client.get(f"{CHATS}/share/{chat['id']}", headers=bearer(admin["token"])).status_code == 200
    again = client.post(f"{CHATS}/{chat['id']}/share", headers=alice).get_json()
    assert again["share_id"] == share_id
    assert client.get(f"{CHATS}/share/{share_id}", headers=alice).get_json()["title"] == "Changed later"
    assert client.delete(f"{CHATS}/{chat['id']}/share", headers=alice).get_json() is True
    assert client.get(f"{CHATS}/{chat['id']}", headers=alice).get_json()["share_id"] is None
    assert client.get(f"{CHATS}/share/{share_id}", headers=alice).status_code == 404


def test_tags(client, alice):
    first, second = new_chat(client, alice, "one"), new_chat(client, alice, "two")
    added = client.post(f"{CHATS}/{first['id']}/tags", json={"name": "Road Trip"}, headers=alice).get_json()
    assert added == [{"id": "road_trip", "name": "Road Trip", "user_id": first["user_id"], "meta": None}]
    client.post(f"{CHATS}/{second['id']}/tags", json={"name": "road trip"}, headers=alice)
    client.post(f"{CHATS}/{second['id']}/tags", json={"name": "work"}, headers=alice)
    assert [t["id"] for t in client.get(f"{CHATS}/{second['id']}/tags", headers=alice).get_json()] == \
        ["road_trip", "work"]
    assert client.get(f"{CHATS}/{second['id']}", headers=alice).get_json()["meta"]["tags"] == ["road_trip", "work"]
    assert sorted(t["id"] for t in client.get(f"{CHATS}/all/tags", headers=alice).get_json()) == ["road_trip", "work"]
    by_tag = client.post(f"{CHATS}/tags", json={"name": "Road Trip"}, headers=alice).get_json()
    assert {c["id"] for c in by_tag} == {first["id"], second["id"]}
    assert client.post(f"{CHATS}/{first['id']}/tags", json={"name": "None"}, headers=alice).status_code == 400
    assert client.post(f"{CHATS}/{first['id']}/tags", json={}, headers=alice).status_code == 422
    left = client.delete(f"{CHATS}/{second['id']}/tags", json={"name": "work"}, headers=alice).get_json()
    assert [t["id"] for t in left] == ["road_trip"]
    assert [t["id"] for t in client.get(f"{CHATS}/all/tags", headers=alice).get_json()] == ["road_trip"]


def test_search_titles_content_and_filters(client, alice):
    trip = new_chat(client, alice, "Trip to Lisbon")
    cooking = new_chat(client, alice, "Cooking")
    client.post(f"{CHATS}/{cooking['id']}/messages/m1", json={"content": "Use 100% saffron, not turmeric"},
                headers=alice)
    client.post(f"{CHATS}/{trip['id']}/tags", json={"name": "travel"}, headers=alice)

    def ids(text):
        response = client.get(f"{CHATS}/search", query_string={"text": text}, headers=alice)
        assert response.status_code == 200
        return {c["id"] for c in response.get_json()}

    assert ids("lisbon") == {trip["id"]}
    assert ids("SAFFRON") == {cooking["id"]}
    assert ids("100%") == {cooking["id"]} and ids("50%") == set()
    assert ids("tag:travel") == {trip["id"]}
    assert ids("tag:none") == {cooking["id"]}
    assert ids("message tag:travel") == {trip["id"]}
    assert ids("pinned:true") == set()
    hit = client.get(f"{CHATS}/search?text=saffron", headers=alice).get_json()[0]
    assert "saffron" in hit["snippet"]
    client.post(f"{CHATS}/{cooking['id']}/archive", headers=alice)
    assert ids("saffron") == set() and ids("saffron archived:true") == {cooking["id"]}


def test_import_export_and_delete(client, alice):
    imported = client.post(f"{CHATS}/import", json={"chats": [
        {"chat": _chat("Imported"), "meta": {"tags": ["Old"]}, "pinned": True, "created_at": 1600000000,
         "updated_at": 1600000001, "folder_id": "not-mine"},
        {"chat": _chat("Second")},
    ]}, headers=alice)
    assert imported.status_code == 200
    first, second = imported.get_json()
    assert first["pinned"] is True and first["created_at"] == 1600000000 and first["folder_id"] is None
    assert first["meta"]["tags"] == ["old"]
    assert client.post(f"{CHATS}/import", json={"chats": [{"chat": []}]}, headers=alice).status_code == 422
    export = client.get(f"{CHATS}/all", headers=alice)
    assert export.mimetype == "application/x-ndjson"
    lines = [json.loads(line) for line in export.get_data(as_text=True).splitlines()]
    assert [c["title"] for c in lines] == ["Imported", "Second"]
    assert client.delete(f"{CHATS}/{first['id']}", headers=alice).get_json() is True
    assert client.get(f"{CHATS}/{first['id']}", headers=alice).status_code == 404
    assert client.get(f"{CHATS}/all/tags", headers=alice).get_json() == []
    assert client.delete(f"{CHATS}/", headers=alice).get_json() is True
    assert client.get(f"{CHATS}/", headers=alice).get_json() == []


def test_permissions_gate_delete_share_and_import(client, admin, alice):
    chat = new_chat(client, alice)
    client.post("/api/v1/users/default/permissions", headers=bearer(admin["token"]),
                json={"chat": {"delete": False, "share": False, "import": False}})
    assert client.delete(f"{CHATS}/{chat['id']}", headers=alice).status_code == 401
    assert client.delete(f"{CHATS}/", headers=alice).status_code == 401
    assert client.post(f"{CHATS}/{chat['id']}/share", headers=alice).status_code == 401
    # chat.import (import, clone, fork) is refused with a 403, as Open WebUI does
    assert client.post(f"{CHATS}/{chat['id']}/clone", json={}, headers=alice).status_code == 403
    assert client.post(f"{CHATS}/{chat['id']}/fork", json={}, headers=alice).status_code == 403
    assert client.post(f"{CHATS}/import", json={"chats": []}, headers=alice).status_code == 403
    assert client.get(f"{CHATS}/{chat['id']}", headers=alice).status_code == 200


def test_admin_lists_a_users_chats_and_a_plain_user_cannot(client, admin, alice, bob, make_user):
    chat = new_chat(client, alice)
    alice_id = chat["user_id"]
    listed = client.get(f"{CHATS}/list/user/{alice_id}", headers=bearer(admin["token"]))
    assert listed.status_code == 200 and [c["id"] for c in listed.get_json()] == [chat["id"]]
    assert client.get(f"{CHATS}/list/user/{alice_id}", headers=bob).status_code == 401
    # an admin's ordinary routes stay on their own chats
    assert client.get(f"{CHATS}/{chat['id']}", headers=bearer(admin["token"])).status_code == 404


def test_admin_chat_access_can_be_switched_off(client, admin, alice, monkeypatch):
    chat = new_chat(client, alice)
    share_id = client.post(f"{CHATS}/{chat['id']}/share", headers=alice).get_json()["share_id"]
    monkeypatch.setenv("ENABLE_ADMIN_CHAT_ACCESS", "false")
    as_admin = bearer(admin["token"])
    assert client.get(f"{CHATS}/list/user/{chat['user_id']}", headers=as_admin).status_code == 401
    assert client.get(f"{CHATS}/share/{share_id}", headers=as_admin).status_code == 404
    assert client.get(f"{CHATS}/share/{chat['id']}", headers=as_admin).status_code == 404
    assert client.get(f"{CHATS}/share/{share_id}", headers=alice).status_code == 200


def test_concurrent_saves_of_one_chat_never_corrupt_it(client, app, alice):
    chat = new_chat(client, alice)
    cid = chat["id"]
    statuses = []

    def save(i: int) -> None:
        with app.test_client() as own:
            body = json.loads(json.dumps(chat["chat"]))
            body["history"]["messages"][f"r{i}"] = {"id": f"r{i}", "parentId": "m1", "childrenIds": [],
                                                    "role": "user", "content": str(i)}
            body["history"]["messages"]["m1"]["childrenIds"] = [f"r{i}"]
            body["history"]["currentId"] = f"r{i}"
            body["title"] = f"writer {i}"
            statuses.append(own.post(f"{CHATS}/{cid}", json={"chat": body}, headers=alice).status_code)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert statuses == [200] * 6
    final = client.get(f"{CHATS}/{cid}", headers=alice).get_json()["chat"]
    messages = final["history"]["messages"]
    assert {f"r{i}" for i in range(6)} <= set(messages)  # no writer's message was lost
    assert sorted(messages["m1"]["childrenIds"]) == sorted(f"r{i}" for i in range(6))
    assert final["title"].startswith("writer ") and final["history"]["currentId"] in messages


def _idor_routes(chat_id: str, folder_id: str, share_id: str):
    """Every route that names a chat, message, folder or share id, with a valid body."""
    return [
        ("get", f"{CHATS}/{chat_id}", None),
        ("post", f"{CHATS}/{chat_id}", {"chat": {"title": "stolen"}}),
        ("delete", f"{CHATS}/{chat_id}", None),
        ("post", f"{CHATS}/{chat_id}/messages/m1", {"content": "stolen"}),
        ("delete", f"{CHATS}/{chat_id}/messages/m1", None),
        ("get", f"{CHATS}/{chat_id}/pinned", None),
        ("post", f"{CHATS}/{chat_id}/pin", None),
        ("post", f"{CHATS}/{chat_id}/archive", None),
        ("post", f"{CHATS}/{chat_id}/clone", {}),
        ("post", f"{CHATS}/{chat_id}/fork", {}),
        ("patch", f"{CHATS}/{chat_id}/params", {"seed": 1}),
        ("post", f"{CHATS}/{chat_id}/unread", None),
        ("get", f"{CHATS}/folder/{folder_id}/list", None),
        ("post", f"{CHATS}/{chat_id}/share", None),
        ("delete", f"{CHATS}/{chat_id}/share", None),
        ("get", f"{CHATS}/share/{share_id}", None),
        ("post", f"{CHATS}/{chat_id}/folder", {"folder_id": None}),
        ("get", f"{CHATS}/{chat_id}/tags", None),
        ("post", f"{CHATS}/{chat_id}/tags", {"name": "stolen"}),
        ("delete", f"{CHATS}/{chat_id}/tags", {"name": "mine"}),
        ("get", f"{CHATS}/folder/{folder_id}", None),
    ]


def test_no_route_reaches_another_users_chat(client, alice, bob):
    folder = client.post("/api/v1/folders/", json={"name": "Private"}, headers=alice).get_json()
    chat = new_chat(client, alice, "Secret", folder_id=folder["id"])
    client.post(f"{CHATS}/{chat['id']}/tags", json={"name": "mine"}, headers=alice)
    share_id = client.post(f"{CHATS}/{chat['id']}/share", headers=alice).get_json()["share_id"]
    before = client.get(f"{CHATS}/{chat['id']}", headers=alice).get_json()
    for method, path, body in _idor_routes(chat["id"], folder["id"], share_id):
        response = getattr(client, method)(path, json=body, headers=bob)
        assert response.status_code == 404, (method, path, response.get_json())
        assert response.get_json() == {"detail": "We could not find what you're looking for :/"}
    # moving one's own chat into another user's folder is refused the same way
    own = new_chat(client, bob, "Bob's")
    assert client.post(f"{CHATS}/{own['id']}/folder", json={"folder_id": folder["id"]},
                       headers=bob).status_code == 404
    assert client.post(f"{CHATS}/new", json={"chat": {}, "folder_id": folder["id"]}, headers=bob).status_code == 404
    # bob's lists, searches and bulk actions never show or touch alice's chat
    for path in ("/", "/pinned", "/archived", "/all/archived", "/all/tags", "/search?text=secret"):
        assert chat["id"] not in json.dumps(client.get(f"{CHATS}{path}", headers=bob).get_json()), path
    assert client.post(f"{CHATS}/tags", json={"name": "mine"}, headers=bob).get_json() == []
    client.post(f"{CHATS}/{new_chat(client, alice, 'Archived')['id']}/archive", headers=alice)
    assert client.get(f"{CHATS}/archived/count", headers=bob).get_json() == 0
    imported = client.post(f"{CHATS}/import", json={"chats": [{"chat": {}, "folder_id": folder["id"]}]}, headers=bob)
    assert imported.get_json()[0]["folder_id"] is None  # another user's folder is dropped, not used
    assert chat["id"] not in client.get(f"{CHATS}/all", headers=bob).get_data(as_text=True)
    for method, path in (("post", "/archive/all"), ("post", "/unarchive/all"), ("delete", "/")):
        assert getattr(client, method)(f"{CHATS}{path}", headers=bob).status_code == 200
    assert client.get(f"{CHATS}/{chat['id']}", headers=alice).get_json() == before


def test_pending_and_anonymous_callers_are_refused(client, make_user):
    pending = bearer(make_user("pending@example.com", role="pending")["token"])
    assert client.get(f"{CHATS}/", headers=pending).status_code == 401
    assert client.get(f"{CHATS}/").status_code == 401
    assert client.post(f"{CHATS}/new", json={"chat": {}}).status_code == 401


def test_folder_list_shares_list_and_params(client, alice, bob):
    folder = client.post("/api/v1/folders/", json={"name": "F"}, headers=alice).get_json()
    ids = [new_chat(client, alice, f"in folder {i}", folder_id=folder["id"])["id"] for i in range(12)]
    page1 = client.get(f"{CHATS}/folder/{folder['id']}/list?page=1", headers=alice).get_json()
    page2 = client.get(f"{CHATS}/folder/{folder['id']}/list?page=2&sort_by=unread_updated_at", headers=alice)
    assert len(page1) == 10 and len(page2.get_json()) == 2
    assert {c["id"] for c in page1} | {c["id"] for c in page2.get_json()} == set(ids)
    assert client.get(f"{CHATS}/folder/{folder['id']}/list", headers=bob).status_code == 404

    share_id = client.post(f"{CHATS}/{ids[0]}/share", headers=alice).get_json()["share_id"]
    shared = client.get(f"{CHATS}/shared", headers=alice).get_json()
    assert shared == [{"id": share_id, "chat_id": ids[0], "title": "in folder 0", "share_id": share_id,
                       "updated_at": shared[0]["updated_at"], "created_at": shared[0]["created_at"]}]
    assert client.get(f"{CHATS}/shared", headers=bob).get_json() == []
    assert client.delete(f"{CHATS}/share/all", headers=bob).get_json() is True
    assert client.get(f"{CHATS}/share/{share_id}", headers=alice).status_code == 200
    assert client.delete(f"{CHATS}/share/all", headers=alice).get_json() is True
    assert client.get(f"{CHATS}/share/{share_id}", headers=alice).status_code == 404
    assert client.get(f"{CHATS}/{ids[0]}", headers=alice).get_json()["share_id"] is None

    params = client.patch(f"{CHATS}/{ids[1]}/params", json={"temperature": 0.2}, headers=alice)
    assert params.status_code == 200 and params.get_json() == {"temperature": 0.2}
    assert client.get(f"{CHATS}/{ids[1]}", headers=alice).get_json()["chat"]["params"] == {"temperature": 0.2}
    assert client.patch(f"{CHATS}/{ids[1]}/params", json={"seed": 1}, headers=bob).status_code == 404


@pytest.mark.postgres  # SQLite stores NUL characters; PostgreSQL refuses them
def test_nul_characters_never_reach_the_database_as_a_500(client, alice):
    created = client.post(f"{CHATS}/new", json={"chat": {"title": "a\u0000b", "text": "\u0000 kept"}}, headers=alice)
    assert created.status_code == 200 and created.get_json()["title"] == "ab"
    assert created.get_json()["chat"]["text"] == "\u0000 kept"  # the chat object itself keeps it
    chat_id = created.get_json()["id"]
    refused = [
        client.post(f"{CHATS}/new", json={"chat": {}, "variables": {"a": "\u0000"}}, headers=alice),
        client.post(f"{CHATS}/{chat_id}", json={"chat": {}, "variables": {"\u0000": 1}}, headers=alice),
        client.post(f"{CHATS}/import", json={"chats": [{"chat": {}, "meta": {"x": "\u0000"}}]}, headers=alice),
        client.post(f"{CHATS}/{chat_id}/tags", json={"name": "t\u0000"}, headers=alice),
        client.get(f"{CHATS}/search", query_string={"text": "a\u0000"}, headers=alice),
        client.post("/api/v1/folders/", json={"name": "f\u0000"}, headers=alice),
        client.post("/api/v1/folders/", json={"name": "f", "meta": {"icon": "\u0000"}}, headers=alice),
    ]
    assert [r.status_code for r in refused] == [400] * len(refused)
    assert "NUL" in refused[0].get_json()["detail"]
    assert client.get(f"{CHATS}/{chat_id}%00", headers=alice).status_code == 404
    assert client.get("/api/v1/folders/x%00", headers=alice).status_code == 404


@pytest.mark.postgres  # counts idle transactions in pg_stat_activity
def test_export_streams_in_batches_without_holding_a_transaction(client, alice):
    created = client.post(f"{CHATS}/import", json={"chats": [
        {"chat": {"title": f"c{i}"}, "created_at": 1600000000 + i // 3} for i in range(230)]}, headers=alice)
    assert created.status_code == 200
    response = client.get(f"{CHATS}/all", headers=alice, buffered=False)
    first = next(iter(response.response))
    assert first.count(b"\n") == 100
    with get_engine().connect() as conn:  # the first batch is out; no transaction waits on the client
        waiting = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND state = 'idle in transaction'")).scalar()
    assert waiting == 0
    assert client.post(f"{CHATS}/archive/all", headers=alice).status_code == 200
    rest = b"".join(response.response)
    response.close()
    titles = [json.loads(line)["title"] for line in (first + rest).decode().splitlines()]
    assert sorted(titles) == sorted(f"c{i}" for i in range(230)) and len(set(titles)) == 230


MALFORMED = [
    {"history": []}, {"history": {"messages": []}}, {"history": {"messages": {"m1": 5, "m0": "x"}, "currentId": "m1"}},
    {"history": {"messages": {"m1": {"id": "m1", "parentId": "m1", "childrenIds": ["m1"]}}, "currentId": "m1"}},
    {"history": {"messages": {"m1": {"parentId": 7, "childrenIds": "zz"}}, "currentId": 3}},
    {"history": {"messages": {"m1": {"id": "m1", "parentId": "m0", "childrenIds": [None, 1]},
                              "m0": {"id": "m0", "parentId": "m1", "childrenIds": ["m1"]}}, "currentId": "m1"}},
    {"messages": "str", "title": ["x"]}, {"messages": [1, None, {"id": 5}]}, {"params": 5},
]


@pytest.mark.parametrize("chat", MALFORMED)
def test_malformed_chat_objects_never_cause_a_500(client, alice, chat):
    """Clients store what they like; every route on such a chat answers 2xx or a clear 4xx."""
    cid = client.post(f"{CHATS}/new", json={"chat": chat}, headers=alice).get_json()["id"]
    calls = [
        ("get", f"{CHATS}/{cid}", None),
        ("post", f"{CHATS}/{cid}", {"chat": {"history": {"messages": {"m2": {"id": "m2", "parentId": "m1"}}}}}),
        ("post", f"{CHATS}/{cid}", {"chat": chat}),
        ("post", f"{CHATS}/{cid}/messages/m1", {"content": "x"}),
        ("post", f"{CHATS}/{cid}/messages/m0", {"voice": {"a": 1}}),
        ("delete", f"{CHATS}/{cid}/messages/m0", None),
        ("delete", f"{CHATS}/{cid}/messages/m1", None),
        ("post", f"{CHATS}/{cid}/fork", {}),
        ("post", f"{CHATS}/{cid}/fork", {"message_id": "m1"}),
        ("post", f"{CHATS}/{cid}/clone", {}),
        ("patch", f"{CHATS}/{cid}/params", {"a": 1}),
        ("post", f"{CHATS}/{cid}/share", None),
        ("get", f"{CHATS}/search?text=x", None),
    ]
    for method, path, body in calls:
        response = getattr(client, method)(path, json=body, headers=alice)
        assert response.status_code < 500, (method, path, response.get_json())
    assert len(client.get(f"{CHATS}/all", headers=alice).get_data(as_text=True).splitlines()) >= 1


def test_a_chat_with_a_running_job_is_listed_active(client, alice):

    busy, idle = new_chat(client, alice, "busy"), new_chat(client, alice, "idle")
    with session_scope() as session:
        for status in ("running", "succeeded"):
            session.add(Job(kind="chat.completion", queue="llm", actor="llm.chat", owner_id=busy["user_id"],
                            status=status, related_type="chat", related_id=busy["id"] if status == "running"
                            else idle["id"]))
    listed = {c["id"]: c["active"] for c in client.get(f"{CHATS}/?page=1", headers=alice).get_json()}
    assert listed == {busy["id"]: True, idle["id"]: False}
    found = client.get(f"{CHATS}/search?text=busy", headers=alice).get_json()
    assert [c["active"] for c in found] == [True]


@pytest.mark.parametrize("action", ["delete", "archive"])
def test_deleting_or_archiving_a_chat_stops_its_jobs(client, alice, action):
    chat = new_chat(client, alice)
    with session_scope() as session:
        job = Job(kind="chat.completion", queue="llm", actor="llm.chat", owner_id=chat["user_id"], status="queued",
                  related_type="chat", related_id=chat["id"])
        session.add(job)
        session.flush()
        job_id = job.id
    if action == "delete":
        assert client.delete(f"{CHATS}/{chat['id']}", headers=alice).status_code == 200
    else:
        assert client.post(f"{CHATS}/{chat['id']}/archive", headers=alice).get_json()["archived"] is True
    with session_scope() as session:
        assert session.get(Job, job_id).status == "cancelled"
