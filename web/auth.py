"""Who is calling: a JWT or ``sk-`` API key from ``Authorization: Bearer`` or the ``token`` cookie."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps

import jwt
from flask import Response, g, request
from flask_jwt_extended import create_access_token, decode_token
from flask_jwt_extended.exceptions import JWTExtendedException

from shared import messages
from shared.errors import Unauthorized
from shared.models import User
from shared.services import api_keys, app_config, sessions
from web.db import db

COOKIE = "token"


def presented_credential() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE) or None


def decode(token: str) -> dict:
    try:
        return decode_token(token)
    except (jwt.PyJWTError, JWTExtendedException):
        raise Unauthorized(messages.INVALID_TOKEN) from None


def _resolve() -> tuple[User | None, dict | None]:
    token = presented_credential()
    if token is None:
        return None, None
    if token.startswith(api_keys.PREFIX):
        user = api_keys.user_for_key(db(), token)
        if user is None:
            raise Unauthorized(messages.INVALID_TOKEN)
        return user, None
    claims = decode(token)
    return sessions.check_claims(db(), claims), claims


def optional_user() -> User | None:
    """The caller, None when no credential was presented; a bad credential is 401."""
    if "auth" not in g:
        g.auth = _resolve()
    return g.auth[0]


def current_claims() -> dict | None:
    optional_user()
    return g.auth[1]


def current_user() -> User:
    user = optional_user()
    if user is None:
        raise Unauthorized(messages.NOT_AUTHENTICATED)
    return user


def _requires(roles: tuple[str, ...]) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_user().role not in roles:
                raise Unauthorized(messages.ACCESS_PROHIBITED)
            return view(*args, **kwargs)

        return wrapper

    return decorator


session_required = _requires(("admin", "user", "pending"))
"""Any signed-in account, pending ones included (their own session only)."""
user_required = _requires(("admin", "user"))
"""A verified account (Open WebUI's ``get_verified_user``)."""
admin_required = _requires(("admin",))


def issue_token(user: User) -> tuple[str, int | None]:
    """A signed JWT for the user and its expiry (Unix seconds, None for never)."""
    lifetime = sessions.parse_expires_in(app_config.get(db(), "auth.jwt_expires_in"))
    token = create_access_token(
        identity=user.id,
        additional_claims={"ver": user.token_version},
        expires_delta=lifetime if lifetime is not None else False,
    )
    expires_at = int((dt.datetime.now(dt.timezone.utc) + lifetime).timestamp()) if lifetime else None
    return token, expires_at


def set_token_cookie(response: Response, token: str, expires_at: int | None, secure: bool) -> None:
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="Lax", secure=secure,
        expires=dt.datetime.fromtimestamp(expires_at, dt.timezone.utc) if expires_at else None,
    )
