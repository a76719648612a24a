"""Hybrid search: BM25 finds what vector search misses, fusion, the external reranker, the relevance threshold."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from shared.db import session_scope
from shared.errors import UpstreamError
from shared.rag.vectors import ChunkIn, get_vector_store
from shared.services import app_config, retrieval

TEXTS = {
    "How to reset the router to factory settings.": [1.0, 0.0, 0.0],
    "Error XK42 means the fan controller failed.": [0.0, 1.0, 0.0],
    "Routers blink when they restart.": [0.9, 0.1, 0.0],
}
QUERY = "what does XK42 mean"


class FakeEmbedder:
    """A query about XK42 lands next to the router chunks: only the keyword ties it to its chunk."""

    def embed(self, texts, on_batch=None):
        return np.array([TEXTS.get(t, [0.95, 0.0, 0.3]) for t in texts], dtype=np.float32)


@pytest.fixture()
def collection(monkeypatch):
    monkeypatch.setattr(retrieval, "get_embedder", lambda session: FakeEmbedder())
    with session_scope() as session:
        get_vector_store().add(session, "hybrid", [ChunkIn(t) for t in TEXTS], np.array(list(TEXTS.values())))
        app_config.set_many(session, {"rag.top_k_reranker": 2})
    return "hybrid"


class Reranker(BaseHTTPRequestHandler):
    """Open WebUI's external reranking endpoint: scores documents that contain a query word."""
    seen: list[dict] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Reranker.seen.append({**body, "auth": self.headers["Authorization"]})
        words = set(body["query"].lower().split())
        results = [{"index": i, "relevance_score": 0.9 if words & set(d.lower().rstrip(".").split()) else 0.05}
                   for i, d in enumerate(body["documents"])]
        payload = json.dumps({"results": list(reversed(results))}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture()
def reranker():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Reranker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Reranker.seen.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/rerank"
    server.shutdown()


def _texts(session, **options):
    return [h.text for h in retrieval.rank(session, ["hybrid"], QUERY, 1, **options)]


def test_bm25_finds_the_exact_keyword_vector_search_misses(collection):
    with session_scope() as session:
        assert "Error XK42 means the fan controller failed." not in _texts(session, hybrid=False)
        assert "Error XK42 means the fan controller failed." in _texts(session, hybrid=True)
        assert len(_texts(session, hybrid=True)) == 2  # TOP_K_RERANKER


def test_external_reranker_orders_and_threshold_filters(collection, reranker):
    with session_scope() as session:
        app_config.set_many(session, {"rag.reranking_engine": "external", "rag.external_reranker_url": reranker,
                                      "rag.external_reranker_api_key": "k", "rag.reranking_model": "rr"})
    with session_scope() as session:
        hits = retrieval.rank(session, ["hybrid"], QUERY, 1, hybrid=True)
        assert hits[0].text.startswith("Error XK42") and hits[0].score == pytest.approx(0.9)
        assert _texts(session, hybrid=True, threshold=0.5) == ["Error XK42 means the fan controller failed."]
    sent = Reranker.seen[0]
    assert (sent["model"], sent["query"], sent["top_n"], sent["auth"]) == ("rr", QUERY, len(sent["documents"]),
                                                                          "Bearer k")


def test_reranker_failure_is_an_upstream_error(collection):
    with session_scope() as session:
        app_config.set_many(session, {"rag.reranking_engine": "external",
                                      "rag.external_reranker_url": "http://127.0.0.1:9/v1/rerank"})
    with session_scope() as session, pytest.raises(UpstreamError):
        retrieval.rank(session, ["hybrid"], QUERY, 1, hybrid=True)


def test_the_keyword_index_is_reused_until_a_collection_is_written(collection):
    from shared.rag.keyword_index import KeywordIndexes

    indexes, reads = KeywordIndexes(), []

    def chunks(session, names):
        reads.append(names)
        return get_vector_store().chunks(session, names)

    with session_scope() as session:
        assert [h.text for h in indexes.top(session, ["hybrid"], "XK42", 5, chunks)] == [
            "Error XK42 means the fan controller failed."]
        assert [h.text for h in indexes.top(session, ["hybrid"], "routers blink", 5, chunks)] == [
            "Routers blink when they restart."]
        assert len(reads) == 1
    with session_scope() as session:
        get_vector_store().add(session, "hybrid", [ChunkIn("Error XK42 also blinks the LED.")],
                               np.array([[0.0, 0.0, 1.0]]))
    with session_scope() as session:
        assert len(indexes.top(session, ["hybrid"], "XK42", 5, chunks)) == 2 and len(reads) == 2
        get_vector_store().delete(session, collection="hybrid")
    with session_scope() as session:
        assert indexes.top(session, ["hybrid"], "XK42", 5, chunks) == [] and len(reads) == 3


def test_keyword_indexes_stay_within_their_chunk_budget(collection):
    from shared.rag.keyword_index import KeywordIndexes

    indexes = KeywordIndexes(budget_chunks=4)
    with session_scope() as session:
        get_vector_store().add(session, "other", [ChunkIn("XK42 twice"), ChunkIn("more")], np.eye(3)[:2])
    with session_scope() as session:
        store = get_vector_store()
        indexes.top(session, ["hybrid"], "XK42", 5, store.chunks)
        indexes.top(session, ["other"], "XK42", 5, store.chunks)
        assert list(indexes._indexes) == [("other",)]  # 3 + 2 chunks exceed 4: the older set went
        assert len(indexes.top(session, ["other", "hybrid"], "XK42", 5, store.chunks)) == 2
