"""Who is calling: a JWT or ``sk-`` API key from ``Authorization: Bearer`` or the ``token`` cookie."""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from functools import wraps

import jwt
from flask import Response, g, request
from flask_jwt_extended import create_access_token, decode_token
from flask_jwt_extended.exceptions import JWTExtendedException

from shared import messages
from shared.config import env
from shared.errors import Unauthorized
from shared.models import User
from shared.services import api_keys, app_config, auth_cache, sessions, users
from shared.services.auth_cache import AuthCache
from web.db import db
from web.streaming.relay import get_relay

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


checked_sessions = AuthCache()
"""This process's checked tokens (see shared.services.auth_cache)."""
_listening_pid: int | None = None


def _checked_sessions() -> AuthCache:
    """This process's cache of checked tokens, following the change announcements (see auth_cache)."""
    global _listening_pid
    if _listening_pid != os.getpid():
        _listening_pid = os.getpid()
        get_relay().listen(auth_cache.channel(), checked_sessions)
    return checked_sessions


def _resolve() -> tuple[User | None, dict | None]:
    token = presented_credential()
    if token is None:
        return None, None
    if token.startswith(api_keys.PREFIX):
        user = api_keys.user_for_key(db(), token)
        if user is None:
            raise Unauthorized(messages.INVALID_TOKEN)
        users.drop_unusable_json(user)
        return user, None
    checked = _checked_sessions()
    hit = checked.lookup(token)
    if hit is not None:
        claims, values = hit
        user = db().merge(auth_cache.detached_user(values), load=False)
        _check_trusted_header(user.email)
        return user, claims
    generation = checked.generation
    claims = decode(token)
    user = sessions.check_claims(db(), claims)
    users.drop_unusable_json(user)
    checked.store(token, claims, user, generation)
    _check_trusted_header(user.email)
    return user, claims


def _check_trusted_header(email: str) -> None:
    """Behind a trusted proxy, a session token of another user than the one the proxy vouches for is
    refused (the proxy's user changed; Open WebUI's check)."""
    header = env("WEBUI_AUTH_TRUSTED_EMAIL_HEADER")
    trusted = request.headers.get(header, "").strip().lower() if header else ""
    if trusted and trusted != email:
        raise Unauthorized(messages.TRUSTED_USER_MISMATCH)


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
    lifetime = sessions.token_lifetime(app_config.get(db(), "auth.jwt_expires_in"))
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
