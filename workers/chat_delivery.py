"""Delivers background chat completions of the web app to the owner's browsers over socket.io.

For every message of ``llm.chat_completion`` that carries ``background`` (``chat_id``, ``message_id``,
optional ``tasks``), a relay thread follows the job's event log while the attempt runs and turns it
into Open WebUI's ``events`` messages: ``chat:active`` while running, ``chat:completion`` with the text
so far for each delta, then ``done`` (or ``chat:message:error``) and ``chat:active: false``. They are
published through Redis (write-only socket.io manager), so whichever web process holds the socket
delivers them. After a successful reply the title/tags/follow-ups job is enqueued.
"""
from __future__ import annotations

import logging
import threading
import time

import dramatiq
import redis

from shared import socket_events
from shared.db import session_scope
from shared.errors import ServiceError
from shared.jobs import catalog, events
from shared.jobs.events import JobEvent
from shared.redis_client import get_redis
from shared.services import chat_flow, chats

log = logging.getLogger(__name__)

TASK_FLAGS = ("title_generation", "tags_generation", "follow_up_generation")
KEEPALIVE = 1.0
"""Seconds each blocking read of the job's log waits (kept under any Redis socket timeout)."""
IDLE_LIMIT = 3600.0
RESUME_DELAY = 0.2


class ChatRelay:
    """Turns one attempt's job events into socket.io ``events`` for the chat's owner."""

    def __init__(self, owner_id: str, chat_id: str, message_id: str) -> None:
        self.owner_id = owner_id
        self.chat_id = chat_id
        self.message_id = message_id
        self.content = ""

    def emit(self, type_: str, data=None) -> None:
        socket_events.emit_chat_event(self.owner_id, self.chat_id, self.message_id, type_, data)

    def save(self, fields: dict) -> None:
        """Record the outcome in the stored reply, so a reload shows it even without the socket."""
        if chat_flow.is_temporary(self.chat_id):
            return
        try:
            with session_scope() as session:
                chats.upsert_message(session, self.owner_id, self.chat_id, {"id": self.message_id, **fields})
        except ServiceError as error:  # the chat was deleted meanwhile
            log.info("reply %s not saved: %s", self.message_id, error)

    def handle(self, event: JobEvent) -> bool:
        """Relay one event; False once this attempt's part of the log is over."""
        data = event.data
        sources = (data.get("chunk") or {}).get("sources") if event.type == "delta" else None
        if isinstance(sources, list):  # retrieved context (RAG): the web app shows the citations at once
            self.emit("chat:completion", {"sources": sources})
        elif event.type == "delta" and isinstance(data.get("content"), str):
            self.content = data["content"]
            self.emit("chat:completion", {"content": self.content})
        elif event.type == "result":
            usage = (data.get("result") or {}).get("usage") if isinstance(data.get("result"), dict) else None
            self.emit("chat:completion", {"done": True, "content": self.content, **({"usage": usage} if usage else {})})
        elif event.type == "error":
            error = {"content": data.get("message") or "The reply failed."}
            self.save({"error": error, "done": True})
            self.emit("chat:message:error", {"error": error, "done": True})
        elif event.type == "progress" and str(data.get("message", "")).startswith("Retrying"):
            self.emit("status", {"description": data["message"], "done": False})
            return False
        elif event.terminal:
            if data.get("status") == "cancelled":
                self.save({"content": self.content, "done": True})
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


def _target(message: dramatiq.Message) -> tuple[str, str, dict] | None:
    background = message.kwargs.get("background")
    if (message.actor_name != catalog.CHAT_COMPLETION.name or not isinstance(background, dict)
            or not message.kwargs.get("job_id")):
        return None
    if not background.get("chat_id") or not background.get("message_id") or not message.kwargs.get("owner_id"):
        return None
    return message.kwargs["job_id"], message.kwargs["owner_id"], background


class ChatDelivery(dramatiq.Middleware):
    """Starts a relay per attempt of a background chat completion, and the follow-up tasks job after it.

    Delivery is best effort around the job: a failure here is logged and never fails the reply itself,
    which the worker saves into the chat either way.
    """

    def before_process_message(self, broker, message):
        target = _target(message)
        if target is None:
            return
        job_id, owner_id, background = target
        chat = ChatRelay(owner_id, background["chat_id"], background["message_id"])
        try:
            # Events from before this attempt (an earlier one's) are not relayed again.
            after = _last_event_id(job_id)
            chat.emit("chat:active", {"active": True})
        except redis.RedisError as error:
            log.warning("socket delivery of job %s not started: %s", job_id, error)
            return
        threading.Thread(target=relay, args=(job_id, chat, after), daemon=True,
                         name=f"chat-delivery-{job_id}").start()

    def after_process_message(self, broker, message, *, result=None, exception=None):
        target = _target(message)
        if target is None or exception is not None:
            return
        job_id, owner_id, background = target
        tasks = background.get("tasks") or {}
        if chat_flow.is_temporary(background["chat_id"]) or not any(name in tasks for name in TASK_FLAGS):
            return
        try:
            with session_scope() as session:
                payload = catalog.ChatTasks(owner_id, background["chat_id"], background["message_id"],
                                            message.kwargs.get("model"), tasks)
                catalog.send(session, catalog.CHAT_TASKS, payload, owner_id=owner_id, related_type="chat",
                             related_id=background["chat_id"], parent_id=job_id)
        except Exception:  # the reply is done and saved; only its title/tags/follow-ups are lost
            log.exception("chat tasks for job %s not enqueued", job_id)
