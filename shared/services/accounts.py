"""Sign-up, sign-in, profile and password rules."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared import messages
from shared.errors import BadRequest, Forbidden, NotFound
from shared.models import AppConfig, Credential, User
from shared.models.base import new_id
from shared.services import app_config, profile_images, signin_throttle
from shared.services.passwords import burn_verify_time, hash_password, verify_password

ROLES = ("admin", "user", "pending")
FIRST_ADMIN_CLAIM = "system.first_admin"
"""The ``app_config`` row naming the first admin: inserting it is the claim, so exactly one account wins it."""
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 320 or not _EMAIL.match(email):
        raise BadRequest(messages.INVALID_EMAIL_FORMAT)
    return email


def validate_role(role: str) -> str:
    if role not in ROLES:
        raise BadRequest(f"Invalid role '{role}': expected one of {', '.join(ROLES)}.")
    return role


def has_users(session: Session) -> bool:
    return session.scalar(select(User.id).limit(1)) is not None


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def get_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(messages.NOT_FOUND)
    return user


def _claim_first_admin(session: Session, user_id: str) -> bool:
    """True for exactly one caller ever: the insert of the claim row succeeds once (safe under races)."""
    try:
        with session.begin_nested():
            session.add(AppConfig(key=FIRST_ADMIN_CLAIM, value=user_id))
        return True
    except IntegrityError:
        return False


def first_admin_id(session: Session) -> str | None:
    """The account that became admin by signing up first (it keeps that role)."""
    row = session.get(AppConfig, FIRST_ADMIN_CLAIM)
    return row.value if row else None


def _create(session: Session, *, name: str, email: str, password: str, role: str,
            profile_image_url: str | None, user_id: str | None = None) -> User:
    user = User(id=user_id or new_id(), name=name.strip(), email=email, role=role,
                profile_image_url=profile_image_url or "/user.png")
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
            session.add(Credential(id=user.id, email=email, password=hash_password(password)))
            session.flush()
    except IntegrityError:
        raise BadRequest(messages.EMAIL_TAKEN) from None
    return user


def _email_taken(session: Session, email: str) -> bool:
    return bool(session.scalar(select(exists().where(Credential.email == email))))


def signup(session: Session, *, name: str, email: str, password: str,
           profile_image_url: str | None = None) -> User:
    """Self-service sign-up: the very first account becomes admin, later ones get the default role."""
    email = normalize_email(email)
    profile_images.checked_url(profile_image_url)
    if _email_taken(session, email):
        raise BadRequest(messages.EMAIL_TAKEN)
    user_id = new_id()
    first = not has_users(session) and _claim_first_admin(session, user_id)
    if first:
        role = "admin"
    else:
        settings = app_config.get_many(session, ["ui.enable_signup", "ui.default_user_role"])
        if not settings["ui.enable_signup"]:
            raise Forbidden(messages.ACCESS_PROHIBITED)
        role = settings["ui.default_user_role"]
    return _create(session, name=name, email=email, password=password, role=role,
                   profile_image_url=profile_image_url, user_id=user_id)


def add_user(session: Session, *, name: str, email: str, password: str, role: str,
             profile_image_url: str | None = None) -> User:
    """An admin creates an account with a chosen role."""
    email = normalize_email(email)
    profile_images.checked_url(profile_image_url)
    validate_role(role)
    if _email_taken(session, email):
        raise BadRequest(messages.EMAIL_TAKEN)
    return _create(session, name=name, email=email, password=password, role=role,
                   profile_image_url=profile_image_url)


def authenticate(session: Session, email: str, password: str) -> User:
    """The user for these credentials; the same error for an unknown email and a wrong password."""
    email = email.strip().lower()
    signin_throttle.check(email)
    credential = session.scalar(select(Credential).where(Credential.email == email))
    if credential is None or not credential.active:
        burn_verify_time(password)
        signin_throttle.record_failure(email)
        raise BadRequest(messages.INVALID_CRED)
    ok, new_hash = verify_password(credential.password, password)
    if not ok:
        signin_throttle.record_failure(email)
        raise BadRequest(messages.INVALID_CRED)
    if new_hash:
        credential.password = new_hash
    signin_throttle.reset(email)
    user = get_user(session, credential.id)
    user.last_active_at = int(dt.datetime.now(dt.timezone.utc).timestamp())
    return user


def set_password(session: Session, user: User, new_password: str) -> None:
    """Store a new password and invalidate every token issued before it."""
    credential = session.get(Credential, user.id)
    if credential is None:
        raise NotFound(messages.NOT_FOUND)
    credential.password = hash_password(new_password)
    user.token_version += 1


def change_password(session: Session, user: User, password: str, new_password: str) -> None:
    credential = session.get(Credential, user.id)
    if credential is None or not verify_password(credential.password, password)[0]:
        raise BadRequest(messages.INCORRECT_PASSWORD)
    set_password(session, user, new_password)


def set_email(session: Session, user: User, email: str) -> None:
    email = normalize_email(email)
    if email == user.email:
        return
    if _email_taken(session, email):
        raise BadRequest(messages.EMAIL_TAKEN)
    user.email = email
    credential = session.get(Credential, user.id)
    if credential is not None:
        credential.email = email


def update_profile(session: Session, user: User, *, name: str, profile_image_url: str,
                   bio: str | None = None, gender: str | None = None,
                   date_of_birth: dt.date | None = None) -> User:
    user.name = name.strip()
    user.profile_image_url = profile_images.checked_url(profile_image_url)
    user.bio = bio
    user.gender = gender
    user.date_of_birth = date_of_birth
    session.flush()
    return user
