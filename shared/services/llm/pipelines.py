"""Pipelines servers (open-webui/pipelines) as Open WebUI 0.12.4 uses them: OpenAI connections whose ``/models``
answer says ``pipelines`` (the model refresh notes which). Their pipe pipelines are models of the connection like
any other; their filter pipelines run around chat completions.

The admin's side (``/api/v1/pipelines``, in the web): which connections are Pipelines servers, and a job for every
call to one: reads through the proxy job, changes (add, upload, delete, valves) through ``pipelines.change``, after
which the models are gathered again (a server's pipelines, and a filter's targets and priority, are in its
``/models``).

Around chat completions (in the worker): the filter pipelines aimed at a model, and the model itself when it is a
pipeline (``registry.pipeline_stages`` orders them), see each chat completion request of the model before it is
called (:func:`inlet`), and a web-app reply's conversation once the reply is saved (:func:`outlet`; the messages
``/api/chat/completed`` is sent, :func:`completed`). Each is sent ``{"user": {id, email, name, role}, "body"}`` and
answers the body that goes on. As in Open WebUI, a server that cannot be reached is passed over, an error it
answers stops the request (an outlet's leaves the reply as it was), and a connection without a key is passed over.
"""
from __future__ import annotations

import logging
import os
import uuid
from typing import Any, BinaryIO

import redis
from sqlalchemy.orm import Session

from shared.db import session_scope
from shared.errors import BadRequest, NotFound, ServiceError, UpstreamError
from shared.jobs import catalog, current
from shared.models import Job, User
from shared.providers.pipelines import PipelinesClient, Stage, pipeline_path
from shared.services.chats import history, store, turns
from shared.services.llm import connections, gateway, registry
from shared.services.llm.connections import Connection
from shared.storage import get_storage

log = logging.getLogger(__name__)

NO_SERVER = "Pipeline not found: name the Pipelines server with urlIdx."
PYTHON_ONLY = "Only Python (.py) files are allowed."
OUTLET_FIELDS = ("usage", "sources")
"""What a saved message shows outlet filters besides its id, role, content, info and timestamp, when it has it."""


# -- the admin's side (web) -------------------------------------------------------------------------
def servers(session: Session) -> list[dict]:
    """``{url, idx}`` of each enabled OpenAI connection the model refresh found to be a Pipelines server."""
    found = set((gateway.registry_snapshot(session) or {}).get("pipelines") or [])
    return [{"url": conn.url, "idx": conn.idx} for conn in connections.connections(session, "openai")
            if conn.enabled and conn.idx in found]


def _server(session: Session, url_idx: int | None) -> Connection:
    if url_idx is None:
        raise NotFound(NO_SERVER)
    return connections.connection(session, "openai", url_idx)


def _read(session: Session, user: User, url_idx: int | None, path: str, kind: str) -> Job:
    return gateway.enqueue_proxy(session, user, _server(session, url_idx), "GET", path, kind=f"pipelines.{kind}")


def _change(session: Session, user: User, conn: Connection, kind: str, method: str, path: str,
            body: dict | None = None, upload_key: str | None = None, filename: str | None = None) -> Job:
    return catalog.send(session, catalog.PIPELINES_CHANGE,
                        catalog.PipelinesChange(conn.idx, method, path, body, upload_key, filename),
                        owner_id=user.id, kind=f"pipelines.{kind}")


def pipelines_of(session: Session, user: User, url_idx: int | None) -> Job:
    """The server's pipelines (``{data: [{id, name, type, valves}]}``)."""
    return _read(session, user, url_idx, "/pipelines", "list")


def valves(session: Session, user: User, url_idx: int | None, pipeline_id: str) -> Job:
    return _read(session, user, url_idx, pipeline_path(pipeline_id, "valves"), "valves")


def valves_spec(session: Session, user: User, url_idx: int | None, pipeline_id: str) -> Job:
    """The JSON schema of the pipeline's valves."""
    return _read(session, user, url_idx, pipeline_path(pipeline_id, "valves/spec"), "valves_spec")


def update_valves(session: Session, user: User, url_idx: int | None, pipeline_id: str, values: dict) -> Job:
    return _change(session, user, _server(session, url_idx), "valves_update", "POST",
                   pipeline_path(pipeline_id, "valves/update"), values)


def add(session: Session, user: User, url_idx: int | None, url: str) -> Job:
    """The server downloads the pipeline's Python file from ``url``."""
    return _change(session, user, _server(session, url_idx), "add", "POST", "/pipelines/add", {"url": url})


def delete(session: Session, user: User, url_idx: int | None, pipeline_id: str) -> Job:
    return _change(session, user, _server(session, url_idx), "delete", "DELETE", "/pipelines/delete",
                   {"id": pipeline_id})


def upload(session: Session, user: User, url_idx: int | None, stream: BinaryIO, filename: str | None) -> Job:
    """A pipeline's Python file for the server, kept in the file storage until the job has sent it."""
    name = os.path.basename(filename or "")
    if not name.endswith(".py"):
        raise BadRequest(PYTHON_ONLY)
    conn = _server(session, url_idx)
    key = f"pipeline_{uuid.uuid4().hex}.py"
    get_storage().save(stream, key)
    return _change(session, user, conn, "upload", "POST", "/pipelines/upload", upload_key=key, filename=name)


# -- calls to a server (worker) -------------------------------------------------------------------
def _client(url_idx: int) -> tuple[Connection, PipelinesClient]:
    """The OpenAI connection ``url_idx`` and a client for its Pipelines routes (sent the key only, as Open
    WebUI sends them)."""
    values = connections.cached_settings()
    conn = connections.connection_in(values, "openai", url_idx)
    return conn, PipelinesClient(conn.url, conn.key, connections.timeouts_in(values)[0], conn.config)


def run_change(url_idx: int, method: str, path: str, body: dict | None, upload_key: str | None,
               filename: str | None) -> Any:
    """The ``pipelines.change`` job's step: the call (a kept upload sent as its file, then dropped), then the
    models gathered again."""
    _, client = _client(url_idx)
    storage = get_storage()
    try:
        if upload_key is None:
            answer = client.call(method, path, body)
        else:
            with storage.open(upload_key) as kept:
                answer = client.upload(path, filename or upload_key, kept.read())
    finally:
        if upload_key is not None:
            storage.delete(upload_key)
    with session_scope() as session:
        gateway.models_changed(session)
    return answer


# -- around chat completions (worker) ---------------------------------------------------------------
def _stages(model: str | None, stage: Stage) -> list[dict]:
    snapshot = registry.cached()
    return registry.pipeline_stages(snapshot["models"], model, stage) if snapshot else []


def _user(owner_id: str) -> dict:
    """The caller as Open WebUI shows them to a pipeline."""
    with session_scope() as session:
        user = session.get(User, owner_id)
        if user is None:
            return {"id": owner_id}
        return {"id": user.id, "email": user.email, "name": user.name, "role": user.role}


def _run(stages: list[dict], stage: Stage, body: dict, user: dict) -> dict:
    """``body`` as each of ``stages`` in turn passes it on."""
    for entry in stages:
        try:
            conn, client = _client(int(entry["urlIdx"]))
        except (KeyError, ValueError, NotFound):
            continue  # its connection went away after the models were gathered
        if not conn.key:
            continue
        try:
            answer = client.filter(conn.upstream_model(entry["id"]), stage, body, user)
        except UpstreamError as exc:
            if exc.transient and exc.upstream_status is None:  # not reached, or no answer in time
                log.warning("pipeline %s passed over (%s): %s", entry["id"], stage, exc.detail)
                continue
            # The pipeline's own refusal (a filter that rate-limits says so with a 500): not worth a retry.
            raise UpstreamError(exc.detail, exc.status, upstream_status=exc.upstream_status) from exc
        if not isinstance(answer, dict):
            raise UpstreamError(f"Pipelines: the {stage} of pipeline {entry['id']} answered no request body")
        body = answer
    return body


def inlet(owner_id: str, model: str, body: dict, background: dict | None) -> dict:
    """A chat completion request of ``model`` (its listed id; ``body`` in OpenAI's format, naming the upstream
    model) as the inlet filters aimed at it, then the model itself when it is a pipeline, pass it on (the same
    request when there are none). They see it as Open WebUI shows it to them: named by the listed id, with
    ``metadata`` (``user_id``; a web-app reply's ``chat_id``, ``message_id``, ``session_id``), which the model is
    not sent. A pipeline model is sent its caller as ``user``, as Open WebUI sends it."""
    stages = _stages(model, "inlet")
    if not stages:
        return body
    user = _user(owner_id)
    sent_metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    context = {name: background[name] for name in ("chat_id", "message_id", "session_id")} if background else {}
    passed = _run(stages, "inlet", {**body, "model": model,
                                     "metadata": {**sent_metadata, "user_id": owner_id, **context}}, user)
    request = {**{k: v for k, v in passed.items() if k != "metadata"}, "model": body["model"]}
    if "metadata" in body:
        request["metadata"] = body["metadata"]
    if stages[-1]["id"] == model:  # the model is a pipeline itself
        request["user"] = user
    return request


def _conversation(owner_id: str, chat_id: str, message_id: str, messages: list[dict], content: str) -> list[dict]:
    """The conversation down to the reply, as outlet filters see it: the saved branch, or for a temporary chat
    the request's messages and the reply."""
    if turns.is_temporary(chat_id):
        return [*({"role": m.get("role"), "content": m.get("content")} for m in messages),
                {"id": message_id, "role": "assistant", "content": content}]
    with session_scope() as session:
        stored = store.get_chat(session, owner_id, chat_id).chat or {}
    return [{"id": m.get("id"), "role": m.get("role"), "content": m.get("content"), "info": m.get("info"),
             "timestamp": m.get("timestamp"), **{name: m[name] for name in OUTLET_FIELDS if m.get(name)}}
            for m in history.branch(history.messages_of(stored), message_id)]


def _keep_changes(owner_id: str, chat_id: str, before: list[dict], after: list[dict]) -> None:
    """Save the messages whose text the filters changed, the old text kept as ``originalContent``."""
    old = {m["id"]: m.get("content") for m in before if m.get("id")}
    changed = [m for m in after if m.get("id") in old and m.get("content") != old[m["id"]]]
    if not changed or turns.is_temporary(chat_id):
        return
    with session_scope() as session:
        for message in changed:
            store.update_message(session, owner_id, chat_id, message["id"],
                                 {"originalContent": old[message["id"]], "content": message.get("content") or ""})


def outlet(owner_id: str, model: str, background: dict, messages: list[dict], content: str) -> None:
    """After a web-app reply (``content``) is saved: the model itself when it is a pipeline, then the outlet filters
    aimed at it, get the conversation down to the reply; the messages they change are saved and shown (Open WebUI's
    ``chat:outlet``, relayed by ``shared.services.chats.delivery``). ``messages``: the request's, for a temporary
    chat. A failure (Redis away included) leaves the reply as it was."""
    chat_id, message_id = background["chat_id"], background["message_id"]
    try:
        stages = _stages(model, "outlet")
        if not stages:
            return
        before = _conversation(owner_id, chat_id, message_id, messages, content)
        after = _run(stages, "outlet", {"model": model, "messages": before, "filter_ids": [], "chat_id": chat_id,
                                        "session_id": background.get("session_id"), "id": message_id},
                     _user(owner_id))
        outcome = [m for m in after.get("messages") or [] if isinstance(m, dict)]
        _keep_changes(owner_id, chat_id, before, outcome)
    except (ServiceError, redis.RedisError) as error:  # a pipeline's error, the chat deleted meanwhile, no Redis
        log.warning("outlet pipelines of reply %s not applied: %s", message_id, getattr(error, "detail", error))
        return
    current.publish("delta", {"chunk": {"outlet": {"messages": outcome}}})


def completed(owner_id: str, body: dict) -> dict:
    """The ``pipelines.outlet`` job's step (Open WebUI's deprecated ``/api/chat/completed``): the messages as the
    model's outlet pipelines pass them on."""
    return _run(_stages(body.get("model"), "outlet"), "outlet", body, _user(owner_id))
