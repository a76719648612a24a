"""The socket.io server the web app connects to at ``/ws/socket.io``.

Sockets authenticate with the JWT (or API key) the app sends in ``auth`` and in ``user-join``, and
join the room ``user:{id}``; ``events:chat`` joins or leaves ``chat:{id}`` for a chat the user may
read; the note editor's ``ydoc:*`` events are in ``web/note_sockets.py``. Rooms are shared across web
processes through Redis (``shared.socket_events``), so whatever a worker or another web process emits
reaches the socket. Runs under gunicorn's gevent worker (websockets through simple-websocket).
"""
from __future__ import annotations

import logging
import time

import socketio
from flask import Flask

from shared import socket_events
from shared.db import session_scope
from shared.errors import ServiceError
from shared.services import api_keys, presence, sessions
from shared.services.chats import store, turns
from web import metrics, note_sockets
from web.caller import decode

log = logging.getLogger(__name__)

PATH = "ws/socket.io"
LISTEN_WAIT = 5.0
"""Seconds a connecting socket may wait for its process to start listening on the Redis channel."""


def _user_for(app: Flask, token) -> dict | None:
    """``{id, name, role}`` of the verified user the token speaks for, else None."""
    if not isinstance(token, str) or not token:
        return None
    try:
        with app.app_context(), session_scope() as session:
            if token.startswith(api_keys.PREFIX):
                user = api_keys.user_for_key(session, token)
            else:
                user = sessions.check_claims(session, decode(token))
            if user is None or user.role not in ("admin", "user"):
                return None
            return {"id": user.id, "name": user.name, "role": user.role}
    except ServiceError:
        return None


def _token(data) -> str | None:
    auth = data.get("auth") if isinstance(data, dict) else None
    return auth.get("token") if isinstance(auth, dict) else None


def _may_read_chat(user_id: str, chat_id: str) -> bool:
    try:
        with session_scope() as session:
            store.get_chat(session, user_id, chat_id)
    except ServiceError:
        return False
    return True


def _until_listening(sio: socketio.Server) -> None:
    """Hold a socket's connect handler (and so its later events, ``user-join`` first) until this process
    listens on the Redis channel: python-socketio starts listening on the first connection, and a message
    published before that would never reach the socket."""
    deadline = time.monotonic() + LISTEN_WAIT
    while time.monotonic() < deadline:
        pubsub = getattr(sio.manager, "pubsub", None)
        if pubsub is not None and pubsub.subscribed:
            return
        sio.sleep(0.01)
    log.warning("socket.io: not listening on Redis after %.0f s; events may not reach new sockets", LISTEN_WAIT)


def create_server(app: Flask) -> socketio.Server:
    """A socket.io server whose rooms span all web processes (Redis client manager)."""
    sio = socketio.Server(
        async_mode="gevent",
        client_manager=socket_events.client_manager(),
        # Credentials travel in the socket.io ``auth`` payload, never in cookies, so any origin may connect
        # (Open WebUI's default); behind a proxy the Host/Origin pair need not match.
        cors_allowed_origins=[],
        always_connect=True,
        transports=["websocket", "polling"],
        # One socket's events are handled in the order it sent them (the note editor's text snapshots must
        # not overtake each other); different sockets still run side by side.
        async_handlers=False,
    )

    def sign_in(sid: str, token) -> dict | None:
        user = _user_for(app, token)
        if user is not None:
            sio.save_session(sid, {**sio.get_session(sid), "user": user})
            sio.enter_room(sid, socket_events.user_room(user["id"]))
        return user

    def session_user(sid: str) -> dict | None:
        return sio.get_session(sid).get("user")

    leave_documents = note_sockets.register(sio, session_user)

    @sio.event
    def connect(sid, environ, auth=None):
        _until_listening(sio)
        metrics.socket_opened()
        sign_in(sid, _token({"auth": auth}))

    @sio.event
    def disconnect(sid, reason=None):
        metrics.socket_closed()
        leave_documents(sid)

    @sio.on("user-join")
    def user_join(sid, data):
        user = sign_in(sid, _token(data))
        return {"id": user["id"], "name": user["name"]} if user else None

    @sio.on("heartbeat")
    def heartbeat(sid, data=None):
        """Presence ping from the app (every 30 s per tab): the user's ``last_active_at``."""
        user = session_user(sid)
        if user is not None:
            with session_scope() as session:
                presence.seen(session, user["id"])

    @sio.on("usage")
    def usage(sid, data=None):
        """"Model in use" pings (every second while the app sends a request), for ``/api/usage``."""
        model = data.get("model") if isinstance(data, dict) else None
        if session_user(sid) is not None and isinstance(model, str) and model:
            presence.model_used(model)

    @sio.on("events:chat")
    def chat_events(sid, data):
        user = session_user(sid)
        if user is None or not isinstance(data, dict):
            return False
        chat_id = data.get("chat_id")
        event = data.get("data") if isinstance(data.get("data"), dict) else {}
        if not isinstance(chat_id, str) or not chat_id or turns.is_temporary(chat_id):
            return False
        if event.get("type") == "leave":
            sio.leave_room(sid, socket_events.chat_room(chat_id))
            return True
        if event.get("type") == "join":
            if not _may_read_chat(user["id"], chat_id):
                return False
            sio.enter_room(sid, socket_events.chat_room(chat_id))
            return True
        return False

    return sio


def socket_app(app: Flask) -> socketio.WSGIApp:
    """The WSGI app gunicorn serves: socket.io at ``/ws/socket.io``, everything else Flask."""
    return socketio.WSGIApp(create_server(app), app, socketio_path=PATH)
