"""Embedding jobs (``embeddings`` queue): index files and texts, embed queries and search, memories, reindex."""
from __future__ import annotations

import logging

from sqlalchemy import select

import workers.runtime  # noqa: F401  (actors bind to the worker's broker)
from shared.db import session_scope
from shared.jobs import catalog, current
from shared.models import File, Knowledge
from shared.rag.indexing import file_chunks, store_chunks, text_chunks
from shared.rag.vectors import get_vector_store
from shared.services import batch_indexing
from shared.services import files as file_service
from shared.services import knowledge as knowledge_service
from shared.services import memories as memory_service
from shared.services import retrieval

log = logging.getLogger(__name__)

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


@catalog.INDEX_FILES_BATCH.actor
def index_files_batch(job_id: str, collection_name: str, user_id: str, files: list[dict]) -> dict:
    """``/process/files/batch``: the files' texts chunked, embedded together and added to the collection."""
    with session_scope() as session:
        return batch_indexing.index(session, collection_name, user_id, files)


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


NO_TEXT = "The file has no extracted text to index."


def _reembed(file_id: str) -> bool:
    """Embed a file's stored text again into every collection that holds it (its own, its knowledge bases);
    False when it has no text (not processed yet, or not indexable)."""
    with session_scope() as session:
        file = session.get(File, file_id)
        content = (file.data or {}).get("content") if file is not None else None
        if not content:
            return file is None
        collections = [file_service.file_collection(file.id), *knowledge_service.knowledge_ids_of_file(session, file.id)]
        store_chunks(session, file_chunks(session, file, content), collections, file_id=file.id)
        return True


def _reindex_memories() -> dict:
    """Every user's memory collection rebuilt, one user per transaction."""
    with session_scope() as session:
        user_ids, users = memory_service.users_with_memories(session), memory_service.count_users(session)
    total = 0
    for done, user_id in enumerate(user_ids, 1):
        current.raise_if_cancelled()
        with session_scope() as session:
            total += memory_service.index(session, user_id)
        current.progress(done / (len(user_ids) + 1), f"reindexed the memories of {done}/{len(user_ids)} users")
    return {"status": True, "total_users": users, "total_memories": total}


@catalog.REINDEX.actor
def reindex(job_id: str) -> dict:
    """Re-embed every file and memory with the current engine (after the embedding model changed)."""
    with session_scope() as session:
        file_ids = list(session.scalars(select(File.id)))
    for done, file_id in enumerate(file_ids):
        current.raise_if_cancelled()
        _reembed(file_id)
        current.progress((done + 1) / (len(file_ids) + 1), f"reindexed {done + 1}/{len(file_ids)} files")
    return {"files": len(file_ids), "memories": _reindex_memories()["total_memories"]}


@catalog.REINDEX_MEMORIES.actor
def reindex_memories(job_id: str) -> dict:
    """``/memories/reindex``: Open WebUI's ``{status, total_users, total_memories}``."""
    return _reindex_memories()


@catalog.REINDEX_KNOWLEDGE.actor
def reindex_knowledge(job_id: str) -> dict:
    """``/knowledge/reindex``: every file of every knowledge base embedded again, one file per transaction. A
    file that fails is listed in ``failed`` with its reason; the others go on."""
    with session_scope() as session:
        file_ids, bases = knowledge_service.held_file_ids(session), knowledge_service.count_knowledge(session)
    failed = []
    for done, file_id in enumerate(file_ids, 1):
        current.raise_if_cancelled()
        try:
            if not _reembed(file_id):
                failed.append({"file_id": file_id, "error": NO_TEXT})
        except Exception as error:  # noqa: BLE001  (reported per file, as Open WebUI does)
            failed.append({"file_id": file_id, "error": str(error) or type(error).__name__})
        current.progress(done / (len(file_ids) + 1), f"reindexed {done}/{len(file_ids)} files")
    return {"knowledge_bases": bases, "files": len(file_ids), "failed": failed}


def _embed_metadata(knowledge_id: str) -> bool:
    """Replace the base's vector in the metadata collection; False when the base is gone."""
    with session_scope() as session:
        knowledge = session.get(Knowledge, knowledge_id)
        if knowledge is None:
            return False
        store_chunks(session, [knowledge_service.metadata_chunk(knowledge)], [knowledge_service.METADATA_COLLECTION],
                     file_id=knowledge.id)
        return True


@catalog.INDEX_KNOWLEDGE_METADATA.actor
def index_knowledge_metadata(job_id: str, knowledge_id: str) -> dict:
    """After a base was created or edited: its name and description embedded for the knowledge search."""
    return {"knowledge_id": knowledge_id, "indexed": _embed_metadata(knowledge_id)}


@catalog.REINDEX_KNOWLEDGE_METADATA.actor
def reindex_knowledge_metadata(job_id: str) -> dict:
    """``/knowledge/metadata/reindex``: the metadata collection emptied and filled from every base, each in its
    own transaction; Open WebUI's ``{total, success}``, a base that fails is counted out and logged."""
    with session_scope() as session:
        get_vector_store().delete(session, collection=knowledge_service.METADATA_COLLECTION)
        ids = knowledge_service.knowledge_ids(session)
    success = 0
    for done, knowledge_id in enumerate(ids, 1):
        current.raise_if_cancelled()
        try:
            success += _embed_metadata(knowledge_id)
        except Exception:  # noqa: BLE001  (counted per base, as Open WebUI does)
            log.exception("embedding the metadata of knowledge base %s failed", knowledge_id)
        current.progress(done / (len(ids) + 1), f"embedded {done}/{len(ids)} knowledge bases")
    return {"total": len(ids), "success": success}


@catalog.RESET_VECTORS.actor
def reset(job_id: str) -> dict:
    """Empty the vector store and remove the knowledge bases (``/api/v1/retrieval/reset/db``): one transaction
    per collection, so progress is written between them and a retry resumes where this attempt stopped."""
    store = get_vector_store()
    with session_scope() as session:
        names = store.collections(session)
    removed = 0
    for done, name in enumerate(names, 1):
        current.raise_if_cancelled()
        with session_scope() as session:
            removed += store.delete(session, collection=name)
        current.progress(done / (len(names) + 1), f"removed {done}/{len(names)} collections")
    with session_scope() as session:
        knowledge_bases = retrieval.remove_knowledge_bases(session)
    return {"removed": removed, "knowledge_bases": knowledge_bases}
