"""An Ollama server's API: JSON calls, NDJSON streams (``/api/chat``, ``/api/generate``, ``/api/pull``), the
OpenAI-compatible SSE streams of its ``/v1/`` routes, and chat completions and embeddings in OpenAI's shapes
(converted by ``formats``)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shared.errors import UpstreamError
from shared.providers import formats
from shared.providers.openai import sse_chunks
from shared.providers.upstream import Streamed, Upstream, parse_streamed


def _error_message(body: Any) -> str | None:
    """Ollama's error body is ``{"error": "..."}``."""
    return body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), str) else None


class OllamaClient:
    def __init__(self, base_url: str, key: str | None = None, timeout: float | None = None,
                 extra_headers: dict[str, str] | None = None) -> None:
        """``extra_headers`` (the connection's custom headers) go on every request, after the key's."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.http = Upstream("Ollama", base_url, {**headers, **(extra_headers or {})}, timeout, _error_message)

    def call(self, method: str, path: str, body: dict | None = None) -> Any:
        """One JSON answer (``/api/tags``, ``/api/show``, ``/api/embed``, a non-streamed chat ...)."""
        return self.http.json(method, path, body)

    def models(self) -> list[dict]:
        """The models in ``/api/tags``."""
        answer = self.call("GET", "/api/tags")
        return (answer or {}).get("models") or []

    def stream(self, path: str, body: dict) -> Iterator[Streamed]:
        """The objects of an NDJSON answer, one per line, exactly as Ollama sent them; an ``{"error"}``
        line (Ollama's way to fail a stream it has begun) ends it with that error. Its OpenAI-compatible
        ``/v1/`` routes stream SSE chunks instead."""
        if path.startswith("/v1/"):
            yield from sse_chunks(self.http, path, {**body, "stream": True})
            return
        for line in self.http.lines("POST", path, {**body, "stream": True}):
            try:
                streamed = parse_streamed(line)
            except ValueError as exc:
                raise UpstreamError("Ollama: the stream holds a line that is not JSON") from exc
            message = _error_message(streamed.value)
            if message is not None:
                raise UpstreamError(f"Ollama: {message}")
            yield streamed

    def chat(self, body: dict, model: str) -> dict:
        """An OpenAI-format chat completion (``body["model"]`` is Ollama's name; ``model`` names the answer)."""
        answer = self.call("POST", "/api/chat", formats.chat_request_to_ollama({**body, "stream": False}, body["model"]))
        return formats.ollama_answer_to_openai(formats.CompletionIds(model), answer)

    def chat_stream(self, body: dict, model: str) -> Iterator[Streamed]:
        """Ollama's chat stream as OpenAI ``chat.completion.chunk`` objects."""
        ids = formats.CompletionIds(model)
        request = formats.chat_request_to_ollama({**body, "stream": True}, body["model"])
        for index, part in enumerate(self.stream("/api/chat", request)):
            yield Streamed.of(formats.ollama_chunk_to_openai(ids, part.value, index == 0))

    def embed(self, body: dict, model: str) -> dict:
        """OpenAI's embeddings answer, from Ollama's ``/api/embed``."""
        answer = self.call("POST", "/api/embed", formats.embed_request_to_ollama(body, body["model"]))
        return formats.ollama_embed_to_openai(answer, model)
