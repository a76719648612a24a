"""An OpenAI-compatible API: ``/models``, ``/chat/completions`` (JSON or SSE chunks), ``/embeddings``.

A connection's config may make it Azure OpenAI (``azure: true`` or ``provider: "azure"``), as Open WebUI
does: the key goes in an ``api-key`` header, and unless the base URL is Azure's v1 API (``.../openai/v1``,
used like any OpenAI server) the model is the deployment in the path, every call carries the config's
``api_version``, and chat bodies keep only the parameters Azure accepts.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from shared.errors import UpstreamError
from shared.providers.upstream import Streamed, Upstream, parse_streamed

DONE = b"[DONE]"
AZURE_API_VERSION = "2023-03-15-preview"
"""Open WebUI's default when an Azure connection names no ``api_version``."""
AZURE_CHAT_PARAMS = frozenset({
    "messages", "temperature", "role", "content", "contentPart", "contentPartImage", "enhancements",
    "dataSources", "n", "stream", "stop", "max_tokens", "presence_penalty", "frequency_penalty", "logit_bias",
    "user", "function_call", "functions", "tools", "tool_choice", "top_p", "log_probs", "top_logprobs",
    "response_format", "seed", "max_completion_tokens", "reasoning_effort",
})
"""The chat completion parameters an Azure deployment accepts (``stream_options`` too from 2024-09-01-preview)."""
AUTH_TYPES = ("bearer", "none")
_AZURE_V1 = re.compile(r"/openai/v1(?:/|$)")


def is_azure(config: dict) -> bool:
    return bool(config.get("azure")) or config.get("provider") == "azure"


def _reasoning_model(model: str) -> bool:
    """o-series and gpt-5 or later: ``max_completion_tokens`` instead of ``max_tokens``, temperature 1 only."""
    name = re.sub(r"^(?:[a-z-]+\.)?openai\.", "", model.lower())
    generation = re.match(r"^gpt-(\d+)", name)
    return bool(re.match(r"^o\d+", name)) or (generation is not None and int(generation.group(1)) >= 5)


def azure_chat_body(body: dict, api_version: str) -> dict:
    """A chat completion body as an Azure deployment takes it (the model is in the path)."""
    body = dict(body)
    if _reasoning_model(body.get("model") or ""):
        if "max_tokens" in body:
            body["max_completion_tokens"] = body.pop("max_tokens")
        if body.get("temperature", 1) != 1:
            del body["temperature"]
    allowed = AZURE_CHAT_PARAMS | ({"stream_options"} if api_version >= "2024-09-01-preview" else set())
    return {name: value for name, value in body.items() if name in allowed}


def _error_message(body: Any) -> str | None:
    """OpenAI's error body is ``{"error": {"message": ...}}``; some compatible servers send a string."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        return error.get("message")
    return error if isinstance(error, str) else body.get("detail") if isinstance(body.get("detail"), str) else None


def _is_done(line: bytes) -> bool:
    return line.startswith(b"data:") and line[5:].strip() == DONE


def sse_chunks(http: Upstream, path: str, body: dict) -> Iterator[Streamed]:
    """The JSON chunks of an OpenAI-format SSE answer, in order, ending before ``data: [DONE]`` (the rest of
    the body is read, so the connection can be reused: see :meth:`Upstream.lines`). A chunk that is an
    error object (how OpenAI and compatible servers fail a stream they have begun) ends it with that error."""
    for line in http.lines("POST", path, body, last=_is_done):
        if not line.startswith(b"data:"):
            continue  # comments (": keep-alive"), event: and id: lines
        data = line[5:].strip()
        if data == DONE:
            continue  # the last line: ``lines`` reads the rest of the body and ends
        try:
            streamed = parse_streamed(data)
        except ValueError as exc:
            raise UpstreamError(f"{http.name}: the stream holds a chunk that is not JSON") from exc
        if isinstance(streamed.value, dict) and streamed.value.get("error"):
            message = _error_message(streamed.value) or "the stream ended with an error"
            raise UpstreamError(f"{http.name}: {message}")
        yield streamed


class OpenAIClient:
    def __init__(self, base_url: str, key: str | None = None, timeout: float | None = None,
                 config: dict | None = None, extra_headers: dict[str, str] | None = None) -> None:
        """``extra_headers`` (the connection's custom headers) go on every request, after the key's."""
        config = config or {}
        auth_type = config.get("auth_type") or "bearer"
        if auth_type not in AUTH_TYPES:
            raise UpstreamError(f"OpenAI: the connection's auth_type {auth_type!r} is not supported here "
                                f"(supported: {', '.join(AUTH_TYPES)}).", 501)
        headers = {"Authorization": f"Bearer {key}"} if key and auth_type == "bearer" else {}
        self.api_version: str | None = None
        """Set for Azure OpenAI's deployment API (not its v1 API)."""
        if is_azure(config):
            headers["api-key"] = key or ""
            if not _AZURE_V1.search(base_url):
                self.api_version = str(config.get("api_version") or AZURE_API_VERSION)
                headers["api-version"] = self.api_version
        self.http = Upstream("OpenAI", base_url, {**headers, **(extra_headers or {})}, timeout, _error_message)

    def _route(self, path: str, body: dict | None) -> tuple[str, dict | None]:
        """Where a call goes and what it sends: unchanged, or Azure's deployment path and body."""
        if self.api_version is None:
            return path, body
        query = f"?api-version={quote(self.api_version, safe='')}"
        if path == "/models":
            return f"/openai/models{query}", body
        model = (body or {}).get("model") or ""
        if not model or ".." in model or "/" in model or "\\" in model:
            raise UpstreamError("Invalid model name: must not be empty or contain path separators or traversal "
                                "sequences", 400)
        if path == "/chat/completions":
            body = azure_chat_body(body or {}, self.api_version)
        return f"/openai/deployments/{quote(model, safe='')}{path}{query}", body

    def call(self, method: str, path: str, body: dict | None = None) -> Any:
        """One JSON answer: ``/models``, ``/chat/completions`` without streaming, ``/embeddings``."""
        return self.http.json(method, *self._route(path, body))

    def models(self) -> list[dict]:
        body = self.call("GET", "/models")
        data = body.get("data") if isinstance(body, dict) else body
        return data if isinstance(data, list) else []

    def stream(self, path: str, body: dict) -> Iterator[Streamed]:
        """The JSON chunks of the SSE answer (see :func:`sse_chunks`)."""
        return sse_chunks(self.http, *self._route(path, {**body, "stream": True}))

    def chat(self, body: dict, model: str) -> dict:
        """A ``chat.completion``, as the server answered it (``model`` names converted answers only)."""
        return self.call("POST", "/chat/completions", {**body, "stream": False})

    def chat_stream(self, body: dict, model: str) -> Iterator[Streamed]:
        """The ``chat.completion.chunk`` objects of a streamed chat completion."""
        return self.stream("/chat/completions", body)

    def embed(self, body: dict, model: str) -> dict:
        """OpenAI's embeddings answer for ``body["input"]``."""
        return self.call("POST", "/embeddings", body)
