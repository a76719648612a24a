"""``/api/v1/groups``: the admin's groups, their members and hierarchy, and what a group gives its members
(permissions merged over the defaults, access to objects shared with the group)."""
from __future__ import annotations

import pytest

from tests.helpers import bearer

BASE = "/api/v1/groups"


def make_group(client, admin, name: str = "Staff", **extra) -> dict:
    response = client.post(f"{BASE}/create", headers=bearer(admin["token"]),
                           json={"name": name, "description": f"The {name}", **extra})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def add(client, admin, group: dict, *users: dict) -> dict:
    response = client.post(f"{BASE}/id/{group['id']}/users/add", headers=bearer(admin["token"]),
                           json={"user_ids": [u["id"] for u in users]})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def alice(make_user) -> dict:
    return make_user("alice@example.com")


@pytest.fixture
def bob(make_user) -> dict:
    return make_user("bob@example.com")


def test_create_read_update_delete(client, admin, alice):
    headers = bearer(admin["token"])
    group = make_group(client, admin, data={"config": {"default_models": [" m1 ", "m1", "m2"]}})
    assert (group["name"], group["member_count"], group["user_id"]) == ("Staff", 0, admin["id"])
    assert group["data"]["config"] == {"share": "members", "default_models": ["m1", "m2"]}

    added = add(client, admin, group, alice, {"id": "nobody"})
    assert added["member_count"] == 1
    assert client.get(f"{BASE}/id/{group['id']}", headers=headers).get_json()["member_count"] == 1
    exported = client.get(f"{BASE}/id/{group['id']}/export", headers=headers).get_json()
    assert exported["user_ids"] == [alice["id"]] and exported["permissions"] is None
    members = client.post(f"{BASE}/id/{group['id']}/users", headers=headers).get_json()
    assert [(m["id"], m["email"]) for m in members] == [(alice["id"], "alice@example.com")]

    updated = client.post(f"{BASE}/id/{group['id']}/update", headers=headers, json={
        "name": "Crew", "description": "d", "permissions": {"chat": {"delete": True}},
        "data": {"config": {"share": True}}}).get_json()
    assert updated["name"] == "Crew" and updated["permissions"] == {"chat": {"delete": True}}
    assert updated["data"]["config"] == {"share": True, "default_models": ["m1", "m2"]}

    bad = client.post(f"{BASE}/create", headers=headers,
                      json={"name": "x", "description": "", "data": {"config": {"default_models": [""]}}})
    assert bad.status_code == 400
    assert bad.get_json()["detail"] == "Default models must be a list of non-empty model IDs."

    removed = client.post(f"{BASE}/id/{group['id']}/users/remove", headers=headers,
                          json={"user_ids": [alice["id"]]}).get_json()
    assert removed["member_count"] == 0
    assert client.delete(f"{BASE}/id/{group['id']}/delete", headers=headers).get_json() is True
    missing = client.get(f"{BASE}/id/{group['id']}", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["detail"] == "We could not find what you're looking for :/"
    gone = client.post(f"{BASE}/id/{group['id']}/update", headers=headers, json={"name": "x", "description": ""})
    assert gone.status_code == 404 and gone.get_json()["detail"] == "Group not found."


def test_hierarchy_members_and_preview(client, admin, alice, bob):
    headers = bearer(admin["token"])
    parent = make_group(client, admin, "Org", permissions={"features": {"web_search": True}})
    child = make_group(client, admin, "Team", parent_group_id=parent["id"],
                       data={"config": {"default_models": ["team-model"]}})
    add(client, admin, parent, alice)
    add(client, admin, child, bob)

    cycle = client.post(f"{BASE}/id/{parent['id']}/update", headers=headers,
                        json={"name": "Org", "description": "", "parent_group_id": child["id"]})
    assert cycle.status_code == 400 and "descendant of itself" in cycle.get_json()["detail"]
    orphan = client.post(f"{BASE}/create", headers=headers,
                         json={"name": "x", "description": "", "parent_group_id": "missing"})
    assert orphan.status_code == 404 and orphan.get_json()["detail"] == "Parent group not found."

    page = client.get(f"{BASE}/id/{parent['id']}/members", headers=headers).get_json()
    assert page["counts"] == {"direct": 1, "effective": 2, "inherited": 1} and page["total"] == 2
    by_id = {m["id"]: m for m in page["items"]}
    assert by_id[alice["id"]]["membership_type"] == "direct"
    assert (by_id[bob["id"]]["membership_type"], by_id[bob["id"]]["via_group_ids"]) == ("inherited", [child["id"]])
    inherited = client.get(f"{BASE}/id/{parent['id']}/members?membership=inherited", headers=headers).get_json()
    assert [m["id"] for m in inherited["items"]] == [bob["id"]]

    preview = client.get(f"{BASE}/id/{child['id']}/preview", headers=headers).get_json()
    assert preview["default_models"] == {"local": ["team-model"], "effective": ["team-model"],
                                         "source_group_id": child["id"]}
    assert preview["inherited_permissions"]["features"]["web_search"] is True
    assert preview["effective_permissions"]["features"]["web_search"] is True

    # bob is in Org through Team: Org's permission reaches him
    assert client.get("/api/v1/users/permissions", headers=bearer(bob["token"])).get_json()[
        "features"]["web_search"] is True

    # deleting the parent moves the subgroup up
    assert client.delete(f"{BASE}/id/{parent['id']}/delete", headers=headers).get_json() is True
    assert client.get(f"{BASE}/id/{child['id']}", headers=headers).get_json()["parent_group_id"] is None


def test_who_sees_which_group(client, admin, alice, bob, make_user):
    pending = make_user("pending@example.com", role="pending")
    mine = make_group(client, admin, "Mine")
    make_group(client, admin, "Open", data={"config": {"share": True}})
    closed = make_group(client, admin, "Closed", data={"config": {"share": False}})
    add(client, admin, mine, alice)

    names = lambda caller, query="": [g["name"] for g in client.get(  # noqa: E731
        f"{BASE}/{query}", headers=bearer(caller["token"])).get_json()]
    assert sorted(names(admin)) == ["Closed", "Mine", "Open"]
    assert names(alice) == ["Mine"] and names(bob) == []
    assert sorted(names(alice, "?share=true")) == ["Mine", "Open"]
    assert names(bob, "?share=true") == ["Open"] and names(bob, "?share=false") == ["Closed"]
    assert client.get(f"{BASE}/", headers=bearer(pending["token"])).status_code == 401

    info = client.get(f"{BASE}/id/{mine['id']}/info", headers=bearer(bob["token"])).get_json()
    assert info["member_count"] == 1 and "permissions" not in info
    assert client.get(f"{BASE}/id/{closed['id']}/info", headers=bearer(pending["token"])).status_code == 401
    for method, path in (("get", f"/id/{mine['id']}"), ("get", f"/id/{mine['id']}/export"),
                         ("post", f"/id/{mine['id']}/users"), ("post", f"/id/{mine['id']}/users/add"),
                         ("get", f"/id/{mine['id']}/preview"), ("get", f"/id/{mine['id']}/members"),
                         ("delete", f"/id/{mine['id']}/delete"), ("post", "/create")):
        refused = getattr(client, method)(f"{BASE}{path}", headers=bearer(alice["token"]), json={})
        assert refused.status_code == 401, path


def test_group_permission_lets_a_member_delete_chats(client, admin, alice, bob):
    client.post("/api/v1/users/default/permissions", headers=bearer(admin["token"]), json={"chat": {"delete": False}})
    group = make_group(client, admin, permissions={"chat": {"delete": True}})
    add(client, admin, group, alice)
    for caller, status in ((bob, 401), (alice, 200)):
        chat = client.post("/api/v1/chats/new", headers=bearer(caller["token"]),
                           json={"chat": {"title": "t", "messages": []}}).get_json()
        assert client.delete(f"/api/v1/chats/{chat['id']}", headers=bearer(caller["token"])).status_code == status
    mine = client.get("/api/v1/users/permissions", headers=bearer(alice["token"])).get_json()
    assert mine["chat"]["delete"] is True and mine["chat"]["edit"] is True


@pytest.mark.parametrize("area", ["knowledge", "prompts", "models"])
def test_a_group_grant_opens_an_object_to_members_only(client, admin, alice, bob, area):
    group = make_group(client, admin)
    add(client, admin, group, alice)
    grants = [{"principal_type": "group", "principal_id": group["id"], "permission": "read"}]
    headers = bearer(admin["token"])
    if area == "knowledge":
        made = client.post("/api/v1/knowledge/create", headers=headers,
                           json={"name": "Handbook", "description": "", "access_grants": grants}).get_json()
        path = f"/api/v1/knowledge/{made['id']}"
    elif area == "prompts":
        made = client.post("/api/v1/prompts/create", headers=headers, json={
            "command": "sum", "name": "Sum", "content": "c", "access_grants": grants}).get_json()
        path = f"/api/v1/prompts/id/{made['id']}"
    else:
        made = client.post("/api/v1/models/create", headers=headers, json={
            "id": "grouped", "name": "Grouped", "meta": {}, "params": {}, "access_grants": grants}).get_json()
        path = "/api/v1/models/model?id=grouped"
    assert made["access_grants"][0]["principal_id"] == group["id"]
    refused = 404  # what a caller may not read does not exist for them
    assert client.get(path, headers=bearer(alice["token"])).status_code == 200
    assert client.get(path, headers=bearer(bob["token"])).status_code == refused
    # deleting the group takes its grants along
    assert client.delete(f"{BASE}/id/{group['id']}/delete", headers=headers).get_json() is True
    assert client.get(path, headers=bearer(alice["token"])).status_code == refused


def test_sharing_with_groups_needs_allow_groups(client, admin, alice):
    group = make_group(client, admin)
    client.post("/api/v1/users/default/permissions", headers=bearer(admin["token"]), json={
        "workspace": {"knowledge": True}, "sharing": {"knowledge": True},
        "access_grants": {"allow_groups": False}})
    grants = [{"principal_type": "group", "principal_id": group["id"], "permission": "read"},
              {"principal_type": "user", "principal_id": admin["id"], "permission": "read"}]
    made = client.post("/api/v1/knowledge/create", headers=bearer(alice["token"]),
                       json={"name": "Notes", "description": "", "access_grants": grants}).get_json()
    assert [g["principal_type"] for g in made["access_grants"]] == ["user"]
    # a group can give the permission back to its members
    client.post(f"{BASE}/id/{group['id']}/update", headers=bearer(admin["token"]), json={
        "name": "Staff", "description": "", "permissions": {"access_grants": {"allow_groups": True}}})
    add(client, admin, group, alice)
    again = client.post("/api/v1/knowledge/create", headers=bearer(alice["token"]),
                        json={"name": "More notes", "description": "", "access_grants": grants}).get_json()
    assert sorted(g["principal_type"] for g in again["access_grants"]) == ["group", "user"]
