"""Knowledge bases: who may read or write them (Open WebUI's access grants) and which files they hold."""
from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shared import messages
from shared.errors import NotFound, Unauthorized
from shared.models import File, Knowledge, KnowledgeFile, User
from shared.models.base import new_id, now
from shared.rag.vectors import get_vector_store
from shared.services import permissions

PAGE_SIZE = 30
PUBLIC = ("user", "*")


def _grants_allow(grants: list[dict], user: User, permission: str) -> bool:
    for grant in grants or []:
        if grant.get("permission") != permission:
            continue
        principal = (grant.get("principal_type"), grant.get("principal_id"))
        if principal in (PUBLIC, ("anyone", "*"), ("user", user.id)):
            return True
    return False


def can_access(knowledge: Knowledge, user: User, permission: str = "read") -> bool:
    """Owner and admins always; others through a grant (write implies read)."""
    if user.role == "admin" or knowledge.user_id == user.id:
        return True
    if permission == "read" and _grants_allow(knowledge.access_grants, user, "write"):
        return True
    return _grants_allow(knowledge.access_grants, user, permission)


def get_knowledge(session: Session, knowledge_id: str, user: User, permission: str = "read") -> Knowledge:
    """The knowledge base; 404 when it does not exist or the user may not read it, 401 when read-only."""
    knowledge = session.get(Knowledge, knowledge_id)
    if knowledge is None or not can_access(knowledge, user, "read"):
        raise NotFound(messages.NOT_FOUND)
    if permission == "write" and not can_access(knowledge, user, "write"):
        raise Unauthorized(messages.ACCESS_PROHIBITED)
    return knowledge


def _sharing_allowed(session: Session, user: User, grants: list[dict] | None) -> list[dict]:
    """The grants this user may hand out (Open WebUI's ``sharing.knowledge`` / ``public_knowledge``)."""
    cleaned = [
        {"id": g.get("id") or new_id(), "principal_type": g.get("principal_type", "user"),
         "principal_id": str(g.get("principal_id", "")), "permission": g.get("permission", "read")}
        for g in grants or []
        if g.get("permission", "read") in ("read", "write") and g.get("principal_id")
    ]
    if user.role == "admin" or not cleaned:
        return cleaned
    allowed = permissions.permissions_for(session, user).get("sharing", {})
    if not allowed.get("knowledge"):
        return []
    if not allowed.get("public_knowledge"):
        cleaned = [g for g in cleaned if (g["principal_type"], g["principal_id"]) not in (PUBLIC, ("anyone", "*"))]
    return cleaned


def list_knowledge(session: Session, user: User, page: int = 1, query: str | None = None) -> tuple[list, int]:
    """A page of the knowledge bases the user can read, newest first, with ``write_access`` for each."""
    stmt = select(Knowledge).order_by(Knowledge.updated_at.desc())
    if query:
        stmt = stmt.where(Knowledge.name.ilike(f"%{query}%"))
    readable = [k for k in session.scalars(stmt) if can_access(k, user, "read")]
    items = readable[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    counts = dict(session.execute(
        select(KnowledgeFile.knowledge_id, func.count()).where(
            KnowledgeFile.knowledge_id.in_([k.id for k in items])).group_by(KnowledgeFile.knowledge_id)
    ).all())
    owners = {u.id: u for u in session.scalars(select(User).where(User.id.in_({k.user_id for k in items})))}
    return [
        {"knowledge": k, "write_access": can_access(k, user, "write"), "file_count": counts.get(k.id, 0),
         "user": owners.get(k.user_id)}
        for k in items
    ], len(readable)


def create_knowledge(session: Session, user: User, name: str, description: str,
                     access_grants: list[dict] | None) -> Knowledge:
    if not permissions.has_permission(session, user, "workspace.knowledge"):
        raise Unauthorized(messages.ACCESS_PROHIBITED)
    knowledge = Knowledge(user_id=user.id, name=name, description=description, meta={},
                          access_grants=_sharing_allowed(session, user, access_grants))
    session.add(knowledge)
    session.flush()
    return knowledge


def update_knowledge(session: Session, user: User, knowledge_id: str, *, name: str | None = None,
                     description: str | None = None, access_grants: list[dict] | None = None) -> Knowledge:
    knowledge = get_knowledge(session, knowledge_id, user, "write")
    if name is not None:
        knowledge.name = name
    if description is not None:
        knowledge.description = description
    if access_grants is not None:
        knowledge.access_grants = _sharing_allowed(session, user, access_grants)
    knowledge.updated_at = now()
    session.flush()
    return knowledge


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
    return any(
        can_access(k, user, "read")
        for k in session.scalars(
            select(Knowledge).join(KnowledgeFile, KnowledgeFile.knowledge_id == Knowledge.id)
            .where(KnowledgeFile.file_id == file_id)
        )
    )


def link_file(session: Session, user: User, knowledge: Knowledge, file: File) -> bool:
    """Record that the knowledge base holds the file; False when it already did."""
    exists = session.scalar(select(KnowledgeFile.id).where(
        KnowledgeFile.knowledge_id == knowledge.id, KnowledgeFile.file_id == file.id))
    if exists:
        return False
    session.add(KnowledgeFile(knowledge_id=knowledge.id, file_id=file.id, user_id=user.id))
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
    knowledge = get_knowledge(session, knowledge_id, user, "write")
    session.execute(delete(KnowledgeFile).where(KnowledgeFile.knowledge_id == knowledge.id))
    get_vector_store().delete(session, collection=knowledge.id)
    knowledge.updated_at = now()
    session.flush()
    return knowledge


def delete_knowledge(session: Session, user: User, knowledge_id: str) -> None:
    knowledge = get_knowledge(session, knowledge_id, user, "write")
    get_vector_store().delete(session, collection=knowledge.id)
    session.delete(knowledge)
    session.flush()
