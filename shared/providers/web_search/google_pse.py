"""Google Programmable Search: at most 10 hits a request, so larger counts page with ``start``."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.providers.web_search import SearchResult, call_json, required, results

DEFAULT_URL = "https://www.googleapis.com/customsearch/v1"
PAGE = 10


def search(settings: Mapping[str, Any], query: str, count: int) -> list[SearchResult]:
    key, engine_id = required(settings, "GOOGLE_PSE_API_KEY", "GOOGLE_PSE_ENGINE_ID")
    items: list[dict] = []
    start = 1
    while len(items) < count:
        params = {"cx": engine_id, "q": query, "key": key, "num": str(min(count - len(items), PAGE)),
                  "start": str(start)}
        page = call_json("Google PSE", settings.get("GOOGLE_PSE_API_URL") or DEFAULT_URL, params=params)
        if not page.get("items"):
            break
        items.extend(page["items"])
        start += PAGE
    return results(items, count, "link", "title", "snippet")
