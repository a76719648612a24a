"""Qdrant over its REST API: ``POST /collections/{name}/points/query`` with the query vector (and the named
vector ``using``), what Open WebUI's ``query_points`` call sends; the ``api-key`` header when one is set."""
from __future__ import annotations

from urllib.parse import quote

from shared.providers.external_knowledge import Provider, collection, normalize, timeout
from shared.providers.upstream import Upstream


def _upstream(connection: dict) -> Upstream:
    key = (connection.get("auth_config") or {}).get("api_key")
    return Upstream("Qdrant", connection["endpoint"], {"api-key": key} if key else {}, timeout=timeout(connection))


def ping(connection: dict) -> None:
    _upstream(connection).json("GET", "/collections")


def search(connection: dict, source: dict, vector: list[float], count: int) -> list[dict]:
    config = source.get("config") or {}
    body = {"query": vector, "limit": count, "with_payload": True}
    if config.get("vector_field"):
        body["using"] = config["vector_field"]
    answer = _upstream(connection).json("POST", f"/collections/{quote(collection(source), safe='')}/points/query",
                                        body) or {}
    mapping = {"content_field": config.get("content_field") or "payload.text",
               "metadata_field": config.get("metadata_field") or "payload.metadata",
               "document_id_field": config.get("document_id_field") or "id", "score_field": "score"}
    points = (answer.get("result") or {}).get("points") or []
    return [normalize(point, mapping, point.get("score")) for point in points]


PROVIDER = Provider(ping=ping, search=search)
