"""Fake external vector stores on one loopback server: Qdrant's REST API under ``/qdrant`` and Milvus's REST
API v2 under ``/milvus``, each holding the collection :data:`COLLECTION` of :data:`DOCS`.

Points are stored with the fake embedder's vectors (``hashed_embedding``, as the fake Ollama embeds), so a
query embedded by our embedder finds the document that shares its words; scores are cosine similarities.
Qdrant wants ``api-key: QDRANT_KEY``, Milvus ``Authorization: Bearer MILVUS_TOKEN`` (401 otherwise).
"""
from __future__ import annotations

from tests.fakes.server import FakeUpstream, Received, Reply, hashed_embedding

COLLECTION = "handbook"
DOCS = [
    ("p1", "The lighthouse keeper of Port Alder is named Ingrid Vass.", {"source": "harbor.md", "page": 2}),
    ("p2", "Blue poppies bloom in the walled garden in June.", {"source": "garden.md"}),
    ("p3", "The old mill grinds rye on Thursdays.", {"source": "mill.md"}),
]
QDRANT_KEY = "qdrant-secret"
MILVUS_TOKEN = "root:Milvus"


def _ranked(vector: list[float], limit: int) -> list[tuple[float, tuple[str, str, dict]]]:
    scored = [(sum(a * b for a, b in zip(vector, hashed_embedding(text))), (pid, text, meta))
              for pid, text, meta in DOCS]
    return sorted(scored, key=lambda pair: pair[0], reverse=True)[:limit]


class FakeVectorStores(FakeUpstream):
    def __init__(self) -> None:
        super().__init__()

        @self.route("GET", "/qdrant/collections")
        def qdrant_collections(request: Received, reply: Reply) -> None:
            if self._qdrant_refused(request, reply):
                return
            reply.json({"result": {"collections": [{"name": COLLECTION}]}, "status": "ok", "time": 0.0001})

        @self.route("POST", "/qdrant/collections/([^/]+)/points/query")
        def qdrant_query(request: Received, reply: Reply) -> None:
            if self._qdrant_refused(request, reply):
                return
            name = request.path.split("/")[3]
            if name != COLLECTION:
                reply.json({"status": {"error": f"Not found: Collection `{name}` doesn't exist!"}, "time": 0}, 404)
                return
            body = request.body or {}
            points = [{"id": pid, "version": 1, "score": score, "payload": {"text": text, "metadata": meta},
                       "vector": None} for score, (pid, text, meta) in _ranked(body["query"], body.get("limit", 10))]
            reply.json({"result": {"points": points}, "status": "ok", "time": 0.0002})

        @self.route("POST", "/milvus/v2/vectordb/collections/list")
        def milvus_collections(request: Received, reply: Reply) -> None:
            if self._milvus_refused(request, reply):
                return
            reply.json({"code": 0, "data": [COLLECTION]})

        @self.route("POST", "/milvus/v2/vectordb/entities/search")
        def milvus_search(request: Received, reply: Reply) -> None:
            if self._milvus_refused(request, reply):
                return
            body = request.body or {}
            if body.get("collectionName") != COLLECTION:
                reply.json({"code": 100, "message": f"collection not found[collection={body.get('collectionName')}]"})
                return
            hits = [{"id": pid, "distance": score, "text": text, "metadata": meta}
                    for score, (pid, text, meta) in _ranked(body["data"][0], body.get("limit", 10))]
            reply.json({"code": 0, "cost": 0, "data": hits})

    def _qdrant_refused(self, request: Received, reply: Reply) -> bool:
        if request.headers.get("api-key") != QDRANT_KEY:
            reply.json({"status": {"error": "Must provide an API key or an Authorization bearer token"}}, 401)
            return True
        return False

    def _milvus_refused(self, request: Received, reply: Reply) -> bool:
        if request.headers.get("Authorization") != f"Bearer {MILVUS_TOKEN}":
            reply.json({"code": 1800, "message": "user hasn't authenticated"})
            return True
        return False
