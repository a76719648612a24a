"""An OpenID Connect relying party on Authlib: the provider's discovery document, the authorization URL, the
code exchange and the ID token's checks (signature against the provider's JWKS, issuer, audience, expiry,
nonce), then its userinfo endpoint for claims the ID token leaves out.

Authlib's framework clients keep the state in a cookie session; the web app keeps none, so the state, nonce
and PKCE verifier go back to the caller to keep (``shared.services.oauth`` keeps them in Redis).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import BaseApp, FrameworkIntegration, OAuth2Mixin, OpenIDMixin
from authlib.integrations.requests_client import OAuth2Session
from joserfc.errors import BadSignatureError, JoseError

log = logging.getLogger(__name__)


class OidcError(Exception):
    """The provider could not be reached, refused, or answered something that does not check out."""


@dataclass(frozen=True)
class Client:
    """One registration at one provider: what the provider knows this deployment as."""

    name: str
    client_id: str
    client_secret: str
    metadata_url: str
    scope: str
    code_challenge_method: str = ""
    token_endpoint_auth_method: str = ""
    timeout: float = 10.0


class _App(OAuth2Mixin, OpenIDMixin, BaseApp):
    """Authlib's framework-independent OAuth 2.0 + OpenID client on ``requests``."""

    client_cls = OAuth2Session


_apps: dict[Client, _App] = {}
_apps_lock = threading.Lock()


def _app(client: Client) -> _App:
    """One Authlib client per registration, so the discovery document and JWKS are fetched once."""
    with _apps_lock:
        app = _apps.get(client)
        if app is None:
            kwargs: dict[str, Any] = {"scope": client.scope, "default_timeout": client.timeout}
            if client.code_challenge_method:
                kwargs["code_challenge_method"] = client.code_challenge_method
            if client.token_endpoint_auth_method:
                kwargs["token_endpoint_auth_method"] = client.token_endpoint_auth_method
            app = _App(FrameworkIntegration(client.name), name=client.name, client_id=client.client_id,
                       client_secret=client.client_secret, server_metadata_url=client.metadata_url,
                       client_kwargs=kwargs)
            _apps[client] = app
        return app


_FAILURES = (requests.RequestException, AuthlibBaseError, JoseError, ValueError, KeyError, RuntimeError)
"""What a provider that is down, misconfigured or lying makes Authlib raise."""


def authorization(client: Client, redirect_uri: str) -> dict[str, str]:
    """The URL to send the browser to, with the ``state``, ``nonce`` and ``code_verifier`` the callback needs."""
    try:
        return _app(client).create_authorization_url(redirect_uri)
    except _FAILURES as error:
        raise OidcError(f"authorization URL: {error}") from error


def sign_in(client: Client, *, redirect_uri: str, code: str, nonce: str | None,
            code_verifier: str | None) -> dict[str, Any]:
    """The user's claims for an authorization code: the checked ID token's, completed by the userinfo
    endpoint's (which win where both say something)."""
    app = _app(client)
    try:
        params = {"code": code, **({"code_verifier": code_verifier} if code_verifier else {})}
        token = app.fetch_access_token(redirect_uri, **params)
        id_claims = _id_token_claims(app, token, nonce) if "openid" in client.scope.split() else {}
        claims = dict(id_claims)
        if "userinfo_endpoint" in app.load_server_metadata() and token.get("access_token"):
            userinfo = app.userinfo(token=token)
            if id_claims and userinfo.get("sub") != id_claims.get("sub"):
                # OpenID Connect Core 5.3.2: another subject's userinfo must not be taken for this user's.
                raise OidcError("the userinfo's sub differs from the ID token's")
            claims.update(userinfo)
        return claims
    except _FAILURES as error:
        raise OidcError(f"sign-in: {error!r}") from error


def _id_token_claims(app: _App, token: dict, nonce: str | None) -> dict[str, Any]:
    if "id_token" not in token:
        raise OidcError("the token answer has no id_token")
    try:
        return dict(app.parse_id_token(token, nonce))
    except BadSignatureError:
        # The provider may have rotated its key under the same key id: read its JWKS again, once.
        log.info("ID token signature does not match the cached keys of %s; reading them again", app.name)
        app.server_metadata.pop("jwks", None)
        return dict(app.parse_id_token(token, nonce))
