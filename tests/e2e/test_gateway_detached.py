"""Streamed completions with ``Prefer: respond-async``: the client gets the job at once (202), reads its
deltas from the job's event stream (resumable with ``Last-Event-ID``) or polls it, and only ``cancel``
stops it: leaving the event stream never does."""
from __future__ import annotations

import json

import pytest
import requests

from tests.e2e.gateway_stack import CHAT, LLAMA, post, warm
from tests.e2e.gateway_stack import fake_ollama, fake_openai, ollama_server, openai_server, stack  # noqa: F401
from tests.helpers import bearer, wait_for

ASYNC = {"Prefer": "respond-async"}


@pytest.fixture
def auth(admin) -> dict:
    return bearer(admin["token"])


def _events(stack, auth: dict, job_id: str, last_event_id: str | None = None, limit: int | None = None):
    """(id, type, data) of the job's events, from after ``last_event_id``; stops after ``limit`` deltas
    (closing the connection mid-stream) or at the stream's end."""
    headers = {**auth, **({"Last-Event-ID": last_event_id} if last_event_id else {})}
    out, deltas = [], 0
    with requests.get(f"{stack.url}/api/v1/jobs/{job_id}/events", headers=headers, stream=True, timeout=30) as r:
        assert r.status_code == 200
        frame: dict[str, str] = {}
        for line in r.iter_lines(decode_unicode=True):
            if line.startswith(("id:", "event:", "data:")):
                name, _, value = line.partition(": ")
                frame[name] = value
            elif not line and frame:
                out.append((frame["id"], frame["event"], json.loads(frame["data"])))
                deltas += frame["event"] == "delta"
                frame = {}
                if limit is not None and deltas >= limit:
                    break
    return out


def _accepted(response: requests.Response) -> str:
    assert response.status_code == 202, response.text
    assert response.headers["Preference-Applied"] == "respond-async"
    body = response.json()
    assert response.headers["Location"] == body["url"] == f"/api/v1/jobs/{body['job_id']}"
    return body["job_id"]


def _ollama_text(events: list) -> str:
    return "".join(d["chunk"]["message"]["content"] for _, kind, d in events if kind == "delta")


def _openai_text(events: list) -> str:
    return "".join(choice["delta"].get("content") or "" for _, kind, d in events if kind == "delta"
                   for choice in d["chunk"].get("choices") or [])


@pytest.mark.parametrize("path, model, text", [
    ("/api/chat/completions", LLAMA, _openai_text),
    ("/ollama/api/chat", LLAMA, _ollama_text),
    ("/ollama/v1/chat/completions", LLAMA, _openai_text),
    ("/openai/chat/completions", "gpt-fake", _openai_text),
])
def test_a_detached_stream_answers_202_and_its_events_hold_every_delta(stack, auth, fake_ollama, fake_openai,
                                                                       path, model, text):
    warm(stack, auth)
    job_id = _accepted(post(stack, path, {**auth, **ASYNC}, {"model": model, "messages": CHAT, "stream": True}))
    events = _events(stack, auth, job_id)
    assert text(events) == "You said: one two three"
    assert events[-1][1:] == ("status", {"status": "succeeded"})
    polled = requests.get(f"{stack.url}/api/v1/jobs/{job_id}", headers=auth, timeout=10).json()
    assert polled["status"] == "succeeded" and polled["result"]


def test_leaving_the_event_stream_never_cancels_and_a_resumed_reader_loses_nothing(stack, auth, fake_ollama):
    warm(stack, auth)
    fake_ollama.behave(delay=0.02)
    body = {"model": LLAMA, "messages": CHAT, "options": {"num_predict": 60}}
    job_id = _accepted(post(stack, "/ollama/api/chat", {**auth, **ASYNC}, body))
    first = _events(stack, auth, job_id, limit=3)  # the reader goes away mid-stream
    rest = _events(stack, auth, job_id, last_event_id=first[-1][0])
    contents = [d["chunk"]["message"]["content"] for _, kind, d in first + rest if kind == "delta"]
    assert contents == ["w0", *(f" w{i}" for i in range(1, 60)), ""]
    assert rest[-1][1:] == ("status", {"status": "succeeded"})


def test_only_cancel_stops_a_detached_stream(stack, auth, fake_ollama):
    warm(stack, auth)
    fake_ollama.behave(delay=0.05)
    body = {"model": LLAMA, "messages": CHAT, "options": {"num_predict": 400}}
    job_id = _accepted(post(stack, "/ollama/api/chat", {**auth, **ASYNC}, body))
    _events(stack, auth, job_id, limit=2)
    assert requests.post(f"{stack.url}/api/v1/jobs/{job_id}/cancel", headers=auth, timeout=10).ok
    assert fake_ollama.received("/api/chat")[-1].disconnected.wait(5)
    wait_for(lambda: requests.get(f"{stack.url}/api/v1/jobs/{job_id}", headers=auth, timeout=10)
             .json()["status"] == "cancelled", "the detached job cancelled")
