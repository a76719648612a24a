"""LDAP sign-in with Open WebUI's settings and answers: the directory vouches for the user (see
``shared.providers.ldap_directory``), the account with their email signs in, created on first sight with the
default role; the directory's groups set the user's groups when their management is on."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shared import messages
from shared.config import env
from shared.crypto import encrypt
from shared.errors import BadRequest
from shared.models import User
from shared.providers import ldap_directory
from shared.services import accounts, app_config, groups

NOT_ENABLED = "LDAP authentication is not enabled"
NO_EMAIL = "User does not have a valid email address."
ENABLE_KEY = "ldap.enable"
SERVER_FIELDS = {
    "label": "ldap.server.label",
    "host": "ldap.server.host",
    "port": "ldap.server.port",
    "attribute_for_mail": "ldap.server.attribute_for_mail",
    "default_email_domain": "ldap.server.default_email_domain",
    "attribute_for_username": "ldap.server.attribute_for_username",
    "app_dn": "ldap.server.app_dn",
    "app_dn_password": "ldap.server.app_password",
    "search_base": "ldap.server.users_dn",
    "search_filters": "ldap.server.search_filter",
    "use_tls": "ldap.server.use_tls",
    "certificate_path": "ldap.server.ca_cert_file",
    "validate_cert": "ldap.server.validate_cert",
    "ciphers": "ldap.server.ciphers",
    "enable_group_management": "ldap.group.enable_management",
    "enable_group_creation": "ldap.group.enable_creation",
    "attribute_for_groups": "ldap.server.attribute_for_groups",
}
"""The admin's LDAP server form (Open WebUI's field names) -> config keys."""
SECRETS = frozenset({"app_dn_password"})
REQUIRED = ("label", "host", "attribute_for_mail", "attribute_for_username", "search_base")
_ENV = {
    "label": "LDAP_SERVER_LABEL", "host": "LDAP_SERVER_HOST", "port": "LDAP_SERVER_PORT",
    "attribute_for_mail": "LDAP_ATTRIBUTE_FOR_MAIL", "default_email_domain": "LDAP_DEFAULT_EMAIL_DOMAIN",
    "attribute_for_username": "LDAP_ATTRIBUTE_FOR_USERNAME", "app_dn": "LDAP_APP_DN",
    "app_dn_password": "LDAP_APP_PASSWORD", "search_base": "LDAP_SEARCH_BASE",
    "search_filters": "LDAP_SEARCH_FILTERS", "use_tls": "LDAP_USE_TLS", "certificate_path": "LDAP_CA_CERT_FILE",
    "validate_cert": "LDAP_VALIDATE_CERT", "ciphers": "LDAP_CIPHERS",
    "enable_group_management": "ENABLE_LDAP_GROUP_MANAGEMENT", "enable_group_creation": "ENABLE_LDAP_GROUP_CREATION",
    "attribute_for_groups": "LDAP_ATTRIBUTE_FOR_GROUPS",
}


def _default(field: str) -> Any:
    value = env(_ENV[field])
    return encrypt(value) if field in SECRETS and value else value


CONFIG_DEFAULTS = {ENABLE_KEY: lambda _s: env("ENABLE_LDAP"),
                   **{key: (lambda _s, field=field: _default(field)) for field, key in SERVER_FIELDS.items()}}


def read_server(session: Session) -> dict[str, Any]:
    return app_config.get_fields(session, SERVER_FIELDS, SECRETS)


def update_server(session: Session, form: dict[str, Any]) -> dict[str, Any]:
    for field in REQUIRED:
        if not form.get(field):
            raise BadRequest(f"Required field {field} is empty.")
    if form.get("enable_group_management") and not (form.get("attribute_for_groups") or "").strip():
        raise BadRequest("Required field attribute_for_groups is empty.")
    app_config.set_fields(session, SERVER_FIELDS, form, SECRETS)
    return read_server(session)


def enabled(session: Session) -> bool:
    return bool(app_config.get(session, ENABLE_KEY))


def set_enabled(session: Session, on: bool | None) -> bool:
    app_config.set_many(session, {ENABLE_KEY: on})
    return enabled(session)


def _directory_config(server: dict[str, Any]) -> ldap_directory.DirectoryConfig:
    return ldap_directory.DirectoryConfig(
        host=server["host"], port=server["port"] or (636 if server["use_tls"] else 389), use_tls=server["use_tls"],
        ca_cert_file=server["certificate_path"] or "", validate_cert=server["validate_cert"],
        ciphers=server["ciphers"] or "ALL", app_dn=server["app_dn"] or "", app_password=server["app_dn_password"] or "",
        search_base=server["search_base"], search_filters=server["search_filters"] or "",
        attribute_for_username=server["attribute_for_username"], attribute_for_mail=server["attribute_for_mail"],
        attribute_for_groups=server["attribute_for_groups"] if server["enable_group_management"] else None)


def authenticate(session: Session, username: str, password: str) -> User:
    """The account the directory signs in (created on first sight, its groups set from the directory's)."""
    if not enabled(session):
        raise BadRequest(NOT_ENABLED)
    if not password.strip():
        raise BadRequest(messages.INVALID_CRED)
    server = read_server(session)
    try:
        found = ldap_directory.authenticate(_directory_config(server), username, password)
    except ldap_directory.DirectoryRefused as error:
        raise BadRequest(str(error)) from None
    email = found.email or (f"{username}@{server['default_email_domain']}" if server["default_email_domain"] else "")
    try:
        email = accounts.normalize_email(email)
    except BadRequest:
        raise BadRequest(NO_EMAIL) from None
    user = accounts.user_by_email(session, email) or accounts.create_external(
        session, name=found.name, email=email, role=app_config.get(session, "ui.default_user_role"))
    if server["enable_group_management"] and found.group_names:
        groups.sync_by_names(session, user.id, found.group_names, create_missing=server["enable_group_creation"],
                             creator_id=accounts.first_admin_id(session) or user.id)
    session.flush()
    return accounts.signed_in(session, user, "ldap")
