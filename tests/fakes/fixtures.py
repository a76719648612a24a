"""Pytest fixtures for the fake upstreams: one server per test session, reset before each test.

Use them by importing into a test module (or a conftest)::

    from tests.fakes.fixtures import fake_ollama, fake_openai  # noqa: F401

``fake_ollama`` / ``fake_openai`` are :class:`FakeOllama` / :class:`FakeOpenAI` (API key ``sk-fake``)
with normal behaviour and an empty request log at the start of each test. An exception the fake's own
code raised while answering fails the test at teardown (and the session, for a server used without them).
"""
from __future__ import annotations

import pytest

from tests.fakes.audio import FakeElevenLabs
from tests.fakes.images import FakeAutomatic1111, FakeComfyUI
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.fakes.server import FakeUpstream

FAKE_OPENAI_KEY = "sk-fake"
FAKE_A1111_AUTH = "sd:s3cret"
FAKE_ELEVENLABS_KEY = "xi-fake"


def fail_on_faults(fake: FakeUpstream) -> None:
    """Fail the test if the fake's own code raised while answering (a broken fake must not pass as a
    failing upstream)."""
    failures = fake.take_failures()
    if failures:
        pytest.fail(f"the fake upstream at {fake.url} raised while answering:\n" + "\n".join(failures),
                    pytrace=False)


@pytest.fixture(scope="session")
def ollama_server():
    server = FakeOllama().start()
    yield server
    server.stop()
    fail_on_faults(server)


@pytest.fixture(scope="session")
def openai_server():
    server = FakeOpenAI(api_key=FAKE_OPENAI_KEY).start()
    yield server
    server.stop()
    fail_on_faults(server)


@pytest.fixture
def fake_ollama(ollama_server):
    ollama_server.reset()
    yield ollama_server
    ollama_server.reset()
    fail_on_faults(ollama_server)


@pytest.fixture
def fake_openai(openai_server):
    openai_server.reset()
    yield openai_server
    openai_server.reset()
    fail_on_faults(openai_server)


@pytest.fixture(scope="session")
def automatic1111_server():
    server = FakeAutomatic1111(auth=FAKE_A1111_AUTH).start()
    yield server
    server.stop()
    fail_on_faults(server)


@pytest.fixture(scope="session")
def comfyui_server():
    server = FakeComfyUI().start()
    yield server
    server.stop()
    fail_on_faults(server)


@pytest.fixture
def fake_automatic1111(automatic1111_server):
    automatic1111_server.reset()
    automatic1111_server.steps_delay = 0.0
    yield automatic1111_server
    automatic1111_server.reset()
    fail_on_faults(automatic1111_server)


@pytest.fixture
def fake_comfyui(comfyui_server):
    comfyui_server.reset()
    yield comfyui_server
    comfyui_server.reset()
    fail_on_faults(comfyui_server)


@pytest.fixture(scope="session")
def elevenlabs_server():
    server = FakeElevenLabs(api_key=FAKE_ELEVENLABS_KEY).start()
    yield server
    server.stop()
    fail_on_faults(server)


@pytest.fixture
def fake_elevenlabs(elevenlabs_server):
    elevenlabs_server.reset()
    yield elevenlabs_server
    elevenlabs_server.reset()
    fail_on_faults(elevenlabs_server)
