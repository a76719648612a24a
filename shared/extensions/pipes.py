"""Pipe functions as models: each active pipe (or each of a manifold's pipes) is listed in ``/api/models``, and a
chat with one is answered by the pipe's ``pipe(body, ...)``, called through a job on the ``extensions`` queue by a
client with the interface every model server has (``shared.providers.clients.LLMClient``), so the chat job treats
it as any other model: retrieval, filters, delivery and saving included."""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from shared.errors import BadRequest
from shared.extensions import calls
from shared.jobs import current
from shared.models import Function
from shared.providers.formats import StreamedCompletion
from shared.providers.upstream import Streamed

KIND = "pipe"


@dataclass(frozen=True)
class PipeEndpoint:
    """Where a pipe model is served: no connection, the model id as it is."""

    kind: str = KIND
    idx: int = 0

    def upstream_model(self, model_id: str) -> str:
        return model_id


ENDPOINT = PipeEndpoint()


def entries(pipes: list[Function]) -> list[dict]:
    """The models the active pipes stand for, as Open WebUI lists them (a manifold: ``<function>.<pipe>``)."""
    listed = []
    for function in pipes:
        subs = (function.meta or {}).get("pipes")
        named = [(f"{function.id}.{p['id']}", f"{function.name}{p.get('name', p['id'])}")
                 for p in subs if isinstance(p, dict) and p.get("id")] if isinstance(subs, list) else []
        for model_id, name in named or [(function.id, function.name)]:
            listed.append({"id": model_id, "name": name, "object": "model", "created": function.created_at,
                           "owned_by": "openai", "pipe": {"type": "pipe"}, "connection_type": "local", "tags": []})
    return listed


def _chunk(completion_id: str, model: str, delta: dict, finish: str | None) -> Streamed:
    return Streamed.of({"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()),
                        "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})


def _piece(completion_id: str, model: str, piece: object) -> Streamed | None:
    """An item a pipe yielded, as Open WebUI reads one: an OpenAI chunk (a dict, or an SSE ``data:`` line a
    pipe passes on from its upstream), else text of the answer."""
    if isinstance(piece, str) and piece.startswith("data:"):
        data = piece[len("data:"):].strip()
        if not data or data == "[DONE]":
            return None
        try:
            piece = json.loads(data)
        except ValueError:
            piece = data
    if isinstance(piece, dict):
        return Streamed.of(piece)
    return _chunk(completion_id, model, {"content": "" if piece is None else str(piece)}, None) if piece else None


def _text(answer: object) -> str:
    """A pipe's returned answer (text, or an OpenAI completion) as the reply's text."""
    if isinstance(answer, dict) and answer.get("choices"):
        return ((answer["choices"][0].get("message") or {}).get("content")) or ""
    return "" if answer is None else str(answer)


class PipeClient:
    """A pipe function behind the model-server interface (chat completions only)."""

    def __init__(self, owner_id: str, **context: str) -> None:
        self.owner_id = owner_id
        self.context = context

    def chat_stream(self, body: dict, model: str) -> Iterator[Streamed]:
        """The pipe's answer as chunks: each item a generator yields as it comes, or a returned answer whole."""
        function_id = model.split(".", 1)[0]
        extra = {"__user__": {"id": self.owner_id}, "__metadata__": {**self.context, "model": {"id": model}},
                 "__messages__": body.get("messages") or [], "__id__": model.split(".", 1)[-1],
                 "__chat_id__": self.context.get("chat_id"), "__message_id__": self.context.get("message_id")}
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        yield _chunk(completion_id, model, {"role": "assistant", "content": ""}, None)
        for output in calls.stream("function", function_id, self.owner_id, "pipe", {"body": body}, extra):
            if "event" in output:
                _status(output["event"] or {})
            elif "piece" in output and (chunk := _piece(completion_id, model, output["piece"])) is not None:
                yield chunk
            elif output.get("result") is not None:
                yield _chunk(completion_id, model, {"content": _text(output["result"])}, None)
        yield _chunk(completion_id, model, {}, "stop")

    def chat(self, body: dict, model: str) -> dict:
        answer = StreamedCompletion(model)
        for chunk in self.chat_stream(body, model):
            answer.add(chunk.value)
        return answer.completion()

    def call(self, method: str, path: str, body: dict | None = None) -> None:
        raise BadRequest("A pipe answers chat completions only.")

    stream = models = embed = call


def _status(event: dict) -> None:
    if event.get("type") == "status" and isinstance(event.get("data"), dict):
        current.publish("delta", {"chunk": {"status": event["data"]}})
