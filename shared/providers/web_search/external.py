"""An admin's own search service (Open WebUI's "external" engine): POST ``{query, count}``, a JSON list back."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.providers.web_search import SearchResult, call_json, required, results


def search(settings: Mapping[str, Any], query: str, count: int) -> list[SearchResult]:
    (url,) = required(settings, "EXTERNAL_WEB_SEARCH_URL")
    key = settings.get("EXTERNAL_WEB_SEARCH_API_KEY") or ""
    answer = call_json("External web search", url, method="POST", headers={"Authorization": f"Bearer {key}"},
                       body={"query": query, "count": count})
    return results(answer if isinstance(answer, list) else [], count, "link", "title", "snippet")
