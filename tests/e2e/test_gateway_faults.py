"""What a client of a live Switchyard (web -> Redis -> real worker -> fake upstream) sees when the upstream
sends what real ones send beyond plain text: tool calls, thinking, keep-alive lines, an error mid-stream,
429 with Retry-After, a stall, an error page that is not JSON."""
from __future__ import annotations

import json

import pytest
import requests

from shared.jobs import events
from tests.e2e.gateway_stack import (CHAT, LLAMA, UPSTREAM_TIMEOUT, background_request, latest_job, post,
                                     sse_frames, warm)
from tests.e2e.gateway_stack import fake_ollama, fake_openai, ollama_server, openai_server, stack  # noqa: F401
from tests.fakes.server import NGINX_502
from tests.helpers import bearer

WEATHER = [{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}},
           {"name": "get_time", "arguments": {"zone": "Europe/Paris"}}]
THINKING = "The user counts; I should answer."
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]


@pytest.fixture
def auth(admin) -> dict:
    return bearer(admin["token"])


def chunks_of(frames: list[str]) -> list[dict]:
    assert frames[-1] == "[DONE]"
    return [json.loads(frame) for frame in frames[:-1]]


def deltas(chunks: list[dict]) -> list[dict]:
    return [c["choices"][0]["delta"] for c in chunks if c.get("choices")]


def tool_calls(chunks: list[dict]) -> list[dict]:
    """The tool calls of a stream, put together from their fragments as an OpenAI client does."""
    calls: dict[int, dict] = {}
    for delta in deltas(chunks):
        for fragment in delta.get("tool_calls") or []:
            call = calls.setdefault(fragment["index"], {"id": None, "name": "", "arguments": ""})
            call["id"] = fragment.get("id") or call["id"]
            call["name"] += fragment.get("function", {}).get("name") or ""
            call["arguments"] += fragment.get("function", {}).get("arguments") or ""
    return [calls[index] for index in sorted(calls)]


def reasoning(chunks: list[dict]) -> str:
    return "".join(d.get("reasoning_content") or "" for d in deltas(chunks))


def ndjson(response: requests.Response) -> list[dict]:
    assert response.headers["Content-Type"] == "application/x-ndjson"
    return [json.loads(line) for line in response.text.splitlines()]


def test_openai_tool_call_and_reasoning_chunks_reach_the_client_as_sent(stack, auth, fake_openai):
    fake_openai.behave(tool_calls=WEATHER, thinking=THINKING)
    for path in ("/api/chat/completions", "/openai/chat/completions"):
        chunks = chunks_of(sse_frames(post(stack, path, auth, {"model": "gpt-fake", "messages": CHAT,
                                                               "tools": TOOLS, "stream": True})))
        assert reasoning(chunks) == THINKING
        calls = tool_calls(chunks)
        assert [(c["name"], json.loads(c["arguments"])) for c in calls] == [
            (w["name"], w["arguments"]) for w in WEATHER]
        assert all(c["id"].startswith("call_") for c in calls)
        assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
        assert sum(1 for d in deltas(chunks) if d.get("tool_calls")) > 4  # the fragments, not one merged chunk
    assert fake_openai.received("/v1/chat/completions")[-1].body["tools"] == TOOLS
    assert latest_job("chat.completion").status == "succeeded"


def test_ollama_tool_call_and_thinking_chunks_reach_the_client(stack, auth, fake_ollama):
    fake_ollama.behave(tool_calls=WEATHER, thinking=THINKING)
    lines = ndjson(post(stack, "/ollama/api/chat", auth, {"model": LLAMA, "messages": CHAT, "tools": TOOLS,
                                                         "think": True}))
    assert "".join(o["message"].get("thinking", "") for o in lines) == THINKING
    assert [o["message"]["tool_calls"] for o in lines if o["message"].get("tool_calls")] == [
        [{"function": {"name": w["name"], "arguments": w["arguments"]}} for w in WEATHER]]
    assert lines[-1]["done"] is True
    assert fake_ollama.received("/api/chat")[-1].body["think"] is True

    chunks = chunks_of(sse_frames(post(stack, "/api/chat/completions", auth, {
        "model": LLAMA, "messages": CHAT, "tools": TOOLS, "think": True, "stream": True})))
    assert reasoning(chunks) == THINKING
    assert [(c["name"], json.loads(c["arguments"])) for c in tool_calls(chunks)] == [
        (w["name"], w["arguments"]) for w in WEATHER]
    assert fake_ollama.received("/api/chat")[-1].body["tools"] == TOOLS


def test_keep_alive_lines_do_not_break_the_stream(stack, auth, fake_openai):
    fake_openai.behave(keepalive=True)
    for path in ("/api/chat/completions", "/openai/chat/completions"):
        chunks = chunks_of(sse_frames(post(stack, path, auth, {"model": "gpt-fake", "messages": CHAT,
                                                               "stream": True})))
        assert "".join(d.get("content") or "" for d in deltas(chunks)) == "You said: one two three"
    assert latest_job("openai.chat.completions").status == "succeeded"


def test_an_openai_error_mid_stream_ends_the_clients_stream_with_it_and_fails_the_job(stack, auth, fake_openai):
    warm(stack, auth)
    fake_openai.behave(error_after=3, error="The server had an error while processing your request.")
    for path, kind in (("/api/chat/completions", "chat.completion"),
                       ("/openai/chat/completions", "openai.chat.completions")):
        frames = sse_frames(post(stack, path, auth, {"model": "gpt-fake", "messages": CHAT, "stream": True}))
        assert frames[-1] == "[DONE]" and len(frames) == 3 + 2  # three chunks, the error, [DONE]
        assert json.loads(frames[-2])["error"] == {
            "message": "OpenAI: The server had an error while processing your request.", "type": "upstream_error",
            "param": None, "code": 502}
        job = latest_job(kind)
        assert job.status == "failed" and job.error["message"].startswith("OpenAI: The server had an error")
    assert len(fake_openai.received("/v1/chat/completions")) == 2  # never retried after the first byte


def test_an_ollama_error_line_mid_stream_ends_the_clients_stream_with_it_and_fails_the_job(stack, auth, fake_ollama):
    warm(stack, auth)
    fake_ollama.behave(error_after=2, error="an error was encountered while running the model")
    lines = ndjson(post(stack, "/ollama/api/chat", auth, {"model": LLAMA, "messages": CHAT}))
    assert [o.get("message", {}).get("content") for o in lines[:-1]] == ["You", " said:"]
    assert lines[-1] == {"error": "Ollama: an error was encountered while running the model"}
    assert latest_job("ollama.api.chat").status == "failed"

    frames = sse_frames(post(stack, "/api/chat/completions", auth, {"model": LLAMA, "messages": CHAT, "stream": True}))
    assert json.loads(frames[-2])["error"]["message"] == "Ollama: an error was encountered while running the model"
    assert latest_job("chat.completion").status == "failed"


def test_an_error_mid_stream_of_a_background_reply_is_saved_on_the_reply(stack, auth, fake_openai):
    warm(stack, auth)
    fake_openai.behave(error_after=3, error="The server had an error while processing your request.")
    body, reply_id = background_request("gpt-fake", "sid-faults")
    started = post(stack, "/api/chat/completions", auth, body).json()
    job_id, chat_id = started["task_ids"][0], started["chat_id"]
    assert list(events.iter_events(job_id, keepalive=0.2))[-1].data == {"status": "failed"}
    reply = requests.get(f"{stack.url}/api/v1/chats/{chat_id}", headers=auth,
                         timeout=10).json()["chat"]["history"]["messages"][reply_id]
    assert reply["done"] is True and reply["content"] == "You said:"
    assert reply["error"] == {"content": "OpenAI: The server had an error while processing your request."}


def test_a_429_is_retried_after_its_retry_after_then_answered_with_it(stack, auth, fake_openai):
    warm(stack, auth)
    fake_openai.behave(status=429, error="Rate limit reached for gpt-fake on requests per min (RPM)", retry_after=1)
    refused = post(stack, "/api/chat/completions", auth, {"model": "gpt-fake", "messages": CHAT})
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert refused.json() == {"detail": "OpenAI: Rate limit reached for gpt-fake on requests per min (RPM)"}
    asked = [r.at for r in fake_openai.received("/v1/chat/completions")]
    assert len(asked) == 3  # the first attempt and two retries (the interactive retry policy)
    assert all(later - earlier >= 1 for earlier, later in zip(asked, asked[1:]))  # each after the Retry-After
    assert (latest_job("chat.completion").status, latest_job("chat.completion").attempts) == ("failed", 3)

    fake_openai.behave(status=429, error="Rate limit reached", retry_after=1, fail_times=1)
    answer = post(stack, "/api/chat/completions", auth, {"model": "gpt-fake", "messages": CHAT})
    assert answer.status_code == 200 and answer.json()["choices"][0]["message"]["content"] == "You said: one two three"


def test_a_429_asking_for_a_longer_wait_than_the_retry_policy_allows_fails_at_once(stack, auth, fake_openai):
    warm(stack, auth)
    fake_openai.behave(status=429, error="Rate limit reached", retry_after=120)
    refused = post(stack, "/openai/chat/completions", auth, {"model": "gpt-fake", "messages": CHAT})
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "120"
    assert refused.json()["error"]["message"] == "OpenAI: Rate limit reached"
    assert len(fake_openai.received("/v1/chat/completions")) == 1


@pytest.mark.parametrize("path", ["/api/chat/completions", "/ollama/api/chat"])
def test_a_stream_that_stalls_ends_with_a_timeout_error_and_a_failed_job(stack, auth, fake_ollama, path):
    warm(stack, auth)
    fake_ollama.behave(stall_after=3)
    response = post(stack, path, auth, {"model": LLAMA, "messages": CHAT, "stream": True})
    message = f"Ollama: the stream from {fake_ollama.url} stalled: nothing more within {UPSTREAM_TIMEOUT} s"
    if path == "/ollama/api/chat":
        lines = ndjson(response)
        assert len(lines) == 4 and lines[-1] == {"error": message}
    else:
        frames = sse_frames(response)
        assert len(frames) == 3 + 2 and json.loads(frames[-2])["error"]["code"] == 504
        assert json.loads(frames[-2])["error"]["message"] == message
    assert fake_ollama.received("/api/chat")[-1].disconnected.wait(5)  # the upstream connection is closed
    job = latest_job("chat.completion" if path == "/api/chat/completions" else "ollama.api.chat")
    assert (job.status, job.error["status"], job.attempts) == ("failed", 504, 1)


@pytest.mark.parametrize(("error_body", "detail"), [
    (("text/html", NGINX_502), "HTTP 502 Bad Gateway (an HTML page, not the server's own error: likely from a "
                               "proxy in front of it)"),
    (("text/plain", "Internal Server Error: worker crashed\n"), "HTTP 500 Internal Server Error: Internal Server "
                                                                 "Error: worker crashed"),
])
def test_an_error_page_that_is_not_json_is_a_clear_detail(stack, auth, fake_openai, fake_ollama, error_body, detail):
    warm(stack, auth)
    status = 502 if error_body[0] == "text/html" else 500
    for fake, path, model, name in ((fake_openai, "/api/chat/completions", "gpt-fake", "OpenAI"),
                                    (fake_ollama, "/ollama/api/chat", LLAMA, "Ollama")):
        fake.behave(status=status, error_body=error_body)
        failed = post(stack, path, auth, {"model": model, "messages": CHAT, "stream": True})
        assert failed.status_code == 502 and failed.headers["Content-Type"] == "application/json"
        assert failed.json() == {"detail": f"{name}: {detail}"}
