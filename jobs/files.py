"""File jobs (``files`` queue): extract an upload's text, then hand it to the embedding job; download skills
from a URL."""
from __future__ import annotations

import workers.runtime  # noqa: F401  (actors bind to the worker's broker)
from shared.db import session_scope
from shared.errors import BadRequest
from shared.jobs import catalog, current
from shared.models import File, Job
from shared.models.base import new_id
from shared.rag.extract import NotIndexable
from shared.rag.indexing import extract_file
from shared.services import files as file_service
from shared.services import skills
from shared.storage import get_storage


@catalog.PROCESS_FILE.actor
def process_file(job_id: str, file_id: str, collection_name: str | None = None, use_content: bool = False) -> dict:
    """Extract the text (or take the text set through the API), store it on the file, then enqueue embedding."""
    with session_scope() as session:
        file = session.get(File, file_id)
        if file is None:
            return {"file_id": file_id, "status": "deleted"}
        current.progress(0.05, "extracting text")
        if use_content:
            text = (file.data or {}).get("content", "")
        else:
            try:
                text = extract_file(file)
            except NotIndexable as exc:
                file_service.update_data(session, file, status="failed", indexable=False, error=str(exc))
                return {"file_id": file_id, "status": "failed", "indexable": False, "error": str(exc)}
            except ValueError as exc:  # a broken document: fail at once, with the reason (no retry)
                raise BadRequest(str(exc)) from None
        # The text and the embedding job's id commit together, before that job can start.
        follow_up_id = new_id()
        file_service.update_data(session, file, content=text, status="pending", error=None, job_id=follow_up_id)
        file_service.enqueue_embedding(session, file, file.user_id, collection_name, parent_id=job_id,
                                       job_id=follow_up_id)
    # After the commit: the progress row update is a write of its own, which on SQLite would wait for the
    # database lock this session held.
    current.progress(0.5, f"extracted {len(text)} characters")
    return {"file_id": file_id, "characters": len(text), "embedding_job_id": follow_up_id}


@catalog.MARK_FILE_FAILED.actor
def mark_failed(message_data: dict, exception_data: dict) -> None:
    """``on_failure`` callback of the file jobs: once an attempt failed for good (the job row says so;
    a failure that will be retried leaves it ``queued``), the file's status shows why."""
    file_id = (message_data.get("kwargs") or {}).get("file_id")
    with session_scope() as session:
        job = session.get(Job, message_data.get("message_id"))
        if job is not None and job.status != "failed":
            return
        file = session.get(File, file_id) if file_id else None
        if file is not None and file_service.status(file) != "completed":
            reason = (job.error or {}).get("message") if job is not None else None
            file_service.update_data(session, file, status="failed",
                                     error=reason or exception_data.get("message") or exception_data.get("type"))


@catalog.RESET_UPLOADS.actor
def reset_uploads(job_id: str) -> bool:
    """Remove every file's stored bytes, with progress; a retry goes on with what is left."""
    with session_scope() as session:
        paths = file_service.stored_paths(session)
    storage = get_storage()
    for done, path in enumerate(paths, 1):
        current.raise_if_cancelled()
        storage.delete(path)
        if done % 100 == 0 or done == len(paths):
            current.progress(done / len(paths), f"removed {done}/{len(paths)} stored files")
    return True


@catalog.LOAD_SKILL_URL.actor
def load_skill_url(job_id: str, url: str) -> list[dict]:
    """The skills at ``url``, read from the download (the guarded fetch refuses private and local addresses)."""
    return skills.load_from_url(url)
