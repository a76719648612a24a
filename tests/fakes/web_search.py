"""Fake web search engines and the web pages their hits point to, on one loopback server.

Each engine answers under its own prefix in its own wire format (as Open WebUI's clients read them):
``/searxng/search``, ``/brave/res/v1/web/search``, ``/tavily/search``, ``/ddg/html/``,
``/pse/customsearch/v1``, ``/bing/v7.0/search``, ``/jina/``, ``/firecrawl/v2/search``, ``/external/search``.
Every engine finds :data:`PAGES` (whose links point back at ``/pages/<name>`` on this server), whatever
the query; ``settings()`` gives the web search settings that point each engine here. :data:`DOWNLOADS` are
served under ``/downloads/<name>`` as files, not pages.
"""
from __future__ import annotations

import time
from html import escape
from typing import Any
from urllib.parse import quote

from tests.fakes.server import FakeUpstream, Received, Reply

PAGES = {
    "harbor": ("The harbor", "The lighthouse keeper of Port Alder is named Ingrid Vass."),
    "garden": ("The garden", "Blue poppies bloom in the walled garden in June."),
    "mill": ("The mill", "The old mill grinds rye on Thursdays."),
}
PIXEL = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                      "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
DOWNLOADS = {
    # name: (media type, Content-Disposition, body)
    "minutes": ("text/plain", 'attachment; filename="board minutes.txt"', b"The board approved the new pier."),
    "report": ("application/octet-stream", "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.md",
               b"# Summary\nTides rise twice a day."),
    "pixel": ("image/png", "", PIXEL),
    "untyped": ("application/octet-stream", "", b"<!DOCTYPE html><html><body><p>An untyped page.</p></body></html>"),
}
KEYS = {"brave": "brave-key", "tavily": "tavily-key", "pse": "pse-key", "bing": "bing-key", "jina": "jina-key",
        "firecrawl": "firecrawl-key", "external": "external-key"}


def page_html(name: str) -> bytes:
    title, text = PAGES[name]
    return (f"<html><head><title>{title}</title></head><body><nav>Menu</nav>"
            f"<main><h1>{title}</h1><p>{text}</p></main></body></html>").encode()


class FakeWebSearch(FakeUpstream):
    """``hosts`` names a page's host in the hits (``{"garden": "localhost"}``; else 127.0.0.1); ``page_delay``
    slows every page by that many seconds, and ``most_in_flight`` is the most pages served at once."""

    def __init__(self) -> None:
        super().__init__()
        self.reset()

        def hits(link: str, title: str, snippet: str) -> list[dict[str, Any]]:
            return [{link: self.page_url(name), title: page_title, snippet: text, "score": index}
                    for index, (name, (page_title, text)) in enumerate(PAGES.items())]

        @self.route("GET", "/searxng/search")
        def searxng(_request: Received, reply: Reply) -> None:
            reply.json({"query": "q", "results": hits("url", "title", "content")})

        @self.route("GET", "/brave/res/v1/web/search")
        def brave(_request: Received, reply: Reply) -> None:
            reply.json({"type": "search", "web": {"results": hits("url", "title", "description")}})

        @self.route("POST", "/tavily/search")
        def tavily(_request: Received, reply: Reply) -> None:
            reply.json({"query": "q", "results": hits("url", "title", "content")})

        @self.route("GET", "/ddg/html/")
        def duckduckgo(_request: Received, reply: Reply) -> None:
            rows = "".join(
                f'<div class="result results_links web-result"><h2 class="result__title">'
                f'<a rel="nofollow" class="result__a" href="//duckduckgo.com/l/?uddg={quote(hit["u"], safe="")}'
                f'&amp;rut=x">{escape(hit["t"])}</a></h2>'
                f'<a class="result__snippet" href="#">{escape(hit["s"])} <b>more</b></a></div>'
                for hit in hits("u", "t", "s"))
            reply.body(f"<html><body><div id='links'>{rows}</div></body></html>".encode(), "text/html")

        @self.route("GET", "/pse/customsearch/v1")
        def google_pse(request: Received, reply: Reply) -> None:
            start, num = int(request.params["start"]), int(request.params["num"])
            reply.json({"items": hits("link", "title", "snippet")[start - 1:start - 1 + num]})

        @self.route("GET", "/bing/v7.0/search")
        def bing(_request: Received, reply: Reply) -> None:
            reply.json({"webPages": {"value": hits("url", "name", "snippet")}})

        @self.route("POST", "/jina/")
        def jina(_request: Received, reply: Reply) -> None:
            reply.json({"code": 200, "data": hits("url", "title", "content")})

        @self.route("POST", "/firecrawl/v2/search")
        def firecrawl(_request: Received, reply: Reply) -> None:
            reply.json({"success": True, "data": {"web": hits("url", "title", "description")}})

        @self.route("POST", "/external/search")
        def external(_request: Received, reply: Reply) -> None:
            reply.json(hits("link", "title", "snippet"))

        @self.route("GET", "/pages/[a-z]+")
        def page(request: Received, reply: Reply) -> None:
            name = request.path.rsplit("/", 1)[1]
            if name not in PAGES:
                self.error(reply, 404, "no such page")
                return
            with self._lock:
                self._in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self._in_flight)
            time.sleep(self.page_delay)
            with self._lock:
                self._in_flight -= 1
            reply.body(page_html(name), "text/html; charset=utf-8")

        @self.route("GET", "/downloads/[a-z]+")
        def download(request: Received, reply: Reply) -> None:
            content_type, disposition, body = DOWNLOADS[request.path.rsplit("/", 1)[1]]
            if disposition:
                reply.headers["Content-Disposition"] = disposition
            reply.body(body, content_type)

    def reset(self) -> None:
        super().reset()
        self.hosts: dict[str, str] = {}
        self.page_delay = 0.0
        self.most_in_flight = self._in_flight = 0

    def page_url(self, name: str) -> str:
        """Where a hit says the page ``name`` is."""
        return f"{self.url}/pages/{name}".replace("127.0.0.1", self.hosts.get(name, "127.0.0.1"), 1)

    def settings(self) -> dict[str, str]:
        """Web search settings (Open WebUI's field names) that send every engine here."""
        return {
            "SEARXNG_QUERY_URL": f"{self.url}/searxng/search?q=<query>",
            "BRAVE_SEARCH_API_KEY": KEYS["brave"], "BRAVE_SEARCH_API_URL": f"{self.url}/brave/res/v1/web/search",
            "TAVILY_API_KEY": KEYS["tavily"], "TAVILY_API_BASE_URL": f"{self.url}/tavily",
            "DDG_HTML_URL": f"{self.url}/ddg/html/",
            "GOOGLE_PSE_API_KEY": KEYS["pse"], "GOOGLE_PSE_ENGINE_ID": "engine-1",
            "GOOGLE_PSE_API_URL": f"{self.url}/pse/customsearch/v1",
            "BING_SEARCH_V7_SUBSCRIPTION_KEY": KEYS["bing"], "BING_SEARCH_V7_ENDPOINT": f"{self.url}/bing/v7.0/search",
            "JINA_API_KEY": KEYS["jina"], "JINA_API_BASE_URL": f"{self.url}/jina/",
            "FIRECRAWL_API_KEY": KEYS["firecrawl"], "FIRECRAWL_API_BASE_URL": f"{self.url}/firecrawl",
            "EXTERNAL_WEB_SEARCH_URL": f"{self.url}/external/search",
            "EXTERNAL_WEB_SEARCH_API_KEY": KEYS["external"],
        }
