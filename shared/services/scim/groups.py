"""SCIM Groups stored as Switchyard groups: ``displayName`` is the group's name, ``externalId`` is kept in its
``data``, and its members are users, changed only through the groups service so that a membership means the
same wherever it came from."""
from __future__ import annotations

from collections.abc import Callable

from scim2_models import Group, GroupMember, InvalidValueException
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from shared.models import Group as Row
from shared.models import GroupMember as Membership
from shared.models import User
from shared.models.base import now
from shared.services import accounts
from shared.services import groups as groups_service
from shared.services.scim.resources import check_version, missing, with_meta

MODEL = Group
RESOURCE_TYPE = "Group"
DATA_KEY = "scim"
"""The key of ``group.data`` holding what SCIM stores there: ``externalId``, and the ``display`` the client gave
each member (``memberDisplays``), returned instead of the user's name."""


def _members(session: Session, group_ids: list[str]) -> dict[str, list[GroupMember]]:
    """The members of each group, in one query for the whole page."""
    rows = session.execute(
        select(Membership.group_id, User.id, User.name).join(User, User.id == Membership.user_id)
        .where(Membership.group_id.in_(group_ids)).order_by(Membership.created_at, User.id))
    found: dict[str, list[GroupMember]] = {}
    for group_id, user_id, name in rows:
        found.setdefault(group_id, []).append(
            GroupMember(value=user_id, ref=f"Users/{user_id}", display=name, type="User"))
    return found


def _resource(row: Row, members: list[GroupMember]) -> Group:
    stored = (row.data or {}).get(DATA_KEY) or {}
    displays = stored.get("memberDisplays") or {}
    for member in members:
        member.display = displays.get(member.value, member.display)
    resource = Group(id=row.id, display_name=row.name, members=members or None, external_id=stored.get("externalId"))
    return with_meta(resource, RESOURCE_TYPE, row.created_at, row.updated_at)


_NARROWING: dict[str, Callable[[str], ColumnElement[bool]]] = {
    "id": lambda value: Row.id == value,
    "display_name": lambda value: func.lower(Row.name) == value.lower(),
    "external_id": lambda value: Row.data[(DATA_KEY, "externalId")].as_string() == value,
}


def load_all(session: Session, equal: tuple[str, str] | None = None) -> list[Group]:
    """Every group, or those an ``eq`` on an attribute the table can look up may match (as users.load_all)."""
    stmt = select(Row).order_by(Row.created_at, Row.id)
    if equal and equal[0] in _NARROWING:
        stmt = stmt.where(_NARROWING[equal[0]](equal[1]))
    rows = list(session.scalars(stmt))
    members = _members(session, [row.id for row in rows])
    return [_resource(row, members.get(row.id, [])) for row in rows]


def _row(session: Session, group_id: str | None) -> Row:
    row = session.get(Row, group_id) if group_id else None
    if row is None:
        raise missing(RESOURCE_TYPE, group_id)
    return row


def get(session: Session, group_id: str) -> Group:
    row = _row(session, group_id)
    return _resource(row, _members(session, [row.id]).get(row.id, []))


def _member_ids(session: Session, resource: Group) -> list[str]:
    """The users the group is to hold: every member must be an existing user (groups hold no groups here)."""
    wanted = [member.value for member in resource.members or []]
    if any(member.type not in (None, "User") for member in resource.members or []):
        raise InvalidValueException(detail="members: only users can be members of a group")
    known = set(session.scalars(select(User.id).where(User.id.in_(wanted)))) if wanted else set()
    unknown = [value for value in wanted if value not in known]
    if unknown:
        raise InvalidValueException(detail=f"members: no user has the id {unknown[0]!r}")
    return list(dict.fromkeys(wanted))


def _name(resource: Group) -> str:
    name = (resource.display_name or "").strip()[:255]
    if not name:
        raise InvalidValueException(detail="displayName is required")
    return name


def _write(session: Session, row: Row, resource: Group) -> None:
    member_ids = _member_ids(session, resource)
    row.name = _name(resource)
    displays = {member.value: member.display for member in resource.members or [] if member.display is not None}
    stored = {"externalId": resource.external_id, "memberDisplays": displays}
    row.data = {**(row.data or {}), DATA_KEY: {key: value for key, value in stored.items() if value}}
    groups_service.set_members(session, row.id, member_ids)
    row.updated_at = now()  # a change of members alone leaves the row itself unchanged
    session.flush()


def create(session: Session, resource: Group) -> Group:
    row = groups_service.create(session, owner_id=accounts.first_admin_id(session) or "", name=_name(resource))
    _write(session, row, resource)
    return get(session, row.id)


def replace(session: Session, resource: Group, expected_version: str | None) -> Group:
    check_version(get(session, resource.id or ""), expected_version)
    _write(session, _row(session, resource.id), resource)
    return get(session, resource.id or "")


def delete(session: Session, group_id: str, expected_version: str | None) -> None:
    check_version(get(session, group_id), expected_version)
    groups_service.delete_group(session, group_id)
