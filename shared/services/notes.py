"""Notes (Open WebUI's ``/api/v1/notes``): markdown documents with access grants, pinned per reader, each with
hidden chats the note editor's assistant panel uses.

The area is on unless the admin turns ``notes.enable`` off (403 then); users also need ``features.notes``
(401 without, as Open WebUI answers). Readers may view and pin a note; writers may change it, its grants and
delete it.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from shared import messages
from shared.errors import Forbidden, Unauthorized
from shared.models import Chat, Note, PinnedNote, User
from shared.models.base import now_ns
from shared.services import access, app_config, permissions
from shared.services.chats import store

PAGE_SIZE = 60
PREVIEW_CHARS = 1000
ORDER_COLUMNS = {"name": Note.title, "created_at": Note.created_at, "updated_at": Note.updated_at}
INTERNAL = "note"
"""``meta.type`` of a note's hidden chats (``meta.internal`` keeps them out of every chat list)."""


def chat_system_prompt(note_id: str) -> str:
    """What Open WebUI sets as the system prompt of a note's chat."""
    return (f"CONTEXT:\nCurrent note id: {note_id}\n"
            "This chat is attached to the current note.\n"
            "For edit requests like make this concise, rewrite, enhance, shorten, or update: call view_note then "
            "replace_note_content.\n"
            "Do not say an edit is done unless replace_note_content succeeds.")


def sanitize(data: Any) -> dict | None:
    """``data.content.md`` is always markdown text (a JSON value sent there is shown as a code block)."""
    if data is None:
        return None
    if not isinstance(data, dict):
        return {"content": {"md": str(data)}}
    content = data.get("content")
    if not isinstance(content, dict) or "md" not in content or isinstance(content.get("md"), str):
        return data
    md = content.get("md")
    if isinstance(md, (dict, list)):
        md = f"```json\n{json.dumps(md, indent=2, ensure_ascii=False)}\n```"
    return {**data, "content": {**content, "md": "" if md is None else str(md)}}


def preview(data: dict | None) -> dict | None:
    """A list entry's data: the first characters of its markdown only."""
    if not data:
        return data
    return {"content": {"md": ((data.get("content") or {}).get("md") or "")[:PREVIEW_CHARS]}}


# -- who may --------------------------------------------------------------------------------------
def check_enabled(session: Session, user: User) -> None:
    if not app_config.get(session, "notes.enable"):
        raise Forbidden("Notes is disabled")
    permissions.require(session, user, "features.notes", Unauthorized, messages.UNAUTHORIZED)


def readable(session: Session, user: User, note_id: str) -> Note:
    return access.require(session.get(Note, note_id), user, "read")


def writable(session: Session, user: User, note_id: str) -> Note:
    return access.require(session.get(Note, note_id), user, "write")


def pinned_ids(session: Session, user: User) -> set[str]:
    return set(session.scalars(select(PinnedNote.note_id).where(PinnedNote.user_id == user.id)))


# -- listing --------------------------------------------------------------------------------------
def _with_owners(session: Session, notes: list[Note]) -> list[tuple[Note, User]]:
    owners = {u.id: u for u in session.scalars(select(User).where(User.id.in_({n.user_id for n in notes})))}
    return [(note, owners[note.user_id]) for note in notes if note.user_id in owners]


def readable_notes(session: Session, user: User, page: int | None = None) -> list[tuple[Note, User]]:
    """The notes the user may read, last changed first (60 a page when ``page`` is given), with owners."""
    stmt = select(Note).where(access.readable(Note, user)).order_by(Note.updated_at.desc(), Note.id)
    if page is not None:
        stmt = stmt.offset((max(page, 1) - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    return _with_owners(session, list(session.scalars(stmt)))


def pinned_notes(session: Session, user: User) -> list[tuple[Note, User]]:
    """The readable notes the user pinned, last pinned first."""
    stmt = (select(Note).join(PinnedNote, PinnedNote.note_id == Note.id)
            .where(PinnedNote.user_id == user.id, access.readable(Note, user))
            .order_by(PinnedNote.created_at.desc()))
    return _with_owners(session, list(session.scalars(stmt)))


def _words_match(word: str):
    """A word in the title or the markdown, ignoring hyphens and spaces ("todo" finds "to-do")."""
    def squeezed(column):
        return func.lower(func.replace(func.replace(column, "-", ""), " ", ""))
    pattern = f"%{word.lower()}%"
    return or_(squeezed(Note.title).like(pattern), squeezed(Note.data["content"]["md"].as_string()).like(pattern))


def search(session: Session, user: User, *, query: str | None = None, view_option: str | None = None,
           permission: str | None = None, order_by: str | None = None, direction: str | None = None,
           page: int | None = 1) -> tuple[list[tuple[Note, User | None]], int]:
    """A page of matching notes and how many match. Every word must match; ``permission`` is the access
    asked (``write`` unless told, as Open WebUI lists the notes one may edit)."""
    stmt = select(Note, User).outerjoin(User, User.id == Note.user_id).where(
        access.readable(Note, user, "read" if permission == "read" else "write"))
    for word in (query or "").split():
        if word.replace("-", ""):
            stmt = stmt.where(_words_match(word.replace("-", "")))
    if view_option == "created":
        stmt = stmt.where(Note.user_id == user.id)
    elif view_option == "shared":
        stmt = stmt.where(Note.user_id != user.id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    column = ORDER_COLUMNS.get(order_by or "", Note.updated_at)
    stmt = stmt.order_by(column.asc() if order_by in ORDER_COLUMNS and direction == "asc" else column.desc(),
                         Note.id)
    if page:
        stmt = stmt.offset((max(page, 1) - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    return [(note, owner) for note, owner in session.execute(stmt)], total


# -- writing --------------------------------------------------------------------------------------
def create(session: Session, user: User, form: dict) -> Note:
    """A new note; the grants kept are those the user may hand out."""
    stamp = now_ns()
    note = Note(user_id=user.id, title=form["title"], data=sanitize(form.get("data")), meta=form.get("meta"),
                created_at=stamp, updated_at=stamp)
    note.access_grants = access.grants_to_store(session, user, form.get("access_grants"), "notes")
    session.add(note)
    session.flush()
    return note


def update(session: Session, user: User, note_id: str, form: dict) -> Note:
    """Change the title, and merge ``data`` and ``meta`` over what the note holds (the editor sends parts)."""
    note = writable(session, user, note_id)
    before = (note.title, note.data, note.meta)
    if form.get("title") is not None:
        note.title = form["title"]
    if form.get("data") is not None:
        note.data = {**(sanitize(note.data) or {}), **sanitize(form["data"])}
    if form.get("meta") is not None:
        note.meta = {**(note.meta or {}), **form["meta"]}
    if (note.title, note.data, note.meta) != before:
        note.updated_at = now_ns()
    session.flush()
    return note


def set_access(session: Session, user: User, note_id: str, grants: list[dict]) -> Note:
    """Who may read or edit the note: 403 when a grant is not the user's to give (Open WebUI's check)."""
    note = writable(session, user, note_id)
    note.access_grants = access.validated_grants(session, user, grants, "notes")
    session.flush()
    return note


def toggle_pin(session: Session, user: User, note_id: str) -> Note:
    note = readable(session, user, note_id)
    pin = session.scalar(select(PinnedNote).where(PinnedNote.user_id == user.id, PinnedNote.note_id == note.id))
    if pin is None:
        session.add(PinnedNote(user_id=user.id, note_id=note.id, created_at=now_ns()))
    else:
        session.delete(pin)
    session.flush()
    return note


def delete_note(session: Session, user: User, note_id: str) -> None:
    """The note, everyone's pins on it and its grants (its hidden chats stay with their owners)."""
    note = writable(session, user, note_id)
    session.execute(delete(PinnedNote).where(PinnedNote.note_id == note.id))
    session.delete(note)
    session.flush()


# -- the note's chats -----------------------------------------------------------------------------
def _note_chats(session: Session, user: User, note: Note) -> list[Chat]:
    stmt = select(Chat).where(Chat.user_id == user.id, Chat.meta["internal"].as_boolean().is_(True),
                              Chat.meta["note_id"].as_string() == note.id).order_by(Chat.updated_at.desc())
    return list(session.scalars(stmt))


def _with_system_prompt(chat: Chat, note: Note) -> Chat:
    """Keep the chat's system prompt the note's (without ``note_id``, which older chats carried)."""
    stored = chat.chat if isinstance(chat.chat, dict) else {}
    params = {k: v for k, v in (stored.get("params") or {}).items() if k != "note_id"}
    params["system"] = chat_system_prompt(note.id)
    if params != stored.get("params"):
        chat.chat = {**stored, "params": params}
    return chat


def new_chat(session: Session, user: User, note_id: str) -> Chat:
    """A new hidden chat beside the note."""
    note = readable(session, user, note_id)
    chat = store.create_chat(session, user.id, {
        "title": "Chat", "models": [""], "params": {"system": chat_system_prompt(note.id)},
        "history": {"messages": {}, "currentId": None}, "messages": [], "tags": []})
    chat.chat = {"id": chat.id, **chat.chat}
    chat.meta = {"internal": True, "type": INTERNAL, "note_id": note.id}
    session.flush()
    return chat


def chat(session: Session, user: User, note_id: str) -> Chat:
    """The user's latest chat beside the note, made when there is none."""
    note = readable(session, user, note_id)
    chats = _note_chats(session, user, note)
    return _with_system_prompt(chats[0], note) if chats else new_chat(session, user, note_id)


def chats(session: Session, user: User, note_id: str) -> list[Chat]:
    note = readable(session, user, note_id)
    return [_with_system_prompt(chat, note) for chat in _note_chats(session, user, note)]
