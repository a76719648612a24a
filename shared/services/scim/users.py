"""SCIM Users stored as Switchyard accounts. The client's whole representation is kept in ``user.scim``; the
columns the rest of Switchyard reads follow it: ``name`` from the display name, ``email`` from the primary
address, and the role from ``active`` (an inactive account is ``pending``, as Open WebUI does). An account SCIM
creates has no password: it signs in through single sign-on."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from scim2_models import EnterpriseUser, ForbiddenException, GroupMembership, InvalidValueException, User
from scim2_models import UniquenessException
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from shared.errors import BadRequest
from shared.models import Credential, Group, GroupMember
from shared.models import User as Account
from shared.models.base import new_id
from shared.services import accounts, app_config
from shared.services.scim.resources import check_version, missing, stored_attributes, with_meta

MODEL = User[EnterpriseUser]
RESOURCE_TYPE = "User"
NO_ADDRESS_DOMAIN = "scim.invalid"
"""The domain of the placeholder address of a user provisioned without one (RFC 2606: it never resolves)."""


def _memberships(session: Session, user_ids: list[str]) -> dict[str, list[GroupMembership]]:
    """The groups each user is a direct member of, in one query for the whole page."""
    rows = session.execute(
        select(GroupMember.user_id, Group.id, Group.name).join(Group, Group.id == GroupMember.group_id)
        .where(GroupMember.user_id.in_(user_ids)).order_by(Group.name, Group.id))
    found: dict[str, list[GroupMembership]] = defaultdict(list)
    for user_id, group_id, name in rows:
        found[user_id].append(GroupMembership(value=group_id, ref=f"Groups/{group_id}", display=name, type="direct"))
    return found


def _resource(account: Account, groups: list[GroupMembership]) -> User[EnterpriseUser]:
    """The account as SCIM sees it: what the client stored, or for an account made outside SCIM its email,
    name and whether it is active."""
    stored: dict[str, Any] = account.scim if account.scim is not None else {
        "userName": account.email, "displayName": account.name, "emails": [{"value": account.email, "primary": True}],
        "active": account.role != "pending"}
    resource = MODEL.model_validate(stored)
    resource.id = account.id
    resource.groups = groups or None
    return with_meta(resource, RESOURCE_TYPE, account.created_at, account.updated_at)


def _user_name_is(user_name: str) -> ColumnElement[bool]:
    """``userName`` ignoring case (RFC 7643 §4.1.1): the stored one, or the email of an account made outside SCIM."""
    stored = Account.scim["userName"].as_string()
    return or_(func.lower(stored) == user_name.lower(), and_(stored.is_(None), Account.email == user_name.lower()))


_NARROWING: dict[str, Callable[[str], ColumnElement[bool]]] = {
    "id": lambda value: Account.id == value,
    "user_name": _user_name_is,
    "external_id": lambda value: Account.scim["externalId"].as_string() == value,
}


def load_all(session: Session, equal: tuple[str, str] | None = None) -> list[User[EnterpriseUser]]:
    """Every user, or those an ``eq`` on an attribute the table can look up may match (``equal``: the
    attribute's field name and the value)."""
    stmt = select(Account).order_by(Account.created_at, Account.id)
    if equal and equal[0] in _NARROWING:
        stmt = stmt.where(_NARROWING[equal[0]](equal[1]))
    accounts_ = list(session.scalars(stmt))
    groups = _memberships(session, [account.id for account in accounts_])
    return [_resource(account, groups.get(account.id, [])) for account in accounts_]


def _account(session: Session, user_id: str | None) -> Account:
    account = session.get(Account, user_id) if user_id else None
    if account is None:
        raise missing(RESOURCE_TYPE, user_id)
    return account


def get(session: Session, user_id: str) -> User[EnterpriseUser]:
    account = _account(session, user_id)
    return _resource(account, _memberships(session, [account.id]).get(account.id, []))


def _email(resource: User[EnterpriseUser], user_id: str) -> str:
    """The primary (else the first) address; else the user name when it is an address; else a placeholder
    that can receive nothing, since every account needs a unique address."""
    addresses = [email.value for email in sorted(resource.emails or [], key=lambda e: not e.primary) if email.value]
    if addresses:
        try:
            return accounts.normalize_email(addresses[0])
        except BadRequest:
            raise InvalidValueException(detail=f"emails: {addresses[0]!r} is not an email address") from None
    try:
        return accounts.normalize_email(resource.user_name or "")
    except BadRequest:
        return f"{user_id}@{NO_ADDRESS_DOMAIN}"


def _display_name(resource: User[EnterpriseUser]) -> str:
    name = resource.name
    parts = [name.given_name, name.family_name] if name else []
    shown = (resource.display_name or (name.formatted if name else None) or " ".join(p for p in parts if p)
             or resource.user_name or "")
    return shown.strip()[:255]


def _check_unique(session: Session, account_id: str, user_name: str, email: str) -> None:
    """``userName`` is unique, ignoring case (RFC 7643 §4.1.1), and so is the account's address."""
    taken_name = select(Account.id).where(Account.id != account_id, _user_name_is(user_name))
    if session.scalar(taken_name.limit(1)) is not None:
        raise UniquenessException(detail=f"userName {user_name!r} is already taken")
    if session.scalar(select(Account.id).where(Account.id != account_id, Account.email == email).limit(1)):
        raise UniquenessException(detail=f"The address {email!r} belongs to another account")


def _write(session: Session, account: Account, resource: User[EnterpriseUser]) -> None:
    """Store the representation and the columns that follow it. Switching ``active`` off makes the account
    ``pending``, signs it out and closes its password; an admin keeps its role and its password, so that SCIM
    cannot lock the instance out. Switching it on gives a pending account the role of new accounts."""
    email = _email(resource, account.id)
    _check_unique(session, account.id, resource.user_name or "", email)
    active = resource.active is not False
    was_active = (account.scim or {}).get("active", account.role != "pending") is not False
    account.scim = stored_attributes(resource, leave_out={"groups", "password"})
    account.name = _display_name(resource)
    accounts.set_email(session, account, email)
    if not active and account.role != "admin":
        account.role = "pending"
    elif active and account.role == "pending":
        account.role = app_config.get_many(session, ["ui.default_user_role"])["ui.default_user_role"]
    if was_active and not active:
        account.token_version += 1
    credential = session.get(Credential, account.id)
    if credential is not None:
        credential.active = active or account.role == "admin"
    session.add(account)  # a new account is written once its columns are set
    session.flush()


def create(session: Session, resource: User[EnterpriseUser]) -> User[EnterpriseUser]:
    account = Account(id=new_id(), role="pending", profile_image_url="/user.png")
    _write(session, account, resource)
    return get(session, account.id)


def replace(session: Session, resource: User[EnterpriseUser], expected_version: str | None) -> User[EnterpriseUser]:
    check_version(get(session, resource.id or ""), expected_version)
    _write(session, _account(session, resource.id), resource)
    return get(session, resource.id or "")


def delete(session: Session, user_id: str, expected_version: str | None) -> None:
    """Delete the account; never an admin's (as Open WebUI refuses), so SCIM cannot lock admins out."""
    check_version(get(session, user_id), expected_version)
    account = _account(session, user_id)
    if account.role == "admin":
        raise ForbiddenException(detail="Cannot delete an admin account through SCIM")
    session.delete(account)
    session.flush()
