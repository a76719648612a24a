"""Sign-up, sign-in, profile and password rules."""
from __future__ import annotations

import datetime as dt
import re
import secrets
import urllib.parse

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared import messages
from shared.errors import BadRequest, Forbidden, NotFound
from shared.models import AppConfig, Credential, User
from shared.models.base import new_id
from shared.services import app_config, app_events, profile_images, rate_limits
from shared.services.passwords import burn_verify_time, hash_password, verify_password

ROLES = ("admin", "user", "pending")
FIRST_ADMIN_CLAIM = "system.first_admin"
SIGNIN_FAILURES = "signin-failures"
"""Failed sign-ins are counted per email (``SIGNIN_MAX_FAILURES`` within ``SIGNIN_FAILURE_WINDOW``)."""
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
            profile_image_url: str | None, user_id: str | None = None, oauth: dict | None = None) -> User:
    user = User(id=user_id or new_id(), name=name.strip(), email=email, role=role,
                profile_image_url=profile_image_url or "/user.png", oauth=oauth)
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
    user = _create(session, name=name, email=email, password=password, role=role,
                   profile_image_url=profile_image_url, user_id=user_id)
    _created(session, user)
    app_events.emit(session, "auth.signup", actor=user, subject_id=user.id, subject_type="user",
                    data={"email": user.email})
    return user


def _created(session: Session, user: User) -> None:
    """Open WebUI's ``user.created`` (its actor is the new account, as Open WebUI's sign-up handler sends it)."""
    app_events.emit(session, "user.created", actor=user, subject_id=user.id, data={"role": user.role})


def add_user(session: Session, *, name: str, email: str, password: str, role: str,
             profile_image_url: str | None = None) -> User:
    """An admin creates an account with a chosen role."""
    email = normalize_email(email)
    profile_images.checked_url(profile_image_url)
    validate_role(role)
    if _email_taken(session, email):
        raise BadRequest(messages.EMAIL_TAKEN)
    user = _create(session, name=name, email=email, password=password, role=role,
                   profile_image_url=profile_image_url)
    _created(session, user)
    return user


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def create_external(session: Session, *, name: str, email: str, role: str, profile_image_url: str | None = None,
                    oauth: dict | None = None) -> User:
    """An account vouched for by an identity provider or a trusted proxy, which alone signs it in: its
    password is random and never told. The very first account still becomes admin."""
    email = normalize_email(email)
    if _email_taken(session, email):
        raise BadRequest(messages.EMAIL_TAKEN)
    user_id = new_id()
    if not has_users(session) and _claim_first_admin(session, user_id):
        role = "admin"
    return _create(session, name=(name or email)[:255], email=email, password=secrets.token_urlsafe(32), role=role,
                   profile_image_url=profile_image_url, user_id=user_id, oauth=oauth)


def trusted_signin(session: Session, email: str | None, name: str | None) -> User:
    """Sign-in behind an authenticating proxy: the email its header names is the user, created on first sight
    with the default role (Open WebUI's ``WEBUI_AUTH_TRUSTED_EMAIL_HEADER``). ``name`` may be percent-encoded,
    as headers carry only ASCII safely."""
    if not email:
        raise BadRequest(messages.INVALID_TRUSTED_HEADER)
    user = user_by_email(session, email)
    if user is None:
        name = urllib.parse.unquote(name) if name else email
        try:
            user = create_external(session, name=name, email=email,
                                   role=app_config.get(session, "ui.default_user_role"))
        except BadRequest:
            user = user_by_email(session, email)  # a concurrent first request created it
            if user is None:
                raise
    return signed_in(session, user, "trusted_header")


def signed_in(session: Session, user: User, method: str) -> User:
    """A sign-in that succeeded (``method``: password, trusted_header, ldap, oauth): the user's last activity and
    Open WebUI's ``auth.login`` event."""
    user.last_active_at = int(dt.datetime.now(dt.timezone.utc).timestamp())
    app_events.emit(session, "auth.login", actor=user, subject_id=user.id, subject_type="user", source=method,
                    data={"auth_method": method})
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    """The user for these credentials; the same error for an unknown email and a wrong password."""
    email = email.strip().lower()
    rate_limits.check_failures(SIGNIN_FAILURES, email, messages.MALICIOUS)
    credential = session.scalar(select(Credential).where(Credential.email == email))
    if credential is None or not credential.active:
        burn_verify_time(password)
        rate_limits.record_failure(SIGNIN_FAILURES, email)
        raise BadRequest(messages.INVALID_CRED)
    ok, new_hash = verify_password(credential.password, password)
    if not ok:
        rate_limits.record_failure(SIGNIN_FAILURES, email)
        raise BadRequest(messages.INVALID_CRED)
    if new_hash:
        credential.password = new_hash
    rate_limits.clear_failures(SIGNIN_FAILURES, email)
    return signed_in(session, get_user(session, credential.id), "password")


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
