"""The gateway's rules on the web side: which model a user may call, which connection serves it, and
what job to enqueue. Never calls an upstream itself (the ``llm.*`` actors in ``jobs/llm.py`` do).
"""
from __future__ import annotations

import time

from sqlalchemy.orm import Session

from shared import messages
from shared.config import env
from shared.errors import BadRequest, Forbidden, ServiceError
from shared.jobs import catalog
from shared.jobs.enqueue import CLAIM_AHEAD
from shared.models import Job, User
from shared.services import images
from shared.services.chats import rag_context, turns
from shared.services.llm import connections, registry
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


def config_changed(session: Session) -> None:
    """After an admin changed connections: forget the cached models and gather them again."""
    registry.clear()
    registry.release_refresh()
    request_refresh(session)


def all_models(session: Session, refresh: bool = False) -> list[dict]:
    """The cached model list; a stale one is served while a refresh runs. An empty cache, or
    ``refresh`` (Open WebUI's ``?refresh=true``), waits (bounded) for a refresh to finish."""
    snapshot = registry.cached()
    if refresh or registry.is_stale(snapshot):
        request_refresh(session)
    asked = time.time()
    deadline = time.monotonic() + env("MODELS_WAIT_SECONDS")
    while time.monotonic() < deadline and (
            snapshot is None or (refresh and snapshot["refreshed_at"] < asked)):
        time.sleep(0.02)
        snapshot = registry.cached() or snapshot
    return snapshot["models"] if snapshot else []


def user_models(session: Session, user: User, refresh: bool = False) -> list[dict]:
    """The models ``user`` may use (admins: all; users: ``models.user_model_ids``)."""
    return registry.visible_to(user, all_models(session, refresh),
                                      connections.settings(session)["models.user_model_ids"])


MODEL_REFUSED = "Model not found"
"""Open WebUI's answer (403) to a user naming a model not open to them, hidden or unknown alike."""


def callable_model(session: Session, user: User, model_id: str | None, owner: str | None = None) -> dict | None:
    """The one model-access rule of every route that names a model (unified, Ollama and OpenAI, with or
    without a connection index), the same rule as ``/api/models``: the model's registry entry (only
    ``owner``'s models when given). A user gets 403 for a model not open to them, so a connection index
    cannot reach past the list; an admin may name any model (None when no connection lists it)."""
    if not model_id:
        raise BadRequest("Invalid request: model: Missing data for required field.")
    entry = registry.lookup(all_models(session), model_id, owner)
    if user.role == "admin":
        return entry
    if entry is None or not registry.visible_to(
            user, [entry], connections.settings(session)["models.user_model_ids"]):
        raise Forbidden(MODEL_REFUSED)
    return entry


def resolve(session: Session, user: User, model_id: str | None) -> tuple[dict, Connection]:
    """The registry entry for a model the user may use and the connection that serves it."""
    entry = callable_model(session, user, model_id)
    if entry is None:
        raise registry.model_not_found(model_id)
    return entry, registry.route(session, entry)


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


def _enqueue_chat(session: Session, user: User, entry: dict, conn: Connection, request: dict,
                  background: dict | None, related_id: str | None, rag: dict | None) -> Job:
    # A background reply is saved into the chat and delivered over socket.io: it runs only once claimed,
    # and its final failure is recorded in the chat.
    return catalog.send(
        session, catalog.CHAT_COMPLETION,
        catalog.ChatCompletion(conn.kind, conn.idx, entry["id"], request, user.id, background, rag),
        owner_id=user.id, related_type="chat" if related_id else None, related_id=related_id,
        options=catalog.REPLY_OPTIONS if background else {CLAIM_AHEAD: True},
    )


def _reply_targets(session: Session, user: User, body: dict) -> list[tuple[dict, Connection, str]]:
    """(model entry, connection, assistant message id) for each reply a web-app turn asks for: the
    request's own, then the other models of a multi-model chat (``message_ids``). All are resolved
    before anything is stored, so an unknown model stores nothing."""
    wanted = [(body.get("model"), body["id"])]
    for item in body.get("message_ids") or []:
        if isinstance(item, dict) and item.get("model_id") and item.get("message_id") not in {w[1] for w in wanted}:
            wanted.append((item["model_id"], item["message_id"]))
    return [(*resolve(session, user, model_id), message_id) for model_id, message_id in wanted]


def _start_turns(session: Session, user: User, body: dict) -> tuple[list[Job], dict]:
    """The web app's background mode: store the turn, one job per reply, answer ``{status, task_ids, chat_id}``."""
    chat_id, started = body.get("chat_id"), []
    rag = rag_context.rag_request(body)
    for index, (entry, conn, message_id) in enumerate(_reply_targets(session, user, body)):
        turn = turns.start_turn(session, user, {**body, "model": entry["id"], "id": message_id,
                                                    **({"chat_id": chat_id} if chat_id else {})})
        chat_id = turn.chat_id
        request = {**_openai_body(body, entry["id"]), "messages": turn.messages, "stream": True}
        background = {"chat_id": chat_id, "message_id": message_id, "session_id": body["session_id"],
                      "tasks": turn.tasks if index == 0 else {},
                      "image_generation": images.wanted_in_chat(session, user, body)}
        started.append(_enqueue_chat(session, user, entry, conn, request, background, chat_id, rag))
    return started, {"status": True, "task_ids": [job.id for job in started], "chat_id": chat_id}


def start_chat(session: Session, user: User, body: dict) -> tuple[Job, dict | None]:
    """Enqueue a unified chat completion. Returns the job and, for the web app's background mode
    (several jobs when several models answer), the immediate answer ``{status, task_ids, chat_id}``.
    A chat named by ``chat_id`` must be the caller's, in either mode."""
    turns.check_named_chat(session, user, body.get("chat_id"))
    if is_background(body):
        started, answer = _start_turns(session, user, body)
        return started[0], answer
    entry, conn = resolve(session, user, body.get("model"))
    request = _openai_body(body, entry["id"])
    if not request.get("messages"):
        raise BadRequest("Invalid request: messages: Missing data for required field.")
    related_id = body.get("chat_id") or None
    return _enqueue_chat(session, user, entry, conn, request, None, related_id, rag_context.rag_request(body)), None


def chat_completed(session: Session, user: User, body: dict) -> dict:
    """Open WebUI's deprecated ``/api/chat/completed``: no outlet filters run here, so the messages come
    back as sent, once the chat is known to be the caller's."""
    turns.check_named_chat(session, user, body.get("chat_id"))
    return {k: v for k, v in body.items() if k != "model_item"}


def start_embeddings(session: Session, user: User, body: dict) -> Job:
    entry, conn = resolve(session, user, body.get("model"))
    if body.get("input") is None:
        raise BadRequest("Invalid request: input: Missing data for required field.")
    request = {"input": body["input"], **({"dimensions": body["dimensions"]} if body.get("dimensions") else {})}
    return catalog.send(session, catalog.EMBEDDINGS, catalog.Embeddings(conn.kind, conn.idx, entry["id"], request),
                        owner_id=user.id)


def openai_connection(session: Session, user: User, model: str | None) -> tuple[Connection, str]:
    """The OpenAI connection serving a proxied call's model and the model's upstream name."""
    require_enabled(session, "openai")
    entry = callable_model(session, user, model, "openai")
    if entry is None:
        raise registry.model_not_found(model)
    conn = registry.route(session, entry)
    return conn, conn.upstream_model(entry["id"])
