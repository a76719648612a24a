"""``/api/v1/auths``: sign-up, sign-in (password, trusted header, LDAP), sign-out, the session user, profile,
password, API keys, the admin's auth and LDAP settings."""
from __future__ import annotations

from flask import jsonify, make_response, request
from marshmallow import fields, validate

from shared.config import env, get_settings
from shared.models import User
from shared.errors import BadRequest
from shared.services import accounts, admin_config, api_keys, ldap_auth, oauth, permissions, sessions
from shared.services.passwords import MAX_PASSWORD_LENGTH
from web.caller import (
    COOKIE, admin_required, current_claims, current_user, issue_token, presented_credential,
    session_required, set_token_cookie, user_required,
)
from web.blueprint import Blueprint
from web.db import db
from web.rate_limiting import limited
from web.schemas import Body, ProfileSchema, StatusSchema

blp = Blueprint("auths", __name__, url_prefix="/api/v1/auths", description="Accounts and sessions")

_password = fields.String(required=True, validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH))


class SigninBody(Body):
    # Empty behind a trusted proxy: the web app then signs in with no email and no password.
    email = fields.String(required=True, validate=validate.Length(max=320))
    password = fields.String(required=True, validate=validate.Length(max=MAX_PASSWORD_LENGTH))


class SignupBody(Body):
    email = fields.String(required=True, validate=validate.Length(min=1, max=320))
    password = _password
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    profile_image_url = fields.String(load_default=None, allow_none=True)


class AddUserBody(SignupBody):
    role = fields.String(load_default="pending", validate=validate.OneOf(accounts.ROLES))


class ProfileBody(Body):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    profile_image_url = fields.String(required=True)
    bio = fields.String(load_default=None, allow_none=True)
    gender = fields.String(load_default=None, allow_none=True)
    date_of_birth = fields.Date(load_default=None, allow_none=True)


class TimezoneBody(Body):
    timezone = fields.String(required=True, validate=validate.Length(max=64))


class PasswordBody(Body):
    password = _password
    new_password = _password


class LdapBody(Body):
    user = fields.String(required=True, validate=validate.Length(min=1, max=320))
    password = fields.String(required=True, validate=validate.Length(max=MAX_PASSWORD_LENGTH))


class LdapEnableBody(Body):
    enable_ldap = fields.Boolean(load_default=None, allow_none=True)


class LdapServerBody(Body):
    label = fields.String(required=True)
    host = fields.String(required=True)
    port = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=65535))
    attribute_for_mail = fields.String(load_default="mail")
    default_email_domain = fields.String(load_default="")
    attribute_for_username = fields.String(load_default="uid")
    app_dn = fields.String(required=True)
    app_dn_password = fields.String(required=True)
    search_base = fields.String(required=True)
    search_filters = fields.String(load_default="")
    use_tls = fields.Boolean(load_default=True)
    certificate_path = fields.String(load_default=None, allow_none=True)
    validate_cert = fields.Boolean(load_default=True)
    ciphers = fields.String(load_default="ALL", allow_none=True)
    enable_group_management = fields.Boolean(load_default=False)
    enable_group_creation = fields.Boolean(load_default=False)
    attribute_for_groups = fields.String(load_default="memberOf")


class ApiKeySchema(Body):
    api_key = fields.String()


class AdminConfigBody(Body):
    SHOW_ADMIN_DETAILS = fields.Boolean()
    ADMIN_EMAIL = fields.String(allow_none=True)
    WEBUI_URL = fields.String()
    ENABLE_SIGNUP = fields.Boolean()
    ENABLE_LOGIN_FORM = fields.Boolean()
    ENABLE_API_KEYS = fields.Boolean()
    DEFAULT_USER_ROLE = fields.String(validate=validate.OneOf(accounts.ROLES))
    JWT_EXPIRES_IN = fields.String()
    ENABLE_COMMUNITY_SHARING = fields.Boolean()
    ENABLE_MESSAGE_RATING = fields.Boolean()
    ENABLE_FOLDERS = fields.Boolean()
    ENABLE_CHANNELS = fields.Boolean()
    ENABLE_NOTES = fields.Boolean()
    ENABLE_MEMORIES = fields.Boolean()
    ENABLE_USER_WEBHOOKS = fields.Boolean()
    PENDING_USER_OVERLAY_TITLE = fields.String()
    PENDING_USER_OVERLAY_CONTENT = fields.String()
    RESPONSE_WATERMARK = fields.String()


def _session_payload(user: User, token: str | None, expires_at: int | None) -> dict:
    return {
        "token": token,
        "token_type": "Bearer",
        "expires_at": expires_at,
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "profile_image_url": user.profile_image_url,
        "permissions": permissions.permissions_for(db(), user),
    }


def _signed_in(user: User):
    """The sign-in answer: a fresh token in the body and in the HttpOnly cookie."""
    token, expires_at = issue_token(user)
    response = make_response(jsonify(_session_payload(user, token, expires_at)))
    set_token_cookie(response, token, expires_at, get_settings().cookie_secure)
    return response


@blp.route("/", methods=["GET"])
@session_required
@blp.doc(security=[{"bearer": []}])
def session_user():
    """The signed-in user (pending accounts too), with the presented token and its expiry."""
    user = current_user()
    claims = current_claims() or {}
    payload = _session_payload(user, presented_credential(), claims.get("exp"))
    payload.update(bio=user.bio, gender=user.gender,
                   date_of_birth=user.date_of_birth.isoformat() if user.date_of_birth else None,
                   status_emoji=None, status_message=None, status_expires_at=None)
    return jsonify(payload)


@blp.route("/signup", methods=["POST"])
@limited("signin", by_address=True)
@blp.arguments(SignupBody)
def signup(body: dict):
    """Create an account; the first one becomes admin, later ones get the default role."""
    return _signed_in(accounts.signup(db(), **body))


@blp.route("/signin", methods=["POST"])
@limited("signin", by_address=True)
@blp.arguments(SigninBody)
def signin(body: dict):
    """Exchange email and password for a token (also set as the ``token`` cookie); behind a trusted proxy
    (``WEBUI_AUTH_TRUSTED_EMAIL_HEADER``) its headers name the user instead."""
    email_header = env("WEBUI_AUTH_TRUSTED_EMAIL_HEADER")
    if email_header:
        name_header = env("WEBUI_AUTH_TRUSTED_NAME_HEADER")
        user = accounts.trusted_signin(db(), request.headers.get(email_header),
                                       request.headers.get(name_header) if name_header else None)
        return _signed_in(user)
    return _signed_in(accounts.authenticate(db(), body["email"], body["password"]))


@blp.route("/ldap", methods=["POST"])
@blp.arguments(LdapBody)
def ldap_signin(body: dict):
    """Sign in with a directory username and password (LDAP); the answer is sign-in's."""
    return _signed_in(ldap_auth.authenticate(db(), body["user"], body["password"]))


@blp.route("/signout", methods=["POST", "GET"])
@blp.response(200, StatusSchema)
def signout():
    """Revoke the presented token server-side and clear the cookie."""
    claims = current_claims()
    if claims:
        sessions.revoke(db(), jti=claims["jti"], user_id=claims["id"], expires_at=claims.get("exp"))
    response = make_response(jsonify(status=True))
    response.delete_cookie(COOKIE)
    return response


@blp.route("/add", methods=["POST"])
@admin_required
@blp.arguments(AddUserBody)
@blp.response(200, ProfileSchema)
def add_user(body: dict):
    """An admin creates an account with a chosen role."""
    return accounts.add_user(db(), **body)


@blp.route("/update/profile", methods=["POST"])
@user_required
@blp.arguments(ProfileBody)
@blp.response(200, ProfileSchema)
def update_profile(body: dict):
    return accounts.update_profile(db(), current_user(), **body)


@blp.route("/update/timezone", methods=["POST"])
@session_required
@blp.arguments(TimezoneBody)
@blp.response(200, StatusSchema)
def update_timezone(body: dict):
    current_user().timezone = body["timezone"]
    return {"status": True}


@blp.route("/update/password", methods=["POST"])
@user_required
@blp.arguments(PasswordBody)
def update_password(body: dict):
    """Change the password; every token issued before stops working (a fresh cookie is set)."""
    user = current_user()
    accounts.change_password(db(), user, body["password"], body["new_password"])
    token, expires_at = issue_token(user)
    response = make_response(jsonify(True))
    set_token_cookie(response, token, expires_at, get_settings().cookie_secure)
    return response


@blp.route("/admin/details", methods=["GET"])
@session_required
def admin_details():
    """The admin a pending account should contact: ``{name, email}`` (400 while ``SHOW_ADMIN_DETAILS`` is off)."""
    return jsonify(admin_config.admin_contact(db()))


@blp.route("/admin/config", methods=["GET"])
@admin_required
def get_admin_config():
    return jsonify(admin_config.read(db()))


@blp.route("/admin/config", methods=["POST"])
@admin_required
@blp.arguments(AdminConfigBody)
def set_admin_config(body: dict):
    return jsonify(admin_config.update(db(), body))


@blp.route("/admin/config/oauth", methods=["GET"])
@admin_required
def get_oauth_config():
    """The OpenID Connect settings, read from the environment."""
    return jsonify(oauth.admin_settings())


@blp.route("/admin/config/oauth", methods=["POST"])
@admin_required
def set_oauth_config():
    """400: the sign-in settings are the environment's (a change must reach every process)."""
    raise BadRequest(oauth.FROM_ENVIRONMENT)


@blp.route("/admin/config/ldap", methods=["GET"])
@admin_required
def get_ldap_config():
    return jsonify(ENABLE_LDAP=ldap_auth.enabled(db()))


@blp.route("/admin/config/ldap", methods=["POST"])
@admin_required
@blp.arguments(LdapEnableBody)
def set_ldap_config(body: dict):
    return jsonify(ENABLE_LDAP=ldap_auth.set_enabled(db(), body["enable_ldap"]))


@blp.route("/admin/config/ldap/server", methods=["GET"])
@admin_required
def get_ldap_server():
    return jsonify(ldap_auth.read_server(db()))


@blp.route("/admin/config/ldap/server", methods=["POST"])
@admin_required
@blp.arguments(LdapServerBody)
def set_ldap_server(body: dict):
    return jsonify(ldap_auth.update_server(db(), body))


@blp.route("/api_key", methods=["GET"])
@user_required
@blp.response(200, ApiKeySchema)
def read_api_key():
    return {"api_key": api_keys.read(db(), current_user())}


@blp.route("/api_key", methods=["POST"])
@user_required
@blp.response(200, ApiKeySchema)
def create_api_key():
    """Create (or replace) the caller's ``sk-`` key."""
    return {"api_key": api_keys.create(db(), current_user())}


@blp.route("/api_key", methods=["DELETE"])
@user_required
def delete_api_key():
    api_keys.delete(db(), current_user())
    return jsonify(True)
