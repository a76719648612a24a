"""A live Switchyard for the gateway tests: gunicorn (gevent) web + a real ``dramatiq workers.main``,
configured by environment to use the fake Ollama (connection 0) and the fake OpenAI (key ``sk-fake``).

Import the fixtures into a test module::

    from tests.e2e.gateway_stack import stack  # noqa: F401  (also brings the fake upstream fixtures)
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import pytest
import requests
from sqlalchemy import select

from shared.db import session_scope
from shared.models import Job
from tests.e2e.processes import web_server
from tests.fakes.fixtures import FAKE_OPENAI_KEY, fake_ollama, fake_openai, ollama_server, openai_server  # noqa: F401
from tests.jobs.worker import running_worker

UPSTREAM_TIMEOUT = 2
"""Seconds the worker waits for an upstream (``AIOHTTP_CLIENT_TIMEOUT``), short for the timeout tests."""
LLAMA = "llama-fake:latest"
CHAT = [{"role": "user", "content": "one two three"}]


@dataclass
class Stack:
    url: str
    worker: object


def stack_env(ollama_url: str, openai_url: str) -> dict[str, str]:
    return {
        "OLLAMA_BASE_URL": ollama_url, "OPENAI_API_BASE_URL": openai_url, "OPENAI_API_KEY": FAKE_OPENAI_KEY,
        "AIOHTTP_CLIENT_TIMEOUT": str(UPSTREAM_TIMEOUT), "AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST": "2",
        "MODELS_CACHE_TTL": "300", "JOB_IDLE_WAIT_MS": "50",
    }


@pytest.fixture(scope="module")
def stack(database, ollama_server, openai_server):
    env = stack_env(ollama_server.url, openai_server.url)
    with running_worker(threads=8, modules=(), env=env) as worker, web_server(env) as url:
        yield Stack(url, worker)


def post(stack, path: str, headers: dict, body: dict, **kwargs) -> requests.Response:
    return requests.post(f"{stack.url}{path}", headers=headers, json=body, timeout=30, **kwargs)


def sse_frames(response: requests.Response) -> list[str]:
    text = response.text
    assert text.endswith("\n\n")
    frames = text.strip("\n").split("\n\n")
    assert all(f.startswith("data: ") for f in frames), frames
    return [f[len("data: "):] for f in frames]


def warm(stack, headers: dict) -> None:
    """Fill the model registry while the fakes still behave."""
    assert requests.get(f"{stack.url}/api/models", headers=headers, timeout=30).ok


def latest_job(kind: str) -> Job:
    with session_scope() as session:
        return session.scalars(select(Job).where(Job.kind == kind).order_by(Job.created_at.desc())).first()


def background_request(model: str, session_id: str, content: str = "count", **extra) -> tuple[dict, str]:
    """A completion as the web app sends it for a new chat (answered at once, the reply saved into the chat
    by the job); and the id of the reply."""
    reply_id = str(uuid.uuid4())
    user_message = {"id": str(uuid.uuid4()), "parentId": None, "childrenIds": [], "role": "user",
                    "content": content, "timestamp": int(time.time()), "models": [model]}
    return {"model": model, "stream": True, "session_id": session_id, "id": reply_id, "parent_id": None,
            "user_message": user_message, "background_tasks": {"title_generation": False}, **extra}, reply_id
