"""SearXNG's JSON API (``format=json``), the parameters Open WebUI sends; hits best score first."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.providers.web_search import SearchResult, call_json, required, results


def search(settings: Mapping[str, Any], query: str, count: int) -> list[SearchResult]:
    (query_url,) = required(settings, "SEARXNG_QUERY_URL")
    if "<query>" in query_url:
        query_url = query_url.split("?")[0]
    params = {"q": query, "format": "json", "pageno": 1, "safesearch": "1",
              "language": (settings.get("SEARXNG_LANGUAGE") or "all").strip().rstrip(","), "time_range": "",
              "categories": "", "theme": "simple", "image_proxy": 0}
    answer = call_json("SearXNG", query_url, params=params)
    hits = sorted(answer.get("results") or [], key=lambda hit: hit.get("score") or 0, reverse=True)
    return results(hits, count, "url", "title", "content")
