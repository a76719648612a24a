"""``/api/v1/retrieval/process/files/batch``: texts of the caller's files added to one collection in one
embedding pass, the files' own text replaced by what was sent (Open WebUI's batch processing)."""
from __future__ import annotations

import dataclasses
import hashlib

from sqlalchemy.orm import Session

from shared import messages
from shared.jobs import catalog
from shared.models import File, Job, User
from shared.rag.indexing import store_chunks, text_chunks
from shared.rag.vectors import get_vector_store
from shared.services import files, retrieval


def start(session: Session, user: User, collection_name: str, entries: list[dict]) -> Job:
    """The batch as a job; the collection must be one the caller may write (403 at once otherwise)."""
    retrieval.check_collections(session, user, [collection_name], "write")
    return catalog.send(session, catalog.INDEX_FILES_BATCH, catalog.FilesBatch(collection_name, user.id, entries),
                        owner_id=user.id)


def _failed(file_id: str, error: str) -> dict:
    return {"file_id": file_id, "status": "failed", "error": error}


def index(session: Session, collection: str, user_id: str, entries: list[dict]) -> dict:
    """Open WebUI's ``{results, errors}``. A file that is missing, not the caller's (unless an admin's call),
    or whose text is already in the collection (or earlier in the batch) is an error; the others are chunked,
    embedded together and added, and come back ``completed``."""
    user = session.get(User, user_id)
    held = {chunk.meta.get("hash"): chunk.file_id for chunk in get_vector_store().chunks(session, [collection])}
    results, errors, chunks, stored = [], [], [], []
    for entry in entries:
        file = session.get(File, entry["file_id"])
        if file is None:
            errors.append(_failed(entry["file_id"], "File not found"))
            continue
        if file.user_id != user.id and user.role != "admin":
            errors.append(_failed(file.id, "Permission denied: not file owner"))
            continue
        digest = hashlib.sha256(entry["content"].encode()).hexdigest()
        if digest in held and held[digest] != file.id:
            errors.append(_failed(file.id, messages.DUPLICATE_CONTENT))
            continue
        held[digest] = file.id
        meta = {"name": file.filename, "source": file.filename, "created_by": file.user_id, "file_id": file.id}
        chunks += [dataclasses.replace(c, file_id=file.id, meta={**c.meta, "hash": digest})
                   for c in text_chunks(session, entry["content"].replace("<br/>", "\n"), meta)]
        stored.append((file, digest, entry["content"]))
    store_chunks(session, chunks, [collection])
    for file, digest, content in stored:
        file.hash = digest
        files.update_data(session, file, content=content)
        results.append({"file_id": file.id, "status": "completed"})
    return {"results": results, "errors": errors}
