"""``/api/v1/models``: custom models and upstream model settings, their access grants and versions, and how
they appear in ``/api/models``."""
from __future__ import annotations

import base64

import pytest

from tests.helpers import bearer
from tests.web.roles import Caller, configure_models

BASE = "visible-gpt"
HIDDEN = "hidden-gpt"
PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG fake").decode()


@pytest.fixture
def models(client, admin) -> None:
    """The sweep's two connections and their models (visible-* opened to users, hidden-* not)."""
    configure_models(client, Caller(admin["id"], admin["email"], "admin", admin["token"]))


def preset(model_id: str = "helper", **extra) -> dict:
    return {"id": model_id, "base_model_id": BASE, "name": "Helper", "meta": {"description": "helps"},
            "params": {"system": "You are {{USER_NAME}}'s helper.", "temperature": 0.3}, **extra}


def create(client, token: str, **form):
    return client.post("/api/v1/models/create", headers=bearer(token), json=preset(**form))


def listed_ids(client, token: str) -> list[str]:
    return [m["id"] for m in client.get("/api/models", headers=bearer(token)).get_json()["data"]]


def allow_models(client, admin, **more) -> None:
    response = client.post("/api/v1/users/default/permissions", headers=bearer(admin["token"]),
                           json={"workspace": {"models": True, **more}})
    assert response.status_code == 200


def test_create_read_update_delete(client, admin, models):
    made = create(client, admin["token"]).get_json()
    assert (made["id"], made["base_model_id"], made["user_id"], made["is_active"]) == ("helper", BASE, admin["id"],
                                                                                        True)
    assert made["params"]["system"].startswith("You are") and made["version_id"]
    got = client.get("/api/v1/models/model?id=helper", headers=bearer(admin["token"])).get_json()
    assert got["write_access"] is True and got["meta"]["description"] == "helps"

    changed = client.post("/api/v1/models/model/update", headers=bearer(admin["token"]),
                          json={**preset(), "name": "Renamed", "meta": {"tags": ["work", {"name": "daily"}]}}).get_json()
    assert changed["name"] == "Renamed" and changed["base_model_id"] == BASE
    assert changed["meta"]["tags"] == [{"name": "work"}, {"name": "daily"}]
    assert client.get("/api/v1/models/tags", headers=bearer(admin["token"])).get_json() == ["daily", "work"]

    page = client.get("/api/v1/models/list?tag=work", headers=bearer(admin["token"])).get_json()
    assert page["total"] == 1 and page["items"][0]["user"]["id"] == admin["id"]
    assert client.get("/api/v1/models/list?query=nomatch", headers=bearer(admin["token"])).get_json()["total"] == 0

    assert client.post("/api/v1/models/model/delete", headers=bearer(admin["token"]),
                       json={"id": "helper"}).get_json() is True
    assert client.get("/api/v1/models/model?id=helper", headers=bearer(admin["token"])).status_code == 404


def test_bad_input_and_taken_ids(client, admin, make_user, models):
    assert client.post("/api/v1/models/create", headers=bearer(admin["token"]),
                       json={"id": "no name", "meta": {}, "params": {}}).status_code == 422
    assert create(client, admin["token"], model_id="has space").status_code == 422
    too_long = create(client, admin["token"], model_id="x" * 300)
    assert too_long.status_code == 400 and "too long" in too_long.get_json()["detail"]
    assert create(client, admin["token"]).status_code == 200
    assert create(client, admin["token"]).status_code == 401  # taken

    user = make_user()
    assert create(client, user["token"], model_id="mine").status_code == 401  # no workspace.models permission
    allow_models(client, admin)
    assert create(client, user["token"], model_id="mine", base_model_id=None).status_code == 401  # users: presets only
    assert create(client, user["token"], model_id=BASE).status_code == 401  # an upstream model's id
    assert create(client, user["token"], model_id="mine").status_code == 200


def test_private_until_shared_and_params_hidden_from_readers(client, admin, make_user, models):
    allow_models(client, admin, models_export=True)
    owner, other = make_user("owner@example.com"), make_user("other@example.com")
    assert create(client, owner["token"], model_id="owned").status_code == 200
    assert "owned" in listed_ids(client, owner["token"]) and "owned" not in listed_ids(client, other["token"])
    for method, path, body in (("GET", "/api/v1/models/model?id=owned", None),
                               ("GET", "/api/v1/models/model/history?id=owned", None),
                               ("POST", "/api/v1/models/model/toggle?id=owned", None),
                               ("POST", "/api/v1/models/model/update", preset("owned")),
                               ("POST", "/api/v1/models/model/delete", {"id": "owned"})):
        assert client.open(path, method=method, headers=bearer(other["token"]), json=body).status_code == 404, path
    assert client.get("/api/v1/models/export?ids=owned", headers=bearer(other["token"])).status_code == 403

    grant = [{"principal_type": "user", "principal_id": other["id"], "permission": "read"}]
    shared = client.post("/api/v1/models/model/access/update", headers=bearer(admin["token"]),
                         json={"id": "owned", "access_grants": grant}).get_json()
    assert shared["access_grants"][0]["principal_id"] == other["id"]
    seen = client.get("/api/v1/models/model?id=owned", headers=bearer(other["token"])).get_json()
    assert seen["write_access"] is False and seen["params"] == {}
    assert "owned" in listed_ids(client, other["token"])
    assert client.post("/api/v1/models/model/update", headers=bearer(other["token"]),
                       json=preset("owned")).status_code == 401

    # a preset over a model the user may not use is not theirs to use either
    client.post("/api/v1/models/model/update", headers=bearer(admin["token"]),
                json={**preset("owned"), "base_model_id": HIDDEN})
    assert "owned" not in listed_ids(client, other["token"])


def test_plain_users_cannot_share_without_the_sharing_permission(client, admin, make_user, models):
    allow_models(client, admin)
    owner, other = make_user("owner@example.com"), make_user("other@example.com")
    grant = [{"principal_type": "user", "principal_id": "*", "permission": "read"}]
    made = create(client, owner["token"], model_id="owned", access_grants=grant).get_json()
    assert made["access_grants"] == []
    assert "owned" not in listed_ids(client, other["token"])


def test_presets_and_settings_in_the_model_list(client, admin, make_user, models):
    create(client, admin["token"], meta={"profile_image_url": PNG, "description": "helps"})
    entry = next(m for m in client.get("/api/models", headers=bearer(admin["token"])).get_json()["data"]
                 if m["id"] == "helper")
    assert entry["preset"] is True and entry["owned_by"] == "openai" and entry["name"] == "Helper"
    assert entry["info"]["meta"]["description"] == "helps" and entry["info"]["params"] == {}
    assert "helper" not in [m["id"] for m in client.get("/openai/models", headers=bearer(admin["token"]))
                            .get_json()["data"]]

    client.post("/api/v1/models/model/toggle?id=helper", headers=bearer(admin["token"]))
    assert "helper" not in listed_ids(client, admin["token"])

    # the admin's settings for an upstream model: renamed, and opened to one user through a grant
    user = make_user()
    assert HIDDEN not in listed_ids(client, user["token"])
    grant = [{"principal_type": "user", "principal_id": user["id"], "permission": "read"}]
    client.post("/api/v1/models/model/access/update", headers=bearer(admin["token"]),
                json={"id": HIDDEN, "name": "Hidden", "access_grants": grant})
    assert [b["id"] for b in client.get("/api/v1/models/base", headers=bearer(admin["token"])).get_json()] == [HIDDEN]
    assert HIDDEN in listed_ids(client, user["token"])
    client.post("/api/v1/models/model/update", headers=bearer(admin["token"]),
                json={"id": HIDDEN, "name": "Renamed upstream", "meta": {}, "params": {}, "is_active": False})
    assert HIDDEN not in listed_ids(client, admin["token"])


def test_versions_are_kept_restored_and_deleted(client, admin, models):
    first = create(client, admin["token"]).get_json()
    client.post("/api/v1/models/model/update", headers=bearer(admin["token"]),
                json={**preset(), "params": {"system": "Changed."}, "commit_message": "shorter"})
    client.post("/api/v1/models/model/update", headers=bearer(admin["token"]),
                json={**preset(), "params": {"system": "Changed."}})  # unchanged: no new version
    history = client.get("/api/v1/models/model/history?id=helper", headers=bearer(admin["token"])).get_json()
    assert len(history) == 2 and history[0]["commit_message"] == "shorter"
    assert history[1]["id"] == first["version_id"] and history[0]["parent_id"] == first["version_id"]
    old = client.get(f"/api/v1/models/model/history/{first['version_id']}?id=helper",
                     headers=bearer(admin["token"])).get_json()
    assert old["snapshot"]["params"]["system"].startswith("You are") and old["user"]["id"] == admin["id"]

    current = history[0]["id"]
    refused = client.delete(f"/api/v1/models/model/history/{current}?id=helper", headers=bearer(admin["token"]))
    assert refused.status_code == 400
    restored = client.post("/api/v1/models/model/update/version?id=helper", headers=bearer(admin["token"]),
                           json={"version_id": first["version_id"]}).get_json()
    assert restored["params"]["system"].startswith("You are") and restored["version_id"] == first["version_id"]
    assert client.delete(f"/api/v1/models/model/history/{current}?id=helper",
                         headers=bearer(admin["token"])).get_json() is True
    assert client.get("/api/v1/models/model/history/nope?id=helper", headers=bearer(admin["token"])).status_code == 404


def test_export_import_and_sync(client, admin, make_user, models):
    create(client, admin["token"])
    exported = client.get("/api/v1/models/export", headers=bearer(admin["token"])).get_json()
    assert [m["id"] for m in exported] == ["helper"]
    client.delete("/api/v1/models/delete/all", headers=bearer(admin["token"]))
    assert client.get("/api/v1/models/all", headers=bearer(admin["token"])).get_json() == []
    assert client.post("/api/v1/models/import", headers=bearer(admin["token"]),
                       json={"models": exported}).get_json() is True
    again = client.get("/api/v1/models/model?id=helper", headers=bearer(admin["token"])).get_json()
    assert again["params"] == exported[0]["params"]

    user = make_user()
    allow_models(client, admin, models_import=True)
    refused = client.post("/api/v1/models/import", headers=bearer(user["token"]), json={"models": exported})
    assert refused.status_code == 401  # not theirs to overwrite
    assert client.post("/api/v1/models/import", headers=bearer(admin["token"]), json={"models": "x"}).status_code == 422

    synced = client.post("/api/v1/models/sync", headers=bearer(admin["token"]),
                         json={"models": [preset("other")]}).get_json()
    assert [m["id"] for m in synced] == ["other"]
    assert [m["id"] for m in client.get("/api/v1/models/all", headers=bearer(admin["token"])).get_json()] == ["other"]


def test_profile_image_is_served_to_those_who_may_see_the_model(client, admin, make_user, models):
    create(client, admin["token"], meta={"profile_image_url": PNG})
    image = client.get("/api/v1/models/model/profile/image?id=helper", headers=bearer(admin["token"]))
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data == b"\x89PNG fake"
    user = make_user()
    hidden = client.get("/api/v1/models/model/profile/image?id=helper", headers=bearer(user["token"]))
    assert hidden.status_code == 302 and hidden.location.endswith("/static/favicon.png")
    listed = client.get("/api/v1/models/list", headers=bearer(admin["token"])).get_json()["items"][0]
    assert "profile_image_url" not in listed["meta"]
    # a picture the owner may not set is dropped
    create(client, admin["token"], model_id="bad", meta={"profile_image_url": "/api/v1/auths/signout"})
    got = client.get("/api/v1/models/model?id=bad", headers=bearer(admin["token"])).get_json()
    assert got["meta"]["profile_image_url"] is None


def test_arena_models_in_the_model_list(client, admin, make_user, models):
    user = make_user()
    assert "arena-model" in listed_ids(client, admin["token"])  # Open WebUI's default, the admins' only
    assert "arena-model" not in listed_ids(client, user["token"])
    arena = {"id": "duel", "name": "Duel", "meta": {
        "model_ids": [BASE, HIDDEN], "access_grants": [{"principal_type": "user", "principal_id": "*",
                                                         "permission": "read"}]}}
    client.post("/api/v1/evaluations/config", headers=bearer(admin["token"]),
                json={"EVALUATION_ARENA_MODELS": [arena]})
    entry = next(m for m in client.get("/api/models", headers=bearer(user["token"])).get_json()["data"]
                 if m["id"] == "duel")
    assert entry["owned_by"] == "arena" and entry["arena"] is True and entry["info"]["meta"]["model_ids"]
    assert "arena-model" not in listed_ids(client, admin["token"])
    client.post("/api/v1/evaluations/config", headers=bearer(admin["token"]),
                json={"ENABLE_EVALUATION_ARENA_MODELS": False})
    assert "duel" not in listed_ids(client, user["token"])


def test_models_settings_and_the_defaults_every_model_starts_from(client, admin, make_user, models):
    user = make_user()
    assert client.get("/api/v1/configs/models", headers=bearer(user["token"])).status_code == 401
    assert client.get("/api/v1/configs/models/defaults", headers=bearer(user["token"])).get_json() == {
        "DEFAULT_MODEL_METADATA": {}}
    saved = client.post("/api/v1/configs/models", headers=bearer(admin["token"]), json={
        "DEFAULT_MODELS": BASE, "MODEL_ORDER_LIST": [BASE, HIDDEN],
        "DEFAULT_MODEL_METADATA": {"capabilities": {"vision": False, "citations": True}, "description": "Default"},
    }).get_json()
    assert saved["DEFAULT_MODELS"] == BASE and saved["MODEL_ORDER_LIST"] == [BASE, HIDDEN]
    assert saved["DEFAULT_MODEL_PARAMS"] == {}
    assert client.get("/api/config", headers=bearer(user["token"])).get_json()["default_models"] == BASE
    create(client, admin["token"], meta={"capabilities": {"vision": True}})
    listed = {m["id"]: m for m in client.get("/api/models", headers=bearer(admin["token"])).get_json()["data"]}
    assert listed["helper"]["info"]["meta"]["capabilities"] == {"vision": True, "citations": True}
    assert listed["helper"]["info"]["meta"]["description"] == "Default"
    assert listed[BASE]["info"]["meta"]["description"] == "Default"
    assert client.post("/api/v1/configs/models", headers=bearer(admin["token"]),
                       json={"MODEL_ORDER_LIST": "x"}).status_code == 422


def test_a_users_model_list_loads_only_the_presets_it_may_read(client, admin, make_user, models):
    """The presets are filtered in SQL (``custom_models.listable``): every upstream model's settings, and of the
    presets only those the user owns or is granted; the list itself is unchanged by that."""
    from shared.db import session_scope
    from shared.models import User
    from shared.services import custom_models

    reader, other = make_user("reader@example.com"), make_user("other@example.com")
    grant = [{"principal_type": "user", "principal_id": reader["id"], "permission": "read"}]
    create(client, admin["token"], model_id="granted", access_grants=grant)
    create(client, admin["token"], model_id="private")
    settings = client.post("/api/v1/models/create", headers=bearer(admin["token"]), json={
        "id": BASE, "base_model_id": None, "name": "Renamed base", "meta": {}, "params": {},
        "access_grants": [{"principal_type": "user", "principal_id": "*", "permission": "read"}]})
    assert settings.status_code == 200, settings.get_json()
    with session_scope() as session:
        loaded = {m.id for m in custom_models.listable(session, session.get(User, reader["id"]))}
        everything = {m.id for m in custom_models.listable(session, session.get(User, admin["id"]))}
    assert loaded == {"granted", BASE} and everything == {"granted", "private", BASE}
    assert {"granted", BASE} <= set(listed_ids(client, reader["token"]))
    assert "private" not in listed_ids(client, reader["token"])
    assert "granted" not in listed_ids(client, other["token"])
