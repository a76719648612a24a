"""Accounts: sign-up, sign-in, sign-out, tokens, API keys, roles."""
from __future__ import annotations

import base64
import json
import threading
import time

import jwt

from shared import messages
from tests.helpers import bearer, signup


def test_first_signup_is_admin_and_later_ones_pending(client):
    first = signup(client)
    assert first["role"] == "admin"
    assert first["token_type"] == "Bearer"
    assert first["token"]
    second = signup(client, email="second@example.com")
    assert second["role"] == "pending"


def test_signup_sets_httponly_lax_cookie(client):
    response = client.post("/api/v1/auths/signup", json={"name": "A", "email": "a@example.com", "password": "pw-123456"})
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("token=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_signin_and_session_user_by_header_and_cookie(client, admin):
    signed = client.post("/api/v1/auths/signin", json={"email": "ADMIN@example.com", "password": "s3cret-pass"})
    assert signed.status_code == 200
    token = signed.get_json()["token"]
    by_header = client.get("/api/v1/auths/", headers=bearer(token))
    assert by_header.status_code == 200
    body = by_header.get_json()
    assert body["email"] == "admin@example.com" and body["role"] == "admin"
    assert body["permissions"]["chat"]["controls"] is True
    # the test client kept the cookie from signin
    fresh = client.application.test_client()
    fresh.set_cookie("token", token)
    assert fresh.get("/api/v1/auths/").get_json()["id"] == body["id"]


def test_wrong_password_and_unknown_user_answer_the_same(client, admin):
    wrong = client.post("/api/v1/auths/signin", json={"email": "admin@example.com", "password": "nope"})
    unknown = client.post("/api/v1/auths/signin", json={"email": "ghost@example.com", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.get_json() == unknown.get_json()
    assert "incorrect" in wrong.get_json()["detail"]


def test_failed_signins_are_rate_limited_per_email(client, admin):
    for _ in range(5):
        assert client.post("/api/v1/auths/signin", json={"email": "admin@example.com", "password": "x"}).status_code == 400
    limited = client.post("/api/v1/auths/signin", json={"email": "admin@example.com", "password": "s3cret-pass"})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.get_json()["detail"]
    # another email is not affected
    assert client.post("/api/v1/auths/signin", json={"email": "other@example.com", "password": "x"}).status_code == 400


def test_signout_revokes_the_token(client, admin):
    token = admin["token"]
    assert client.get("/api/v1/auths/", headers=bearer(token)).status_code == 200
    out = client.post("/api/v1/auths/signout", headers=bearer(token))
    assert out.get_json() == {"status": True}
    again = client.get("/api/v1/auths/", headers=bearer(token))
    assert again.status_code == 401
    assert again.get_json()["detail"]


def test_password_change_revokes_earlier_tokens(client, admin):
    old = admin["token"]
    other = client.post("/api/v1/auths/signin", json={"email": "admin@example.com", "password": "s3cret-pass"}).get_json()["token"]
    changed = client.post("/api/v1/auths/update/password", json={"password": "s3cret-pass", "new_password": "n3w-pass"},
                          headers=bearer(old))
    assert changed.status_code == 200 and changed.get_json() is True
    assert client.get("/api/v1/auths/", headers=bearer(old)).status_code == 401
    assert client.get("/api/v1/auths/", headers=bearer(other)).status_code == 401
    assert client.post("/api/v1/auths/signin", json={"email": "admin@example.com", "password": "s3cret-pass"}).status_code == 400
    assert client.post("/api/v1/auths/signin", json={"email": "admin@example.com", "password": "n3w-pass"}).status_code == 200


def test_wrong_current_password_is_refused(client, admin):
    response = client.post("/api/v1/auths/update/password", json={"password": "bad", "new_password": "x2"},
                           headers=bearer(admin["token"]))
    assert response.status_code == 400


def test_expired_forged_and_alg_none_tokens_are_401(client, app, admin):
    claims = jwt.decode(admin["token"], options={"verify_signature": False})
    expired = jwt.encode({**claims, "exp": int(time.time()) - 10}, app.config["JWT_SECRET_KEY"], algorithm="HS256")
    forged = jwt.encode(claims, "not-the-secret", algorithm="HS256")
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    alg_none = f"{header}.{payload}."
    for token in (expired, forged, alg_none, "garbage"):
        response = client.get("/api/v1/auths/", headers=bearer(token))
        assert response.status_code == 401, token
        assert "detail" in response.get_json()


def test_api_key_lifecycle_and_use_as_bearer(client, admin):
    headers = bearer(admin["token"])
    assert client.get("/api/v1/auths/api_key", headers=headers).status_code == 404
    key = client.post("/api/v1/auths/api_key", headers=headers).get_json()["api_key"]
    assert key.startswith("sk-")
    assert client.get("/api/v1/auths/api_key", headers=headers).get_json() == {"api_key": key}
    me = client.get("/api/v1/auths/", headers=bearer(key))
    assert me.status_code == 200 and me.get_json()["email"] == "admin@example.com"
    assert client.get("/api/v1/users/", headers=bearer(key)).status_code == 200
    assert client.delete("/api/v1/auths/api_key", headers=headers).get_json() is True
    assert client.get("/api/v1/auths/", headers=bearer(key)).status_code == 401


def test_api_keys_can_be_disabled(client, admin):
    headers = bearer(admin["token"])
    key = client.post("/api/v1/auths/api_key", headers=headers).get_json()["api_key"]
    assert client.post("/api/v1/auths/admin/config", json={"ENABLE_API_KEYS": False}, headers=headers).status_code == 200
    assert client.get("/api/v1/auths/", headers=bearer(key)).status_code == 403
    assert client.post("/api/v1/auths/api_key", headers=headers).status_code == 403


def test_users_without_the_api_keys_permission_neither_manage_nor_use_keys(client, admin, make_user):
    user = make_user()
    headers = bearer(user["token"])
    key = client.post("/api/v1/auths/api_key", headers=headers).get_json()["api_key"]
    admin_key = client.post("/api/v1/auths/api_key", headers=bearer(admin["token"])).get_json()["api_key"]
    assert client.get("/api/v1/auths/", headers=bearer(key)).status_code == 200
    switched_off = client.post("/api/v1/users/default/permissions", json={"features": {"api_keys": False}},
                               headers=bearer(admin["token"]))
    assert switched_off.get_json()["features"]["api_keys"] is False

    used = client.get("/api/v1/auths/", headers=bearer(key))
    assert used.status_code == 403 and used.get_json() == {"detail": messages.API_KEY_NOT_ALLOWED}
    assert client.get("/api/v1/chats/", headers=bearer(key)).status_code == 403
    for method in ("post", "get", "delete"):
        managed = getattr(client, method)("/api/v1/auths/api_key", headers=headers)
        assert managed.status_code == 403, method
        assert managed.get_json() == {"detail": messages.API_KEY_CREATION_NOT_ALLOWED}
    assert client.get("/api/v1/auths/", headers=headers).status_code == 200  # the session itself still works

    # admins are exempt from the permission (not from ENABLE_API_KEYS)
    assert client.get("/api/v1/auths/", headers=bearer(admin_key)).status_code == 200
    assert client.post("/api/v1/auths/api_key", headers=bearer(admin["token"])).status_code == 200


def test_pending_user_sees_only_own_session(client, admin):
    pending = signup(client, email="p@example.com")
    headers = bearer(pending["token"])
    assert client.get("/api/v1/auths/", headers=headers).status_code == 200
    for path in ("/api/v1/users/user/settings", "/api/v1/users/permissions", "/api/v1/auths/api_key", "/api/v1/users/"):
        assert client.get(path, headers=headers).status_code == 401, path


def test_a_pending_account_learns_whom_to_ask(client, admin):
    pending = bearer(signup(client, email="p@example.com", name="Pat")["token"])
    details = client.get("/api/v1/auths/admin/details", headers=pending)
    assert details.status_code == 200 and details.get_json() == {"name": admin["name"], "email": admin["email"]}
    headers = bearer(admin["token"])
    for changes, answer in (({"ADMIN_EMAIL": "p@example.com"}, {"name": "Pat", "email": "p@example.com"}),
                            ({"ADMIN_EMAIL": "help@example.com"}, {"name": None, "email": "help@example.com"})):
        client.post("/api/v1/auths/admin/config", json=changes, headers=headers)
        assert client.get("/api/v1/auths/admin/details", headers=pending).get_json() == answer
    client.post("/api/v1/auths/admin/config", json={"SHOW_ADMIN_DETAILS": False}, headers=headers)
    hidden = client.get("/api/v1/auths/admin/details", headers=pending)
    assert hidden.status_code == 400 and hidden.get_json() == {"detail": messages.ACTION_PROHIBITED}


def test_admin_config_roundtrip_and_validation(client, admin):
    headers = bearer(admin["token"])
    config = client.get("/api/v1/auths/admin/config", headers=headers).get_json()
    assert config["ENABLE_SIGNUP"] is True and config["DEFAULT_USER_ROLE"] == "pending"
    assert config["JWT_EXPIRES_IN"] == "4w" and config["ENABLE_API_KEYS"] is True
    updated = client.post("/api/v1/auths/admin/config",
                          json={"DEFAULT_USER_ROLE": "user", "JWT_EXPIRES_IN": "1h"}, headers=headers).get_json()
    assert updated["DEFAULT_USER_ROLE"] == "user" and updated["JWT_EXPIRES_IN"] == "1h"
    assert signup(client, email="u2@example.com")["role"] == "user"
    token = client.post("/api/v1/auths/signin", json={"email": "admin@example.com", "password": "s3cret-pass"}).get_json()
    assert 3500 <= token["expires_at"] - time.time() <= 3601
    bad_role = client.post("/api/v1/auths/admin/config", json={"DEFAULT_USER_ROLE": "god"}, headers=headers)
    assert bad_role.status_code == 422 and "DEFAULT_USER_ROLE" in bad_role.get_json()["detail"]
    bad_exp = client.post("/api/v1/auths/admin/config", json={"JWT_EXPIRES_IN": "soon"}, headers=headers)
    assert bad_exp.status_code == 400
    absurd = client.post("/api/v1/auths/admin/config", json={"JWT_EXPIRES_IN": "9" * 30 + "w"}, headers=headers)
    assert absurd.status_code == 400 and "-1 for no expiry" in absurd.get_json()["detail"]


def test_an_absurd_stored_or_environment_jwt_lifetime_is_clamped_at_sign_in(client, admin):
    from shared.db import session_scope
    from shared.services import app_config

    for stored, clamped in (("9" * 30 + "w", True), ("whenever", False)):
        with session_scope() as session:  # what an environment value or a value set before the check gives
            app_config.set_many(session, {"auth.jwt_expires_in": stored})
        signed = client.post("/api/v1/auths/signin", json={"email": "admin@example.com", "password": "s3cret-pass"})
        assert signed.status_code == 200, signed.get_json()
        lifetime = signed.get_json()["expires_at"] - time.time()
        expected = 36500 * 86400 if clamped else 4 * 7 * 86400  # clamped to 36500 days, else the default
        assert abs(lifetime - expected) < 2 * 86400, (stored, lifetime)


def test_signup_can_be_disabled(client, admin):
    client.post("/api/v1/auths/admin/config", json={"ENABLE_SIGNUP": False}, headers=bearer(admin["token"]))
    response = client.post("/api/v1/auths/signup", json={"name": "B", "email": "b@example.com", "password": "pw"})
    assert response.status_code == 403


def test_duplicate_and_invalid_email(client, admin):
    dup = client.post("/api/v1/auths/signup", json={"name": "A", "email": "Admin@Example.com", "password": "pw"})
    assert dup.status_code == 400 and "already registered" in dup.get_json()["detail"]
    bad = client.post("/api/v1/auths/signup", json={"name": "A", "email": "not-an-email", "password": "pw"})
    assert bad.status_code == 400 and "email" in bad.get_json()["detail"]


def test_add_user_is_admin_only(client, admin, make_user):
    user = make_user()
    response = client.post("/api/v1/auths/add", json={"name": "x", "email": "x@example.com", "password": "pw"},
                           headers=bearer(user["token"]))
    assert response.status_code == 401


def test_update_profile(client, admin):
    response = client.post("/api/v1/auths/update/profile",
                           json={"name": "Boss", "profile_image_url": "/user.png", "bio": "hi"},
                           headers=bearer(admin["token"]))
    assert response.status_code == 200 and response.get_json()["name"] == "Boss"
    assert client.get("/api/v1/auths/", headers=bearer(admin["token"])).get_json()["bio"] == "hi"


def test_concurrent_first_signups_make_exactly_one_admin(app):
    results: list[dict] = []
    lock = threading.Lock()

    def register(i: int) -> None:
        client = app.test_client()
        response = client.post("/api/v1/auths/signup",
                               json={"name": f"u{i}", "email": f"race{i}@example.com", "password": "pw-race"})
        with lock:
            results.append(response.get_json())

    threads = [threading.Thread(target=register, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    roles = [r["role"] for r in results]
    assert len(roles) == 20
    assert roles.count("admin") == 1
