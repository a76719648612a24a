"""Admin user management and each user's settings."""
from __future__ import annotations

from sqlalchemy import update

from shared import messages
from shared.db import session_scope
from shared.models import User
from shared.services import accounts
from tests.helpers import bearer


def _nested(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels):
        value = {"a": value}
    return value


def test_list_users_paginated_and_searchable(client, admin):
    headers = bearer(admin["token"])
    with session_scope() as session:  # more accounts than sign-ups one address may make in a minute
        for i in range(35):
            accounts.signup(session, name=f"Person {i:02d}", email=f"person{i:02d}@example.com", password="pw")
    page1 = client.get("/api/v1/users/", headers=headers).get_json()
    assert page1["total"] == 36 and len(page1["users"]) == 30
    assert page1["users"][0]["group_ids"] == []
    page2 = client.get("/api/v1/users/?page=2", headers=headers).get_json()
    assert len(page2["users"]) == 6
    assert not {u["id"] for u in page1["users"]} & {u["id"] for u in page2["users"]}
    found = client.get("/api/v1/users/?query=person 07", headers=headers).get_json()
    assert found["total"] == 1 and found["users"][0]["email"] == "person07@example.com"
    by_name = client.get("/api/v1/users/?order_by=name&direction=desc", headers=headers).get_json()
    assert by_name["users"][0]["name"] == "Person 34"
    assert client.get("/api/v1/users/?page=0", headers=headers).status_code == 422


def test_admin_routes_answer_401_to_plain_users(client, make_user):
    user = make_user()
    headers = bearer(user["token"])
    assert client.get("/api/v1/users/", headers=headers).status_code == 401
    assert client.get(f"/api/v1/users/{user['id']}", headers=headers).status_code == 401
    assert client.post(f"/api/v1/users/{user['id']}/update", json={"role": "admin"}, headers=headers).status_code == 401
    assert client.delete(f"/api/v1/users/{user['id']}", headers=headers).status_code == 401
    assert client.get("/api/v1/users/default/permissions", headers=headers).status_code == 401


def test_get_update_and_unknown_user(client, admin, make_user):
    headers = bearer(admin["token"])
    user = make_user()
    got = client.get(f"/api/v1/users/{user['id']}", headers=headers).get_json()
    assert got["email"] == "user@example.com" and got["role"] == "user"
    updated = client.post(f"/api/v1/users/{user['id']}/update",
                          json={"name": "Renamed", "email": "renamed@example.com", "role": "pending"}, headers=headers)
    assert updated.status_code == 200
    assert updated.get_json()["name"] == "Renamed" and updated.get_json()["role"] == "pending"
    assert client.post("/api/v1/auths/signin", json={"email": "renamed@example.com", "password": "user-pass-1"}).status_code == 200
    assert client.get("/api/v1/users/no-such-id", headers=headers).status_code == 404
    assert client.post("/api/v1/users/no-such-id/update", json={"name": "x"}, headers=headers).status_code == 404
    assert client.delete("/api/v1/users/no-such-id", headers=headers).status_code == 404


def test_admin_password_reset_revokes_user_tokens(client, admin, make_user):
    user = make_user()
    client.post(f"/api/v1/users/{user['id']}/update", json={"password": "reset-pass"}, headers=bearer(admin["token"]))
    assert client.get("/api/v1/auths/", headers=bearer(user["token"])).status_code == 401
    assert client.post("/api/v1/auths/signin", json={"email": "user@example.com", "password": "reset-pass"}).status_code == 200


def test_email_taken_on_update(client, admin, make_user):
    user = make_user()
    response = client.post(f"/api/v1/users/{user['id']}/update", json={"email": "admin@example.com"},
                           headers=bearer(admin["token"]))
    assert response.status_code == 400


def test_first_admin_keeps_role_and_cannot_delete_self_or_last_admin(client, admin, make_user):
    headers = bearer(admin["token"])
    other_admin = make_user(email="admin2@example.com", role="admin")
    demote = client.post(f"/api/v1/users/{admin['id']}/update", json={"role": "user"}, headers=bearer(other_admin["token"]))
    assert demote.status_code == 403
    assert client.delete(f"/api/v1/users/{admin['id']}", headers=headers).status_code == 403
    assert client.delete(f"/api/v1/users/{other_admin['id']}", headers=headers).get_json() is True
    assert client.get("/api/v1/users/", headers=headers).get_json()["total"] == 1


def test_a_second_admin_cannot_take_over_or_delete_the_primary_admin(client, admin, make_user):
    primary = bearer(admin["token"])
    second = make_user(email="admin2@example.com", role="admin")
    for change in ({"name": "Mallory"}, {"email": "mallory@example.com"}, {"password": "taken-over-1"},
                   {"profile_image_url": "/user.png"}, {"role": "admin"}):
        response = client.post(f"/api/v1/users/{admin['id']}/update", json=change, headers=bearer(second["token"]))
        assert response.status_code == 403, change
        assert response.get_json() == {"detail": messages.ACTION_PROHIBITED}
    assert client.delete(f"/api/v1/users/{admin['id']}", headers=bearer(second["token"])).status_code == 403
    kept = client.get(f"/api/v1/users/{admin['id']}", headers=primary).get_json()
    assert (kept["name"], kept["email"], kept["role"]) == ("Admin", "admin@example.com", "admin")
    signin = client.post("/api/v1/auths/signin", json={"email": "admin@example.com", "password": "s3cret-pass"})
    assert signin.status_code == 200
    assert client.get("/api/v1/auths/", headers=primary).status_code == 200  # its sessions were not revoked

    # the primary admin changes itself (but stays admin) and the other admins
    renamed = client.post(f"/api/v1/users/{admin['id']}/update", json={"name": "Owner"}, headers=primary)
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Owner"
    assert client.post(f"/api/v1/users/{admin['id']}/update", json={"role": "user"}, headers=primary).status_code == 403
    deputy = client.post(f"/api/v1/users/{second['id']}/update", json={"name": "Deputy"}, headers=primary)
    assert deputy.status_code == 200
    assert client.delete(f"/api/v1/users/{second['id']}", headers=primary).get_json() is True


def test_deleting_a_user_ends_its_access(client, admin, make_user):
    user = make_user()
    assert client.delete(f"/api/v1/users/{user['id']}", headers=bearer(admin["token"])).status_code == 200
    assert client.get("/api/v1/auths/", headers=bearer(user["token"])).status_code == 401


def test_user_settings_roundtrip_are_per_user(client, admin, make_user):
    user = make_user()
    headers = bearer(user["token"])
    assert client.get("/api/v1/users/user/settings", headers=headers).get_json() is None
    saved = client.post("/api/v1/users/user/settings/update",
                        json={"ui": {"version": "0.12.4", "models": ["m"]}, "keybindings": {"a": 1}}, headers=headers)
    assert saved.get_json() == {"ui": {"version": "0.12.4", "models": ["m"]}, "keybindings": {"a": 1}}
    assert client.get("/api/v1/users/user/settings", headers=headers).get_json()["ui"]["models"] == ["m"]
    assert client.get("/api/v1/users/user/settings", headers=bearer(admin["token"])).get_json() is None


def test_permissions_and_defaults(client, admin, make_user):
    user = make_user()
    mine = client.get("/api/v1/users/permissions", headers=bearer(user["token"])).get_json()
    assert mine["chat"]["delete"] is True and mine["features"]["api_keys"] is True
    headers = bearer(admin["token"])
    changed = client.post("/api/v1/users/default/permissions", json={"chat": {"delete": False}}, headers=headers)
    assert changed.get_json()["chat"]["delete"] is False
    assert changed.get_json()["chat"]["edit"] is True
    assert client.get("/api/v1/users/permissions", headers=bearer(user["token"])).get_json()["chat"]["delete"] is False


def test_settings_nested_hundreds_deep_are_refused_and_a_stored_one_locks_nobody_out(client, admin, make_user):
    headers = bearer(admin["token"])
    refused = client.post("/api/v1/users/user/settings/update", json={"ui": _nested(300)}, headers=headers)
    assert refused.status_code == 400 and "nested deeper" in refused.get_json()["detail"]
    assert client.get("/api/v1/users/user/settings", headers=headers).get_json() is None  # nothing was stored

    user = make_user()
    with session_scope() as session:  # as stored before requests were bounded
        session.execute(update(User).where(User.id == user["id"]).values(settings={"ui": _nested(900)}))
    user_headers = bearer(user["token"])
    assert client.get("/api/v1/auths/", headers=user_headers).status_code == 200
    assert client.get("/api/v1/users/user/settings", headers=user_headers).get_json() == {}
    saved = client.post("/api/v1/users/user/settings/update", json={"ui": {"theme": "dark"}}, headers=user_headers)
    assert saved.status_code == 200 and saved.get_json() == {"ui": {"theme": "dark"}}


def test_group_views_of_users(client, admin, make_user):
    """The user list carries each user's groups; users see each other's info and their own groups; admins see
    anyone's groups and what a user may use."""
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    admin_headers = bearer(admin["token"])
    parent = client.post("/api/v1/groups/create", headers=admin_headers,
                         json={"name": "Org", "description": ""}).get_json()
    team = client.post("/api/v1/groups/create", headers=admin_headers,
                       json={"name": "Team", "description": "", "parent_group_id": parent["id"]}).get_json()
    client.post(f"/api/v1/groups/id/{team['id']}/users/add", headers=admin_headers, json={"user_ids": [alice["id"]]})
    kb = client.post("/api/v1/knowledge/create", headers=admin_headers, json={
        "name": "Org handbook", "description": "",
        "access_grants": [{"principal_type": "group", "principal_id": parent["id"], "permission": "read"}]}).get_json()

    listed = {u["id"]: u for u in client.get("/api/v1/users/", headers=admin_headers).get_json()["users"]}
    assert listed[alice["id"]]["group_ids"] == [team["id"]] and listed[bob["id"]]["group_ids"] == []
    assert client.get("/api/v1/users/all", headers=admin_headers).get_json()["total"] == 3

    found = client.get("/api/v1/users/search?query=ali", headers=bearer(bob["token"])).get_json()
    assert [u["email"] for u in found["users"]] == ["alice@example.com"] and "settings" not in found["users"][0]
    info = client.get(f"/api/v1/users/{alice['id']}/info", headers=bearer(bob["token"])).get_json()
    assert info["groups"] == [{"id": team["id"], "name": "Team"}] and info["is_active"] is True
    full = client.get(f"/api/v1/users/{alice['id']}", headers=admin_headers).get_json()
    assert full["groups"] == info["groups"] and full["is_active"] is True and full["email"] == "alice@example.com"
    unknown = client.get("/api/v1/users/nobody/info", headers=bearer(bob["token"]))
    assert unknown.status_code == 400
    assert client.get(f"/api/v1/users/{alice['id']}/active", headers=bearer(bob["token"])).get_json() == {
        "active": True}

    mine = client.get("/api/v1/users/groups?include_inherited=true", headers=bearer(alice["token"])).get_json()
    assert {(g["name"], g["membership_type"]) for g in mine} == {("Team", "direct"), ("Org", "inherited")}
    assert [g["name"] for g in client.get("/api/v1/users/groups", headers=bearer(alice["token"])).get_json()] == [
        "Team"]
    assert client.get(f"/api/v1/users/{alice['id']}/groups", headers=bearer(bob["token"])).status_code == 401
    assert [g["name"] for g in client.get(f"/api/v1/users/{alice['id']}/groups", headers=admin_headers)
            .get_json()] == ["Team"]

    preview = client.get(f"/api/v1/users/{alice['id']}/preview", headers=admin_headers).get_json()
    assert preview["knowledge"] == {"items": [{"id": kb["id"], "name": "Org handbook"}], "total": 1}
    assert {g["name"] for g in preview["groups"]} == {"Team", "Org"}
    assert client.get(f"/api/v1/users/{bob['id']}/preview", headers=admin_headers).get_json()["knowledge"][
        "items"] == []
    defaults = client.get("/api/v1/users/default/permissions/defaults", headers=admin_headers).get_json()
    assert defaults["chat"]["delete"] is True and defaults["workspace"]["models"] is False


def test_settings_keep_a_system_prompt_only_with_the_permissions(client, admin, make_user):
    alice = make_user("alice@example.com")
    headers = bearer(alice["token"])
    client.post("/api/v1/users/default/permissions", headers=bearer(admin["token"]),
                json={"chat": {"system_prompt": False}})
    body = {"ui": {"system": "Be terse.", "toolServers": [{"url": "http://x"}], "theme": "dark"}}
    saved = client.post("/api/v1/users/user/settings/update", headers=headers, json=body).get_json()
    assert saved["ui"] == {"theme": "dark"}
    group = client.post("/api/v1/groups/create", headers=bearer(admin["token"]), json={
        "name": "Prompters", "description": "", "permissions": {"chat": {"system_prompt": True}}}).get_json()
    client.post(f"/api/v1/groups/id/{group['id']}/users/add", headers=bearer(admin["token"]),
                json={"user_ids": [alice["id"]]})
    saved = client.post("/api/v1/users/user/settings/update", headers=headers, json=body).get_json()
    assert saved["ui"] == {"system": "Be terse.", "theme": "dark"}


def test_revoking_a_users_sessions_signs_it_out_everywhere(client, admin, make_user):
    alice = make_user("alice@example.com")
    admin_headers = bearer(admin["token"])
    assert client.get("/api/v1/auths/", headers=bearer(alice["token"])).status_code == 200
    assert client.post(f"/api/v1/users/{alice['id']}/sessions/revoke", headers=admin_headers).get_json() is True
    assert client.get("/api/v1/auths/", headers=bearer(alice["token"])).status_code == 401
    missing = client.post("/api/v1/users/nobody/sessions/revoke", headers=admin_headers)
    assert missing.status_code == 404 and missing.get_json()["detail"] == "User not found."
    second_admin = make_user("second@example.com", role="admin")
    refused = client.post(f"/api/v1/users/{admin['id']}/sessions/revoke", headers=bearer(second_admin["token"]))
    assert refused.status_code == 403


def test_a_user_keeps_prompt_variables_and_merges_info(client, make_user):
    user = make_user()
    auth = bearer(user["token"])
    assert client.get("/api/v1/users/user/variables", headers=auth).get_json() == {"variables": {}}
    saved = client.post("/api/v1/users/user/variables/update", headers=auth,
                        json={"variables": {"team": "Ops\r\nnight", "city": "Oslo"}})
    assert saved.get_json() == {"variables": {"team": "Ops\nnight", "city": "Oslo"}}
    assert client.get("/api/v1/users/user/variables", headers=auth).get_json()["variables"]["city"] == "Oslo"
    for bad in ({"Team": "x"}, {"team": 1}, {"team": "x" * 20_001}):
        refused = client.post("/api/v1/users/user/variables/update", headers=auth, json={"variables": bad})
        assert refused.status_code == 400 and "variable" in refused.get_json()["detail"]
    client.post("/api/v1/users/user/info/update", headers=auth, json={"location": "Oslo"})
    merged = client.post("/api/v1/users/user/info/update", headers=auth, json={"title": "SRE"}).get_json()
    assert merged == {"location": "Oslo", "title": "SRE"}
    assert client.get("/api/v1/users/user/info", headers=auth).get_json() == merged


def test_statuses_are_off_and_no_oauth_sessions_are_kept(client, admin, make_user):
    user = make_user()
    assert client.get("/api/v1/users/user/status", headers=bearer(user["token"])).status_code == 403
    answer = client.get(f"/api/v1/users/{user['id']}/oauth/sessions", headers=bearer(admin["token"]))
    assert answer.status_code == 400
    assert client.get(f"/api/v1/users/{user['id']}/oauth/sessions", headers=bearer(user["token"])).status_code == 401
