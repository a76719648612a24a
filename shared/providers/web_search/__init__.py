"""Web search engines: one small module per engine, each turning a query into :class:`SearchResult` items.

Every engine has the same shape, ``search(settings, query, count)``: ``settings`` holds the admin's web search
settings under Open WebUI's field names (``SEARXNG_QUERY_URL``, ``BRAVE_SEARCH_API_KEY`` ...), so the
service layer passes the one dict it read and never branches on the engine. The engines' own APIs are
addresses the admin configured (a SearXNG on the deployment's network is the common case), so they are
reached through :class:`~shared.providers.upstream.Upstream` like a model server; the pages the results
point to are user-influenced and go through the guarded fetcher (``shared.providers.web_fetch``) instead.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from shared.errors import BadRequest
from shared.providers.upstream import Upstream

SEARCH_TIMEOUT = 30.0
"""Seconds one engine request may take: a chat waits on it before its answer starts."""


@dataclass(frozen=True)
class SearchResult:
    """One hit, in Open WebUI's ``SearchResult`` shape."""

    link: str
    title: str | None = None
    snippet: str | None = None


Engine = Callable[[Mapping[str, Any], str, int], list[SearchResult]]


def required(settings: Mapping[str, Any], *names: str) -> list[str]:
    """The settings an engine cannot work without; a clear 400 naming the first one missing."""
    for name in names:
        if not settings.get(name):
            raise BadRequest(f"Web search is not configured: set {name}.")
    return [str(settings[name]) for name in names]


def _request(name: str, url: str, headers: Mapping[str, str], params: Mapping[str, Any] | None
             ) -> tuple[Upstream, str]:
    """The upstream for ``url``'s origin and the path (with ``params`` added to its query) to ask it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequest(f"{name}: the search URL {url!r} is not an HTTP(S) URL.")
    query = "&".join(filter(None, (parts.query, urlencode(params or {}))))
    path = (parts.path or "/") + (f"?{query}" if query else "")
    return Upstream(name, f"{parts.scheme}://{parts.netloc}", dict(headers), timeout=SEARCH_TIMEOUT), path


def call_json(name: str, url: str, *, method: str = "GET", headers: Mapping[str, str] | None = None,
              params: Mapping[str, Any] | None = None, body: Any = None) -> Any:
    """The JSON answer of one engine request (``params`` added to ``url``'s query, ``body`` sent as JSON);
    unreachable, slow or failing engines raise :class:`~shared.errors.UpstreamError` as model servers do."""
    upstream, path = _request(name, url, {"Accept": "application/json", **(headers or {})}, params)
    return upstream.json(method, path, body) or {}


def call_text(name: str, url: str, *, headers: Mapping[str, str] | None = None,
              params: Mapping[str, Any] | None = None) -> str:
    """The text of one engine GET (an engine that answers HTML)."""
    upstream, path = _request(name, url, headers or {}, params)
    return upstream.send("GET", path).data.decode("utf-8", "replace")


def results(items: Iterable[Any], count: int, link: str, title: str, snippet: str) -> list[SearchResult]:
    """The first ``count`` items with a link, read from each engine's own field names."""
    found = [SearchResult(str(item[link]), item.get(title), item.get(snippet))
             for item in items if isinstance(item, dict) and item.get(link)]
    return found[:count]

