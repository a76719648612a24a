"""A user's chat tags: ``tag`` rows, and ``chat_tag`` links mirrored in ``chat.meta["tags"]``."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.errors import BadRequest
from shared.models import ChatTag, Tag


def tag_id(name: str) -> str:
    """Open WebUI's tag id: the name lower-cased with spaces as underscores."""
    return name.replace("\x00", "").strip().replace(" ", "_").lower()


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("Tag name cannot be empty")
    name = name.strip()
    if "\x00" in name:
        raise BadRequest("Tag name may not contain NUL characters")
    if tag_id(name) == "none":
        raise BadRequest("Tag name cannot be 'None'")
    if len(name) > 255:
        raise BadRequest("Tag name is too long (255 characters at most)")
    return name


def list_tags(session: Session, user_id: str) -> list[Tag]:
    return list(session.scalars(select(Tag).where(Tag.user_id == user_id).order_by(Tag.id)))


def tags_by_ids(session: Session, user_id: str, ids: Iterable[str]) -> list[Tag]:
    ids = list(ids)
    if not ids:
        return []
    rows = {t.id: t for t in session.scalars(select(Tag).where(Tag.user_id == user_id, Tag.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


def ensure_tags(session: Session, user_id: str, names: Iterable[str]) -> list[str]:
    """Create the user's missing tags; returns their ids in the given order, without duplicates."""
    wanted: dict[str, str] = {}
    for name in names:
        name = validate_name(name)
        wanted.setdefault(tag_id(name), name)
    if wanted:
        # ON CONFLICT DO NOTHING: a concurrent writer (the tags job, another tab) may create the same tag.
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        session.execute(insert(Tag).values([{"id": i, "user_id": user_id, "name": n} for i, n in wanted.items()])
                        .on_conflict_do_nothing())
    return list(wanted)


def link(session: Session, user_id: str, chat_id: str, ids: Iterable[str]) -> None:
    """Make ``chat_tag`` for this chat exactly ``ids``."""
    session.execute(delete(ChatTag).where(ChatTag.chat_id == chat_id))
    session.add_all(ChatTag(chat_id=chat_id, tag_id=i, user_id=user_id) for i in dict.fromkeys(ids))
    session.flush()


def delete_orphans(session: Session, user_id: str, ids: Iterable[str] | None = None) -> None:
    """Drop the user's tags (all, or those in ``ids``) that no chat carries any more."""
    used = select(ChatTag.tag_id).where(ChatTag.user_id == user_id).distinct()
    stmt = delete(Tag).where(Tag.user_id == user_id, Tag.id.not_in(used))
    if ids is not None:
        ids = list(ids)
        if not ids:
            return
        stmt = stmt.where(Tag.id.in_(ids))
    session.execute(stmt.execution_options(synchronize_session=False))


def count_chats(session: Session, user_id: str, tag: str) -> int:
    return session.scalar(
        select(func.count()).select_from(ChatTag).where(ChatTag.user_id == user_id, ChatTag.tag_id == tag_id(tag))
    ) or 0
