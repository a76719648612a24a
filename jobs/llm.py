"""LLM jobs: proxied Ollama/OpenAI calls, the unified chat completion and embeddings, the model refresh.

Each actor runs its step and calls the rest explicitly: a client for the connection
(``shared.services.llm.clients``, one interface whatever the upstream), the paced publishing of a stream
(``shared.jobs.streaming``), and for the web app's replies the chat delivery
(``shared.services.chats.delivery``). Streamed answers are published as ``delta`` events whose ``chunk``
is one upstream object (an Ollama NDJSON object, an OpenAI ``chat.completion.chunk``); the web relays
them in the client's wire format. Only failures before the first streamed byte are transient (retried);
a stream that breaks midway fails the job with an error event.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from functools import partial
from typing import Any

import workers.runtime  # noqa: F401  (actors bind to the worker's broker)
from shared.db import session_scope
from shared.errors import UpstreamError
from shared.jobs import catalog, current, events, streaming
from shared.providers.clients import LLMClient
from shared.providers.formats import StreamedCompletion
from shared.providers.upstream import Streamed
from shared.services.chats import delivery, filters, rag_context, reply_images, tool_calls, web_context
from shared.services import retrieval
from shared.services.llm import clients, connections, pipelines, registry
from shared.services.llm.connections import Connection
from workers.retries import is_transient

log = logging.getLogger(__name__)


@catalog.PROXY.actor
def proxy(job_id: str, provider: str, url_idx: int, method: str, path: str, body: dict | None = None,
          stream: bool = False) -> Any:
    """One call to one upstream connection, answered as the upstream answered it.

    Streamed objects become ``delta`` events; the result is the last one (or the JSON answer).
    """
    _, client = clients.open_client(provider, url_idx, model_id=str((body or {}).get("model") or ""))
    if not stream:
        return client.call(method, path, body)
    last: list[Streamed] = []

    def deltas(batch: list[Streamed]) -> list[str]:
        last[:] = batch[-1:]
        return [events.delta(chunk.text) for chunk in batch]

    streaming.publish(client.stream(path, body or {}), deltas)
    return last[0].value if last else None


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
            answers.append(clients.for_endpoint(conn, list_timeout).call("GET", path))
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
    client = clients.for_endpoint(unsaved, list_timeout)
    try:
        return client.call("GET", "/api/version" if provider == "ollama" else "/models")
    except UpstreamError as exc:
        if exc.status in (401, 403):  # the admin's session is fine; the key under test is not
            raise UpstreamError(f"The server refused the key: {exc.detail}", 400) from exc
        raise


def _retrieve(owner_id: str, model: str, body: dict, rag: dict | None) -> list[dict]:
    """RAG (and a web search when asked): put the retrieved context into ``body["messages"]`` and announce
    the sources as the first delta; the web search's steps are shown as status lines meanwhile."""
    if not rag:
        return []
    found: list[dict] = []
    with session_scope() as session:
        if rag.get("web_search"):
            found = web_context.chat_sources(session, owner_id, model, body["messages"],
                                             lambda data: _shown_status({"type": "status", "data": data}))
            body["messages"] = retrieval.with_sources(session, body["messages"], found)
        body["messages"], sources = rag_context.apply(session, owner_id, body["messages"], rag)
    sources = [*found, *sources]
    if sources:
        current.publish("delta", {"chunk": {"sources": sources}})
    return sources


def _deltas(answer: StreamedCompletion, reply: delivery.ChatReply | None, batch: list[Streamed]) -> list[str]:
    """A batch of chunks added to ``answer``, as ``delta`` event data. In background mode the last one also
    carries the chat and the text so far for the socket.io delivery (once per batch: each copy holds the
    whole text)."""
    for chunk in batch:
        answer.add(chunk.value)
    extra = reply.delta_fields(answer.content) if reply else None
    return [*(events.delta(chunk.text) for chunk in batch[:-1]), events.delta(batch[-1].text, extra)]


def _stream(client: LLMClient, request: dict, model: str, reply: delivery.ChatReply | None,
            through: Callable[[Iterator[Streamed]], Iterable[Streamed]]) -> StreamedCompletion:
    """Publish the streamed answer, each chunk ``through`` the stream filters; what it added up to."""
    answer = StreamedCompletion(model)
    try:
        streaming.publish(through(client.chat_stream(request, model)), partial(_deltas, answer, reply))
    except current.JobCancelled:
        if reply:
            reply.stopped(answer.content)
        raise
    except Exception as exc:
        # A transient failure before any output may be retried: only the retry policy knows whether it is
        # the last, and the reply's on_failure callback records it then (catalog.REPLY_OPTIONS).
        if reply and (answer.parts or not is_transient(exc)):
            reply.failed(answer.content, getattr(exc, "detail", None) or str(exc) or type(exc).__name__)
        raise
    return answer


@catalog.CHAT_COMPLETION.actor
def chat_completion(job_id: str, provider: str, url_idx: int, model: str, body: dict, owner_id: str,
                    background: dict | None = None, rag: dict | None = None,
                    selected_model_id: str | None = None, filter_ids: list[str] = (),
                    tools: dict | None = None, tool_selection: dict | None = None) -> dict:
    """An OpenAI-format chat completion on an OpenAI or Ollama connection; the result is the
    ``chat.completion``. In background mode (the web app's reply) the answer is streamed to events,
    delivered to the owner's browsers and saved into the chat. With ``rag`` the referenced files and
    knowledge bases (and memories) are retrieved first. An arena model's pick is announced first. Filter
    functions rewrite the request first and (for a web-app reply) the finished reply; the ``tools`` the model
    calls are run and their results given back to it (in legacy mode, the tools it picks first become sources)."""
    reply = delivery.ChatReply(job_id, owner_id, background) if background else None
    if reply:
        reply.start()
    extra: dict = {}
    if selected_model_id:
        current.publish("delta", {"chunk": {"selected_model_id": selected_model_id}})
        extra["selected_model_id"] = selected_model_id
    context = {name: (background or {}).get(name, "") for name in ("chat_id", "message_id")}
    body = pipelines.inlet(owner_id, model, body, background)
    body = filters.inlet(list(filter_ids), owner_id, model, body, context, _shown_status)
    sources = _retrieve(owner_id, model, body, rag)
    if sources:
        extra["sources"] = sources
    if reply and background.get("image_generation"):
        body["messages"] = reply_images.make_image(reply, body["messages"])
    conn, client = clients.open_client(provider, url_idx, owner_id, model_id=model, **context)
    request = {**body, "model": conn.upstream_model(body.get("model") or model)}
    if tool_selection:
        request, sources = _legacy_tools(client, request, model, tool_selection, tools or {}, owner_id, context,
                                         sources)
        if sources:
            extra["sources"] = sources
        tools = None
    if not body.get("stream") and reply is None and not tools:
        return {**client.chat(request, model), **extra}
    through = partial(filters.streamed, filter_ids=list(filter_ids), owner_id=owner_id, model=model,
                      context=context, emit=_shown_status)
    answer = _stream(client, request, model, reply, through)
    output: list[dict] = []
    for _ in range(tool_calls.MAX_ROUNDS if tools else 0):
        if not answer.calls:
            break
        request = tool_calls.run_round(request, answer.content, answer.tool_calls, tools, owner_id, context, output,
                                       _shown_status)
        current.publish("delta", {"chunk": {"output": output}})
        answer = _stream(client, request, model, reply, through)
    if reply and filter_ids:
        _rewrite(answer, filters.outlet(list(filter_ids), owner_id, model, body["messages"], answer.content,
                                        context, _shown_status), context)
    shown = {"output": tool_calls.final_output(output, answer.content)} if output else {}
    if reply:
        picked = {"selectedModelId": selected_model_id} if selected_model_id else {}
        reply.finish(model, {"content": answer.content, **({"usage": answer.usage} if answer.usage else {}),
                             **({"sources": sources} if sources else {}), **shown, **picked})
        pipelines.outlet(owner_id, model, background, body["messages"], answer.content)
    return {**answer.completion(), **extra, **shown}


def _legacy_tools(client: LLMClient, request: dict, model: str, selection: dict, serving: dict, owner_id: str,
                  context: dict, sources: list[dict]) -> tuple[dict, list[dict]]:
    """Legacy tool calling: ask the model which tools to call, run them, and put their results before the
    question as sources (announced as the other sources are)."""
    asked = client.chat({"model": request["model"], "messages": selection["messages"], "stream": False}, model)
    text = ((asked.get("choices") or [{}])[0].get("message") or {}).get("content") or ""
    found = tool_calls.run_chosen(text, serving, selection["specs"], owner_id, context, _shown_status)
    if not found:
        return request, sources
    current.publish("delta", {"chunk": {"sources": found}})
    with session_scope() as session:
        messages = retrieval.with_sources(session, request["messages"], found)
    return {**request, "messages": messages}, [*sources, *found]


def _rewrite(answer: StreamedCompletion, content: str, context: dict) -> None:
    """The reply as the outlet filters left it, announced as Open WebUI's ``chat:outlet`` (the browser shows it)."""
    if content != answer.content:
        answer.rewrite(content)
        current.publish("delta", {"chunk": {"outlet": {"messages": [
            {"id": context["message_id"], "role": "assistant", "content": content}]}}})


def _shown_status(event: dict) -> None:
    """A filter's ``status`` event, shown by the web app as the reply's status line."""
    if event.get("type") == "status" and isinstance(event.get("data"), dict):
        current.publish("delta", {"chunk": {"status": event["data"]}})


@catalog.REPLY_FAILED.actor
def reply_failed(message_data: dict, exception_data: dict) -> None:
    """``on_failure`` callback of a web-app reply: its job failed for good (see ``shared.services.chats.delivery``)."""
    delivery.record_final_error(message_data)


@catalog.EMBEDDINGS.actor
def embeddings(job_id: str, provider: str, url_idx: int, model: str, body: dict) -> dict:
    """OpenAI-format embeddings from an OpenAI or Ollama connection."""
    conn, client = clients.open_client(provider, url_idx, model_id=model)
    return client.embed({**body, "model": conn.upstream_model(model)}, model)


def _ollama_models(conn: Connection, timeout: float) -> list[dict]:
    """One Ollama server's tags, those loaded in memory (``/api/ps``) marked with their ``expires_at``."""
    client = clients.for_endpoint(conn, timeout)
    tags = client.models()
    try:
        loaded = {m.get("model"): m.get("expires_at") for m in (client.call("GET", "/api/ps") or {}).get("models", [])}
    except UpstreamError:
        loaded = {}
    for tag in tags:
        if loaded.get(tag.get("model")):
            tag["expires_at"] = _unix_seconds(loaded[tag["model"]])
    return registry.ollama_entries(conn, tags)


def _unix_seconds(stamp: str) -> int | None:
    try:
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


@catalog.REFRESH_MODELS.actor
def refresh_models(job_id: str | None = None) -> dict:
    """Gather the models of every enabled connection into the registry cache; an unreachable
    connection is skipped and reported in ``errors``. An OpenAI connection whose ``/models`` answer says
    ``pipelines`` is noted as a Pipelines server."""
    with session_scope() as session:
        conns = [c for kind in ("openai", "ollama") for c in connections.connections(session, kind) if c.enabled]
        _, list_timeout = connections.timeouts(session)
    lists: dict[str, list[list[dict]]] = {"openai": [], "ollama": []}
    errors, pipeline_servers = [], []
    try:
        for conn in conns:
            try:
                if conn.kind == "ollama":
                    lists["ollama"].append(_ollama_models(conn, list_timeout))
                elif conn.config.get("model_ids"):
                    lists["openai"].append(registry.openai_entries(conn, None))
                else:
                    answer = clients.for_endpoint(conn, list_timeout).call("GET", "/models")
                    lists["openai"].append(registry.openai_entries(conn, registry.listed_models(answer)))
                    if registry.serves_pipelines(answer):
                        pipeline_servers.append(conn.idx)
            except UpstreamError as exc:
                log.warning("model refresh: skipping %s connection %s (%s): %s", conn.kind, conn.idx, conn.url,
                            exc.detail)
                errors.append({"connection_type": conn.kind, "url_idx": conn.idx, "url": conn.url,
                               "error": exc.detail})
        registry.store(registry.build(lists["openai"], lists["ollama"]), errors, pipeline_servers)
    finally:
        registry.release_refresh()
    return registry.summary(registry.cached())
