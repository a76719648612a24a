"""The note editor's shared documents: the Yjs updates browsers exchange over socket.io while they edit a note
together (Open WebUI's ``ydoc:*`` events).

A document is ``note:<id>``. Its updates are kept in Redis, so every web process serves the same document; a
joining browser gets them merged into one state (``pycrdt``), plus the note's saved content for a document that
has no updates yet. The editor also sends the text itself (``data.content``) after each pause, which is saved
to the note. Once the last editor leaves, the updates go: the note holds the text, and a document rebuilt from
it cannot disagree with a change made meanwhile through the API.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass

import pycrdt
from sqlalchemy.orm import Session

from shared.errors import ServiceError
from shared.models import Note, User
from shared.redis_client import get_redis, key
from shared.services import notes

PREFIX = "note:"
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
"""Updates beyond this size in all are refused (as Open WebUI): the note's text still saves."""
MAX_DOCUMENTS_PER_SOCKET = 20
IDLE_SECONDS = 24 * 3600
"""Updates of a document nobody left cleanly (all web processes gone) expire after this long."""


class Refused(Exception):
    """The socket may not do this to the document (the event is ignored, as Open WebUI ignores it)."""


@dataclass(frozen=True)
class Joined:
    state: list[int]
    content: dict | None


def document_id_of(raw) -> str:
    """``note_<id>`` is read as ``note:<id>`` so the checks below always apply to a note."""
    if not isinstance(raw, str) or not raw.startswith((PREFIX, "note_")):
        raise Refused("not a note document")
    return PREFIX + raw[len(PREFIX):]


def room(document_id: str) -> str:
    return f"doc_{document_id}"


def _keys(document_id: str) -> tuple[str, str]:
    return key("notes", "ydoc", document_id, "updates"), key("notes", "ydoc", document_id, "sockets")


def _note(session: Session, user: User, document_id: str, permission: str) -> Note:
    try:
        notes.check_enabled(session, user)
        return (notes.writable if permission == "write" else notes.readable)(session, user, document_id[len(PREFIX):])
    except ServiceError as error:
        raise Refused(str(error)) from error


def _updates(document_id: str) -> list[bytes]:
    """The document's updates (kept base64-encoded: the Redis client answers text)."""
    return [base64.b64decode(u) for u in get_redis().lrange(_keys(document_id)[0], 0, -1)]


def state(document_id: str) -> list[int]:
    """The document's updates merged into one (``[0, 0]``: empty)."""
    updates = _updates(document_id)
    return list(pycrdt.merge_updates(*updates) if updates else pycrdt.Doc().get_update())


def join(session: Session, user: User, document_id: str, sid: str, open_documents: int) -> Joined:
    note = _note(session, user, document_id, "read")
    if open_documents >= MAX_DOCUMENTS_PER_SOCKET:
        raise Refused("too many documents open on this socket")
    sockets = _keys(document_id)[1]
    pipe = get_redis().pipeline()
    pipe.sadd(sockets, sid)
    pipe.expire(sockets, IDLE_SECONDS)
    pipe.execute()
    return Joined(state(document_id), (note.data or {}).get("content"))


def writer(session: Session, user: User, document_id: str) -> Note:
    """The note behind the document, when ``user`` may change it (joining only needs to read it)."""
    return _note(session, user, document_id, "write")


def add_update(document_id: str, update) -> bool:
    """Keep one update (of a :func:`writer`); False when it cannot be decoded or the document is full."""
    try:
        raw = bytes(update)
        pycrdt.Doc().apply_update(raw)  # an undecodable update would break every later merge
    except (TypeError, ValueError, RuntimeError):
        return False
    if sum(len(u) for u in _updates(document_id)) + len(raw) > MAX_DOCUMENT_BYTES:
        return False
    updates = _keys(document_id)[0]
    pipe = get_redis().pipeline()
    pipe.rpush(updates, base64.b64encode(raw).decode())
    pipe.expire(updates, IDLE_SECONDS)
    pipe.execute()
    return True


def has_updates(document_id: str) -> bool:
    return bool(get_redis().exists(_keys(document_id)[0]))


def save_snapshot(session: Session, user: User, note: Note, data: dict) -> Note:
    """The editor's text (``data.content`` ...) saved to the note (of a :func:`writer`)."""
    return notes.update(session, user, note.id, {"data": data})


_LEAVE = """
redis.call('srem', KEYS[2], ARGV[1])
if redis.call('scard', KEYS[2]) == 0 then redis.call('del', KEYS[1]) end
"""


def leave(document_id: str, sid: str) -> None:
    """The socket is gone from the document; the last one out drops its updates (in one step, so a browser
    joining meanwhile keeps them)."""
    get_redis().eval(_LEAVE, 2, *_keys(document_id), sid)
