"""Uploaded files: storing, listing, access (owner, admin, or a readable knowledge base) and processing state."""
from __future__ import annotations

import mimetypes
import time
from collections.abc import Iterator
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared import messages
from shared.db import lock_row_on_sqlite, session_scope
from shared.errors import BadRequest, NotFound, ServiceError
from shared.jobs import catalog
from shared.models import File, Knowledge, KnowledgeFile, User
from shared.models.base import new_id, now
from shared.models.job import Job
from shared.rag import config as rag_config
from shared.rag.vectors import get_vector_store
from shared.services import app_events
from shared.services import knowledge as knowledge_service
from shared.storage import TooLarge, get_storage, safe_filename, storage_key

PAGE_SIZE = 50
TERMINAL = ("completed", "failed")
STATUS_POLL_SECONDS = 0.25
INLINE_TYPES = ("text/plain", "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp")
"""Served inline; everything else (HTML, SVG, scripts ...) is an attachment."""


class FileTooLarge(ServiceError):
    status = 413


def file_collection(file_id: str) -> str:
    return f"file-{file_id}"


def max_upload_bytes(session: Session) -> int | None:
    """``FILE_MAX_SIZE`` (MB) as bytes; None when unlimited."""
    size = rag_config.get(session, "FILE_MAX_SIZE")
    return int(float(size) * 1024 * 1024) if size not in (None, "") else None


def too_large_message(session: Session) -> str:
    return f"Oops! The file you're trying to upload is too large. Please upload a file that is less than " \
           f"{rag_config.get(session, 'FILE_MAX_SIZE')} MB."


def store_upload(session: Session, user: User, stream: BinaryIO, filename: str, content_type: str | None,
                 metadata: dict | None, process: bool) -> File:
    """Stream the upload into storage (size-limited) and record it; processing is the caller's next step."""
    name = safe_filename(filename)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = [e.lower().lstrip(".") for e in rag_config.get(session, "ALLOWED_FILE_EXTENSIONS") or [] if e]
    if process and allowed and ext not in allowed:
        raise BadRequest(f"File type {ext} is not allowed")
    try:
        file = store_bytes(session, user.id, stream, name, content_type, metadata,
                           data={"status": "pending"} if process else {}, max_bytes=max_upload_bytes(session))
    except TooLarge:
        raise FileTooLarge(too_large_message(session)) from None
    app_events.emit(session, "file.uploaded", actor=user, subject_id=file.id,
                    data={"filename": file.filename, "content_type": (file.meta or {}).get("content_type")})
    return file


def store_bytes(session: Session, user_id: str, stream: BinaryIO, filename: str, content_type: str | None,
                metadata: dict | None, *, data: dict | None = None, max_bytes: int | None = None) -> File:
    """Save ``stream`` into storage and record it as a file of the user (an upload, a generated image)."""
    name = safe_filename(filename)
    file_id = new_id()
    stored = get_storage().save(stream, storage_key(file_id, name), max_bytes)
    if content_type in (None, "", "application/octet-stream"):
        content_type = mimetypes.guess_type(name)[0] or content_type
    file = File(
        id=file_id, user_id=user_id, hash=stored.sha256, filename=name, path=stored.key, data=data or {},
        meta={"name": name, "content_type": content_type, "size": stored.size, "file_hash": stored.sha256,
              "data": metadata or {}},
    )
    session.add(file)
    session.flush()
    return file


def upload(session: Session, user: User, stream: BinaryIO, filename: str, content_type: str | None, metadata: dict,
           *, process: bool) -> File:
    """Store an upload (committed) and, unless ``process`` is false, start processing it, into the knowledge
    base its metadata names (which the user must be able to write: checked before anything is stored)."""
    knowledge = None
    if process and metadata.get("knowledge_id"):
        knowledge = knowledge_service.get_knowledge(session, str(metadata["knowledge_id"]), user, "write")
    file = store_upload(session, user, stream, filename, content_type, metadata, process)
    session.commit()
    if process:
        if knowledge is not None:
            add_to_knowledge(session, user, knowledge, file,
                             knowledge_service.own_directory_id(session, knowledge.id, metadata.get("directory_id")))
        start_processing(session, file, user.id)
    return file


def can_access(session: Session, file: File, user: User) -> bool:
    return file.user_id == user.id or user.role == "admin" or \
        knowledge_service.user_can_read_file_via_knowledge(session, file.id, user)


def get_file(session: Session, file_id: str, user: User) -> File:
    """The file if the user may see it; someone else's file is 404."""
    file = session.get(File, file_id)
    if file is None or not can_access(session, file, user):
        raise NotFound(messages.NOT_FOUND)
    return file


def get_own_file(session: Session, file_id: str, user: User) -> File:
    """The file if the user owns it (or is an admin): what changing or deleting it requires."""
    file = session.get(File, file_id)
    if file is None or (file.user_id != user.id and user.role != "admin"):
        raise NotFound(messages.NOT_FOUND)
    return file


def _visible(stmt, user: User, own_only: bool = False):
    """Only the user's own files, unless an admin asks for everyone's."""
    return stmt if user.role == "admin" and not own_only else stmt.where(File.user_id == user.id)


def list_files(session: Session, user: User, page: int = 1) -> tuple[list[File], int]:
    """The user's own files, newest first (an admin sees everyone's)."""
    items = list(session.scalars(_visible(select(File), user).order_by(File.created_at.desc(), File.id)
                                 .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    return items, count_files(session, user)


def count_files(session: Session, user: User, own_only: bool = False) -> int:
    return session.scalar(_visible(select(func.count()).select_from(File), user, own_only)) or 0


def _like(glob: str) -> str:
    """A glob (``*.txt``, ``file?.doc``) as a LIKE pattern escaped with a backslash, as Open WebUI converts it."""
    escaped = glob.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def search_files(session: Session, user: User, glob: str, *, own_only: bool, skip: int, limit: int) -> list[File]:
    """Files whose name matches ``glob`` (case-insensitive), newest first."""
    stmt = _visible(select(File), user, own_only)
    if (pattern := _like(glob)) != "%":
        stmt = stmt.where(File.filename.ilike(pattern, escape="\\"))
    return list(session.scalars(stmt.order_by(File.created_at.desc(), File.id.desc()).offset(skip).limit(limit)))


def rename(session: Session, user: User, file_id: str, filename: str) -> File:
    """The file's name and ``meta.name`` (the stored bytes keep their key); its owner or an admin may."""
    file = get_own_file(session, file_id, user)
    file.filename = filename
    file.meta = {**(file.meta or {}), "name": filename}
    file.updated_at = now()
    app_events.emit(session, "file.renamed", actor=user, subject_id=file.id, data={"filename": filename})
    session.flush()
    return file


def admin_html_page(session: Session, file_id: str, user: User) -> File:
    """A file the user may read that an admin uploaded: the only kind served as an HTML page (Open WebUI's
    ``content/html``); any other file is 404."""
    file = get_file(session, file_id, user)
    owner = session.get(User, file.user_id)
    if owner is None or owner.role != "admin":
        raise NotFound(messages.NOT_FOUND)
    return file


def update_data(session: Session, file: File, **changes) -> None:
    """Merge ``changes`` into the file's ``data`` as it is in the database now, its row locked until the
    caller commits: the web and the file jobs write it concurrently, and neither may undo the other."""
    lock_row_on_sqlite(session, File, file.id)
    session.refresh(file, ["data"], with_for_update=True)
    file.data = {**(file.data or {}), **changes}
    file.updated_at = now()
    session.flush()


def status(file: File) -> str:
    return (file.data or {}).get("status", "pending")


def _status_event(file: File | None) -> dict:
    if file is None:
        return {"status": "not_found"}
    event = {"status": status(file)}
    if event["status"] == "failed":
        event["error"] = (file.data or {}).get("error")
    return event


def follow_status(file_id: str, timeout: float) -> Iterator[dict]:
    """The file's processing status (``{status[, error]}``) each time it changes, ending when it is final or
    after ``timeout`` seconds; polled with a short session each time, so no transaction stays open."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        with session_scope() as session:
            event = _status_event(session.get(File, file_id))
        if event != last:
            yield event
            last = event
        if event["status"] in (*TERMINAL, "not_found") or time.monotonic() >= deadline:
            return
        time.sleep(STATUS_POLL_SECONDS)


def set_content(session: Session, user: User, file_id: str, content: str) -> File:
    """Replace a file's extracted text (it is then re-indexed)."""
    file = get_own_file(session, file_id, user)
    if not content.strip():
        raise BadRequest("The content provided is empty. Please ensure that there is text or data present before proceeding.")
    limit = max_upload_bytes(session)
    if limit is not None and len(content.encode()) > limit:
        raise FileTooLarge(too_large_message(session))
    update_data(session, file, content=content, status="pending", error=None)
    return file


def delete_file(session: Session, user: User, file_id: str) -> None:
    """The row, its knowledge-base links, its chunks everywhere, and the stored bytes."""
    file = get_own_file(session, file_id, user)
    get_vector_store().delete(session, file_id=file.id)
    session.execute(KnowledgeFile.__table__.delete().where(KnowledgeFile.file_id == file.id))
    session.delete(file)
    session.flush()
    if file.path:
        get_storage().delete(file.path)


def delete_all_files(session: Session) -> None:
    for file in session.scalars(select(File)):
        get_vector_store().delete(session, file_id=file.id)
        session.delete(file)
    session.flush()
    get_storage().delete_all()


def start_reset_uploads(session: Session, user: User) -> Job:
    """Every file's stored bytes removed (Open WebUI's ``/retrieval/reset/uploads``), as a job. The rows, their
    text and their vectors stay; downloading one then answers 404. The speech cache and uploads a job is
    still working on (recordings, pipeline files) are not files and are left alone."""
    app_events.emit(session, "retrieval.uploads.reset", actor=user, subject_id="all", subject_type="file.uploads")
    return catalog.send(session, catalog.RESET_UPLOADS, catalog.Nothing(), owner_id=user.id)


def stored_paths(session: Session) -> list[str]:
    return list(session.scalars(select(File.path).where(File.path.is_not(None)).order_by(File.path)))


def response_headers(file: File, attachment: bool) -> tuple[str, dict[str, str]]:
    """Content type and headers for serving the original: never HTML, inline only for safe types."""
    from urllib.parse import quote

    meta = file.meta or {}
    name = meta.get("name") or file.filename
    content_type = (meta.get("content_type") or mimetypes.guess_type(name)[0] or "application/octet-stream")
    content_type = content_type.split(";")[0].strip().lower()
    inline = not attachment and content_type in INLINE_TYPES
    if content_type not in INLINE_TYPES and (content_type.startswith("text/") or "html" in content_type
                                             or "xml" in content_type or "javascript" in content_type):
        content_type = "application/octet-stream"
    disposition = f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{quote(name)}"
    return content_type, {"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff",
                          "Content-Security-Policy": "default-src 'none'; sandbox"}


def enqueue_embedding(session: Session, file: File, owner_id: str, collection_name: str | None = None,
                      parent_id: str | None = None, job_id: str | None = None) -> Job:
    """Enqueue the embedding step for a file whose text is extracted (``embeddings`` queue)."""
    return catalog.send(session, catalog.INDEX_FILE, catalog.IndexFile(file.id, collection_name), owner_id=owner_id,
                        related_type="file", related_id=file.id, parent_id=parent_id, job_id=job_id)


def start_processing(session: Session, file: File, owner_id: str, collection_name: str | None = None,
                     use_content: bool = False) -> Job:
    """Mark the file pending with its processing job (extract, then embed) and enqueue that job; both
    commit before the message leaves, so the job never sees the file without them. Returns the job."""
    job_id = new_id()
    update_data(session, file, status="pending", error=None, job_id=job_id)
    return catalog.send(session, catalog.PROCESS_FILE, catalog.ProcessFile(file.id, collection_name, use_content),
                        owner_id=owner_id, related_type="file", related_id=file.id, job_id=job_id)


def reprocess_in_knowledge(session: Session, user: User, knowledge: Knowledge, file_id: str) -> Job:
    """Extract and embed a file of the knowledge base again, into its collection (and the file's other
    collections, which hold the same text). Only a file the knowledge base holds: this never pulls another
    file, even one the caller may read, into a collection."""
    file = knowledge_service.held_file(session, knowledge.id, file_id)
    return start_processing(session, file, user.id, collection_name=knowledge.id)


def add_to_knowledge(session: Session, user: User, knowledge: Knowledge, file: File,
                     directory_id: str | None = None) -> None:
    """Put a file in a knowledge base (in ``directory_id``): its chunks are copied in when it is processed;
    otherwise the embedding step (running or enqueued here) indexes it there too."""
    if not knowledge_service.link_file(session, user, knowledge, file, directory_id):
        return
    if status(file) == "completed":
        get_vector_store().copy(session, file_collection(file.id), knowledge.id, file_id=file.id)
    elif (file.data or {}).get("content"):
        enqueue_embedding(session, file, user.id, knowledge.id)


def add_many_to_knowledge(session: Session, user: User, knowledge: Knowledge, entries: list[dict]) -> list[str]:
    """``/files/batch/add``: ``[{file_id, directory_id}]`` into the knowledge base. A file the caller cannot
    read is 400 ``File <id> not found`` and nothing is added; a file already there is left alone; one whose
    processing failed is not added and comes back as ``<id>: <reason>``."""
    found = {f.id: f for f in session.scalars(select(File).where(File.id.in_([e["file_id"] for e in entries])))}
    for entry in entries:
        file = found.get(entry["file_id"])
        if file is None or not can_access(session, file, user):
            raise BadRequest(f"File {entry['file_id']} not found")
        if entry.get("directory_id") and knowledge_service.own_directory_id(
                session, knowledge.id, entry["directory_id"]) is None:
            raise NotFound("Target directory not found.")
    errors = []
    for entry in entries:
        file = found[entry["file_id"]]
        if status(file) == "failed":
            errors.append(f"{file.id}: {(file.data or {}).get('error') or 'Processing failed.'}")
        else:
            add_to_knowledge(session, user, knowledge, file, entry.get("directory_id") or None)
    return errors

