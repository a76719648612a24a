"""Token lifetimes and server-side revocation (sign-out, password change)."""
from __future__ import annotations

import datetime as dt
import logging
import re
import time

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from shared import messages
from shared.errors import BadRequest, Unauthorized
from shared.models import RevokedToken, User

log = logging.getLogger(__name__)

MAX_LIFETIME = dt.timedelta(days=36500)
"""A hundred years: longer lifetimes overflow date arithmetic ("-1" is the way to say never)."""
DEFAULT_EXPIRES_IN = "4w"
_DURATION = re.compile(r"^(-1|0|(\d+(\.\d+)?)(ms|s|m|h|d|w))$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_expires_in(value: str) -> dt.timedelta | None:
    """Open WebUI's JWT_EXPIRES_IN ("4w", "1h", "30m" ...); "-1" or "0" means no expiry (None)."""
    match = _DURATION.match(value.strip())
    if not match:
        raise BadRequest(f"Invalid JWT_EXPIRES_IN '{value}': use a number and a unit (ms, s, m, h, d, w) or -1.")
    if match.group(1) in {"-1", "0"}:
        return None
    seconds = float(match.group(2)) * _UNITS[match.group(4)]
    if seconds > MAX_LIFETIME.total_seconds():
        raise BadRequest(f"Invalid JWT_EXPIRES_IN '{value}': longer than {MAX_LIFETIME.days} days; "
                         "use -1 for no expiry.")
    return dt.timedelta(seconds=seconds)


def token_lifetime(value: str) -> dt.timedelta | None:
    """The lifetime of a new token for the configured JWT_EXPIRES_IN. A value set before it was checked
    (or in the environment) never stops sign-in: too long is clamped, unreadable is the default."""
    try:
        return parse_expires_in(value)
    except BadRequest as error:
        match = _DURATION.match(value.strip())
        fallback = MAX_LIFETIME if match else parse_expires_in(DEFAULT_EXPIRES_IN)
        log.warning("%s Tokens last %d days instead.", error.detail, fallback.days)
        return fallback


def revoke(session: Session, *, jti: str, user_id: str, expires_at: int | None) -> None:
    if session.get(RevokedToken, jti) is None:
        session.add(RevokedToken(jti=jti, user_id=user_id, expires_at=expires_at))
        session.flush()


_CLAIMS_QUERY = (
    select(User, RevokedToken.jti)
    .outerjoin(RevokedToken, RevokedToken.jti == bindparam("jti"))
    .where(User.id == bindparam("user_id"))
)
"""The user and whether this token was revoked, in one round trip (built once: every request runs it)."""


def check_claims(session: Session, claims: dict) -> User:
    """The user a decoded JWT speaks for, unless it was revoked or predates a password change."""
    row = session.execute(_CLAIMS_QUERY, {"jti": claims.get("jti") or "", "user_id": claims.get("id") or ""}).first()
    if row is None or row[1] is not None or claims.get("ver", 0) != row[0].token_version:
        raise Unauthorized(messages.INVALID_TOKEN)
    return row[0]


def prune_revoked(session: Session) -> int:
    """Forget revocations of tokens that have expired anyway."""
    result = session.execute(delete(RevokedToken).where(RevokedToken.expires_at < int(time.time())))
    return result.rowcount or 0
