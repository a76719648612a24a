"""Retrieval: who may search which collection, the search itself, and RAG context for chat completions."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import messages
from shared.errors import Forbidden, NotFound
from shared.jobs import catalog
from shared.models import File, Job, Knowledge, User
from shared.rag import config as rag_config
from shared.rag import keyword_index
from shared.rag.embedding import get_embedder
from shared.rag.vectors import Hit, get_vector_store
from shared.services import external_knowledge
from shared.services import files as file_service
from shared.services import knowledge as knowledge_service

SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
MEMORY_PREFIX = "user-memory-"


def memory_collection(user_id: str) -> str:
    return f"{MEMORY_PREFIX}{user_id}"


def _can_use(session: Session, user: User, name: str, permission: str) -> bool:
    if not SAFE_NAME.match(name):
        return False
    if name == knowledge_service.METADATA_COLLECTION:  # written by its jobs only
        return permission == "read" and user.role == "admin"
    if user.role == "admin":
        return True
    if name.startswith("file-"):
        file = session.get(File, name[len("file-"):])
        return file is not None and (file.user_id == user.id if permission == "write"
                                     else file_service.can_access(session, file, user))
    if name.startswith(MEMORY_PREFIX):
        return name == memory_collection(user.id)
    knowledge = session.get(Knowledge, name)
    return knowledge is not None and knowledge_service.can_access(knowledge, user, permission)


def check_collections(session: Session, user: User, names: Iterable[str], permission: str = "read") -> None:
    """403 unless the user may use every named collection (files, own memories, readable knowledge bases)."""
    if not all(_can_use(session, user, name, permission) for name in names):
        raise Forbidden(messages.ACCESS_PROHIBITED)


def text_collection(session: Session, user: User, content: str, requested: str | None) -> str:
    """Where ``process/text`` indexes: the requested collection if the user may write it, else the
    text's own (named by its SHA-256, as Open WebUI does)."""
    if requested is None:
        return hashlib.sha256(content.encode()).hexdigest()
    check_collections(session, user, [requested], "write")
    return requested


def start_query(session: Session, user: User, collection_names: list[str], query: str, k: int | None = None,
                r: float | None = None, hybrid: bool | None = None) -> Job:
    """A job that searches collections the user may read (``k`` defaults to the admin's ``TOP_K``)."""
    check_collections(session, user, collection_names)
    k = k or int(rag_config.get(session, "TOP_K"))
    return enqueue_query(session, user, collection_names, query, k, r, hybrid)


def enqueue_query(session: Session, user: User, collection_names: list[str], query: str, k: int,
                  r: float | None = None, hybrid: bool | None = None, kind: str | None = None) -> Job:
    """Enqueue the job that embeds ``query`` and searches the collections (the caller checked them)."""
    return catalog.send(session, catalog.QUERY, catalog.Query(collection_names, query, k, r, hybrid),
                        owner_id=user.id, kind=kind)


def start_index_text(session: Session, user: User, name: str, content: str, requested: str | None) -> Job:
    """A job that indexes a text into ``text_collection``."""
    collection = text_collection(session, user, content, requested)
    return catalog.send(session, catalog.INDEX_TEXT, catalog.IndexText(collection, name, content, user.id),
                        owner_id=user.id)


def process_file(session: Session, user: User, file_id: str, collection_name: str | None,
                 content: str | None) -> Job:
    """(Re)index one of the user's files, with new text when ``content`` is given, and into
    ``collection_name`` too when named (a collection the user may write)."""
    if collection_name:
        check_collections(session, user, [collection_name], "write")
    if content is not None:
        file = file_service.set_content(session, user, file_id, content)
    else:
        file = file_service.get_own_file(session, file_id, user)
    return file_service.start_processing(session, file, user.id, collection_name, use_content=content is not None)


def processed_file(session: Session, file_id: str, collection_name: str | None) -> dict:
    """Open WebUI's answer once a file is processed: where it went and the text it holds."""
    session.expire_all()
    file = session.get(File, file_id)
    return {"status": True, "collection_name": collection_name or file_service.file_collection(file_id),
            "filename": file.filename, "content": (file.data or {}).get("content", "")}


def delete_entries(session: Session, collection_name: str, file_id: str) -> bool:
    """Remove a file's vectors from a collection; whether there were any."""
    if session.get(File, file_id) is None:
        raise NotFound(messages.NOT_FOUND)
    return get_vector_store().delete(session, collection=collection_name, file_id=file_id) > 0


def update_embedding_config(session: Session, user: User, body: dict) -> dict:
    """Switch the embedding engine or model; stored vectors no longer match, so a job re-embeds
    everything (its id in ``reindex_job_id``)."""
    config, changed = rag_config.update_embedding_config(session, body)
    if changed:
        config["reindex_job_id"] = catalog.send(session, catalog.REINDEX, catalog.Nothing(), owner_id=user.id).id
    return config


def start_reset(session: Session, user: User) -> Job:
    """``/reset/db``: a job that empties the vector store and removes every knowledge base, as Open WebUI does."""
    return catalog.send(session, catalog.RESET_VECTORS, catalog.Nothing(), owner_id=user.id)


def remove_knowledge_bases(session: Session) -> int:
    """The end of a reset: every knowledge base goes (their vectors went collection by collection before)."""
    bases = list(session.scalars(select(Knowledge)))
    for knowledge in bases:
        session.delete(knowledge)
    session.flush()
    return len(bases)


def _fuse(rankings: list[tuple[float, list[Hit]]], rrf_k: int = 60) -> list[Hit]:
    """Weighted reciprocal rank fusion (what Open WebUI's ensemble retriever does): rank, not raw score, counts."""
    fused: dict[str, float] = {}
    by_id: dict[str, Hit] = {}
    for weight, hits in rankings:
        for position, hit in enumerate(hits):
            fused[hit.id] = fused.get(hit.id, 0.0) + weight / (rrf_k + position + 1)
            by_id.setdefault(hit.id, hit)
    return [by_id[i] for i in sorted(fused, key=fused.get, reverse=True)]


def _hybrid(session: Session, collection_names: list[str], query: str, vector, k: int) -> list[Hit]:
    """BM25 and vector search fused, then scored by the reranker (or by cosine similarity without one)."""
    import numpy as np

    from shared.rag.reranking import get_reranker
    from shared.rag.vectors import normalise

    store = get_vector_store()
    weight = float(rag_config.get(session, "HYBRID_BM25_WEIGHT") or 0.5)
    by_vector = store.search(session, collection_names, vector, k)
    by_words = keyword_index.indexes().top(session, collection_names, query, k, store.chunks)
    candidates = _fuse([(weight, by_words), (1.0 - weight, by_vector)])
    reranker = get_reranker(session)
    if reranker is not None:
        scores = reranker(query, [h.text for h in candidates]) if candidates else []
    else:
        known = {h.id: h.score for h in by_vector}
        missing = [h for h in candidates if h.id not in known]
        if missing:
            embedded = normalise(get_embedder(session).embed([h.text for h in missing]))
            query_vector = normalise(np.asarray(vector)).reshape(-1)
            known.update((h.id, (1.0 + float(v @ query_vector)) / 2.0) for h, v in zip(missing, embedded))
        scores = [known[h.id] for h in candidates]
    rescored = [Hit(**{**h.__dict__, "score": float(s)}) for h, s in zip(candidates, scores)]
    return sorted(rescored, key=lambda h: h.score, reverse=True)[:int(rag_config.get(session, "TOP_K_RERANKER") or k)]


def rank(session: Session, collection_names: list[str], query: str, k: int, *,
         threshold: float | None = None, hybrid: bool | None = None) -> list[Hit]:
    """The chunks for the query above the relevance threshold: the top ``k`` by vector similarity, or with
    hybrid search the ``TOP_K_RERANKER`` best of BM25 and vector search fused and reranked; then the top ``k``
    of each external knowledge base named, from its store, as Open WebUI passes them on (no threshold: their
    scores are the store's own)."""
    if hybrid is None:
        hybrid = bool(rag_config.get(session, "ENABLE_RAG_HYBRID_SEARCH"))
    if threshold is None:
        threshold = float(rag_config.get(session, "RELEVANCE_THRESHOLD") or 0.0)
    vector = get_embedder(session).embed([query])[0]
    external = external_knowledge.external_bases(session, collection_names)
    local = [name for name in collection_names if name not in external]
    if not local:
        hits = []
    elif hybrid:
        hits = _hybrid(session, local, query, vector, k)
    else:
        hits = get_vector_store().search(session, local, vector, k)
    return [h for h in hits if h.score >= threshold] + [
        hit for base in external.values() for hit in external_knowledge.retrieve(session, base, query, vector, k)]


def as_search_result(hits: list[Hit]) -> dict:
    """Open WebUI's ``SearchResult``: parallel lists, one inner list per query."""
    return {
        "ids": [[h.meta.get("id") or h.id for h in hits]],
        "documents": [[h.text for h in hits]],
        "metadatas": [[h.meta for h in hits]],
        "distances": [[round(h.score, 6) for h in hits]],
    }


def search(session: Session, collection_names: list[str], query: str, k: int, *,
           threshold: float | None = None, hybrid: bool | None = None) -> dict:
    return as_search_result(rank(session, collection_names, query, k, threshold=threshold, hybrid=hybrid))


# -- RAG for chat completions ---------------------------------------------------------------------

def item_collections(session: Session, user: User, item: dict) -> tuple[list[str], dict]:
    """The collections a chat's ``files`` item stands for, and how Open WebUI names it as a source."""
    kind, item_id = item.get("type"), item.get("id")
    if kind == "collection" and item_id:
        knowledge = knowledge_service.get_knowledge(session, item_id, user)
        return [knowledge.id], {"id": knowledge.id, "name": knowledge.name, "type": "collection"}
    if kind == "file" and item_id:
        file = file_service.get_file(session, item_id, user)
        return [file_service.file_collection(file.id)], {"id": file.id, "name": file.filename, "type": "file"}
    # legacy items ("doc", or none): named collections, each checked like a retrieval query
    names = item.get("collection_names") or ([item["collection_name"]] if item.get("collection_name") else [])
    if not names:
        raise NotFound(messages.NOT_FOUND)
    check_collections(session, user, names)
    return list(names), {"id": item_id or ",".join(names), "name": item.get("name"), "type": kind or "collection"}


def sources_for(session: Session, user: User, items: list[dict], query: str, k: int | None = None) -> list[dict]:
    """Open WebUI's ``sources``: for each referenced file or knowledge base, the chunks that match the query."""
    if not items or not query.strip():
        return []
    k = k or int(rag_config.get(session, "TOP_K"))
    sources = []
    for item in items:
        collections, source = item_collections(session, user, item)
        hits = rank(session, collections, query, k)
        if hits:
            sources.append({"source": source, "document": [h.text for h in hits],
                            "metadata": [h.meta for h in hits], "distances": [h.score for h in hits]})
    return sources


def source_context(sources: list[dict]) -> str:
    """``<source id="1" name="...">text</source>`` lines, one id per distinct source document."""
    ids: dict[str, int] = {}
    lines = []
    for source in sources:
        for text, meta in zip(source["document"], source["metadata"]):
            key = (meta or {}).get("source") or source["source"].get("id") or "N/A"
            ids.setdefault(key, len(ids) + 1)
            name = source["source"].get("name")
            lines.append(f'<source id="{ids[key]}"' + (f' name="{name}"' if name else "") + f">{text}</source>")
    return "\n".join(lines)


def rag_prompt(template: str, context: str, query: str) -> str:
    """Open WebUI's template filling: ``{{CONTEXT}}``/``[context]`` and ``{{QUERY}}``/``[query]``."""
    template = template if template.strip() else rag_config.DEFAULT_RAG_TEMPLATE
    filled = template.replace("[context]", "\0CONTEXT\0").replace("{{CONTEXT}}", "\0CONTEXT\0")
    filled = filled.replace("[query]", query).replace("{{QUERY}}", query)
    return filled.replace("\0CONTEXT\0", context)


def last_user_text(messages_: list[dict]) -> str:
    for message in reversed(messages_):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return " ".join(part.get("text", "") for part in content if part.get("type") == "text")
            return content or ""
    return ""


def augment_messages(session: Session, user: User, messages_: list[dict], items: list[dict]) -> tuple[list[dict], list[dict]]:
    """Retrieve for the last user message and put the filled RAG template in front of it.

    Returns the new message list and the ``sources`` to report to the client (empty when nothing matched).
    """
    sources = sources_for(session, user, items, last_user_text(messages_))
    return with_sources(session, messages_, sources), sources


def with_sources(session: Session, messages_: list[dict], sources: list[dict]) -> list[dict]:
    """The messages with the RAG template, filled with ``sources``, in front of the last user message."""
    if not sources:
        return messages_
    query = last_user_text(messages_)
    prompt = rag_prompt(rag_config.get(session, "RAG_TEMPLATE"), source_context(sources), query)
    out = [dict(m) for m in messages_]
    for message in reversed(out):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                message["content"] = [{"type": "text", "text": prompt}, *content]
            else:
                message["content"] = f"{prompt}\n{content or ''}"
            break
    return out
