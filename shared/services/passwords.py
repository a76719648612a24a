"""Password hashing with argon2 (re-hashed on sign-in when the parameters change)."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MAX_PASSWORD_LENGTH = 1024


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> tuple[bool, str | None]:
    """Whether the password matches, and a fresh hash to store when the old one is outdated."""
    try:
        _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False, None
    return True, (_hasher.hash(password) if _hasher.check_needs_rehash(stored_hash) else None)


_DUMMY_HASH = _hasher.hash("switchyard-timing-equaliser")


def burn_verify_time(password: str) -> None:
    """Spend what a real verification costs, so unknown emails and wrong passwords take as long."""
    verify_password(_DUMMY_HASH, password + "x")
