"""Sign-in through an OpenID Connect provider (a real flow against the fake issuer on loopback: discovery,
JWKS, code exchange, ID token signature and nonce checked), and sign-in behind a trusted proxy header."""
from __future__ import annotations

import urllib.parse

import pytest
import requests

from shared import messages
from shared.db import session_scope
from shared.models import Group, User
from shared.services import groups
from tests.fakes.fixtures import fake_issuer, oidc_issuer_server  # noqa: F401
from tests.fakes.oidc_issuer import CLIENT_ID, CLIENT_SECRET
from tests.helpers import bearer, signup

LOGIN = "/oauth/oidc/login"


@pytest.fixture
def issuer(fake_issuer, monkeypatch):  # noqa: F811
    """The fake issuer configured as the ``oidc`` provider, with OAuth sign-up on."""
    monkeypatch.setenv("OAUTH_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("OAUTH_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("OPENID_PROVIDER_URL", f"{fake_issuer.url}/.well-known/openid-configuration")
    monkeypatch.setenv("OAUTH_PROVIDER_NAME", "Test IdP")
    monkeypatch.setenv("ENABLE_OAUTH_SIGNUP", "true")
    return fake_issuer


def _to_provider(client) -> str:
    """Start the login; the provider's authorization URL the browser is sent to."""
    started = client.get(LOGIN)
    assert started.status_code == 302, started.get_data(as_text=True)
    return started.headers["Location"]


def _provider_signs_in(authorize_url: str) -> str:
    """The browser at the provider: it signs the user in and redirects back; the callback path and query."""
    answer = requests.get(authorize_url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urllib.parse.urlsplit(answer.headers["Location"])
    return f"{back.path}?{back.query}"


def _round_trip(client):
    """The whole browser round trip; the callback's answer."""
    return client.get(_provider_signs_in(_to_provider(client)))


def _error_of(response) -> str | None:
    assert response.status_code == 302
    location = urllib.parse.urlsplit(response.headers["Location"])
    assert location.path == "/auth"
    return urllib.parse.parse_qs(location.query).get("error", [None])[0]


def _signed_in_user(client) -> dict:
    response = client.get("/api/v1/auths/")  # the token cookie the callback set
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_config_lists_the_provider_only_when_configured(client, issuer, monkeypatch):
    assert client.get("/api/config").get_json()["oauth"] == {"providers": {"oidc": "Test IdP"}, "auto_redirect": False}
    monkeypatch.delenv("OPENID_PROVIDER_URL")
    assert client.get("/api/config").get_json()["oauth"]["providers"] == {}


def test_login_redirects_to_the_provider_with_state_nonce_and_callback(client, issuer):
    url = urllib.parse.urlsplit(_to_provider(client))
    params = urllib.parse.parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{issuer.url}/authorize"
    assert params["client_id"] == [CLIENT_ID] and params["response_type"] == ["code"]
    assert params["scope"] == ["openid email profile"]
    assert params["state"][0] and params["nonce"][0]
    assert params["redirect_uri"] == ["http://localhost/oauth/oidc/login/callback"]


def test_full_sign_in_creates_the_account_and_sets_the_token_cookie(client, issuer, admin):
    client.delete_cookie("token")
    response = _round_trip(client)
    assert _error_of(response) is None
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("token="))
    assert "HttpOnly" not in cookie  # the web app reads it
    user = _signed_in_user(client)
    assert user["email"] == "ada@example.com" and user["name"] == "Ada Lovelace"
    assert user["role"] == "pending"  # the default role: the admin signed up first
    token = cookie.split(";")[0].split("=", 1)[1]
    assert client.get("/api/v1/auths/", headers=bearer(token)).status_code == 200
    with session_scope() as session:
        stored = session.query(User).filter_by(email="ada@example.com").one()
        assert stored.oauth == {"oidc": {"sub": "idp-user-1"}}
    # the second sign-in finds the account by its subject, even with another email at the provider
    issuer.claims["email"] = "ada@new.example.com"
    assert _error_of(_round_trip(client)) is None
    assert _signed_in_user(client)["id"] == user["id"]


def test_first_account_through_the_provider_is_admin(client, issuer):
    assert _error_of(_round_trip(client)) is None
    assert _signed_in_user(client)["role"] == "admin"


def test_no_account_and_signup_off_is_refused(client, issuer, admin, monkeypatch):
    monkeypatch.setenv("ENABLE_OAUTH_SIGNUP", "false")
    client.delete_cookie("token")
    assert _error_of(_round_trip(client)) == messages.ACCESS_PROHIBITED
    assert client.get("/api/v1/auths/").status_code == 401


def test_existing_email_is_refused_unless_merging(client, issuer, admin, monkeypatch):
    issuer.claims["email"] = "admin@example.com"
    client.delete_cookie("token")
    assert _error_of(_round_trip(client)) == messages.EMAIL_TAKEN
    monkeypatch.setenv("OAUTH_MERGE_ACCOUNTS_BY_EMAIL", "true")
    assert _error_of(_round_trip(client)) is None
    assert _signed_in_user(client)["id"] == admin["id"]
    with session_scope() as session:
        assert session.get(User, admin["id"]).oauth == {"oidc": {"sub": "idp-user-1"}}


def test_role_claims_decide_the_role(client, issuer, admin, monkeypatch):
    monkeypatch.setenv("ENABLE_OAUTH_ROLE_MANAGEMENT", "true")
    monkeypatch.setenv("OAUTH_ROLES_CLAIM", "realm_access.roles")
    issuer.claims["realm_access"] = {"roles": ["staff", "admin"]}
    client.delete_cookie("token")
    assert _error_of(_round_trip(client)) is None
    assert _signed_in_user(client)["role"] == "admin"
    issuer.claims["realm_access"] = {"roles": ["user"]}
    assert _error_of(_round_trip(client)) is None
    assert _signed_in_user(client)["role"] == "user"
    issuer.claims["realm_access"] = {"roles": ["guest"]}
    client.delete_cookie("token")
    assert _error_of(_round_trip(client)) == messages.ACCESS_PROHIBITED


def test_group_claims_set_the_memberships(client, issuer, admin, monkeypatch):
    monkeypatch.setenv("ENABLE_OAUTH_GROUP_MANAGEMENT", "true")
    with session_scope() as session:
        kept = groups.create(session, owner_id=admin["id"], name="engineering").id
        dropped = groups.create(session, owner_id=admin["id"], name="sales").id
    issuer.claims["groups"] = ["engineering", "sales", "not-created"]
    assert _error_of(_round_trip(client)) is None
    user_id = _signed_in_user(client)["id"]
    with session_scope() as session:
        assert set(groups.direct_group_ids(session, user_id)) == {kept, dropped}
        assert session.query(Group).filter_by(name="not-created").count() == 0
    monkeypatch.setenv("ENABLE_OAUTH_GROUP_CREATION", "true")
    issuer.claims["groups"] = "engineering;research"  # a string claim, split on ";"
    assert _error_of(_round_trip(client)) is None
    with session_scope() as session:
        research = session.query(Group).filter_by(name="research").one()
        assert set(groups.direct_group_ids(session, user_id)) == {kept, research.id}
        assert research.user_id == admin["id"]


def test_disallowed_email_domain_is_refused(client, issuer, monkeypatch):
    monkeypatch.setenv("OAUTH_ALLOWED_DOMAINS", "corp.example, other.example")
    assert _error_of(_round_trip(client)) == messages.OAUTH_LOGIN_FAILED


def test_state_from_another_browser_is_refused(client, app, issuer):
    callback = _provider_signs_in(_to_provider(client))
    other_browser = app.test_client()
    assert _error_of(other_browser.get(callback)) == messages.OAUTH_LOGIN_FAILED
    assert other_browser.get("/api/v1/auths/").status_code == 401


def test_tampered_state_is_refused(client, issuer):
    callback = _provider_signs_in(_to_provider(client))
    path, _, query = callback.partition("?")
    params = dict(urllib.parse.parse_qsl(query))
    params["state"] = "forged-state"
    assert _error_of(client.get(f"{path}?{urllib.parse.urlencode(params)}")) == messages.OAUTH_LOGIN_FAILED


def test_a_callback_is_honoured_once(client, issuer):
    callback = _provider_signs_in(_to_provider(client))
    state = dict(urllib.parse.parse_qsl(callback.partition("?")[2]))["state"]
    assert _error_of(client.get(callback)) is None
    client.set_cookie("oauth_state", state, path="/oauth")  # even a browser that kept the state
    assert _error_of(client.get(callback)) == messages.OAUTH_LOGIN_FAILED


def test_wrong_nonce_is_refused(client, issuer):
    issuer.wrong_nonce = True
    assert _error_of(_round_trip(client)) == messages.OAUTH_LOGIN_FAILED
    assert client.get("/api/v1/auths/").status_code == 401


def test_id_token_signed_by_another_key_is_refused(client, issuer):
    assert _error_of(_round_trip(client)) is None  # the provider's keys are known now
    client.delete_cookie("token")
    issuer.reset()
    issuer.sign_with_other_key = True
    assert _error_of(_round_trip(client)) == messages.OAUTH_LOGIN_FAILED
    assert client.get("/api/v1/auths/").status_code == 401
    # the JWKS was read again (the provider may have rotated its key), and the token still did not check out
    assert len(issuer.received("/jwks")) == 1


def test_userinfo_of_another_subject_is_refused(client, issuer):
    issuer.userinfo_sub = "someone-else"
    assert _error_of(_round_trip(client)) == messages.OAUTH_LOGIN_FAILED
    assert client.get("/api/v1/auths/").status_code == 401


def test_provider_error_and_unreachable_provider_land_on_the_sign_in_page(client, issuer, monkeypatch):
    assert _error_of(client.get("/oauth/oidc/login/callback?error=access_denied&state=x")) == \
        messages.OAUTH_LOGIN_FAILED
    monkeypatch.setenv("OPENID_PROVIDER_URL", "http://127.0.0.1:9/.well-known/openid-configuration")
    monkeypatch.setenv("OAUTH_TIMEOUT", "2")
    assert _error_of(client.get(LOGIN)) == messages.OAUTH_LOGIN_FAILED


def test_pkce_with_a_public_client(client, issuer, monkeypatch):
    monkeypatch.setenv("OAUTH_CODE_CHALLENGE_METHOD", "S256")
    monkeypatch.setenv("OAUTH_TOKEN_ENDPOINT_AUTH_METHOD", "client_secret_post")
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(_to_provider(client)).query)
    assert params["code_challenge_method"] == ["S256"] and params["code_challenge"][0]
    assert _error_of(_round_trip(client)) is None
    assert _signed_in_user(client)["email"] == "ada@example.com"


def test_unknown_or_unconfigured_provider_is_404(client, issuer, monkeypatch):
    assert client.get("/oauth/github/login").status_code == 404
    assert client.get("/oauth/github/login/callback?code=x&state=y").status_code == 404
    monkeypatch.delenv("OAUTH_CLIENT_ID")
    assert client.get(LOGIN).status_code == 404


def test_legacy_callback_path_signs_in_too(client, issuer):
    callback = _provider_signs_in(_to_provider(client)).replace("/login/callback", "/callback")
    assert _error_of(client.get(callback)) is None
    assert _signed_in_user(client)["email"] == "ada@example.com"


# -- trusted header ------------------------------------------------------------------------------------------


@pytest.fixture
def trusted(monkeypatch):
    monkeypatch.setenv("WEBUI_AUTH_TRUSTED_EMAIL_HEADER", "X-Forwarded-Email")
    monkeypatch.setenv("WEBUI_AUTH_TRUSTED_NAME_HEADER", "X-Forwarded-User")


def test_trusted_header_signs_in_and_creates_the_user(client, admin, trusted):
    assert client.get("/api/config").get_json()["features"]["auth_trusted_header"] is True
    headers = {"X-Forwarded-Email": "Grace@Example.com", "X-Forwarded-User": "Grace%20Hopper"}
    # the web app signs in with an empty form
    first = client.post("/api/v1/auths/signin", json={"email": "", "password": ""}, headers=headers)
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert body["email"] == "grace@example.com" and body["name"] == "Grace Hopper" and body["role"] == "pending"
    again = client.post("/api/v1/auths/signin", json={"email": "", "password": ""}, headers=headers)
    assert again.get_json()["id"] == body["id"]
    assert client.get("/api/v1/auths/", headers={**headers, **bearer(body["token"])}).status_code == 200


def test_trusted_header_missing_is_refused(client, admin, trusted):
    response = client.post("/api/v1/auths/signin", json={"email": "admin@example.com", "password": "s3cret-pass"})
    assert response.status_code == 400
    assert response.get_json()["detail"] == messages.INVALID_TRUSTED_HEADER


def test_session_of_another_user_than_the_header_is_refused(client, admin, trusted):
    other = {"X-Forwarded-Email": "someone-else@example.com"}
    response = client.get("/api/v1/auths/", headers={**other, **bearer(admin["token"])})
    assert response.status_code == 401
    assert response.get_json()["detail"] == messages.TRUSTED_USER_MISMATCH
    own = {"X-Forwarded-Email": "admin@example.com"}
    assert client.get("/api/v1/auths/", headers={**own, **bearer(admin["token"])}).status_code == 200


def test_without_trusted_header_configured_the_header_is_ignored(client, admin):
    response = client.post("/api/v1/auths/signin", json={"email": "", "password": ""},
                           headers={"X-Forwarded-Email": "admin@example.com"})
    assert response.status_code == 400
    assert response.get_json()["detail"] == messages.INVALID_CRED
    assert client.get("/api/config").get_json()["features"]["auth_trusted_header"] is False



def test_the_authentication_tab_reads_the_environments_settings_and_refuses_changes(client, admin, make_user):
    auth = bearer(admin["token"])
    shown = client.get("/api/v1/auths/admin/config/oauth", headers=auth).get_json()
    assert shown["ENABLE_OAUTH_PERSISTENT_CONFIG"] is False
    assert (shown["OAUTH_SCOPES"], shown["OAUTH_ALLOWED_ROLES"]) == ("openid email profile", "user,admin")
    refused = client.post("/api/v1/auths/admin/config/oauth", headers=auth, json={"OAUTH_SCOPES": "openid"})
    assert refused.status_code == 400 and "environment" in refused.get_json()["detail"]
    user = make_user()
    assert client.get("/api/v1/auths/admin/config/oauth", headers=bearer(user["token"])).status_code == 401
