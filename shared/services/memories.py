"""A user's memories: rows in ``memory``, embedded into the user's ``user-memory-<id>`` collection by a job."""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shared import messages
from shared.errors import Forbidden, NotFound
from shared.jobs import catalog
from shared.models import Job, Memory, User
from shared.models.base import now
from shared.rag.embedding import get_embedder
from shared.rag.vectors import ChunkIn, get_vector_store
from shared.services import app_config, permissions, retrieval
from shared.services.retrieval import memory_collection

TYPES = ("user", "context")


def check_enabled(session: Session, user: User) -> None:
    """Memories switched off: 404; a user without the ``features.memories`` permission: 403."""
    if not app_config.get(session, "memories.enable"):
        raise NotFound(messages.NOT_FOUND)
    if not permissions.has_permission(session, user, "features.memories"):
        raise Forbidden(messages.ACCESS_PROHIBITED)


def list_memories(session: Session, user: User) -> list[Memory]:
    return list(session.scalars(select(Memory).where(Memory.user_id == user.id).order_by(Memory.created_at, Memory.id)))


def add_memory(session: Session, user: User, content: str, type_: str = "context", path: str | None = None) -> Memory:
    memory = Memory(user_id=user.id, content=content, type=type_, path=path, meta={})
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
        memory.content = content
    if type_ is not None:
        memory.type = type_
    if path is not None:
        memory.path = path
    memory.updated_at = now()
    session.flush()
    request_index(session, user)
    return memory


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


def reindex_all(session: Session) -> int:
    user_ids = list(session.scalars(select(Memory.user_id).distinct()))
    return sum(index(session, user_id) for user_id in user_ids)
