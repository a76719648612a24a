"""Directories inside a knowledge base (Open WebUI 0.12's folders in the knowledge view), moving files between
them, and the folder sync's diff and cleanup. Every change needs write access to the knowledge base."""
from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shared import messages
from shared.errors import BadRequest, NotFound
from shared.models import File, Knowledge, KnowledgeDirectory, KnowledgeFile, User
from shared.models.base import now
from shared.services import files as file_service
from shared.services import knowledge as knowledge_service

UNSET = "__unset__"
"""``parent_id`` left as it is in a directory update (``None`` moves the directory to the root)."""


def directory_in(session: Session, knowledge_id: str, directory_id: str | None,
                 detail: str = messages.NOT_FOUND) -> KnowledgeDirectory | None:
    """The knowledge base's directory (``None``: the root); a directory of another knowledge base is 404."""
    if not directory_id:
        return None
    directory = session.get(KnowledgeDirectory, directory_id)
    if directory is None or directory.knowledge_id != knowledge_id:
        raise NotFound(detail)
    return directory


def all_directories(session: Session, knowledge_id: str) -> list[KnowledgeDirectory]:
    return list(session.scalars(select(KnowledgeDirectory).where(KnowledgeDirectory.knowledge_id == knowledge_id)
                                .order_by(KnowledgeDirectory.name)))


def children(session: Session, knowledge_id: str, parent_id: str | None) -> list[KnowledgeDirectory]:
    """One level of directories, by name (``parent_id`` ``None``: the root's)."""
    return [d for d in all_directories(session, knowledge_id) if d.parent_id == (parent_id or None)]


def breadcrumbs(session: Session, knowledge_id: str, directory_id: str | None) -> list[KnowledgeDirectory]:
    """The directory and its ancestors, root first."""
    by_id = {d.id: d for d in all_directories(session, knowledge_id)}
    trail: list[KnowledgeDirectory] = []
    while directory_id in by_id and by_id[directory_id] not in trail:
        trail.append(by_id[directory_id])
        directory_id = by_id[directory_id].parent_id
    return trail[::-1]


def paths(directories: list[KnowledgeDirectory]) -> dict[str, str]:
    """Directory id -> ``a/b/c``."""
    by_id = {d.id: d for d in directories}
    found: dict[str, str] = {}
    for directory in directories:
        names, seen, current = [], set(), directory.id
        while current in by_id and current not in seen:
            seen.add(current)
            names.append(by_id[current].name)
            current = by_id[current].parent_id
        found[directory.id] = "/".join(reversed(names))
    return found


def _name_taken(session: Session, knowledge_id: str, parent_id: str | None, name: str, but: str | None = None) -> bool:
    return any(d.name == name and d.id != but for d in children(session, knowledge_id, parent_id))


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name or "/" in name or name in {".", ".."}:
        raise BadRequest("Invalid directory name.")
    return name


def create(session: Session, user: User, knowledge: Knowledge, name: str, parent_id: str | None) -> KnowledgeDirectory:
    directory_in(session, knowledge.id, parent_id, "Parent directory not found.")
    name = _clean_name(name)
    if _name_taken(session, knowledge.id, parent_id, name):
        raise BadRequest("Failed to create directory. A directory with this name may already exist at this level.")
    directory = KnowledgeDirectory(knowledge_id=knowledge.id, parent_id=parent_id or None, name=name, user_id=user.id)
    session.add(directory)
    session.flush()
    return directory


def rename_or_move(session: Session, knowledge: Knowledge, directory_id: str, name: str | None,
                   parent_id: str | None) -> KnowledgeDirectory:
    """Rename and/or move under ``parent_id`` (:data:`UNSET` keeps the parent); a name clash or a move into
    itself or a descendant is 400."""
    directory = directory_in(session, knowledge.id, directory_id)
    target = directory.parent_id if parent_id == UNSET else (parent_id or None)
    if target:
        directory_in(session, knowledge.id, target, "Parent directory not found.")
        ancestors = {d.id for d in breadcrumbs(session, knowledge.id, target)}
        if directory.id in ancestors:
            raise BadRequest("Failed to update directory. This may be caused by a naming conflict or circular move.")
    new_name = _clean_name(name) if name is not None else directory.name
    if _name_taken(session, knowledge.id, target, new_name, but=directory.id):
        raise BadRequest("Failed to update directory. This may be caused by a naming conflict or circular move.")
    directory.name, directory.parent_id, directory.updated_at = new_name, target, now()
    session.flush()
    return directory


def _subtree(session: Session, knowledge_id: str, directory_id: str) -> list[str]:
    ids = [directory_id]
    everything = all_directories(session, knowledge_id)
    for parent in ids:
        ids.extend(d.id for d in everything if d.parent_id == parent)
    return ids


def remove(session: Session, user: User, knowledge: Knowledge, directory_id: str, move_files: bool) -> list[str]:
    """Delete a directory and its subdirectories. Their files go up to its parent (``move_files``), or leave the
    knowledge base (their chunks too), and a file no other knowledge base holds is deleted when the caller owns
    it (or is an admin). Returns the ids of the files taken out."""
    directory = directory_in(session, knowledge.id, directory_id)
    subtree = _subtree(session, knowledge.id, directory.id)
    in_subtree = (KnowledgeFile.knowledge_id == knowledge.id) & KnowledgeFile.directory_id.in_(subtree)
    removed: list[str] = []
    if move_files:
        session.execute(update(KnowledgeFile).where(in_subtree).values(directory_id=directory.parent_id))
    else:
        removed = list(session.scalars(select(KnowledgeFile.file_id).where(in_subtree)))
        for file_id in removed:
            take_out(session, user, knowledge, file_id)
    session.execute(delete(KnowledgeDirectory).where(KnowledgeDirectory.id.in_(subtree)))
    knowledge.updated_at = now()
    session.flush()
    return removed


def take_out(session: Session, user: User, knowledge: Knowledge, file_id: str) -> None:
    """Remove a file from the knowledge base, and delete it when no knowledge base holds it any more and the
    caller may delete it."""
    file = session.get(File, file_id)
    knowledge_service.unlink_file(session, knowledge, file_id)
    if (file is not None and not knowledge_service.knowledge_ids_of_file(session, file_id)
            and (file.user_id == user.id or user.role == "admin")):
        file_service.delete_file(session, user, file_id)


def move_file(session: Session, knowledge: Knowledge, file_id: str, directory_id: str | None) -> None:
    knowledge_service.held_file(session, knowledge.id, file_id)
    directory_in(session, knowledge.id, directory_id, "Target directory not found.")
    session.execute(update(KnowledgeFile).where(KnowledgeFile.knowledge_id == knowledge.id,
                                                KnowledgeFile.file_id == file_id)
                    .values(directory_id=directory_id or None, updated_at=now()))
    knowledge.updated_at = now()
    session.flush()


def sync_diff(session: Session, knowledge: Knowledge, manifest: list[dict]) -> dict:
    """Compare a local folder's manifest (``{filename, path, checksum, size}``, checksum the SHA-256 the upload
    stored as ``meta.file_hash``) with the knowledge base: what to upload, replace, delete, which directories
    to create and which are orphaned (Open WebUI's ``SyncDiffResponse``). A file uploaded in the last hour and
    still processing counts as present, so an interrupted sync does not upload it twice."""
    directory_paths = paths(all_directories(session, knowledge.id))
    directory_ids = {path: directory_id for directory_id, path in directory_paths.items()}
    recent = now() - 3600
    pending = {(directory_paths.get(((f.meta or {}).get("data") or {}).get("directory_id"), ""), f.filename,
                (f.meta or {}).get("file_hash"))
               for f in knowledge_service.pending_files(session, knowledge.id) if f.created_at >= recent}
    held = {}
    for file, directory_id in session.execute(
            select(File, KnowledgeFile.directory_id).join(KnowledgeFile, File.id == KnowledgeFile.file_id)
            .where(KnowledgeFile.knowledge_id == knowledge.id)).all():
        held[(directory_paths.get(directory_id, "") if directory_id else "", file.filename)] = (
            file.id, (file.meta or {}).get("file_hash"))
    added, modified, unmodified, listed = [], [], 0, set()
    for entry in manifest:
        key = (entry["path"], entry["filename"])
        listed.add(key)
        if key not in held and (*key, entry["checksum"]) in pending:
            unmodified += 1
        elif key not in held:
            added.append({"filename": entry["filename"], "path": entry["path"]})
        elif held[key][1] != entry["checksum"]:
            modified.append({"filename": entry["filename"], "path": entry["path"], "stale_file_id": held[key][0]})
        else:
            unmodified += 1
    deleted = [{"file_id": file_id, "filename": key[1]} for key, (file_id, _) in held.items() if key not in listed]
    required = {"/".join(entry["path"].split("/")[:depth + 1])
                for entry in manifest if entry["path"] for depth in range(len(entry["path"].split("/")))}
    return {"added": added, "modified": modified, "deleted": deleted,
            "mkdir": sorted((p for p in required if p not in directory_ids), key=lambda p: p.count("/")),
            "rmdir": [directory_ids[p] for p in set(directory_ids) - required],
            "unmodified_count": unmodified, "directory_map": directory_ids}


def sync_cleanup(session: Session, user: User, knowledge: Knowledge, file_ids: list[str], dir_ids: list[str]) -> None:
    """Take the listed files out (deleting those no knowledge base holds any more) and remove the listed
    directories; ids that are not this knowledge base's are skipped."""
    held = set(session.scalars(select(KnowledgeFile.file_id).where(KnowledgeFile.knowledge_id == knowledge.id,
                                                                   KnowledgeFile.file_id.in_(file_ids))))
    for file_id in file_ids:
        if file_id in held:
            take_out(session, user, knowledge, file_id)
    for directory_id in reversed(dir_ids):  # children before parents, as the diff lists them
        directory = session.get(KnowledgeDirectory, directory_id)
        if directory is not None and directory.knowledge_id == knowledge.id:
            remove(session, user, knowledge, directory_id, move_files=False)
