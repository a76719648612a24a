"""Which module serves each of Open WebUI's ``WEB_SEARCH_ENGINE`` names offered here."""
from __future__ import annotations

from shared.errors import BadRequest
from shared.providers.web_search import (Engine, bing, brave, duckduckgo, external, firecrawl, google_pse, jina,
                                         searxng, tavily)

ENGINES: dict[str, Engine] = {
    "searxng": searxng.search, "brave": brave.search, "tavily": tavily.search, "duckduckgo": duckduckgo.search,
    "google_pse": google_pse.search, "bing": bing.search, "jina": jina.search, "firecrawl": firecrawl.search,
    "external": external.search,
}


def engine(name: str) -> Engine:
    """The engine for ``name``; a 400 for one not offered here."""
    if name not in ENGINES:
        raise BadRequest(f"The web search engine {name!r} is not supported; choose one of {', '.join(ENGINES)}.")
    return ENGINES[name]
