"""Each web search engine sends the request its real API expects (path, parameters, key, body) to a fake that
answers in that API's format, and reads the hits back in order, as Open WebUI's clients do."""
from __future__ import annotations

from urllib.parse import unquote_plus

import pytest

from shared.errors import BadRequest, UpstreamError
from shared.providers.web_search import SearchResult
from shared.providers.web_search.engines import ENGINES, engine
from tests.fakes.fixtures import fake_web_search, web_search_server  # noqa: F401
from tests.fakes.web_search import KEYS, PAGES

QUERY = "who keeps the lighthouse"


def _expected(base: str, count: int) -> list[SearchResult]:
    return [SearchResult(f"{base}/pages/{name}", title, text) for name, (title, text) in PAGES.items()][:count]


def _params(request) -> dict[str, str]:
    return {key: unquote_plus(value) for key, value in request.params.items()}


def test_searxng(fake_web_search):
    found = engine("searxng")(fake_web_search.settings(), QUERY, 2)
    assert found == list(reversed(_expected(fake_web_search.url, 3)))[:2]  # best score first
    (request,) = fake_web_search.received("/searxng/search")
    assert _params(request) == {"q": QUERY, "format": "json", "pageno": "1", "safesearch": "1", "language": "all",
                                "time_range": "", "categories": "", "theme": "simple", "image_proxy": "0"}


def test_brave(fake_web_search):
    assert engine("brave")(fake_web_search.settings(), QUERY, 2) == _expected(fake_web_search.url, 2)
    (request,) = fake_web_search.received("/brave/res/v1/web/search")
    assert _params(request) == {"q": QUERY, "count": "2"}
    assert request.headers["X-Subscription-Token"] == KEYS["brave"]


def test_tavily(fake_web_search):
    assert engine("tavily")(fake_web_search.settings(), QUERY, 3) == _expected(fake_web_search.url, 3)
    (request,) = fake_web_search.received("/tavily/search")
    assert request.headers["Authorization"] == f"Bearer {KEYS['tavily']}"
    assert request.body == {"query": QUERY, "max_results": 3, "search_depth": "basic"}


def test_duckduckgo_reads_the_html_page_and_unwraps_its_links(fake_web_search):
    found = engine("duckduckgo")(fake_web_search.settings(), QUERY, 3)
    assert [hit.link for hit in found] == [hit.link for hit in _expected(fake_web_search.url, 3)]
    assert found[0].title == "The harbor" and found[0].snippet == f"{PAGES['harbor'][1]} more"
    (request,) = fake_web_search.received("/ddg/html/")
    assert _params(request) == {"q": QUERY}


def test_google_pse_pages_beyond_ten_hits(fake_web_search):
    assert engine("google_pse")(fake_web_search.settings(), QUERY, 3) == _expected(fake_web_search.url, 3)
    (request,) = fake_web_search.received("/pse/customsearch/v1")
    assert _params(request) == {"cx": "engine-1", "q": QUERY, "key": KEYS["pse"], "num": "3", "start": "1"}
    fake_web_search.reset()
    engine("google_pse")(fake_web_search.settings(), QUERY, 12)
    assert [_params(r)["start"] for r in fake_web_search.received("/pse/customsearch/v1")] == ["1", "11"]


def test_bing(fake_web_search):
    assert engine("bing")(fake_web_search.settings(), QUERY, 3) == _expected(fake_web_search.url, 3)
    (request,) = fake_web_search.received("/bing/v7.0/search")
    assert _params(request) == {"q": QUERY, "mkt": "en-US", "count": "3"}
    assert request.headers["Ocp-Apim-Subscription-Key"] == KEYS["bing"]


def test_jina(fake_web_search):
    assert engine("jina")(fake_web_search.settings(), QUERY, 30) == _expected(fake_web_search.url, 3)
    (request,) = fake_web_search.received("/jina/")
    assert request.headers["Authorization"] == KEYS["jina"] and request.headers["X-Retain-Images"] == "none"
    assert request.body == {"q": QUERY, "count": 10}


def test_firecrawl(fake_web_search):
    assert engine("firecrawl")(fake_web_search.settings(), QUERY, 2) == _expected(fake_web_search.url, 2)
    (request,) = fake_web_search.received("/firecrawl/v2/search")
    assert request.headers["Authorization"] == f"Bearer {KEYS['firecrawl']}"
    assert request.body == {"query": QUERY, "limit": 2, "timeout": 6000, "ignoreInvalidURLs": True}


def test_external(fake_web_search):
    assert engine("external")(fake_web_search.settings(), QUERY, 3) == _expected(fake_web_search.url, 3)
    (request,) = fake_web_search.received("/external/search")
    assert request.headers["Authorization"] == f"Bearer {KEYS['external']}"
    assert request.body == {"query": QUERY, "count": 3}


@pytest.mark.parametrize(("name", "missing"), [
    ("searxng", "SEARXNG_QUERY_URL"), ("brave", "BRAVE_SEARCH_API_KEY"), ("tavily", "TAVILY_API_KEY"),
    ("google_pse", "GOOGLE_PSE_API_KEY"), ("bing", "BING_SEARCH_V7_SUBSCRIPTION_KEY"), ("jina", "JINA_API_KEY"),
    ("external", "EXTERNAL_WEB_SEARCH_URL"),
])
def test_an_engine_without_its_settings_names_the_missing_one(name, missing):
    with pytest.raises(BadRequest, match=f"set {missing}"):
        engine(name)({}, QUERY, 3)


def test_an_unknown_engine_is_a_clear_400():
    with pytest.raises(BadRequest, match="not supported; choose one of searxng"):
        engine("altavista")
    assert len(ENGINES) == 9


def test_a_failing_engine_is_an_upstream_error(fake_web_search):
    fake_web_search.behave(status=503, error="down")
    with pytest.raises(UpstreamError) as raised:
        engine("brave")(fake_web_search.settings(), QUERY, 3)
    assert raised.value.status == 502 and raised.value.transient
