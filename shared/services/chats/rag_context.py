"""Retrieval for a chat completion: the referenced files and knowledge bases, and the user's memories.

The web side only notes what a request asks for (:func:`rag_request`); the chat-completion job calls
:func:`apply` before it calls the model, so embedding and search run inside the job.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from shared.errors import Forbidden, NotFound
from shared.models import User
from shared.services import memories, permissions, retrieval

MEMORY_K = 8
ITEM_FIELDS = ("type", "id", "collection_name", "collection_names", "name")


def items_of(raw: list) -> list[dict]:
    """The fields retrieval reads of each ``files`` item (a knowledge base's whole record stays out of the job)."""
    return [{k: item[k] for k in ITEM_FIELDS if k in item} for item in raw if isinstance(item, dict)]


def rag_request(body: dict) -> dict | None:
    """The files/knowledge bases a unified chat request references and whether it wants memories (None: neither)."""
    metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    items = items_of(body.get("files") or metadata.get("files") or [])
    features = body.get("features") if isinstance(body.get("features"), dict) else {}
    memory = bool(features.get("memory"))
    return {"files": items, "memory": memory} if items or memory else None


def _readable_items(session: Session, user: User, items: list[dict]) -> list[dict]:
    """The items the user may still read (a deleted or unshared one is skipped, as Open WebUI does)."""
    readable = []
    for item in items:
        try:
            retrieval.item_collections(session, user, item)
        except (NotFound, Forbidden):
            continue
        readable.append(item)
    return readable


def _system_message(messages_: list[dict], text: str) -> list[dict]:
    out = [dict(m) for m in messages_]
    if out and out[0].get("role") == "system" and isinstance(out[0].get("content"), str):
        out[0]["content"] = f"{out[0]['content']}\n{text}"
        return out
    return [{"role": "system", "content": text}, *out]


def memory_context(session: Session, user: User, query: str) -> str | None:
    """``User Context:`` lines: the user's ``user`` memories, then the ``context`` memories closest to the query."""
    try:
        memories.check_enabled(session, user)
    except (NotFound, Forbidden):
        return None
    rows = memories.list_memories(session, user)
    if not rows or not query.strip():
        return None
    chosen = [m for m in rows if m.type == "user"]
    by_id = {m.id: m for m in rows}
    for hit in retrieval.rank(session, [retrieval.memory_collection(user.id)], query, MEMORY_K, threshold=0.0):
        memory = by_id.get(hit.meta.get("id"))
        if memory is not None and memory not in chosen:
            chosen.append(memory)
    lines = [f"{i}. [{dt.date.fromtimestamp(m.updated_at).isoformat()}] {m.content}" for i, m in enumerate(chosen, 1)]
    return "User Context:\n" + "\n".join(lines)


def apply(session: Session, user_id: str, messages_: list[dict], rag: dict) -> tuple[list[dict], list[dict]]:
    """The messages with retrieved context (Open WebUI's RAG template) and memories, and the ``sources``."""
    user = session.get(User, user_id)
    if user is None:
        return messages_, []
    query = retrieval.last_user_text(messages_)
    sources: list[dict] = []
    items = _readable_items(session, user, rag.get("files") or [])
    if items:
        messages_, sources = retrieval.augment_messages(session, user, messages_, items)
    if rag.get("memory") and permissions.has_permission(session, user, "features.memories"):
        # the request's features are the client's word: re-checked, as Open WebUI does
        context = memory_context(session, user, query)
        if context:
            messages_ = _system_message(messages_, context)
    return messages_, sources
