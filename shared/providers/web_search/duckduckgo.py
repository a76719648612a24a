"""DuckDuckGo through its HTML results page (``html.duckduckgo.com/html/``), which needs no key.

Open WebUI uses the ``ddgs`` library, which talks to DuckDuckGo's servers directly and cannot be pointed at
another address; the HTML page is read here instead so that ``DDG_HTML_URL`` can name a test double. Its
links come wrapped in DuckDuckGo's redirector (``//duckduckgo.com/l/?uddg=<url>``), unwrapped here.
"""
from __future__ import annotations

from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

from shared.providers.web_search import SearchResult, call_text, results

DEFAULT_URL = "https://html.duckduckgo.com/html/"


def _unwrapped(href: str) -> str:
    parts = urlsplit(href)
    if parts.path == "/l/" and "uddg" in parse_qs(parts.query):
        return parse_qs(parts.query)["uddg"][0]
    return href


class _Results(HTMLParser):
    """Collects ``result__a`` links (title, href) and the ``result__snippet`` after each."""

    def __init__(self) -> None:
        super().__init__()
        self.hits: list[dict[str, str]] = []
        self._field: str | None = None
        self._tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if "result__a" in classes:
            self.hits.append({"href": _unwrapped(dict(attrs).get("href") or ""), "title": "", "body": ""})
            self._field, self._tag = "title", tag
        elif "result__snippet" in classes and self.hits:
            self._field, self._tag = "body", tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._tag:
            self._field = None

    def handle_data(self, data: str) -> None:
        if self._field:
            self.hits[-1][self._field] += data


def search(settings: Mapping[str, Any], query: str, count: int) -> list[SearchResult]:
    page = call_text("DuckDuckGo", settings.get("DDG_HTML_URL") or DEFAULT_URL,
                     headers={"User-Agent": "Mozilla/5.0 (compatible; Switchyard)"}, params={"q": query})
    parser = _Results()
    parser.feed(page)
    return results(parser.hits, count, "href", "title", "body")
