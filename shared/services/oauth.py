"""Sign-in through an OpenID Connect provider, with Open WebUI's rules: the account is found by the provider's
``sub``, else by email when merging is on, else created when OAuth sign-up is on; role and group claims decide
the role and the groups at each sign-in when their management is on.

The login step keeps the state, nonce and PKCE verifier in Redis under the state (ten minutes, one use); the
browser carries the state in a cookie too, so a callback is only honoured in the browser that started it.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import messages
from shared.config import env
from shared.errors import BadRequest, Forbidden, NotFound
from shared.models import User
from shared.providers import oidc
from shared.redis_client import get_redis, key
from shared.services import accounts, app_config, groups, profile_images

log = logging.getLogger(__name__)

OIDC = "oidc"
"""The provider id of the generic OpenID Connect provider (Open WebUI's ``/oauth/oidc/...``)."""
STATE_TTL = 600
"""Seconds a user has at the provider between the login redirect and the callback."""


class LoginFailed(BadRequest):
    """The provider's answer does not sign anyone in; the user reads Open WebUI's generic message."""

    def __init__(self, reason: str) -> None:
        log.warning("OAuth sign-in refused: %s", reason)
        super().__init__(messages.OAUTH_LOGIN_FAILED)


def _oidc_client() -> oidc.Client | None:
    client_id, metadata_url = env("OAUTH_CLIENT_ID"), env("OPENID_PROVIDER_URL")
    secret, pkce = env("OAUTH_CLIENT_SECRET"), env("OAUTH_CODE_CHALLENGE_METHOD")
    if not (client_id and metadata_url and (secret or pkce)):
        return None
    return oidc.Client(name=OIDC, client_id=client_id, client_secret=secret, metadata_url=metadata_url,
                       scope=env("OAUTH_SCOPES"), code_challenge_method=pkce,
                       token_endpoint_auth_method=env("OAUTH_TOKEN_ENDPOINT_AUTH_METHOD"),
                       timeout=env("OAUTH_TIMEOUT"))


ADMIN_FIELDS = {
    "ENABLE_OAUTH_SIGNUP": "ENABLE_OAUTH_SIGNUP", "OAUTH_MERGE_ACCOUNTS_BY_EMAIL": "OAUTH_MERGE_ACCOUNTS_BY_EMAIL",
    "OAUTH_AUTO_REDIRECT": "OAUTH_AUTO_REDIRECT", "OAUTH_ALLOWED_DOMAINS": "OAUTH_ALLOWED_DOMAINS",
    "ENABLE_OAUTH_ROLE_MANAGEMENT": "ENABLE_OAUTH_ROLE_MANAGEMENT", "OAUTH_ROLES_CLAIM": "OAUTH_ROLES_CLAIM",
    "OAUTH_ADMIN_ROLES": "OAUTH_ADMIN_ROLES", "OAUTH_ALLOWED_ROLES": "OAUTH_ALLOWED_ROLES",
    "ENABLE_OAUTH_GROUP_MANAGEMENT": "ENABLE_OAUTH_GROUP_MANAGEMENT",
    "ENABLE_OAUTH_GROUP_CREATION": "ENABLE_OAUTH_GROUP_CREATION", "OAUTH_GROUP_CLAIM": "OAUTH_GROUPS_CLAIM",
    "OAUTH_PROVIDER_NAME": "OAUTH_PROVIDER_NAME", "OPENID_PROVIDER_URL": "OPENID_PROVIDER_URL",
    "OAUTH_CLIENT_ID": "OAUTH_CLIENT_ID", "OAUTH_CLIENT_SECRET": "OAUTH_CLIENT_SECRET",
    "OPENID_REDIRECT_URI": "OPENID_REDIRECT_URI", "OAUTH_SCOPES": "OAUTH_SCOPES",
    "OAUTH_CODE_CHALLENGE_METHOD": "OAUTH_CODE_CHALLENGE_METHOD",
    "OAUTH_TOKEN_ENDPOINT_AUTH_METHOD": "OAUTH_TOKEN_ENDPOINT_AUTH_METHOD", "OAUTH_TIMEOUT": "OAUTH_TIMEOUT",
    "OAUTH_EMAIL_CLAIM": "OAUTH_EMAIL_CLAIM", "OAUTH_USERNAME_CLAIM": "OAUTH_USERNAME_CLAIM",
    "OAUTH_PICTURE_CLAIM": "OAUTH_PICTURE_CLAIM", "OAUTH_SUB_CLAIM": "OAUTH_SUB_CLAIM",
}
"""The Authentication tab's OAuth fields (Open WebUI's ``OAuthConfigForm``) and the setting each shows."""
FROM_ENVIRONMENT = ("The sign-in settings come from the environment (OAUTH_*, OPENID_*, see docs/sign-in.md): "
                    "change them there and restart.")


def admin_settings() -> dict:
    """What the admin's Authentication tab shows, as Open WebUI answers when its OAuth settings are not kept in
    the database (``ENABLE_OAUTH_PERSISTENT_CONFIG`` false): lists as commas, the secret in clear."""
    values = {field: env(name) for field, name in ADMIN_FIELDS.items()}
    shown = {field: ",".join(value) if isinstance(value, list) else value for field, value in values.items()}
    return {"ENABLE_OAUTH": bool(providers()), **shown, "ENABLE_OAUTH_PERSISTENT_CONFIG": False}


def providers() -> dict[str, str]:
    """The configured providers and their button labels, as ``/api/config`` lists them."""
    return {OIDC: env("OAUTH_PROVIDER_NAME")} if _oidc_client() else {}


def _client(provider: str) -> oidc.Client:
    client = _oidc_client() if provider == OIDC else None
    if client is None:
        raise NotFound(messages.NOT_FOUND)
    return client


def _state_key(state: str) -> str:
    return key("oauth", "state", state)


def begin(provider: str, callback_url: str) -> tuple[str, str]:
    """The provider's authorization URL to send the browser to, and the state the browser must keep."""
    client = _client(provider)
    redirect_uri = env("OPENID_REDIRECT_URI") or callback_url
    try:
        started = oidc.authorization(client, redirect_uri)
    except oidc.OidcError as error:
        raise LoginFailed(str(error)) from None
    pending = {"provider": provider, "redirect_uri": redirect_uri, "nonce": started.get("nonce"),
               "code_verifier": started.get("code_verifier")}
    get_redis().set(_state_key(started["state"]), json.dumps(pending), ex=STATE_TTL)
    return started["url"], started["state"]


def _take_pending(state: str) -> dict | None:
    """The login step's data for ``state``, deleted as it is read, so a callback is honoured once."""
    pipe = get_redis().pipeline()
    pipe.get(_state_key(state))
    pipe.delete(_state_key(state))
    raw, _ = pipe.execute()
    return json.loads(raw) if raw else None


def complete(session: Session, provider: str, query: Mapping[str, str], browser_state: str | None) -> User:
    """The account the provider's callback signs in (created, merged, its role and groups updated)."""
    client = _client(provider)
    if query.get("error"):
        raise LoginFailed(f"the provider answered {query.get('error')}: {query.get('error_description')}")
    state, code = query.get("state"), query.get("code")
    if not state or not code or state != browser_state:
        raise LoginFailed("the state does not match the one this browser started with")
    pending = _take_pending(state)
    if pending is None or pending["provider"] != provider:
        raise LoginFailed("unknown or already used state")
    try:
        claims = oidc.sign_in(client, redirect_uri=pending["redirect_uri"], code=code, nonce=pending["nonce"],
                              code_verifier=pending["code_verifier"])
    except oidc.OidcError as error:
        raise LoginFailed(str(error)) from None
    return accounts.signed_in(session, _account(session, provider, claims), "oauth")


def _claim(claims: Mapping[str, Any], name: str) -> Any:
    """A claim by name, or by a dotted path into nested objects (``realm_access.roles``)."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _claim_list(claims: Mapping[str, Any], name: str, separator: str) -> list[str]:
    value = _claim(claims, name) if name else None
    if isinstance(value, list):
        return [str(item) for item in value]
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [part.strip() for part in str(value).split(separator) if part.strip()]
    return []


def _role(current: str | None, default: str, claims: Mapping[str, Any]) -> str:
    """The role the roles claim gives (admin roles win over allowed ones); without role management, or
    without roles in the claims, an account keeps its role and a new one gets the default. Roles that match
    neither list refuse the sign-in."""
    role = current or default
    if not env("ENABLE_OAUTH_ROLE_MANAGEMENT"):
        return role
    roles = _claim_list(claims, env("OAUTH_ROLES_CLAIM"), ",")
    if not roles:
        return role
    if any(admin_role in roles for admin_role in env("OAUTH_ADMIN_ROLES")):
        return "admin"
    if any(allowed == "*" or allowed in roles for allowed in env("OAUTH_ALLOWED_ROLES")):
        return "user"
    log.warning("OAuth roles %s match none of the allowed or admin roles", roles)
    raise Forbidden(messages.ACCESS_PROHIBITED)


def _picture(claims: Mapping[str, Any]) -> str | None:
    """The picture claim when it is a URL a user could set themselves, else the default picture."""
    url = _claim(claims, env("OAUTH_PICTURE_CLAIM")) if env("OAUTH_PICTURE_CLAIM") else None
    try:
        return profile_images.checked_url(url) if isinstance(url, str) else None
    except BadRequest:
        return None


def _by_sub(session: Session, provider: str, sub: str) -> User | None:
    return session.scalar(select(User).where(User.oauth[provider]["sub"].as_string() == sub).limit(1))


def _account(session: Session, provider: str, claims: Mapping[str, Any]) -> User:
    sub = _claim(claims, env("OAUTH_SUB_CLAIM") or "sub")
    email = _claim(claims, env("OAUTH_EMAIL_CLAIM"))
    if sub in (None, "") or not isinstance(email, str) or not email:
        raise LoginFailed("the claims have no subject or no email")
    sub, email = str(sub), email.strip().lower()
    allowed_domains = env("OAUTH_ALLOWED_DOMAINS")
    if "*" not in allowed_domains and email.rpartition("@")[2] not in allowed_domains:
        raise LoginFailed(f"the email domain of {email} is not allowed")
    identity = {provider: {"sub": sub}}
    user = _by_sub(session, provider, sub)
    if user is None and env("OAUTH_MERGE_ACCOUNTS_BY_EMAIL"):
        user = accounts.user_by_email(session, email)
        if user is not None:
            user.oauth = {**(user.oauth or {}), **identity}
    default_role = app_config.get(session, "ui.default_user_role")
    if user is not None:
        user.role = _role(user.role, default_role, claims)
    elif not env("ENABLE_OAUTH_SIGNUP"):
        raise Forbidden(messages.ACCESS_PROHIBITED)
    else:
        name = _claim(claims, env("OAUTH_USERNAME_CLAIM"))
        user = accounts.create_external(session, name=name if isinstance(name, str) else email, email=email,
                                        role=_role(None, default_role, claims), profile_image_url=_picture(claims),
                                        oauth=identity)
    if env("ENABLE_OAUTH_GROUP_MANAGEMENT"):
        groups.sync_by_names(session, user.id, _claim_list(claims, env("OAUTH_GROUPS_CLAIM"), ";"),
                             create_missing=env("ENABLE_OAUTH_GROUP_CREATION"),
                             creator_id=accounts.first_admin_id(session) or user.id)
    session.flush()
    return user
