"""Prompts (Open WebUI's workspace prompts): text the chat box inserts by its ``/command``. Commands are unique;
who may see and change a prompt follows its access grants; each change of its text is a version, which can be
kept as a draft beside the version in use."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shared.errors import BadRequest, Unauthorized
from shared.models import Prompt, User, Version
from shared.models.base import now
from shared.services import access, permissions, versions

KIND = "prompt"
PAGE_SIZE = 30
HISTORY_PAGE_SIZE = 20
COMMAND_TAKEN = "Uh-oh! This command is already registered. Please choose another command string."
UNAUTHORIZED = "401 Unauthorized"
CURRENT_VERSION = "Cannot delete the active production version"
FIRST_COMMIT = "Initial version"
ORDER_COLUMNS = {"name": Prompt.name, "created_at": Prompt.created_at, "updated_at": Prompt.updated_at}


def snapshot(prompt: Prompt) -> dict:
    """What a version keeps (Open WebUI's prompt history snapshot)."""
    return {"name": prompt.name, "content": prompt.content, "command": prompt.command, "data": prompt.data or {},
            "meta": prompt.meta or {}, "tags": list(prompt.tags or []), "access_grants": prompt.access_grants or []}


# -- reading --------------------------------------------------------------------------------------
def readable(session: Session, user: User, prompt_id: str) -> Prompt:
    return access.require(session.get(Prompt, prompt_id), user, "read")


def writable(session: Session, user: User, prompt_id: str) -> Prompt:
    return access.require(session.get(Prompt, prompt_id), user, "write")


def _with_owners(session: Session, prompts: list[Prompt]) -> list[tuple[Prompt, User | None]]:
    owners = {u.id: u for u in session.scalars(select(User).where(User.id.in_({p.user_id for p in prompts})))}
    return [(prompt, owners.get(prompt.user_id)) for prompt in prompts]


def _readable_active(session: Session, user: User) -> list[Prompt]:
    stmt = select(Prompt).where(Prompt.is_active.is_(True), access.readable(Prompt, user)).order_by(
        Prompt.updated_at.desc(), Prompt.id)
    return list(session.scalars(stmt))


def active(session: Session, user: User) -> list[tuple[Prompt, User | None]]:
    """The switched-on prompts the user can read (what the chat box offers), last changed first, with owners."""
    return _with_owners(session, _readable_active(session, user))


def tags(session: Session, user: User) -> list[str]:
    return sorted({tag for prompt in _readable_active(session, user) for tag in prompt.tags or [] if tag})


def search(session: Session, user: User, *, query: str | None = None, view_option: str | None = None,
           tag: str | None = None, order_by: str | None = None, direction: str | None = None,
           page: int = 1) -> tuple[list[tuple[Prompt, User | None]], int]:
    """A page of the prompts the user can read (switched off too), with their owners, and how many match."""
    stmt = select(Prompt, User).outerjoin(User, User.id == Prompt.user_id).where(access.readable(Prompt, user))
    if query:
        like = f"%{query}%"
        stmt = stmt.where(or_(Prompt.name.ilike(like), Prompt.command.ilike(like), Prompt.content.ilike(like),
                              User.name.ilike(like), User.email.ilike(like)))
    if view_option == "created":
        stmt = stmt.where(Prompt.user_id == user.id)
    elif view_option == "shared":
        stmt = stmt.where(Prompt.user_id != user.id)
    column = ORDER_COLUMNS.get(order_by or "", Prompt.updated_at)
    stmt = stmt.order_by(column.asc() if order_by in ORDER_COLUMNS and direction == "asc" else column.desc(),
                         Prompt.id)
    wanted = tag.lower() if tag else None
    rows = [(prompt, owner) for prompt, owner in session.execute(stmt)
            if (wanted is None or wanted in {t.lower() for t in prompt.tags or [] if isinstance(t, str)})]
    start = (max(page, 1) - 1) * PAGE_SIZE
    return rows[start:start + PAGE_SIZE], len(rows)


# -- writing --------------------------------------------------------------------------------------
def _check_command(session: Session, command: str, prompt: Prompt | None = None) -> None:
    taken = session.scalar(select(Prompt.id).where(Prompt.command == command))
    if taken is not None and (prompt is None or taken != prompt.id):
        raise BadRequest(COMMAND_TAKEN)


def create(session: Session, user: User, form: dict) -> Prompt:
    """A new prompt and its first version. Users need ``workspace.prompts`` (or ``prompts_import``); the
    grants kept are the ones they may hand out."""
    if not (permissions.has_permission(session, user, "workspace.prompts")
            or permissions.has_permission(session, user, "workspace.prompts_import")):
        raise Unauthorized(UNAUTHORIZED)
    _check_command(session, form["command"])
    prompt = Prompt(user_id=user.id, command=form["command"], name=form["name"], content=form["content"],
                    data=form.get("data") or {}, meta=form.get("meta") or {}, tags=form.get("tags") or [],
                    access_grants=access.grants_to_store(session, user, form.get("access_grants"), "prompts"),
                    is_active=True)
    session.add(prompt)
    session.flush()
    versions.save(session, KIND, prompt, snapshot(prompt), user.id, form.get("commit_message") or FIRST_COMMIT)
    return prompt


def update(session: Session, user: User, prompt_id: str, form: dict) -> Prompt:
    """Change a prompt. Its command changes at once; the rest is saved as a new version that is put in use
    (``is_production``, the default) or kept as a draft. Data and meta left empty keep theirs; tags left out
    keep theirs. A version is made only when the name, command, text or tags change, as Open WebUI does."""
    prompt = writable(session, user, prompt_id)
    if form["command"] != prompt.command:
        _check_command(session, form["command"], prompt)
    tags_given = form.get("tags") is not None
    changed = ((form["name"], form["command"], form["content"]) != (prompt.name, prompt.command, prompt.content)
               or (tags_given and form["tags"] != prompt.tags))
    draft = {"name": form["name"], "content": form["content"], "data": form.get("data") or prompt.data,
             "meta": form.get("meta") or prompt.meta, "tags": form["tags"] if tags_given else prompt.tags}
    in_use = form.get("is_production") is not False
    prompt.command = form["command"]
    before = snapshot(prompt)
    if in_use:
        for key, value in draft.items():
            setattr(prompt, key, value)
    prompt.updated_at = now()
    session.flush()
    if changed:
        proposed = {**before, **draft, "data": draft["data"] or {}, "meta": draft["meta"] or {},
                    "tags": list(draft["tags"] or [])}
        versions.save(session, KIND, prompt, proposed, user.id, form.get("commit_message"), in_use=in_use)
    return prompt


def update_meta(session: Session, user: User, prompt_id: str, name: str, command: str,
                tags: list[str] | None) -> Prompt:
    """Rename a prompt, change its command or tags, without a new version."""
    prompt = writable(session, user, prompt_id)
    if command != prompt.command:
        _check_command(session, command, prompt)
    prompt.name, prompt.command = name, command
    if tags is not None:
        prompt.tags = tags
    prompt.updated_at = now()
    session.flush()
    return prompt


def set_version(session: Session, user: User, prompt_id: str, version_id: str) -> Prompt:
    """Put a saved version in use: its name, text, data, meta and tags (the command and grants stay)."""
    prompt = writable(session, user, prompt_id)
    saved = versions.get(session, KIND, prompt.id, version_id).snapshot
    for key in ("name", "content", "data", "meta", "tags"):
        if key in saved:
            setattr(prompt, key, saved[key])
    prompt.version_id = version_id
    prompt.updated_at = now()
    session.flush()
    return prompt


def set_access(session: Session, user: User, prompt_id: str, grants: list[dict]) -> Prompt:
    return access.set_grants(session, user, writable(session, user, prompt_id), grants, "prompts")


def toggle(session: Session, user: User, prompt_id: str) -> Prompt:
    prompt = writable(session, user, prompt_id)
    prompt.is_active = not prompt.is_active
    prompt.updated_at = now()
    session.flush()
    return prompt


def remove(session: Session, user: User, prompt_id: str) -> None:
    prompt = writable(session, user, prompt_id)
    versions.forget(session, KIND, prompt.id)
    session.delete(prompt)
    session.flush()


def remove_version(session: Session, user: User, prompt_id: str, version_id: str) -> None:
    """Delete a saved version other than the one in use."""
    prompt = writable(session, user, prompt_id)
    if prompt.version_id == version_id:
        raise BadRequest(CURRENT_VERSION)
    versions.remove(session, KIND, prompt, version_id)


# -- history --------------------------------------------------------------------------------------
def history(session: Session, user: User, prompt_id: str, page: int = 0) -> list[tuple[Version, User | None]]:
    """A page of the prompt's versions (Open WebUI counts these pages from 0), newest first, with authors."""
    prompt = readable(session, user, prompt_id)
    return versions.page(session, KIND, prompt.id, page + 1, size=HISTORY_PAGE_SIZE)


def version(session: Session, user: User, prompt_id: str, version_id: str) -> Version:
    return versions.get(session, KIND, readable(session, user, prompt_id).id, version_id)


def diff(session: Session, user: User, prompt_id: str, from_id: str, to_id: str) -> dict:
    return versions.diff(session, KIND, readable(session, user, prompt_id).id, from_id, to_id)
