"""Symmetric encryption of stored secrets (API keys, upstream keys) with the deployment's secret key."""
from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from shared.config import get_settings


@lru_cache(maxsize=1)
def _fernet() -> Fernet:
    digest = hashlib.sha256(("switchyard-secrets:" + get_settings().secret_key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(cipher: str) -> str | None:
    """The plain text, or None when the secret key changed since it was stored."""
    try:
        return _fernet().decrypt(cipher.encode()).decode()
    except InvalidToken:
        return None


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
