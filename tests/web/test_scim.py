"""SCIM 2.0 at /api/v1/scim/v2: the protocol as an identity provider uses it, and scim2-tester's independent
compliance checks against a live server."""
from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server
from werkzeug.serving import make_server

from shared.db import session_scope
from shared.models import Group, User
from shared.services import groups as groups_service
from tests.helpers import bearer

TOKEN = "scim-test-token-0123456789"
BASE = "/api/v1/scim/v2"
SCIM_JSON = "application/scim+json"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.fixture
def scim(monkeypatch, client):
    """SCIM switched on with :data:`TOKEN`; calls that send it (``scim.get(path)`` ...)."""
    monkeypatch.setenv("ENABLE_SCIM", "true")
    monkeypatch.setenv("SCIM_TOKEN", TOKEN)
    return Caller(client)


class Caller:
    def __init__(self, client) -> None:
        self.client = client

    def open(self, method: str, path: str, body: dict | None = None, headers: dict | None = None, **kwargs):
        return self.client.open(f"{BASE}{path}", method=method, json=body,
                                headers={**bearer(TOKEN), **(headers or {})}, **kwargs)

    def get(self, path: str, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path: str, body: dict, **kwargs):
        return self.open("POST", path, body, **kwargs)

    def put(self, path: str, body: dict, **kwargs):
        return self.open("PUT", path, body, **kwargs)

    def patch(self, path: str, operations: list[dict], **kwargs):
        return self.open("PATCH", path, {"schemas": [PATCH_OP], "Operations": operations}, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.open("DELETE", path, **kwargs)

    def user(self, user_name: str, **attributes) -> dict:
        response = self.post("/Users", {"schemas": [USER_SCHEMA], "userName": user_name, **attributes})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def group(self, name: str, members: list[str] = (), **attributes) -> dict:
        body = {"schemas": [GROUP_SCHEMA], "displayName": name, "members": [{"value": m} for m in members],
                **attributes}
        response = self.post("/Groups", body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def ids(self, query: str, path: str = "/Users") -> list[str]:
        response = self.get(f"{path}?{query}")
        assert response.status_code == 200, response.get_json()
        return [resource["id"] for resource in response.get_json().get("Resources", [])]


@pytest.fixture
def live_scim(app, scim) -> Iterator[str]:
    """Switchyard on a free port of 127.0.0.1, for clients that speak HTTP; yields SCIM's base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{BASE}"
    finally:
        server.shutdown()
        thread.join()


def test_scim2_tester_finds_every_check_passing(live_scim):
    with Client(base_url=live_scim, headers=bearer(TOKEN), timeout=30) as http:
        client = SyncSCIMClient(http)
        results = check_server(client)
    failed = [f"{result.status.name} {result.resource_type or ''} {result.title}: {result.reason}"
              for result in results if result.status != Status.SUCCESS]
    assert results and not failed, f"{len(failed)} of {len(results)} checks did not pass:\n" + "\n".join(failed)


def _error(response, status: int, scim_type: str | None = None) -> dict:
    body = response.get_json()
    assert response.status_code == status, body
    assert response.mimetype == SCIM_JSON
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"] and body["status"] == str(status)
    assert body.get("scimType") == scim_type, body
    return body


def test_only_the_token_opens_scim_and_only_when_enabled(client, monkeypatch):
    monkeypatch.setenv("SCIM_TOKEN", TOKEN)
    _error(client.get(f"{BASE}/Users"), 401)
    _error(client.get(f"{BASE}/Users", headers=bearer(TOKEN)), 403)  # switched off, as Open WebUI answers
    monkeypatch.setenv("ENABLE_SCIM", "true")
    assert client.get(f"{BASE}/Users", headers=bearer(TOKEN)).status_code == 200
    refused = client.get(f"{BASE}/Users", headers=bearer(TOKEN + "x"))
    _error(refused, 401)
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    _error(client.get(f"{BASE}/Users", headers={"Authorization": f"Basic {TOKEN}"}), 401)
    monkeypatch.setenv("SCIM_TOKEN", "")
    _error(client.get(f"{BASE}/Users", headers=bearer("")), 401)  # no token set: nobody gets in
    config = client.get(f"{BASE}/ServiceProviderConfig")  # readable without credentials (RFC 7643 §5)
    assert config.status_code == 200 and config.get_json()["etag"] == {"supported": True}


def test_discovery_lists_and_answers_by_id(scim):
    types = scim.get("/ResourceTypes").get_json()
    assert types["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    assert {rt["id"] for rt in types["Resources"]} == {"User", "Group"}
    assert scim.get("/ResourceTypes/Group").get_json()["endpoint"] == "/Groups"
    schemas = {schema["id"] for schema in scim.get("/Schemas").get_json()["Resources"]}
    assert {USER_SCHEMA, GROUP_SCHEMA, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"} <= schemas
    assert scim.get(f"/Schemas/{USER_SCHEMA}").get_json()["name"] == "User"
    _error(scim.get("/Schemas/urn:nothing"), 404)
    _error(scim.get("/NoSuchEndpoint"), 404)


def test_a_created_user_is_an_account_without_password_with_the_default_role(scim):
    created = scim.user("Ada@Example.com", externalId="idp-1", name={"givenName": "Ada", "familyName": "Lovelace"},
                        emails=[{"value": "ada@work.example", "primary": True}, {"value": "ada@home.example"}])
    meta = created["meta"]
    assert meta["resourceType"] == "User" and meta["created"] and meta["lastModified"]
    assert meta["location"].endswith(f"{BASE}/Users/{created['id']}") and meta["version"].startswith('W/"')
    assert created["externalId"] == "idp-1" and "password" not in created
    fetched = scim.get(f"/Users/{created['id']}")
    assert fetched.headers["ETag"] == meta["version"] and fetched.get_json() == created
    with session_scope() as session:
        account = session.get(User, created["id"])
        assert (account.email, account.name, account.role) == ("ada@work.example", "Ada Lovelace", "pending")
    bare = scim.user("no-address")  # no email at all: a placeholder that receives nothing
    assert "emails" not in bare
    with session_scope() as session:
        assert session.get(User, bare["id"]).email == f"{bare['id']}@scim.invalid"


def test_user_name_is_unique_ignoring_case_and_read_only_attributes_are_refused(scim):
    first = scim.user("grace")
    _error(scim.post("/Users", {"schemas": [USER_SCHEMA], "userName": "GRACE"}), 409, "uniqueness")
    other = scim.user("hopper", emails=[{"value": "hopper@example.com"}])
    _error(scim.put(f"/Users/{other['id']}", {"schemas": [USER_SCHEMA], "userName": "Grace"}), 409, "uniqueness")
    _error(scim.post("/Users", {"schemas": [USER_SCHEMA], "userName": "x", "emails": [{"value": "HOPPER@example.com"}]}),
           409, "uniqueness")
    _error(scim.patch(f"/Users/{first['id']}", [{"op": "replace", "path": "id", "value": "mine"}]), 400, "mutability")
    _error(scim.post("/Users", {"schemas": [USER_SCHEMA]}), 400, "invalidValue")


def test_filters_compare_combine_and_group(scim):
    ada = scim.user("ada", displayName="Ada", title="engineer", externalId="e-1")["id"]
    bob = scim.user("bob", displayName="Bob", title="manager")["id"]
    eve = scim.user("eve.smith", displayName="Eve", externalId="e-3")["id"]
    cases = {
        'userName eq "ADA"': [ada],
        'userName ne "ada"': [bob, eve],
        'userName co "smi"': [eve],
        'userName sw "b"': [bob],
        'userName ew "ith"': [eve],
        "title pr": [ada, bob],
        'userName gt "bob"': [eve],
        'userName ge "bob"': [bob, eve],
        'userName lt "bob"': [ada],
        'userName le "bob"': [ada, bob],
        'title eq "engineer" and externalId pr': [ada],
        'title eq "manager" or externalId eq "e-3"': [bob, eve],
        'not (title pr)': [eve],
        '(userName eq "ada" or userName eq "bob") and not (title eq "manager")': [ada],
        'emails[value co "nothing"]': [],
        'externalId eq "e-3"': [eve],
        'externalId eq "E-3"': [],  # externalId is case-exact
        f'id eq "{bob}"': [bob],
    }
    for query, expected in cases.items():
        assert sorted(scim.ids(f"filter={query}")) == sorted(expected), query
    _error(scim.get('/Users?filter=userName zz "a"'), 400, "invalidFilter")
    _error(scim.get('/Users?filter=(userName eq "a"'), 400, "invalidFilter")


def test_accounts_made_outside_scim_are_users_named_by_their_email(scim, admin):
    listed = scim.get('/Users?filter=userName eq "ADMIN@example.com"').get_json()
    assert [user["id"] for user in listed["Resources"]] == [admin["id"]]
    assert listed["Resources"][0]["emails"] == [{"value": "admin@example.com", "primary": True}]
    _error(scim.post("/Users", {"schemas": [USER_SCHEMA], "userName": "Admin@Example.com",
                                "emails": [{"value": "other@example.com"}]}), 409, "uniqueness")


def test_lists_page_with_start_index_and_count_and_sort(scim):
    names = [f"user{i:02d}" for i in range(7)]
    for name in reversed(names):
        scim.user(name)
    page = scim.get("/Users?sortBy=userName&startIndex=3&count=2").get_json()
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (7, 3, 2)
    assert [user["userName"] for user in page["Resources"]] == names[2:4]
    descending = scim.get("/Users?sortBy=userName&sortOrder=descending&count=3").get_json()
    assert [user["userName"] for user in descending["Resources"]] == names[::-1][:3]
    assert scim.get("/Users?count=0").get_json()["totalResults"] == 7


def test_group_members_follow_switchyard_groups(scim):
    ada, bob = scim.user("ada")["id"], scim.user("bob")["id"]
    group = scim.group("Engineers", [ada], externalId="grp-1")
    assert [m["value"] for m in group["members"]] == [ada] and group["externalId"] == "grp-1"
    assert scim.ids('filter=externalId eq "grp-1"', "/Groups") == [group["id"]]
    with session_scope() as session:
        assert groups_service.member_ids(session, group["id"]) == [ada]
        assert session.get(Group, group["id"]).name == "Engineers"
        groups_service.add_members(session, group["id"], [bob])  # as the admin's routes do
    assert {m["value"] for m in scim.get(f"/Groups/{group['id']}").get_json()["members"]} == {ada, bob}
    assert [g["value"] for g in scim.get(f"/Users/{bob}").get_json()["groups"]] == [group["id"]]
    removed = scim.patch(f"/Groups/{group['id']}", [{"op": "remove", "path": f'members[value eq "{ada}"]'}])
    assert removed.status_code in (200, 204), removed.get_json()
    with session_scope() as session:
        assert groups_service.member_ids(session, group["id"]) == [bob]
    _error(scim.patch(f"/Groups/{group['id']}", [{"op": "replace", "path": 'members[value eq "nobody"].display',
                                                   "value": "x"}]), 400, "noTarget")
    _error(scim.patch(f"/Groups/{group['id']}", [{"op": "add", "path": "members", "value": [{"value": "nobody"}]}]),
           400, "invalidValue")
    scim.patch(f"/Groups/{group['id']}", [{"op": "replace", "path": "displayName", "value": "Builders"}])
    assert scim.ids('filter=displayName eq "builders"', "/Groups") == [group["id"]]
    assert scim.delete(f"/Users/{bob}").status_code == 204
    assert "members" not in scim.get(f"/Groups/{group['id']}").get_json()
    assert scim.delete(f"/Groups/{group['id']}").status_code == 204
    with session_scope() as session:
        assert session.get(Group, group["id"]) is None


def test_versions_guard_writes(scim):
    user = scim.user("ada")
    version = user["meta"]["version"]
    assert scim.get(f"/Users/{user['id']}", headers={"If-None-Match": version}).status_code == 304
    _error(scim.put(f"/Users/{user['id']}", {"schemas": [USER_SCHEMA], "userName": "ada2"},
                    headers={"If-Match": 'W/"stale"'}), 412)
    replaced = scim.put(f"/Users/{user['id']}", {"schemas": [USER_SCHEMA], "userName": "ada2"},
                        headers={"If-Match": version})
    assert replaced.status_code == 200 and replaced.get_json()["meta"]["version"] != version
    _error(scim.delete(f"/Users/{user['id']}", headers={"If-Match": version}), 412)


def _deactivate(scim, user_id: str) -> None:
    response = scim.patch(f"/Users/{user_id}", [{"op": "replace", "path": "active", "value": False}])
    assert response.status_code in (200, 204), response.get_json()


def test_inactive_accounts_are_pending_and_closed_but_admins_stay(scim, client, admin, make_user):
    user = make_user()
    _deactivate(scim, user["id"])
    assert client.get("/api/v1/auths/", headers=bearer(user["token"])).status_code == 401  # signed out
    assert client.post("/api/v1/auths/signin", json={"email": "user@example.com", "password": "user-pass-1"}
                       ).status_code == 400
    with session_scope() as session:
        assert session.get(User, user["id"]).role == "pending"
    assert scim.get(f"/Users/{user['id']}").get_json()["active"] is False
    _deactivate(scim, admin["id"])
    with session_scope() as session:
        assert session.get(User, admin["id"]).role == "admin"
    assert client.post("/api/v1/auths/signin", json={"email": "admin@example.com", "password": "s3cret-pass"}
                       ).status_code == 200
    _error(scim.delete(f"/Users/{admin['id']}"), 403)


def test_malformed_requests_answer_scim_errors(scim, app):
    broken = scim.client.post(f"{BASE}/Users", data="{not json", content_type=SCIM_JSON, headers=bearer(TOKEN))
    _error(broken, 400, "invalidSyntax")
    _error(scim.open("POST", "/Users/some-id", {}), 405)
    _error(scim.get("/Users/no-such-user"), 404)
    limit = app.config["MAX_CONTENT_LENGTH"]
    _error(scim.client.post(f"{BASE}/Users", data=b"x" * (limit + 1), content_type=SCIM_JSON, headers=bearer(TOKEN)),
           413)


def test_searches_with_a_body_per_type_and_across_types(scim):
    ada = scim.user("ada", emails=[{"value": "ada@example.com", "type": "work", "primary": True}])["id"]
    engineers = scim.group("Engineers", [ada])["id"]
    search = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
              "filter": 'emails[type eq "work" and value co "@example.com"]', "attributes": ["userName"]}
    found = scim.post("/Users/.search", search).get_json()
    assert found["totalResults"] == 1 and found["Resources"][0] == {
        "schemas": [USER_SCHEMA], "id": ada, "userName": "ada"}
    both = scim.post("/.search", {**search, "filter": 'userName eq "ada" or displayName eq "Engineers"',
                                  "attributes": None}).get_json()
    assert {resource["id"] for resource in both["Resources"]} == {ada, engineers}
    patched = scim.patch(f"/Users/{ada}", [{"op": "replace", "path": "emails[primary eq true].value",
                                            "value": "ada@new.example"}])
    assert patched.status_code in (200, 204), patched.get_json()
    with session_scope() as session:
        assert session.get(User, ada).email == "ada@new.example"
    _error(scim.patch(f"/Users/{ada}", [{"op": "add", "path": "groups", "value": [{"value": engineers}]}]),
           400, "mutability")
