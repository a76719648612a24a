"""Read state: a chat is unread while it changed after the user last read it (``updated_at > last_read_at``).

Folders show how many unread chats they hold, their subfolders' included.
"""
from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shared.models import Chat, Folder
from shared.models.base import now
from shared.services.chats import folders, store

_UNREAD = Chat.updated_at > func.coalesce(Chat.last_read_at, 0)


def mark_read(session: Session, user_id: str, chat_id: str) -> tuple[int, bool]:
    """Mark one chat read now; returns the time and whether it was unread (the socket's ``last_read_at``)."""
    row = store.get_chat(session, user_id, chat_id)
    was_unread = row.last_read_at is None or row.updated_at > row.last_read_at
    row.last_read_at = now()
    session.flush()
    return row.last_read_at, was_unread


def mark_unread(session: Session, user_id: str, chat_id: str) -> Chat:
    row = store.get_chat(session, user_id, chat_id)
    row.last_read_at = 0
    session.flush()
    return row


def mark_all_read(session: Session, user_id: str, folder_ids: list[str] | None = None) -> int:
    """Mark the user's unarchived chats read (only those in ``folder_ids`` when given); returns how many."""
    stmt = update(Chat).where(store.listed(user_id), Chat.archived.is_(False), _UNREAD)
    if folder_ids is not None:
        stmt = stmt.where(Chat.folder_id.in_(folder_ids))
    result = session.execute(stmt.values(last_read_at=Chat.updated_at).execution_options(synchronize_session=False))
    return result.rowcount or 0


def mark_folder_read(session: Session, user_id: str, folder_id: str) -> tuple[list[str], int]:
    """Mark a folder's chats read, its subfolders' included; returns the folder ids and how many store."""
    folders.get_folder(session, user_id, folder_id)
    ids = folders.subtree_ids(session, user_id, folder_id)
    return ids, mark_all_read(session, user_id, ids)


def folder_unread_counts(session: Session, user_id: str) -> dict[str, int]:
    """Unread chats per folder of the user, each count including its subfolders'."""
    parent_of = dict(session.execute(select(Folder.id, Folder.parent_id).where(Folder.user_id == user_id)).all())
    counts = dict.fromkeys(parent_of, 0)
    direct = session.execute(
        select(Chat.folder_id, func.count()).where(store.listed(user_id), Chat.archived.is_(False),
                                                   Chat.folder_id.is_not(None), _UNREAD).group_by(Chat.folder_id)
    ).all()
    for folder_id, count in direct:
        seen: set[str] = set()
        while folder_id in counts and folder_id not in seen:
            seen.add(folder_id)
            counts[folder_id] += count
            folder_id = parent_of[folder_id]
    return counts
