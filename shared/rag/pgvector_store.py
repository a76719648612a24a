"""The pgvector store: chunks and embeddings in one PostgreSQL table, searched by an HNSW cosine index.

Every web and worker process on every machine queries the same index, so no process keeps a copy and a
write is visible to the next query. The table and its indexes are created on first use (not by an Alembic
migration) because the ``vector`` extension may be missing on a database that still runs everything else.
An HNSW index needs a fixed dimension, so there is one partial index per embedding dimension in use.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.models.base import new_id, now
from shared.rag.vectors import ChunkIn, Hit, mark_written, normalise

if TYPE_CHECKING:
    import numpy as np

TABLE = "vector_chunk_pg"

_SCHEMA = f"""
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE IF NOT EXISTS {TABLE} (
    id varchar(64) PRIMARY KEY,
    collection varchar(255) NOT NULL,
    file_id varchar(64),
    position integer NOT NULL DEFAULT 0,
    text text NOT NULL,
    meta jsonb,
    dimensions integer NOT NULL,
    embedding vector NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_{TABLE}_collection_file ON {TABLE} (collection, file_id);
CREATE INDEX IF NOT EXISTS ix_{TABLE}_file ON {TABLE} (file_id);
"""


def has_pgvector(session: Session) -> bool:
    """Whether the session's database is a PostgreSQL that offers the ``vector`` extension."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    return session.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")).first() is not None


INDEX_PREFIX = f"ix_{TABLE}_hnsw_"


def index_name(dimensions: int) -> str:
    """The HNSW index over the chunks of one embedding dimension."""
    return f"{INDEX_PREFIX}{dimensions}"


def _literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(f"{float(x):.7g}" for x in vector) + "]"


class PgVectorStore:
    """``VECTOR_DB=pgvector``: the shared HNSW index; ``ef_search`` trades recall for query time."""

    def __init__(self, ef_search: int = 100) -> None:
        self._ef_search = ef_search
        self._ready: set[int] = set()
        self._schema_ready = False
        self._deferring = False
        self._lock = threading.Lock()

    def _ensure(self, session: Session, dimensions: int | None = None) -> None:
        """Create the table, and the HNSW index for ``dimensions``, once per process (idempotent DDL,
        serialised across processes by an advisory lock); none during :meth:`bulk_load`."""
        if self._schema_ready and (dimensions is None or dimensions in self._ready or self._deferring):
            return
        with self._lock:
            session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": TABLE})
            if not self._schema_ready:
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    session.execute(text(statement))
                self._schema_ready = True
            if dimensions is not None and dimensions not in self._ready and not self._deferring:
                session.execute(text(
                    f"CREATE INDEX IF NOT EXISTS {index_name(dimensions)} ON {TABLE} USING hnsw "
                    f"((embedding::vector({dimensions})) vector_cosine_ops) WHERE dimensions = {dimensions}"
                ))
                self._ready.add(dimensions)

    @contextmanager
    def bulk_load(self, scope: Callable[[], AbstractContextManager[Session]],
                  index_memory: str | None = None) -> Iterator[None]:
        """Write through this store without the HNSW indexes, then build them once: a row inserted into a built
        index updates its graph, which makes a million rows take hours instead of minutes. Searches scan the
        table meanwhile, so this suits a load with the processes stopped (``switchyard vectors migrate``).
        ``index_memory`` (``4GB``) is the build's ``maintenance_work_mem``: a graph that does not fit in it is
        built far more slowly."""
        with scope() as session:
            self._ensure(session)
            indexes = session.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = :t"), {"t": TABLE})
            for name in [name for name in indexes if name.startswith(INDEX_PREFIX)]:
                session.execute(text(f"DROP INDEX IF EXISTS {name}"))
        self._deferring, self._ready = True, set()
        try:
            yield
        finally:
            self._deferring = False
            with scope() as session:
                if index_memory:
                    session.execute(text("SELECT set_config('maintenance_work_mem', :m, true)"), {"m": index_memory})
                for dimensions in session.scalars(text(f"SELECT DISTINCT dimensions FROM {TABLE}")):
                    self._ensure(session, dimensions)

    def add(self, session: Session, collection: str, chunks: Sequence[ChunkIn], vectors: np.ndarray) -> None:
        vectors = normalise(vectors)
        if len(chunks) != len(vectors):
            raise ValueError("one vector per chunk")
        if not chunks:
            return
        dimensions = int(vectors.shape[1])
        self._ensure(session, dimensions)
        session.execute(
            text(f"INSERT INTO {TABLE} (id, collection, file_id, position, text, meta, dimensions, embedding, "
                 "created_at) VALUES (:id, :collection, :file_id, :position, :text, CAST(:meta AS jsonb), "
                 ":dimensions, CAST(:embedding AS vector), :created_at)"),
            [{"id": new_id(), "collection": collection, "file_id": c.file_id, "position": c.position,
              "text": c.text, "meta": json.dumps(c.meta), "dimensions": dimensions,
              "embedding": _literal(v), "created_at": now()} for c, v in zip(chunks, vectors)],
        )
        mark_written(session, collection)

    def delete(self, session: Session, collection: str | None = None, file_id: str | None = None) -> int:
        if collection is None and file_id is None:
            raise ValueError("name a collection, a file or both")
        self._ensure(session)
        removed = session.execute(
            text(f"WITH gone AS (DELETE FROM {TABLE} WHERE (CAST(:collection AS varchar) IS NULL OR "
                 "collection = :collection) AND (CAST(:file_id AS varchar) IS NULL OR file_id = :file_id) "
                 "RETURNING collection) SELECT collection, count(*) AS n FROM gone GROUP BY collection"),
            {"collection": collection, "file_id": file_id},
        ).all()
        for row in removed:
            mark_written(session, row.collection)
        return sum(row.n for row in removed)

    def copy(self, session: Session, source: str, target: str, file_id: str | None = None) -> int:
        """Copy already-embedded chunks into another collection (a file joining a knowledge base)."""
        self._ensure(session)
        copied = session.execute(
            text(f"INSERT INTO {TABLE} (id, collection, file_id, position, text, meta, dimensions, embedding, "
                 f"created_at) SELECT md5(random()::text || id), :target, file_id, position, text, meta, dimensions, "
                 f"embedding, created_at FROM {TABLE} WHERE collection = :source "
                 "AND (CAST(:file_id AS varchar) IS NULL OR file_id = :file_id)"),
            {"source": source, "target": target, "file_id": file_id},
        ).rowcount or 0
        if copied:
            mark_written(session, target)
        return copied

    def count(self, session: Session, collection: str) -> int:
        self._ensure(session)
        return session.scalar(text(f"SELECT count(*) FROM {TABLE} WHERE collection = :c"), {"c": collection}) or 0

    def search(self, session: Session, collections: Iterable[str], query: np.ndarray, k: int) -> list[Hit]:
        query = normalise(query).reshape(-1)
        dimensions = int(query.shape[0])
        names = list(dict.fromkeys(collections))
        if not names:
            return []
        self._ensure(session, dimensions)
        # iterative scans keep walking the graph until k rows pass the collection filter
        session.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
        session.execute(text(f"SET LOCAL hnsw.ef_search = {int(max(self._ef_search, k))}"))
        rows = session.execute(
            text(f"SELECT id, collection, file_id, text, meta, "
                 f"embedding::vector({dimensions}) <=> CAST(:q AS vector({dimensions})) AS distance "
                 f"FROM {TABLE} WHERE dimensions = {dimensions} AND collection = ANY(:names) "
                 f"ORDER BY distance LIMIT :k"),
            {"q": _literal(query), "names": names, "k": k},
        ).all()
        hits = [Hit(id=r.id, collection=r.collection, file_id=r.file_id, text=r.text, meta=r.meta or {},
                    score=1.0 - float(r.distance) / 2.0) for r in rows]
        return sorted(hits, key=lambda h: h.score, reverse=True)

    def chunks(self, session: Session, collections: Iterable[str]) -> list[Hit]:
        """Every chunk of the collections, unscored (BM25's corpus)."""
        self._ensure(session)
        rows = session.execute(
            text(f"SELECT id, collection, file_id, text, meta FROM {TABLE} WHERE collection = ANY(:names) "
                 "ORDER BY collection, file_id, position"),
            {"names": list(dict.fromkeys(collections))},
        ).all()
        return [Hit(id=r.id, collection=r.collection, file_id=r.file_id, text=r.text, meta=r.meta or {}, score=0.0)
                for r in rows]

    def export(self, session: Session, collection: str) -> tuple[list[ChunkIn], np.ndarray]:
        """The collection's chunks and their vectors (to migrate it to another store)."""
        import numpy as np

        self._ensure(session)
        rows = session.execute(
            text(f"SELECT file_id, position, text, meta, embedding::text AS embedding FROM {TABLE} "
                 "WHERE collection = :c ORDER BY file_id, position"), {"c": collection},
        ).all()
        chunks = [ChunkIn(text=r.text, meta=r.meta or {}, file_id=r.file_id, position=r.position) for r in rows]
        vectors = np.array([json.loads(r.embedding) for r in rows], dtype=np.float32)
        return chunks, vectors

    def collections(self, session: Session) -> list[str]:
        self._ensure(session)
        return list(session.scalars(text(f"SELECT DISTINCT collection FROM {TABLE} ORDER BY collection")))
