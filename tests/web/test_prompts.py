"""``/api/v1/prompts``: prompts with unique commands, tags, access grants and versions."""
from __future__ import annotations

import pytest

from shared.services import access
from tests.helpers import bearer

BASE = "/api/v1/prompts"


def form(command: str = "summarize", **extra) -> dict:
    return {"command": command, "name": "Summarize", "content": "Summarize the text below.", **extra}


def create(client, token: str, **extra):
    return client.post(f"{BASE}/create", headers=bearer(token), json=form(**extra))


def allow_prompts(client, admin, **sharing) -> None:
    response = client.post("/api/v1/users/default/permissions", headers=bearer(admin["token"]),
                           json={"workspace": {"prompts": True}, "sharing": sharing})
    assert response.status_code == 200


@pytest.fixture
def owner(client, admin, make_user) -> dict:
    allow_prompts(client, admin)
    return make_user("owner@example.com")


def test_create_read_list_toggle_delete(client, admin):
    headers = bearer(admin["token"])
    made = create(client, admin["token"], tags=["writing"]).get_json()
    assert (made["command"], made["user_id"], made["is_active"], made["tags"]) == ("summarize", admin["id"], True,
                                                                                   ["writing"])
    assert made["version_id"] and made["access_grants"] == [] and made["data"] == {} and made["meta"] == {}

    got = client.get(f"{BASE}/id/{made['id']}", headers=headers).get_json()
    assert got["write_access"] is True and got["content"] == "Summarize the text below." and got["user"] is None
    listed = client.get(f"{BASE}/", headers=headers).get_json()
    assert [p["id"] for p in listed] == [made["id"]] and listed[0]["user"]["id"] == admin["id"]
    assert client.get(f"{BASE}/tags", headers=headers).get_json() == ["writing"]

    page = client.get(f"{BASE}/list?tag=WRITING&query=summ", headers=headers).get_json()
    assert page["total"] == 1 and page["items"][0]["write_access"] is True
    assert page["items"][0]["user"]["email"] == admin["email"]
    assert client.get(f"{BASE}/list?tag=other", headers=headers).get_json() == {"items": [], "total": 0}
    assert client.get(f"{BASE}/list?view_option=shared", headers=headers).get_json()["total"] == 0

    toggled = client.post(f"{BASE}/id/{made['id']}/toggle", headers=headers).get_json()
    assert toggled["is_active"] is False
    assert client.get(f"{BASE}/", headers=headers).get_json() == []  # the chat box offers active ones only
    assert client.get(f"{BASE}/tags", headers=headers).get_json() == []
    assert client.get(f"{BASE}/list", headers=headers).get_json()["total"] == 1  # the workspace lists them all

    assert client.delete(f"{BASE}/id/{made['id']}/delete", headers=headers).get_json() is True
    missing = client.get(f"{BASE}/id/{made['id']}", headers=headers)
    assert missing.status_code == 404 and "detail" in missing.get_json()


def test_list_order_and_pages(client, admin):
    headers = bearer(admin["token"])
    for command in ("bravo", "alpha", "charlie"):
        assert create(client, admin["token"], command=command, name=command.title()).status_code == 200
    names = [p["name"] for p in client.get(f"{BASE}/list?order_by=name&direction=asc", headers=headers)
             .get_json()["items"]]
    assert names == ["Alpha", "Bravo", "Charlie"]
    assert client.get(f"{BASE}/list?page=2", headers=headers).get_json() == {"items": [], "total": 3}


def test_commands_are_unique(client, admin):
    headers = bearer(admin["token"])
    first = create(client, admin["token"]).get_json()
    taken = create(client, admin["token"])
    assert taken.status_code == 400 and "command is already registered" in taken.get_json()["detail"]
    second = create(client, admin["token"], command="translate").get_json()
    for path, body in ((f"{BASE}/id/{second['id']}/update", form()),
                       (f"{BASE}/id/{second['id']}/update/meta", {"name": "T", "command": "summarize"})):
        refused = client.post(path, headers=headers, json=body)
        assert refused.status_code == 400 and "command is already registered" in refused.get_json()["detail"]
    # keeping its own command is no collision; a freed command can be taken
    assert client.post(f"{BASE}/id/{first['id']}/update/meta", headers=headers,
                       json={"name": "Sum", "command": "summarize"}).status_code == 200
    client.delete(f"{BASE}/id/{first['id']}/delete", headers=headers)
    moved = client.post(f"{BASE}/id/{second['id']}/update/meta", headers=headers,
                        json={"name": "T", "command": "summarize", "tags": ["x"]}).get_json()
    assert (moved["command"], moved["tags"], moved["version_id"]) == ("summarize", ["x"], second["version_id"])


def test_bad_input_is_a_4xx_with_a_detail(client, admin):
    headers = bearer(admin["token"])
    for body in ({"name": "no command", "content": "x"}, form(command=""), form(tags="notalist"),
                 form(access_grants=[{"principal_type": "team", "principal_id": "x"}])):
        response = client.post(f"{BASE}/create", headers=headers, json=body)
        assert response.status_code == 422 and isinstance(response.get_json()["detail"], str), body
    made = create(client, admin["token"]).get_json()
    for path, body in (("update/version", {}), ("access/update", {"access_grants": "all"}), ("update/meta", {})):
        response = client.post(f"{BASE}/id/{made['id']}/{path}", headers=headers, json=body)
        assert response.status_code == 422 and isinstance(response.get_json()["detail"], str), path
    assert client.get(f"{BASE}/id/{made['id']}/history/diff?from_id=x", headers=headers).status_code == 422


def test_versions_drafts_restore_diff_and_delete(client, admin):
    headers = bearer(admin["token"])
    made = create(client, admin["token"], commit_message=None).get_json()
    first = made["version_id"]
    same = client.post(f"{BASE}/id/{made['id']}/update", headers=headers, json=form()).get_json()
    assert same["version_id"] == first  # nothing changed: no version

    changed = client.post(f"{BASE}/id/{made['id']}/update", headers=headers, json=form(
        content="Summarize in one line.\nKeep names.", commit_message="shorter")).get_json()
    second = changed["version_id"]
    assert second != first and changed["content"].startswith("Summarize in one line")

    draft = client.post(f"{BASE}/id/{made['id']}/update", headers=headers, json=form(
        content="A draft.", is_production=False)).get_json()
    assert draft["version_id"] == second and draft["content"].startswith("Summarize in one line")

    history = client.get(f"{BASE}/id/{made['id']}/history", headers=headers).get_json()
    assert len(history) == 3 and history[-1]["id"] == first
    assert history[-1]["commit_message"] == "Initial version" and history[1]["commit_message"] == "shorter"
    assert history[0]["snapshot"]["content"] == "A draft." and history[0]["parent_id"] == second
    assert history[0]["user"]["id"] == admin["id"] and history[0]["prompt_id"] == made["id"]
    assert client.get(f"{BASE}/id/{made['id']}/history?page=1", headers=headers).get_json() == []

    entry = client.get(f"{BASE}/id/{made['id']}/history/{first}", headers=headers).get_json()
    assert entry["snapshot"]["content"] == "Summarize the text below." and entry["snapshot"]["command"] == "summarize"

    diff = client.get(f"{BASE}/id/{made['id']}/history/diff?from_id={first}&to_id={second}", headers=headers)
    body = diff.get_json()
    assert body["from_id"] == first and body["name_changed"] is False and body["line_endings_only"] is False
    assert "-Summarize the text below." in body["content_diff"] and "+Keep names." in body["content_diff"]

    restored = client.post(f"{BASE}/id/{made['id']}/update/version", headers=headers,
                           json={"version_id": first}).get_json()
    assert restored["version_id"] == first and restored["content"] == "Summarize the text below."

    current = client.delete(f"{BASE}/id/{made['id']}/history/{first}", headers=headers)
    assert current.status_code == 400 and current.get_json()["detail"] == "Cannot delete the active production version"
    assert client.delete(f"{BASE}/id/{made['id']}/history/{second}", headers=headers).get_json() is True
    assert client.get(f"{BASE}/id/{made['id']}/history/{second}", headers=headers).status_code == 404
    history = client.get(f"{BASE}/id/{made['id']}/history", headers=headers).get_json()
    assert [h["parent_id"] for h in history] == [first, None]  # the draft now follows the first version


def test_versions_of_another_prompt_are_not_found(client, admin):
    headers = bearer(admin["token"])
    mine, theirs = create(client, admin["token"]).get_json(), create(client, admin["token"], command="b").get_json()
    for method, path in (("GET", f"history/{theirs['version_id']}"), ("DELETE", f"history/{theirs['version_id']}"),
                         ("GET", f"history/diff?from_id={mine['version_id']}&to_id={theirs['version_id']}")):
        assert client.open(f"{BASE}/id/{mine['id']}/{path}", method=method, headers=headers).status_code == 404
    refused = client.post(f"{BASE}/id/{mine['id']}/update/version", headers=headers,
                          json={"version_id": theirs["version_id"]})
    assert refused.status_code == 404
    assert client.get(f"{BASE}/id/{mine['id']}", headers=headers).get_json()["content"] == mine["content"]


def test_users_need_the_workspace_permission(client, admin, make_user):
    user = make_user()
    refused = create(client, user["token"])
    assert refused.status_code == 401 and refused.get_json()["detail"] == "401 Unauthorized"
    allow_prompts(client, admin)
    assert create(client, user["token"]).status_code == 200


def test_another_user_cannot_reach_a_private_prompt(client, admin, owner, make_user):
    other = make_user("other@example.com")
    made = create(client, owner["token"]).get_json()
    pid, version = made["id"], made["version_id"]
    headers = bearer(other["token"])
    for method, path, body in (
            ("GET", f"/id/{pid}", None), ("POST", f"/id/{pid}/update", form(content="mine now")),
            ("POST", f"/id/{pid}/update/meta", {"name": "x", "command": "x"}),
            ("POST", f"/id/{pid}/update/version", {"version_id": version}),
            ("POST", f"/id/{pid}/access/update", {"access_grants": []}), ("POST", f"/id/{pid}/toggle", None),
            ("DELETE", f"/id/{pid}/delete", None), ("GET", f"/id/{pid}/history", None),
            ("GET", f"/id/{pid}/history/{version}", None), ("DELETE", f"/id/{pid}/history/{version}", None),
            ("GET", f"/id/{pid}/history/diff?from_id={version}&to_id={version}", None)):
        response = client.open(BASE + path, method=method, headers=headers, json=body)
        assert response.status_code == 404, (method, path)
    assert client.get(f"{BASE}/", headers=headers).get_json() == []
    assert client.get(f"{BASE}/list", headers=headers).get_json() == {"items": [], "total": 0}
    assert client.get(f"{BASE}/id/{pid}", headers=bearer(owner["token"])).get_json()["content"] == made["content"]
    assert client.get(f"{BASE}/id/{pid}", headers=bearer(admin["token"])).status_code == 200  # admins see all


def test_grants_let_another_user_read_or_write(client, admin, owner, make_user):
    other = make_user("other@example.com")
    made = create(client, owner["token"], tags=["team"]).get_json()
    pid, headers = made["id"], bearer(other["token"])
    read = [{"principal_type": "user", "principal_id": other["id"], "permission": "read"}]
    shared = client.post(f"{BASE}/id/{pid}/access/update", headers=bearer(admin["token"]),
                         json={"access_grants": read}).get_json()
    assert shared["access_grants"][0]["principal_id"] == other["id"] and shared["access_grants"][0]["id"]

    seen = client.get(f"{BASE}/id/{pid}", headers=headers).get_json()
    assert seen["write_access"] is False
    assert client.get(f"{BASE}/tags", headers=headers).get_json() == ["team"]
    page = client.get(f"{BASE}/list?view_option=shared", headers=headers).get_json()
    assert page["total"] == 1 and page["items"][0]["write_access"] is False
    assert client.get(f"{BASE}/id/{pid}/history", headers=headers).status_code == 200  # readers see versions
    for method, path, body in (("POST", f"/id/{pid}/update", form(content="x")), ("POST", f"/id/{pid}/toggle", None),
                               ("DELETE", f"/id/{pid}/delete", None)):
        assert client.open(BASE + path, method=method, headers=headers, json=body).status_code == 401, path

    write = [{"principal_type": "user", "principal_id": other["id"], "permission": "write"}]
    client.post(f"{BASE}/id/{pid}/access/update", headers=bearer(admin["token"]), json={"access_grants": write})
    changed = client.post(f"{BASE}/id/{pid}/update", headers=headers, json=form(content="Edited by other."))
    assert changed.status_code == 200 and changed.get_json()["user_id"] == owner["id"]
    history = client.get(f"{BASE}/id/{pid}/history", headers=bearer(owner["token"])).get_json()
    assert history[0]["user_id"] == other["id"]


def test_sharing_needs_the_sharing_permissions(client, admin, owner, make_user):
    other = make_user("other@example.com")
    public = [{"principal_type": "user", "principal_id": "*", "permission": "read"}]
    made = create(client, owner["token"], access_grants=public).get_json()
    assert made["access_grants"] == []
    allow_prompts(client, admin, prompts=True)
    direct = [{"principal_type": "user", "principal_id": other["id"], "permission": "read"}]
    refused = client.post(f"{BASE}/id/{made['id']}/access/update", headers=bearer(owner["token"]),
                          json={"access_grants": direct + public})
    assert (refused.status_code, refused.get_json()) == (403, {"detail": access.SHARE_REFUSED})
    kept = client.post(f"{BASE}/id/{made['id']}/access/update", headers=bearer(owner["token"]),
                       json={"access_grants": direct}).get_json()["access_grants"]
    assert [g["principal_id"] for g in kept] == [other["id"]]
    allow_prompts(client, admin, prompts=True, public_prompts=True)
    made = create(client, owner["token"], command="public", access_grants=public).get_json()
    assert made["access_grants"][0]["principal_id"] == "*"
    seen = client.get(f"{BASE}/", headers=bearer(other["token"])).get_json()
    assert sorted(p["command"] for p in seen) == ["public", "summarize"]
