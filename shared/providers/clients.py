"""The one interface jobs use to reach a model server, and which client serves each kind of connection.

Every client speaks its server's own API (``call``, ``stream``: what the proxy routes relay unchanged) and
OpenAI's shapes (``chat``, ``chat_stream``, ``embed``, converted where the server speaks another format), so
an actor never branches on a connection's kind. Adding an upstream is one module with such a class and one
line in :data:`KINDS`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

from shared.providers.ollama import OllamaClient
from shared.providers.openai import OpenAIClient
from shared.providers.upstream import Streamed


class Endpoint(Protocol):
    """Where a client connects: a saved connection, or one being verified before it is saved."""

    kind: str
    url: str
    key: str | None
    config: dict


class LLMClient(Protocol):
    def call(self, method: str, path: str, body: dict | None = None) -> Any:
        """One JSON answer of the server's own API."""

    def stream(self, path: str, body: dict) -> Iterator[Streamed]:
        """The objects of a streamed answer of the server's own API, as it sent them."""

    def models(self) -> list[dict]:
        """The server's model list, in its own shape."""

    def chat(self, body: dict, model: str) -> dict:
        """An OpenAI ``chat.completion`` for ``body`` (whose ``model`` is the server's name for it);
        ``model`` is the name a converted answer reports."""

    def chat_stream(self, body: dict, model: str) -> Iterator[Streamed]:
        """The OpenAI ``chat.completion.chunk`` objects of a streamed chat completion."""

    def embed(self, body: dict, model: str) -> dict:
        """OpenAI's embeddings answer for ``body["input"]``."""


KINDS: dict[str, Callable[[Endpoint, float | None, dict[str, str]], LLMClient]] = {
    "ollama": lambda endpoint, timeout, headers: OllamaClient(endpoint.url, endpoint.key, timeout, headers),
    "openai": lambda endpoint, timeout, headers: OpenAIClient(endpoint.url, endpoint.key, timeout, endpoint.config,
                                                              headers),
}


def client_for(endpoint: Endpoint, timeout: float | None = None, headers: dict[str, str] | None = None) -> LLMClient:
    """A client for ``endpoint``; ``headers`` (its custom headers) go on every request after the key's."""
    return KINDS[endpoint.kind](endpoint, timeout, headers or {})
