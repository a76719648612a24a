"""Version history of workspace objects (models, prompts, skills): each change that alters an object's snapshot
is saved as a version whose parent is the one before; the object's ``version_id`` names the version in use.
One table serves every kind, so each area only says what its snapshot holds."""
from __future__ import annotations

import difflib
from typing import Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shared.errors import BadRequest, NotFound
from shared.models import User, Version

PAGE_SIZE = 50
VERSION_NOT_FOUND = "Version not found"


class Versioned(Protocol):
    id: str
    version_id: str | None


def current_snapshot(session: Session, obj: Versioned) -> dict | None:
    if obj.version_id is None:
        return None
    entry = session.get(Version, obj.version_id)
    return entry.snapshot if entry is not None else None


def save(session: Session, kind: str, obj: Versioned, snapshot: dict, user_id: str,
         commit_message: str | None = None, in_use: bool = True) -> Version | None:
    """Record ``snapshot`` as ``obj``'s new version when it differs from the one in use; None when unchanged.
    With ``in_use`` False the version is kept as a draft: the object goes on using the one it had."""
    if obj.version_id is not None and current_snapshot(session, obj) == snapshot:
        return None
    entry = Version(kind=kind, object_id=obj.id, parent_id=obj.version_id, snapshot=snapshot, user_id=user_id,
                    commit_message=commit_message)
    session.add(entry)
    session.flush()
    if in_use:
        obj.version_id = entry.id
    return entry


def get(session: Session, kind: str, object_id: str, version_id: str) -> Version:
    entry = session.get(Version, version_id)
    if entry is None or (entry.kind, entry.object_id) != (kind, object_id):
        raise NotFound(VERSION_NOT_FOUND)
    return entry


def get_with_author(session: Session, kind: str, object_id: str, version_id: str) -> tuple[Version, User | None]:
    entry = get(session, kind, object_id, version_id)
    return entry, session.get(User, entry.user_id)


def page(session: Session, kind: str, object_id: str, page_number: int = 1,
         size: int = PAGE_SIZE) -> list[tuple[Version, User | None]]:
    """A page of ``size`` of ``object_id``'s versions, newest first (a version made in the same second as its
    parent still before it), with their authors."""
    rows = session.execute(
        select(Version, User).outerjoin(User, User.id == Version.user_id)
        .where(Version.kind == kind, Version.object_id == object_id)
    ).all()
    parents = {entry.id: entry.parent_id for entry, _ in rows}

    def depth(version_id: str | None) -> int:
        seen = 0
        while version_id in parents and seen <= len(parents):
            version_id, seen = parents[version_id], seen + 1
        return seen

    ordered = sorted(rows, key=lambda row: (row[0].created_at, depth(row[0].id)), reverse=True)
    start = (max(page_number, 1) - 1) * size
    return [(entry, author) for entry, author in ordered[start:start + size]]


def remove(session: Session, kind: str, obj: Versioned, version_id: str) -> None:
    """Delete a version that is not in use; its children take its parent."""
    entry = get(session, kind, obj.id, version_id)
    if obj.version_id == entry.id:
        raise BadRequest("Cannot delete the current version")
    session.execute(update(Version).where(Version.kind == kind, Version.object_id == obj.id,
                                          Version.parent_id == entry.id).values(parent_id=entry.parent_id))
    session.delete(entry)
    session.flush()


def forget(session: Session, kind: str, object_id: str) -> None:
    """Delete every version of an object that is deleted."""
    session.execute(delete(Version).where(Version.kind == kind, Version.object_id == object_id))


def diff(session: Session, kind: str, object_id: str, from_id: str, to_id: str, field: str = "content") -> dict:
    """Open WebUI's history diff: both snapshots and a unified diff of their ``field``."""
    before, after = get(session, kind, object_id, from_id).snapshot, get(session, kind, object_id, to_id).snapshot
    old, new = before.get(field) or "", after.get(field) or ""
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), fromfile=f"v{from_id[:8]}",
                                      tofile=f"v{to_id[:8]}", lineterm=""))
    return {"from_id": from_id, "to_id": to_id, "from_snapshot": before, "to_snapshot": after,
            "content_diff": lines, "line_endings_only": not lines and old != new,
            "name_changed": before.get("name") != after.get("name")}


def entry_json(entry: Version, id_key: str, author: User | None = None, snapshot: bool = False) -> dict:
    """A version as Open WebUI answers it; ``id_key`` is the kind's (``model_id``, ``prompt_id`` ...)."""
    body = {"id": entry.id, id_key: entry.object_id, "parent_id": entry.parent_id, "user_id": entry.user_id,
            "commit_message": entry.commit_message, "created_at": entry.created_at,
            "user": {"id": author.id, "name": author.name, "email": author.email,
                     "profile_image_url": author.profile_image_url} if author else None}
    if snapshot:
        body["snapshot"] = entry.snapshot
    return body
