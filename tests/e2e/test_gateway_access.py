"""Who may call which model: every Ollama and OpenAI proxy route (with and without a connection index) and
the unified routes apply ``/api/models``' rule, as Open WebUI 0.12.4 does (live web, a real worker, Redis,
PostgreSQL and the fake upstreams)."""
from __future__ import annotations

import pytest
import requests

from shared import messages
from shared.db import session_scope
from shared.services.llm import registry
from tests.e2e.gateway_stack import fake_ollama, fake_openai, ollama_server, openai_server, stack  # noqa: F401
from tests.helpers import bearer

LLAMA = "llama-fake:latest"
CHAT = [{"role": "user", "content": "one two"}]

MODEL = "model"
"""Names a model: a user without access gets 403 ``Model not found`` (no upstream call)."""
ADMIN = "admin"
"""Admins only: 401."""
LIST = "list"
"""A model list: a user without access gets an empty one."""
OPEN = "open"
"""Names no model: any verified user."""

ROUTES = {
    "/ollama/": OPEN, "/ollama/api/version": OPEN,
    "/ollama/api/tags": LIST, "/ollama/v1/models": LIST, "/openai/models": LIST, "/openai/v1/models": LIST,
    **dict.fromkeys([
        "/ollama/config", "/ollama/config/update", "/ollama/verify", "/ollama/urls", "/ollama/api/ps",
        "/ollama/api/pull", "/ollama/api/pull/<int:url_idx>", "/ollama/api/delete",
        "/ollama/api/delete/<int:url_idx>", "/ollama/api/tags/<int:url_idx>", "/ollama/api/version/<int:url_idx>",
        "/ollama/v1/models/<int:url_idx>", "/openai/config", "/openai/config/update", "/openai/verify",
        "/openai/models/<int:url_idx>", "/openai/v1/models/<int:url_idx>",
    ], ADMIN),
    **dict.fromkeys([
        "/ollama/api/chat", "/ollama/api/chat/<int:url_idx>", "/ollama/api/generate",
        "/ollama/api/generate/<int:url_idx>", "/ollama/api/embed", "/ollama/api/embed/<int:url_idx>",
        "/ollama/api/embeddings", "/ollama/api/embeddings/<int:url_idx>", "/ollama/api/show",
        "/ollama/v1/chat/completions", "/ollama/v1/chat/completions/<int:url_idx>", "/ollama/v1/completions",
        "/ollama/v1/completions/<int:url_idx>", "/ollama/v1/embeddings", "/ollama/v1/embeddings/<int:url_idx>",
        "/openai/chat/completions", "/openai/v1/chat/completions", "/openai/embeddings", "/openai/v1/embeddings",
        "/api/chat/completions", "/api/v1/chat/completions", "/api/embeddings", "/api/v1/embeddings",
    ], MODEL),
}
"""Every proxy route (and the unified routes that name a model) and what a user without access gets."""


def proxy_rules(app) -> list:
    return [rule for rule in app.url_map.iter_rules()
            if rule.rule.startswith(("/ollama/", "/openai/")) or ROUTES.get(rule.rule) == MODEL]


def call(stack, method: str, path: str, headers: dict, body: dict | None = None) -> requests.Response:
    return requests.request(method, f"{stack.url}{path}", headers=headers, json=body, timeout=30)


def model_body(model: str) -> dict:
    """A request naming ``model`` that each model route accepts (the unused fields pass through)."""
    return {"model": model, "messages": CHAT, "prompt": "one two", "input": "one two", "stream": False}


def refusal(response: requests.Response) -> tuple[int, str | None]:
    """The status and the error text, in Open WebUI's or OpenAI's error body."""
    try:
        body = response.json()
    except ValueError:
        return response.status_code, None
    error = body.get("error") if isinstance(body, dict) else None
    return response.status_code, error.get("message") if isinstance(error, dict) else (body or {}).get("detail")


def answers_as_expected(response: requests.Response, expected: str) -> bool:
    if expected == MODEL:
        return refusal(response) == (403, "Model not found")
    if expected == ADMIN:
        return refusal(response) == (401, messages.ACCESS_PROHIBITED)
    if expected == LIST:
        return response.status_code == 200 and not (response.json().get("models") or response.json().get("data"))
    return response.status_code == 200


@pytest.fixture
def warm(stack, admin) -> dict:
    """The admin's headers, once the model registry holds the fakes' models."""
    headers = bearer(admin["token"])
    assert LLAMA in {m["id"] for m in call(stack, "GET", "/api/models", headers).json()["data"]}
    return headers


def test_every_proxy_route_refuses_models_a_user_may_not_see(stack, app, client, warm, make_user, fake_ollama,
                                                             fake_openai):
    rules = proxy_rules(app)
    assert {r.rule for r in rules} == set(ROUTES), "a proxy route without a row in ROUTES"
    user = make_user()
    key = client.post("/api/v1/auths/api_key", headers=bearer(user["token"])).get_json()["api_key"]
    wrong = []
    for headers in (bearer(user["token"]), bearer(key)):
        assert call(stack, "GET", "/api/models", headers).json() == {"data": []}
        for rule in rules:
            path = rule.rule.replace("<int:url_idx>", "0")
            model = LLAMA if path.startswith("/ollama/") else "gpt-fake"
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = call(stack, method, path, headers, model_body(model) if method != "GET" else None)
                if not answers_as_expected(response, ROUTES[rule.rule]):
                    wrong.append(f"{method} {path}: {response.status_code} {response.text[:80]}")
    assert not wrong, "\n".join(wrong)
    assert not fake_ollama.received("/api/chat") and not fake_ollama.received("/api/embed")
    assert not fake_openai.received("/v1/chat/completions")


def test_a_connection_index_reaches_only_the_models_a_user_may_see_on_connections_serving_them(
        stack, warm, make_user, fake_ollama, fake_openai):
    with session_scope() as session:
        registry.open_to_users(session, [LLAMA])
    user = bearer(make_user()["token"])
    answer = call(stack, "POST", "/ollama/api/chat/0", user, model_body(LLAMA))
    assert answer.status_code == 200 and answer.json()["message"]["content"] == "You said: one two"
    assert fake_ollama.received("/api/chat")[-1].body["model"] == LLAMA
    assert call(stack, "POST", "/ollama/v1/chat/completions/0", user, model_body(LLAMA)).status_code == 200
    assert call(stack, "POST", "/api/chat/completions", user, model_body(LLAMA)).status_code == 200

    assert refusal(call(stack, "POST", "/ollama/api/chat/0", user, model_body("qwen-fake:0.5b"))) == (
        403, "Model not found")
    assert refusal(call(stack, "POST", "/ollama/api/generate/3", user, model_body(LLAMA))) == (
        403, messages.ACCESS_PROHIBITED)
    assert refusal(call(stack, "POST", "/openai/chat/completions", user, model_body("gpt-fake"))) == (
        403, "Model not found")
    assert refusal(call(stack, "POST", "/api/chat/completions", user, model_body("no-such-model"))) == (
        403, "Model not found")  # unknown and hidden models look the same to a user

    # admins may name any model on any connection
    assert call(stack, "POST", "/ollama/api/chat/0", warm, model_body("qwen-fake:0.5b")).status_code == 200
    assert call(stack, "POST", "/ollama/api/embed/0", warm, model_body("nomic-fake:latest")).status_code == 200
    assert call(stack, "POST", "/openai/chat/completions", warm, model_body("gpt-fake")).status_code == 200
    assert fake_openai.received("/v1/chat/completions")
    assert call(stack, "POST", "/ollama/api/chat", warm, model_body("no-such-model")).status_code == 400
