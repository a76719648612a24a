"""``POST /api/v1/retrieval/process/web`` with local fetches allowed (the fake pages live on loopback): the job
loads the page, indexes its text and a query finds it; metadata addresses and non-pages stay refused."""
from __future__ import annotations

import pytest

from tests.fakes.fixtures import fake_web_search, web_search_server  # noqa: F401
from tests.fakes.web_search import DOWNLOADS, PAGES
from tests.helpers import bearer
from tests.jobs.worker import running_worker
from tests.rag_support import embeddings, fake_ollama, wait_processed  # noqa: F401


@pytest.fixture(scope="module")
def rag_worker(database):
    """The RAG worker, allowed to fetch loopback addresses (where the fake pages are)."""
    with running_worker(threads=4, modules=(), env={"ENABLE_LOCAL_WEB_FETCH": "true"}) as process:
        yield process


def test_a_page_is_loaded_indexed_and_found(client, admin, embeddings, fake_web_search):
    url = f"{fake_web_search.url}/pages/harbor"
    loaded = client.post("/api/v1/retrieval/process/web", headers=bearer(admin["token"]), json={"url": url})
    body = loaded.get_json()
    assert loaded.status_code == 200, body
    assert body["filename"] == url and body["file"]["meta"] == {"name": url, "source": url}
    assert PAGES["harbor"][1] in body["content"] and "Menu" in body["content"]
    found = client.post("/api/v1/retrieval/query/doc", headers=bearer(admin["token"]),
                        json={"collection_name": body["collection_name"], "query": "lighthouse keeper", "k": 1})
    assert found.status_code == 200, found.get_json()
    assert PAGES["harbor"][1] in found.get_json()["documents"][0][0]
    assert found.get_json()["metadatas"][0][0]["source"] == url


@pytest.mark.parametrize("route", ["process/web", "process/url"])
@pytest.mark.parametrize(("url", "detail"), [
    ("http://169.254.169.254/latest/meta-data/", "private or local"),
    ("file:///etc/passwd", "HTTP(S) URL"),
])
def test_refused_urls_answer_400(client, admin, embeddings, route, url, detail):
    refused = client.post(f"/api/v1/retrieval/{route}", headers=bearer(admin["token"]), json={"url": url})
    assert refused.status_code == 400 and detail in refused.get_json()["detail"]


def process_url(client, token: str, url: str, query: str = "") -> dict:
    answer = client.post(f"/api/v1/retrieval/process/url{query}", headers=bearer(token), json={"url": url})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def first_hit(client, token: str, collection: str, query: str) -> str:
    hits = client.post("/api/v1/retrieval/query/doc", headers=bearer(token),
                       json={"collection_name": collection, "query": query, "k": 1})
    assert hits.status_code == 200, hits.get_json()
    return hits.get_json()["documents"][0][0]


def test_process_url_reads_pages_as_text(client, admin, embeddings, fake_web_search):
    token, page = admin["token"], f"{fake_web_search.url}/pages/harbor"
    body = process_url(client, token, page)
    assert {k: body[k] for k in ("status", "type", "name", "url")} == {"status": True, "type": "web", "name": page,
                                                                       "url": page}
    assert PAGES["harbor"][1] in body["content"] and "file" not in body
    assert PAGES["harbor"][1] in first_hit(client, token, body["collection_name"], "lighthouse keeper")

    untyped = process_url(client, token, f"{fake_web_search.url}/downloads/untyped", "?process=false")
    assert (untyped["type"], untyped["content"], untyped["collection_name"]) == ("web", "An untyped page.", None)


def test_process_url_keeps_a_download_as_a_file_of_the_caller(client, admin, make_user, embeddings, fake_web_search):
    token = admin["token"]
    url = f"{fake_web_search.url}/downloads/minutes"
    body = process_url(client, token, url)
    file = body["file"]
    assert (body["type"], body["name"], body["url"]) == ("file", "board minutes.txt", url)
    assert body["collection_name"] == f"file-{file['id']}" and file["filename"] == "board minutes.txt"
    assert file["meta"]["data"] == {"source_url": url} and file["meta"]["content_type"] == "text/plain"
    assert wait_processed(client, token, file["id"])[-1]["status"] == "completed"
    assert first_hit(client, token, body["collection_name"], "new pier") == DOWNLOADS["minutes"][2].decode()
    assert client.get(f"/api/v1/files/{file['id']}", headers=bearer(make_user()["token"])).status_code == 404

    named = process_url(client, token, f"{fake_web_search.url}/downloads/report", "?process=false")
    assert (named["type"], named["name"], named["collection_name"]) == ("file", "résumé.md", None)
    assert "status" not in (named["file"]["data"] or {})  # stored, not processed

    image = process_url(client, token, f"{fake_web_search.url}/downloads/pixel")
    assert (image["type"], image["name"], image["collection_name"]) == ("image", "pixel.png", None)
    assert image["file"]["meta"]["content_type"] == "image/png" and "status" not in (image["file"]["data"] or {})
    downloaded = client.get(f"/api/v1/files/{image['file']['id']}/content", headers=bearer(token))
    assert downloaded.status_code == 200 and downloaded.data == DOWNLOADS["pixel"][2]


def test_a_url_that_is_not_a_page_is_refused(client, admin, embeddings, fake_web_search):
    url = f"{fake_web_search.url}/jina/"
    refused = client.post("/api/v1/retrieval/process/web", headers=bearer(admin["token"]), json={"url": url})
    assert refused.status_code == 400


ENGINE_PATHS = {
    "searxng": "/searxng/search", "brave": "/brave/res/v1/web/search", "tavily": "/tavily/search",
    "duckduckgo": "/ddg/html/", "google_pse": "/pse/customsearch/v1", "bing": "/bing/v7.0/search", "jina": "/jina/",
    "firecrawl": "/firecrawl/v2/search", "external": "/external/search",
}


def _configure(client, admin, fake_web_search, **web) -> None:
    updated = client.post("/api/v1/retrieval/config/update", headers=bearer(admin["token"]), json={"web": {
        "ENABLE_WEB_SEARCH": True, "WEB_SEARCH_RESULT_COUNT": 3, **fake_web_search.settings(), **web}})
    assert updated.status_code == 200, updated.get_json()


@pytest.mark.parametrize("name", list(ENGINE_PATHS))
def test_web_search_with_each_engine_loads_and_indexes_the_hits(client, admin, embeddings, fake_web_search, name):
    _configure(client, admin, fake_web_search, WEB_SEARCH_ENGINE=name)
    found = client.post("/api/v1/retrieval/process/web/search", headers=bearer(admin["token"]),
                        json={"queries": ["lighthouse keeper"]})
    body = found.get_json()
    assert found.status_code == 200, body
    assert len(fake_web_search.received(ENGINE_PATHS[name])) == 1
    assert sorted(body["filenames"]) == sorted(f"{fake_web_search.url}/pages/{page}" for page in PAGES)
    assert body["loaded_count"] == 3 and {item["link"] for item in body["items"]} == set(body["filenames"])
    (collection,) = body["collection_names"]
    hits = client.post("/api/v1/retrieval/query/doc", headers=bearer(admin["token"]),
                       json={"collection_name": collection, "query": "lighthouse keeper", "k": 1}).get_json()
    assert PAGES["harbor"][1] in hits["documents"][0][0]


def test_web_search_settings_round_trip_and_are_required(client, admin, embeddings, fake_web_search):
    _configure(client, admin, fake_web_search, WEB_SEARCH_ENGINE="brave", BRAVE_SEARCH_API_KEY="")
    web = client.get("/api/v1/retrieval/config", headers=bearer(admin["token"])).get_json()["web"]
    assert web["ENABLE_WEB_SEARCH"] is True and web["WEB_SEARCH_ENGINE"] == "brave"
    missing = client.post("/api/v1/retrieval/process/web/search", headers=bearer(admin["token"]),
                          json={"queries": ["x"]})
    assert missing.status_code == 400 and "BRAVE_SEARCH_API_KEY" in missing.get_json()["detail"]
    _configure(client, admin, fake_web_search, WEB_SEARCH_ENGINE="altavista")
    unknown = client.post("/api/v1/retrieval/process/web/search", headers=bearer(admin["token"]),
                          json={"queries": ["x"]})
    assert unknown.status_code == 400 and "not supported" in unknown.get_json()["detail"]
    _configure(client, admin, fake_web_search, ENABLE_WEB_SEARCH=False, WEB_SEARCH_ENGINE="brave")
    off = client.post("/api/v1/retrieval/process/web/search", headers=bearer(admin["token"]), json={"queries": ["x"]})
    assert off.status_code == 403  # Open WebUI's answer while web search is off


def test_bypassing_embedding_answers_the_pages_themselves(client, admin, embeddings, fake_web_search):
    _configure(client, admin, fake_web_search, WEB_SEARCH_ENGINE="searxng",
               BYPASS_WEB_SEARCH_EMBEDDING_AND_RETRIEVAL=True)
    body = client.post("/api/v1/retrieval/process/web/search", headers=bearer(admin["token"]),
                       json={"queries": ["garden"]}).get_json()
    assert body["collection_name"] is None and body["loaded_count"] == 3
    assert any(PAGES["garden"][1] in doc["content"] for doc in body["docs"])


def _search(client, admin, queries: list[str]) -> dict:
    found = client.post("/api/v1/retrieval/process/web/search", headers=bearer(admin["token"]),
                        json={"queries": queries})
    assert found.status_code == 200, found.get_json()
    return found.get_json()


@pytest.mark.parametrize(("filters", "kept"), [
    (["localhost"], {"garden"}),
    (["!localhost"], {"harbor", "mill"}),
    (["127.0.0.1", "!localhost"], {"harbor", "mill"}),
    (["nowhere.example"], set()),
])
def test_the_domain_filter_list_keeps_only_matching_hosts(client, admin, embeddings, fake_web_search, filters, kept):
    fake_web_search.hosts = {"garden": "localhost"}
    _configure(client, admin, fake_web_search, WEB_SEARCH_ENGINE="searxng", WEB_SEARCH_DOMAIN_FILTER_LIST=filters)
    if not kept:
        none = client.post("/api/v1/retrieval/process/web/search", headers=bearer(admin["token"]),
                           json={"queries": ["anything"]})
        assert none.status_code == 404 and "No results" in none.get_json()["detail"]
        return
    body = _search(client, admin, ["anything"])
    assert set(body["filenames"]) == {fake_web_search.page_url(name) for name in kept}
    served = {r.path.rsplit("/", 1)[1] for r in fake_web_search.received("/pages/harbor")
              + fake_web_search.received("/pages/garden") + fake_web_search.received("/pages/mill")}
    assert served == kept  # a filtered-out hit is never fetched


@pytest.mark.parametrize(("limit", "most"), [(1, 1), (2, 2), (0, 3)])
def test_pages_are_loaded_at_most_web_loader_concurrent_requests_at_a_time(client, admin, embeddings,
                                                                           fake_web_search, limit, most):
    fake_web_search.page_delay = 0.3
    _configure(client, admin, fake_web_search, WEB_SEARCH_ENGINE="searxng", WEB_LOADER_CONCURRENT_REQUESTS=limit)
    assert _search(client, admin, ["anything"])["loaded_count"] == 3
    assert fake_web_search.most_in_flight == most


def test_queries_are_searched_at_most_web_search_concurrent_requests_at_a_time(client, admin, embeddings,
                                                                               fake_web_search):
    fake_web_search.behave(first_delay=0.3)  # every answer of the fake, the engine's included
    _configure(client, admin, fake_web_search, WEB_SEARCH_ENGINE="searxng", WEB_SEARCH_CONCURRENT_REQUESTS=1)
    _search(client, admin, ["one", "two", "three"])
    asked = sorted(r.at for r in fake_web_search.received("/searxng/search"))
    assert len(asked) == 3 and all(later - earlier >= 0.25 for earlier, later in zip(asked, asked[1:]))
    fake_web_search.reset()
    fake_web_search.behave(first_delay=0.3)
    _configure(client, admin, fake_web_search, WEB_SEARCH_ENGINE="searxng", WEB_SEARCH_CONCURRENT_REQUESTS=0)
    _search(client, admin, ["one", "two", "three"])
    asked = sorted(r.at for r in fake_web_search.received("/searxng/search"))
    assert asked[-1] - asked[0] < 0.25


def test_bypassing_the_loader_indexes_the_snippets(client, admin, embeddings, fake_web_search):
    _configure(client, admin, fake_web_search, WEB_SEARCH_ENGINE="searxng", BYPASS_WEB_SEARCH_WEB_LOADER=True,
               WEB_SEARCH_RESULT_COUNT=2)
    body = _search(client, admin, ["mill"])  # SearXNG's hits come best score first: the mill and the garden
    assert fake_web_search.received("/pages/mill") == [] and body["loaded_count"] == 2
    web = client.get("/api/v1/retrieval/config", headers=bearer(admin["token"])).get_json()["web"]
    assert web["BYPASS_WEB_SEARCH_WEB_LOADER"] is True and web["WEB_SEARCH_RESULT_COUNT"] == 2
    hits = client.post("/api/v1/retrieval/query/doc", headers=bearer(admin["token"]), json={
        "collection_name": body["collection_names"][0], "query": "old mill rye", "k": 1}).get_json()
    assert hits["documents"][0][0] == PAGES["mill"][1]


def test_a_bad_concurrency_setting_is_refused(client, admin, embeddings, fake_web_search):
    _configure(client, admin, fake_web_search, WEB_SEARCH_ENGINE="searxng", WEB_LOADER_CONCURRENT_REQUESTS="many")
    refused = client.post("/api/v1/retrieval/process/web/search", headers=bearer(admin["token"]),
                          json={"queries": ["x"]})
    assert refused.status_code == 400 and "WEB_LOADER_CONCURRENT_REQUESTS" in refused.get_json()["detail"]
