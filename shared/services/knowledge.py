"""Knowledge bases: who may read or write them (Open WebUI's access grants) and which files they hold."""
from __future__ import annotations

import zipfile
from typing import BinaryIO

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from shared import messages
from shared.errors import BadRequest, NotFound
from shared.jobs import catalog
from shared.models import Job
from shared.models import File, Knowledge, KnowledgeDirectory, KnowledgeFile, User
from shared.models.base import now
from shared.rag.vectors import ChunkIn, get_vector_store
from shared.services import access, permissions

PAGE_SIZE = 30
METADATA_COLLECTION = "knowledge-bases"
"""Open WebUI's collection of every base's name and description, one vector each (its ``file_id`` the base's
id), which its knowledge-search tool reads to find the bases that speak of a subject."""


def can_access(knowledge: Knowledge, user: User, permission: str = "read") -> bool:
    return access.can_access(knowledge, user, permission)


def get_knowledge(session: Session, knowledge_id: str, user: User, permission: str = "read") -> Knowledge:
    """The knowledge base; 404 when it does not exist or the user may not read it, 401 when read-only."""
    return access.require(session.get(Knowledge, knowledge_id), user, permission)


READ_ONLY = "External knowledge bases are read-only."


def is_external(knowledge: Knowledge) -> bool:
    """A base reading an admin's external vector store (``shared.services.external_knowledge``)."""
    return (knowledge.meta or {}).get("source") == "external"


def get_file_holder(session: Session, knowledge_id: str, user: User, permission: str = "write") -> Knowledge:
    """The knowledge base whose files to change or read out; an external one holds none of ours (400)."""
    knowledge = get_knowledge(session, knowledge_id, user, permission)
    if is_external(knowledge):
        raise BadRequest(READ_ONLY)
    return knowledge


def list_knowledge(session: Session, user: User, page: int = 1, query: str | None = None) -> tuple[list, int]:
    """A page of the knowledge bases the user can read, newest first, with ``write_access`` for each."""
    stmt = select(Knowledge).where(access.readable(Knowledge, user))
    if query:
        stmt = stmt.where(Knowledge.name.ilike(f"%{query}%"))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = list(session.scalars(stmt.order_by(Knowledge.updated_at.desc(), Knowledge.id)
                                 .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    counts = dict(session.execute(
        select(KnowledgeFile.knowledge_id, func.count()).where(
            KnowledgeFile.knowledge_id.in_([k.id for k in items])).group_by(KnowledgeFile.knowledge_id)
    ).all())
    owners = {u.id: u for u in session.scalars(select(User).where(User.id.in_({k.user_id for k in items})))}
    return [
        {"knowledge": k, "write_access": can_access(k, user, "write"), "file_count": counts.get(k.id, 0),
         "user": owners.get(k.user_id)}
        for k in items
    ], total


def search_files(session: Session, user: User, page: int = 1, query: str | None = None,
                 include_content: bool = False) -> tuple[list[tuple[File, User | None, Knowledge]], int]:
    """A page of the files in the knowledge bases the user can read (with who added each and its base), newest
    change first; ``query`` matches the filename, or also the extracted text with ``include_content``."""
    stmt = (select(File, User, Knowledge).join(KnowledgeFile, File.id == KnowledgeFile.file_id)
            .join(Knowledge, KnowledgeFile.knowledge_id == Knowledge.id)
            .outerjoin(User, User.id == KnowledgeFile.user_id).where(access.readable(Knowledge, user)))
    if query:
        matched = File.filename.ilike(f"%{query}%")
        if include_content:
            matched = or_(matched, File.data["content"].as_string().ilike(f"%{query}%"))
        stmt = stmt.where(matched)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.execute(stmt.order_by(File.updated_at.desc(), File.id)
                           .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return [tuple(row) for row in rows], total


def create_knowledge(session: Session, user: User, name: str, description: str,
                     access_grants: list[dict] | None) -> Knowledge:
    permissions.require(session, user, "workspace.knowledge", detail=messages.UNAUTHORIZED)
    knowledge = Knowledge(user_id=user.id, name=name, description=description, meta={},
                          access_grants=access.grants_to_store(session, user, access_grants, "knowledge"))
    session.add(knowledge)
    session.flush()
    start_metadata_index(session, knowledge)
    return knowledge


def update_knowledge(session: Session, user: User, knowledge_id: str, *, name: str | None = None,
                     description: str | None = None) -> Knowledge:
    """Rename or describe; who may use it changes only through ``/{id}/access/update`` (Open WebUI's update
    ignores ``access_grants``)."""
    knowledge = get_knowledge(session, knowledge_id, user, "write")
    if name is not None:
        knowledge.name = name
    if description is not None:
        knowledge.description = description
    knowledge.updated_at = now()
    session.flush()
    start_metadata_index(session, knowledge)
    return knowledge


def set_access(session: Session, user: User, knowledge_id: str, grants: list[dict]) -> Knowledge:
    """Replace who may use the knowledge base (``/{id}/access/update``); only its writers may."""
    return access.set_grants(session, user, get_knowledge(session, knowledge_id, user, "write"), grants, "knowledge")


def start_reindex(session: Session, user: User) -> Job:
    """Every knowledge base's files embedded again (``/knowledge/reindex``), as a job."""
    return catalog.send(session, catalog.REINDEX_KNOWLEDGE, catalog.Nothing(), owner_id=user.id)


def start_metadata_index(session: Session, knowledge: Knowledge) -> Job:
    """Embed the base's name and description into :data:`METADATA_COLLECTION` (after a create or an edit)."""
    return catalog.send(session, catalog.INDEX_KNOWLEDGE_METADATA, catalog.KnowledgeMetadata(knowledge.id),
                        owner_id=knowledge.user_id)


def start_metadata_reindex(session: Session, user: User) -> Job:
    """:data:`METADATA_COLLECTION` rebuilt from every base (admin's ``/knowledge/metadata/reindex``), as a job."""
    return catalog.send(session, catalog.REINDEX_KNOWLEDGE_METADATA, catalog.Nothing(), owner_id=user.id)


def metadata_chunk(knowledge: Knowledge) -> ChunkIn:
    """What :data:`METADATA_COLLECTION` holds for a base: its name, and its description below when it has one."""
    text = f"{knowledge.name}\n\n{knowledge.description}" if knowledge.description else knowledge.name
    return ChunkIn(text=text, file_id=knowledge.id, meta={"knowledge_base_id": knowledge.id})


def knowledge_ids(session: Session) -> list[str]:
    return list(session.scalars(select(Knowledge.id).order_by(Knowledge.created_at, Knowledge.id)))


def held_file_ids(session: Session) -> list[str]:
    """Every file some knowledge base holds, once."""
    return list(session.scalars(select(KnowledgeFile.file_id).distinct().order_by(KnowledgeFile.file_id)))


def count_knowledge(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Knowledge)) or 0


FILE_ORDER = {"name": File.filename, "created_at": File.created_at, "updated_at": File.updated_at}
ROOT = ""
"""``directory_id=`` (empty) in a files listing: the root level only."""


def files_page(session: Session, user: User, knowledge: Knowledge, *, query: str | None = None,
               include_content: bool = False, view_option: str | None = None, order_by: str | None = None,
               direction: str | None = None, directory_id: str | None = None, page: int = 1,
               limit: int = PAGE_SIZE) -> tuple[list[tuple[File, User | None, str | None]], int]:
    """A page of the knowledge base's files with who added each and its directory (Open WebUI's
    ``search_files_by_id``): ``query`` on the name (or the text with ``include_content``), ``view_option``
    ``created`` (added by the caller) or ``shared`` (by others), ``directory_id`` one directory's files
    (:data:`ROOT` the root's; ``None`` all), sorted by name or time, newest change first by default."""
    stmt = (select(File, User, KnowledgeFile.directory_id).join(KnowledgeFile, File.id == KnowledgeFile.file_id)
            .outerjoin(User, User.id == KnowledgeFile.user_id).where(KnowledgeFile.knowledge_id == knowledge.id))
    if directory_id is not None:
        stmt = stmt.where(KnowledgeFile.directory_id == directory_id if directory_id != ROOT
                          else KnowledgeFile.directory_id.is_(None))
    if query:
        matched = File.filename.ilike(f"%{query}%")
        if include_content:
            matched = or_(matched, File.data["content"].as_string().ilike(f"%{query}%"))
        stmt = stmt.where(matched)
    if view_option == "created":
        stmt = stmt.where(KnowledgeFile.user_id == user.id)
    elif view_option == "shared":
        stmt = stmt.where(KnowledgeFile.user_id != user.id)
    column = FILE_ORDER.get(order_by or "", File.updated_at)
    ordered = column.asc() if order_by in FILE_ORDER and direction == "asc" else column.desc()
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.execute(stmt.order_by(ordered, File.id).offset((page - 1) * limit).limit(limit)).all()
    return [tuple(row) for row in rows], total


def pending_files(session: Session, knowledge_id: str) -> list[File]:
    """Files uploaded for the knowledge base (``meta.data.knowledge_id``) still processing and not yet in it."""
    linked = select(KnowledgeFile.file_id).where(KnowledgeFile.knowledge_id == knowledge_id)
    return list(session.scalars(select(File).where(
        File.meta["data"]["knowledge_id"].as_string() == knowledge_id,
        File.data["status"].as_string().in_(("pending", "processing")), File.id.not_in(linked),
    ).order_by(File.created_at.desc())))


def export_zip(session: Session, knowledge: Knowledge, target: BinaryIO) -> None:
    """The extracted text of each file as ``<filename>.txt`` in a zip written to ``target`` (files without
    text are left out, as Open WebUI does)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files_of(session, knowledge.id):
            content = (file.data or {}).get("content")
            if content:
                archive.writestr(file.filename if file.filename.endswith(".txt") else f"{file.filename}.txt",
                                 content)


def export_filename(knowledge: Knowledge) -> str:
    return "".join(c if c.isalnum() or c in " -_" else "_" for c in knowledge.name) + ".zip"


def files_of(session: Session, knowledge_id: str) -> list[File]:
    return list(session.scalars(
        select(File).join(KnowledgeFile, KnowledgeFile.file_id == File.id)
        .where(KnowledgeFile.knowledge_id == knowledge_id).order_by(KnowledgeFile.created_at)
    ))


def held_file(session: Session, knowledge_id: str, file_id: str) -> File:
    """A file the knowledge base holds; any other is 404, whoever may read it."""
    file = session.scalar(select(File).join(KnowledgeFile, KnowledgeFile.file_id == File.id).where(
        KnowledgeFile.knowledge_id == knowledge_id, KnowledgeFile.file_id == file_id))
    if file is None:
        raise NotFound(messages.NOT_FOUND)
    return file


def knowledge_ids_of_file(session: Session, file_id: str) -> list[str]:
    return list(session.scalars(select(KnowledgeFile.knowledge_id).where(KnowledgeFile.file_id == file_id)))


def user_can_read_file_via_knowledge(session: Session, file_id: str, user: User) -> bool:
    """A file is readable by everyone who can read a knowledge base holding it."""
    return session.scalar(
        select(Knowledge.id).join(KnowledgeFile, KnowledgeFile.knowledge_id == Knowledge.id)
        .where(KnowledgeFile.file_id == file_id, access.readable(Knowledge, user)).limit(1)
    ) is not None


def own_directory_id(session: Session, knowledge_id: str, directory_id: object) -> str | None:
    """``directory_id`` when it is a directory of the knowledge base, else ``None`` (the root): an upload's
    metadata naming another base's directory is ignored, as Open WebUI does."""
    directory = session.get(KnowledgeDirectory, str(directory_id)) if directory_id else None
    return directory.id if directory is not None and directory.knowledge_id == knowledge_id else None


def link_file(session: Session, user: User, knowledge: Knowledge, file: File, directory_id: str | None = None) -> bool:
    """Record that the knowledge base holds the file (in ``directory_id``); False when it already did."""
    exists = session.scalar(select(KnowledgeFile.id).where(
        KnowledgeFile.knowledge_id == knowledge.id, KnowledgeFile.file_id == file.id))
    if exists:
        return False
    session.add(KnowledgeFile(knowledge_id=knowledge.id, file_id=file.id, user_id=user.id, directory_id=directory_id))
    knowledge.updated_at = now()
    session.flush()
    return True


def unlink_file(session: Session, knowledge: Knowledge, file_id: str) -> None:
    """Take the file out of the knowledge base and its chunks out of the knowledge base's collection."""
    removed = session.execute(delete(KnowledgeFile).where(
        KnowledgeFile.knowledge_id == knowledge.id, KnowledgeFile.file_id == file_id)).rowcount
    if not removed:
        raise NotFound(messages.NOT_FOUND)
    get_vector_store().delete(session, collection=knowledge.id, file_id=file_id)
    knowledge.updated_at = now()
    session.flush()


def reset_knowledge(session: Session, user: User, knowledge_id: str) -> Knowledge:
    knowledge = get_file_holder(session, knowledge_id, user)
    session.execute(delete(KnowledgeFile).where(KnowledgeFile.knowledge_id == knowledge.id))
    session.execute(delete(KnowledgeDirectory).where(KnowledgeDirectory.knowledge_id == knowledge.id))
    get_vector_store().delete(session, collection=knowledge.id)
    knowledge.updated_at = now()
    session.flush()
    return knowledge


def delete_knowledge(session: Session, user: User, knowledge_id: str) -> None:
    knowledge = get_knowledge(session, knowledge_id, user, "write")
    store = get_vector_store()
    store.delete(session, collection=knowledge.id)
    store.delete(session, collection=METADATA_COLLECTION, file_id=knowledge.id)
    session.delete(knowledge)
    session.flush()
