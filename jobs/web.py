"""Web jobs (``files`` queue, beside file processing): load web pages and web search hits into collections."""
from __future__ import annotations

import workers.runtime  # noqa: F401  (actors bind to the worker's broker)
from shared.db import session_scope
from shared.jobs import catalog, current
from shared.services import web_search


@catalog.PROCESS_WEB.actor
def process_web(job_id: str, url: str, collection_name: str, user_id: str) -> dict:
    """Fetch the page through the guarded fetcher, then chunk, embed and store its text."""
    current.progress(0.1, "loading the page")
    with session_scope() as session:
        return web_search.index_page(session, url, collection_name, user_id)


@catalog.PROCESS_URL.actor
def process_url(job_id: str, url: str, collection_name: str | None, user_id: str, process: bool = True) -> dict:
    """Read the URL as a page, a video's transcript or a download kept as a file (Open WebUI's ``process/url``)."""
    current.progress(0.1, "loading the URL")
    with session_scope() as session:
        return web_search.load_url(session, url, collection_name, user_id, process)


@catalog.WEB_SEARCH.actor
def web_search_job(job_id: str, queries: list[str], user_id: str) -> dict:
    """Ask the admin's search engine, load each hit through the guarded fetcher and index the pages."""
    current.progress(0.1, "searching the web")
    with session_scope() as session:
        return web_search.search_and_index(session, queries, user_id)
