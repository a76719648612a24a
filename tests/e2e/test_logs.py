"""JSON logs: a request's id in the web's log line and in the worker's lines of the job it sent; no secrets in
the logs of a whole flow (password, API key, JWT, upstream key)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from tests.e2e.gateway_stack import stack_env
from tests.e2e.processes import web_server
from tests.fakes.fixtures import FAKE_OPENAI_KEY, ollama_server, openai_server  # noqa: F401
from tests.jobs.worker import running_worker

PASSWORD = "pass-w0rd-that-must-not-leak"


@pytest.fixture
def logged(tmp_path, ollama_server, openai_server):
    """Web and worker with ``LOG_FORMAT=json``; yields the URL and a function reading both logs."""
    env = {**stack_env(ollama_server.url, openai_server.url), "LOG_FORMAT": "json"}
    web_log = tmp_path / "web.log"
    with running_worker(threads=4, modules=(), env=env) as worker, web_server(env, log=web_log) as url:
        yield url, lambda: (Path(web_log).read_text(errors="replace"), worker.output())


def records(text: str) -> list[dict]:
    """The JSON lines of a log (gunicorn's own start-up lines are not ours)."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def flow(url: str, request_id: str) -> dict:
    """Sign up, make an API key, and chat through the upstream with it; what a leak would show."""
    signed = requests.post(f"{url}/api/v1/auths/signup", timeout=30,
                           json={"name": "Admin", "email": "admin@example.com", "password": PASSWORD}).json()
    token = signed["token"]
    key = requests.post(f"{url}/api/v1/auths/api_key", headers={"Authorization": f"Bearer {token}"},
                        timeout=30).json()["api_key"]
    headers = {"Authorization": f"Bearer {key}"}
    assert requests.get(f"{url}/api/models", headers=headers, timeout=30).ok
    answer = requests.post(f"{url}/api/chat/completions", timeout=60, headers={**headers, "X-Request-ID": request_id},
                           json={"model": "gpt-fake", "messages": [{"role": "user", "content": "hello there"}]})
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Request-ID"] == request_id
    return {"token": token, "key": key}


def test_a_request_id_is_followed_into_the_worker(logged):
    url, read_logs = logged
    flow(url, "trace-1234.abcd")
    made_up = requests.get(f"{url}/health", headers={"X-Request-ID": "no spaces allowed"}, timeout=10)
    assert made_up.headers["X-Request-ID"] != "no spaces allowed" and len(made_up.headers["X-Request-ID"]) == 32
    web, worker = (records(text) for text in read_logs())
    assert any(r["request_id"] == "trace-1234.abcd" and "/api/chat/completions 200" in r["message"] for r in web)
    traced = [r for r in worker if r["request_id"] == "trace-1234.abcd"]
    assert any(r["message"].startswith("llm.") and r["message"].endswith("started") for r in traced), worker[-20:]
    assert any(r["message"].endswith("done") for r in traced)
    assert all({"time", "level", "logger", "message", "process"} <= set(r) for r in web + worker)


def test_no_secrets_in_the_logs(logged):
    url, read_logs = logged
    leaked = flow(url, "secrets-run")
    requests.post(f"{url}/api/v1/auths/signin", json={"email": "admin@example.com", "password": PASSWORD + "x"},
                  timeout=30)
    text = "\n".join(read_logs())
    assert "secrets-run" in text  # the logs were read
    for name, secret in {"password": PASSWORD, "API key": leaked["key"], "JWT": leaked["token"],
                         "upstream key": FAKE_OPENAI_KEY}.items():
        assert secret not in text, f"the {name} is in the logs"
