"""Loading web pages into collections (``process/web``, ``process/url``) and searching the web
(``process/web/search``): a URL through the guarded fetcher, its text, chunks and embeddings, in a job; a
search asks the admin's engine, then loads and indexes the hits the same way; ``process/url`` keeps a download
that is not a page as a file of the user.

The URL is checked twice: here before the job is enqueued, so a refused scheme answers 400 at once without
resolving anything, and by the fetcher in the job, which resolves the name, refuses private and metadata
addresses (unless ``ENABLE_LOCAL_WEB_FETCH``), pins the connection to the checked address and checks every
redirect. A page loader downloads only the media types it can turn into text. A YouTube URL is read as the
video's transcript (``shared.providers.youtube``): only its video id reaches YouTube, at the admin's address.
"""
from __future__ import annotations

import hashlib
import io
import logging
import mimetypes
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from email.message import Message
from pathlib import PurePosixPath
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from sqlalchemy.orm import Session

from shared import messages
from shared.errors import BadRequest, Forbidden, NotFound, UpstreamError
from shared.jobs import catalog
from shared.models import Job, User
from shared.providers import web_fetch, youtube
from shared.providers.web_search import SearchResult
from shared.providers.web_search.engines import engine
from shared.rag import config as rag_config
from shared.rag.extract import html_text
from shared.rag.indexing import store_chunks, text_chunks
from shared.services import files, retrieval, web_domains
from shared.services.permissions import has_permission

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
PAGE_TYPES = (*HTML_TYPES, "text/plain", "text/markdown")
"""What a web page loader reads; anything else (a video, an archive) is refused before its body is read."""
UNTYPED = ("", "application/octet-stream", "binary/octet-stream")
MAX_PAGE_BYTES = 10 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024
"""What ``process/url`` downloads at most when uploads have no size limit."""
PAGE_TIMEOUT = 30.0
T = TypeVar("T")
R = TypeVar("R")


def _check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest("Use an HTTP(S) URL.")
    return url.strip()


def _url_collection(url: str) -> str:
    """A URL's own collection: its SHA-256, cut to 63 characters, as Open WebUI names it."""
    return hashlib.sha256(url.encode()).hexdigest()[:63]


def start_process_web(session: Session, user: User, url: str, collection_name: str | None) -> Job:
    """A job that loads ``url`` (a page, or a YouTube video's transcript) into ``collection_name`` (one the user
    may write) or the URL's own collection."""
    url = _check_url(url)
    if collection_name:
        retrieval.check_collections(session, user, [collection_name], "write")
    kind = "rag.process_youtube" if youtube.video_id(url) else None
    return catalog.send(session, catalog.PROCESS_WEB,
                        catalog.ProcessWeb(url, collection_name or _url_collection(url), user.id),
                        owner_id=user.id, kind=kind)


def start_process_url(session: Session, user: User, url: str, collection_name: str | None, process: bool) -> Job:
    """A job that reads ``url`` as Open WebUI's ``process/url`` (the web app's "attach a web page" and a
    knowledge base's "add from URL") does: see :func:`load_url`."""
    url = _check_url(url)
    if collection_name and process:
        retrieval.check_collections(session, user, [collection_name], "write")
    return catalog.send(session, catalog.PROCESS_URL,
                        catalog.ProcessUrl(url, collection_name or None, user.id, process), owner_id=user.id)


def _readable(body: bytes, html: bool, url: str) -> str:
    markup = body.decode("utf-8", "replace")
    text = html_text(markup) if html else markup.strip()
    if not text:
        raise BadRequest(f"Could not read content from {url}")
    return text


def page_text(url: str) -> str:
    """The readable text of the page at ``url``; a 400 when it is refused, not a page, or has no text."""
    fetched = web_fetch.fetch(url, max_bytes=MAX_PAGE_BYTES, timeout=PAGE_TIMEOUT, content_types=PAGE_TYPES)
    return _readable(fetched.body, fetched.content_type in HTML_TYPES, url)


def url_text(session: Session, url: str) -> str:
    """A YouTube video's transcript (in the first of ``YOUTUBE_LOADER_LANGUAGE`` it has), any other page's
    readable text."""
    video = youtube.video_id(url)
    if video is None:
        return page_text(url)
    settings = rag_config.web_settings(session)
    return youtube.transcript(video, rag_config.listed(settings["YOUTUBE_LOADER_LANGUAGE"]),
                              base=settings["YOUTUBE_BASE_URL"], proxy_url=settings["YOUTUBE_LOADER_PROXY_URL"],
                              timeout=PAGE_TIMEOUT)


def _store_text(session: Session, url: str, text: str, collection: str, user_id: str) -> None:
    """Replace ``collection``'s chunks with the text read at ``url``."""
    store_chunks(session, text_chunks(session, text, {"name": url, "source": url, "created_by": user_id}), [collection])


def index_page(session: Session, url: str, collection: str, user_id: str) -> dict:
    """Load ``url`` and replace its chunks in ``collection``; Open WebUI's ``process/web`` answer."""
    text = url_text(session, url)
    _store_text(session, url, text, collection, user_id)
    return {"status": True, "collection_name": collection, "filename": url, "content": text,
            "file": {"data": {"content": text}, "meta": {"name": url, "source": url}}}


def _is_page(fetched: web_fetch.Fetched) -> bool:
    """A page to read as HTML (not a download): HTML, or an untyped body that starts like HTML."""
    if fetched.disposition.split(";")[0].strip().lower() == "attachment":
        return False
    if fetched.content_type in HTML_TYPES:
        return True
    sample = fetched.body[:1024].lstrip().lower()
    return fetched.content_type in UNTYPED and (sample.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))
                                                or b"<html" in sample)


def _download_name(url: str, fetched: web_fetch.Fetched) -> str:
    """The name ``Content-Disposition`` gives (``filename*`` first), else the URL path's last part, with an
    extension from the media type when it has none."""
    header = Message()
    header["Content-Disposition"] = fetched.disposition
    name = PurePosixPath(header.get_filename() or unquote(urlsplit(url).path)).name or "download"
    if not PurePosixPath(name).suffix:
        name += mimetypes.guess_extension(fetched.content_type) or ".bin"
    return name


def _text_answer(session: Session, kind: str, url: str, text: str, collection_name: str | None, user_id: str,
                 process: bool) -> dict:
    collection = None
    if process:
        collection = collection_name or _url_collection(url)
        _store_text(session, url, text, collection, user_id)
    return {"status": True, "type": kind, "name": url, "url": url, "collection_name": collection, "content": text}


def load_url(session: Session, url: str, collection_name: str | None, user_id: str, process: bool) -> dict:
    """Open WebUI's ``process/url`` answer. A YouTube video's transcript (``type: youtube``) or a web page's
    text (``web``) comes back as ``content``, indexed into ``collection_name`` or the URL's own collection
    unless ``process`` is false. Anything else is downloaded (within the upload size limit) and kept as a file
    of the user (``file`` or ``image``, its id as ``file_id``), processed like an upload unless ``process`` is
    false or it is an image."""
    if youtube.video_id(url):
        return _text_answer(session, "youtube", url, url_text(session, url), collection_name, user_id, process)
    fetched = web_fetch.fetch(url, max_bytes=files.max_upload_bytes(session) or MAX_DOWNLOAD_BYTES,
                              timeout=PAGE_TIMEOUT)
    if _is_page(fetched):
        return _text_answer(session, "web", url, _readable(fetched.body, True, url), collection_name, user_id, process)
    name, image = _download_name(url, fetched), fetched.content_type.startswith("image/")
    file = files.store_upload(session, session.get(User, user_id), io.BytesIO(fetched.body), name,
                              fetched.content_type or None, {"source_url": url}, process and not image)
    collection = None
    if process and not image:
        files.start_processing(session, file, user_id)
        collection = files.file_collection(file.id)
    return {"status": True, "type": "image" if image else "file", "name": name, "url": url,
            "collection_name": collection, "file_id": file.id}


def _whole(settings: dict[str, Any], field: str, least: int) -> int:
    try:
        return max(least, int(settings[field] or 0))
    except (TypeError, ValueError):
        raise BadRequest(f"{field} must be a whole number.") from None


def _count(settings: dict[str, Any]) -> int:
    return _whole(settings, "WEB_SEARCH_RESULT_COUNT", 1)


def _each(function: Callable[[T], R], items: list[T], limit: int) -> list[R]:
    """``function`` over ``items`` in order, at most ``limit`` calls at a time (threads: each waits on the
    network); ``limit`` 0 runs them all at once."""
    workers = min(limit or len(items), len(items))
    if workers <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, items))


def start_search(session: Session, user: User, queries: list[str]) -> Job:
    """A job that searches the web for ``queries`` and indexes what it finds. Open WebUI's refusals first: 403
    while web search is off and for a user without ``features.web_search``; then a 400 at once for no query
    or an unknown engine."""
    settings = rag_config.web_settings(session)
    if not settings["ENABLE_WEB_SEARCH"] or not has_permission(session, user, "features.web_search"):
        raise Forbidden(messages.ACCESS_PROHIBITED)
    queries = [query.strip() for query in queries if query.strip()]
    if not queries:
        raise BadRequest("Give at least one search query.")
    engine(settings["WEB_SEARCH_ENGINE"])
    _count(settings)
    for field in ("WEB_SEARCH_CONCURRENT_REQUESTS", "WEB_LOADER_CONCURRENT_REQUESTS"):
        _whole(settings, field, 0)
    return catalog.send(session, catalog.WEB_SEARCH, catalog.WebSearch(queries, user.id), owner_id=user.id)


def search(settings: dict[str, Any], queries: list[str]) -> list[SearchResult]:
    """The hits of every query whose host passes ``WEB_SEARCH_DOMAIN_FILTER_LIST``, each link once, in the
    engine's order; ``WEB_SEARCH_CONCURRENT_REQUESTS`` queries at a time (0: all at once)."""
    run, count = engine(settings["WEB_SEARCH_ENGINE"]), _count(settings)
    passes = web_domains.host_filter(settings["WEB_SEARCH_DOMAIN_FILTER_LIST"])
    found = _each(lambda query: run(settings, query, count), queries,
                  _whole(settings, "WEB_SEARCH_CONCURRENT_REQUESTS", 0))
    hits = {hit.link: hit for results in found for hit in results if passes(hit.link)}
    if not hits:
        raise NotFound("No results found from web search")
    return list(hits.values())


def _page(hit: SearchResult) -> tuple[SearchResult, str] | None:
    try:
        return hit, page_text(hit.link)
    except (BadRequest, UpstreamError) as error:
        log.info("web search: %s not loaded: %s", hit.link, error)
        return None


def _loaded(settings: dict[str, Any], hits: list[SearchResult]) -> list[tuple[SearchResult, str]]:
    """Each hit with its page's text, ``WEB_LOADER_CONCURRENT_REQUESTS`` pages loaded at a time; a page that is
    refused, unreachable or empty is left out (a search answers with what it could load, as Open WebUI's loader
    does). With ``BYPASS_WEB_SEARCH_WEB_LOADER`` no page is loaded: each hit's snippet is its text."""
    if settings["BYPASS_WEB_SEARCH_WEB_LOADER"]:
        return [(hit, hit.snippet) for hit in hits if hit.snippet]
    pages = _each(_page, hits, _whole(settings, "WEB_LOADER_CONCURRENT_REQUESTS", 0))
    return [page for page in pages if page is not None]


def search_and_index(session: Session, queries: list[str], user_id: str) -> dict:
    """Search, load the hits and index them into the search's own collection; Open WebUI's answer."""
    settings = rag_config.web_settings(session)
    pages = _loaded(settings, search(settings, queries))
    items, urls = [asdict(hit) for hit, _text in pages], [hit.link for hit, _text in pages]
    if settings["BYPASS_WEB_SEARCH_EMBEDDING_AND_RETRIEVAL"]:
        docs = [{"content": text, "metadata": {"source": hit.link, "title": hit.title, "snippet": hit.snippet}}
                for hit, text in pages]
        return {"status": True, "collection_name": None, "filenames": urls, "items": items, "docs": docs,
                "loaded_count": len(pages)}
    if not pages:
        raise NotFound("None of the web search results could be loaded")
    collection = f"web-search-{user_id}-{hashlib.sha256('-'.join(queries).encode()).hexdigest()}"[:63]
    chunks = [chunk for hit, text in pages for chunk in text_chunks(
        session, text, {"name": hit.title or hit.link, "source": hit.link, "title": hit.title, "created_by": user_id})]
    store_chunks(session, chunks, [collection])
    return {"status": True, "collection_names": [collection], "items": items, "filenames": urls,
            "loaded_count": len(pages)}


def wanted_in_chat(session: Session, user: User, body: dict) -> bool:
    """Whether a chat request asks for a web search (``features.web_search``) that it may have: the flag is
    the client's word, so without the ``features.web_search`` permission, or while the admin has web search
    off, it is ignored and the reply goes on without one (as Open WebUI does)."""
    features = body.get("features") if isinstance(body.get("features"), dict) else {}
    return (bool(features.get("web_search")) and bool(rag_config.get(session, "ENABLE_WEB_SEARCH"))
            and has_permission(session, user, "features.web_search"))
