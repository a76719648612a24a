"""``POST /api/v1/configs/oauth/clients/register``: a real worker discovers a fake OAuth server on loopback
(RFC 9728 resource metadata, RFC 8414 server metadata) and registers a client there (RFC 7591), or builds the
client from static credentials; the answer's client information decrypts with this deployment's key."""
from __future__ import annotations

import json
import socket

from shared.crypto import decrypt
from tests.fakes.fixtures import fake_oauth_server, oauth_server  # noqa: F401
from tests.fakes.oauth_server import ISSUER_PATH, REGISTERED_ID, REGISTERED_SECRET, RESOURCE_PATH, RESOURCE_SCOPES
from tests.helpers import bearer
from tests.jobs.worker import worker  # noqa: F401  (the fixture)

REGISTER = "/api/v1/configs/oauth/clients/register"


def _info(answer) -> dict:
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["status"] is True and REGISTERED_SECRET not in body["oauth_client_info"]
    return json.loads(decrypt(body["oauth_client_info"]))


def test_dynamic_registration_discovers_the_server_and_registers_a_client(client, admin, worker, fake_oauth_server):
    answer = client.post(f"{REGISTER}?type=mcp", headers=bearer(admin["token"]),
                         json={"url": f"{fake_oauth_server.url}{RESOURCE_PATH}", "client_id": "docs-server"})
    info = _info(answer)
    assert (info["client_id"], info["client_secret"]) == (REGISTERED_ID, REGISTERED_SECRET)
    assert info["redirect_uris"] == ["http://localhost/oauth/clients/mcp:docs-server/callback"]
    assert info["scope"] == " ".join(RESOURCE_SCOPES)  # the resource's scopes, not the server's whole catalog
    assert info["resource"] == f"{fake_oauth_server.url}{RESOURCE_PATH}"
    assert info["issuer"] == f"{fake_oauth_server.url}/.well-known/oauth-authorization-server{ISSUER_PATH}"
    assert info["server_metadata"]["token_endpoint"] == f"{fake_oauth_server.issuer}/token"
    assert info["token_endpoint_auth_method"] == "client_secret_basic"  # the server does not take _post
    sent = fake_oauth_server.received(f"{ISSUER_PATH}/register")[0].body
    assert sent["client_name"] == "Open WebUI" and sent["grant_types"] == ["authorization_code", "refresh_token"]


def test_static_credentials_take_the_server_metadata_without_registering(client, admin, worker, fake_oauth_server):
    answer = client.post(REGISTER, headers=bearer(admin["token"]),
                         json={"url": f"{fake_oauth_server.url}{RESOURCE_PATH}", "client_id": "my-app",
                               "client_secret": "my-secret", "oauth_scope": "tools:read, extra"})
    info = _info(answer)
    assert (info["client_id"], info["client_secret"], info["scope"]) == ("my-app", "my-secret", "tools:read extra")
    assert info["server_metadata"]["authorization_endpoint"] == f"{fake_oauth_server.issuer}/authorize"
    assert info["redirect_uris"] == ["http://localhost/oauth/clients/my-app/callback"]
    assert fake_oauth_server.received(f"{ISSUER_PATH}/register") == []


def test_an_unreachable_server_is_a_400_that_says_so(client, admin, worker):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    answer = client.post(REGISTER, headers=bearer(admin["token"]),
                         json={"url": f"http://127.0.0.1:{port}/mcp", "client_id": "gone"})
    assert answer.status_code == 400
    assert answer.get_json()["detail"].startswith("Failed to register OAuth client: OAuth server: could not reach")


def test_only_admins_register_clients_and_the_form_is_checked(client, admin, make_user):
    form = {"url": "http://127.0.0.1:9/mcp", "client_id": "x"}
    assert client.post(REGISTER, headers=bearer(make_user()["token"]), json=form).status_code in (401, 403)
    missing = client.post(REGISTER, headers=bearer(admin["token"]), json={"url": "http://127.0.0.1:9/mcp"})
    assert missing.status_code in (400, 422) and "client_id" in json.dumps(missing.get_json())
    bad = client.post(REGISTER, headers=bearer(admin["token"]), json={"url": "ftp://x", "client_id": "x"})
    assert bad.status_code == 400 and bad.get_json()["detail"].startswith("Failed to register OAuth client:")
