"""A protocol-faithful fake OpenAI API on 127.0.0.1, for tests and the benchmark.

Fixture API (``tests/fakes/fixtures.py`` registers ``fake_openai``; or use the class directly)::

    fake = FakeOpenAI(api_key="sk-fake").start()   # api_key None accepts any key
    fake.url                                       # "http://127.0.0.1:<port>/v1" (the base URL to configure)
    fake.models = ["gpt-fake", "gpt-fake-mini"]    # what GET /v1/models lists
    fake.behave(delay=0.01, drop_after=3, status=500, error="boom", hang=True, first_delay=1.0, fail_times=1)
    fake.behave(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}], thinking="Hmm.")
    fake.received("/v1/chat/completions")[-1].body # what the upstream got (method, path, headers, body)
    fake.reset(); fake.stop()

Routes: ``GET /v1/models``, ``POST /v1/chat/completions`` (``stream`` SSE ``data:`` chunks ending
``data: [DONE]``, ``stream_options.include_usage`` adds the usage chunk; non-stream ``chat.completion``
with usage), ``POST /v1/embeddings`` (hashed bag-of-words vectors). The answer is ``max_tokens`` (or
``max_completion_tokens``) numbered tokens ``w0 w1 ...`` when given, else ``You said: <last user text>``; after
a tool's result (the last message) ``Tool said: <result>``, and no tool call again.
Errors use OpenAI's ``{"error": {"message", "type", "param", "code"}}`` body.
"""
from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Iterator

from tests.fakes.audio import mp3_for
from tests.fakes.images import png_for
from tests.fakes.server import FakeUpstream, Received, Reply, hashed_embedding, reply_text, tool_result, words

ARGUMENT_FRAGMENT = 8
"""Characters of a tool call's arguments per streamed chunk (OpenAI sends them a few tokens at a time)."""


def last_user_text(messages: list[dict]) -> str:
    for message in reversed(messages or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if p.get("type") == "text")
            return content or ""
    return ""


def usage_for(prompt: str, completion: str) -> dict:
    prompt_tokens, completion_tokens = len(prompt.split()) + 1, len(completion.split())
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


def add_openai_routes(fake: FakeUpstream, prefix: str = "/v1", owned_by: str = "openai") -> None:
    """Register the OpenAI endpoints on ``fake`` under ``prefix`` (the fake Ollama mounts them at /v1)."""

    @fake.route("GET", prefix + "/models")
    def models(_request: Received, reply: Reply) -> None:
        reply.json({"object": "list", "data": [
            {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": owned_by}
            for name in fake.models
        ]})

    @fake.route("POST", prefix + "/chat/completions")
    def chat_completions(request: Received, reply: Reply) -> None:
        body = request.body if isinstance(request.body, dict) else {}
        answer_chat(fake, body, body.get("model"), reply)

    @fake.route("POST", prefix + "/embeddings")
    def embeddings(request: Received, reply: Reply) -> None:
        body = request.body if isinstance(request.body, dict) else {}
        answer_embeddings(body, body.get("model"), reply)


def answer_chat(fake: FakeUpstream, body: dict, model: str | None, reply: Reply) -> None:
    """A chat completion of ``model`` (streamed when the body asks)."""
    if not model or not body.get("messages"):
        return openai_error(reply, 400, "'model' and 'messages' are required", "invalid_request_error")
    if model not in fake.models:
        return openai_error(reply, 404, f"The model `{model}` does not exist or you do not have access to it.",
                            "invalid_request_error", code="model_not_found")
    prompt = last_user_text(body["messages"])
    after_tool = tool_result(body["messages"])
    text = after_tool or reply_text(prompt, body.get("max_tokens") or body.get("max_completion_tokens"))
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    if body.get("stream"):
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        chunks = _chat_chunks(completion_id, created, model, prompt, text, include_usage,
                              fake.behaviour["thinking"], None if after_tool else fake.behaviour["tool_calls"])
        return reply.stream(chunks, "text/event-stream; charset=utf-8")
    reply.json({
        "id": completion_id, "object": "chat.completion", "created": created, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": None},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": usage_for(prompt, text), "system_fingerprint": "fp_fake",
    })


def answer_embeddings(body: dict, model: str | None, reply: Reply) -> None:
    inputs = body.get("input")
    if inputs is None or not model:
        return openai_error(reply, 400, "'model' and 'input' are required", "invalid_request_error")
    inputs = [inputs] if isinstance(inputs, str) else list(inputs)
    tokens = sum(len(str(text).split()) for text in inputs)
    reply.json({
        "object": "list", "model": model,
        "data": [{"object": "embedding", "index": i, "embedding": hashed_embedding(str(text))}
                 for i, text in enumerate(inputs)],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    })


def _chat_chunks(completion_id: str, created: int, model: str, prompt: str, text: str, include_usage: bool,
                 thinking: str | None = None, tool_calls: list[dict] | None = None) -> Iterator[bytes]:
    """The SSE chunks of a streamed answer: ``thinking`` as ``reasoning_content`` deltas (as OpenAI-compatible
    reasoning servers send it) first; then the text, or ``tool_calls`` as OpenAI streams them (the first
    chunk of each call with its index, id and name, then its arguments' JSON in fragments)."""
    def chunk(delta: dict, finish: str | None = None, usage: dict | None = None, choices: bool = True) -> bytes:
        payload = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                   "system_fingerprint": "fp_fake",
                   "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
                   if choices else []}
        if include_usage:
            payload["usage"] = usage
        return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    for token in words(thinking) if thinking else []:
        yield chunk({"reasoning_content": token})
    if tool_calls:
        for index, call in enumerate(tool_calls):
            yield chunk({"tool_calls": [{"index": index, "id": f"call_{uuid.uuid4().hex[:24]}", "type": "function",
                                         "function": {"name": call["name"], "arguments": ""}}]})
            arguments = json.dumps(call["arguments"])
            for start in range(0, len(arguments), ARGUMENT_FRAGMENT):
                fragment = arguments[start:start + ARGUMENT_FRAGMENT]
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
        yield chunk({}, "tool_calls")
    else:
        for token in words(text):
            yield chunk({"content": token})
        yield chunk({}, "stop")
    if include_usage:
        yield chunk({}, usage=usage_for(prompt, text), choices=False)
    yield b"data: [DONE]\n\n"


def openai_error(reply: Reply, status: int, message: str, kind: str = "server_error", code: str | None = None) -> None:
    reply.json({"error": {"message": message, "type": kind, "param": None, "code": code}}, status)


class FakeOpenAI(FakeUpstream):
    def __init__(self, api_key: str | None = None, models: list[str] | None = None) -> None:
        super().__init__()
        self.api_key = api_key
        self.models = list(models or ["gpt-fake", "gpt-fake-mini"])
        self.images: dict[str, bytes] = {}
        """Images answered by URL (``response_format: url``), served under ``/v1/generated/``."""
        add_openai_routes(self)

        @self.route("POST", "/v1/images/generations")
        def generations(request: Received, reply: Reply) -> None:
            body = request.body if isinstance(request.body, dict) else {}
            self._answer_images(body, body.get("prompt") or "", reply)

        @self.route("POST", "/v1/images/edits")
        def edits(request: Received, reply: Reply) -> None:
            text = request.body if isinstance(request.body, str) else ""
            fields = dict(re.findall(r'name="(\w+)"\r\n\r\n([^\r]*)\r\n', text))
            if 'name="image' not in text:
                openai_error(reply, 400, "Missing required parameter: 'image'.", "invalid_request_error")
                return
            self._answer_images(fields, "edited: " + fields.get("prompt", ""), reply)

        @self.route("POST", "/v1/audio/speech")
        def speech(request: Received, reply: Reply) -> None:
            body = request.body if isinstance(request.body, dict) else {}
            if not body.get("input") or len(body["input"]) > 4096:
                openai_error(reply, 400, "input: must be 1 to 4096 characters.", "invalid_request_error")
                return
            reply.body(mp3_for("openai", body.get("voice") or "", body.get("model") or "", body["input"]),
                       "audio/mpeg" if body.get("response_format", "mp3") == "mp3" else "audio/wav")

        @self.route("POST", "/v1/audio/transcriptions")
        def transcriptions(request: Received, reply: Reply) -> None:
            text = request.body if isinstance(request.body, str) else ""
            fields = dict(re.findall(r'name="(\w+)"\r\n\r\n([^\r]*)\r\n', text))
            said = re.search(r"SAY:([^\r]*)", text)
            if said is None:
                openai_error(reply, 400, "Audio file might be corrupted or unsupported", "invalid_request_error")
                return
            if fields.get("language") not in (None, "en"):
                openai_error(reply, 400, f"Language '{fields['language']}' is not supported.", "invalid_request_error")
                return
            reply.json({"text": said.group(1).strip()})

        @self.route("GET", "/v1/audio/models")
        def audio_models(_request: Received, reply: Reply) -> None:
            reply.json({"models": [{"id": "tts-fake"}, {"id": "tts-fake-hd"}]})

        @self.route("GET", "/v1/audio/voices")
        def audio_voices(_request: Received, reply: Reply) -> None:
            reply.json({"voices": [{"id": "fable", "name": "Fable"}, {"id": "nova", "name": "Nova"}]})

        @self.route("GET", r"/v1/generated/[\w.-]+")
        def generated(request: Received, reply: Reply) -> None:
            reply.body(self.images[request.path.rsplit("/", 1)[-1]], "image/png")

    @property
    def url(self) -> str:
        return super().url + "/v1"

    def _answer_images(self, body: dict, prompt: str, reply: Reply) -> None:
        """OpenAI's images answer: ``b64_json`` items, or URLs for DALL·E without ``response_format``."""
        model, count = str(body.get("model") or "dall-e-2"), int(body.get("n") or 1)
        if model.startswith("gpt-image") and "response_format" in body:
            openai_error(reply, 400, "Unknown parameter: 'response_format'.", "invalid_request_error")
            return
        if model == "dall-e-3" and count > 1:
            openai_error(reply, 400, "You must provide n=1 for this model.", "invalid_request_error")
            return
        data = []
        for index in range(count):
            image = png_for(f"{prompt}#{index}")
            if body.get("response_format", "url" if model.startswith("dall-e") else "b64_json") == "url":
                name = f"{uuid.uuid4().hex}.png"
                self.images[name] = image
                data.append({"url": f"{self.url}/generated/{name}", "revised_prompt": prompt})
            else:
                data.append({"b64_json": base64.b64encode(image).decode()})
        reply.json({"created": int(time.time()), "data": data})

    def error(self, reply: Reply, status: int, message: str) -> None:
        kind = "invalid_request_error" if status < 500 else "server_error"
        openai_error(reply, status, message, kind)

    def _dispatch(self, handler) -> None:
        if self.api_key and handler.headers.get("Authorization") != f"Bearer {self.api_key}":
            return openai_error(self.refused(handler), 401, "Incorrect API key provided.", "invalid_request_error",
                                "invalid_api_key")
        super()._dispatch(handler)


class FakeAzureOpenAI(FakeUpstream):
    """Azure OpenAI's deployment API: ``GET /openai/models``, ``POST /openai/deployments/<deployment>/
    chat/completions`` and ``.../embeddings`` (the deployment is the model), each needing ``?api-version=``
    and the key in an ``api-key`` header. ``fake.url`` is the resource URL to configure."""

    def __init__(self, api_key: str, deployments: list[str] | None = None) -> None:
        super().__init__()
        self.api_key = api_key
        self.models = list(deployments or ["gpt-4o-mini"])

        @self.route("GET", "/openai/models")
        def models(_request: Received, reply: Reply) -> None:
            reply.json({"object": "list", "data": [{"id": name, "object": "model", "created_at": 1_700_000_000}
                                                   for name in self.models]})

        @self.route("POST", "/openai/deployments/[^/]+/chat/completions")
        def chat_completions(request: Received, reply: Reply) -> None:
            answer_chat(self, request.body if isinstance(request.body, dict) else {}, _deployment(request), reply)

        @self.route("POST", "/openai/deployments/[^/]+/embeddings")
        def embeddings(request: Received, reply: Reply) -> None:
            answer_embeddings(request.body if isinstance(request.body, dict) else {}, _deployment(request), reply)

    def error(self, reply: Reply, status: int, message: str) -> None:
        reply.json({"error": {"code": str(status), "message": message}}, status)

    def _dispatch(self, handler) -> None:
        if handler.headers.get("api-key") != self.api_key:
            return self.error(self.refused(handler), 401,
                              "Access denied due to invalid subscription key or wrong API endpoint.")
        if "api-version=" not in handler.path:
            return self.error(self.refused(handler), 404, "Resource not found")
        super()._dispatch(handler)


def _deployment(request: Received) -> str:
    return request.path.split("/")[3]
