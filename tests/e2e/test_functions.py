"""Filter functions in chats end to end: saved through the sandbox job, switched on, then each chat's request goes
through the filter's inlet (a job on the extensions queue) before the model and the web app's reply through its
outlet; a filter that fails fails the reply with a clear message and the worker keeps serving."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.gateway_stack import LLAMA, stack_env
from tests.e2e.gateway_stack import fake_ollama, ollama_server, openai_server  # noqa: F401
from tests.e2e.processes import web_server
from tests.e2e.socket_client import Browser
from tests.e2e.test_webui_chat import app_request
from tests.helpers import bearer
from tests.jobs.worker import running_worker

SHOUT = (Path(__file__).parent / "extensions" / "shout_filter.py").read_text()
LOOPING = "class Filter:\n    def inlet(self, body):\n        while True:\n            pass\n"


@pytest.fixture(scope="module")
def live(database, ollama_server, openai_server):
    env = stack_env(ollama_server.url, openai_server.url)
    with running_worker(threads=8, modules=(), env={**env, "EXTENSION_TIME_LIMIT_SECONDS": "3"}), \
            web_server(env) as url:
        yield url


def make_filter(live: str, token: str, function_id: str, content: str) -> dict:
    made = requests.post(f"{live}/api/v1/functions/create", headers=bearer(token), timeout=60,
                         json={"id": function_id, "name": function_id, "content": content})
    assert made.status_code == 200, made.text
    for switch in ("toggle", "toggle/global"):
        assert requests.post(f"{live}/api/v1/functions/id/{function_id}/{switch}", headers=bearer(token)).ok
    return made.json()


def test_a_global_filter_rewrites_the_request_and_the_saved_reply(live, admin, fake_ollama):
    token = admin["token"]
    made = make_filter(live, token, "shout", SHOUT)
    assert made["type"] == "filter" and made["is_active"] is False and made["meta"]["manifest"]["title"] == "Shout"
    assert requests.get(f"{live}/api/models", headers=bearer(token)).ok

    answer = requests.post(f"{live}/api/chat/completions", headers=bearer(token), timeout=60, json={
        "model": LLAMA, "messages": [{"role": "user", "content": "open the door"}]})
    assert answer.status_code == 200, answer.text
    assert fake_ollama.received("/api/chat")[-1].body["messages"][-1]["content"] == "open the door please"
    assert answer.json()["choices"][0]["message"]["content"] == "You said: open the door please"

    requests.post(f"{live}/api/v1/functions/id/shout/valves/update", headers=bearer(token),
                  json={"suffix": " now"}).raise_for_status()
    browser = Browser(live, token)
    try:
        body, reply_id = app_request(browser.client.sid, "wake up")
        started = requests.post(f"{live}/api/chat/completions", json=body, headers=bearer(token), timeout=30)
        assert started.status_code == 200, started.text
        events = browser.wait_until(lambda ev: any(e["data"]["data"] == {"active": False} for e in ev), timeout=60)
        kinds = [(e["data"]["type"], e["data"]["data"]) for e in events]
        assert ("status", {"description": "Asking politely", "done": True}) in kinds
        done = [data for kind, data in kinds if kind == "chat:completion" and data.get("done")]
        assert done[-1]["content"] == "YOU SAID: WAKE UP NOW"
        chat = requests.get(f"{live}/api/v1/chats/{started.json()['chat_id']}", headers=bearer(token)).json()
        assert chat["chat"]["history"]["messages"][reply_id]["content"] == "YOU SAID: WAKE UP NOW"
    finally:
        browser.close()

    requests.post(f"{live}/api/v1/functions/id/shout/toggle", headers=bearer(token)).raise_for_status()  # off
    requests.post(f"{live}/api/chat/completions", headers=bearer(token), timeout=60, json={
        "model": LLAMA, "messages": [{"role": "user", "content": "plain"}]}).raise_for_status()
    assert fake_ollama.received("/api/chat")[-1].body["messages"][-1]["content"] == "plain"


def test_a_filter_that_loops_fails_the_reply_and_the_worker_keeps_serving(live, admin, fake_ollama):
    token = admin["token"]
    make_filter(live, token, "looping", LOOPING)
    assert requests.get(f"{live}/api/models", headers=bearer(token)).ok
    failed = requests.post(f"{live}/api/chat/completions", headers=bearer(token), timeout=60, json={
        "model": LLAMA, "messages": [{"role": "user", "content": "hello"}]})
    assert failed.status_code == 400, failed.text
    assert "ran past its time limit (3 s)" in failed.json()["detail"]
    assert not fake_ollama.received("/api/chat")
    requests.delete(f"{live}/api/v1/functions/id/looping/delete", headers=bearer(token)).raise_for_status()
    served = requests.post(f"{live}/api/chat/completions", headers=bearer(token), timeout=60, json={
        "model": LLAMA, "messages": [{"role": "user", "content": "hello"}]})
    assert served.status_code == 200 and served.json()["choices"][0]["message"]["content"] == "You said: hello"


def test_functions_are_the_admins(live, admin, make_user):
    user = make_user()
    refused = requests.post(f"{live}/api/v1/functions/create", headers=bearer(user["token"]),
                            json={"id": "mine", "name": "Mine", "content": SHOUT})
    assert refused.status_code == 401
    not_code = requests.post(f"{live}/api/v1/functions/create", headers=bearer(admin["token"]), timeout=60,
                             json={"id": "tool_like", "name": "T", "content": "class Tools: pass"})
    assert not_code.status_code == 400 and "Filter, Action or Pipe" in not_code.json()["detail"]


ACTION = (Path(__file__).parent / "extensions" / "summary_action.py").read_text()


def test_an_action_button_runs_as_a_job_and_its_events_reach_the_chat(live, admin, make_user, fake_ollama):
    token = admin["token"]
    make_filter(live, token, "word_count", ACTION)  # switched on and global, as a filter would be
    listed = {m["id"]: m for m in requests.get(f"{live}/api/models", headers=bearer(token)).json()["data"]}
    assert listed[LLAMA]["actions"][0]["id"] == "word_count" and listed[LLAMA]["actions"][0]["name"] == "word_count"

    browser = Browser(live, token)
    try:
        chat = requests.post(f"{live}/api/v1/chats/new", headers=bearer(token), json={"chat": {"title": "t"}}).json()
        body = {"model": LLAMA, "chat_id": chat["id"], "id": "m1", "session_id": browser.client.sid,
                "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "one two three"}]}
        answer = requests.post(f"{live}/api/chat/actions/word_count", headers=bearer(token), json=body, timeout=60)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"count": 3, "unit": "words", "by": admin["name"]}
        events = browser.wait_until(lambda ev: any(e["data"]["type"] == "status" for e in ev), timeout=30)
        status = next(e for e in events if e["data"]["type"] == "status")
        assert status["chat_id"] == chat["id"] and status["message_id"] == "m1"
        assert status["data"]["data"] == {"description": "Counted 3", "done": True}
    finally:
        browser.close()

    user = make_user()
    foreign = requests.post(f"{live}/api/chat/actions/word_count", headers=bearer(user["token"]), json=body)
    assert foreign.status_code == 404  # not their chat
    unknown = requests.post(f"{live}/api/chat/actions/nothing", headers=bearer(token), json=body)
    assert unknown.status_code == 400 and "not available" in unknown.json()["detail"]


MANIFOLD = (Path(__file__).parent / "extensions" / "echo_manifold.py").read_text()


def test_a_pipe_is_a_model_answered_by_its_code(live, admin, fake_ollama):
    token = admin["token"]
    made = make_filter(live, token, "echo", MANIFOLD)
    assert made["type"] == "pipe"
    listed = {m["id"]: m for m in requests.get(f"{live}/api/models", headers=bearer(token)).json()["data"]}
    assert listed["echo.plain"]["name"] == "echo plain" and listed["echo.loud"]["pipe"] == {"type": "pipe"}
    assert "echo.plain" not in {m["id"] for m in requests.get(f"{live}/openai/models", headers=bearer(token)).json()[
        "data"]}

    answer = requests.post(f"{live}/api/chat/completions", headers=bearer(token), timeout=60, json={
        "model": "echo.loud", "messages": [{"role": "user", "content": "hi there"}]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == "Echo (loud): HI THERE "
    assert answer.json()["model"] == "echo.loud"
    with requests.post(f"{live}/api/chat/completions", headers=bearer(token), timeout=60, stream=True, json={
            "model": "echo.plain", "stream": True, "messages": [{"role": "user", "content": "hi"}]}) as streamed:
        frames = [line for line in streamed.iter_lines(decode_unicode=True) if line.startswith("data: ")]
    pieces = [_delta_text(frame) for frame in frames[:-1]]
    assert [p for p in pieces if p] == ["Echo ", "(plain): ", "hi "] and frames[-1] == "data: [DONE]"
    assert not fake_ollama.received("/api/chat")


def _delta_text(frame: str) -> str:
    return "".join((c.get("delta") or {}).get("content") or "" for c in json.loads(frame[6:]).get("choices", []))


LEET = (Path(__file__).parent / "extensions" / "leet_stream_filter.py").read_text()


def test_a_stream_filter_rewrites_each_chunk_with_its_module_loaded_once(live, admin, fake_ollama):
    token = admin["token"]
    make_filter(live, token, "leet", LEET)
    with requests.post(f"{live}/api/chat/completions", headers=bearer(token), timeout=60, stream=True, json={
            "model": LLAMA, "stream": True, "messages": [{"role": "user", "content": "hello there"}]}) as streamed:
        frames = [line for line in streamed.iter_lines(decode_unicode=True) if line.startswith("data: {")]
    pieces = [_delta_text(frame) for frame in frames if _delta_text(frame)]
    # every chunk went through the filter, in order, by one loaded module (its counter goes on)
    assert len(pieces) > 1
    counters = [int(p.rsplit("[", 1)[1].rstrip("]")) for p in pieces]
    assert counters == sorted(counters) and len(set(counters)) == len(counters) and counters[0] >= 1
    text = "".join(p.rsplit("[", 1)[0] for p in pieces)
    assert text == "You said: hello there".replace("e", "3")
    requests.delete(f"{live}/api/v1/functions/id/leet/delete", headers=bearer(token)).raise_for_status()


STRING_INVERSE = (Path(__file__).parent / "extensions" / "string_inverse.py").read_text()


def test_a_model_calls_a_tool_and_answers_from_its_result(live, admin, fake_ollama):
    token = admin["token"]
    saved = requests.post(f"{live}/api/v1/tools/create", headers=bearer(token), timeout=60, json={
        "id": "string_inverse", "name": "String Inverse", "content": STRING_INVERSE})
    assert saved.status_code == 200, saved.text
    requests.post(f"{live}/api/v1/tools/id/string_inverse/valves/update", headers=bearer(token),
                  json={"api_key": "42"}).raise_for_status()
    assert requests.get(f"{live}/api/models", headers=bearer(token)).ok
    fake_ollama.behave(tool_calls=[{"name": "reverse_string", "arguments": {"string": "stressed"}}])

    answer = requests.post(f"{live}/api/chat/completions", headers=bearer(token), timeout=60, json={
        "model": LLAMA, "tool_ids": ["string_inverse"], "messages": [{"role": "user", "content": "reverse it"}]})
    assert answer.status_code == 200, answer.text
    reply = answer.json()
    assert reply["choices"][0]["message"]["content"] == "Tool said: desserts"
    first, second = fake_ollama.received("/api/chat")[-2:]
    assert first.body["tools"][0]["function"]["name"] == "reverse_string"
    assert second.body["messages"][-1] == {"role": "tool", "content": "desserts"}
    kinds = [item["type"] for item in reply["output"]]
    assert kinds == ["function_call", "function_call_output", "message"]
    assert reply["output"][1]["output"][0]["text"] == "desserts" and reply["output"][1]["status"] == "completed"

    # a call the tool cannot answer goes back to the model as its error
    fake_ollama.behave(tool_calls=[{"name": "no_such_function", "arguments": {}}])
    failed = requests.post(f"{live}/api/chat/completions", headers=bearer(token), timeout=60, json={
        "model": LLAMA, "tool_ids": ["string_inverse"], "messages": [{"role": "user", "content": "again"}]}).json()
    assert failed["choices"][0]["message"]["content"] == "Tool said: Error: No tool offers no_such_function."


def test_chat_completed_runs_the_outlet_filters(live, admin, fake_ollama):
    token = admin["token"]
    make_filter(live, token, "shouting", SHOUT)
    assert requests.get(f"{live}/api/models", headers=bearer(token)).ok
    body = {"model": LLAMA, "chat_id": "local:x", "id": "m1",
            "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello there"}]}
    passed = requests.post(f"{live}/api/chat/completed", headers=bearer(token), json=body, timeout=60)
    assert passed.status_code == 200, passed.text
    assert passed.json()["messages"][-1]["content"] == "HELLO THERE"
    requests.post(f"{live}/api/v1/functions/id/shouting/toggle", headers=bearer(token)).raise_for_status()
    echoed = requests.post(f"{live}/api/chat/completed", headers=bearer(token), json=body, timeout=60).json()
    assert echoed["messages"][-1]["content"] == "hello there"


def test_an_openapi_tool_server_is_read_by_a_job_and_called_by_the_chat_job(live, admin, make_user, fake_ollama):
    from tests.fakes.tool_server import FakeToolServer

    server = FakeToolServer(api_key="tool-key").start()
    token = admin["token"]
    try:
        connection = {"url": server.url, "path": "openapi.json", "type": "openapi", "auth_type": "bearer",
                      "key": "tool-key", "config": {"enable": True}}
        checked = requests.post(f"{live}/api/v1/configs/tool_servers/verify", headers=bearer(token), json=connection,
                                timeout=60)
        assert checked.status_code == 200 and checked.json()["info"]["title"] == "Weather and sums"
        saved = requests.post(f"{live}/api/v1/configs/tool_servers", headers=bearer(token), timeout=30,
                              json={"TOOL_SERVER_CONNECTIONS": [connection]})
        assert saved.json()["TOOL_SERVER_CONNECTIONS"][0]["key"] == "tool-key"

        def listed() -> list[dict]:
            return [t for t in requests.get(f"{live}/api/v1/tools/", headers=bearer(token)).json()
                    if t["id"] == "server:0"]
        deadline = time.monotonic() + 30
        while not listed():
            assert time.monotonic() < deadline, "the tool server's document was not read"
            time.sleep(0.2)
        assert listed()[0]["name"] == "Weather and sums"
        assert requests.get(f"{live}/api/models", headers=bearer(token)).ok

        fake_ollama.behave(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}},
                                       {"name": "add_numbers", "arguments": {"a": 2, "b": 3}}])
        answer = requests.post(f"{live}/api/chat/completions", headers=bearer(token), timeout=60, json={
            "model": LLAMA, "tool_ids": ["server:0"], "messages": [{"role": "user", "content": "weather?"}]})
        assert answer.status_code == 200, answer.text
        offered = {t["function"]["name"]: t["function"] for t in fake_ollama.received("/api/chat")[-2].body["tools"]}
        assert offered["add_numbers"]["parameters"]["required"] == ["a", "b"]
        assert server.received("/weather")[-1].params == {"city": "Paris"}
        assert server.received("/add")[-1].body == {"a": 2, "b": 3}
        outputs = [item["output"][0]["text"] for item in answer.json()["output"]
                   if item["type"] == "function_call_output"]
        assert outputs == ['{"city": "Paris", "sky": "clear", "celsius": 21}', '{"sum": 5}']

        user = make_user()
        assert requests.get(f"{live}/api/v1/configs/tool_servers", headers=bearer(user["token"])).status_code == 401
    finally:
        server.stop()


def test_legacy_tool_calling_asks_first_and_answers_from_the_results_as_sources(live, admin, fake_ollama):
    token = admin["token"]
    requests.post(f"{live}/api/v1/tools/create", headers=bearer(token), timeout=60, json={
        "id": "string_inverse", "name": "String Inverse", "content": STRING_INVERSE}).raise_for_status()
    requests.post(f"{live}/api/v1/tools/id/string_inverse/valves/update", headers=bearer(token),
                  json={"api_key": "42"}).raise_for_status()
    assert requests.get(f"{live}/api/models", headers=bearer(token)).ok
    # the fake model echoes its question, so the query itself is the choice it answers with
    choice = '{"tool_calls": [{"name": "reverse_string", "parameters": {"string": "stressed", "extra": 1}}]}'
    answer = requests.post(f"{live}/api/chat/completions", headers=bearer(token), timeout=60, json={
        "model": LLAMA, "tool_ids": ["string_inverse"], "params": {"function_calling": "legacy"},
        "messages": [{"role": "user", "content": choice}]})
    assert answer.status_code == 200, answer.text
    asked, answered = fake_ollama.received("/api/chat")[-2:]
    assert "tools" not in asked.body and asked.body["messages"][0]["content"].startswith("Available Tools: [")
    assert asked.body["messages"][1]["content"] == f"Query: {choice}"
    assert "desserts" in answered.body["messages"][-1]["content"]  # the tool's result, in the RAG template
    source = answer.json()["sources"][0]
    assert source["source"] == {"name": "string_inverse/reverse_string"} and source["document"] == ["desserts"]
    assert source["metadata"][0]["parameters"] == {"string": "stressed"}  # only what the spec names


def test_sync_makes_the_functions_exactly_the_ones_sent(live, admin):
    token = admin["token"]
    make_filter(live, token, "old_one", SHOUT)
    synced = requests.post(f"{live}/api/v1/functions/sync", headers=bearer(token), timeout=60, json={"functions": [
        {"id": "shout", "name": "Shout", "content": SHOUT, "valves": {"suffix": "!"}, "is_active": True,
         "is_global": True},
        {"id": "word_count", "name": "Word Count", "content": ACTION}]})
    assert synced.status_code == 200, synced.text
    assert [(f["id"], f["type"], f["is_active"], f["valves"]) for f in synced.json()] == [
        ("shout", "filter", True, {"suffix": "!"}), ("word_count", "action", False, None)]
    listed = requests.get(f"{live}/api/v1/functions/list", headers=bearer(token)).json()
    assert sorted(f["id"] for f in listed) == ["shout", "word_count"]  # old_one is gone

    broken = requests.post(f"{live}/api/v1/functions/sync", headers=bearer(token), timeout=60, json={"functions": [
        {"id": "fine", "name": "Fine", "content": SHOUT}, {"id": "bad", "name": "Bad", "content": "class Filter:\n"}]})
    assert broken.status_code == 400 and "IndentationError" in broken.json()["detail"]
    assert sorted(f["id"] for f in requests.get(f"{live}/api/v1/functions/list", headers=bearer(token)).json()) == [
        "shout", "word_count"]  # nothing changed


def test_a_module_whose_requirements_are_missing_is_refused_naming_them(live, admin):
    """With ``ENABLE_PIP_INSTALL_FRONTMATTER_REQUIREMENTS`` off, requirements are reported, never installed."""
    content = '"""\ntitle: Needy\nrequirements: sy-absent>=1\n"""\nimport sy_absent\n\n\nclass Filter:\n    pass\n'
    made = requests.post(f"{live}/api/v1/functions/create", headers=bearer(admin["token"]), timeout=60,
                         json={"id": "needy", "name": "Needy", "content": content})
    assert made.status_code == 400
    detail = made.json()["detail"]
    assert "No module named 'sy_absent'" in detail and "sy-absent>=1 are not installed" in detail
    assert "ENABLE_PIP_INSTALL_FRONTMATTER_REQUIREMENTS" in detail


def test_an_mcp_tool_server_is_listed_discovered_by_a_job_and_called_by_the_chat_job(live, admin, make_user,
                                                                                     fake_ollama):
    from tests.fakes.mcp_server import FakeMCPServer

    server = FakeMCPServer(token="mcp-key").start()
    token = admin["token"]
    try:
        connection = {"url": server.url, "type": "mcp", "auth_type": "bearer", "key": "mcp-key",
                      "config": {"enable": True}, "info": {"id": "shouter", "name": "Shouter",
                                                           "description": "Capitals"}}
        requests.post(f"{live}/api/v1/configs/tool_servers", headers=bearer(token), timeout=30,
                      json={"TOOL_SERVER_CONNECTIONS": [connection]}).raise_for_status()
        listed = [t for t in requests.get(f"{live}/api/v1/tools/", headers=bearer(token)).json()
                  if t["id"] == "server:mcp:shouter"]
        assert listed and listed[0]["name"] == "Shouter" and listed[0]["meta"]["description"] == "Capitals"

        specs = requests.get(f"{live}/api/v1/tools/id/server:mcp:shouter/specs", headers=bearer(token), timeout=60)
        assert specs.status_code == 200, specs.text
        assert specs.json() == {"specs": [{"name": "shout", "description": "Say the text in capitals"},
                                          {"name": "fail", "description": "Always fails"}]}
        assert requests.get(f"{live}/api/v1/tools/id/server:0/specs", headers=bearer(token)).status_code == 404

        fake_ollama.behave(tool_calls=[{"name": "shout", "arguments": {"text": "hello"}}])
        answer = requests.post(f"{live}/api/chat/completions", headers=bearer(token), timeout=60, json={
            "model": LLAMA, "tool_ids": ["server:mcp:shouter"], "messages": [{"role": "user", "content": "shout"}]})
        assert answer.status_code == 200, answer.text
        offered = {t["function"]["name"] for t in fake_ollama.received("/api/chat")[-2].body["tools"]}
        assert offered == {"shout", "fail"}
        assert server.calls[-1] == ("shout", {"text": "hello"})
        assert set(server.authorizations) == {"Bearer mcp-key"}
        outputs = [item["output"][0]["text"] for item in answer.json()["output"]
                   if item["type"] == "function_call_output"]
        assert outputs == ["HELLO"]

        fake_ollama.behave(tool_calls=[{"name": "fail", "arguments": {}}])
        failed = requests.post(f"{live}/api/chat/completions", headers=bearer(token), timeout=60, json={
            "model": LLAMA, "tool_ids": ["server:mcp:shouter"], "messages": [{"role": "user", "content": "fail"}]})
        said = [item["output"][0]["text"] for item in failed.json()["output"] if item["type"] == "function_call_output"]
        assert said and said[0].startswith("Error: ") and "Error executing tool fail" in said[0]

        server.stop()
        down = requests.get(f"{live}/api/v1/tools/id/server:mcp:shouter/specs", headers=bearer(token), timeout=60)
        assert down.status_code == 502 and "could not be used" in down.json()["detail"]
        user = make_user()
        assert requests.get(f"{live}/api/v1/tools/id/server:mcp:unknown/specs",
                            headers=bearer(user["token"])).status_code == 404
    finally:
        server.stop()
