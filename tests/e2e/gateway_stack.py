"""A live Switchyard for the gateway tests: gunicorn (gevent) web + a real ``dramatiq workers.main``,
configured by environment to use the fake Ollama (connection 0) and the fake OpenAI (key ``sk-fake``).

Import the fixtures into a test module::

    from tests.e2e.gateway_stack import stack  # noqa: F401  (also brings the fake upstream fixtures)
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.e2e.processes import web_server
from tests.fakes.fixtures import FAKE_OPENAI_KEY, fake_ollama, fake_openai, ollama_server, openai_server  # noqa: F401
from tests.jobs.worker import running_worker

UPSTREAM_TIMEOUT = 2
"""Seconds the worker waits for an upstream (``AIOHTTP_CLIENT_TIMEOUT``), short for the timeout tests."""


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
