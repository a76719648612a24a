"""LDAP sign-in against a real OpenLDAP directory on loopback (tests/fakes/ldap_directory.py)."""
from __future__ import annotations

import pytest

from shared import messages
from shared.db import session_scope
from shared.models import Group
from shared.providers import ldap_directory as directory
from shared.services import groups, ldap_auth
from tests.fakes.ldap_directory import APP_DN, APP_PASSWORD, PASSWORDS, PEOPLE, ldap_directory  # noqa: F401
from tests.helpers import bearer


def _server_form(ldap_directory, **changes) -> dict:  # noqa: F811
    return {"label": "Directory", "host": ldap_directory.host, "port": ldap_directory.port, "app_dn": APP_DN,
            "app_dn_password": APP_PASSWORD, "search_base": PEOPLE, "use_tls": False, **changes}


@pytest.fixture
def directory_on(client, admin, ldap_directory):  # noqa: F811
    """The directory configured through the admin's routes, and LDAP sign-in on."""
    headers = bearer(admin["token"])
    saved = client.post("/api/v1/auths/admin/config/ldap/server", json=_server_form(ldap_directory), headers=headers)
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["app_dn_password"] == APP_PASSWORD and saved.get_json()["port"] == ldap_directory.port
    enabled = client.post("/api/v1/auths/admin/config/ldap", json={"enable_ldap": True}, headers=headers)
    assert enabled.get_json() == {"ENABLE_LDAP": True}
    return headers


def _ldap(client, user: str, password: str):
    return client.post("/api/v1/auths/ldap", json={"user": user, "password": password})


def test_directory_user_signs_in_and_gets_an_account(client, directory_on):
    assert client.get("/api/config").get_json()["features"]["enable_ldap"] is True
    signed = _ldap(client, "Ada", PASSWORDS["ada"])
    assert signed.status_code == 200, signed.get_json()
    body = signed.get_json()
    assert body["email"] == "ada@example.org" and body["name"] == "Ada Lovelace" and body["role"] == "pending"
    assert client.get("/api/v1/auths/", headers=bearer(body["token"])).get_json()["id"] == body["id"]
    assert _ldap(client, "ada", PASSWORDS["ada"]).get_json()["id"] == body["id"]


def test_wrong_password_unknown_user_and_empty_password_are_refused(client, directory_on):
    wrong = _ldap(client, "ada", "not-her-password")
    assert wrong.status_code == 400 and wrong.get_json()["detail"] == directory.AUTHENTICATION_FAILED
    unknown = _ldap(client, "nobody", "whatever")
    assert unknown.status_code == 400 and unknown.get_json()["detail"] == directory.USER_NOT_FOUND
    empty = _ldap(client, "ada", " ")
    assert empty.status_code == 400 and empty.get_json()["detail"] == messages.INVALID_CRED
    injected = _ldap(client, "*", "whatever")  # a filter character is matched literally
    assert injected.status_code == 400 and injected.get_json()["detail"] == directory.USER_NOT_FOUND


def test_user_without_mail_needs_the_default_domain(client, directory_on, ldap_directory):  # noqa: F811
    refused = _ldap(client, "nomail", PASSWORDS["nomail"])
    assert refused.status_code == 400 and refused.get_json()["detail"] == ldap_auth.NO_EMAIL
    client.post("/api/v1/auths/admin/config/ldap/server", headers=directory_on,
                json=_server_form(ldap_directory, default_email_domain="corp.example"))
    assert _ldap(client, "nomail", PASSWORDS["nomail"]).get_json()["email"] == "nomail@corp.example"


def test_directory_groups_set_the_memberships(client, admin, directory_on, ldap_directory):  # noqa: F811
    with session_scope() as session:
        engineering = groups.create(session, owner_id=admin["id"], name="engineering").id
    client.post("/api/v1/auths/admin/config/ldap/server", headers=directory_on,
                json=_server_form(ldap_directory, enable_group_management=True))
    user_id = _ldap(client, "ada", PASSWORDS["ada"]).get_json()["id"]
    with session_scope() as session:
        assert groups.direct_group_ids(session, user_id) == [engineering]
    client.post("/api/v1/auths/admin/config/ldap/server", headers=directory_on,
                json=_server_form(ldap_directory, enable_group_management=True, enable_group_creation=True))
    _ldap(client, "ada", PASSWORDS["ada"])
    with session_scope() as session:
        research = session.query(Group).filter_by(name="research").one().id
        assert set(groups.direct_group_ids(session, user_id)) == {engineering, research}


def test_ldap_off_bad_service_account_unreachable_server_and_bad_tls_settings(client, directory_on, ldap_directory):  # noqa: F811
    client.post("/api/v1/auths/admin/config/ldap/server", headers=directory_on,
                json=_server_form(ldap_directory, app_dn_password="wrong"))
    refused = _ldap(client, "ada", PASSWORDS["ada"])
    assert refused.status_code == 400 and refused.get_json()["detail"] == directory.APP_BIND_FAILED
    client.post("/api/v1/auths/admin/config/ldap/server", headers=directory_on,
                json=_server_form(ldap_directory, port=9))
    unreachable = _ldap(client, "ada", PASSWORDS["ada"])
    assert unreachable.status_code == 400 and unreachable.get_json()["detail"] == directory.LDAP_FAILED
    client.post("/api/v1/auths/admin/config/ldap/server", headers=directory_on,
                json=_server_form(ldap_directory, certificate_path="/no/such/ca.pem"))
    bad_tls = _ldap(client, "ada", PASSWORDS["ada"])
    assert bad_tls.status_code == 400 and bad_tls.get_json()["detail"] == directory.TLS_FAILED
    client.post("/api/v1/auths/admin/config/ldap", json={"enable_ldap": False}, headers=directory_on)
    off = _ldap(client, "ada", PASSWORDS["ada"])
    assert off.status_code == 400 and off.get_json()["detail"] == ldap_auth.NOT_ENABLED


def test_server_settings_need_their_required_fields(client, admin, ldap_directory):  # noqa: F811
    headers = bearer(admin["token"])
    missing = client.post("/api/v1/auths/admin/config/ldap/server", headers=headers,
                          json=_server_form(ldap_directory, search_base=""))
    assert missing.status_code == 400 and "search_base" in missing.get_json()["detail"]
    assert client.get("/api/v1/auths/admin/config/ldap", headers=headers).get_json() == {"ENABLE_LDAP": False}
    assert client.get("/api/v1/auths/admin/config/ldap/server", headers=headers).get_json()["host"] == "localhost"
