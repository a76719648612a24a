"""Rerankers: score (query, chunk) pairs after hybrid search's fusion, in the worker that runs the query.

``external`` posts Open WebUI's request (``model``, ``query``, ``documents``, ``top_n``) and reads its answer
(``results`` of ``index`` + ``relevance_score``); with engine ``""`` and a model, a local cross-encoder
(sentence-transformers, the ``local-embeddings`` extra) scores the pairs.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import requests
from sqlalchemy.orm import Session

from shared.errors import UpstreamError
from shared.rag import config as rag_config

Reranker = Callable[[str, Sequence[str]], list[float]]


def external_reranker(url: str, api_key: str, model: str, timeout: float) -> Reranker:
    def rerank(query: str, documents: Sequence[str]) -> list[float]:
        try:
            response = requests.post(
                url, json={"model": model, "query": query, "documents": list(documents), "top_n": len(documents)},
                headers={"Authorization": f"Bearer {api_key}"}, timeout=timeout,
            )
            response.raise_for_status()
            results = sorted(response.json()["results"], key=lambda r: r["index"])
            scores = [float(r["relevance_score"]) for r in results]
        except (requests.RequestException, ValueError, KeyError, TypeError) as error:
            raise UpstreamError(f"The reranking endpoint failed: {error}") from error
        if len(scores) != len(documents):
            raise UpstreamError("The reranking endpoint did not score every document.")
        return scores
    return rerank


@lru_cache(maxsize=2)
def _cross_encoder(model: str):
    """Loaded once per worker process (a model load takes seconds)."""
    from sentence_transformers import CrossEncoder

    return CrossEncoder(model)


def local_reranker(model: str) -> Reranker:
    def rerank(query: str, documents: Sequence[str]) -> list[float]:
        return [float(s) for s in _cross_encoder(model).predict([(query, d) for d in documents])]
    return rerank


def get_reranker(session: Session) -> Reranker | None:
    """The configured reranker, or None when hybrid search only fuses."""
    engine = rag_config.get(session, "RAG_RERANKING_ENGINE") or ""
    model = rag_config.get(session, "RAG_RERANKING_MODEL") or ""
    if engine == "external":
        return external_reranker(rag_config.get(session, "RAG_EXTERNAL_RERANKER_URL"),
                                 rag_config.get(session, "RAG_EXTERNAL_RERANKER_API_KEY") or "",
                                 model or "reranker",
                                 float(rag_config.get(session, "RAG_EXTERNAL_RERANKER_TIMEOUT") or 30))
    return local_reranker(model) if model else None
