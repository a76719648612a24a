"""A user's memories: rows in ``memory``, embedded into the user's ``user-memory-<id>`` collection by a job."""
from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shared import messages
from shared.errors import BadRequest, Forbidden, NotFound
from shared.jobs import catalog
from shared.models import Job, Memory, User
from shared.models.base import now
from shared.rag.embedding import get_embedder
from shared.rag.vectors import ChunkIn, get_vector_store
from shared.services import app_config, memory_paths, permissions, retrieval
from shared.services.retrieval import memory_collection

TYPES = ("user", "context")


def check_enabled(session: Session, user: User) -> None:
    """Memories switched off: 404; a user without the ``features.memories`` permission: 403."""
    if not app_config.get(session, "memories.enable"):
        raise NotFound(messages.NOT_FOUND)
    permissions.require(session, user, "features.memories", Forbidden)


def list_memories(session: Session, user: User) -> list[Memory]:
    return list(session.scalars(select(Memory).where(Memory.user_id == user.id).order_by(Memory.created_at, Memory.id)))


def add_memory(session: Session, user: User, content: str, type_: str = "context", path: str | None = None) -> Memory:
    memory = Memory(user_id=user.id, content=memory_paths.clean_content(content), type=type_,
                    path=memory_paths.clean_path(path), meta={"created_by": "manual"})
    session.add(memory)
    session.flush()
    request_index(session, user)
    return memory


def _own(session: Session, user: User, memory_id: str) -> Memory:
    memory = session.get(Memory, memory_id)
    if memory is None or memory.user_id != user.id:
        raise NotFound(messages.NOT_FOUND)
    return memory


def update_memory(session: Session, user: User, memory_id: str, *, content: str | None = None,
                  type_: str | None = None, path: str | None = None) -> Memory:
    memory = _own(session, user, memory_id)
    if content is not None:
        memory.content = memory_paths.clean_content(content)
    if type_ is not None:
        memory.type = type_
    if path is not None:
        memory.path = memory_paths.clean_path(path)
    memory.updated_at = now()
    session.flush()
    request_index(session, user)
    return memory


def apply_operations(session: Session, user: User, operations: list[dict], source: str = "tool") -> list[dict]:
    """Open WebUI's batch of ``add`` / ``replace`` / ``move`` / ``remove`` (what its memory tool and background
    review send), all or nothing: an unknown id is 404 and nothing is changed. An ``add`` identical to an existing
    memory is ``skipped``. One indexing job follows the whole batch."""
    if not operations:
        raise BadRequest("No memory operations provided")
    results = [_apply(session, user, op, {"created_by": source}) for op in operations]
    session.flush()
    request_index(session, user)
    return results


def _apply(session: Session, user: User, op: dict, meta: dict) -> dict:
    action = op["action"]
    if action == "add":
        content, path = memory_paths.clean_content(op.get("content")), memory_paths.clean_path(op.get("path"))
        type_ = op.get("type") or "context"
        existing = session.scalar(select(Memory).where(Memory.user_id == user.id, Memory.content == content,
                                                       Memory.type == type_, _path_is(path)))
        if existing is not None:
            return {"action": action, "status": "skipped", "memory": existing, "reason": "duplicate"}
        memory = Memory(user_id=user.id, content=content, type=type_, path=path, meta=meta)
        session.add(memory)
        session.flush()
        return {"action": action, "status": "created", "memory": memory}
    if not op.get("id"):
        raise BadRequest(f"Memory id is required for {action}")
    memory = session.get(Memory, op["id"])
    if memory is None or memory.user_id != user.id:
        raise NotFound(f"Memory not found: {op['id']}")
    if action == "remove":
        session.delete(memory)
        return {"action": action, "status": "deleted", "id": memory.id}
    if action == "replace":
        memory.content = memory_paths.clean_content(op.get("content"))
        memory.type = op.get("type") or memory.type
    memory.path = memory_paths.clean_path(op.get("path"))
    memory.meta = {**(memory.meta or {}), **meta}
    memory.updated_at = now()
    return {"action": action, "status": "updated", "memory": memory}


def _path_is(path: str | None):
    return Memory.path.is_(None) if path is None else Memory.path == path


def delete_memory(session: Session, user: User, memory_id: str) -> None:
    session.delete(_own(session, user, memory_id))
    session.flush()
    request_index(session, user)


def delete_all(session: Session, user: User) -> None:
    session.execute(delete(Memory).where(Memory.user_id == user.id))
    get_vector_store().delete(session, collection=memory_collection(user.id))


def request_index(session: Session, user: User) -> Job:
    """The user's memory collection follows the rows: a job rebuilds it (commits the session's changes)."""
    return catalog.send(session, catalog.INDEX_MEMORIES, catalog.IndexMemories(user.id), owner_id=user.id)


def start_query(session: Session, user: User, content: str, k: int) -> Job:
    """A job that finds the ``k`` memories closest to ``content``; 404 without any memory."""
    if not list_memories(session, user):
        raise NotFound("No memories found for user")
    return retrieval.enqueue_query(session, user, [memory_collection(user.id)], content, k, r=None, hybrid=False,
                                   kind="memory.query")


def _vector_text(memory: Memory) -> str:
    return f"{memory.path}: {memory.content}" if memory.path else memory.content


def index(session: Session, user_id: str) -> int:
    """Rebuild the user's memory collection from the rows (memories are few; this keeps it exact)."""
    rows = list(session.scalars(select(Memory).where(Memory.user_id == user_id).order_by(Memory.created_at)))
    store = get_vector_store()
    collection = memory_collection(user_id)
    vectors = get_embedder(session).embed([_vector_text(m) for m in rows]) if rows else None
    store.delete(session, collection=collection)
    if rows:
        store.add(session, collection, [
            ChunkIn(text=m.content, position=i,
                    meta={"id": m.id, "type": m.type, "path": m.path, "created_at": m.created_at,
                          "updated_at": m.updated_at})
            for i, m in enumerate(rows)
        ], vectors)
    return len(rows)


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def users_with_memories(session: Session) -> list[str]:
    return list(session.scalars(select(Memory.user_id).distinct().order_by(Memory.user_id)))


def start_reindex(session: Session, user: User) -> Job:
    """Every user's memory collection rebuilt (admin's ``/memories/reindex``), as a job."""
    return catalog.send(session, catalog.REINDEX_MEMORIES, catalog.Nothing(), owner_id=user.id)
