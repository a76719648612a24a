"""Milvus over its RESTful API v2 (served on the same address as its gRPC one, which Open WebUI's
``MilvusClient`` uses): ``POST /v2/vectordb/entities/search`` with the fields Open WebUI asks for, the token as
a bearer and ``dbName`` from the connection's ``config.db_name``. Milvus answers errors as HTTP 200 with a
non-zero ``code``."""
from __future__ import annotations

from typing import Any

from shared.errors import UpstreamError
from shared.providers.external_knowledge import Provider, collection, normalize, timeout
from shared.providers.upstream import Upstream


def _call(connection: dict, path: str, body: dict) -> Any:
    auth = connection.get("auth_config") or {}
    token = auth.get("api_key") or auth.get("token")
    upstream = Upstream("Milvus", connection["endpoint"], {"Authorization": f"Bearer {token}"} if token else {},
                        timeout=timeout(connection))
    db_name = (connection.get("config") or {}).get("db_name")
    answer = upstream.json("POST", path, {**body, **({"dbName": db_name} if db_name else {})}) or {}
    if answer.get("code") not in (0, 200, None):
        raise UpstreamError(f"Milvus: {answer.get('message') or answer.get('code')}", 502)
    return answer.get("data")


def _root(path: str | None) -> str | None:
    return path.split(".")[0] if path else None


def ping(connection: dict) -> None:
    _call(connection, "/v2/vectordb/collections/list", {})


def search(connection: dict, source: dict, vector: list[float], count: int) -> list[dict]:
    config = source.get("config") or {}
    vector_field = config.get("vector_field") or "vector"
    mapping = {"content_field": config.get("content_field") or "data.text",
               "metadata_field": config.get("metadata_field") or "metadata",
               "document_id_field": config.get("document_id_field") or "id", "score_field": "distance"}
    fields = {_root(mapping["content_field"]), _root(mapping["metadata_field"]), _root(config.get("document_id_field"))}
    hits = _call(connection, "/v2/vectordb/entities/search", {
        "collectionName": collection(source), "data": [vector], "annsField": vector_field, "limit": count,
        "outputFields": sorted(f for f in fields if f and f != vector_field)}) or []
    return [normalize(hit, mapping, hit.get("distance")) for hit in hits]


PROVIDER = Provider(ping=ping, search=search)
