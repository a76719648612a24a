"""Embedding jobs (``embeddings`` queue): index files and texts, embed queries and search, memories, reindex."""
from __future__ import annotations

from sqlalchemy import select

import workers.runtime  # noqa: F401  (actors bind to the worker's broker)
from shared.db import session_scope
from shared.jobs import catalog, current
from shared.models import File
from shared.rag.indexing import file_chunks, store_chunks, text_chunks
from shared.services import files as file_service
from shared.services import knowledge as knowledge_service
from shared.services import memories as memory_service
from shared.services import retrieval

def _report(done: int, total: int) -> None:
    current.raise_if_cancelled()
    current.progress(0.1 + 0.85 * done / max(total, 1), f"embedded {done}/{total} chunks")


@catalog.INDEX_FILE.actor
def index_file(job_id: str, file_id: str, collection_name: str | None = None) -> dict:
    """Chunk the file's text, embed it in batches and replace its chunks in its collections."""
    with session_scope() as session:
        file = session.get(File, file_id)
        if file is None:
            return {"file_id": file_id, "status": "deleted"}
        chunks = file_chunks(session, file, (file.data or {}).get("content", ""))
        current.progress(0.1, f"{len(chunks)} chunks")
        collections = [file_service.file_collection(file.id), *knowledge_service.knowledge_ids_of_file(session, file.id)]
        if collection_name:
            collections.append(collection_name)
        stored = store_chunks(session, chunks, collections, file_id=file.id, on_batch=_report)
        file_service.update_data(session, file, status="completed", error=None)
    return {"file_id": file_id, "chunks": stored, "collections": list(dict.fromkeys(collections))}


@catalog.INDEX_TEXT.actor
def index_text(job_id: str, collection_name: str, name: str, content: str, user_id: str) -> dict:
    with session_scope() as session:
        chunks = text_chunks(session, content, {"name": name, "source": name, "created_by": user_id})
        store_chunks(session, chunks, [collection_name], on_batch=_report)
    return {"status": True, "collection_name": collection_name, "content": content}


@catalog.QUERY.actor
def query(job_id: str, collection_names: list[str], query: str, k: int, r: float | None = None,
          hybrid: bool | None = None) -> dict:
    """Embed the query and search the collections (Open WebUI's search result shape)."""
    with session_scope() as session:
        return retrieval.search(session, collection_names, query, k, threshold=r, hybrid=hybrid)


@catalog.INDEX_MEMORIES.actor
def index_memories(job_id: str, user_id: str) -> dict:
    """Rebuild the user's memory collection after a memory was added, changed or removed."""
    with session_scope() as session:
        return {"indexed": memory_service.index(session, user_id)}


@catalog.REINDEX.actor
def reindex(job_id: str) -> dict:
    """Re-embed every file and memory with the current engine (after the embedding model changed)."""
    with session_scope() as session:
        file_ids = list(session.scalars(select(File.id)))
    for done, file_id in enumerate(file_ids):
        current.raise_if_cancelled()
        with session_scope() as session:
            file = session.get(File, file_id)
            if file is not None and (file.data or {}).get("content"):
                collections = [file_service.file_collection(file.id),
                               *knowledge_service.knowledge_ids_of_file(session, file.id)]
                store_chunks(session, file_chunks(session, file, file.data["content"]), collections, file_id=file.id)
        current.progress((done + 1) / (len(file_ids) + 1), f"reindexed {done + 1}/{len(file_ids)} files")
    with session_scope() as session:
        memories = memory_service.reindex_all(session)
    return {"files": len(file_ids), "memories": memories}
