"""Firecrawl's v2 ``/search``; its answer's ``data`` is a list (v1) or ``{"web": [...]}`` (v2)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.providers.web_search import SearchResult, call_json, results

DEFAULT_BASE_URL = "https://api.firecrawl.dev"


def search(settings: Mapping[str, Any], query: str, count: int) -> list[SearchResult]:
    base = (settings.get("FIRECRAWL_API_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    url = f"{base}/search" if base.endswith("/v2") else f"{base}/v2/search"
    key = settings.get("FIRECRAWL_API_KEY")
    answer = call_json("Firecrawl", url, method="POST", headers={"Authorization": f"Bearer {key}"} if key else {},
                       body={"query": query, "limit": count, "timeout": count * 3000, "ignoreInvalidURLs": True})
    data = answer.get("data") or {}
    hits = data if isinstance(data, list) else data.get("web") or []
    return results(hits, count, "url", "title", "description")
