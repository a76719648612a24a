"""An OpenAI-compatible API: ``/models``, ``/chat/completions`` (JSON or SSE chunks), ``/embeddings``."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from shared.errors import UpstreamError
from shared.providers.upstream import Upstream

DONE = "[DONE]"


def _error_message(body: Any) -> str | None:
    """OpenAI's error body is ``{"error": {"message": ...}}``; some compatible servers send a string."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        return error.get("message")
    return error if isinstance(error, str) else body.get("detail") if isinstance(body.get("detail"), str) else None


class OpenAIClient:
    def __init__(self, base_url: str, key: str | None = None, timeout: float | None = None,
                 headers: dict[str, str] | None = None) -> None:
        all_headers = {**(headers or {}), **({"Authorization": f"Bearer {key}"} if key else {})}
        self.http = Upstream("OpenAI", base_url, all_headers, timeout, _error_message)

    def call(self, method: str, path: str, body: dict | None = None) -> Any:
        """One JSON answer: ``/models``, ``/chat/completions`` without streaming, ``/embeddings``."""
        return self.http.json(method, path, body)

    def models(self) -> list[dict]:
        body = self.call("GET", "/models")
        data = body.get("data") if isinstance(body, dict) else body
        return data if isinstance(data, list) else []

    def stream(self, path: str, body: dict) -> Iterator[dict]:
        """The JSON chunks of an SSE answer, in order, ending before ``data: [DONE]``."""
        for line in self.http.lines("POST", path, {**body, "stream": True}):
            if not line.startswith(b"data:"):
                continue  # comments (": keep-alive"), event: and id: lines
            data = line[5:].strip()
            if data.decode(errors="replace") == DONE:
                return
            try:
                yield json.loads(data)
            except ValueError as exc:
                raise UpstreamError("OpenAI: the stream holds a chunk that is not JSON") from exc
