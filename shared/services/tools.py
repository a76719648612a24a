"""Python tool modules (Open WebUI's workspace tools): who may write them, their valves and user valves, and
their versions. Saving sends the code to a job on the ``extensions`` queue, which loads it in a sandboxed child
process (``shared.extensions``) and stores it with the specs read from it; the web never runs user code."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import messages
from shared.errors import BadRequest, Unauthorized
from shared.jobs import catalog
from shared.models import Job, Tool, User
from shared.models.base import now
from shared.services import access, permissions, user_code, versions

KIND = "tool"
AREA = "tools"


def tool_json(tool: Tool, *, content: bool = True) -> dict:
    """Open WebUI's ``ToolModel`` (``ToolResponse`` without the code and specs)."""
    body = {"id": tool.id, "user_id": tool.user_id, "name": tool.name, "meta": user_code.public_meta(tool.meta),
            "access_grants": tool.access_grants or [], "version_id": tool.version_id,
            "updated_at": tool.updated_at, "created_at": tool.created_at}
    if content:
        body.update(content=tool.content, specs=tool.specs or [])
    return body


# -- reading --------------------------------------------------------------------------------------
def readable(session: Session, user: User, tool_id: str) -> Tool:
    return access.require(session.get(Tool, tool_id), user, "read")


def writable(session: Session, user: User, tool_id: str) -> Tool:
    return access.require(session.get(Tool, tool_id), user, "write")


def listing(session: Session, user: User) -> list[tuple[Tool, User | None]]:
    """The tools the user can read, newest first, with their owners."""
    rows = session.execute(select(Tool, User).outerjoin(User, User.id == Tool.user_id)
                           .where(access.readable(Tool, user)).order_by(Tool.updated_at.desc(), Tool.id))
    return [(tool, owner) for tool, owner in rows]


def exportable(session: Session, user: User) -> list[Tool]:
    """The tools the user may change (Open WebUI exports those), with their code."""
    permissions.require(session, user, "workspace.tools_export", detail=messages.UNAUTHORIZED)
    return [tool for tool, _ in listing(session, user) if access.can_access(tool, user, "write")]


# -- saving (through a job) -------------------------------------------------------------------------
def _may_write_code(session: Session, user: User) -> None:
    if not (permissions.has_permission(session, user, "workspace.tools")
            or permissions.has_permission(session, user, "workspace.tools_import")):
        raise Unauthorized("401 Unauthorized")


def start_create(session: Session, user: User, form: dict) -> Job:
    """Check the form, then send the code to be loaded and stored by a job (its result: the stored tool)."""
    _may_write_code(session, user)
    tool_id = user_code.form_id(form["id"])
    if session.get(Tool, tool_id) is not None:
        raise BadRequest(user_code.ID_TAKEN)
    grants = access.grants_to_store(session, user, form.get("access_grants"), "tools")
    return _send(session, user, {**form, "id": tool_id, "access_grants": grants}, creating=True)


def start_update(session: Session, user: User, tool_id: str, form: dict) -> Job:
    _may_write_code(session, user)
    writable(session, user, tool_id)
    return _send(session, user, {**form, "id": tool_id}, creating=False)


def start_restore(session: Session, user: User, tool_id: str, version_id: str) -> Job:
    """Put a saved version back in use: its code goes through the same job as an update."""
    tool = writable(session, user, tool_id)
    saved = versions.get(session, KIND, tool.id, version_id).snapshot
    return start_update(session, user, tool_id, {**saved, "id": tool_id, "meta": saved.get("meta") or {}})


def _send(session: Session, user: User, form: dict, creating: bool) -> Job:
    return catalog.send(session, catalog.SAVE_EXTENSION,
                        catalog.SaveExtension(KIND, form["id"], user.id, form, creating), owner_id=user.id,
                        kind=f"tools.{'create' if creating else 'update'}")


def store(session: Session, owner_id: str, form: dict, found: dict, creating: bool) -> Tool:
    """Store a tool whose code a job loaded (``found``: what the sandbox read from it)."""
    meta = user_code.loaded_meta(form.get("meta"), found)
    if found.get("kind") != "tools":
        raise BadRequest("A tool module defines a Tools class.")
    tool = session.get(Tool, form["id"])
    if creating:
        if tool is not None:
            raise BadRequest(user_code.ID_TAKEN)
        tool = Tool(id=form["id"], user_id=owner_id, access_grants=form.get("access_grants") or [])
        session.add(tool)
    elif tool is None:
        raise BadRequest(messages.NOT_FOUND)
    tool.name, tool.content, tool.specs, tool.meta = form["name"], form["content"], found.get("specs") or [], meta
    tool.updated_at = now()
    session.flush()
    versions.save(session, KIND, tool, user_code.snapshot(tool), owner_id, form.get("commit_message"))
    return tool


# -- sharing, valves, deleting ------------------------------------------------------------------------
def set_access(session: Session, user: User, tool_id: str, grants: list[dict]) -> Tool:
    return access.set_grants(session, user, writable(session, user, tool_id), grants, "tools")


def remove(session: Session, user: User, tool_id: str) -> None:
    tool = writable(session, user, tool_id)
    versions.forget(session, KIND, tool.id)
    session.delete(tool)
    session.flush()


def valves(session: Session, user: User, tool_id: str) -> dict | None:
    return writable(session, user, tool_id).valves


def valves_spec(session: Session, user: User, tool_id: str, which: str = "valves_spec") -> dict | None:
    """The schema of the tool's ``Valves`` (``user_valves_spec``: its ``UserValves``), as saved."""
    tool = writable(session, user, tool_id) if which == "valves_spec" else readable(session, user, tool_id)
    return (tool.meta or {}).get(which)


def set_valves(session: Session, user: User, tool_id: str, values: dict) -> dict:
    """The admin's valves, checked against the saved schema."""
    return user_code.set_valves(session, writable(session, user, tool_id), values)


def user_valves(session: Session, user: User, tool_id: str) -> dict:
    readable(session, user, tool_id)
    return user_code.user_valves(user, AREA, tool_id)


def set_user_valves(session: Session, user: User, tool_id: str, values: dict) -> dict:
    """The user's own valves for a tool."""
    return user_code.set_user_valves(session, user, AREA, readable(session, user, tool_id), values)
