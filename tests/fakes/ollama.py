"""A protocol-faithful fake Ollama server on 127.0.0.1, for tests and the benchmark.

Fixture API (``tests/fakes/fixtures.py`` registers ``fake_ollama``; or use the class directly)::

    fake = FakeOllama().start()
    fake.url                                    # "http://127.0.0.1:<port>" (the base URL to configure)
    fake.models = {"llama-fake:latest": {...}}  # name -> tag object, as /api/tags lists it (two by default)
    fake.behave(delay=0.01, drop_after=3, status=500, error="boom", hang=True, first_delay=1.0, fail_times=1)
    fake.behave(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}], thinking="Hmm.")  # /api/chat
    fake.received("/api/chat")[-1].body         # what the upstream got
    fake.reset(); fake.stop()

Routes: ``GET /api/tags``, ``/api/version``, ``/api/ps``; ``POST /api/show``; ``POST /api/chat`` and
``/api/generate`` (NDJSON ``application/x-ndjson`` token by token, the last object ``done: true`` with
``done_reason`` and the timing fields; ``"stream": false`` one object); ``POST /api/embed`` and
``/api/embeddings`` (hashed bag-of-words vectors); ``POST /api/pull`` (streamed progress objects ending
``{"status": "success"}``); ``DELETE /api/delete``; and the OpenAI-compatible ``/v1/models``,
``/v1/chat/completions``, ``/v1/embeddings``. The answer is ``options.num_predict`` numbered tokens
``w0 w1 ...`` when given, else ``You said: <last user text>``. Errors are Ollama's ``{"error": "..."}``.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timezone

from tests.fakes.openai import add_openai_routes, last_user_text
from tests.fakes.server import FakeUpstream, Received, Reply, hashed_embedding, reply_text, tool_result, words

VERSION = "0.6.2"
NDJSON = "application/x-ndjson"


def tag(name: str, family: str = "llama", size: str = "8.0B") -> dict:
    return {
        "name": name, "model": name, "modified_at": "2025-01-01T00:00:00.000000Z", "size": 4_661_224_676,
        "digest": f"{abs(hash(name)):064x}"[:64],
        "details": {"parent_model": "", "format": "gguf", "family": family, "families": [family],
                    "parameter_size": size, "quantization_level": "Q4_0"},
    }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _line(payload: dict) -> bytes:
    """One NDJSON line as Ollama (Go's encoding/json) writes it: compact, UTF-8, and ``<``, ``>``, ``&``,
    U+2028 and U+2029 escaped (they only occur inside strings, so replacing them everywhere is safe)."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    for char, escape in _GO_ESCAPES.items():
        text = text.replace(char, escape)
    return text.encode() + b"\n"


def _timings(prompt: str, text: str, started: float) -> dict:
    total = int((time.monotonic() - started) * 1e9) + 1
    return {"total_duration": total, "load_duration": 1_000, "prompt_eval_count": len(prompt.split()) + 1,
            "prompt_eval_duration": 2_000, "eval_count": len(text.split()), "eval_duration": max(total - 3_000, 1)}


class FakeOllama(FakeUpstream):
    def __init__(self) -> None:
        super().__init__()
        self.models: dict[str, dict] = {n: tag(n) for n in ("llama-fake:latest", "qwen-fake:0.5b")}
        self.models["nomic-fake:latest"] = tag("nomic-fake:latest", family="nomic-bert", size="137M")
        add_openai_routes(self, "/v1", owned_by="library")
        self._ollama_routes()

    def _missing(self, reply: Reply, model: str | None) -> bool:
        if model in self.models or f"{model}:latest" in self.models:
            return False
        reply.json({"error": f'model "{model}" not found, try pulling it first'}, 404)
        return True

    def _ollama_routes(self) -> None:
        route = self.route

        @route("GET", "/api/tags")
        def tags(_request: Received, reply: Reply) -> None:
            reply.json({"models": list(self.models.values())})

        @route("GET", "/api/version")
        def version(_request: Received, reply: Reply) -> None:
            reply.json({"version": VERSION})

        @route("GET", "/api/ps")
        def ps(_request: Received, reply: Reply) -> None:
            loaded = list(self.models.values())[:1]
            reply.json({"models": [{**m, "expires_at": "2099-01-01T00:00:00Z", "size_vram": m["size"]}
                                   for m in loaded]})

        @route("POST", "/api/show")
        def show(request: Received, reply: Reply) -> None:
            model = (request.body or {}).get("model") or (request.body or {}).get("name")
            if self._missing(reply, model):
                return
            reply.json({"modelfile": f"FROM {model}\n", "parameters": "stop \"<|eot|>\"",
                        "template": "{{ .Prompt }}", "details": self.models[model]["details"],
                        "model_info": {"general.architecture": self.models[model]["details"]["family"]},
                        "capabilities": ["completion"], "modified_at": self.models[model]["modified_at"]})

        @route("POST", "/api/chat")
        def chat(request: Received, reply: Reply) -> None:
            body = request.body or {}
            if self._missing(reply, body.get("model")):
                return
            prompt = last_user_text(body.get("messages") or [])
            self._answer(reply, body, prompt, lambda token: {"message": {"role": "assistant", "content": token}})

        @route("POST", "/api/generate")
        def generate(request: Received, reply: Reply) -> None:
            body = request.body or {}
            if self._missing(reply, body.get("model")):
                return
            self._answer(reply, body, body.get("prompt") or "", lambda token: {"response": token},
                         final_extra={"context": [1, 2, 3]})

        @route("POST", "/api/embed")
        def embed(request: Received, reply: Reply) -> None:
            body = request.body or {}
            if self._missing(reply, body.get("model")):
                return
            inputs = body.get("input")
            inputs = [inputs] if isinstance(inputs, str) else list(inputs or [])
            reply.json({"model": body["model"], "embeddings": [hashed_embedding(str(t)) for t in inputs],
                        "total_duration": 1_000, "load_duration": 100,
                        "prompt_eval_count": sum(len(str(t).split()) for t in inputs)})

        @route("POST", "/api/embeddings")
        def embeddings(request: Received, reply: Reply) -> None:
            body = request.body or {}
            if self._missing(reply, body.get("model")):
                return
            reply.json({"embedding": hashed_embedding(str(body.get("prompt") or ""))})

        @route("POST", "/api/pull")
        def pull(request: Received, reply: Reply) -> None:
            body = request.body or {}
            name = body.get("model") or body.get("name")
            if not name:
                return reply.json({"error": "model is required"}, 400)
            name = name if ":" in name else f"{name}:latest"
            self.models.setdefault(name, tag(name))
            if body.get("stream") is False:
                return reply.json({"status": "success"})
            reply.stream((_line(p) for p in _pull_progress()), NDJSON)

        @route("DELETE", "/api/delete")
        def delete(request: Received, reply: Reply) -> None:
            body = request.body or {}
            name = body.get("model") or body.get("name")
            if self._missing(reply, name):
                return
            self.models.pop(name, None) or self.models.pop(f"{name}:latest")
            reply.handler.send_response(200)
            reply.handler.send_header("Content-Length", "0")
            reply.handler.end_headers()

    def _answer(self, reply: Reply, body: dict, prompt: str, piece, final_extra: dict | None = None) -> None:
        started = time.monotonic()
        model = body["model"]
        after_tool = tool_result(body.get("messages"))
        text = after_tool or reply_text(prompt, (body.get("options") or {}).get("num_predict"))
        final = {"model": model, "created_at": "", **piece(""), "done": True, "done_reason": "stop",
                 **(final_extra or {})}
        if body.get("stream", True) is False:
            reply.json({**final, **piece(text), "created_at": _now(), **_timings(prompt, text, started)})
            return

        def lines() -> Iterator[bytes]:
            def line(fields: dict) -> bytes:
                return _line({"model": model, "created_at": _now(), **fields, "done": False})

            chat = "message" in final  # thinking and tool calls: /api/chat only
            thinking, tool_calls = (self.behaviour["thinking"], self.behaviour["tool_calls"]) if chat else (None, None)
            tool_calls = None if after_tool else tool_calls
            for token in words(thinking) if thinking else []:
                yield line({"message": {"role": "assistant", "content": "", "thinking": token}})
            if tool_calls:  # Ollama sends a model's tool calls whole, in one object before the last
                yield line({"message": {"role": "assistant", "content": "", "tool_calls": [
                    {"function": {"name": call["name"], "arguments": call["arguments"]}} for call in tool_calls]}})
            else:
                for token in words(text):
                    yield line(piece(token))
            yield _line({**final, "created_at": _now(), **_timings(prompt, text, started)})

        reply.stream(lines(), NDJSON)


def _pull_progress() -> Iterator[dict]:
    digest = "sha256:" + "ab" * 32
    yield {"status": "pulling manifest"}
    total = 1_000_000
    for completed in (0, 250_000, 500_000, 750_000, total):
        yield {"status": f"pulling {digest[7:19]}", "digest": digest, "total": total, "completed": completed}
    yield {"status": "verifying sha256 digest"}
    yield {"status": "writing manifest"}
    yield {"status": "success"}
