"""Every error is {"detail": ...} with a fitting status; bad input never reaches a 500."""
from __future__ import annotations

from tests.helpers import bearer


def test_unknown_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Not Found"}


def test_wrong_method_is_json_405(client):
    response = client.delete("/api/v1/auths/signin")
    assert response.status_code == 405
    assert response.get_json() == {"detail": "Method Not Allowed"}
    assert "POST" in response.headers["Allow"]


def test_malformed_json_is_400(client):
    response = client.post("/api/v1/auths/signin", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.get_json()["detail"]


def test_missing_field_is_422_naming_it(client):
    response = client.post("/api/v1/auths/signup", json={"name": "x", "password": "p"})
    assert response.status_code == 422
    assert "email" in response.get_json()["detail"]


def test_wrong_type_is_422_naming_it(client):
    response = client.post("/api/v1/auths/signup", json={"name": "x", "email": 5, "password": "p"})
    assert response.status_code == 422
    assert "email" in response.get_json()["detail"]


def test_body_that_is_not_an_object_is_422(client):
    response = client.post("/api/v1/auths/signin", json=["a", "b"])
    assert response.status_code == 422
    assert response.get_json()["detail"]


def test_oversized_body_is_413(client, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/api/v1/auths/signin", data=b"x" * (limit + 1), content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["detail"]


def test_missing_credentials_are_401(client):
    response = client.get("/api/v1/auths/")
    assert response.status_code == 401
    assert response.get_json()["detail"]


def test_unknown_api_key_is_401(client, admin):
    assert client.get("/api/v1/auths/", headers=bearer("sk-unknown")).status_code == 401


def test_empty_body_on_json_route_is_422(client):
    response = client.post("/api/v1/auths/signin")
    assert response.status_code == 422


def test_open_webui_route_not_built_is_501_naming_it(client, admin):
    response = client.post("/api/v1/channels/create", json={}, headers=bearer(admin["token"]))
    assert response.status_code == 501
    assert response.get_json() == {
        "detail": "POST /api/v1/channels/create is part of Open WebUI's API that Switchyard has not built yet."}


def test_only_open_webui_routes_are_501(client, admin):
    headers = bearer(admin["token"])
    assert client.get("/api/v1/channels/users/someone", headers=headers).status_code == 501
    assert client.delete("/api/v1/channels/create", headers=headers).status_code == 404  # no such method there
    assert client.get("/api/v1/chats/no-such-chat", headers=headers).status_code == 404  # built, unknown object
