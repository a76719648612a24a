"""Admin management of users, and each user's own settings."""
from __future__ import annotations

import logging

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shared import messages
from shared.errors import Forbidden
from shared.json_limits import json_problem
from shared.models import User
from shared.services import accounts, profile_images

log = logging.getLogger(__name__)

PAGE_SIZE = 30
_ORDER_COLUMNS = {
    "name": User.name,
    "email": User.email,
    "role": User.role,
    "created_at": User.created_at,
    "last_active_at": User.last_active_at,
    "updated_at": User.updated_at,
}


def list_users(session: Session, *, query: str | None = None, order_by: str | None = None,
               direction: str | None = None, page: int = 1, limit: int = PAGE_SIZE) -> tuple[list[User], int]:
    """A page of users matching ``query`` (name or email), and how many match in all."""
    stmt = select(User)
    if query:
        pattern = f"%{query.lower()}%"
        stmt = stmt.where(or_(func.lower(User.name).like(pattern), func.lower(User.email).like(pattern)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    column = _ORDER_COLUMNS.get(order_by or "created_at", User.created_at)
    ordering = column.asc() if (direction or "asc").lower() == "asc" else column.desc()
    stmt = stmt.order_by(ordering, User.id).offset((max(page, 1) - 1) * limit).limit(limit)
    return list(session.scalars(stmt)), total


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


def update_settings(session: Session, user: User, settings: dict) -> dict:
    """Merge the posted settings into the user's (Open WebUI keeps ``ui`` and other top-level keys)."""
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
