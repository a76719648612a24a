"""The vector store: chunks and their embeddings in SQL, exact cosine similarity computed with NumPy.

Works across any number of web and worker processes on one database. Each process keeps a
collection's embedding matrix in memory and reloads it when the collection's version (a Redis key renewed
after every committed write) changes, so a query costs one matrix product. NumPy is imported where it is used:
the web process only deletes and copies rows and does not load it.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from shared.config import env
from shared.models import Chunk
from shared.models.base import new_id
from shared.redis_client import get_redis, key

if TYPE_CHECKING:
    import numpy as np

DIRTY = "vector_collections_written"
"""Per process: ~1 GB holds about 700,000 chunks of 384 dimensions."""


@dataclass(frozen=True)
class ChunkIn:
    text: str
    meta: dict = field(default_factory=dict)
    file_id: str | None = None
    position: int = 0


@dataclass(frozen=True)
class Hit:
    id: str
    collection: str
    file_id: str | None
    text: str
    meta: dict
    score: float
    """Cosine similarity mapped to 0..1 (higher is closer), Open WebUI's "distance" convention."""


class VectorStore(Protocol):
    def add(self, session: Session, collection: str, chunks: Sequence[ChunkIn], vectors: np.ndarray) -> None: ...

    def delete(self, session: Session, collection: str | None = None, file_id: str | None = None) -> int: ...

    def search(self, session: Session, collections: Iterable[str], query: np.ndarray, k: int) -> list[Hit]: ...

    def copy(self, session: Session, source: str, target: str, file_id: str | None = None) -> int: ...

    def count(self, session: Session, collection: str) -> int: ...

    def chunks(self, session: Session, collections: Iterable[str]) -> list[Hit]: ...

    def export(self, session: Session, collection: str) -> tuple[list[ChunkIn], np.ndarray]: ...

    def collections(self, session: Session) -> list[str]: ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    import numpy as np

    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def _version_key(collection: str) -> str:
    return key("rag", "collection", collection, "version")


def install_listeners(factory: sessionmaker) -> None:
    """Announce the collections the factory's sessions write, once committed."""
    event.listen(factory, "after_commit", _bump_versions)
    event.listen(factory, "after_rollback", _forget_versions)


def _bump_versions(session: Session) -> None:
    """Announce the collections this transaction wrote, only once the rows are visible to others."""
    written = session.info.pop(DIRTY, None)
    if written:
        pipe = get_redis().pipeline()
        for collection in written:
            pipe.set(_version_key(collection), new_id())
        pipe.execute()


def _forget_versions(session: Session) -> None:
    session.info.pop(DIRTY, None)


def collection_version(collection: str) -> str:
    """The collection's version, a fresh random token at each committed write: what a process compares to know
    whether what it keeps of the collection is still current. When Redis has none (after a flush) a new one
    is set, so nothing kept from before matches it."""
    redis = get_redis()
    version = redis.get(_version_key(collection))
    if version is None:
        redis.set(_version_key(collection), new_id(), nx=True)
        version = redis.get(_version_key(collection))
    return version


def mark_written(session: Session, collection: str) -> None:
    """Any store: the collection changes in this transaction (its version is bumped once it commits)."""
    session.info.setdefault(DIRTY, set()).add(collection)


@dataclass
class _Matrix:
    version: str
    ids: list[str]
    vectors: np.ndarray


class SqlVectorStore:
    """The default store: rows in ``vector_chunk``, matrices cached per process and collection.

    ``cache_bytes`` bounds the cached matrices (least recently used go first); a collection larger
    than the whole budget is still searched, just reloaded each time.
    """

    def __init__(self, cache_bytes: int | None = None) -> None:
        self._cache: OrderedDict[str, _Matrix] = OrderedDict()
        self._cache_bytes = int(env("RAG_VECTOR_CACHE_MB") * 1024 * 1024) if cache_bytes is None else cache_bytes
        self._lock = threading.Lock()

    def _remember(self, collection: str, matrix: _Matrix) -> None:
        with self._lock:
            self._cache[collection] = matrix
            self._cache.move_to_end(collection)
            while self._cache and sum(m.vectors.nbytes for m in self._cache.values()) > self._cache_bytes:
                self._cache.popitem(last=False)

    def add(self, session: Session, collection: str, chunks: Sequence[ChunkIn], vectors: np.ndarray) -> None:
        vectors = normalise(vectors)
        if len(chunks) != len(vectors):
            raise ValueError("one vector per chunk")
        session.add_all(
            Chunk(collection=collection, file_id=c.file_id, position=c.position, text=c.text, meta=c.meta,
                  embedding=v.astype("<f4").tobytes(), dimensions=int(v.shape[0]))
            for c, v in zip(chunks, vectors)
        )
        session.flush()
        mark_written(session, collection)

    def delete(self, session: Session, collection: str | None = None, file_id: str | None = None) -> int:
        if collection is None and file_id is None:
            raise ValueError("name a collection, a file or both")
        conditions = []
        if collection is not None:
            conditions.append(Chunk.collection == collection)
        if file_id is not None:
            conditions.append(Chunk.file_id == file_id)
        touched = set(session.scalars(select(Chunk.collection).distinct().where(*conditions)))
        removed = session.execute(
            delete(Chunk).where(*conditions).execution_options(synchronize_session=False)
        ).rowcount or 0
        for name in touched:
            mark_written(session, name)
        return removed

    def copy(self, session: Session, source: str, target: str, file_id: str | None = None) -> int:
        """Copy already-embedded chunks into another collection (a file joining a knowledge base)."""
        query = select(Chunk).where(Chunk.collection == source)
        if file_id is not None:
            query = query.where(Chunk.file_id == file_id)
        rows = list(session.scalars(query))
        session.add_all(
            Chunk(collection=target, file_id=r.file_id, position=r.position, text=r.text, meta=r.meta,
                  embedding=r.embedding, dimensions=r.dimensions) for r in rows
        )
        session.flush()
        if rows:
            mark_written(session, target)
        return len(rows)

    def count(self, session: Session, collection: str) -> int:
        return session.scalar(select(func.count()).select_from(Chunk).where(Chunk.collection == collection)) or 0

    def chunks(self, session: Session, collections: Iterable[str]) -> list[Hit]:
        """Every chunk of the collections, unscored (BM25's corpus)."""
        rows = session.scalars(select(Chunk).where(Chunk.collection.in_(list(dict.fromkeys(collections))))
                               .order_by(Chunk.collection, Chunk.file_id, Chunk.position))
        return [Hit(id=r.id, collection=r.collection, file_id=r.file_id, text=r.text, meta=r.meta or {}, score=0.0)
                for r in rows]

    def export(self, session: Session, collection: str) -> tuple[list[ChunkIn], np.ndarray]:
        """The collection's chunks and their vectors (to migrate it to another store)."""
        import numpy as np

        rows = list(session.scalars(select(Chunk).where(Chunk.collection == collection)
                                    .order_by(Chunk.file_id, Chunk.position)))
        chunks = [ChunkIn(text=r.text, meta=r.meta or {}, file_id=r.file_id, position=r.position) for r in rows]
        vectors = np.array([np.frombuffer(r.embedding, dtype="<f4") for r in rows], dtype=np.float32)
        return chunks, vectors

    def collections(self, session: Session) -> list[str]:
        return list(session.scalars(select(Chunk.collection).distinct().order_by(Chunk.collection)))

    def _matrix(self, session: Session, collection: str) -> _Matrix:
        import numpy as np

        version = collection_version(collection)
        with self._lock:
            cached = self._cache.get(collection)
            if cached is not None and cached.version == version:
                self._cache.move_to_end(collection)
                return cached
        rows = session.execute(
            select(Chunk.id, Chunk.embedding, Chunk.dimensions).where(Chunk.collection == collection)
        ).all()
        if rows:
            dims = rows[-1].dimensions
            rows = [r for r in rows if r.dimensions == dims]
            vectors = np.frombuffer(b"".join(r.embedding for r in rows), dtype="<f4").reshape(len(rows), dims)
        else:
            vectors = np.zeros((0, 0), dtype=np.float32)
        matrix = _Matrix(version, [r.id for r in rows], vectors)
        self._remember(collection, matrix)
        return matrix

    def search(self, session: Session, collections: Iterable[str], query: np.ndarray, k: int) -> list[Hit]:
        import numpy as np

        query = normalise(query).reshape(-1)
        scored: list[tuple[float, str]] = []
        for collection in dict.fromkeys(collections):
            matrix = self._matrix(session, collection)
            if not matrix.ids or matrix.vectors.shape[1] != query.shape[0]:
                continue
            sims = matrix.vectors @ query
            top = np.argpartition(-sims, min(k, len(sims)) - 1)[:k] if len(sims) > k else np.arange(len(sims))
            scored.extend((float(sims[i]), matrix.ids[i]) for i in top)
        scored.sort(key=lambda item: item[0], reverse=True)
        best = scored[:k]
        rows = {row.id: row for row in session.scalars(select(Chunk).where(Chunk.id.in_([i for _, i in best])))}
        return [
            Hit(id=i, collection=rows[i].collection, file_id=rows[i].file_id, text=rows[i].text,
                meta=rows[i].meta or {}, score=(1.0 + s) / 2.0)
            for s, i in best if i in rows
        ]


STORES = ("auto", "sql", "pgvector")

_store: VectorStore | None = None


def make_store(name: str, session: Session) -> VectorStore:
    """The store called ``name``; ``auto`` is pgvector on a PostgreSQL that has the extension, else SQL."""
    from shared.rag.pgvector_store import PgVectorStore, has_pgvector

    if name not in STORES:
        raise ValueError(f"unknown vector store {name!r} (one of {', '.join(STORES)})")
    if name == "pgvector" or (name == "auto" and has_pgvector(session)):
        return PgVectorStore()
    return SqlVectorStore()


def get_vector_store() -> VectorStore:
    """This process's store, chosen once from ``VECTOR_DB``."""
    global _store
    if _store is None:
        from shared.db import session_scope

        with session_scope() as session:
            _store = make_store(env("VECTOR_DB"), session)
    return _store


def reset_vector_store() -> None:
    """Forget this process's store and the matrices it keeps (its data was replaced underneath it)."""
    global _store
    _store = None
