"""socket.io messages for the web app's browsers, sent from any process through Redis.

The web processes' socket.io servers share one Redis channel (python-socketio's ``RedisManager``);
workers publish on it in write-only mode, so a message reaches the user's sockets whichever web
process holds them. The channel lives under the deployment's Redis prefix.
"""
from __future__ import annotations

from functools import lru_cache

import socketio

from shared.redis_client import key, redis_url


def channel() -> str:
    return key("socket.io")


def client_manager(write_only: bool = False) -> socketio.RedisManager:
    """The Redis-backed socket.io client manager (``write_only`` for processes without sockets)."""
    return socketio.RedisManager(redis_url(), channel=channel(), write_only=write_only)


@lru_cache(maxsize=1)
def _emitter() -> socketio.RedisManager:
    return client_manager(write_only=True)


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


def chat_room(chat_id: str) -> str:
    return f"chat:{chat_id}"


def emit_to_user(user_id: str, event: str, data) -> None:
    """Send ``event`` to every socket of the user (all tabs, all web processes)."""
    _emitter().emit(event, data, room=user_room(user_id), namespace="/")


def chat_event(chat_id: str | None, message_id: str | None, type_: str, data=None) -> dict:
    """Open WebUI's ``events`` envelope: ``{chat_id, message_id, data: {type, data}}``."""
    return {"chat_id": chat_id, "message_id": message_id, "data": {"type": type_, "data": data}}


def emit_chat_event(user_id: str, chat_id: str | None, message_id: str | None, type_: str, data=None) -> None:
    """One chat event (``chat:completion``, ``status``, ``chat:title``, ...) to the chat owner's sockets."""
    emit_to_user(user_id, "events", chat_event(chat_id, message_id, type_, data))
