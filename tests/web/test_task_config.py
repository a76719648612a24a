"""/api/v1/tasks/config: read by users, changed by admins, in Open WebUI's field names."""
from __future__ import annotations

from tests.helpers import bearer


def test_defaults(client, admin):
    config = client.get("/api/v1/tasks/config", headers=bearer(admin["token"])).get_json()
    assert config["ENABLE_TITLE_GENERATION"] is True
    assert config["ENABLE_TAGS_GENERATION"] is True and config["ENABLE_FOLLOW_UP_GENERATION"] is True
    assert config["TASK_MODEL"] == "" and config["TITLE_GENERATION_PROMPT_TEMPLATE"] == ""
    assert len(config) == 19


def test_admin_updates_users_read(client, admin, make_user):
    user = make_user()
    response = client.post("/api/v1/tasks/config/update", headers=bearer(admin["token"]),
                           json={"ENABLE_TAGS_GENERATION": False, "TASK_MODEL": "small", "unknown": 1})
    assert response.status_code == 200
    assert response.get_json()["ENABLE_TAGS_GENERATION"] is False
    seen = client.get("/api/v1/tasks/config", headers=bearer(user["token"])).get_json()
    assert seen["TASK_MODEL"] == "small" and seen["ENABLE_TITLE_GENERATION"] is True


def test_only_admins_update_and_bad_values_are_422(app, client, admin, make_user):
    user = make_user()
    assert client.post("/api/v1/tasks/config/update", headers=bearer(user["token"]),
                       json={"TASK_MODEL": "x"}).status_code == 401
    bad = client.post("/api/v1/tasks/config/update", headers=bearer(admin["token"]),
                      json={"ENABLE_TITLE_GENERATION": "maybe"})
    assert bad.status_code == 422 and "ENABLE_TITLE_GENERATION" in bad.get_json()["detail"]
    assert app.test_client().get("/api/v1/tasks/config").status_code == 401
