"""Web search in a chat (``features.web_search``), as Open WebUI's ``chat_web_search_handler`` runs it inside the
reply's job: the task model writes the search queries (its query generation, ``ENABLE_SEARCH_QUERY_GENERATION``
and ``QUERY_GENERATION_PROMPT_TEMPLATE``), the web is searched for each, the hits are loaded and indexed, and the
chunks closest to the question become one ``web_search`` source. Each step is shown as Open WebUI's status
events, which the web app draws as the reply's status lines.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from shared.errors import BadRequest, NotFound, ServiceError, UpstreamError
from shared.rag import config as rag_config
from shared.services import app_config, retrieval, web_search
from shared.services.chats import reply_tasks
from shared.services.llm import completions

log = logging.getLogger(__name__)

Status = Callable[[dict], None]


def parse_queries(text: str) -> list[str] | None:
    """The queries of the task model's answer: the last ``{...}`` in it read as ``{"queries": [...]}`` (chatter
    and code fences around it are tolerated, as Open WebUI tolerates them); None when it holds no such object or
    only blank queries (``[]`` is an answer: no search is needed)."""
    start, end = text.rfind("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        queries = json.loads(text[start:end + 1]).get("queries")
    except (ValueError, AttributeError):
        return None
    if not isinstance(queries, list):
        return None
    kept = [query.strip() for query in queries if isinstance(query, str) and query.strip()]
    return kept if kept or not queries else None


def search_queries(session: Session, owner_id: str, model: str, messages: list[dict]) -> list[str] | None:
    """What the task model (the chat's model unless the admin set one) answers to the query generation prompt
    over the conversation; None when it could not be asked or gave no usable answer."""
    prompt = reply_tasks.render(reply_tasks.template_for(session, reply_tasks.QUERIES), messages)
    try:
        answer = completions.complete(owner_id, reply_tasks.task_model(session, model), prompt)
    except (UpstreamError, ServiceError) as error:
        log.warning("web search: query generation failed: %s", error)
        return None
    queries = parse_queries(answer)
    if queries is None:
        log.info("web search: the task model gave no queries (%.200r)", answer)
    return queries


def _queries(session: Session, owner_id: str, model: str, messages: list[dict], question: str,
             status: Status) -> list[str]:
    """The queries to search: generated when the admin has search query generation on, else the question; the
    question too when generation fails, answers something unreadable, or only blanks. An empty list (the model
    judged no search useful) is kept."""
    if not app_config.get(session, reply_tasks.QUERY_SWITCHES["web_search"][0]):
        return [question]
    status({"action": "web_search", "description": "Generating search query", "done": False})
    generated = search_queries(session, owner_id, model, messages)
    return [question] if generated is None else generated


def chat_sources(session: Session, owner_id: str, model: str, messages: list[dict], status: Status) -> list[dict]:
    """Search the web for the chat's last question and answer the chunks closest to it as one ``web_search``
    source. A search that fails or finds nothing is shown as such and the reply goes on without web context."""
    question = retrieval.last_user_text(messages).strip()
    if not question:
        return []
    queries = _queries(session, owner_id, model, messages, question, status)
    if not queries:
        status({"action": "web_search", "description": "No search query generated", "done": True})
        return []
    status({"action": "web_search_queries_generated", "queries": queries, "done": False})
    for query in queries:
        status({"action": "web_search", "description": f'Searching "{query}"', "query": query, "done": False})
    try:
        found = web_search.search_and_index(session, queries, owner_id)
    except (BadRequest, NotFound, UpstreamError) as error:
        status({"action": "web_search", "description": str(getattr(error, "detail", error)), "queries": queries,
                "done": True, "error": True})
        return []
    status({"action": "web_search", "description": f"Searched {len(found['filenames'])} sites",
            "urls": found["filenames"], "items": found["items"], "done": True})
    source = {"type": "web_search", "name": ", ".join(queries), "urls": found["filenames"], "queries": queries}
    if found.get("docs") is not None:
        return [{"source": source, "document": [doc["content"] for doc in found["docs"]],
                 "metadata": [doc["metadata"] for doc in found["docs"]]}]
    hits = retrieval.rank(session, found["collection_names"], question, int(rag_config.get(session, "TOP_K")))
    return [{"source": {**source, "collection_name": found["collection_names"][0]},
             "document": [hit.text for hit in hits], "metadata": [hit.meta for hit in hits],
             "distances": [hit.score for hit in hits]}] if hits else []
