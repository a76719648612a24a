"""Tavily's search API: a JSON POST to ``/search`` with a bearer key."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.providers.web_search import SearchResult, call_json, required, results

DEFAULT_BASE_URL = "https://api.tavily.com"


def search(settings: Mapping[str, Any], query: str, count: int) -> list[SearchResult]:
    (key,) = required(settings, "TAVILY_API_KEY")
    base = (settings.get("TAVILY_API_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    answer = call_json("Tavily", f"{base}/search", method="POST", headers={"Authorization": f"Bearer {key}"},
                       body={"query": query, "max_results": count,
                             "search_depth": settings.get("TAVILY_SEARCH_DEPTH") or "basic"})
    return results(answer.get("results") or [], count, "url", "title", "content")
