"""Folders: a user's tree of chat folders (``parent_id``), renamed, moved, expanded and deleted.

Another user's folder is ``NotFound``. Names are unique among siblings, ignoring case.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from shared import messages as texts
from shared.errors import BadRequest, NotFound
from shared.models import Chat, Folder
from shared.models.base import new_id, now
from shared.services.chats import tags

MAX_NAME_LENGTH = 255


def get_folder(session: Session, user_id: str, folder_id: str) -> Folder:
    folder = session.scalar(select(Folder).where(Folder.id == folder_id, Folder.user_id == user_id))
    if folder is None:
        raise NotFound(texts.NOT_FOUND)
    return folder


def owned_ids(session: Session, user_id: str, folder_ids: Iterable[str]) -> set[str]:
    folder_ids = list(folder_ids)
    if not folder_ids:
        return set()
    return set(session.scalars(select(Folder.id).where(Folder.user_id == user_id, Folder.id.in_(folder_ids))))


def list_folders(session: Session, user_id: str) -> list[Folder]:
    """The user's folders; one whose parent is gone or forms a loop is shown at the top level."""
    rows = list(session.scalars(select(Folder).where(Folder.user_id == user_id).order_by(Folder.created_at)))
    parent_of = {f.id: f.parent_id for f in rows}
    for folder in rows:
        seen, parent = {folder.id}, folder.parent_id
        while parent is not None and parent in parent_of and parent not in seen:
            seen.add(parent)
            parent = parent_of[parent]
        if folder.parent_id is not None and parent is not None:
            folder.parent_id = parent_of[folder.id] = None
    session.flush()
    return rows


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise BadRequest("Folder name cannot be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise BadRequest(f"Folder name is too long ({MAX_NAME_LENGTH} characters at most)")
    return name


def _check_unique(session: Session, user_id: str, parent_id: str | None, name: str, self_id: str | None) -> None:
    stmt = select(Folder.id).where(
        Folder.user_id == user_id, func.lower(Folder.name) == name.lower(),
        Folder.parent_id.is_(None) if parent_id is None else Folder.parent_id == parent_id,
    )
    if any(found != self_id for found in session.scalars(stmt)):
        raise BadRequest("Folder already exists")


def create_folder(session: Session, user_id: str, name: str, *, parent_id: str | None = None,
                  meta: dict | None = None, data: dict | None = None) -> Folder:
    name = _clean_name(name)
    if parent_id is not None:
        get_folder(session, user_id, parent_id)
    _check_unique(session, user_id, parent_id, name, None)
    stamp = now()
    folder = Folder(id=new_id(), user_id=user_id, parent_id=parent_id, name=name, meta=meta, data=data,
                    is_expanded=False, created_at=stamp, updated_at=stamp)
    session.add(folder)
    session.flush()
    return folder


def update_folder(session: Session, user_id: str, folder_id: str, *, name: str | None = None,
                  meta: dict | None = None, data: dict | None = None) -> Folder:
    """Rename a folder and/or replace its ``meta`` (icon ...) and ``data`` (files, system prompt)."""
    folder = get_folder(session, user_id, folder_id)
    if name is not None:
        name = _clean_name(name)
        _check_unique(session, user_id, folder.parent_id, name, folder.id)
        folder.name = name
    if meta is not None:
        folder.meta = {**(folder.meta or {}), **meta}
    if data is not None:
        folder.data = {**(folder.data or {}), **data}
    folder.updated_at = now()
    session.flush()
    return folder


def subtree_ids(session: Session, user_id: str, folder_id: str) -> list[str]:
    """The folder and all its descendants (the user's only)."""
    children: dict[str | None, list[str]] = {}
    for fid, parent in session.execute(select(Folder.id, Folder.parent_id).where(Folder.user_id == user_id)):
        children.setdefault(parent, []).append(fid)
    found, todo = [], [folder_id]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def move_folder(session: Session, user_id: str, folder_id: str, parent_id: str | None) -> Folder:
    folder = get_folder(session, user_id, folder_id)
    if parent_id is not None:
        get_folder(session, user_id, parent_id)
        if parent_id in subtree_ids(session, user_id, folder_id):
            raise BadRequest("Cannot move a folder into itself or one of its subfolders")
    _check_unique(session, user_id, parent_id, folder.name, folder.id)
    folder.parent_id = parent_id
    folder.updated_at = now()
    session.flush()
    return folder


def set_expanded(session: Session, user_id: str, folder_id: str, is_expanded: bool) -> Folder:
    folder = get_folder(session, user_id, folder_id)
    folder.is_expanded = is_expanded
    folder.updated_at = now()
    session.flush()
    return folder


def delete_folder(session: Session, user_id: str, folder_id: str, *, delete_contents: bool = True) -> list[str]:
    """Delete a folder and its subfolders; their chats are deleted too, or (``delete_contents=False``)
    moved to the top level. Returns the deleted folder ids."""
    get_folder(session, user_id, folder_id)
    ids = subtree_ids(session, user_id, folder_id)
    in_tree = (Chat.user_id == user_id) & Chat.folder_id.in_(ids)
    if delete_contents:
        session.execute(delete(Chat).where(in_tree).execution_options(synchronize_session=False))
        tags.delete_orphans(session, user_id)
    else:
        session.execute(update(Chat).where(in_tree).values(folder_id=None).execution_options(synchronize_session=False))
    session.execute(delete(Folder).where(Folder.user_id == user_id, Folder.id.in_(ids))
                    .execution_options(synchronize_session=False))
    session.expire_all()
    return ids


def count_chats(session: Session, user_id: str, folder_ids: list[str]) -> int:
    return session.scalar(
        select(func.count()).select_from(Chat).where(Chat.user_id == user_id, Chat.folder_id.in_(folder_ids))
    ) or 0
