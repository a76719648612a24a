"""The gateway's rules on the web side: which model a user may call, which connection serves it, and
what job to enqueue. Never calls an upstream itself (the ``llm.*`` actors in ``jobs/llm.py`` do).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from shared import messages
from shared.config import env
from shared.errors import BadRequest, Forbidden, ServiceError
from shared.extensions import pipes
from shared.jobs import catalog
from shared.jobs.enqueue import CLAIM_AHEAD
from shared.models import Job, User, WorkspaceModel
from shared.services import custom_models, evaluations, functions, images, web_search
from shared.services.chats import rag_context, tool_calls, turns
from shared.services.llm import connections, listing, registry
from shared.services.llm.connections import Connection, Kind

"""How long a request waits for the first model refresh when the cache is empty."""
PULL_TIME_LIMIT_MS = 6 * 3600 * 1000

OPENAI_FIELDS = {
    "model", "messages", "stream", "stream_options", "temperature", "top_p", "max_tokens",
    "max_completion_tokens", "n", "stop", "presence_penalty", "frequency_penalty", "logit_bias", "logprobs",
    "top_logprobs", "user", "seed", "tools", "tool_choice", "parallel_tool_calls", "response_format",
    "reasoning_effort", "think", "keep_alive", "options", "modalities", "metadata",
}
"""What a unified chat request forwards upstream; the web app's own fields (chat_id, files ...) stay here."""
BACKGROUND_FIELDS = ("session_id", "id")


class Disabled(ServiceError):
    """The Ollama or OpenAI API is switched off by the admin."""

    status = 503


OLLAMA_DISABLED = "The Ollama API is disabled. Please enable it to use this feature."


def require_enabled(session: Session, kind: Kind) -> None:
    if not connections.settings(session)[f"{kind}.enable"]:
        raise Disabled(OLLAMA_DISABLED if kind == "ollama" else "The OpenAI API is disabled.")


# -- the model list ---------------------------------------------------------------------------------
def request_refresh(session: Session) -> Job | None:
    """Enqueue a model refresh unless one is already under way."""
    if not registry.claim_refresh():
        return None
    return catalog.send(session, catalog.REFRESH_MODELS, catalog.Nothing(), owner_id=None)


def models_changed(session: Session) -> None:
    """An upstream's model list changed (a pipeline added to a Pipelines server ...): gather the models again
    now, even while a refresh that may have read the old list runs, serving the cached ones meanwhile."""
    registry.release_refresh()
    request_refresh(session)


def config_changed(session: Session) -> None:
    """After an admin changed connections: forget the cached models and gather them again."""
    registry.clear()
    models_changed(session)


def registry_snapshot(session: Session, refresh: bool = False) -> dict | None:
    """The registry cache (``registry.cached``); a stale one is served while a refresh runs. An empty cache,
    or ``refresh`` (Open WebUI's ``?refresh=true``), waits (bounded) for a refresh to finish."""
    cached = registry.cached()
    if refresh or registry.is_stale(cached):
        request_refresh(session)
    asked = time.time()
    deadline = time.monotonic() + env("MODELS_WAIT_SECONDS")
    while time.monotonic() < deadline and (
            cached is None or (refresh and cached["refreshed_at"] < asked)):
        time.sleep(0.02)
        cached = registry.cached() or cached
    return cached


def all_models(session: Session, refresh: bool = False) -> list[dict]:
    """The cached model list (see :func:`registry_snapshot`), then the pipe functions' models."""
    cached = registry_snapshot(session, refresh)
    served = cached["models"] if cached else []
    active_pipes = functions.active(session, "pipe")
    return [*served, *pipes.entries(active_pipes)] if active_pipes else served


def user_models(session: Session, user: User, refresh: bool = False) -> list[dict]:
    """The models ``user`` may use, custom models included (``/api/models``)."""
    return listing.for_user(session, user, all_models(session, refresh),
                            connections.settings(session)["models.user_model_ids"])


def upstream_models(session: Session, user: User, owner: Kind) -> list[dict]:
    """The ``owner`` connections' own models ``user`` may use (the Ollama and OpenAI list routes)."""
    return [m for m in user_models(session, user)
            if m.get("owned_by") == owner and not m.get("preset") and not m.get("pipe")]


MODEL_REFUSED = "Model not found"
"""Open WebUI's answer (403) to a user naming a model not open to them, hidden or unknown alike."""


def callable_model(session: Session, user: User, model_id: str | None, owner: str | None = None) -> dict | None:
    """The one model-access rule of every route that names a model (unified, Ollama and OpenAI, with or
    without a connection index), the same rule as ``/api/models``: the model's entry (only ``owner``'s
    connection models when given; custom and arena models only on the unified routes). A user gets 403 for a
    model not open to them, so a connection index cannot reach past the list; an admin may name any model
    (None when no connection lists it)."""
    return _callable(session, user, model_id, owner)[0]


def _callable(session: Session, user: User, model_id: str | None, owner: str | None) -> tuple[dict | None, list]:
    """:func:`callable_model`'s entry, and the list it was found in."""
    if not model_id:
        raise BadRequest("Invalid request: model: Missing data for required field.")
    rows = custom_models.all_models(session)
    arenas = evaluations.arena_models(session) if owner is None else []
    listed = listing.merged(all_models(session), rows, arenas)
    if owner is not None:
        listed = [m for m in listed if not m.get("preset") and not m.get("pipe")]
    entry = registry.lookup(listed, model_id, owner)
    by_id = {row.id: row for row in rows}
    user_model_ids = connections.settings(session)["models.user_model_ids"]
    if entry is not None and entry.get("arena") and not listing.usable(user, entry, by_id, user_model_ids):
        raise Forbidden(MODEL_REFUSED)
    if user.role == "admin":
        return entry, listed
    if entry is None or not listing.usable(user, entry, by_id, user_model_ids):
        raise Forbidden(MODEL_REFUSED)
    return entry, [m for m in listed if listing.usable(user, m, by_id, user_model_ids)]


@dataclass(frozen=True)
class Resolved:
    """A model a caller named, and how it is called."""

    entry: dict
    """The listed model (what the reply is saved and answered as)."""
    conn: Connection | pipes.PipeEndpoint
    upstream_id: str
    """The connection model called (a custom model's base)."""
    custom: WorkspaceModel | None
    """The custom model or upstream model settings whose params and system prompt shape the request."""
    selected: str | None = None
    """The model an arena model picked for this turn."""


def resolve(session: Session, user: User, model_id: str | None) -> Resolved:
    """A model the user may use, the connection that serves it and what it is called as there (for an arena
    model, those of the model it picked)."""
    entry, listed = _callable(session, user, model_id, None)
    if entry is not None and entry.get("arena"):
        picked = listing.arena_pick(entry, listed)
        if picked is None:
            raise registry.model_not_found(model_id)
        return replace(resolve(session, user, picked), entry=entry, selected=picked)
    target = listing.target(session, all_models(session), entry) if entry is not None else None
    if target is None:
        raise registry.model_not_found(model_id)
    conn = pipes.ENDPOINT if target.upstream.get("pipe") else registry.route(session, target.upstream)
    return Resolved(entry, conn, target.upstream["id"], target.model)


# -- proxies ------------------------------------------------------------------------------------------
ANSWER_ONLY = frozenset({"/api/chat", "/api/generate", "/api/embed", "/api/embeddings", "/api/show",
                         "/chat/completions", "/completions", "/embeddings",
                         "/v1/chat/completions", "/v1/completions", "/v1/embeddings"})
"""Upstream calls that change nothing upstream: their sender claims their jobs (``CLAIM_AHEAD``), so a worker
starts them with no database round trip."""


def enqueue_proxy(session: Session, user: User, conn: Connection, method: str, path: str,
                  body: dict | None = None, *, stream: bool = False, kind: str | None = None,
                  options: dict | None = None) -> Job:
    if method == "GET" or path in ANSWER_ONLY:
        options = {**(options or {}), CLAIM_AHEAD: True}
    return catalog.send(session, catalog.PROXY, catalog.Proxy(conn.kind, conn.idx, method, path, body, stream),
                        owner_id=user.id, kind=kind or f"{conn.kind}.{path.strip('/').replace('/', '.')}",
                        options=options)


def ollama_target(session: Session, user: User, body: dict, url_idx: int | None) -> tuple[Connection, dict]:
    """The connection for an Ollama call naming a model (the one at ``url_idx``, else one that has the
    model) and the body with the model's upstream name. A user may name only a connection that serves
    the model (403, as Open WebUI answers); an unknown model is 400 for an admin, as Open WebUI answers."""
    require_enabled(session, "ollama")
    model = body.get("model") or body.get("name")
    entry = callable_model(session, user, model, "ollama")
    if url_idx is not None:
        if user.role != "admin" and url_idx not in entry["urls"]:
            raise Forbidden(messages.ACCESS_PROHIBITED)
        conn = connections.connection(session, "ollama", url_idx)
        return conn, {**body, "model": conn.upstream_model(model)}
    if entry is None:
        raise BadRequest(registry.model_not_found(model).detail)
    conn = registry.route(session, entry)
    return conn, {**body, "model": conn.upstream_model(entry["id"])}


def enqueue_ollama_overview(session: Session, user: User, path: str) -> Job:
    return catalog.send(session, catalog.OLLAMA_OVERVIEW, catalog.OllamaOverview(path), owner_id=user.id,
                        kind=f"ollama.{path.split('/')[-1]}")


def enqueue_pull(session: Session, user: User, body: dict, url_idx: int) -> Job:
    require_enabled(session, "ollama")
    conn = connections.connection(session, "ollama", url_idx)
    name = body.get("model") or body.get("name")
    if not name:
        raise BadRequest("Invalid request: model: Missing data for required field.")
    stream = body.get("stream", True) is not False
    return enqueue_proxy(session, user, conn, "POST", "/api/pull", {**body, "model": name}, stream=stream,
                         kind="ollama.pull", options={"time_limit": PULL_TIME_LIMIT_MS})


def enqueue_verify(session: Session, user: User, provider: Kind, url: str, key: str | None,
                   config: dict | None) -> Job:
    """Check an upstream before saving it (admin): a job calls its version / models endpoint."""
    if not url.startswith(("http://", "https://")):
        raise BadRequest(f"Invalid URL: {url!r} (it must start with http:// or https://)")
    return catalog.send(session, catalog.VERIFY, catalog.Verify(provider, url, key, config or {}), owner_id=user.id,
                        kind=f"{provider}.verify")


# -- the unified endpoints ---------------------------------------------------------------------------
def _openai_body(body: dict, model: str) -> dict:
    params = body.get("params") if isinstance(body.get("params"), dict) else {}
    merged = {**{k: v for k, v in params.items() if k in OPENAI_FIELDS}, **body}
    return {k: v for k, v in merged.items() if k in OPENAI_FIELDS and v is not None} | {"model": model}


def is_background(body: dict) -> bool:
    """The web app's request: a socket session and the assistant message id (and a chat, or a new one)."""
    return all(body.get(name) for name in BACKGROUND_FIELDS) and ("chat_id" in body or "parent_id" in body)


def _enqueue_chat(session: Session, user: User, resolved: Resolved, request: dict, background: dict | None,
                  related_id: str | None, rag: dict | None, asked: dict) -> Job:
    """Enqueue one reply. ``asked`` is the caller's body: its ``filter_ids`` (filters switched on) and
    ``tool_ids`` (tools offered to the model, with the custom model's own) shape the job."""
    request, rag = custom_models.apply(session, resolved.custom, user, request, rag)
    info = resolved.entry.get("info") or {}
    filter_ids = tuple(functions.filter_ids_for(session, info, asked.get("filter_ids")))
    wanted_tools = [*(asked.get("tool_ids") or []), *((info.get("meta") or {}).get("toolIds") or [])]
    specs, serving = tool_calls.offered(session, user, [t for t in wanted_tools if isinstance(t, str)])
    ours = bool(specs) and not request.get("tools")  # a client's own tools are its to run
    selection = None
    if ours and tool_calls.wants_legacy(asked, resolved.custom.params if resolved.custom else None):
        selection = tool_calls.selection_request(session, specs, request.get("messages") or [])
    elif ours:
        request = {**request, "tools": specs}
    conn = resolved.conn
    # A background reply is saved into the chat and delivered over socket.io: it runs only once claimed,
    # and its final failure is recorded in the chat.
    return catalog.send(
        session, catalog.CHAT_COMPLETION,
        catalog.ChatCompletion(conn.kind, conn.idx, resolved.entry["id"], request, user.id, background, rag,
                               resolved.selected, filter_ids, serving if ours else None, selection),
        owner_id=user.id, related_type="chat" if related_id else None, related_id=related_id,
        options=catalog.REPLY_OPTIONS if background else {CLAIM_AHEAD: True},
    )


def _reply_targets(session: Session, user: User, body: dict) -> list[tuple[Resolved, str]]:
    """(model, assistant message id) for each reply a web-app turn asks for: the request's own, then the
    other models of a multi-model chat (``message_ids``). All are resolved before anything is stored, so an
    unknown model stores nothing."""
    wanted = [(body.get("model"), body["id"])]
    for item in body.get("message_ids") or []:
        if isinstance(item, dict) and item.get("model_id") and item.get("message_id") not in {w[1] for w in wanted}:
            wanted.append((item["model_id"], item["message_id"]))
    return [(resolve(session, user, model_id), message_id) for model_id, message_id in wanted]


def _rag(session: Session, user: User, body: dict) -> dict | None:
    """What the reply's job retrieves first: files, memories, and a web search when ``features.web_search``
    asks for one (checked here against the user's permission, before anything is stored)."""
    rag = rag_context.rag_request(body)
    if web_search.wanted_in_chat(session, user, body):
        rag = {**(rag or {"files": [], "memory": False}), "web_search": True}
    return rag


def _start_turns(session: Session, user: User, body: dict) -> tuple[list[Job], dict]:
    """The web app's background mode: store the turn, one job per reply, answer ``{status, task_ids, chat_id}``."""
    chat_id, started = body.get("chat_id"), []
    rag = _rag(session, user, body)
    for index, (resolved, message_id) in enumerate(_reply_targets(session, user, body)):
        model_id = resolved.entry["id"]
        turn = turns.start_turn(session, user, {**body, "model": model_id, "id": message_id,
                                                    **({"chat_id": chat_id} if chat_id else {})})
        chat_id = turn.chat_id
        request = {**_openai_body(body, resolved.upstream_id), "messages": turn.messages, "stream": True}
        background = {"chat_id": chat_id, "message_id": message_id, "session_id": body["session_id"],
                      "tasks": turn.tasks if index == 0 else {},
                      "image_generation": images.wanted_in_chat(session, user, body)}
        started.append(_enqueue_chat(session, user, resolved, request, background, chat_id, rag, body))
    return started, {"status": True, "task_ids": [job.id for job in started], "chat_id": chat_id}


def start_chat(session: Session, user: User, body: dict) -> tuple[Job, dict | None]:
    """Enqueue a unified chat completion. Returns the job and, for the web app's background mode
    (several jobs when several models answer), the immediate answer ``{status, task_ids, chat_id}``.
    A chat named by ``chat_id`` must be the caller's, in either mode."""
    turns.check_named_chat(session, user, body.get("chat_id"))
    if is_background(body):
        started, answer = _start_turns(session, user, body)
        return started[0], answer
    resolved = resolve(session, user, body.get("model"))
    request = _openai_body(body, resolved.upstream_id)
    if not request.get("messages"):
        raise BadRequest("Invalid request: messages: Missing data for required field.")
    related_id = body.get("chat_id") or None
    return _enqueue_chat(session, user, resolved, request, None, related_id, _rag(session, user, body), body), None


def chat_completed(session: Session, user: User, body: dict) -> tuple[Job | None, dict]:
    """Open WebUI's deprecated ``/api/chat/completed``, once the chat is known to be the caller's: the job that
    passes the messages through the model's outlet filters (the Pipelines servers' aimed at it, then the filter
    functions), or, with none, no job and the messages as sent."""
    turns.check_named_chat(session, user, body.get("chat_id"))
    body = {k: v for k, v in body.items() if k != "model_item"}
    listed = next((m for m in user_models(session, user) if m["id"] == body.get("model")), None)
    filter_ids = tuple(functions.filter_ids_for(session, (listed or {}).get("info"), body.get("filter_ids")))
    if not filter_ids and not registry.pipeline_stages(all_models(session), body.get("model"), "outlet"):
        return None, body
    return catalog.send(session, catalog.PIPELINES_OUTLET, catalog.PipelinesOutlet(user.id, body, filter_ids),
                        owner_id=user.id), body


def start_embeddings(session: Session, user: User, body: dict) -> Job:
    resolved = resolve(session, user, body.get("model"))
    if body.get("input") is None:
        raise BadRequest("Invalid request: input: Missing data for required field.")
    request = {"input": body["input"], **({"dimensions": body["dimensions"]} if body.get("dimensions") else {})}
    conn = resolved.conn
    return catalog.send(session, catalog.EMBEDDINGS,
                        catalog.Embeddings(conn.kind, conn.idx, resolved.upstream_id, request), owner_id=user.id)


def openai_connection(session: Session, user: User, model: str | None) -> tuple[Connection, str]:
    """The OpenAI connection serving a proxied call's model and the model's upstream name."""
    require_enabled(session, "openai")
    entry = callable_model(session, user, model, "openai")
    if entry is None:
        raise registry.model_not_found(model)
    conn = registry.route(session, entry)
    return conn, conn.upstream_model(entry["id"])
