"""The keyword half of hybrid search: BM25 (``bm25s``) over the chunks of the collections a query names.

Building an index reads and tokenises every chunk of those collections, which at 100,000 chunks costs seconds,
so each process keeps the indexes it built, per set of collections, and reuses one while none of its
collections has changed since (its version, renewed by every committed store write). The least recently used
go first once they hold more than ``RAG_KEYWORD_CACHE_CHUNKS`` chunks together.
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from shared.config import env
from shared.rag.vectors import Hit, collection_version

if TYPE_CHECKING:
    import bm25s

WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


@dataclass
class _Index:
    versions: tuple[str, ...]
    hits: list[Hit]
    bm25: bm25s.BM25


class KeywordIndexes:
    """BM25 indexes of collection sets, kept per process (thread-safe; a build happens outside the lock)."""

    def __init__(self, budget_chunks: int | None = None) -> None:
        self._indexes: OrderedDict[tuple[str, ...], _Index] = OrderedDict()
        self._budget = int(env("RAG_KEYWORD_CACHE_CHUNKS")) if budget_chunks is None else budget_chunks
        self._lock = threading.Lock()

    def _index(self, session: Session, names: tuple[str, ...],
               chunks: Callable[[Session, list[str]], list[Hit]]) -> _Index:
        import bm25s

        versions = tuple(collection_version(name) for name in names)
        with self._lock:
            cached = self._indexes.get(names)
            if cached is not None and cached.versions == versions:
                self._indexes.move_to_end(names)
                return cached
        hits = chunks(session, list(names))
        bm25 = bm25s.BM25()
        if hits:
            bm25.index([words(h.text) or [""] for h in hits], show_progress=False)
        index = _Index(versions, hits, bm25)
        with self._lock:
            self._indexes[names] = index
            self._indexes.move_to_end(names)
            while len(self._indexes) > 1 and sum(len(i.hits) for i in self._indexes.values()) > self._budget:
                self._indexes.popitem(last=False)
        return index

    def top(self, session: Session, collections: Iterable[str], query: str, k: int,
            chunks: Callable[[Session, list[str]], list[Hit]]) -> list[Hit]:
        """The ``k`` chunks BM25 scores above zero for the query's words; ``chunks`` reads a collection set's
        chunks from the store (only when the index is built)."""
        import numpy as np

        terms = words(query)
        names = tuple(sorted(set(collections)))
        if not terms or not names:
            return []
        index = self._index(session, names, chunks)
        if not index.hits:
            return []
        scores = index.bm25.get_scores(terms)
        best = np.argsort(-scores, kind="stable")[:k]
        return [index.hits[i] for i in best if scores[i] > 0]


@lru_cache(maxsize=1)
def indexes() -> KeywordIndexes:
    """This process's indexes."""
    return KeywordIndexes()
