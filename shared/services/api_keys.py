"""Personal ``sk-`` API keys: one per user, usable as a Bearer credential."""
from __future__ import annotations

import secrets
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import messages
from shared.crypto import decrypt, encrypt, sha256_hex
from shared.errors import Forbidden, NotFound
from shared.models import ApiKey, User
from shared.services import app_config, permissions

PREFIX = "sk-"
_TOUCH_EVERY = 60


def _require_allowed(session: Session, user: User, detail: str) -> None:
    """Keys switched on (``ENABLE_API_KEYS``) and, for a user (admins are exempt), the ``features.api_keys``
    permission: Open WebUI's rule for managing a key and for calling with one (403 ``detail`` otherwise)."""
    if not app_config.get(session, "auth.enable_api_keys") or not permissions.has_permission(
            session, user, "features.api_keys"):
        raise Forbidden(detail)


def create(session: Session, user: User) -> str:
    """A new key for the user, replacing any earlier one."""
    _require_allowed(session, user, messages.API_KEY_CREATION_NOT_ALLOWED)
    plain = PREFIX + secrets.token_hex(24)
    row = session.get(ApiKey, user.id)
    if row is None:
        row = ApiKey(user_id=user.id)
        session.add(row)
    row.key_hash = sha256_hex(plain)
    row.key_cipher = encrypt(plain)
    row.created_at = int(time.time())
    session.flush()
    return plain


def read(session: Session, user: User) -> str:
    _require_allowed(session, user, messages.API_KEY_CREATION_NOT_ALLOWED)
    row = session.get(ApiKey, user.id)
    plain = decrypt(row.key_cipher) if row else None
    if plain is None:
        raise NotFound("API key not found")
    return plain


def delete(session: Session, user: User) -> None:
    _require_allowed(session, user, messages.API_KEY_CREATION_NOT_ALLOWED)
    row = session.get(ApiKey, user.id)
    if row is not None:
        session.delete(row)
        session.flush()


def user_for_key(session: Session, plain: str) -> User | None:
    """The owner of a presented key, or None for an unknown key."""
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == sha256_hex(plain)))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    _require_allowed(session, user, messages.API_KEY_NOT_ALLOWED)
    now = int(time.time())
    if not row.last_used_at or now - row.last_used_at >= _TOUCH_EVERY:
        row.last_used_at = now
    return user
