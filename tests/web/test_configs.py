"""/api/v1/configs/* and /api/v1/chats/config: the admin's settings pages, read back as saved, and the whole
configuration exported and imported into a fresh deployment (its secrets encrypted again there)."""
from __future__ import annotations

from sqlalchemy import delete, select

from shared.db import session_scope
from shared.models import AppConfig
from tests.helpers import bearer

SERVER = {"url": "http://127.0.0.1:9/tools", "path": "openapi.json", "type": "openapi", "auth_type": "bearer",
          "key": "tool-secret-1", "config": {"enable": False}}


def _stored(key: str):
    with session_scope() as session:
        return session.scalar(select(AppConfig.value).where(AppConfig.key == key))


def test_sections_read_back_what_was_saved_with_open_webuis_defaults(client, admin):
    auth = bearer(admin["token"])
    assert client.get("/api/v1/configs/connections", headers=auth).get_json() == {
        "ENABLE_DIRECT_CONNECTIONS": False, "ENABLE_DIRECT_INTEGRATIONS": False, "ENABLE_BASE_MODELS_CACHE": False}
    saved = client.post("/api/v1/configs/connections", headers=auth, json={"ENABLE_DIRECT_CONNECTIONS": True})
    assert saved.get_json()["ENABLE_DIRECT_CONNECTIONS"] is True
    assert client.get("/api/config", headers=auth).get_json()["features"]["enable_direct_connections"] is True

    code = client.get("/api/v1/configs/code_execution", headers=auth).get_json()
    assert (code["CODE_EXECUTION_ENGINE"], code["CODE_EXECUTION_JUPYTER_TIMEOUT"]) == ("pyodide", 60)
    assert client.post("/api/v1/configs/code_execution", headers=auth, json={
        "CODE_EXECUTION_ENGINE": "jupyter", "CODE_EXECUTION_JUPYTER_AUTH_TOKEN": "jupyter-secret"}).status_code == 200
    assert client.get("/api/v1/configs/code_execution", headers=auth).get_json()[
        "CODE_EXECUTION_JUPYTER_AUTH_TOKEN"] == "jupyter-secret"
    assert _stored("code_execution.jupyter.auth_token") not in (None, "jupyter-secret")  # encrypted at rest
    assert client.get("/api/config", headers=auth).get_json()["code"]["engine"] == "jupyter"

    sub = client.post("/api/v1/configs/subagents", headers=auth, json={"SUBAGENTS_MAX_ITERATIONS": 5}).get_json()
    assert (sub["SUBAGENTS_MAX_ITERATIONS"], sub["SUBAGENTS_MAX_CONCURRENT"]) == (5, 20)
    bad = client.post("/api/v1/configs/subagents", headers=auth, json={"SUBAGENTS_MAX_ITERATIONS": "many"})
    assert bad.status_code == 422


def test_chat_config_is_cleaned_up_on_save_as_open_webui_does(client, admin):
    auth = bearer(admin["token"])
    assert client.get("/api/v1/chats/config", headers=auth).get_json()["CONTEXT_COMPACTION_RETENTION_PERCENTAGE"] == 40
    saved = client.post("/api/v1/chats/config", headers=auth, json={
        "ENABLE_CONTEXT_COMPACTION": True, "CONTEXT_COMPACTION_PROMPT_TEMPLATE": "",
        "CONTEXT_COMPACTION_RETENTION_PERCENTAGE": 90, "CONTEXT_COMPACTION_TOKEN_THRESHOLD": 1000,
        "TOOL_SEARCH_ALWAYS_LOADED": [" web ", ""]}).get_json()
    assert saved["CONTEXT_COMPACTION_RETENTION_PERCENTAGE"] == 50
    assert (saved["CONTEXT_COMPACTION_TOKEN_CAP"], saved["TOOL_SEARCH_ALWAYS_LOADED"]) == (1000, ["web"])


def test_visibility_and_suggestions_reach_the_client_config(client, admin, make_user):
    auth = bearer(admin["token"])
    assert client.post("/api/v1/configs/interface/visibility", headers=auth,
                       json={"visibility": {"sidebar.notes": False}}).get_json() == {
        "visibility": {"sidebar.notes": False}}
    assert client.post("/api/v1/configs/interface/visibility", headers=auth,
                       json={"visibility": {"sidebar.notes": "no"}}).status_code == 422
    suggestions = [{"title": ["Plan", "a trip"], "content": "Plan a trip to Lisbon"}]
    saved = client.post("/api/v1/configs/suggestions", headers=auth,
                        json={"suggestions": suggestions, "i18n": {"fr": {}}}).get_json()
    assert saved == {"suggestions": suggestions, "i18n": {"fr": {}}}
    user = make_user()
    seen = client.get("/api/config", headers=bearer(user["token"])).get_json()
    assert seen["ui"]["visibility"] == {"sidebar.notes": False}
    assert seen["default_prompt_suggestions"] == suggestions
    assert client.get("/api/v1/configs/connections", headers=bearer(user["token"])).status_code == 401


def test_export_then_import_into_an_empty_configuration_keeps_every_setting_and_seals_the_secrets(client, admin):
    auth = bearer(admin["token"])
    client.post("/api/v1/configs/tool_servers", headers=auth, json={"TOOL_SERVER_CONNECTIONS": [SERVER]})
    client.post("/api/v1/configs/subagents", headers=auth, json={"SUBAGENTS_SYSTEM_PROMPT": "Be brief."})
    exported = client.get("/api/v1/configs/export", headers=auth).get_json()
    assert exported["tool_server.connections"][0]["key"] == "tool-secret-1"
    assert ["tool_server.connections", 0, "key"] in exported["switchyard.secret_paths"]
    assert exported["subagents.system_prompt"] == "Be brief."

    with session_scope() as session:  # a fresh deployment: nothing stored
        session.execute(delete(AppConfig))
    assert client.get("/api/v1/configs/tool_servers", headers=auth).get_json() == {"TOOL_SERVER_CONNECTIONS": []}
    imported = client.post("/api/v1/configs/import", headers=auth, json={"config": exported})
    assert imported.status_code == 200 and imported.get_json() == exported
    assert _stored("tool_server.connections")[0]["key"] != "tool-secret-1"  # encrypted again
    servers = client.get("/api/v1/configs/tool_servers", headers=auth).get_json()["TOOL_SERVER_CONNECTIONS"]
    assert servers[0]["key"] == "tool-secret-1"
    assert client.get("/api/v1/configs/subagents", headers=auth).get_json()["SUBAGENTS_SYSTEM_PROMPT"] == "Be brief."

    wrong = client.post("/api/v1/configs/import", headers=auth,
                        json={"config": {"a.b": 1, "switchyard.secret_paths": [["a.b", "x"]]}})
    assert wrong.status_code == 400 and "names no value" in wrong.get_json()["detail"]


def test_a_namespace_holds_its_defaults_and_stored_values(client, admin):
    auth = bearer(admin["token"])
    client.post("/api/v1/configs/subagents", headers=auth, json={"ENABLE_SUBAGENTS": True})
    space = client.get("/api/v1/configs/namespace/subagents", headers=auth).get_json()
    assert space["subagents.enable"] is True and space["subagents.max_output"] == 30000
    assert all(key.startswith("subagents.") for key in space)


def test_terminal_servers_are_stored_and_running_them_is_501(client, admin):
    auth = bearer(admin["token"])
    server = {"id": "t1", "name": "Terminal", "url": "http://127.0.0.1:9", "key": "term-key", "policy": {"x": 1}}
    saved = client.post("/api/v1/configs/terminal_servers", headers=auth,
                        json={"TERMINAL_SERVER_CONNECTIONS": [server]}).get_json()
    assert saved["TERMINAL_SERVER_CONNECTIONS"][0]["key"] == "term-key"
    assert "policy" not in saved["TERMINAL_SERVER_CONNECTIONS"][0]
    assert _stored("terminal_server.connections")[0]["key"] != "term-key"
    for action in ("policy", "lifecycle", "refresh"):
        answer = client.post(f"/api/v1/configs/terminal_servers/{action}", headers=auth,
                             json={"url": "http://127.0.0.1:9", "policy_id": "p"})
        assert answer.status_code == 501 and "does not run terminals" in answer.get_json()["detail"]
    assert client.post("/api/v1/configs/terminal_servers/verify", headers=auth,
                       json={"url": "ftp://x"}).status_code == 400
