"""An Ollama server's API: JSON calls, NDJSON streams (``/api/chat``, ``/api/generate``, ``/api/pull``), and the
OpenAI-compatible SSE streams of its ``/v1/`` routes."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shared.errors import UpstreamError
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

    def tags(self) -> list[dict]:
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
