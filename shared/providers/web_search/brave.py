"""Brave's Web Search API: the key in ``X-Subscription-Token``, hits under ``web.results``."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.providers.web_search import SearchResult, call_json, required, results

DEFAULT_URL = "https://api.search.brave.com/res/v1/web/search"


def search(settings: Mapping[str, Any], query: str, count: int) -> list[SearchResult]:
    (key,) = required(settings, "BRAVE_SEARCH_API_KEY")
    answer = call_json("Brave", settings.get("BRAVE_SEARCH_API_URL") or DEFAULT_URL,
                       headers={"X-Subscription-Token": key}, params={"q": query, "count": count})
    return results((answer.get("web") or {}).get("results") or [], count, "url", "title", "description")
