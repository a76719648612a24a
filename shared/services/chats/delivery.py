"""A web-app reply (a chat completion in background mode): the one writer of the assistant message, and
its delivery to the owner's browsers over socket.io.

The chat completion actor makes a :class:`ChatReply` and calls it at each step: :meth:`ChatReply.start`
when an attempt begins (a relay thread follows the job's event log and turns it into Open WebUI's
``events`` messages: ``chat:active``, ``chat:completion`` with the text so far, ``chat:outlet`` with the
messages as outlet filters left them, then ``done`` or
``chat:message:error``, and ``chat:active: false``), :meth:`ChatReply.finish` with the answer (saved
together with the enqueue of the follow-up tasks job), :meth:`ChatReply.stopped` on a cancel,
:meth:`ChatReply.failed` on a failure that will not be retried. A failure only the retry policy can call
final (a transient one on the last attempt) is recorded by the ``on_failure`` callback the reply's message
declares (:data:`shared.jobs.catalog.REPLY_FAILED`), through :func:`record_final_error`. Socket events go
out through Redis (a write-only socket.io manager), so whichever web process holds the socket delivers
them; delivery is best effort and never fails the reply.
"""
from __future__ import annotations

import logging
import threading
import time

import redis

from shared import socket_events
from shared.db import session_scope, through_outage
from shared.errors import ServiceError
from shared.jobs import current, events
from shared.jobs.events import JobEvent
from shared.models import User
from shared.models.job import Job
from shared.redis_client import get_redis
from shared.services import app_events
from shared.services.chats import history, reply_tasks, store, turns

log = logging.getLogger(__name__)

KEEPALIVE = 1.0
"""Seconds each blocking read of the job's log waits (kept under any Redis socket timeout)."""
IDLE_LIMIT = 3600.0
RESUME_DELAY = 0.2


class ChatRelay:
    """Turns one attempt's job events into socket.io ``events`` for the chat's owner (it writes nothing)."""

    def __init__(self, owner_id: str, chat_id: str, message_id: str) -> None:
        self.owner_id = owner_id
        self.chat_id = chat_id
        self.message_id = message_id
        self.content = ""

    def emit(self, type_: str, data=None) -> None:
        socket_events.emit_chat_event(self.owner_id, self.chat_id, self.message_id, type_, data)

    def handle(self, event: JobEvent) -> bool:
        """Relay one event; False once this attempt's part of the log is over."""
        data = event.data
        chunk = (data.get("chunk") or {}) if event.type == "delta" else {}
        if isinstance(chunk.get("selected_model_id"), str):  # the model an arena model picked
            self.emit("chat:completion", {"selected_model_id": chunk["selected_model_id"]})
        elif isinstance(chunk.get("output"), list):  # tool calls and their results so far
            self.emit("chat:completion", {"done": False, "output": chunk["output"]})
        elif isinstance(chunk.get("sources"), list):  # retrieved context (RAG): the web app shows the citations at once
            self.emit("chat:completion", {"sources": chunk["sources"]})
        elif isinstance(chunk.get("status"), dict):  # a step before the answer (creating an image ...)
            self.emit("status", chunk["status"])
        elif isinstance(chunk.get("files"), list):  # files the reply carries (a generated image)
            self.emit("files", {"files": chunk["files"]})
        elif isinstance(chunk.get("outlet"), dict):  # the messages as outlet filters changed them (saved already)
            own = next((m for m in chunk["outlet"].get("messages") or [] if m.get("id") == self.message_id), None)
            if own is not None and isinstance(own.get("content"), str):
                self.content = own["content"]  # what the final chat:completion shows
            self.emit("chat:outlet", chunk["outlet"])
        elif event.type == "delta" and isinstance(data.get("content"), str):
            self.content = data["content"]
            self.emit("chat:completion", {"content": self.content})
        elif event.type == "result":
            usage = (data.get("result") or {}).get("usage") if isinstance(data.get("result"), dict) else None
            self.emit("chat:completion", {"done": True, "content": self.content, **({"usage": usage} if usage else {})})
        elif event.type == "error":
            self.emit("chat:message:error", {"error": {"content": data.get("message") or "The reply failed."},
                                             "done": True})
        elif event.type == "progress" and str(data.get("message", "")).startswith("Retrying"):
            self.emit("status", {"description": data["message"], "done": False})
            return False
        elif event.terminal:
            if data.get("status") == "cancelled":
                self.emit("chat:tasks:cancel", {})
            self.emit("chat:active", {"active": False})
            return False
        return True


def relay(job_id: str, chat: ChatRelay, after: str | None) -> None:
    """Follow the job's log from ``after`` until this attempt ends. A Redis hiccup resumes after the last
    relayed event; an hour without any event (the attempt is gone) ends it."""
    deadline = time.monotonic() + IDLE_LIMIT
    while time.monotonic() < deadline:
        try:
            for event in events.iter_events(job_id, after, keepalive=KEEPALIVE):
                if event is None:
                    if time.monotonic() > deadline:
                        return
                    continue
                after, deadline = event.id, time.monotonic() + IDLE_LIMIT
                if not chat.handle(event):
                    return
            return
        except redis.RedisError as error:
            log.warning("socket delivery of job %s: Redis unavailable (%s); resuming", job_id, error)
            time.sleep(RESUME_DELAY)
        except Exception:  # never let delivery trouble touch the job itself
            log.exception("socket delivery of job %s stopped", job_id)
            return


def _last_event_id(job_id: str) -> str | None:
    latest = get_redis().xrevrange(events.stream_key(job_id), count=1)
    return latest[0][0] if latest else None


def _save(owner_id: str, chat_id: str, message_id: str, fields: dict) -> None:
    """Write ``fields`` into the assistant message (temporary ``local:`` chats are not stored)."""
    if turns.is_temporary(chat_id):
        return

    def write() -> None:
        with session_scope() as session:
            store.upsert_message(session, owner_id, chat_id, {"id": message_id, **fields})
    try:
        through_outage(write, f"saving reply {message_id}")
    except ServiceError as error:  # the chat was deleted meanwhile
        log.info("reply %s not saved: %s", message_id, error)


class ChatReply:
    """The assistant message ``background["message_id"]`` of ``background["chat_id"]``, as its job writes it."""

    def __init__(self, job_id: str, owner_id: str, background: dict) -> None:
        self.job_id = job_id
        self.owner_id = owner_id
        self.chat_id: str = background["chat_id"]
        self.message_id: str = background["message_id"]
        self.tasks: dict = background.get("tasks") or {}

    def start(self) -> None:
        """Relay this attempt's events to the browsers (those of an earlier attempt are not sent again)."""
        chat = ChatRelay(self.owner_id, self.chat_id, self.message_id)
        try:
            after = _last_event_id(self.job_id)
            chat.emit("chat:active", {"active": True})
        except redis.RedisError as error:
            log.warning("socket delivery of job %s not started: %s", self.job_id, error)
            return
        threading.Thread(target=relay, args=(self.job_id, chat, after), daemon=True,
                         name=f"chat-delivery-{self.job_id}").start()

    def show_status(self, description: str, done: bool) -> None:
        """A step of the reply the browsers show before its text (``status``)."""
        current.publish("delta", {"chunk": {"status": {"description": description, "done": done}}})

    def kept_files(self) -> list[dict]:
        """The files an earlier attempt of this reply saved (a retried job does not make them again)."""
        if turns.is_temporary(self.chat_id):
            return []
        with session_scope() as session:
            stored = store.get_chat(session, self.owner_id, self.chat_id).chat or {}
        return (history.messages_of(stored).get(self.message_id) or {}).get("files") or []

    def attach(self, files: list[dict]) -> None:
        """Files the reply carries (``files`` on the message), saved and shown at once."""
        _save(self.owner_id, self.chat_id, self.message_id, {"files": files})
        current.publish("delta", {"chunk": {"files": files}})

    def delta_fields(self, content: str) -> dict[str, str]:
        """What a ``delta`` event carries for the relay besides its chunk: the chat and the text so far."""
        return {"chat_id": self.chat_id, "message_id": self.message_id, "content": content}

    def finish(self, model: str, fields: dict) -> None:
        """Save the answer (``content``, ``usage``, ``sources`` ...) and, in the same transaction, enqueue
        the title/tags/follow-ups job the app asked for."""
        if turns.is_temporary(self.chat_id):
            return

        def write() -> None:
            with session_scope() as session:
                store.upsert_message(session, self.owner_id, self.chat_id,
                                     {"id": self.message_id, **fields, "done": True, "error": None, "model": model})
                app_events.emit(session, "chat.finished", actor=session.get(User, self.owner_id),
                                subject_id=self.chat_id, subject_type="chat",
                                data={"user_id": self.owner_id, "chat_id": self.chat_id, "message_id": self.message_id,
                                      "model_id": model, "url": f"/c/{self.chat_id}",
                                      "message": fields.get("content") or ""})
                reply_tasks.enqueue_after_reply(session, self.owner_id, self.chat_id, self.message_id, model,
                                               self.tasks, parent_id=self.job_id)
        through_outage(write, f"saving reply {self.message_id}")

    def stopped(self, content: str) -> None:
        """Stopped by the user: keep what was said so far."""
        _save(self.owner_id, self.chat_id, self.message_id, {"content": content, "done": True})

    def failed(self, content: str, message: str) -> None:
        """A failure that ends the reply: what was said so far, and why it ended."""
        _save(self.owner_id, self.chat_id, self.message_id,
              {"content": content, "done": True, "error": {"content": message}})


def record_final_error(message_data: dict) -> None:
    """The ``on_failure`` callback's step: a reply whose job failed for good and that its actor did not end
    (its last attempt failed transiently) shows the job's error."""
    kwargs = message_data.get("kwargs") or {}
    background = kwargs.get("background") or {}
    if not background.get("chat_id") or turns.is_temporary(background["chat_id"]):
        return
    with session_scope() as session:
        job = session.get(Job, message_data.get("message_id"))
        if job is None or job.status != "failed":
            return
        try:
            stored = store.get_chat(session, kwargs["owner_id"], background["chat_id"], for_update=True).chat or {}
        except ServiceError:  # the chat was deleted meanwhile
            return
        if not (history.messages_of(stored).get(background["message_id"]) or {}).get("done"):
            store.upsert_message(session, kwargs["owner_id"], background["chat_id"],
                                 {"id": background["message_id"], "done": True,
                                  "error": {"content": (job.error or {}).get("message") or "The reply failed."}})
