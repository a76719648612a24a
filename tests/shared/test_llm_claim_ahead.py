"""Which gateway jobs their sender claims (``claim_ahead``): only those that change nothing upstream."""
from __future__ import annotations

import pytest

from shared.db import session_scope
from shared.jobs.enqueue import CLAIM_AHEAD
from shared.models import User
from shared.services.llm import gateway
from shared.services.llm.connections import Connection
from tests.helpers import admin, app, client  # noqa: F401  (fixtures)

OLLAMA = Connection("ollama", 0, "http://127.0.0.1:9", None, {})


@pytest.mark.parametrize(("method", "path", "ahead"), [
    ("POST", "/api/chat", True), ("POST", "/api/generate", True), ("POST", "/api/embed", True),
    ("POST", "/v1/chat/completions", True), ("GET", "/api/tags", True), ("POST", "/api/show", True),
    ("POST", "/api/pull", False), ("DELETE", "/api/delete", False), ("POST", "/api/create", False),
    ("POST", "/api/copy", False), ("POST", "/api/push", False),
])
def test_only_proxied_calls_that_change_nothing_upstream_are_claimed_ahead(admin, method, path, ahead):
    with session_scope() as session:
        job = gateway.enqueue_proxy(session, session.get(User, admin["id"]), OLLAMA, method, path, {})
        assert bool(job.options.get(CLAIM_AHEAD)) is ahead


def test_a_pull_keeps_its_own_options_and_is_not_claimed_ahead(admin):
    with session_scope() as session:
        job = gateway.enqueue_proxy(session, session.get(User, admin["id"]), OLLAMA, "POST", "/api/pull", {},
                                        options={"time_limit": 1000})
        assert job.options == {"time_limit": 1000}


@pytest.mark.parametrize(("background", "ahead"), [(None, True), ({"chat_id": "c1", "message_id": "m1"}, False)])
def test_a_chat_completion_is_claimed_ahead_unless_it_is_saved_into_a_chat(admin, background, ahead):
    """The web app's background reply is saved into the chat and delivered over socket.io: claimed first."""
    with session_scope() as session:
        resolved = gateway.Resolved({"id": "llama-fake:latest"}, OLLAMA, "llama-fake:latest", None)
        job = gateway._enqueue_chat(session, session.get(User, admin["id"]), resolved,
                                    {"messages": [{"role": "user", "content": "hi"}]}, background, None, None, {})
        assert bool(job.options.get(CLAIM_AHEAD)) is ahead
