"""Health, readiness, version, client config and the OpenAPI document."""
from __future__ import annotations

from tests.helpers import bearer, signup


def test_health_endpoints(client):
    assert client.get("/health").get_json() == {"status": True}
    assert client.get("/health/db").get_json() == {"status": True}
    assert client.get("/ready").get_json() == {"status": True}


def test_version(client):
    assert client.get("/api/version").get_json()["version"] == "0.12.4"


def test_config_onboarding_until_first_user(client):
    before = client.get("/api/config").get_json()
    assert before["onboarding"] is True
    assert before["features"]["enable_signup"] is True and before["features"]["auth"] is True
    assert "enable_api_keys" not in before["features"]
    signup(client)
    fresh = client.application.test_client()
    assert "onboarding" not in fresh.get("/api/config").get_json()


def test_config_for_signed_in_user_by_cookie(client):
    admin = signup(client)
    fresh = client.application.test_client()
    fresh.set_cookie("token", admin["token"])
    config = fresh.get("/api/config").get_json()
    assert config["features"]["enable_api_keys"] is True
    assert config["permissions"]["chat"]["controls"] is True
    assert isinstance(config["default_models"], str)
    assert config["file"]["max_size"] == 100  # MB, the retrieval settings' FILE_MAX_SIZE


def test_config_with_stale_token_reads_as_signed_out(client):
    admin = signup(client)
    client.post("/api/v1/auths/signout", headers=bearer(admin["token"]))
    config = client.application.test_client().get("/api/config", headers=bearer(admin["token"]))
    assert config.status_code == 200 and "enable_api_keys" not in config.get_json()["features"]


def test_openapi_document_lists_the_areas(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["info"]["title"] == "Switchyard"
    for path in ("/api/v1/auths/signin", "/api/v1/users/", "/health"):
        assert path in spec["paths"], path
    assert client.get("/docs").status_code == 200
