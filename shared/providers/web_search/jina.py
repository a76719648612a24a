"""Jina's search API (``s.jina.ai``): a JSON POST, the key as the bare ``Authorization`` value, 10 hits at most."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.providers.web_search import SearchResult, call_json, required, results

DEFAULT_URL = "https://s.jina.ai/"
MAX_COUNT = 10


def search(settings: Mapping[str, Any], query: str, count: int) -> list[SearchResult]:
    (key,) = required(settings, "JINA_API_KEY")
    answer = call_json("Jina", settings.get("JINA_API_BASE_URL") or DEFAULT_URL, method="POST",
                       headers={"Authorization": key, "X-Retain-Images": "none"},
                       body={"q": query, "count": min(count, MAX_COUNT)})
    return results(answer.get("data") or [], count, "url", "title", "content")
