"""Areas the web app lists at boot answer empty instead of breaking the page; banners and avatars work."""
from __future__ import annotations

import base64

import pytest
from sqlalchemy import update

from shared.db import session_scope
from shared.models import User
from tests.helpers import bearer

EMPTY = [
    ("/api/v1/channels/", []), ("/api/v1/terminals/", []),
]


@pytest.mark.parametrize(("path", "empty"), EMPTY)
def test_unbuilt_areas_answer_empty_to_users(app, client, make_user, path, empty):
    user = make_user()
    response = client.get(path, headers=bearer(user["token"]))
    assert response.status_code == 200
    assert response.get_json() == empty
    assert app.test_client().get(path).status_code == 401


BANNER = {"id": "b1", "type": "info", "title": "Hello", "content": "Maintenance at 5", "dismissible": True,
          "timestamp": 1700000000}


def test_banners_default_empty_then_admin_sets_them(client, admin, make_user):
    user = make_user()
    assert client.get("/api/v1/configs/banners", headers=bearer(user["token"])).get_json() == []
    response = client.post("/api/v1/configs/banners", json={"banners": [BANNER]}, headers=bearer(admin["token"]))
    assert response.status_code == 200
    assert response.get_json()[0]["content"] == "Maintenance at 5"
    listed = client.get("/api/v1/configs/banners", headers=bearer(user["token"])).get_json()
    assert listed == [{**BANNER, "i18n": None}]


def test_banners_are_admin_only_and_validated(client, admin, make_user):
    user = make_user()
    assert client.post("/api/v1/configs/banners", json={"banners": [BANNER]},
                       headers=bearer(user["token"])).status_code == 401
    bad = client.post("/api/v1/configs/banners", json={"banners": [{"id": "x"}]}, headers=bearer(admin["token"]))
    assert bad.status_code == 422
    assert "content" in bad.get_json()["detail"]


PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def test_user_profile_image_from_data_url_or_default(client, admin, make_user):
    user = make_user()
    client.post("/api/v1/auths/update/profile", headers=bearer(user["token"]),
                json={"name": "user", "profile_image_url": "data:image/png;base64," + base64.b64encode(PNG).decode()})
    response = client.get(f"/api/v1/users/{user['id']}/profile/image", headers=bearer(admin["token"]))
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data == PNG
    default = client.get(f"/api/v1/users/{admin['id']}/profile/image", headers=bearer(user["token"]))
    assert default.status_code == 302
    assert default.headers["Location"].endswith("/static/user.png")


def test_profile_image_rejects_unsafe_types_and_unknown_users(client, admin):
    refused = client.post("/api/v1/auths/update/profile", headers=bearer(admin["token"]),
                          json={"name": "Admin", "profile_image_url": "data:text/html;base64,PHNjcmlwdD4="})
    assert refused.status_code == 400
    response = client.get(f"/api/v1/users/{admin['id']}/profile/image", headers=bearer(admin["token"]))
    assert response.status_code == 302
    missing = client.get("/api/v1/users/nobody/profile/image", headers=bearer(admin["token"]))
    assert missing.status_code == 404
    assert "detail" in missing.get_json()


REFUSED_PICTURES = [
    "javascript:alert(1)", "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=", "file:///etc/passwd",
    "ftp://example.com/a.png",
    "/static/../api/v1/auths/signout", "/api/v1/auths/signout", "//example.com/a.png", "http://:80/a.png",
    "data:image/png;base64," + "A" * (2 * 1024 * 1024),
]
ACCEPTED_PICTURES = ["", "/user.png", "/favicon.png", "/static/favicon.png", "https://example.com/a.png",
                     "/api/v1/users/some-id/profile/image", "data:image/webp;base64,UklGRg=="]


def test_profile_image_urls_are_checked_where_they_are_set(client, admin, make_user):
    user = make_user()
    admin_headers = bearer(admin["token"])
    for url in REFUSED_PICTURES:
        attempts = [
            client.post("/api/v1/auths/update/profile", headers=bearer(user["token"]),
                        json={"name": "user", "profile_image_url": url}),
            client.post(f"/api/v1/users/{user['id']}/update", headers=admin_headers, json={"profile_image_url": url}),
            client.post("/api/v1/auths/add", headers=admin_headers, json={
                "name": "n", "email": "new@example.com", "password": "pw-123456", "profile_image_url": url}),
            client.post("/api/v1/auths/signup", json={
                "name": "n", "email": "self@example.com", "password": "pw-123456", "profile_image_url": url}),
        ]
        assert [a.status_code for a in attempts] == [400] * 4, url[:60]
        assert all("Invalid profile image URL" in a.get_json()["detail"] for a in attempts), url[:60]
    stored = client.get(f"/api/v1/users/{user['id']}", headers=admin_headers).get_json()["profile_image_url"]
    assert stored == "/user.png"
    for url in ACCEPTED_PICTURES:
        saved = client.post("/api/v1/auths/update/profile", headers=bearer(user["token"]),
                            json={"name": "user", "profile_image_url": url})
        assert saved.status_code == 200 and saved.get_json()["profile_image_url"] == url


def test_a_stored_path_is_never_a_redirect_target(client, admin, make_user):
    user = make_user()
    shown = {}
    for stored in ("/static/../api/v1/auths/signout", "/static/favicon.png", "/favicon.png",
                   f"/api/v1/users/{user['id']}/profile/image", "https://example.com/a.png"):
        with session_scope() as session:  # as stored before it was checked
            session.execute(update(User).where(User.id == user["id"]).values(profile_image_url=stored))
        response = client.get(f"/api/v1/users/{user['id']}/profile/image", headers=bearer(admin["token"]))
        shown[stored] = (response.status_code, response.headers.get("Location"))
    assert shown == {
        "/static/../api/v1/auths/signout": (302, "/static/user.png"),
        "/static/favicon.png": (302, "/static/favicon.png"),
        "/favicon.png": (302, "/static/favicon.png"),
        f"/api/v1/users/{user['id']}/profile/image": (302, "/static/user.png"),
        "https://example.com/a.png": (302, "/static/user.png"),
    }
    assert client.get("/api/v1/auths/", headers=bearer(admin["token"])).status_code == 200


def test_profile_images_use_the_cookie_like_img_tags_do(client, admin):
    client.set_cookie("token", admin["token"])
    response = client.get("/api/v1/models/model/profile/image?id=llama&lang=en-US")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/static/favicon.png")
