"""Raw HTTP against a live Switchyard: wire formats, upstream failures, client disconnects, the web
app's background mode, and who may see which model."""
from __future__ import annotations

import json
import time
import uuid

import pytest
import requests

from shared.db import session_scope
from shared.jobs import events
from tests.e2e.gateway_stack import CHAT, LLAMA, latest_job, post, sse_frames, warm
from tests.e2e.gateway_stack import fake_ollama, fake_openai, ollama_server, openai_server, stack  # noqa: F401
from tests.e2e.processes import free_port
from tests.fakes.openai import FakeAzureOpenAI
from tests.helpers import bearer

@pytest.fixture
def auth(admin) -> dict:
    return bearer(admin["token"])


def test_ollama_stream_is_ndjson_exactly_as_ollama_sends_it(stack, auth, fake_ollama):
    response = post(stack, "/ollama/api/chat", auth, {"model": LLAMA, "messages": CHAT})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-ndjson"
    lines = response.text.splitlines()
    objects = [json.loads(line) for line in lines]
    assert [o["message"]["content"] for o in objects] == ["You", " said:", " one", " two", " three", ""]
    assert [o["done"] for o in objects] == [False] * 5 + [True]
    assert {"total_duration", "eval_count", "done_reason"} <= set(objects[-1])
    assert lines[0].startswith('{"model":"llama-fake:latest","created_at":')

    # relayed byte for byte: Go's escapes of <, > and & stay as Ollama wrote them, UTF-8 stays UTF-8
    marked = post(stack, "/ollama/api/chat", auth, {"model": LLAMA, "messages": [{"role": "user", "content": "<b> & é"}]})
    assert '"content":" \\u003cb\\u003e"' in marked.text and '"content":" \\u0026"' in marked.text
    assert '"content":" é"' in marked.content.decode()

    whole = post(stack, "/ollama/api/generate", auth, {"model": LLAMA, "prompt": "x", "stream": False})
    assert whole.headers["Content-Type"].startswith("application/json")
    assert whole.json()["response"] == "You said: x" and whole.json()["done"] is True


def test_openai_stream_is_sse_ending_with_done(stack, auth, fake_openai):
    response = post(stack, "/api/chat/completions", auth, {"model": LLAMA, "messages": CHAT, "stream": True})
    assert response.headers["Content-Type"].startswith("text/event-stream")
    frames = sse_frames(response)
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(f) for f in frames[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "You said: one two three"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["usage"]["completion_tokens"] == 5

    proxied = sse_frames(post(stack, "/openai/chat/completions", auth,
                              {"model": "gpt-fake", "messages": CHAT, "stream": True}))
    upstream = fake_openai.received("/v1/chat/completions")[-1]
    assert upstream.body["stream"] is True and proxied[-1] == "[DONE]"
    assert json.loads(proxied[0])["choices"][0]["delta"]["role"] == "assistant"


def test_streams_one_after_another_reuse_the_upstream_connection(stack, auth, fake_openai, fake_ollama):
    """A finished stream hands its connection back to the pool (no new TCP, or TLS, handshake per answer)."""
    for path, model, fake, upstream_path in (("/api/chat/completions", "gpt-fake", fake_openai, "/v1/chat/completions"),
                                             ("/ollama/api/chat", LLAMA, fake_ollama, "/api/chat")):
        for _ in range(3):
            assert post(stack, path, auth, {"model": model, "messages": CHAT, "stream": True}).ok
        ports = {r.client for r in fake.received(upstream_path)[-3:]}
        assert len(ports) == 1, f"{path}: three streams used {len(ports)} connections to the upstream"


def test_an_openai_stream_ends_at_done_even_if_the_upstream_keeps_the_body_open(stack, auth, fake_openai):
    fake_openai.behave(linger=30)
    started = time.monotonic()
    frames = sse_frames(post(stack, "/api/chat/completions", auth, {"model": "gpt-fake", "messages": CHAT,
                                                                    "stream": True}))
    assert frames[-1] == "[DONE]" and time.monotonic() - started < 5
    assert latest_job("chat.completion").status == "succeeded"


def test_refused_connection_is_502_and_skipped_in_the_model_list(stack, auth, fake_ollama):
    dead = f"http://127.0.0.1:{free_port()}"
    saved = post(stack, "/ollama/config/update", auth, {
        "ENABLE_OLLAMA_API": True, "OLLAMA_BASE_URLS": [fake_ollama.url, dead],
        "OLLAMA_API_CONFIGS": {"1": {"enable": True, "prefix_id": "dead"}}})
    assert saved.status_code == 200 and saved.json()["OLLAMA_BASE_URLS"] == [fake_ollama.url, dead]
    models = requests.get(f"{stack.url}/api/models", headers=auth, timeout=30).json()["data"]
    assert LLAMA in {m["id"] for m in models}
    from shared.services.llm import registry
    assert [e["url"] for e in registry.cached()["errors"]] == [dead]

    started = time.monotonic()
    failed = post(stack, "/ollama/api/chat/1", auth, {"model": LLAMA, "messages": CHAT})
    assert failed.status_code == 502 and dead in failed.json()["detail"]
    assert time.monotonic() - started < 5
    assert latest_job("ollama.api.chat").attempts == 3  # retried twice before giving up


def test_timeout_is_504(stack, auth, fake_ollama):
    warm(stack, auth)
    fake_ollama.behave(hang=True)
    response = post(stack, "/api/chat/completions", auth, {"model": LLAMA, "messages": CHAT, "stream": True})
    assert response.status_code == 504
    assert "no answer" in response.json()["detail"]


def test_upstream_4xx_passes_through(stack, auth, fake_ollama, fake_openai):
    missing = post(stack, "/ollama/api/chat/0", auth, {"model": "nope:1b", "messages": CHAT})
    assert missing.status_code == 404
    assert missing.json() == {"detail": 'model "nope:1b" not found, try pulling it first'}

    warm(stack, auth)
    fake_openai.behave(status=422, error="temperature must be at most 2")
    refused = post(stack, "/openai/chat/completions", auth, {"model": "gpt-fake", "messages": CHAT})
    assert refused.status_code == 422
    assert refused.json()["error"]["message"] == "temperature must be at most 2"
    unified = post(stack, "/api/chat/completions", auth, {"model": "gpt-fake", "messages": CHAT})
    assert unified.status_code == 422 and unified.json() == {"detail": "temperature must be at most 2"}


def test_upstream_5xx_is_retried_then_succeeds(stack, auth, fake_openai):
    warm(stack, auth)
    fake_openai.behave(status=503, error="overloaded", fail_times=1)
    answer = post(stack, "/api/chat/completions", auth, {"model": "gpt-fake", "messages": CHAT})
    assert answer.status_code == 200 and answer.json()["choices"][0]["message"]["content"]
    assert len(fake_openai.received("/v1/chat/completions")) == 2


def test_mid_stream_drop_ends_with_an_error_not_a_silent_truncation(stack, auth, fake_ollama):
    warm(stack, auth)
    fake_ollama.behave(drop_after=3)
    frames = sse_frames(post(stack, "/api/chat/completions", auth, {"model": LLAMA, "messages": CHAT, "stream": True}))
    assert frames[-1] == "[DONE]"
    assert "broke off" in json.loads(frames[-2])["error"]["message"]
    assert len(frames) == 2 + 3  # three chunks, the error, [DONE]
    assert len(fake_ollama.received("/api/chat")) == 1  # never retried after the first byte

    lines = post(stack, "/ollama/api/chat", auth, {"model": LLAMA, "messages": CHAT}).text.splitlines()
    assert len(lines) == 4 and "broke off" in json.loads(lines[-1])["error"]


def test_client_disconnect_cancels_the_job_and_closes_the_upstream(stack, auth, fake_ollama):
    warm(stack, auth)
    fake_ollama.behave(delay=0.05)
    body = {"model": LLAMA, "messages": CHAT, "options": {"num_predict": 400}}
    with requests.post(f"{stack.url}/ollama/api/chat", headers=auth, json=body, stream=True, timeout=30) as r:
        lines = r.iter_lines()
        assert json.loads(next(lines))["message"]["content"] == "w0"
        next(lines)
    closed = time.monotonic()
    upstream = fake_ollama.received("/api/chat")[-1]
    assert upstream.disconnected.wait(5)
    assert time.monotonic() - closed < 1.0
    deadline = time.monotonic() + 5
    while latest_job("ollama.api.chat").status != "cancelled" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert latest_job("ollama.api.chat").status == "cancelled", stack.worker.output()[-3000:]


def test_background_mode_answers_at_once_and_saves_the_reply(stack, auth, fake_ollama):
    user_message = {"id": str(uuid.uuid4()), "parentId": None, "childrenIds": [], "role": "user",
                    "content": "remember me", "timestamp": int(time.time()), "models": [LLAMA]}
    reply_id = str(uuid.uuid4())
    answer = post(stack, "/api/chat/completions", auth, {
        "model": LLAMA, "stream": True, "session_id": "sid-1", "id": reply_id, "parent_id": None,
        "user_message": user_message, "messages": [{"role": "system", "content": "Be brief."}],
        "background_tasks": {"title_generation": False}, "features": {"web_search": False}})
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] is True and len(body["task_ids"]) == 1 and body["chat_id"]

    job_id, chat_id = body["task_ids"][0], body["chat_id"]
    logged = list(events.iter_events(job_id, keepalive=0.2))
    deltas = [e.data for e in logged if e is not None and e.type == "delta"]
    with_text = [d for d in deltas if "content" in d]  # the last delta of each published batch
    assert with_text and all(d["chat_id"] == chat_id and d["message_id"] == reply_id for d in with_text)
    assert deltas[-1]["content"] == "You said: remember me"
    sent = fake_ollama.received("/api/chat")[-1].body["messages"]
    assert sent == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "remember me"}]

    chat = requests.get(f"{stack.url}/api/v1/chats/{chat_id}", headers=auth, timeout=10).json()["chat"]
    reply = chat["history"]["messages"][reply_id]
    assert reply["content"] == "You said: remember me" and reply["done"] is True
    assert reply["parentId"] == user_message["id"] and chat["history"]["currentId"] == reply_id



@pytest.mark.parametrize("stored_reply", [True, False])
def test_an_older_clients_turn_uses_its_messages_and_saves_the_reply(stack, auth, fake_ollama, stored_reply):
    """chat_id and the reply's id, the conversation in ``messages``, no user_message nor parent_id."""
    question = {"id": str(uuid.uuid4()), "parentId": None, "childrenIds": [], "role": "user", "content": "first"}
    reply_id = str(uuid.uuid4())
    history = {"messages": {question["id"]: question}, "currentId": question["id"]}
    if stored_reply:  # the client saved its placeholder first
        question["childrenIds"] = [reply_id]
        history["messages"][reply_id] = {"id": reply_id, "parentId": question["id"], "childrenIds": [],
                                         "role": "assistant", "content": ""}
        history["currentId"] = reply_id
    chat_id = post(stack, "/api/v1/chats/new", auth, {"chat": {"title": "old", "history": history}}).json()["id"]
    sent = [{"role": "user", "content": "old client words"}]
    answer = post(stack, "/api/chat/completions", auth, {
        "model": LLAMA, "stream": True, "session_id": "sid-old", "chat_id": chat_id, "id": reply_id,
        "messages": sent})
    assert answer.status_code == 200, answer.text
    job_id = answer.json()["task_ids"][0]
    assert [e for e in events.iter_events(job_id, keepalive=0.2) if e is not None][-1].data["status"] == "succeeded"
    assert fake_ollama.received("/api/chat")[-1].body["messages"] == sent

    chat = requests.get(f"{stack.url}/api/v1/chats/{chat_id}", headers=auth, timeout=10).json()["chat"]
    reply = chat["history"]["messages"][reply_id]
    assert reply["content"] == "You said: old client words" and reply["done"] is True
    assert reply["parentId"] == question["id"] and chat["history"]["currentId"] == reply_id
    assert chat["history"]["messages"][question["id"]]["childrenIds"] == [reply_id]

def test_users_see_only_the_models_opened_to_them(stack, admin, make_user, client):
    from shared.services.llm import registry

    user = bearer(make_user()["token"])
    assert requests.get(f"{stack.url}/api/models", headers=user, timeout=30).json() == {"data": []}
    denied = post(stack, "/api/chat/completions", user, {"model": LLAMA, "messages": CHAT})
    assert denied.status_code == 403 and denied.json() == {"detail": "Model not found"}

    with session_scope() as session:
        registry.open_to_users(session, [LLAMA])
    assert [m["id"] for m in requests.get(f"{stack.url}/api/models", headers=user, timeout=30).json()["data"]] == [LLAMA]
    assert post(stack, "/api/chat/completions", user, {"model": LLAMA, "messages": CHAT}).status_code == 200
    assert post(stack, "/api/chat/completions", user, {"model": "gpt-fake", "messages": CHAT}).status_code == 403
    assert requests.get(f"{stack.url}/api/models/base", headers=user, timeout=10).status_code == 401


def test_verify_connections_before_saving_them(stack, auth, fake_ollama, fake_openai):
    ollama = post(stack, "/ollama/verify", auth, {"url": fake_ollama.url})
    assert ollama.status_code == 200 and ollama.json()["version"]
    openai = post(stack, "/openai/verify", auth, {"url": fake_openai.url, "key": "sk-fake"})
    assert {m["id"] for m in openai.json()["data"]} == {"gpt-fake", "gpt-fake-mini"}
    wrong = post(stack, "/openai/verify", auth, {"url": fake_openai.url, "key": "sk-wrong"})
    assert wrong.status_code == 400 and "Incorrect API key" in wrong.json()["detail"]
    dead = post(stack, "/ollama/verify", auth, {"url": f"http://127.0.0.1:{free_port()}"})
    assert dead.status_code == 502


AZURE = {"azure": True, "api_version": "2024-10-21"}


def test_azure_openai_deployments(stack, auth, fake_openai):
    """An Azure OpenAI connection, as Open WebUI calls one: the key in ``api-key``, the model as the deployment
    in the path, ``api-version`` on every call, only the parameters Azure takes."""
    azure = FakeAzureOpenAI(api_key="azure-key", deployments=["gpt-4o-mini", "o3-mini"]).start()
    try:
        verified = post(stack, "/openai/verify", auth, {"url": azure.url, "key": "azure-key", "config": AZURE})
        assert {m["id"] for m in verified.json()["data"]} == {"gpt-4o-mini", "o3-mini"}
        assert azure.received("/openai/models")[-1].params == {"api-version": "2024-10-21"}
        refused = post(stack, "/openai/verify", auth, {"url": azure.url, "key": "wrong", "config": AZURE})
        assert refused.status_code == 400 and "invalid subscription key" in refused.json()["detail"]
        entra = post(stack, "/openai/verify", auth, {"url": azure.url, "config": {**AZURE, "auth_type": "azure_ad"}})
        assert entra.status_code == 501 and "auth_type 'azure_ad' is not supported" in entra.json()["detail"]

        saved = post(stack, "/openai/config/update", auth, {
            "ENABLE_OPENAI_API": True, "OPENAI_API_BASE_URLS": [fake_openai.url, azure.url],
            "OPENAI_API_KEYS": ["sk-fake", "azure-key"],
            "OPENAI_API_CONFIGS": {"1": {**AZURE, "model_ids": ["gpt-4o-mini", "o3-mini"]}}})
        assert saved.status_code == 200
        answer = post(stack, "/api/chat/completions", auth, {
            "model": "o3-mini", "messages": CHAT, "max_tokens": 3, "temperature": 0.5, "user": "u1"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["choices"][0]["message"]["content"] == "w0 w1 w2"
        sent = azure.received("/openai/deployments/o3-mini/chat/completions")[-1]
        assert sent.params == {"api-version": "2024-10-21"} and sent.headers["api-key"] == "azure-key"
        # A reasoning model: max_completion_tokens, no temperature; the model is in the path, not the body.
        assert sent.body == {"messages": CHAT, "max_completion_tokens": 3, "stream": False, "user": "u1"}

        streamed = sse_frames(post(stack, "/api/chat/completions", auth, {
            "model": "gpt-4o-mini", "messages": CHAT, "stream": True, "stream_options": {"include_usage": True}}))
        chunks = [json.loads(f) for f in streamed[:-1]]
        assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == \
            "You said: one two three"
        assert chunks[-1]["usage"]["completion_tokens"] == 5  # stream_options passed on (api-version >= 2024-09-01)

        embedded = post(stack, "/api/embeddings", auth, {"model": "gpt-4o-mini", "input": ["a b"]})
        assert embedded.status_code == 200 and len(embedded.json()["data"][0]["embedding"]) == 16
        assert azure.received("/openai/deployments/gpt-4o-mini/embeddings")[-1].headers["api-key"] == "azure-key"
    finally:
        post(stack, "/openai/config/update", auth, {
            "ENABLE_OPENAI_API": True, "OPENAI_API_BASE_URLS": [fake_openai.url], "OPENAI_API_KEYS": ["sk-fake"],
            "OPENAI_API_CONFIGS": {}})
        azure.stop()


def test_connection_custom_headers_fill_open_webui_placeholders(stack, auth, admin, fake_openai, fake_ollama):
    """A connection's ``headers`` go on every upstream request after its key, with ``{{...}}`` filled for the
    job's owner and request, values outside printable ASCII percent-encoded, as Open WebUI sends them."""
    headers = {"X-OpenWebUI-User": "{{USER_NAME}} <{{USER_EMAIL}}>", "X-Model": "{{MODEL_ID}}",
               "X-Chat": "[{{CHAT_ID}}]", "X-Team": "Zoë"}
    try:
        saved = post(stack, "/openai/config/update", auth, {
            "ENABLE_OPENAI_API": True, "OPENAI_API_BASE_URLS": [fake_openai.url], "OPENAI_API_KEYS": ["sk-fake"],
            "OPENAI_API_CONFIGS": {"0": {"headers": headers}}})
        assert saved.status_code == 200 and saved.json()["OPENAI_API_CONFIGS"]["0"]["headers"] == headers
        answer = post(stack, "/api/chat/completions", auth, {"model": "gpt-fake", "messages": CHAT})
        assert answer.status_code == 200, answer.text
        sent = fake_openai.received("/v1/chat/completions")[-1].headers
        assert sent["Authorization"] == "Bearer sk-fake"
        assert sent["X-OpenWebUI-User"] == "Admin <admin@example.com>" and sent["X-Model"] == "gpt-fake"
        assert sent["X-Chat"] == "[]" and sent["X-Team"] == "Zo%C3%AB"
        listed = fake_openai.received("/v1/models")[-1].headers  # the registry's refresh: a job without an owner
        assert listed["X-OpenWebUI-User"] == "<>" and listed["X-Model"] == ""

        saved = post(stack, "/ollama/config/update", auth, {
            "ENABLE_OLLAMA_API": True, "OLLAMA_BASE_URLS": [fake_ollama.url],
            "OLLAMA_API_CONFIGS": {"0": {"headers": {"X-Role": "{{USER_ROLE}}", "X-User-Id": "{{USER_ID}}"}}}})
        assert saved.status_code == 200
        proxied = post(stack, "/ollama/api/chat", auth, {"model": LLAMA, "messages": CHAT, "stream": False})
        assert proxied.status_code == 200, proxied.text
        sent = fake_ollama.received("/api/chat")[-1].headers
        assert sent["X-Role"] == "admin" and sent["X-User-Id"] == admin["id"]
    finally:
        post(stack, "/openai/config/update", auth, {
            "ENABLE_OPENAI_API": True, "OPENAI_API_BASE_URLS": [fake_openai.url], "OPENAI_API_KEYS": ["sk-fake"],
            "OPENAI_API_CONFIGS": {}})
        post(stack, "/ollama/config/update", auth, {
            "ENABLE_OLLAMA_API": True, "OLLAMA_BASE_URLS": [fake_ollama.url], "OLLAMA_API_CONFIGS": {}})


def test_stopping_a_background_reply_keeps_what_was_said(stack, auth, fake_ollama):
    warm(stack, auth)
    fake_ollama.behave(delay=0.05)
    reply_id = str(uuid.uuid4())
    user_message = {"id": str(uuid.uuid4()), "parentId": None, "childrenIds": [], "role": "user",
                    "content": "count", "timestamp": int(time.time())}
    body = post(stack, "/api/chat/completions", auth, {
        "model": LLAMA, "session_id": "sid-2", "id": reply_id, "parent_id": None, "user_message": user_message,
        "params": {"max_tokens": 400}}).json()
    job_id, chat_id = body["task_ids"][0], body["chat_id"]
    for event in events.iter_events(job_id, keepalive=0.2):
        if event is not None and event.type == "delta" and "w3" in event.data["content"]:
            break
    assert requests.get(f"{stack.url}/api/tasks/chat/{chat_id}", headers=auth, timeout=10).json()["task_ids"] == [job_id]
    stopped = post(stack, f"/api/tasks/chat/{chat_id}/stop", auth, {})
    assert stopped.status_code == 200
    assert fake_ollama.received("/api/chat")[-1].disconnected.wait(3)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        chat = requests.get(f"{stack.url}/api/v1/chats/{chat_id}", headers=auth, timeout=10).json()["chat"]
        reply = chat["history"]["messages"][reply_id]
        if reply.get("done"):
            break
        time.sleep(0.05)
    assert reply["done"] is True and reply["content"].startswith("w0 w1 w2 w3") and "w399" not in reply["content"]
    assert "error" not in reply or not reply["error"]


def test_a_multi_model_turn_gets_one_reply_per_model(stack, auth, fake_ollama, fake_openai):
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    user_message = {"id": str(uuid.uuid4()), "parentId": None, "childrenIds": [], "role": "user",
                    "content": "both of you", "timestamp": int(time.time())}
    body = post(stack, "/api/chat/completions", auth, {
        "model": LLAMA, "session_id": "sid-3", "id": first, "parent_id": None, "user_message": user_message,
        "message_ids": [{"model_id": LLAMA, "message_id": first, "modelIdx": 0},
                        {"model_id": "gpt-fake", "message_id": second, "modelIdx": 1}]}).json()
    assert len(body["task_ids"]) == 2
    for job_id in body["task_ids"]:
        assert list(events.iter_events(job_id, keepalive=0.2))[-1].data == {"status": "succeeded"}
    messages = requests.get(f"{stack.url}/api/v1/chats/{body['chat_id']}", headers=auth,
                            timeout=10).json()["chat"]["history"]["messages"]
    assert messages[user_message["id"]]["childrenIds"] == [first, second]
    assert [(messages[m]["model"], messages[m]["content"], messages[m]["done"]) for m in (first, second)] == [
        (LLAMA, "You said: both of you", True), ("gpt-fake", "You said: both of you", True)]

    unknown = post(stack, "/api/chat/completions", auth, {
        "model": LLAMA, "session_id": "sid-3", "id": str(uuid.uuid4()), "parent_id": None,
        "user_message": {**user_message, "id": str(uuid.uuid4())},
        "message_ids": [{"model_id": "nope", "message_id": str(uuid.uuid4())}]})
    assert unknown.status_code == 404
