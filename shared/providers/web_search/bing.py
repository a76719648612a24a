"""Bing Web Search v7: the key in ``Ocp-Apim-Subscription-Key``, hits under ``webPages.value``."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.providers.web_search import SearchResult, call_json, required, results

DEFAULT_ENDPOINT = "https://api.bing.microsoft.com/v7.0/search"


def search(settings: Mapping[str, Any], query: str, count: int) -> list[SearchResult]:
    (key,) = required(settings, "BING_SEARCH_V7_SUBSCRIPTION_KEY")
    answer = call_json("Bing", settings.get("BING_SEARCH_V7_ENDPOINT") or DEFAULT_ENDPOINT,
                       headers={"Ocp-Apim-Subscription-Key": key},
                       params={"q": query, "mkt": settings.get("BING_SEARCH_LOCALE") or "en-US", "count": count})
    return results((answer.get("webPages") or {}).get("value") or [], count, "url", "name", "snippet")
