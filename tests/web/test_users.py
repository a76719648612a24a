"""Admin user management and each user's settings."""
from __future__ import annotations

from sqlalchemy import update

from shared import messages
from shared.db import session_scope
from shared.models import User
from tests.helpers import bearer, signup


def _nested(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels):
        value = {"a": value}
    return value


def test_list_users_paginated_and_searchable(client, admin):
    headers = bearer(admin["token"])
    for i in range(35):
        signup(client, email=f"person{i:02d}@example.com", name=f"Person {i:02d}")
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
