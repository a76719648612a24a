"""Skills (Open WebUI's workspace skills): instructions in a ``SKILL.md`` and the files beside it, which a model
loads when a chat needs them. Ids and names are unique; who may see and change a skill follows its access
grants; every change is a version, and a change of files must name the version it was made on (``409`` when
another change came first). Skills are exported and imported as packages (``skill_files``), and an admin may
load one from a URL (a job, through the guarded fetch)."""
from __future__ import annotations

import difflib
import json
import mimetypes
import re
from urllib.parse import unquote, urlsplit

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session, defer

from shared.db import lock_row_on_sqlite
from shared.errors import (
    BadRequest, Conflict, Forbidden, NotFound, ServiceError, Unauthorized, UpstreamError,
)
from shared.jobs import catalog
from shared.models import Job, Skill, User, Version
from shared.models.base import now
from shared.providers import web_fetch
from shared.services import access, permissions, skill_files, versions

KIND = "skill"
PAGE_SIZE = 30
HISTORY_PAGE_SIZE = 20
SKILL_ID = re.compile(r"[a-z0-9_-]+")
ID_TAKEN = "Uh-oh! This id is already registered. Please choose another id string."
NAME_TAKEN = "A skill with this name already exists"
UNAUTHORIZED = "401 Unauthorized"
FILE_NOT_FOUND = "File not found"
FILE_SOURCES = ("files", "data", "operations")
"""The ways a form may give a skill's files (at most one)."""
ORDER_COLUMNS = {"name": Skill.name, "created_at": Skill.created_at, "updated_at": Skill.updated_at}
LOAD_TIMEOUT = 60.0
DOWNLOADED_NAMES = {"application/json": "skills.json", "text/markdown": skill_files.ROOT}
"""What a download is read as, by its media type (else by its URL's path; a ZIP by its first bytes)."""


def normalized_meta(meta: object) -> dict:
    """Open WebUI's ``SkillMeta``: ``i18n`` (``{locale: {field: text}}``) and ``tags``, nothing else."""
    meta = meta if isinstance(meta, dict) else {}
    i18n, tags = meta.get("i18n"), meta.get("tags")
    if i18n is not None and not (isinstance(i18n, dict) and all(
            isinstance(fields, dict) and all(isinstance(v, str) for v in fields.values()) for fields in i18n.values())):
        raise BadRequest("meta.i18n: a mapping of locales to texts")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        raise BadRequest("meta.tags: a list of strings")
    return {"i18n": i18n, "tags": tags or []}


def snapshot(skill: Skill) -> dict:
    """What a version keeps: name, description, the ``SKILL.md`` text, every file, meta."""
    return {"name": skill.name, "description": skill.description, "content": skill.content,
            "data": skill.data or {"files": []}, "meta": normalized_meta(skill.meta)}


# -- reading --------------------------------------------------------------------------------------
def readable(session: Session, user: User, skill_id: str) -> Skill:
    return access.require(session.get(Skill, skill_id), user, "read")


def writable(session: Session, user: User, skill_id: str) -> Skill:
    return access.require(session.get(Skill, skill_id), user, "write")


def _listed(session: Session, user: User, stmt) -> list[tuple[Skill, User | None]]:
    """The rows of ``stmt`` (skills and owners) the user can read; the files stay unread."""
    stmt = stmt.options(defer(Skill.data), defer(Skill.content)).where(access.readable(Skill, user))
    return [(skill, owner) for skill, owner in session.execute(stmt)]


def _with_owners():
    return select(Skill, User).outerjoin(User, User.id == Skill.user_id)


def visible(session: Session, user: User, query: str | None = None) -> list[tuple[Skill, User | None]]:
    """The skills the user can read, last changed first, with owners; ``query`` narrows them by name."""
    rows = _listed(session, user, _with_owners().order_by(Skill.updated_at.desc(), Skill.id))
    wanted = (query or "").casefold()
    return [(skill, owner) for skill, owner in rows if wanted in (skill.name or "").casefold()]


def search(session: Session, user: User, *, query: str | None = None, view_option: str | None = None,
           order_by: str | None = None, direction: str | None = None,
           page: int = 1) -> tuple[list[tuple[Skill, User | None]], int]:
    """A page of the skills the user can read, with their owners, and how many match."""
    stmt = _with_owners()
    if query:
        like = f"%{query}%"
        stmt = stmt.where(or_(Skill.name.ilike(like), Skill.description.ilike(like), Skill.id.ilike(like),
                              User.name.ilike(like), User.email.ilike(like), cast(Skill.meta, String).ilike(like)))
    if view_option == "created":
        stmt = stmt.where(Skill.user_id == user.id)
    elif view_option == "shared":
        stmt = stmt.where(Skill.user_id != user.id)
    column = ORDER_COLUMNS.get(order_by or "", Skill.updated_at)
    stmt = stmt.order_by(column.asc() if order_by in ORDER_COLUMNS and direction == "asc" else column.desc(),
                         Skill.id)
    rows = _listed(session, user, stmt)
    start = (max(page, 1) - 1) * PAGE_SIZE
    return rows[start:start + PAGE_SIZE], len(rows)


def snapshot_at(session: Session, skill: Skill, version_id: str | None = None) -> dict:
    """The skill as it is, or as it was at ``version_id``."""
    if not version_id or version_id == skill.version_id:
        return snapshot(skill)
    return versions.get(session, KIND, skill.id, version_id).snapshot


def file_summaries(session: Session, user: User, skill_id: str,
                   version_id: str | None) -> tuple[str | None, list[dict]]:
    """The version shown and its files' paths, sizes and encodings."""
    skill = readable(session, user, skill_id)
    listed = snapshot_at(session, skill, version_id)["data"]["files"]
    return version_id or skill.version_id, skill_files.summaries(listed)


def file_content(session: Session, user: User, skill_id: str, path: str,
                 version_id: str) -> tuple[bytes, str, str]:
    """One file of a version: its bytes, media type and name."""
    skill = readable(session, user, skill_id)
    found = next((f for f in snapshot_at(session, skill, version_id)["data"]["files"] if f["path"] == path), None)
    if found is None:
        raise NotFound(FILE_NOT_FOUND)
    return (skill_files.file_bytes(found), mimetypes.guess_type(path)[0] or "application/octet-stream",
            path.rsplit("/", 1)[-1])


# -- writing --------------------------------------------------------------------------------------
def _check_name(session: Session, name: str, skill: Skill | None = None) -> None:
    taken = session.scalar(select(Skill.id).where(Skill.name == name))
    if taken is not None and (skill is None or taken != skill.id):
        raise Conflict(NAME_TAKEN)


def _text(form: dict, key: str) -> str | None:
    value = form.get(key)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{key}: Not a valid string.")
    return value


def _locked(session: Session, user: User, skill_id: str) -> Skill:
    """The skill the user may change, its row held until the request ends: two changes of one skill run one
    after the other, each on the version the one before left in use."""
    writable(session, user, skill_id)
    lock_row_on_sqlite(session, Skill, skill_id)
    return session.get(Skill, skill_id, with_for_update=True, populate_existing=True)


def _conflict(skill: Skill, expected: str | None) -> None:
    if expected is not None and expected != skill.version_id:
        raise Conflict({"code": "version_conflict", "current_version_id": skill.version_id})


def create(session: Session, user: User, form: dict) -> Skill:
    """A new skill and its first version, from ``files``, ``data.files`` or a ``content`` (its ``SKILL.md``).
    Users need ``workspace.skills`` (or ``skills_import``); the id is made a slug; the grants kept are the
    ones the user may hand out."""
    if not (permissions.has_permission(session, user, "workspace.skills")
            or permissions.has_permission(session, user, "workspace.skills_import")):
        raise Unauthorized(UNAUTHORIZED)
    skill_id = str(form["id"]).lower().replace(" ", "-")
    if not SKILL_ID.fullmatch(skill_id):
        raise BadRequest("[ERROR: Invalid skill ID]")
    if session.get(Skill, skill_id) is not None:
        raise BadRequest(ID_TAKEN)
    name = _text(form, "name") or ""
    _check_name(session, name)
    if form.get("data") is not None and form.get("files") is not None:
        raise BadRequest("Provide data or files, not both")
    given = (form["data"]["files"] if form.get("data") is not None else form.get("files")
             or [{"path": skill_files.ROOT, "content": _text(form, "content") or ""}])
    checked = skill_files.validate_files(given)
    skill = Skill(id=skill_id, user_id=user.id, name=name, description=_text(form, "description"),
                  meta=normalized_meta(form.get("meta")), content=skill_files.root_content(checked),
                  data={"files": checked}, is_active=form.get("is_active") is not False,
                  access_grants=access.grants_to_store(session, user, form.get("access_grants"), "skills"))
    session.add(skill)
    session.flush()
    versions.save(session, KIND, skill, snapshot(skill), user.id, form.get("commit_message"))
    return skill


def _changed_files(skill: Skill, form: dict) -> list[dict]:
    """The skill's files after the form's ``files``, ``data``, ``operations`` or ``content``."""
    given = [key for key in FILE_SOURCES if form.get(key) is not None]
    if given and form.get("expected_version_id") is None:
        raise BadRequest("expected_version_id is required for file updates")
    if len(given) > 1:
        raise BadRequest("Provide data, files, or operations, not more than one")
    current = skill.data["files"]
    result = form["data"]["files"] if form.get("data") is not None else form.get("files") or current
    if form.get("operations") is not None:
        result = skill_files.apply_operations(result, form["operations"])
    if form.get("content") is not None:
        result = [f for f in result if f["path"] != skill_files.ROOT] + [
            {"path": skill_files.ROOT, "content": _text(form, "content")}]
    return skill_files.validate_files(result, current)


def update(session: Session, user: User, skill_id: str, form: dict) -> Skill:
    """Change what the form gives (fields left out keep their value); a changed snapshot is a new version in
    use. ``expected_version_id``, when given (and required with files), must be the version in use."""
    skill = _locked(session, user, skill_id)
    _conflict(skill, form.get("expected_version_id"))
    checked = _changed_files(skill, form)
    before = snapshot(skill)
    name = _text(form, "name") if "name" in form else skill.name
    if name != skill.name:
        _check_name(session, name, skill)
    after = {"name": name, "description": _text(form, "description") if "description" in form else skill.description,
             "meta": normalized_meta(form["meta"] if "meta" in form else skill.meta),
             "content": skill_files.root_content(checked), "data": {"files": checked}}
    if form.get("is_active") is not None:
        skill.is_active = form["is_active"]
    if after != before:
        for key, value in after.items():
            setattr(skill, key, value)
        versions.save(session, KIND, skill, after, user.id, form.get("commit_message"))
    skill.updated_at = now()
    session.flush()
    return skill


def set_version(session: Session, user: User, skill_id: str, version_id: str, expected_version_id: str) -> Skill:
    """Put a saved version in use, if the one in use is still ``expected_version_id``."""
    skill = _locked(session, user, skill_id)
    _conflict(skill, expected_version_id)
    saved = versions.get(session, KIND, skill.id, version_id).snapshot
    if saved["name"] != skill.name:
        _check_name(session, saved["name"], skill)
    for key in ("name", "description", "content", "data", "meta"):
        setattr(skill, key, saved[key])
    skill.version_id = version_id
    skill.updated_at = now()
    session.flush()
    return skill


def set_access(session: Session, user: User, skill_id: str, grants: list[dict]) -> Skill:
    return access.set_grants(session, user, writable(session, user, skill_id), grants, "skills")


def toggle(session: Session, user: User, skill_id: str) -> Skill:
    skill = writable(session, user, skill_id)
    skill.is_active = not skill.is_active
    skill.updated_at = now()
    session.flush()
    return skill


def remove(session: Session, user: User, skill_id: str) -> None:
    skill = writable(session, user, skill_id)
    versions.forget(session, KIND, skill.id)
    session.delete(skill)
    session.flush()


def clone(session: Session, user: User, skill_id: str, new_id: str, name: str, version_id: str | None) -> Skill:
    """A new skill of the caller's from a skill they can read (as it is, or at ``version_id``), unshared."""
    skill = readable(session, user, skill_id)
    saved = snapshot_at(session, skill, version_id)
    return create(session, user, {"id": new_id, "name": name, "description": saved["description"],
                                  "meta": saved["meta"], "data": saved["data"], "is_active": skill.is_active})


# -- history --------------------------------------------------------------------------------------
def history(session: Session, user: User, skill_id: str, page: int = 1) -> list[tuple[Version, User | None]]:
    """A page of the skill's versions (from page 1), newest first, with their authors."""
    return versions.page(session, KIND, readable(session, user, skill_id).id, page, size=HISTORY_PAGE_SIZE)


def version(session: Session, user: User, skill_id: str, version_id: str) -> Version:
    return versions.get(session, KIND, readable(session, user, skill_id).id, version_id)


def remove_version(session: Session, user: User, skill_id: str, version_id: str) -> None:
    versions.remove(session, KIND, _locked(session, user, skill_id), version_id)


def _two_versions(session: Session, user: User, skill_id: str, from_id: str, to_id: str) -> tuple[dict, dict]:
    skill = readable(session, user, skill_id)
    return (versions.get(session, KIND, skill.id, from_id).snapshot,
            versions.get(session, KIND, skill.id, to_id).snapshot)


def diff(session: Session, user: User, skill_id: str, from_id: str, to_id: str) -> dict:
    """What changed between two versions: the metadata that differs, and each file added, deleted or
    modified."""
    before, after = _two_versions(session, user, skill_id, from_id, to_id)
    old, new = ({f["path"]: f for f in saved["data"]["files"]} for saved in (before, after))
    return {
        "metadata": {key: {"before": before.get(key), "after": after.get(key)}
                     for key in ("name", "description", "meta") if before.get(key) != after.get(key)},
        "files": [{"path": path, "status": "added" if path not in old else "deleted" if path not in new
                   else "modified", "binary": bool(old.get(path, {}).get("encoding")
                                                   or new.get(path, {}).get("encoding"))}
                  for path in sorted(old.keys() | new.keys()) if old.get(path) != new.get(path)],
    }


def file_diff(session: Session, user: User, skill_id: str, from_id: str, to_id: str, path: str) -> dict:
    """A unified diff of one file between two versions (``{binary: true}`` for a binary file)."""
    snapshots = _two_versions(session, user, skill_id, from_id, to_id)
    found = [next((f for f in saved["data"]["files"] if f["path"] == path), None) for saved in snapshots]
    if not any(found):
        raise NotFound(FILE_NOT_FOUND)
    if any(f and f.get("encoding") for f in found):
        return {"binary": True}
    old, new = ((f or {}).get("content", "") for f in found)
    text = "\n".join(difflib.unified_diff(old.splitlines(), new.splitlines(), fromfile=f"{from_id[:7]}/{path}",
                                          tofile=f"{to_id[:7]}/{path}", lineterm=""))
    return {"binary": False, "diff": text, "line_endings_only": not text and old != new}


# -- export, import, load ---------------------------------------------------------------------------
def export(session: Session, user: User, fmt: str, ids: list[str] | None,
           version_id: str | None) -> list[dict] | dict | tuple[bytes, str]:
    """The skills as packages ``{id, name, description, meta, files, is_active}``: JSON (one object when one
    id is asked for), or a ZIP (``zip``, or ``skill`` for one skill) as ``(bytes, filename)``."""
    if not permissions.has_permission(session, user, "workspace.skills_export"):
        raise Forbidden("Export permission required")
    if version_id and (not ids or len(ids) != 1):
        raise BadRequest("Select one skill to export a historical version")
    if fmt == "skill" and (not ids or len(ids) != 1):
        raise BadRequest("Select one skill to export as .skill")
    if fmt not in ("json", "zip", "skill"):
        raise BadRequest("Export format must be json, zip, or skill")
    chosen = ([readable(session, user, skill_id) for skill_id in ids] if ids is not None
              else [skill for skill, _ in visible(session, user)])
    packages = []
    for skill in chosen:
        saved = snapshot_at(session, skill, version_id)
        packages.append({"id": skill.id, "name": saved["name"], "description": saved["description"],
                         "meta": saved["meta"], "files": saved["data"]["files"], "is_active": skill.is_active})
    if fmt != "json":
        return skill_files.zip_export(packages), f"{chosen[0].id}.skill" if fmt == "skill" else "skills.zip"
    return packages[0] if ids and len(ids) == 1 else packages


def _require_import(session: Session, user: User) -> None:
    if not permissions.has_permission(session, user, "workspace.skills_import"):
        raise Forbidden("Import permission required")


def preview_import(session: Session, user: User, uploads: list[tuple[str, bytes]]) -> list[dict]:
    """Each skill in the uploads, its files summarised, and whether its id and name are taken and whether
    the caller may replace the skill with that id (then the version to name when replacing it)."""
    _require_import(session, user)
    previews = []
    for index, package in enumerate(skill_files.read_uploads(uploads)):
        existing = session.get(Skill, str(package["id"]))
        replaceable = existing is not None and access.can_access(existing, user, "write")
        previews.append({
            "index": index, **{k: v for k, v in package.items() if k != "files"},
            "files": skill_files.summaries(package["files"]), "id_taken": existing is not None,
            "name_taken": session.scalar(select(Skill.id).where(Skill.name == package["name"])) is not None,
            "can_replace": replaceable, "expected_version_id": existing.version_id if replaceable else None,
        })
    return previews


def _decisions(text: str | None, count: int) -> list[dict]:
    if text is None:
        raise BadRequest("Invalid request: decisions: Missing data for required field.")
    try:
        choices = json.loads(text)
    except ValueError as error:
        raise BadRequest(str(error)) from None
    if not isinstance(choices, list) or len(choices) != count or not all(isinstance(c, dict) for c in choices):
        raise BadRequest("One decision is required per skill")
    return choices


def _import_one(session: Session, user: User, package: dict, choice: dict) -> dict:
    action = choice.get("action", "skip")
    if action == "skip":
        return {"status": "skipped", "id": package["id"]}
    form = {**package, "id": choice.get("id", package["id"]), "name": choice.get("name", package["name"])}
    if action == "replace":
        skill = writable(session, user, str(form["id"]))
        if not choice.get("expected_version_id"):
            raise BadRequest("Replacement requires expected_version_id")
        saved = update(session, user, skill.id, {**form, "expected_version_id": choice["expected_version_id"]})
    elif action in ("create", "copy"):
        saved = create(session, user, {**form, "access_grants": []})
    else:
        raise BadRequest("Unknown import action")
    return {"status": "saved", "id": saved.id}


def import_skills(session: Session, user: User, uploads: list[tuple[str, bytes]],
                  decisions: str | None) -> list[dict]:
    """Save each skill of the uploads as its decision says (``{action: skip|create|copy|replace, id?, name?,
    expected_version_id?}``, one per skill in preview order). A skill that fails is reported and leaves
    nothing behind; the others are saved."""
    _require_import(session, user)
    packages = skill_files.read_uploads(uploads)
    results = []
    for package, choice in zip(packages, _decisions(decisions, len(packages))):
        try:
            with session.begin_nested():
                results.append(_import_one(session, user, package, choice))
        except ServiceError as error:
            results.append({"status": "error", "id": package["id"], "error": error.detail})
    return results


def start_load(session: Session, user: User, url: str) -> Job:
    """Load skills from a URL (admins): a job downloads and reads them (``load_from_url``)."""
    skill_files.import_source(url)
    return catalog.send(session, catalog.LOAD_SKILL_URL, catalog.SkillUrl(url), owner_id=user.id)


def load_from_url(url: str) -> list[dict]:
    """The skills at ``url`` (a file, a ZIP, or a GitHub repository, folder or ``SKILL.md``), downloaded
    through the guarded fetch: a private or local address is refused."""
    source, directory = skill_files.import_source(url)
    try:
        fetched = web_fetch.fetch(source, max_bytes=skill_files.MAX_IMPORT_BYTES, timeout=LOAD_TIMEOUT)
    except UpstreamError:
        raise BadRequest("Could not download the skill. Please try again.") from None
    if fetched.content_type == "text/html":
        raise BadRequest("The URL returned a web page. Use a raw skill file or a ZIP/.skill download link.")
    name = "skills.zip" if fetched.body.startswith(b"PK") else DOWNLOADED_NAMES.get(
        fetched.content_type, unquote(urlsplit(fetched.url).path))
    return skill_files.parse_import(fetched.body, name, discover=True, directory=directory)
