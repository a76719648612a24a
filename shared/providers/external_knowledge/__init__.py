"""Vector stores an admin connects as external knowledge (Open WebUI's ``retrieval/external.py``): Qdrant,
Milvus and pgvector, one module each behind the same two calls.

- ``ping(connection)``: reach the store (a 502/504 :class:`~shared.errors.UpstreamError` when it cannot be);
- ``search(connection, source, vector, count)``: the ``count`` points of the source collection nearest to the
  query vector, best first, as Open WebUI normalises them (``content``, ``metadata``, ``distance``).

``connection`` is the admin's connection with its secrets in clear (``auth_config``), ``source`` the knowledge
base's ``{type, name, config}``. Only jobs call them: the web never reaches an external store.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.errors import BadRequest

DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Provider:
    ping: Callable[[dict], None]
    search: Callable[[dict, dict, list[float], int], list[dict]]


def timeout(connection: dict) -> float:
    """The connection's ``config.timeout`` (seconds), Open WebUI's default otherwise."""
    try:
        return float((connection.get("config") or {}).get("timeout") or DEFAULT_TIMEOUT)
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT


def collection(source: dict) -> str:
    if not source.get("name"):
        raise BadRequest("Collection name is required.")
    return source["name"]


def get_path(data: Any, path: str | None, default: Any = None) -> Any:
    """``payload.text`` looked up in nested dicts (Open WebUI's field paths)."""
    if not path:
        return default
    value = data
    for part in path.split("."):
        if not isinstance(value, dict):
            return default
        value = value.get(part, default)
    return value


def normalize(result: dict, mapping: dict, distance: float | None) -> dict:
    """One hit as Open WebUI's ``_normalize_result`` makes it (before the knowledge base's name is added):
    its text, its metadata (``name``, ``source``, ``url``, ``document_id``, ``page``, ``external``) and score."""
    metadata = get_path(result, mapping.get("metadata_field", "metadata"), {}) or {}
    if not isinstance(metadata, dict):
        metadata = {"external_metadata": metadata}
    title = get_path(result, mapping.get("title_field", "title"))
    source = get_path(result, mapping.get("source_field", "source"))
    name = source or title or metadata.get("source") or metadata.get("name")
    metadata = {**metadata, "name": title or metadata.get("name") or name, "source": name,
                "url": get_path(result, mapping.get("url_field", "url")), "external": True}
    metadata.pop("file_id", None)  # an external hit is never one of our files, whatever its payload says
    for key, field in (("page", "page_field"), ("document_id", "document_id_field")):
        value = get_path(result, mapping.get(field, key))
        if value is not None:
            metadata[key] = value
    return {"content": get_path(result, mapping.get("content_field", "content"), "") or "", "metadata": metadata,
            "distance": get_path(result, mapping.get("score_field", "score"), distance)}


def provider(name: str) -> Provider:
    from shared.providers.external_knowledge import milvus, pgvector, qdrant

    providers = {"qdrant": qdrant.PROVIDER, "milvus": milvus.PROVIDER, "pgvector": pgvector.PROVIDER}
    if name not in providers:
        raise BadRequest("Unsupported external knowledge provider.")
    return providers[name]


PROVIDERS = ("qdrant", "milvus", "pgvector")
