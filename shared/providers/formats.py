"""OpenAI ⇄ Ollama: requests and answers converted between the two wire formats (pure functions)."""
from __future__ import annotations

import json
import time
import uuid
from typing import Any

_OPTION_NAMES = {
    "temperature": "temperature", "top_p": "top_p", "seed": "seed", "stop": "stop",
    "max_tokens": "num_predict", "max_completion_tokens": "num_predict",
    "frequency_penalty": "frequency_penalty", "presence_penalty": "presence_penalty",
}
_OLLAMA_OPTIONS = {"top_k", "min_p", "num_ctx", "num_predict", "repeat_penalty", "repeat_last_n", "mirostat",
                   "mirostat_eta", "mirostat_tau", "tfs_z", "num_batch", "num_keep", "num_gpu", "num_thread",
                   "typical_p", "use_mmap", "use_mlock"}


def _message_to_ollama(message: dict) -> dict:
    content = message.get("content")
    out: dict[str, Any] = {"role": message.get("role", "user")}
    if isinstance(content, list):
        texts, images = [], []
        for part in content:
            if part.get("type") == "text":
                texts.append(part.get("text", ""))
            elif part.get("type") == "image_url":
                url = (part.get("image_url") or {}).get("url", "")
                images.append(url.split(",", 1)[1] if url.startswith("data:") else url)
        out["content"] = "\n".join(texts)
        if images:
            out["images"] = images
    else:
        out["content"] = content or ""
    if message.get("tool_calls"):
        out["tool_calls"] = [
            {"function": {"name": call["function"]["name"], "arguments": _json_value(call["function"].get("arguments"))}}
            for call in message["tool_calls"] if call.get("function")
        ]
    return out


def _json_value(arguments: Any) -> Any:
    """OpenAI's arguments (JSON text) as the object Ollama takes."""
    if isinstance(arguments, str):
        try:
            return json.loads(arguments or "{}")
        except ValueError:
            return {}
    return arguments or {}


def chat_request_to_ollama(body: dict, upstream_model: str) -> dict:
    """An OpenAI ``/chat/completions`` body as an Ollama ``/api/chat`` body."""
    options = {target: body[name] for name, target in _OPTION_NAMES.items() if body.get(name) is not None}
    options.update({name: body[name] for name in _OLLAMA_OPTIONS if body.get(name) is not None})
    options.update(body.get("options") or {})
    request: dict[str, Any] = {
        "model": upstream_model,
        "messages": [_message_to_ollama(m) for m in body.get("messages") or []],
        "stream": bool(body.get("stream")),
    }
    if options:
        request["options"] = options
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_object":
        request["format"] = "json"
    elif response_format.get("type") == "json_schema":
        request["format"] = (response_format.get("json_schema") or {}).get("schema", "json")
    for name in ("tools", "keep_alive", "think"):
        if body.get(name) is not None:
            request[name] = body[name]
    return request


class CompletionIds:
    """The id, creation time and model one converted completion reports in every chunk."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4()}"
        self.created = int(time.time())
        self.model = model

    def chunk(self, delta: dict, finish_reason: str | None = None, usage: dict | None = None) -> dict:
        chunk = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                 "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}
        if usage is not None:
            chunk["usage"] = usage
        return chunk

    def completion(self, message: dict, finish_reason: str, usage: dict | None) -> dict:
        return {"id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
                "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
                "usage": usage}


def ollama_usage(answer: dict) -> dict | None:
    """OpenAI's ``usage`` (plus Ollama's timings) from the final ``done`` object."""
    if "eval_count" not in answer and "prompt_eval_count" not in answer:
        return None
    prompt, completion = answer.get("prompt_eval_count") or 0, answer.get("eval_count") or 0
    usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    for name in ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration"):
        if name in answer:
            usage[name] = answer[name]
    return usage


def _ollama_tool_calls(message: dict) -> list[dict] | None:
    calls = message.get("tool_calls")
    if not calls:
        return None
    return [{"index": i, "id": f"call_{uuid.uuid4().hex[:24]}", "type": "function",
             "function": {"name": c["function"]["name"], "arguments": _json_text(c["function"].get("arguments"))}}
            for i, c in enumerate(calls)]


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value or {})


def ollama_chunk_to_openai(ids: CompletionIds, part: dict, first: bool) -> dict:
    """One ``/api/chat`` stream object as an OpenAI ``chat.completion.chunk``."""
    message = part.get("message") or {}
    delta: dict[str, Any] = {"role": "assistant"} if first else {}
    if message.get("content"):
        delta["content"] = message["content"]
    if message.get("thinking"):
        delta["reasoning_content"] = message["thinking"]
    tool_calls = _ollama_tool_calls(message)
    if tool_calls:
        delta["tool_calls"] = tool_calls
    if part.get("done"):
        finish = "tool_calls" if tool_calls else (part.get("done_reason") or "stop")
        return ids.chunk(delta, finish, ollama_usage(part))
    return ids.chunk(delta)


def ollama_answer_to_openai(ids: CompletionIds, answer: dict) -> dict:
    """A non-streamed ``/api/chat`` answer as an OpenAI ``chat.completion``."""
    message = answer.get("message") or {}
    out: dict[str, Any] = {"role": "assistant", "content": message.get("content", "")}
    tool_calls = _ollama_tool_calls(message)
    if tool_calls:
        out["tool_calls"] = tool_calls
    if message.get("thinking"):
        out["reasoning_content"] = message["thinking"]
    finish = "tool_calls" if tool_calls else (answer.get("done_reason") or "stop")
    return ids.completion(out, finish, ollama_usage(answer))


def embed_request_to_ollama(body: dict, upstream_model: str) -> dict:
    """An OpenAI ``/embeddings`` body as an Ollama ``/api/embed`` body."""
    return {"model": upstream_model, "input": body.get("input")}


def ollama_embed_to_openai(answer: dict, model: str) -> dict:
    vectors = answer.get("embeddings") or []
    tokens = answer.get("prompt_eval_count") or 0
    return {"object": "list", "model": model,
            "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


class StreamedCompletion:
    """The ``chat.completion`` a stream of ``chat.completion.chunk`` objects adds up to, as it streams."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.parts: list[str] = []
        self.first: dict | None = None
        self.finish_reason: str | None = None
        self.usage: dict | None = None
        self.calls: dict[int, dict] = {}
        """The tool calls being streamed, by index (OpenAI sends each call's arguments in fragments)."""

    @property
    def content(self) -> str:
        return "".join(self.parts)

    def rewrite(self, content: str) -> None:
        """Replace the text (an outlet filter changed the finished reply)."""
        self.parts = [content]

    def add(self, chunk: dict) -> None:
        self.first = self.first or chunk
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            self.parts.append(delta.get("content") or "")
            for call in delta.get("tool_calls") or []:
                self._add_call(call)
            self.finish_reason = choice.get("finish_reason") or self.finish_reason
        self.usage = chunk.get("usage") or self.usage

    def _add_call(self, part: dict) -> None:
        call = self.calls.setdefault(part.get("index", len(self.calls)),
                                     {"id": None, "type": "function", "function": {"name": "", "arguments": ""}})
        call["id"] = part.get("id") or call["id"]
        function = part.get("function") or {}
        call["function"]["name"] += function.get("name") or ""
        call["function"]["arguments"] += function.get("arguments") or ""

    @property
    def tool_calls(self) -> list[dict]:
        return [self.calls[index] for index in sorted(self.calls)]

    def completion(self) -> dict:
        """The finished stream as one answer (the job's stored result), with the first chunk's id."""
        first = self.first or {}
        return {"id": first.get("id"), "object": "chat.completion", "created": first.get("created") or int(time.time()),
                "model": self.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": self.content,
                                                     **({"tool_calls": self.tool_calls} if self.calls else {})},
                             "logprobs": None, "finish_reason": self.finish_reason or "stop"}],
                "usage": self.usage}
