"""The note editor's socket.io events (Open WebUI's ``ydoc:*``): browsers editing a note together exchange
Yjs updates through the room ``doc_note:<id>``; the rules are in :mod:`shared.services.note_documents`.
An event the socket may not send (not signed in, no access, not joined) is ignored, as Open WebUI does."""
from __future__ import annotations

from collections.abc import Callable

import socketio

from shared.db import session_scope
from shared.models import User
from shared.services import note_documents
from shared.services.note_documents import Refused

DOCUMENTS = "documents"
"""The socket session's key for the documents it joined (left on disconnect)."""


def register(sio: socketio.Server, session_user: Callable[[str], dict | None]) -> Callable[[str], None]:
    """Handle the ``ydoc:*`` events on ``sio``; returns what the server's ``disconnect`` handler calls for a
    socket that went away."""
    def joined(sid: str) -> set[str]:
        return set(sio.get_session(sid).get(DOCUMENTS) or ())

    def remember(sid: str, documents: set[str]) -> None:
        session = sio.get_session(sid)
        sio.save_session(sid, {**session, DOCUMENTS: sorted(documents)})

    def member(sid: str, data) -> tuple[dict, str] | None:
        """The socket's user and the document, when the socket joined it."""
        user = session_user(sid)
        try:
            document_id = note_documents.document_id_of(data.get("document_id") if isinstance(data, dict) else None)
        except Refused:
            return None
        if user is None or document_id not in joined(sid):
            return None
        return user, document_id

    @sio.on("ydoc:document:join")
    def join(sid, data):
        user = session_user(sid)
        if user is None or not isinstance(data, dict):
            return
        try:
            document_id = note_documents.document_id_of(data.get("document_id"))
            documents = joined(sid)
            with session_scope() as session:
                document = note_documents.join(session, session.get(User, user["id"]), document_id, sid,
                                               len(documents - {document_id}))
        except Refused:
            return
        remember(sid, documents | {document_id})
        sio.enter_room(sid, note_documents.room(document_id))
        sio.emit("ydoc:document:state", {"document_id": document_id, "state": document.state,
                                         "content": document.content}, to=sid)
        sio.emit("ydoc:user:joined", {"document_id": document_id, "user_id": user["id"],
                                      "user_name": user["name"], "user_color": data.get("user_color", "#000000")},
                 room=note_documents.room(document_id), skip_sid=sid)

    @sio.on("ydoc:document:state")
    def send_state(sid, data):
        if (found := member(sid, data)) is not None:
            sio.emit("ydoc:document:state", {"document_id": found[1], "state": note_documents.state(found[1])},
                     to=sid)

    @sio.on("ydoc:document:update")
    def update(sid, data):
        """A writer's Yjs update (sent on to the others) and/or the editor's text (saved to the note). With
        ``initialize``, the first writer's seed wins: a later one gets the stored state back instead."""
        if (found := member(sid, data)) is None:
            return None
        user, document_id = found
        update, snapshot = data.get("update"), data.get("data")
        try:
            with session_scope() as session:
                editor = session.get(User, user["id"])
                note = note_documents.writer(session, editor, document_id)
                if data.get("initialize") and note_documents.has_updates(document_id):
                    return note_documents.state(document_id)
                stored = bool(update) and note_documents.add_update(document_id, update)
                if isinstance(snapshot, dict) and snapshot:
                    note_documents.save_snapshot(session, editor, note, snapshot)
        except Refused:
            return None
        if stored:
            sio.emit("ydoc:document:update", {"document_id": document_id, "user_id": user["id"], "update": update,
                                              "socket_id": sid},
                     room=note_documents.room(document_id), skip_sid=sid)
        if data.get("initialize"):
            return update if stored else None
        return None

    @sio.on("ydoc:awareness:update")
    def awareness(sid, data):
        """Cursors and selections, passed on to the others in the document."""
        if (found := member(sid, data)) is not None:
            sio.emit("ydoc:awareness:update", {"document_id": found[1], "user_id": found[0]["id"],
                                               "update": data.get("update")},
                     room=note_documents.room(found[1]), skip_sid=sid)

    def leave_document(sid: str, user_id: str, document_id: str) -> None:
        note_documents.leave(document_id, sid)
        sio.leave_room(sid, note_documents.room(document_id))
        sio.emit("ydoc:user:left", {"document_id": document_id, "user_id": user_id},
                 room=note_documents.room(document_id))

    @sio.on("ydoc:document:leave")
    def leave(sid, data):
        if (found := member(sid, data)) is not None:
            leave_document(sid, found[0]["id"], found[1])
            remember(sid, joined(sid) - {found[1]})

    def disconnected(sid: str) -> None:
        user = session_user(sid)
        for document_id in joined(sid):
            leave_document(sid, user["id"] if user else sid, document_id)

    return disconnected
