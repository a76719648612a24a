"""Admin configuration of the Ollama and OpenAI connections (no upstream is called)."""
from __future__ import annotations

from shared import messages
from shared.db import session_scope
from shared.models import AppConfig, Job
from shared.services.llm import registry
from tests.helpers import bearer


def test_openai_keys_are_stored_encrypted_and_shown_only_to_admins(client, admin, make_user):
    headers = bearer(admin["token"])
    saved = client.post("/openai/config/update", headers=headers, json={
        "ENABLE_OPENAI_API": True, "OPENAI_API_BASE_URLS": ["http://127.0.0.1:9/v1", "http://127.0.0.1:10/v1/"],
        "OPENAI_API_KEYS": ["sk-secret-one", "sk-secret-two", "sk-extra"],
        "OPENAI_API_CONFIGS": {"0": {"enable": True, "prefix_id": "a"}, "7": {"enable": True}},
    })
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json() == {
        "ENABLE_OPENAI_API": True, "OPENAI_API_BASE_URLS": ["http://127.0.0.1:9/v1", "http://127.0.0.1:10/v1"],
        "OPENAI_API_KEYS": ["sk-secret-one", "sk-secret-two"],
        "OPENAI_API_CONFIGS": {"0": {"enable": True, "prefix_id": "a"}},
    }
    assert client.get("/openai/config", headers=headers).get_json() == saved.get_json()
    with session_scope() as session:
        stored = session.get(AppConfig, "openai.api_keys").value
    assert len(stored) == 2 and not any("sk-secret" in key for key in stored)

    user = bearer(make_user()["token"])
    for path in ("/openai/config", "/ollama/config"):
        denied = client.get(path, headers=user)
        assert denied.status_code == 401 and "sk-secret" not in denied.get_data(as_text=True)


def test_ollama_config_update_keeps_configs_of_existing_urls_and_refreshes_models(client, admin):
    headers = bearer(admin["token"])
    registry.store([{"id": "stale"}], [])
    saved = client.post("/ollama/config/update", headers=headers, json={
        "ENABLE_OLLAMA_API": True, "OLLAMA_BASE_URLS": ["http://127.0.0.1:11434"],
        "OLLAMA_API_CONFIGS": {"0": {"enable": False, "key": "k-1"}, "1": {"enable": True}},
    })
    assert saved.status_code == 200
    assert saved.get_json()["OLLAMA_API_CONFIGS"] == {"0": {"enable": False, "key": "k-1"}}
    assert registry.cached() is None
    with session_scope() as session:
        kinds = [job.kind for job in session.query(Job).all()]
        stored = session.get(AppConfig, "ollama.api_configs").value
    assert kinds == ["models.refresh"]
    assert stored["0"]["key"] != "k-1"


def test_bad_config_bodies(client, admin):
    headers = bearer(admin["token"])
    missing = client.post("/ollama/config/update", headers=headers, json={"ENABLE_OLLAMA_API": True})
    assert missing.status_code == 422 and "OLLAMA_BASE_URLS" in missing.get_json()["detail"]
    bad_url = client.post("/openai/config/update", headers=headers,
                          json={"OPENAI_API_BASE_URLS": ["ftp://x"], "OPENAI_API_KEYS": []})
    assert bad_url.status_code == 400 and "ftp://x" in bad_url.get_json()["detail"]
    assert client.post("/ollama/verify", headers=headers, json={"url": "nope"}).status_code == 400


def test_disabled_ollama_api(client, admin):
    headers = bearer(admin["token"])
    client.post("/ollama/config/update", headers=headers,
                json={"ENABLE_OLLAMA_API": False, "OLLAMA_BASE_URLS": ["http://127.0.0.1:11434"]})
    assert client.get("/ollama/api/version", headers=headers).get_json() == {"version": False}
    refused = client.post("/ollama/api/chat", headers=headers, json={"model": "m", "messages": []})
    assert refused.status_code == 503 and "disabled" in refused.get_json()["detail"]
    assert client.get("/ollama/", headers=headers).get_json() == {"status": True}


def test_gateway_routes_need_a_verified_user(client):
    for method, path in (("get", "/api/models"), ("post", "/api/chat/completions"), ("post", "/ollama/api/chat"),
                         ("get", "/openai/models"), ("post", "/api/embeddings")):
        response = getattr(client, method)(path, json={})
        assert response.status_code == 401, path
    assert "error" in client.get("/openai/models").get_json()


def test_chat_completed_echoes_the_messages_of_an_own_chat(client, admin, make_user):
    headers = bearer(admin["token"])
    chat = client.post("/api/v1/chats/new", headers=headers, json={"chat": {"title": "t"}}).get_json()
    body = {"chat_id": chat["id"], "messages": [{"role": "user", "content": "hi"}], "model": "m", "model_item": {}}
    answer = client.post("/api/chat/completed", headers=headers, json=body)
    assert answer.status_code == 200 and answer.get_json() == {k: v for k, v in body.items() if k != "model_item"}
    other = bearer(make_user()["token"])
    assert client.post("/api/chat/completed", headers=other, json=body).status_code == 404


def test_a_completion_naming_another_user_s_chat_is_404_before_anything_else(client, admin, make_user):
    registry.store([{"id": "hidden", "owned_by": "ollama", "urls": [0]}], [])  # not open to users
    owner = bearer(admin["token"])
    theirs = client.post("/api/v1/chats/new", headers=owner, json={"chat": {"title": "private"}}).get_json()
    intruder = bearer(make_user()["token"])
    own = client.post("/api/v1/chats/new", headers=intruder, json={"chat": {"title": "mine"}}).get_json()
    plain = {"model": "hidden", "messages": [{"role": "user", "content": "hi"}]}
    user_message = {"id": "u1", "parentId": None, "childrenIds": [], "role": "user", "content": "hi"}
    background = {**plain, "id": "a1", "session_id": "s1", "parent_id": None, "user_message": user_message}
    for body in (plain, background):
        for path in ("/api/chat/completions", "/api/v1/chat/completions"):
            refused = client.post(path, headers=intruder, json={**body, "chat_id": theirs["id"]})
            assert refused.status_code == 404, (path, body)
            assert refused.get_json() == {"detail": messages.NOT_FOUND}
            # the intruder's own chat passes this check and meets the next one (the model)
            assert client.post(path, headers=intruder, json={**body, "chat_id": own["id"]}).status_code == 403
    assert client.get(f"/api/v1/chats/{theirs['id']}", headers=owner).get_json()["chat"] == theirs["chat"]
    with session_scope() as session:
        assert session.query(Job).count() == 0


def test_the_model_registry_is_parsed_once_per_refresh():
    registry.store([{"id": "m1"}], [])
    first = registry.cached()
    assert registry.cached() is first  # the same text: the same parsed snapshot
    registry.store([{"id": "m1"}, {"id": "m2"}], [])
    assert [m["id"] for m in registry.cached()["models"]] == ["m1", "m2"]
    registry.clear()
    assert registry.cached() is None
