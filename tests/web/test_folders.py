"""``/api/v1/folders``: the folder tree (nesting, rename, move, expand, delete with or without its chats)."""
from __future__ import annotations

import pytest

from tests.helpers import bearer

FOLDERS = "/api/v1/folders"
NOT_FOUND = {"detail": "We could not find what you're looking for :/"}


@pytest.fixture
def alice(make_user):
    return bearer(make_user("alice@example.com")["token"])


@pytest.fixture
def bob(make_user):
    return bearer(make_user("bob@example.com")["token"])


def make_folder(client, headers, name, parent_id=None) -> dict:
    response = client.post(f"{FOLDERS}/", json={"name": name, "parent_id": parent_id}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def add_chat(client, headers, folder_id, title="chat") -> str:
    response = client.post("/api/v1/chats/new", json={"chat": {"title": title}, "folder_id": folder_id},
                           headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["id"]


def test_create_nest_and_list(client, alice):
    work = make_folder(client, alice, "Work")
    assert set(work) == {"id", "parent_id", "user_id", "name", "items", "meta", "data", "is_expanded",
                         "created_at", "updated_at"}
    assert work["parent_id"] is None and work["is_expanded"] is False
    child = make_folder(client, alice, "Reports", work["id"])
    assert child["parent_id"] == work["id"]
    listed = client.get(f"{FOLDERS}/", headers=alice).get_json()
    assert {f["id"]: f["parent_id"] for f in listed} == {work["id"]: None, child["id"]: work["id"]}
    assert set(listed[0]) == {"id", "name", "meta", "parent_id", "is_expanded", "unread_count", "created_at",
                              "updated_at"}
    detail = client.get(f"{FOLDERS}/{work['id']}", headers=alice).get_json()
    assert detail["access_grants"] == [] and detail["write_access"] is True
    assert client.get(f"{FOLDERS}/shared", headers=alice).get_json() == []


def test_names_are_unique_among_siblings(client, alice):
    work = make_folder(client, alice, "Work")
    duplicate = client.post(f"{FOLDERS}/", json={"name": "work"}, headers=alice)
    assert duplicate.status_code == 400 and duplicate.get_json() == {"detail": "Folder already exists"}
    make_folder(client, alice, "Work", work["id"])  # same name, other parent: fine
    assert client.post(f"{FOLDERS}/", json={"name": "  "}, headers=alice).status_code == 400
    assert client.post(f"{FOLDERS}/", json={}, headers=alice).status_code == 422
    assert client.post(f"{FOLDERS}/", json={"name": "x", "parent_id": "nope"}, headers=alice).status_code == 404


def test_rename_move_and_expand(client, alice):
    a, b = make_folder(client, alice, "A"), make_folder(client, alice, "B")
    child = make_folder(client, alice, "Child", a["id"])
    renamed = client.post(f"{FOLDERS}/{a['id']}/update", json={"name": "Alpha", "meta": {"icon": "📁"}},
                          headers=alice).get_json()
    assert renamed["name"] == "Alpha" and renamed["meta"] == {"icon": "📁"}
    clash = client.post(f"{FOLDERS}/{a['id']}/update", json={"name": "b"}, headers=alice)
    assert clash.status_code == 400
    moved = client.post(f"{FOLDERS}/{b['id']}/update/parent", json={"parent_id": a["id"]}, headers=alice).get_json()
    assert moved["parent_id"] == a["id"]
    loop = client.post(f"{FOLDERS}/{a['id']}/update/parent", json={"parent_id": child["id"]}, headers=alice)
    assert loop.status_code == 400 and "subfolders" in loop.get_json()["detail"]
    itself = client.post(f"{FOLDERS}/{a['id']}/update/parent", json={"parent_id": a["id"]}, headers=alice)
    assert itself.status_code == 400
    to_root = client.post(f"{FOLDERS}/{child['id']}/update/parent", json={"parent_id": None}, headers=alice)
    assert to_root.get_json()["parent_id"] is None
    expanded = client.post(f"{FOLDERS}/{a['id']}/update/expanded", json={"is_expanded": True}, headers=alice)
    assert expanded.get_json()["is_expanded"] is True
    assert client.post(f"{FOLDERS}/{a['id']}/update/expanded", json={}, headers=alice).status_code == 422


def test_chats_in_a_folder_and_its_subfolders(client, alice):
    top = make_folder(client, alice, "Top")
    sub = make_folder(client, alice, "Sub", top["id"])
    in_top, in_sub = add_chat(client, alice, top["id"], "top"), add_chat(client, alice, sub["id"], "sub")
    loose = add_chat(client, alice, None, "loose")
    listed = client.get(f"/api/v1/chats/folder/{top['id']}", headers=alice).get_json()
    assert {c["id"] for c in listed} == {in_top, in_sub} and listed[0]["chat"]["title"] in {"top", "sub"}
    sidebar = {c["id"] for c in client.get("/api/v1/chats/", headers=alice).get_json()}
    assert sidebar == {loose}
    moved = client.post(f"/api/v1/chats/{loose}/folder", json={"folder_id": sub["id"]}, headers=alice).get_json()
    assert moved["folder_id"] == sub["id"]
    out = client.post(f"/api/v1/chats/{loose}/folder", json={"folder_id": None}, headers=alice).get_json()
    assert out["folder_id"] is None


def test_delete_with_and_without_its_chats(client, alice):
    keep = make_folder(client, alice, "Keep")
    keep_sub = make_folder(client, alice, "KeepSub", keep["id"])
    kept_chat = add_chat(client, alice, keep_sub["id"])
    assert client.delete(f"{FOLDERS}/{keep['id']}?delete_contents=false", headers=alice).get_json() is True
    assert client.get(f"{FOLDERS}/{keep_sub['id']}", headers=alice).status_code == 404
    assert client.get(f"/api/v1/chats/{kept_chat}", headers=alice).get_json()["folder_id"] is None

    drop = make_folder(client, alice, "Drop")
    drop_sub = make_folder(client, alice, "DropSub", drop["id"])
    dropped = add_chat(client, alice, drop_sub["id"])
    assert client.delete(f"{FOLDERS}/{drop['id']}", headers=alice).get_json() is True
    assert client.get(f"/api/v1/chats/{dropped}", headers=alice).status_code == 404
    assert client.get(f"{FOLDERS}/", headers=alice).get_json() == []
    assert client.delete(f"{FOLDERS}/{drop['id']}", headers=alice).status_code == 404


def test_disabled_folders_are_forbidden(client, admin, alice):
    client.post("/api/v1/users/default/permissions", json={"features": {"folders": False}},
                headers=bearer(admin["token"]))
    assert client.get(f"{FOLDERS}/", headers=alice).status_code == 403
    assert client.get(f"{FOLDERS}/", headers=bearer(admin["token"])).status_code == 200


def test_no_route_reaches_another_users_folder(client, alice, bob):
    folder = make_folder(client, alice, "Private")
    sub = make_folder(client, alice, "Inner", folder["id"])
    chat_id = add_chat(client, alice, folder["id"])
    routes = [
        ("get", f"{FOLDERS}/{folder['id']}", None),
        ("post", f"{FOLDERS}/{folder['id']}/update", {"name": "stolen"}),
        ("post", f"{FOLDERS}/{folder['id']}/update/parent", {"parent_id": None}),
        ("post", f"{FOLDERS}/{sub['id']}/update/parent", {"parent_id": None}),
        ("post", f"{FOLDERS}/{folder['id']}/update/expanded", {"is_expanded": True}),
        ("delete", f"{FOLDERS}/{folder['id']}", None),
        ("post", f"{FOLDERS}/", {"name": "Nested in theirs", "parent_id": folder["id"]}),
    ]
    for method, path, body in routes:
        response = getattr(client, method)(path, json=body, headers=bob)
        assert response.status_code == 404 and response.get_json() == NOT_FOUND, (method, path)
    # bob cannot move his own folder under alice's either
    own = make_folder(client, bob, "Bob's")
    assert client.post(f"{FOLDERS}/{own['id']}/update/parent", json={"parent_id": folder["id"]},
                       headers=bob).status_code == 404
    assert [f["id"] for f in client.get(f"{FOLDERS}/", headers=bob).get_json()] == [own["id"]]
    after = client.get(f"{FOLDERS}/{folder['id']}", headers=alice).get_json()
    assert after["name"] == "Private" and after["is_expanded"] is False
    assert client.get(f"/api/v1/chats/{chat_id}", headers=alice).get_json()["folder_id"] == folder["id"]


def test_unread_counts_and_marking_read(client, alice, bob):
    top = make_folder(client, alice, "Top")
    sub = make_folder(client, alice, "Sub", top["id"])
    in_sub, loose = add_chat(client, alice, sub["id"]), add_chat(client, alice, None)
    assert {f["id"]: f["unread_count"] for f in client.get(f"{FOLDERS}/", headers=alice).get_json()} == \
        {top["id"]: 0, sub["id"]: 0}
    unread = client.post(f"/api/v1/chats/{in_sub}/unread", headers=alice).get_json()
    assert unread == {"chat_id": in_sub, "last_read_at": 0, "folder_id": sub["id"],
                      "folder_unread_counts": {top["id"]: 1, sub["id"]: 1}}
    assert {f["id"]: f["unread_count"] for f in client.get(f"{FOLDERS}/", headers=alice).get_json()} == \
        {top["id"]: 1, sub["id"]: 1}
    assert client.post(f"{FOLDERS}/{top['id']}/read", headers=bob).status_code == 404
    assert client.post(f"/api/v1/chats/{in_sub}/unread", headers=bob).status_code == 404
    read = client.post(f"{FOLDERS}/{top['id']}/read", headers=alice).get_json()
    assert read["updated_count"] == 1 and sorted(read["folder_ids"]) == sorted([top["id"], sub["id"]])
    assert read["folder_unread_counts"] == {top["id"]: 0, sub["id"]: 0}
    for chat_id in (in_sub, loose):
        client.post(f"/api/v1/chats/{chat_id}/unread", headers=alice)
    assert client.post("/api/v1/chats/read", headers=bob).get_json()["updated_count"] == 0
    assert client.post("/api/v1/chats/read", headers=alice).get_json()["updated_count"] == 2
    assert all(c["last_read_at"] == c["updated_at"] for c in client.get("/api/v1/chats/?include_folders=true",
                                                                          headers=alice).get_json())
