"""The web app's chat turn end to end: POST /api/chat/completions in background mode on one web process,
the reply streamed over socket.io from another, saved into the chat, then title, tags and follow-ups."""
from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.gateway_stack import fake_ollama, ollama_server, openai_server, stack, stack_env  # noqa: F401
from tests.e2e.processes import web_server
from tests.e2e.socket_client import Browser

LLAMA = "llama-fake:latest"


@pytest.fixture(scope="module")
def second_web(stack, ollama_server, openai_server):
    with web_server(stack_env(ollama_server.url, openai_server.url)) as url:
        yield url


def types(events: list[dict]) -> list[str]:
    return [e["data"]["type"] for e in events]


def app_request(sid: str, text: str, *, chat_id: str | None = None, parent_id: str | None = None,
                tasks: dict | None = None) -> tuple[dict, str]:
    """The body the web app sends (see frontend-contract.md §2b); returns it and the reply's id."""
    user_id, reply_id = str(uuid.uuid4()), str(uuid.uuid4())
    body = {
        "stream": True, "model": LLAMA, "messages": [{"role": "system", "content": "Be brief."}],
        "params": {}, "features": {"web_search": False}, "variables": {}, "session_id": sid,
        "id": reply_id, "parent_id": parent_id, "model_item": {"id": LLAMA, "name": "Llama Fake"},
        "message_ids": [{"model_id": LLAMA, "message_id": reply_id, "modelIdx": 0}],
        "user_message": {"id": user_id, "parentId": parent_id, "childrenIds": [], "role": "user",
                         "content": text, "timestamp": 1700000000, "models": [LLAMA]},
        "background_tasks": tasks or {},
    }
    if chat_id:
        body["chat_id"] = chat_id
    return body, reply_id


def test_a_new_chat_streams_saves_and_gets_a_title(stack, second_web, admin, fake_ollama):
    headers = {"Authorization": f"Bearer {admin['token']}"}
    requests.post(f"{stack.url}/api/v1/tasks/config/update", headers=headers, json={
        "TITLE_GENERATION_PROMPT_TEMPLATE": 'Answer {"title": "Greeting in tests"} about {{MESSAGES:END:2}}',
    }).raise_for_status()
    # The text goes to the browser once per published batch; tokens further apart than JOB_STREAM_FLUSH_MS
    # (50 ms) are a batch each, so each one shows.
    fake_ollama.behave(delay=0.06)
    browser = Browser(second_web, admin["token"])
    try:
        body, reply_id = app_request(browser.client.sid, "hello there", tasks={
            "title_generation": True, "tags_generation": True, "follow_up_generation": True})
        answer = requests.post(f"{stack.url}/api/chat/completions", json=body, headers=headers, timeout=30)
        assert answer.status_code == 200, answer.text
        started = answer.json()
        chat_id = started["chat_id"]
        assert started["status"] is True and len(started["task_ids"]) == 1

        events = browser.wait_until(lambda ev: {"chat:title", "chat:tags", "chat:message:follow_ups"}
                                    <= set(types(ev)), timeout=30)
        mine = [e for e in events if e["chat_id"] == chat_id]
        assert all(e["message_id"] == reply_id for e in mine)
        kinds = types(mine)
        assert kinds[0] == "chat:active" and mine[0]["data"]["data"] == {"active": True}
        completions = [e["data"]["data"] for e in mine if e["data"]["type"] == "chat:completion"]
        assert completions[-1]["done"] is True
        assert completions[-1]["content"] == "You said: hello there"
        partial = [c["content"] for c in completions if not c.get("done")]
        assert len(partial) >= 3 and all(b.startswith(a) for a, b in zip(partial, partial[1:]))
        assert kinds.index("chat:active", 1) > kinds.index("chat:completion")
        title = next(e["data"]["data"] for e in mine if e["data"]["type"] == "chat:title")
        assert title == "Greeting in tests"
        assert next(e["data"]["data"] for e in mine if e["data"]["type"] == "chat:tags") == ["tag1", "tag2", "tag3"]
        follow_ups = next(e["data"]["data"] for e in mine if e["data"]["type"] == "chat:message:follow_ups")
        assert len(follow_ups["follow_ups"]) == 3

        chat = requests.get(f"{stack.url}/api/v1/chats/{chat_id}", headers=headers).json()
        assert chat["title"] == "Greeting in tests"
        reply = chat["chat"]["history"]["messages"][reply_id]
        assert reply["done"] is True and reply["content"] == "You said: hello there"
        assert reply["followUps"] == follow_ups["follow_ups"]
        sent = fake_ollama.received("/api/chat")[0].body["messages"]
        assert sent == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello there"}]
    finally:
        browser.close()


def test_the_next_turn_sends_the_stored_history(stack, admin, fake_ollama):
    headers = {"Authorization": f"Bearer {admin['token']}"}
    browser = Browser(stack.url, admin["token"])
    try:
        first, first_reply = app_request(browser.client.sid, "one")
        chat_id = requests.post(f"{stack.url}/api/chat/completions", json=first, headers=headers).json()["chat_id"]
        browser.wait_until(lambda ev: sum(1 for e in ev if e["data"]["type"] == "chat:active") >= 2)
        second, second_reply = app_request(browser.client.sid, "two", chat_id=chat_id, parent_id=first_reply)
        second["messages"] = []
        assert requests.post(f"{stack.url}/api/chat/completions", json=second, headers=headers).ok
        events = browser.wait_until(lambda ev: any(e["message_id"] == second_reply and e["data"]["data"] ==
                                                   {"active": False} for e in ev))
        done = [e["data"]["data"] for e in events if e["message_id"] == second_reply
                and e["data"]["type"] == "chat:completion" and e["data"]["data"].get("done")]
        assert done and done[0]["content"] == "You said: two"
        assert fake_ollama.received("/api/chat")[-1].body["messages"] == [
            {"role": "user", "content": "one"}, {"role": "assistant", "content": "You said: one"},
            {"role": "user", "content": "two"}]
    finally:
        browser.close()


def test_an_upstream_failure_reaches_the_browser_and_the_chat(stack, admin, fake_ollama):
    headers = {"Authorization": f"Bearer {admin['token']}"}
    assert requests.get(f"{stack.url}/api/models", headers=headers).ok  # the registry knows the model
    fake_ollama.behave(status=400, error="model is sleeping")
    browser = Browser(stack.url, admin["token"])
    try:
        body, reply_id = app_request(browser.client.sid, "anyone there?")
        started = requests.post(f"{stack.url}/api/chat/completions", json=body, headers=headers)
        assert started.status_code == 200, started.text
        chat_id = started.json()["chat_id"]
        events = browser.wait_until(lambda ev: "chat:message:error" in types(ev) and
                                    any(e["data"]["data"] == {"active": False} for e in ev))
        error = next(e["data"]["data"] for e in events if e["data"]["type"] == "chat:message:error")
        assert "model is sleeping" in error["error"]["content"] and error["done"] is True
        reply = requests.get(f"{stack.url}/api/v1/chats/{chat_id}", headers=headers).json()
        stored = reply["chat"]["history"]["messages"][reply_id]
        assert stored["done"] is True and "model is sleeping" in stored["error"]["content"]
    finally:
        browser.close()


def test_stopping_a_reply_keeps_what_was_said(stack, admin, fake_ollama):
    headers = {"Authorization": f"Bearer {admin['token']}"}
    fake_ollama.behave(delay=0.3)
    browser = Browser(stack.url, admin["token"])
    try:
        body, reply_id = app_request(browser.client.sid, "one two three four five six seven eight nine ten")
        chat_id = requests.post(f"{stack.url}/api/chat/completions", json=body, headers=headers).json()["chat_id"]
        browser.wait_until(lambda ev: sum(1 for e in ev if e["data"]["type"] == "chat:completion") >= 3)
        stop = requests.post(f"{stack.url}/api/tasks/chat/{chat_id}/stop", headers=headers)
        assert stop.status_code == 200, stop.text
        events = browser.wait_until(lambda ev: any(e["data"]["data"] == {"active": False} for e in ev), timeout=10)
        assert "chat:tasks:cancel" in types(events)
        said = [e["data"]["data"]["content"] for e in events if e["data"]["type"] == "chat:completion"][-1]
        assert said.startswith("You said: one") and not said.endswith("ten")
        stored = requests.get(f"{stack.url}/api/v1/chats/{chat_id}", headers=headers).json()
        reply = stored["chat"]["history"]["messages"][reply_id]
        assert reply["done"] is True and reply["content"] == said
    finally:
        browser.close()


def test_an_arena_reply_says_and_saves_which_model_answered(stack, admin, fake_ollama):
    headers = {"Authorization": f"Bearer {admin['token']}"}
    requests.post(f"{stack.url}/api/v1/evaluations/config", headers=headers, json={
        "EVALUATION_ARENA_MODELS": [{"id": "duel", "name": "Duel", "meta": {"model_ids": [LLAMA]}}]}).raise_for_status()
    browser = Browser(stack.url, admin["token"])
    try:
        body, reply_id = app_request(browser.client.sid, "who answers?")
        body = {**body, "model": "duel", "message_ids": [{"model_id": "duel", "message_id": reply_id}]}
        started = requests.post(f"{stack.url}/api/chat/completions", json=body, headers=headers)
        assert started.status_code == 200, started.text
        events = browser.wait_until(lambda ev: any(e["data"]["data"] == {"active": False} for e in ev))
        completions = [e["data"]["data"] for e in events if e["data"]["type"] == "chat:completion"]
        assert completions[0] == {"selected_model_id": LLAMA}
        chat = requests.get(f"{stack.url}/api/v1/chats/{started.json()['chat_id']}", headers=headers).json()
        reply = chat["chat"]["history"]["messages"][reply_id]
        assert reply["model"] == "duel" and reply["selectedModelId"] == LLAMA
        assert reply["content"] == "You said: who answers?"
    finally:
        browser.close()
