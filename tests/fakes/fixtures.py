"""Pytest fixtures for the fake upstreams: one server per test session, reset before each test.

Use them by importing into a test module (or a conftest)::

    from tests.fakes.fixtures import fake_ollama, fake_openai  # noqa: F401

``fake_ollama`` / ``fake_openai`` are :class:`FakeOllama` / :class:`FakeOpenAI` (API key ``sk-fake``)
with normal behaviour and an empty request log at the start of each test.
"""
from __future__ import annotations

import pytest

from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI

FAKE_OPENAI_KEY = "sk-fake"


@pytest.fixture(scope="session")
def ollama_server():
    server = FakeOllama().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def openai_server():
    server = FakeOpenAI(api_key=FAKE_OPENAI_KEY).start()
    yield server
    server.stop()


@pytest.fixture
def fake_ollama(ollama_server):
    ollama_server.reset()
    yield ollama_server
    ollama_server.reset()


@pytest.fixture
def fake_openai(openai_server):
    openai_server.reset()
    yield openai_server
    openai_server.reset()
