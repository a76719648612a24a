"""Listing one user's chats: the sidebar pages, pinned, archived, by folder, by tag, search and export.

Lists select only the columns a title list needs (never the chat object), newest first, and are
served by the ``(user_id, archived, updated_at, id)`` index.
"""
from __future__ import annotations

from sqlalchemy import Text, and_, exists, func, not_, or_, select, text
from sqlalchemy.orm import Session

from shared.models import Chat, ChatTag, Folder, Job, SharedChat
from shared.models.job import ACTIVE
from shared.services.chats import folders, history, store, tags

PAGE_SIZE = 60
FOLDER_PAGE_SIZE = 10
TITLE_COLUMNS = (Chat.id, Chat.title, Chat.updated_at, Chat.created_at, Chat.last_read_at, Chat.archived)
FILTER_PREFIXES = ("tag:", "folder:", "pinned:", "archived:", "shared:")
MAX_SEARCH_WORDS = 20
_ORDER_COLUMNS = {"updated_at": Chat.updated_at, "created_at": Chat.created_at, "title": Chat.title}


def _ordered(stmt, order_by: str | None = None, direction: str | None = None):
    column = _ORDER_COLUMNS.get(order_by or "updated_at", Chat.updated_at)
    if (direction or "desc").lower() == "asc":
        return stmt.order_by(column.asc(), Chat.id.asc())
    return stmt.order_by(column.desc(), Chat.id.desc())


def _page(stmt, page: int | None, size: int = PAGE_SIZE):
    return stmt if page is None else stmt.offset((max(page, 1) - 1) * size).limit(size)


def _rows(session: Session, stmt) -> list[dict]:
    return [dict(row._mapping) for row in session.execute(stmt)]


def _titles(session: Session, user_id: str, stmt) -> list[dict]:
    return _with_active(session, user_id, _rows(session, stmt))


def _with_active(session: Session, user_id: str, rows: list[dict]) -> list[dict]:
    """Set ``active`` on each listed chat: a job of its owner (a reply, its title ...) is queued or running for it."""
    busy = set(session.scalars(select(Job.related_id).where(
        Job.owner_id == user_id, Job.status.in_(ACTIVE), Job.related_type == "chat"))) if rows else set()
    for row in rows:
        row["active"] = row["id"] in busy
    return rows


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def list_titles(session: Session, user_id: str, *, page: int | None = None, include_pinned: bool = False,
                include_folders: bool = False, sort_by: str = "updated_at", sort_dir: str = "desc") -> list[dict]:
    """The sidebar list: unarchived chats outside folders, pinned ones apart (60 a page)."""
    stmt = select(*TITLE_COLUMNS).where(store.listed(user_id), Chat.archived.is_(False))
    if not include_folders:
        stmt = stmt.where(Chat.folder_id.is_(None))
    if not include_pinned:
        stmt = stmt.where(Chat.pinned.is_(False))
    return _titles(session, user_id, _page(_ordered(stmt, sort_by, sort_dir), page))


def folder_titles(session: Session, user_id: str, folder_id: str, *, page: int = 1, sort_by: str = "updated_at",
                  sort_dir: str = "desc") -> list[dict]:
    """One folder's own chats as a title list (10 a page), as the sidebar shows an opened folder."""
    folders.get_folder(session, user_id, folder_id)
    stmt = select(*TITLE_COLUMNS).where(store.listed(user_id), Chat.folder_id == folder_id,
                                        Chat.pinned.is_(False), Chat.archived.is_(False))
    return _titles(session, user_id, _page(_ordered(stmt, sort_by, sort_dir), page, FOLDER_PAGE_SIZE))


def shares(session: Session, user_id: str, *, page: int = 1, query: str | None = None,
           order_by: str | None = None, direction: str | None = None) -> list[dict]:
    """The user's shared chats (Open WebUI's ``SharedChatResponse``), newest first."""
    column = {"title": SharedChat.title, "created_at": SharedChat.created_at}.get(order_by or "", SharedChat.updated_at)
    stmt = select(SharedChat.id, SharedChat.chat_id, SharedChat.title, SharedChat.id.label("share_id"),
                  SharedChat.updated_at, SharedChat.created_at).where(SharedChat.user_id == user_id)
    if query:
        stmt = stmt.where(func.lower(SharedChat.title).like(_like(query), escape="\\"))
    ordering = column.asc() if (direction or "desc").lower() == "asc" else column.desc()
    return _rows(session, _page(stmt.order_by(ordering, SharedChat.id), page))


def list_filtered(session: Session, user_id: str, *, archived: bool | None, page: int = 1,
                  query: str | None = None, order_by: str | None = None, direction: str | None = None) -> list[dict]:
    """Archived chats (``archived=True``), or all of them (``None``, the admin's view of a user)."""
    stmt = select(*TITLE_COLUMNS).where(store.listed(user_id))
    if archived is not None:
        stmt = stmt.where(Chat.archived.is_(archived))
    if query:
        stmt = stmt.where(func.lower(Chat.title).like(_like(query), escape="\\"))
    return _titles(session, user_id, _page(_ordered(stmt, order_by, direction), page))


def count_archived(session: Session, user_id: str) -> int:
    return session.scalar(
        select(func.count()).select_from(Chat).where(store.listed(user_id), Chat.archived.is_(True))
    ) or 0


def pinned(session: Session, user_id: str) -> list[dict]:
    stmt = select(*TITLE_COLUMNS).where(store.listed(user_id), Chat.pinned.is_(True), Chat.archived.is_(False))
    return _titles(session, user_id, _ordered(stmt))


def archived_chats(session: Session, user_id: str) -> list[Chat]:
    return list(session.scalars(_ordered(select(Chat).where(store.listed(user_id), Chat.archived.is_(True)))))


def in_folder(session: Session, user_id: str, folder_id: str) -> list[Chat]:
    """Full chats in one of the user's folders and its subfolders (unpinned, unarchived)."""
    folders.get_folder(session, user_id, folder_id)
    ids = folders.subtree_ids(session, user_id, folder_id)
    stmt = select(Chat).where(store.listed(user_id), Chat.folder_id.in_(ids), Chat.pinned.is_(False),
                              Chat.archived.is_(False))
    return list(session.scalars(_ordered(stmt)))


def _has_tag(tag: str):
    return exists().where(ChatTag.chat_id == Chat.id, ChatTag.tag_id == tags.tag_id(tag))


def by_tag(session: Session, user_id: str, name: str, skip: int = 0, limit: int = 50) -> list[dict]:
    """Chats carrying a tag; a tag no chat carries any more is dropped."""
    stmt = select(*TITLE_COLUMNS).where(store.listed(user_id), _has_tag(name))
    rows = _titles(session, user_id, _ordered(stmt).offset(max(skip, 0)).limit(max(limit, 1)))
    if not rows:
        tags.delete_orphans(session, user_id, [tags.tag_id(name)])
    return rows


def export_batch(session: Session, user_id: str, after: tuple[int, str] | None = None,
                 size: int = 100) -> list[Chat]:
    """The next ``size`` chats of the user after the cursor ``(created_at, id)``, oldest first (keyset
    pagination: an export reads one short batch at a time and holds no transaction in between)."""
    stmt = select(Chat).where(store.listed(user_id)).order_by(Chat.created_at, Chat.id).limit(size)
    if after is not None:
        stmt = stmt.where(or_(Chat.created_at > after[0], and_(Chat.created_at == after[0], Chat.id > after[1])))
    return list(session.scalars(stmt))


# --- search -------------------------------------------------------------------------------------

_CONTENT_MATCH = {
    "postgresql": """EXISTS (
        SELECT 1 FROM json_each(CASE WHEN json_typeof(chat.chat -> 'history' -> 'messages') = 'object'
                                     THEN chat.chat -> 'history' -> 'messages' ELSE '{{}}'::json END) AS m
        WHERE json_typeof(m.value) = 'object' AND json_typeof(m.value -> 'content') = 'string'
          AND lower(m.value ->> 'content') LIKE :{key} ESCAPE '\\')""",
    "sqlite": """EXISTS (
        SELECT 1 FROM json_each(chat.chat, '$.history.messages') AS m
        WHERE m.type = 'object' AND lower(CASE WHEN m.type = 'object' THEN json_extract(m.value, '$.content') END)
          LIKE :{key} ESCAPE '\\')""",
}


def _word_match(dialect: str, index: int, word: str):
    """The word in the title or in a message's text. A plain ASCII word is first looked for in the
    stored JSON text (cheap), so only chats that contain it somewhere get their messages parsed."""
    key = f"word_{index}"
    content = text(_CONTENT_MATCH[dialect].format(key=key)).bindparams(**{key: _like(word)})
    if word.isascii() and word.isprintable() and not set(word) & {'"', "\\"}:
        raw = func.lower(func.cast(Chat.chat, Text)).like(_like(word), escape="\\")
        content = and_(raw, content)
    return or_(func.lower(Chat.title).like(_like(word), escape="\\"), content)


def _flag(words: list[str], name: str) -> bool | None:
    if f"{name}:true" in words:
        return True
    if f"{name}:false" in words:
        return False
    return None


def _snippet(chat: dict, words: list[str], width: int = 200) -> str | None:
    for message in history.messages_of(chat).values():
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str):
            continue
        lowered = content.lower()
        for word in words:
            at = lowered.find(word)
            if at >= 0:
                start = max(at - width // 2, 0)
                end = min(start + width, len(content))
                body = " ".join(content[start:end].split())
                return f"{'...' if start else ''}{body}{'...' if end < len(content) else ''}"
    return None


def search(session: Session, user_id: str, query: str, page: int = 1) -> list[dict]:
    """Chats whose title or message text contains every word of ``query`` (its first 20), with Open WebUI's filters:
    ``tag:name`` (``tag:none``), ``folder:name``, ``pinned:``/``archived:``/``shared:`` ``true|false``."""
    words = query.lower().split()
    terms = [w for w in words if not w.startswith(FILTER_PREFIXES)][:MAX_SEARCH_WORDS]
    stmt = select(*TITLE_COLUMNS, Chat.chat).where(store.listed(user_id))
    archived = _flag(words, "archived")
    stmt = stmt.where(Chat.archived.is_(bool(archived)))
    if (is_pinned := _flag(words, "pinned")) is not None:
        stmt = stmt.where(Chat.pinned.is_(is_pinned))
    if (shared := _flag(words, "shared")) is not None:
        stmt = stmt.where(Chat.share_id.is_not(None) if shared else Chat.share_id.is_(None))
    tag_words = [w[len("tag:"):] for w in words if w.startswith("tag:") and len(w) > len("tag:")]
    if "none" in tag_words:
        stmt = stmt.where(not_(exists().where(ChatTag.chat_id == Chat.id)))
    else:
        stmt = stmt.where(*(_has_tag(t) for t in tag_words))
    folder_names = [w[len("folder:"):] for w in words if w.startswith("folder:")]
    if folder_names:
        wanted = {" ".join(n.replace("_", " ").split()) for n in folder_names}
        matches = list(session.scalars(select(Folder.id).where(
            Folder.user_id == user_id, func.lower(func.replace(Folder.name, "_", " ")).in_(wanted))))
        ids = {i for f in matches for i in folders.subtree_ids(session, user_id, f)}
        stmt = stmt.where(Chat.folder_id.in_(ids))
    dialect = session.get_bind().dialect.name
    stmt = stmt.where(*(_word_match(dialect, i, w) for i, w in enumerate(terms)))
    rows = session.execute(_page(_ordered(stmt), page)).all()
    results = []
    for row in rows:
        item = dict(row._mapping)
        item["snippet"] = _snippet(item.pop("chat") or {}, terms) if terms else None
        results.append(item)
    _with_active(session, user_id, results)
    if page == 1 and not results and len(words) == 1 and tag_words and tag_words[0] != "none":
        tags.delete_orphans(session, user_id, [tags.tag_id(tag_words[0])])
    return results
