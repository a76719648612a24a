"""LLM jobs: proxied Ollama/OpenAI calls, the unified chat completion and embeddings, the model refresh.

Streamed answers are published as ``delta`` events whose ``chunk`` is one upstream object (an Ollama
NDJSON object, an OpenAI ``chat.completion.chunk``); the web relays them in the client's wire format.
Only failures before the first streamed byte are transient (retried); a stream that breaks midway
fails the job with an error event.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TypeVar

import workers.broker  # noqa: F401  (actors bind to the worker's broker)
from shared.db import session_scope
from shared.errors import UpstreamError
from shared.jobs import catalog, current, events
from shared.jobs.config import get_job_settings
from shared.models.job import Job
from shared.models.user import User
from shared.providers.ollama import OllamaClient
from shared.providers.openai import OpenAIClient
from shared.providers.upstream import Streamed
from shared.services import chat_flow, chat_rag, chats, connections, llm_format, models_registry
from shared.services.connections import Connection
from workers.retries import is_transient

FLUSH_BURST = 4
"""Batches of a stream published at once before pacing starts (the role chunk, the first tokens)."""
READER_WAITED = 0.0003
"""A reader whose item took longer than this (seconds) had read everything the socket held."""
READER_LEAD = 0.002
"""How long before a held batch goes out a napping reader wakes to read what arrived meanwhile."""
T = TypeVar("T")
log = logging.getLogger(__name__)


def _client(conn: Connection, timeout: float, **context: str) -> OllamaClient | OpenAIClient:
    """A client for the connection; its custom headers filled in for the job's owner and ``context``."""
    headers = connections.custom_headers(conn, _owner(), **context) if conn.config.get("headers") else {}
    if conn.kind == "ollama":
        return OllamaClient(conn.url, conn.key, timeout, headers)
    return OpenAIClient(conn.url, conn.key, timeout, conn.config, headers)


def _owner() -> User | None:
    """The user who enqueued the running job (None for system jobs)."""
    job_id = current.current_job_id()
    if job_id is None:
        return None
    with session_scope() as session:
        job = session.get(Job, job_id)
        user = session.get(User, job.owner_id) if job is not None and job.owner_id else None
        if user is not None:
            session.expunge(user)
        return user


def _open(provider: str, url_idx: int, **context: str) -> tuple[Connection, OllamaClient | OpenAIClient]:
    values = connections.cached_settings()
    conn = connections.connection_in(values, provider, url_idx)
    return conn, _client(conn, connections.timeouts_in(values)[0], **context)


class _Ended:
    """What the reader thread leaves last: nothing (the stream ended) or the exception that ended it."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class _FlushBudget:
    """A token bucket for publishing a stream: ``burst`` batches at once, then one per ``interval``."""

    def __init__(self, interval: float, burst: int = FLUSH_BURST) -> None:
        self.interval = interval
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def ready_at(self) -> float:
        """When the next batch may go out (now or earlier: at once)."""
        now = time.monotonic()
        if self.interval > 0:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) / self.interval)
        self.stamp = now
        return now if self.tokens >= 1 or self.interval <= 0 else now + (1 - self.tokens) * self.interval

    def spend(self) -> None:
        self.tokens -= 1


def _batches(source: Iterator[T]) -> Iterator[list[T]]:
    """``source``'s items in batches, paced by a :class:`_FlushBudget` of ``JOB_STREAM_FLUSH_MS``.

    This thread sends the request and reads the first item; then a reader thread (bound to the same job,
    so a cancel still shuts the upstream socket it reads) drains ``source`` and this thread takes what is
    queued. The first few items go out one by one at once (the time to first token is never held) and so
    does every item of a model writing slower than one per interval (most do); a faster upstream gives a
    batch per interval: fewer Redis calls here and fewer announcements for every web process relaying
    the stream. Once the reader has reached the end of the stream, what is held goes out at once.
    While holding, this thread sleeps until the interval is over or the stream ends, not waking for
    each item the reader queues (at hundreds of tokens a second per stream, those wake-ups cost more
    than the rest of the relay); and a reader that had to wait for an item while a batch is held naps
    until just before the batch goes out (``READER_LEAD``), so that the chunks arriving meanwhile
    gather in the socket and are read in one go rather than one wake-up each (so the end, arriving during
    such a nap, waits for that batch like any other item).
    """
    inbox: queue.SimpleQueue = queue.SimpleQueue()
    job, stop, ended = current.running(), threading.Event(), threading.Event()
    close_source = getattr(source, "close", lambda: None)
    budget = _FlushBudget(get_job_settings().stream_flush_ms / 1000)
    flush_at = 0.0
    """When the held batch goes out (0 while nothing is held); read by the reader thread."""

    def read() -> None:
        current.bind(job)
        try:
            asked = time.monotonic()
            for item in source:
                if stop.is_set():
                    break
                inbox.put(item)
                now = time.monotonic()
                nap = flush_at - READER_LEAD - now
                if now - asked > READER_WAITED and nap > 0:
                    stop.wait(nap)
                    now = time.monotonic()
                asked = now
            inbox.put(_Ended())
        except BaseException as error:  # noqa: BLE001 - handed to the actor's thread
            inbox.put(_Ended(error))
        finally:
            ended.set()
            close_source()

    # The request goes out and its first item is read on this thread: no thread start before the first token.
    try:
        first = next(source)
    except StopIteration:
        return
    budget.spend()
    try:
        yield [first]
    except BaseException:  # closed (the job stopped) before the reader started
        close_source()
        raise
    threading.Thread(target=read, name="llm-stream-reader", daemon=True).start()
    try:
        while True:
            batch = [_get(inbox)]
            ready = budget.ready_at()
            if ready > time.monotonic() and not isinstance(batch[-1], _Ended):
                flush_at = ready
                ended.wait(ready - time.monotonic())
                flush_at = 0.0
            while not isinstance(batch[-1], _Ended):
                try:
                    batch.append(inbox.get_nowait())
                except queue.Empty:
                    break
            end = batch.pop() if isinstance(batch[-1], _Ended) else None
            if batch:
                budget.spend()
                yield batch
            if end is not None:
                if end.error is not None:
                    raise end.error
                return
    finally:
        stop.set()


def _get(inbox: queue.SimpleQueue) -> Any:
    """The next item, waking every half second so an interrupt (cancel, time limit) is not held up."""
    while True:
        try:
            return inbox.get(timeout=0.5)
        except queue.Empty:
            continue


def _publish_deltas(datas: Iterable[str]) -> None:
    current.publish_many([("delta", data) for data in datas])


@catalog.PROXY.actor
def proxy(job_id: str, provider: str, url_idx: int, method: str, path: str, body: dict | None = None,
          stream: bool = False) -> Any:
    """One call to one upstream connection, answered as the upstream answered it.

    Streamed objects become ``delta`` events; the result is the last one (or the JSON answer).
    """
    _, client = _open(provider, url_idx, model_id=str((body or {}).get("model") or ""))
    if not stream:
        return client.call(method, path, body)
    last = None
    for batch in _batches(client.stream(path, body or {})):
        _publish_deltas(events.delta(chunk.text) for chunk in batch)
        last = batch[-1].value
    return last


@catalog.OLLAMA_OVERVIEW.actor
def ollama_overview(job_id: str, path: str) -> dict:
    """``/api/version`` (the lowest of all servers) or ``/api/ps`` (all loaded models) across every
    enabled Ollama connection; unreachable ones are skipped, none reachable is a 502."""
    with session_scope() as session:
        conns = [c for c in connections.connections(session, "ollama") if c.enabled]
        _, list_timeout = connections.timeouts(session)
    answers = []
    for conn in conns:
        try:
            answers.append(_client(conn, list_timeout).call("GET", path))
        except UpstreamError:
            continue
    if not answers:
        raise UpstreamError("WebUI could not connect to Ollama", 502)
    if path == "/api/version":
        return min(answers, key=lambda a: tuple(int(p) for p in str(a.get("version", "0")).split(".")
                                                 if p.isdigit()))
    return {"models": [m for answer in answers for m in answer.get("models") or []]}


@catalog.VERIFY.actor
def verify(job_id: str, provider: str, url: str, key: str | None = None, config: dict | None = None) -> Any:
    """Check a connection before it is saved: Ollama's ``/api/version``, an OpenAI API's ``/models``."""
    with session_scope() as session:
        _, list_timeout = connections.timeouts(session)
    unsaved = Connection(provider, idx=-1, url=url, key=key, config=config or {})  # no index until it is saved
    client = _client(unsaved, list_timeout)
    try:
        return client.call("GET", "/api/version" if provider == "ollama" else "/models")
    except UpstreamError as exc:
        if exc.status in (401, 403):  # the admin's session is fine; the key under test is not
            raise UpstreamError(f"The server refused the key: {exc.detail}", 400) from exc
        raise


def _ollama_chunks(client: OllamaClient, request: dict, model: str) -> Iterator[Streamed]:
    """Ollama's chat stream as OpenAI ``chat.completion.chunk`` objects."""
    ids = llm_format.CompletionIds(model)
    for index, part in enumerate(client.stream("/api/chat", request)):
        chunk = llm_format.ollama_chunk_to_openai(ids, part.value, index == 0)
        yield Streamed(chunk, events.compact(chunk))


class _Reply:
    """The assistant's answer as it streams: text so far, finish reason and usage."""

    def __init__(self, model: str, background: dict | None) -> None:
        self.model = model
        self.background = background
        self.parts: list[str] = []
        self.first: dict | None = None
        self.finish_reason: str | None = None
        self.usage: dict | None = None

    @property
    def content(self) -> str:
        return "".join(self.parts)

    def add(self, batch: list[Streamed]) -> list[str]:
        """Take a batch of chunks; returns their ``delta`` events' data. In background mode the last one
        also carries the chat and the text so far (what the socket.io delivery sends the browser): once
        per batch, not once per chunk, since each copy holds the whole text."""
        for streamed in batch:
            chunk = streamed.value
            self.first = self.first or chunk
            for choice in chunk.get("choices") or []:
                self.parts.append((choice.get("delta") or {}).get("content") or "")
                self.finish_reason = choice.get("finish_reason") or self.finish_reason
            self.usage = chunk.get("usage") or self.usage
        extra = {"chat_id": self.background["chat_id"], "message_id": self.background["message_id"],
                 "content": self.content} if self.background else None
        return [*(events.delta(streamed.text) for streamed in batch[:-1]), events.delta(batch[-1].text, extra)]

    def completion(self) -> dict:
        return llm_format.completion_from_chunks(self.first, self.content, self.finish_reason, self.usage, self.model)


def _retrieve(owner_id: str, body: dict, rag: dict | None) -> list[dict]:
    """RAG: put the retrieved context into ``body["messages"]`` and announce the sources as the first delta."""
    if not rag:
        return []
    with session_scope() as session:
        body["messages"], sources = chat_rag.apply(session, owner_id, body["messages"], rag)
    if sources:
        current.publish("delta", {"chunk": {"sources": sources}})
    return sources


def _save_reply(owner_id: str, background: dict, fields: dict) -> None:
    """Write the assistant message into the chat (temporary ``local:`` chats are not stored)."""
    if chat_flow.is_temporary(background["chat_id"]):
        return
    with session_scope() as session:
        chats.upsert_message(session, owner_id, background["chat_id"], {"id": background["message_id"], **fields})


def _chat_request(conn: Connection, body: dict, model: str, *, stream: bool) -> dict:
    """The OpenAI-format ``body`` as the connection's upstream takes it."""
    if conn.kind == "ollama":
        return llm_format.chat_request_to_ollama({**body, "stream": stream}, conn.upstream_model(model))
    return {**body, "model": conn.upstream_model(model), "stream": stream}


def complete(provider: str, url_idx: int, model: str, body: dict, **context: str) -> dict:
    """One non-streamed chat completion on a connection, as OpenAI's ``chat.completion``: a step of
    ``chat_completion`` that the chat tasks job runs too. ``context`` fills the connection's headers."""
    conn, client = _open(provider, url_idx, model_id=model, **context)
    request = _chat_request(conn, body, model, stream=False)
    if conn.kind == "ollama":
        answer = client.call("POST", "/api/chat", request)
        return llm_format.ollama_answer_to_openai(llm_format.CompletionIds(model), answer)
    return client.call("POST", "/chat/completions", request)


@catalog.CHAT_COMPLETION.actor
def chat_completion(job_id: str, provider: str, url_idx: int, model: str, body: dict, owner_id: str,
                    background: dict | None = None, rag: dict | None = None) -> dict:
    """An OpenAI-format chat completion on an OpenAI or Ollama connection; the result is the
    ``chat.completion``. In background mode the reply is streamed to events and saved into the chat.
    With ``rag`` the referenced files/knowledge bases (and memories) are retrieved first."""
    sources = _retrieve(owner_id, body, rag)
    with_sources = {"sources": sources} if sources else {}
    context = {name: (background or {}).get(name, "") for name in ("chat_id", "message_id")}
    if not body.get("stream") and background is None:
        return {**complete(provider, url_idx, model, body, **context), **with_sources}
    conn, client = _open(provider, url_idx, model_id=model, **context)
    request = _chat_request(conn, body, model, stream=True)
    reply = _Reply(model, background)
    chunks = (_ollama_chunks(client, request, model) if conn.kind == "ollama"
              else client.stream("/chat/completions", request))
    try:
        for batch in _batches(chunks):
            _publish_deltas(reply.add(batch))
    except current.JobCancelled:
        if background:  # stopped by the user: keep what was said so far
            _save_reply(owner_id, background, {"content": reply.content, "done": True})
        raise
    except Exception as exc:
        # A transient failure before any output is retried; should it be the last attempt, the chat delivery
        # saves the job's final error (workers/chat_delivery.py). Saving it here would show an error while
        # the retry answers.
        if background and (reply.parts or not is_transient(exc)):
            message = getattr(exc, "detail", None) or str(exc) or type(exc).__name__
            _save_reply(owner_id, background, {"content": reply.content, "done": True,
                                               "error": {"content": message}})
        raise
    if background:
        _save_reply(owner_id, background, {"content": reply.content, "done": True, "error": None,
                                           "model": model, **({"usage": reply.usage} if reply.usage else {}),
                                           **with_sources})
    return {**reply.completion(), **with_sources}


@catalog.EMBEDDINGS.actor
def embeddings(job_id: str, provider: str, url_idx: int, model: str, body: dict) -> dict:
    """OpenAI-format embeddings from an OpenAI or Ollama connection."""
    conn, client = _open(provider, url_idx, model_id=model)
    upstream_model = conn.upstream_model(model)
    if conn.kind == "ollama":
        answer = client.call("POST", "/api/embed", llm_format.embed_request_to_ollama(body, upstream_model))
        return llm_format.ollama_embed_to_openai(answer, model)
    return client.call("POST", "/embeddings", {**body, "model": upstream_model})


def _ollama_models(conn: Connection, timeout: float) -> list[dict]:
    """One Ollama server's tags, those loaded in memory (``/api/ps``) marked with their ``expires_at``."""
    client = _client(conn, timeout)
    tags = client.tags()
    try:
        loaded = {m.get("model"): m.get("expires_at") for m in (client.call("GET", "/api/ps") or {}).get("models", [])}
    except UpstreamError:
        loaded = {}
    for tag in tags:
        if loaded.get(tag.get("model")):
            tag["expires_at"] = _unix_seconds(loaded[tag["model"]])
    return models_registry.ollama_entries(conn, tags)


def _unix_seconds(stamp: str) -> int | None:
    try:
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


@catalog.REFRESH_MODELS.actor
def refresh_models(job_id: str | None = None) -> dict:
    """Gather the models of every enabled connection into the registry cache; an unreachable
    connection is skipped and reported in ``errors``."""
    with session_scope() as session:
        conns = [c for kind in ("openai", "ollama") for c in connections.connections(session, kind) if c.enabled]
        _, list_timeout = connections.timeouts(session)
    lists: dict[str, list[list[dict]]] = {"openai": [], "ollama": []}
    errors = []
    try:
        for conn in conns:
            try:
                if conn.kind == "ollama":
                    lists["ollama"].append(_ollama_models(conn, list_timeout))
                elif conn.config.get("model_ids"):
                    lists["openai"].append(models_registry.openai_entries(conn, None))
                else:
                    lists["openai"].append(models_registry.openai_entries(conn, _client(conn, list_timeout).models()))
            except UpstreamError as exc:
                log.warning("model refresh: skipping %s connection %s (%s): %s", conn.kind, conn.idx, conn.url,
                            exc.detail)
                errors.append({"connection_type": conn.kind, "url_idx": conn.idx, "url": conn.url,
                               "error": exc.detail})
        models_registry.store(models_registry.build(lists["openai"], lists["ollama"]), errors)
    finally:
        models_registry.release_refresh()
    return models_registry.summary(models_registry.cached())
