"""``/oauth/{provider}``: the browser's round trip through an OpenID Connect provider. Both steps answer with
redirects, as the web app expects: the callback lands on ``/auth`` with the ``token`` cookie set (readable by
the page, which then calls ``/api/v1/auths/``), or with ``?error=`` saying why not."""
from __future__ import annotations

import urllib.parse

from flask import Response, redirect, request, url_for

from shared.config import get_settings
from shared.errors import NotFound, ServiceError
from shared.services import app_config, oauth
from web.blueprint import Blueprint
from web.caller import COOKIE, issue_token
from web.db import db

blp = Blueprint("oauth", __name__, url_prefix="/oauth", description="Sign-in through an identity provider")

STATE_COOKIE = "oauth_state"
"""Binds the callback to the browser that started the login (its value is the OAuth ``state``)."""


def _auth_page(error: str | None = None) -> Response:
    base = (app_config.get(db(), "ui.webui_url") or request.host_url).rstrip("/")
    response = redirect(f"{base}/auth" + (f"?error={urllib.parse.quote_plus(error)}" if error else ""))
    response.headers["Cache-Control"] = "no-store"
    response.delete_cookie(STATE_COOKIE, path=blp.url_prefix)
    return response


@blp.route("/<provider>/login", methods=["GET"])
def login(provider: str):
    """Send the browser to the provider's sign-in page."""
    try:
        url, state = oauth.begin(provider, url_for("oauth.callback", provider=provider, _external=True))
    except NotFound:
        raise
    except ServiceError as error:
        return _auth_page(str(error.detail))
    response = redirect(url)
    response.set_cookie(STATE_COOKIE, state, max_age=oauth.STATE_TTL, httponly=True, samesite="Lax",
                        secure=get_settings().cookie_secure, path=blp.url_prefix)
    return response


@blp.route("/<provider>/callback", methods=["GET"], endpoint="legacy_callback")
@blp.route("/<provider>/login/callback", methods=["GET"])
def callback(provider: str):
    """Where the provider sends the browser back: sign in and land on the web app's ``/auth`` page."""
    try:
        user = oauth.complete(db(), provider, request.args, request.cookies.get(STATE_COOKIE))
    except NotFound:
        raise
    except ServiceError as error:
        db().rollback()
        return _auth_page(str(error.detail))
    token, expires_at = issue_token(user)
    response = _auth_page()
    # Not HttpOnly: the web app reads this cookie after an OAuth sign-in (Open WebUI sets it the same way).
    response.set_cookie(COOKIE, token, samesite="Lax", secure=get_settings().cookie_secure, expires=expires_at)
    return response
