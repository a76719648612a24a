"""Pytest fixtures for the fake upstreams: one server per test session, reset before each test.

Use them by importing into a test module (or a conftest)::

    from tests.fakes.fixtures import fake_ollama, fake_openai  # noqa: F401

``fake_ollama`` / ``fake_openai`` are :class:`FakeOllama` / :class:`FakeOpenAI` (API key ``sk-fake``)
with normal behaviour and an empty request log at the start of each test. An exception the fake's own
code raised while answering fails the test at teardown (and the session, for a server used without them).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.fakes.audio import FakeElevenLabs
from tests.fakes.images import FakeAutomatic1111, FakeComfyUI
from tests.fakes.jupyter import FakeJupyter
from tests.fakes.oauth_server import FakeOAuthServer
from tests.fakes.oidc_issuer import FakeIssuer
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.fakes.server import FakeUpstream
from tests.fakes.skills import FakeSkillHost
from tests.fakes.vector_stores import FakeVectorStores
from tests.fakes.web_search import FakeWebSearch
from tests.fakes.webhook_receiver import FakeWebhookReceiver
from tests.fakes.youtube import FakeYouTube

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


def _server(make: Callable[[], FakeUpstream]):
    """A session fixture: the fake started once; its own faults fail the session at the end."""

    @pytest.fixture(scope="session")
    def server() -> Iterator[FakeUpstream]:
        started = make().start()
        yield started
        started.stop()
        fail_on_faults(started)

    return server


def _fresh(server_fixture: str):
    """A test's fixture: the session's fake with normal behaviour and an empty request log, before and after."""

    @pytest.fixture
    def fake(request: pytest.FixtureRequest) -> Iterator[FakeUpstream]:
        server = request.getfixturevalue(server_fixture)
        server.reset()
        yield server
        server.reset()
        fail_on_faults(server)

    return fake


ollama_server = _server(FakeOllama)
openai_server = _server(lambda: FakeOpenAI(api_key=FAKE_OPENAI_KEY))
automatic1111_server = _server(lambda: FakeAutomatic1111(auth=FAKE_A1111_AUTH))
comfyui_server = _server(FakeComfyUI)
elevenlabs_server = _server(lambda: FakeElevenLabs(api_key=FAKE_ELEVENLABS_KEY))
skill_host_server = _server(FakeSkillHost)
oidc_issuer_server = _server(FakeIssuer)
oauth_server = _server(FakeOAuthServer)
web_search_server = _server(FakeWebSearch)
youtube_server = _server(FakeYouTube)
jupyter_server = _server(FakeJupyter)
webhook_receiver_server = _server(FakeWebhookReceiver)
vector_stores_server = _server(FakeVectorStores)
fake_ollama = _fresh("ollama_server")
fake_openai = _fresh("openai_server")
fake_automatic1111 = _fresh("automatic1111_server")
fake_comfyui = _fresh("comfyui_server")
fake_elevenlabs = _fresh("elevenlabs_server")
fake_skill_host = _fresh("skill_host_server")
fake_jupyter = _fresh("jupyter_server")
fake_webhook_receiver = _fresh("webhook_receiver_server")
fake_issuer = _fresh("oidc_issuer_server")
fake_oauth_server = _fresh("oauth_server")
fake_web_search = _fresh("web_search_server")
fake_youtube = _fresh("youtube_server")
fake_vector_stores = _fresh("vector_stores_server")
