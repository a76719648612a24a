"""Chats: ownership, saving the client's chat object, its messages, pins, archive, shares, tags and folders.

Every function takes the acting user's id and only ever touches that user's rows: another user's
chat is ``NotFound``, exactly like an unknown id. Writes to one chat take a row lock
(``SELECT ... FOR UPDATE``) so concurrent saves apply one after the other and none is lost.
"""
from __future__ import annotations

import copy
from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.orm import Session

from shared import messages as texts
from shared.config import env
from shared.db import lock_row_on_sqlite
from shared.errors import BadRequest, NotFound, ServiceError, Unauthorized
from shared.jobs import service as jobs
from shared.models import Chat, ChatTag, Job, SharedChat, User
from shared.models.base import new_id, now
from shared.services import app_config, app_events, permissions
from shared.services.chats import folders, history, tags
from shared.services.nul_text import strip_nul

MAX_TITLE_LENGTH = 1000

CONFIG_DEFAULTS = {"admin.enable_chat_access": lambda _s: env("ENABLE_ADMIN_CHAT_ACCESS")}


def admin_chat_access(session: Session) -> bool:
    """Whether admins may read users' chats (Open WebUI's ``ENABLE_ADMIN_CHAT_ACCESS``, on by default)."""
    return app_config.get(session, "admin.enable_chat_access") is not False


def require_admin_chat_access(session: Session) -> None:
    if not admin_chat_access(session):
        raise Unauthorized(texts.ACCESS_PROHIBITED)


def require_permission(session: Session, user: User, path: str, error: type[ServiceError] = Unauthorized) -> None:
    """Refuse without the permission: 401, as Open WebUI answers for most chat actions (``error`` for the
    others: 403 for ``chat.import`` and for deleting a folder's chats)."""
    permissions.require(session, user, path, error)


def title_of(chat: dict) -> str:
    title = strip_nul(chat["title"]) if isinstance(chat.get("title"), str) else ""
    return title[:MAX_TITLE_LENGTH] if title.strip() else "New Chat"


def listed(user_id: str) -> ColumnElement[bool]:
    """The user's chats that chat lists show: a note's hidden chats (``meta.internal``) never appear there."""
    return and_(Chat.user_id == user_id, Chat.meta["internal"].as_boolean().is_not(True))


def get_chat(session: Session, user_id: str, chat_id: str, *, for_update: bool = False) -> Chat:
    """The user's chat (``for_update`` locks its row until the transaction ends); anyone else's is NotFound."""
    stmt = select(Chat).where(Chat.id == chat_id, Chat.user_id == user_id)
    if for_update:
        lock_row_on_sqlite(session, Chat, chat_id)
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    chat = session.scalar(stmt)
    if chat is None:
        raise NotFound(texts.NOT_FOUND)
    return chat


def _check_object(value, name: str) -> dict:
    if not isinstance(value, dict):
        raise BadRequest(f"'{name}' must be a JSON object")
    return value


def _new_chat(user_id: str, chat: dict, **columns) -> Chat:
    stamp = now()
    row = Chat(
        id=new_id(), user_id=user_id, title=title_of(chat), chat=chat,
        current_message_id=history.current_id(chat), meta={}, variables={},
        created_at=stamp, updated_at=stamp, last_read_at=stamp,
    )
    for name, value in columns.items():
        if value is not None:
            setattr(row, name, value)
    return row


def create_chat(session: Session, user_id: str, chat: dict, folder_id: str | None = None, *,
                variables: dict | None = None) -> Chat:
    """Store a new chat exactly as the client sent it."""
    _check_object(chat, "chat")
    if folder_id is not None:
        folders.get_folder(session, user_id, folder_id)
    row = _new_chat(user_id, chat, folder_id=folder_id, variables=variables)
    session.add(row)
    session.flush()
    app_events.emit(session, "chat.created", actor=session.get(User, user_id), subject_id=row.id,
                    data={"title": row.title, "folder_id": row.folder_id})
    return row


def _save(row: Chat, chat: dict, *, touch: bool = True) -> None:
    row.chat = chat
    row.title = title_of(chat)
    row.current_message_id = history.current_id(chat)
    if touch:
        row.updated_at = now()


def update_chat(session: Session, user_id: str, chat_id: str, changes: dict, *,
                variables: dict | None = None) -> Chat:
    """Apply a (partial) chat object: its top-level keys replace the stored ones, ``history`` is merged
    (see :func:`history.merge_history`). A chat posted whole comes back as it was sent."""
    _check_object(changes, "chat")
    row = get_chat(session, user_id, chat_id, for_update=True)
    stored = row.chat if isinstance(row.chat, dict) else {}
    merged = {**changes, **{key: value for key, value in stored.items() if key not in changes}}
    if isinstance(changes.get("history"), dict):
        merged["history"] = history.merge_history(stored.get("history"), changes["history"])
    _save(row, merged, touch="history" in changes or "messages" in changes)
    if variables is not None:
        row.variables = variables
    session.flush()
    return row


def update_params(session: Session, user_id: str, chat_id: str, params: dict) -> dict:
    """Merge ``params`` (temperature, system prompt ...) into ``chat.params``; returns the result."""
    _check_object(params, "params")
    row = get_chat(session, user_id, chat_id, for_update=True)
    chat = row.chat if isinstance(row.chat, dict) else {}
    stored = chat.get("params") if isinstance(chat.get("params"), dict) else {}
    _save(row, {**chat, "params": {**stored, **params}}, touch=False)
    session.flush()
    return row.chat["params"]


def _check_message(message: dict) -> dict:
    _check_object(message, "message")
    if not isinstance(message.get("id"), str) or not message["id"]:
        raise BadRequest("A message needs a string 'id'")
    if message.get("parentId") is not None and not isinstance(message["parentId"], str):
        raise BadRequest("'parentId' must be a string or null")
    return message


def upsert_message(session: Session, user_id: str, chat_id: str, message: dict) -> dict:
    """Insert or update one message (by its ``id``) in ``history.messages``; parent/children links,
    ``currentId`` and the flat ``messages`` list stay consistent. Returns the saved message."""
    _check_message(message)
    row = get_chat(session, user_id, chat_id, for_update=True)
    parent_id = message.get("parentId")
    stored = row.chat or {}
    is_new = not history.has_message(stored, message["id"])
    if is_new and parent_id is not None and not history.has_message(stored, parent_id):
        raise BadRequest(f"Unknown parent message '{parent_id}'")
    chat, saved = history.upsert(row.chat or {}, message)
    _save(row, chat)
    session.flush()
    return saved


def update_message(session: Session, user_id: str, chat_id: str, message_id: str, fields: dict) -> Chat:
    """Change fields of an existing message (its content, say); an unknown message is NotFound."""
    row = get_chat(session, user_id, chat_id, for_update=True)
    if not history.has_message(row.chat or {}, message_id):
        raise NotFound(texts.NOT_FOUND)
    chat, _ = history.upsert(row.chat, {**fields, "id": message_id})
    _save(row, chat)
    session.flush()
    return row


def delete_message(session: Session, user_id: str, chat_id: str, message_id: str) -> Chat:
    row = get_chat(session, user_id, chat_id, for_update=True)
    if not history.has_message(row.chat or {}, message_id):
        raise NotFound(texts.NOT_FOUND)
    _save(row, history.delete(row.chat, message_id))
    session.flush()
    return row


def set_title(session: Session, user_id: str, chat_id: str, title: str) -> Chat:
    """Rename a chat (the column and ``chat.title``), as the title generation job does."""
    if not isinstance(title, str) or not title.strip():
        raise BadRequest("Invalid title")
    row = get_chat(session, user_id, chat_id, for_update=True)
    _save(row, {**(row.chat or {}), "title": title.strip()[:MAX_TITLE_LENGTH]}, touch=False)
    session.flush()
    return row


def _write_tags(session: Session, row: Chat, ids: list[str]) -> None:
    before = list((row.meta or {}).get("tags") or [])
    row.meta = {**(row.meta or {}), "tags": ids}
    tags.link(session, row.user_id, row.id, ids)
    tags.delete_orphans(session, row.user_id, [t for t in before if t not in ids])


def chat_tags(session: Session, user_id: str, chat_id: str) -> list:
    row = get_chat(session, user_id, chat_id)
    return tags.tags_by_ids(session, user_id, (row.meta or {}).get("tags") or [])


def set_tags(session: Session, user_id: str, chat_id: str, names: Iterable[str]) -> list:
    """Replace a chat's tags (the tags generation job); returns the chat's tags."""
    row = get_chat(session, user_id, chat_id, for_update=True)
    _write_tags(session, row, tags.ensure_tags(session, user_id, names))
    return tags.tags_by_ids(session, user_id, row.meta["tags"])


def add_tag(session: Session, user_id: str, chat_id: str, name: str) -> list:
    row = get_chat(session, user_id, chat_id, for_update=True)
    current = list((row.meta or {}).get("tags") or [])
    _write_tags(session, row, list(dict.fromkeys(current + tags.ensure_tags(session, user_id, [name]))))
    return tags.tags_by_ids(session, user_id, row.meta["tags"])


def remove_tag(session: Session, user_id: str, chat_id: str, name: str) -> list:
    row = get_chat(session, user_id, chat_id, for_update=True)
    gone = tags.tag_id(name)
    _write_tags(session, row, [t for t in (row.meta or {}).get("tags") or [] if t != gone])
    return tags.tags_by_ids(session, user_id, row.meta["tags"])


def stop_jobs(session: Session, user_id: str, chat_id: str) -> None:
    """Cancel the owner's queued or running jobs for the chat (a reply being written, its title ...)."""
    for job_id in jobs.active_job_ids(session, owner_id=user_id, related_type="chat", related_id=chat_id):
        jobs.request_cancel(session, session.get(Job, job_id))


def delete_chat(session: Session, user_id: str, chat_id: str) -> None:
    """Delete a chat, stopping its jobs first."""
    row = get_chat(session, user_id, chat_id)
    stop_jobs(session, user_id, chat_id)
    dropped = list((row.meta or {}).get("tags") or [])
    session.delete(row)
    session.flush()
    tags.delete_orphans(session, user_id, dropped)


def delete_all(session: Session, user_id: str) -> None:
    session.execute(delete(Chat).where(Chat.user_id == user_id))
    tags.delete_orphans(session, user_id)


def toggle_pinned(session: Session, user_id: str, chat_id: str) -> Chat:
    row = get_chat(session, user_id, chat_id, for_update=True)
    row.pinned = not row.pinned
    row.updated_at = row.last_read_at = now()
    session.flush()
    return row


def toggle_archived(session: Session, user_id: str, chat_id: str) -> Chat:
    """Archive (leaving its folder and stopping its jobs, as Open WebUI does) or unarchive a chat."""
    row = get_chat(session, user_id, chat_id, for_update=True)
    if not row.archived:
        stop_jobs(session, user_id, chat_id)
        row = get_chat(session, user_id, chat_id, for_update=True)
    row.archived = not row.archived
    row.folder_id = None
    row.updated_at = row.last_read_at = now()
    session.flush()
    return row


def set_all_archived(session: Session, user_id: str, archived: bool) -> None:
    values = {"archived": True, "folder_id": None} if archived else {"archived": False}
    session.execute(update(Chat).where(Chat.user_id == user_id).values(**values))


def move_to_folder(session: Session, user_id: str, chat_id: str, folder_id: str | None) -> Chat:
    """Put a chat in one of the user's folders (None: out of any folder); it is unpinned, and unarchived."""
    row = get_chat(session, user_id, chat_id, for_update=True)
    if folder_id is not None:
        folders.get_folder(session, user_id, folder_id)
        row.archived = False
    row.folder_id = folder_id
    row.pinned = False
    row.updated_at = row.last_read_at = now()
    session.flush()
    return row


def clone_chat(session: Session, user_id: str, chat_id: str, title: str | None = None) -> Chat:
    source = get_chat(session, user_id, chat_id)
    chat = copy.deepcopy(source.chat or {})
    chat.update(
        originalChatId=source.id,
        branchPointMessageId=history.current_id(chat),
        title=title or f"Clone of {source.title}",
    )
    row = _new_chat(user_id, chat, folder_id=source.folder_id, pinned=source.pinned,
                    meta=copy.deepcopy(source.meta or {}), variables=copy.deepcopy(source.variables or {}))
    session.add(row)
    session.flush()
    tags.link(session, user_id, row.id, row.meta.get("tags") or [])
    return row


def fork_chat(session: Session, user_id: str, chat_id: str, message_id: str | None = None) -> Chat:
    """A new chat holding the branch that ends at ``message_id`` (default: the current message)."""
    source = get_chat(session, user_id, chat_id)
    chat = source.chat or {}
    leaf = message_id or history.current_id(chat)
    if not leaf:
        raise BadRequest("chat has no messages to fork")
    try:
        branch_history, flat = history.fork(history.messages_of(chat), leaf)
    except KeyError:
        raise NotFound(texts.NOT_FOUND) from None
    forked = {k: copy.deepcopy(v) for k, v in chat.items() if k not in ("currentId", "share_mode")}
    forked.update(originalChatId=source.id, branchPointMessageId=leaf, title=f"{source.title} (fork)",
                  history=branch_history, messages=flat)
    meta = {**copy.deepcopy(source.meta or {}), "forked_from": source.id, "forked_from_message_id": leaf}
    row = _new_chat(user_id, forked, folder_id=source.folder_id, pinned=source.pinned, meta=meta,
                    variables=copy.deepcopy(source.variables or {}))
    session.add(row)
    session.flush()
    tags.link(session, user_id, row.id, meta.get("tags") or [])
    return row


def import_chats(session: Session, user_id: str, items: list[dict]) -> list[Chat]:
    """Create chats from exported ones (``{chat, meta, pinned, archived, folder_id, created_at, updated_at}``).

    A folder the user does not own is dropped (the chat lands at the top level), as Open WebUI does.
    """
    owned = folders.owned_ids(session, user_id, {i["folder_id"] for i in items if i.get("folder_id")})
    rows = []
    for item in items:
        chat = _check_object(item.get("chat"), "chat")
        meta = dict(item.get("meta") or {})
        if not isinstance(meta.get("tags") or [], list):
            raise BadRequest("'meta.tags' must be a list of tag names")
        meta["tags"] = tags.ensure_tags(session, user_id, meta.get("tags") or [])
        row = _new_chat(
            user_id, chat, meta=meta, variables=item.get("variables"), pinned=bool(item.get("pinned")),
            archived=bool(item.get("archived")),
            folder_id=item.get("folder_id") if item.get("folder_id") in owned else None,
            created_at=item.get("created_at"), updated_at=item.get("updated_at"),
        )
        rows.append(row)
    session.add_all(rows)
    session.flush()
    session.add_all(ChatTag(chat_id=r.id, tag_id=t, user_id=user_id) for r in rows for t in r.meta["tags"])
    session.flush()
    return rows


def share_chat(session: Session, user_id: str, chat_id: str) -> Chat:
    """Snapshot the chat under a share id (a second call refreshes the snapshot, same id)."""
    row = get_chat(session, user_id, chat_id, for_update=True)
    shared = session.get(SharedChat, row.share_id) if row.share_id else None
    stamp = now()
    if shared is None:
        shared = SharedChat(id=new_id(), chat_id=row.id, user_id=user_id, created_at=stamp)
        session.add(shared)
        row.share_id = shared.id
    shared.title, shared.chat, shared.updated_at = row.title, copy.deepcopy(row.chat), stamp
    session.flush()
    return row


def unshare_chat(session: Session, user_id: str, chat_id: str) -> None:
    row = get_chat(session, user_id, chat_id, for_update=True)
    session.execute(delete(SharedChat).where(SharedChat.chat_id == row.id))
    row.share_id = None
    session.flush()


def unshare_all(session: Session, user_id: str) -> None:
    session.execute(delete(SharedChat).where(SharedChat.user_id == user_id))
    session.execute(update(Chat).where(Chat.user_id == user_id, Chat.share_id.is_not(None)).values(share_id=None))


def get_shared(session: Session, viewer: User, share_id: str) -> tuple[Chat, dict]:
    """A share snapshot: its chat row and the snapshot's chat object.

    Only its owner reads it (and an admin, who may also open any chat by its id here, as Open
    WebUI's admin chat access allows); for everyone else it does not exist.
    """
    shared = session.get(SharedChat, share_id)
    as_admin = viewer.role == "admin" and admin_chat_access(session)
    if shared is not None and (shared.user_id == viewer.id or as_admin):
        return session.get(Chat, shared.chat_id), shared.chat
    if as_admin:
        chat = session.get(Chat, share_id)
        if chat is not None:
            return chat, chat.chat
    raise NotFound(texts.NOT_FOUND)
