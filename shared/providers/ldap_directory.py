"""The directory behind LDAP sign-in (ldap3): a service account finds the user's entry, then a bind as that entry
checks the password, as Open WebUI does."""
from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass

from ldap3 import ANONYMOUS, SIMPLE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException, LDAPSSLConfigurationError
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

log = logging.getLogger(__name__)

APP_BIND_FAILED = "Application account bind failed"
USER_NOT_FOUND = "User not found in the LDAP server"
USER_MISMATCH = "User record mismatch."
AUTHENTICATION_FAILED = "Authentication failed."
LDAP_FAILED = "LDAP authentication failed."
TLS_FAILED = "Failed to configure TLS for LDAP connection."


class DirectoryRefused(Exception):
    """The directory did not vouch for the user; the message is Open WebUI's for the case."""


@dataclass(frozen=True)
class DirectoryConfig:
    host: str
    port: int
    use_tls: bool
    ca_cert_file: str
    validate_cert: bool
    ciphers: str
    app_dn: str
    app_password: str
    search_base: str
    search_filters: str
    attribute_for_username: str
    attribute_for_mail: str
    attribute_for_groups: str | None
    """None: the user's groups are not read."""
    timeout: int = 10
    """Seconds (ldap3 sets them as a socket option, which takes whole seconds)."""


@dataclass(frozen=True)
class DirectoryUser:
    dn: str
    name: str
    email: str | None
    group_names: list[str]


def _server(config: DirectoryConfig) -> Server:
    tls = Tls(validate=ssl.CERT_REQUIRED if config.validate_cert else ssl.CERT_NONE,
              ca_certs_file=config.ca_cert_file or None, ciphers=config.ciphers or "ALL")
    return Server(config.host, port=config.port, use_ssl=config.use_tls, tls=tls,
                  connect_timeout=config.timeout)


def _group_name(dn: str) -> str | None:
    """A group DN's first CN (``cn=research,ou=groups,...`` is ``research``)."""
    try:
        return next((value for attribute, value, _sep in parse_dn(dn) if attribute.lower() == "cn"), None)
    except LDAPException:
        return None


def authenticate(config: DirectoryConfig, username: str, password: str) -> DirectoryUser:
    """The directory's user for this username, once their password binds."""
    if not password.strip():
        raise DirectoryRefused(AUTHENTICATION_FAILED)  # an empty password is an unauthenticated bind (RFC 4513)
    try:
        server = _server(config)
    except LDAPSSLConfigurationError as error:
        log.warning("LDAP TLS settings refused: %s", error)
        raise DirectoryRefused(TLS_FAILED) from None
    app = Connection(server, config.app_dn or None, config.app_password or None,
                     authentication=SIMPLE if config.app_dn else ANONYMOUS, receive_timeout=config.timeout)
    try:
        if not app.bind():
            raise DirectoryRefused(APP_BIND_FAILED)
        attributes = [config.attribute_for_username, config.attribute_for_mail, "cn"]
        if config.attribute_for_groups:
            attributes.append(config.attribute_for_groups)
        query = f"(&({config.attribute_for_username}={escape_filter_chars(username.lower())}){config.search_filters})"
        if not app.search(config.search_base, query, attributes=attributes) or not app.entries:
            raise DirectoryRefused(USER_NOT_FOUND)
        entry = app.entries[0]
        values = entry.entry_attributes_as_dict
        if username.lower() not in {str(name).lower() for name in values.get(config.attribute_for_username, [])}:
            raise DirectoryRefused(USER_MISMATCH)
        user = Connection(server, entry.entry_dn, password, authentication=SIMPLE, receive_timeout=config.timeout)
        if not user.bind():
            raise DirectoryRefused(AUTHENTICATION_FAILED)
        user.unbind()
    except (LDAPException, OSError) as error:
        log.warning("LDAP sign-in of %r failed: %s", username, error)
        raise DirectoryRefused(LDAP_FAILED) from None
    finally:
        app.unbind()
    mails = values.get(config.attribute_for_mail) or [None]
    names = values.get("cn") or [username]
    groups = [_group_name(str(dn)) for dn in values.get(config.attribute_for_groups or "", [])]
    return DirectoryUser(dn=entry.entry_dn, name=str(names[0]), email=mails[0] and str(mails[0]).lower(),
                         group_names=[name for name in groups if name])
