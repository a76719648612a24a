"""Who may read or change a shared object (knowledge, models, prompts, skills): its owner, admins, and Open
WebUI's access grants ``[{id, principal_type: user|group|anyone, principal_id, permission: read|write}]``.
No grants: private to the owner; ``user:*`` or ``anyone:*`` read: everyone may read; ``group:<id>``: the
group's members (members of its subgroups too)."""
from __future__ import annotations

from typing import Protocol, TypeVar

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import Session, object_session

from shared import messages
from shared.errors import Forbidden, NotFound, Unauthorized
from shared.models import AccessGrant, User
from shared.models.access_grant import Shareable as ShareableRow
from shared.models.base import new_id, now
from shared.services import groups, permissions

PUBLIC_PRINCIPALS = {("user", "*"), ("anyone", "*")}
PERMISSIONS = ("read", "write")
SHARE_REFUSED = "You do not have permission to share with the requested audience"


class Shared(Protocol):
    user_id: str
    access_grants: list
    updated_at: int


S = TypeVar("S", bound=Shared)


def _group_ids(user: User) -> set[str]:
    """The user's groups, through the session that loaded the user (cached there for the request)."""
    session = object_session(user)
    return groups.group_ids_of(session, user.id) if session is not None else set()


def _granted(grants: list[dict] | None, user: User, permission: str) -> bool:
    group_ids: set[str] | None = None
    for grant in grants or []:
        if grant.get("permission") != permission:
            continue
        principal = (grant.get("principal_type"), grant.get("principal_id"))
        if principal in PUBLIC_PRINCIPALS or principal == ("user", user.id):
            return True
        if principal[0] == "group":
            group_ids = _group_ids(user) if group_ids is None else group_ids
            if principal[1] in group_ids:
                return True
    return False


def grants_reach(grants: list[dict] | None, group_ids: set[str], permission: str = "read") -> bool:
    """Whether ``grants`` let the members of ``group_ids`` do ``permission`` (a public grant reaches them too)."""
    wanted = {permission, "write"}
    return any(g.get("permission") in wanted and (
        (g.get("principal_type"), g.get("principal_id")) in PUBLIC_PRINCIPALS
        or (g.get("principal_type") == "group" and g.get("principal_id") in group_ids)) for g in grants or [])


def grants_allow(grants: list[dict] | None, user: User, permission: str = "read") -> bool:
    """Whether ``grants`` alone let ``user`` do ``permission`` (write implies read)."""
    if permission == "read" and _granted(grants, user, "write"):
        return True
    return _granted(grants, user, permission)


def can_access(obj: Shared, user: User, permission: str = "read") -> bool:
    """Owner and admins always; others through a grant."""
    return user.role == "admin" or obj.user_id == user.id or grants_allow(obj.access_grants, user, permission)


def readable(cls: type[ShareableRow], user: User, permission: str = "read") -> ColumnElement[bool]:
    """:func:`can_access` as a SQL condition on ``cls``'s rows, for listings: the grants are looked up by
    principal (an index), not read object by object."""
    if user.role == "admin":
        return true()
    principal = or_(
        and_(AccessGrant.principal_type.in_(("user", "anyone")), AccessGrant.principal_id == "*"),
        and_(AccessGrant.principal_type == "user", AccessGrant.principal_id == user.id),
        and_(AccessGrant.principal_type == "group", AccessGrant.principal_id.in_(_group_ids(user))),
    )
    granted = select(AccessGrant.resource_id).where(
        AccessGrant.resource_type == cls.resource_type, principal,
        AccessGrant.permission.in_(("read", "write") if permission == "read" else (permission,)))
    return or_(cls.user_id == user.id, cls.id.in_(granted))


def require(obj: S | None, user: User, permission: str = "read") -> S:
    """``obj`` when ``user`` may do ``permission`` on it. An object the user may not even read answers 404, as
    one that does not exist (ids stay unprobeable); a read-only one asked to change answers 401."""
    if obj is None or not can_access(obj, user, "read"):
        raise NotFound(messages.NOT_FOUND)
    if permission == "write" and not can_access(obj, user, "write"):
        raise Unauthorized(messages.ACCESS_PROHIBITED)
    return obj


def is_public(grants: list[dict] | None) -> bool:
    return any((g.get("principal_type"), g.get("principal_id")) in PUBLIC_PRINCIPALS for g in grants or [])


def normalize(grants: list[dict] | None) -> list[dict]:
    """Open WebUI's ``normalize_access_grants``: well-formed grants only, once per (principal, permission);
    ``anyone`` only as ``anyone:*`` read."""
    kept: dict[tuple, dict] = {}
    for grant in grants or []:
        principal_type, principal_id, permission = (grant.get("principal_type"), grant.get("principal_id"),
                                                    grant.get("permission"))
        if principal_type not in ("user", "group", "anyone") or permission not in PERMISSIONS:
            continue
        if not isinstance(principal_id, str) or not principal_id:
            continue
        if principal_type == "anyone" and (principal_id, permission) != ("*", "read"):
            continue
        kept[(principal_type, principal_id, permission)] = {
            "id": grant.get("id") or new_id(), "principal_type": principal_type, "principal_id": principal_id,
            "permission": permission}
    return list(kept.values())


def grants_to_store(session: Session, user: User, grants: list[dict] | None, area: str) -> list[dict]:
    """The grants ``user`` may hand out on an object of ``area`` (``knowledge``, ``models``, ``prompts`` ...):
    admins any; others need Open WebUI's ``sharing.<area>`` permission, and ``sharing.public_<area>`` to
    share with everyone, and ``access_grants.allow_users`` / ``allow_groups`` to name users / groups. What the
    user may not grant is dropped, as Open WebUI does when an object is created. ``anyone`` grants are dropped
    for everyone: sign-in-free access is not offered for these objects (``user:*`` is their public)."""
    cleaned = [g for g in normalize(grants) if g["principal_type"] != "anyone"]
    if user.role == "admin" or not cleaned:
        return cleaned
    tree = permissions.permissions_for(session, user)
    sharing, audiences = tree.get("sharing", {}), tree.get("access_grants", {})
    if not sharing.get(area):
        return []
    allowed = {"user": bool(audiences.get("allow_users")), "group": bool(audiences.get("allow_groups"))}
    return [g for g in cleaned
            if (sharing.get(f"public_{area}") if (g["principal_type"], g["principal_id"]) == ("user", "*")
                else allowed[g["principal_type"]])]


def validated_grants(session: Session, user: User, grants: list[dict] | None, area: str) -> list[dict]:
    """:func:`grants_to_store` for a change of who may use an object (the ``access/update`` routes): any grant
    the user may not hand out refuses the whole change with Open WebUI's 403, nothing is dropped quietly."""
    asked = normalize(grants)
    allowed = grants_to_store(session, user, asked, area)
    if len(allowed) != len(asked):
        raise Forbidden(SHARE_REFUSED)
    return allowed


def set_grants(session: Session, user: User, obj: S, grants: list[dict] | None, area: str) -> S:
    """Replace who may use ``obj`` with ``grants`` (403 when one is not the user's to give: :func:`validated_grants`)."""
    obj.access_grants = validated_grants(session, user, grants, area)
    obj.updated_at = now()
    session.flush()
    return obj
