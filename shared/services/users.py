"""Admin management of users, and each user's own settings."""
from __future__ import annotations

import json
import logging
import re

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shared import messages
from shared.errors import BadRequest, Forbidden, NotFound
from shared.json_limits import json_problem
from shared.models import User
from shared.models.base import now
from shared.services import accounts, app_events, groups, permissions, profile_images

log = logging.getLogger(__name__)

PAGE_SIZE = 30
USER_NOT_FOUND = "User not found."
ACTIVE_SECONDS = 180
"""Seen this recently: active (Open WebUI's three minutes)."""
_ORDER_COLUMNS = {
    "name": User.name,
    "email": User.email,
    "role": User.role,
    "created_at": User.created_at,
    "last_active_at": User.last_active_at,
    "updated_at": User.updated_at,
}


def list_users(session: Session, *, query: str | None = None, order_by: str | None = None,
               direction: str | None = None, page: int = 1, limit: int | None = PAGE_SIZE) -> tuple[list[User], int]:
    """A page of users matching ``query`` (name or email), and how many match in all (every one when
    ``limit`` is None)."""
    stmt = select(User)
    if query:
        pattern = f"%{query.lower()}%"
        stmt = stmt.where(or_(func.lower(User.name).like(pattern), func.lower(User.email).like(pattern)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    column = _ORDER_COLUMNS.get(order_by or "created_at", User.created_at)
    ordering = column.asc() if (direction or "asc").lower() == "asc" else column.desc()
    stmt = stmt.order_by(ordering, User.id)
    if limit is not None:
        stmt = stmt.offset((max(page, 1) - 1) * limit).limit(limit)
    return list(session.scalars(stmt)), total


def is_active(user: User | None) -> bool:
    return user is not None and bool(user.last_active_at) and user.last_active_at >= now() - ACTIVE_SECONDS


def active_by_id(session: Session, user_id: str) -> bool:
    return is_active(session.get(User, user_id))


def with_group_ids(session: Session, page: list[User]) -> list[dict]:
    """The admin's user list: each user and its direct groups' ids."""
    ids = groups.direct_group_ids_by_user(session, [u.id for u in page])
    return [{**_columns(u), "group_ids": ids[u.id]} for u in page]


def _columns(user: User) -> dict:
    return {c.key: getattr(user, c.key) for c in User.__table__.columns}


def info(session: Session, user_id: str) -> dict:
    """Open WebUI's ``UserInfoResponse`` of any account: its groups and whether it is active (an unknown id
    is 400, as there)."""
    user = session.get(User, user_id)
    if user is None:
        raise BadRequest(messages.NOT_FOUND)
    return with_groups(session, user)


def with_groups(session: Session, user: User) -> dict:
    """The account with its direct groups (id and name) and whether it is active."""
    return {**_columns(user), "groups": [{"id": g.id, "name": g.name} for g in groups.groups_of(session, user.id)],
            "is_active": is_active(user)}


def groups_json(session: Session, user_id: str, inherited: bool) -> list[dict]:
    """A user's groups; with ``inherited`` also the groups above them, each marked direct or inherited."""
    direct = groups.groups_of(session, user_id)
    if not inherited:
        return [groups.as_json(g) for g in direct]
    direct_ids = {g.id for g in direct}
    return [{**groups.as_json(g), "membership_type": "direct" if g.id in direct_ids else "inherited"}
            for g in groups.groups_of(session, user_id, inherited=True)]


def revoke_sessions(session: Session, actor: User, user_id: str) -> None:
    """Sign the user out everywhere: every token issued so far stops working (the primary admin's only by
    itself, as Open WebUI protects it)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(USER_NOT_FOUND)
    if _is_primary_admin(session, user) and actor.id != user.id:
        raise Forbidden(messages.ACTION_PROHIBITED)
    user.token_version += 1
    session.flush()


def _is_primary_admin(session: Session, user: User) -> bool:
    """The account that became admin by signing up first: Open WebUI's primary admin."""
    return user.id == accounts.first_admin_id(session)


def update_user(session: Session, actor: User, user_id: str, *, role: str | None = None, name: str | None = None,
                email: str | None = None, password: str | None = None,
                profile_image_url: str | None = None) -> User:
    """Change an account (admin). The primary admin is changed only by itself and keeps its role, and no
    admin demotes itself, as Open WebUI protects them."""
    user = accounts.get_user(session, user_id)
    primary = _is_primary_admin(session, user)
    if primary and actor.id != user.id:
        raise Forbidden(messages.ACTION_PROHIBITED)
    if role is not None and role != user.role:
        accounts.validate_role(role)
        if primary or (user.id == actor.id and role != "admin"):
            raise Forbidden(messages.ACTION_PROHIBITED)
        user.role = role
    if name is not None:
        user.name = name.strip()
    if email is not None:
        accounts.set_email(session, user, email)
    if profile_image_url is not None:
        user.profile_image_url = profile_images.checked_url(profile_image_url)
    if password:
        accounts.set_password(session, user, password)
    session.flush()
    return user


def delete_user(session: Session, actor: User, user_id: str) -> None:
    """Delete an account: never your own, never the primary admin, never the last admin."""
    user = accounts.get_user(session, user_id)
    if user.id == actor.id or _is_primary_admin(session, user):
        raise Forbidden(messages.ACTION_PROHIBITED)
    if user.role == "admin":
        admins = session.scalar(select(func.count()).select_from(User).where(User.role == "admin")) or 0
        if admins <= 1:
            raise Forbidden(messages.ACTION_PROHIBITED)
    session.delete(user)
    session.flush()
    app_events.emit(session, "user.deleted", actor=actor, subject_id=user_id)


def update_settings(session: Session, user: User, settings: dict) -> dict:
    """Merge the posted settings into the user's (Open WebUI keeps ``ui`` and other top-level keys). As there,
    a system prompt needs ``chat.controls`` and ``chat.system_prompt``, and direct tool servers
    ``features.direct_tool_servers``; without them those fields are dropped, the rest is kept."""
    ui = settings.get("ui")
    if isinstance(ui, dict):
        allowed = lambda *paths: all(permissions.has_permission(session, user, p) for p in paths)  # noqa: E731
        for key, paths in (("system", ("chat.controls", "chat.system_prompt")),
                           ("toolServers", ("features.direct_tool_servers",))):
            if key in ui and not allowed(*paths):
                ui.pop(key)
    merged = dict(user.settings or {})
    merged.update(settings)
    user.settings = merged
    session.flush()
    return merged


def drop_unusable_json(user: User) -> None:
    """Settings or info stored before requests were bounded (nested too deep to copy, encode or save again)
    would fail every request of their account: they are dropped, with a warning, so the account works."""
    for column in ("settings", "info"):
        problem = json_problem(getattr(user, column))
        if problem:
            log.warning("user %s: stored %s dropped (%s)", user.id, column, problem)
            setattr(user, column, {})


VARIABLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_VARIABLE_LENGTH, MAX_VARIABLES_LENGTH = 20_000, 100_000
"""Open WebUI's limits on one variable's text and on all of a user's variables (as JSON)."""


def variables(user: User) -> dict[str, str]:
    """The user's prompt variables (text values only, as Open WebUI reads them back)."""
    stored = user.variables if isinstance(user.variables, dict) else {}
    return {k: v for k, v in stored.items() if isinstance(k, str) and isinstance(v, str)}


def set_variables(session: Session, user: User, given: dict) -> dict[str, str]:
    """Replace the user's variables, refused (400, Open WebUI's words) unless each name is lower-case snake case
    and each value a text of at most 20,000 characters."""
    if len(json.dumps(given, ensure_ascii=False)) > MAX_VARIABLES_LENGTH:
        raise BadRequest("User variables are too large.")
    for name, value in given.items():
        if not VARIABLE_NAME.match(name):
            raise BadRequest(f"Invalid user variable key: {name}")
        if not isinstance(value, str):
            raise BadRequest(f"User variable must be a string: {name}")
        if len(value) > MAX_VARIABLE_LENGTH:
            raise BadRequest(f"User variable is too long: {name}")
    user.variables = {name: value.replace("\r\n", "\n") for name, value in given.items()}
    session.flush()
    return variables(user)


def merge_info(session: Session, user: User, fields: dict) -> dict:
    """Open WebUI's PATCH-style update of the user's ``info``: the posted keys over the stored ones."""
    user.info = {**(user.info or {}), **fields}
    session.flush()
    return user.info
