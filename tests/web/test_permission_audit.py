"""Every route a permission governs refuses a user without it, server-side, with Open WebUI 0.12.4's answer
(status and detail, read from its routers); the same call with the permission (given by a group) is not
refused. Routes that need two permissions (``workspace.*`` with ``sharing.*``, ``features.folders`` with
``chat.delete`` ...) are walked with the first given and the second missing."""
from __future__ import annotations

import copy
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from shared import messages
from shared.db import session_scope
from shared.models import User, WorkspaceModel
from shared.services import access, app_config, audio, images, permissions, tools, web_search
from tests.helpers import bearer

UNAUTHORIZED, PROHIBITED = messages.UNAUTHORIZED, messages.ACCESS_PROHIBITED


def _tree(value: bool, *paths: str) -> dict:
    """Open WebUI's whole permission tree with every switch at ``value``, and ``paths`` at the opposite."""
    tree = copy.deepcopy(permissions.DEFAULT_PERMISSIONS)
    for section in tree.values():
        for name in section:
            section[name] = value
    for path in paths:
        section, name = path.split(".")
        tree[section][name] = not value
    return tree


def _set_defaults(client, admin, tree: dict) -> None:
    response = client.post("/api/v1/users/default/permissions", headers=bearer(admin["token"]), json=tree)
    assert response.status_code == 200


@dataclass
class Objects:
    """What the user owns, made while every permission was on."""

    chat: str
    folder: str
    prompt: str
    tool: str
    skill: str
    note: str
    model: str
    user_id: str
    other_id: str
    headers: dict


@dataclass
class Row:
    method: str
    path: Callable[[Objects], str]
    permission: str
    status: int
    detail: str
    body: Callable[[Objects], Any] | None = None
    given: tuple[str, ...] = ()
    files: Callable[[], dict] | None = None
    control: bool = True
    """Call again with the permission; off where the call would then wait for a job (no worker runs here)."""
    config: dict | None = None
    """Admin settings that must be on for the permission to be what decides (the feature switched on)."""


def _grant(principal: str, permission: str = "read") -> list[dict]:
    return [{"principal_type": "user", "principal_id": principal, "permission": permission}]


def _access_rows(area: str, path: Callable[[Objects], str], given: tuple[str, ...] = (),
                 named: Callable[[Objects], dict] = lambda o: {}) -> list[Row]:
    """An access update naming a user needs ``sharing.<area>`` and ``access_grants.allow_users``; making it
    public needs ``sharing.public_<area>`` too. Any missing: the whole change is refused (Open WebUI's 403).
    ``named``: what else the body names (the model's id)."""
    return [
        Row("POST", path, f"sharing.{area}", 403, access.SHARE_REFUSED, given=(*given, "access_grants.allow_users"),
            body=lambda o: {**named(o), "access_grants": _grant(o.other_id)}),
        Row("POST", path, f"sharing.public_{area}", 403, access.SHARE_REFUSED,
            given=(*given, f"sharing.{area}", "access_grants.allow_users"),
            body=lambda o: {**named(o), "access_grants": _grant("*") + _grant(o.other_id)}),
        Row("POST", path, "access_grants.allow_users", 403, access.SHARE_REFUSED, given=(*given, f"sharing.{area}"),
            body=lambda o: {**named(o), "access_grants": _grant(o.other_id)}),
    ]


ROWS: list[Row] = [
    # workspace: creating, importing, exporting (401 '401 Unauthorized'; skills' export and import 403)
    Row("POST", lambda o: "/api/v1/models/create", "workspace.models", 401, UNAUTHORIZED,
        body=lambda o: {"id": "audit-preset", "base_model_id": "gpt-fake", "name": "Preset", "meta": {},
                        "params": {}}),
    Row("GET", lambda o: "/api/v1/models/export", "workspace.models_export", 401, UNAUTHORIZED),
    Row("POST", lambda o: "/api/v1/models/import", "workspace.models_import", 401, UNAUTHORIZED,
        body=lambda o: {"models": []}),
    Row("POST", lambda o: "/api/v1/knowledge/create", "workspace.knowledge", 401, UNAUTHORIZED,
        body=lambda o: {"name": "Audit", "description": ""}),
    Row("POST", lambda o: "/api/v1/prompts/create", "workspace.prompts", 401, UNAUTHORIZED,
        body=lambda o: {"command": "audit-new", "name": "Audit", "content": "Say hi."}),
    Row("POST", lambda o: "/api/v1/tools/create", "workspace.tools", 401, UNAUTHORIZED, control=False,
        body=lambda o: {"id": "audit_new", "name": "Audit", "content": "class Tools: pass"}),
    Row("GET", lambda o: "/api/v1/tools/export", "workspace.tools_export", 401, UNAUTHORIZED),
    Row("POST", lambda o: "/api/v1/skills/create", "workspace.skills", 401, UNAUTHORIZED,
        body=lambda o: {"id": "audit-new", "name": "Audit new", "content": "Steps."}),
    Row("GET", lambda o: "/api/v1/skills/export", "workspace.skills_export", 403, "Export permission required"),
    Row("POST", lambda o: "/api/v1/skills/import", "workspace.skills_import", 403, "Import permission required",
        files=lambda: {"files": (io.BytesIO(b"---\nname: uploaded\n---\nSteps."), "SKILL.md", "text/markdown"),
                       "decisions": '[{"action": "skip"}]'}),
    # sharing: the access updates of each shared object
    *_access_rows("prompts", lambda o: f"/api/v1/prompts/id/{o.prompt}/access/update"),
    *_access_rows("tools", lambda o: f"/api/v1/tools/id/{o.tool}/access/update"),
    *_access_rows("skills", lambda o: f"/api/v1/skills/id/{o.skill}/access/update"),
    *_access_rows("notes", lambda o: f"/api/v1/notes/{o.note}/access/update", given=("features.notes",)),
    *_access_rows("models", lambda o: "/api/v1/models/model/access/update", named=lambda o: {"id": o.model}),
    # chats
    Row("DELETE", lambda o: f"/api/v1/chats/{o.chat}", "chat.delete", 401, PROHIBITED),
    Row("DELETE", lambda o: "/api/v1/chats/", "chat.delete", 401, PROHIBITED),
    Row("POST", lambda o: f"/api/v1/chats/{o.chat}/share", "chat.share", 401, PROHIBITED),
    Row("POST", lambda o: "/api/v1/chats/import", "chat.import", 403, PROHIBITED, body=lambda o: {"chats": []}),
    Row("POST", lambda o: f"/api/v1/chats/{o.chat}/clone", "chat.import", 403, PROHIBITED, body=lambda o: {}),
    Row("POST", lambda o: f"/api/v1/chats/{o.chat}/fork", "chat.import", 403, PROHIBITED, body=lambda o: {}),
    Row("DELETE", lambda o: f"/api/v1/folders/{o.folder}?delete_contents=true", "chat.delete", 403, PROHIBITED,
        given=("features.folders",)),
    Row("POST", lambda o: "/api/v1/audio/speech", "chat.tts", 403, PROHIBITED, body=lambda o: {"input": "hello"},
        control=False, config={audio.SECTIONS["tts"]["ENGINE"]: "openai"}),
    Row("POST", lambda o: "/api/v1/audio/transcriptions", "chat.stt", 403, PROHIBITED, control=False,
        files=lambda: {"file": (io.BytesIO(b"SAY: hello"), "note.webm", "audio/webm")}),
    # features
    Row("GET", lambda o: "/api/v1/folders/", "features.folders", 403, PROHIBITED),
    Row("GET", lambda o: "/api/v1/memories/", "features.memories", 403, PROHIBITED),
    Row("GET", lambda o: "/api/v1/notes/", "features.notes", 401, UNAUTHORIZED),
    Row("POST", lambda o: "/api/v1/retrieval/process/web/search", "features.web_search", 403, PROHIBITED,
        body=lambda o: {"queries": ["weather"]}, control=False, config={"web.search.enable": True}),
    Row("POST", lambda o: "/api/v1/images/generations", "features.image_generation", 403, PROHIBITED,
        body=lambda o: {"prompt": "a fox"}, control=False,
        config={images.CONFIG_KEYS["ENABLE_IMAGE_GENERATION"]: True}),
    Row("POST", lambda o: "/api/v1/auths/api_key", "features.api_keys", 403, messages.API_KEY_CREATION_NOT_ALLOWED,
        config={"auth.enable_api_keys": True}),
]


def _stored_tool(owner_id: str) -> str:
    """A tool as its save job stores one (creating one through the route waits for a worker)."""
    form = {"id": "audit_tool", "name": "Audit", "content": "class Tools: pass"}
    found = {"kind": "tools", "specs": [], "valves_spec": None, "user_valves_spec": None, "has_user_valves": False}
    with session_scope() as session:
        return tools.store(session, owner_id, form, found, creating=True).id


def _stored_model(owner_id: str) -> str:
    """A preset the user owns (its base model need not be served for its grants to change)."""
    with session_scope() as session:
        session.add(WorkspaceModel(id="audit-preset-owned", user_id=owner_id, base_model_id="gpt-fake",
                                   name="Owned", params={}, meta={}))
    return "audit-preset-owned"


@pytest.fixture
def objects(client, admin, make_user) -> Objects:
    _set_defaults(client, admin, _tree(True))
    user, other = make_user(), make_user("other@example.com")
    headers = bearer(user["token"])

    def made(path: str, body: dict) -> dict:
        response = client.post(path, headers=headers, json=body)
        assert response.status_code == 200, (path, response.get_json())
        return response.get_json()

    folder = made("/api/v1/folders/", {"name": "Audit folder"})
    chat = made("/api/v1/chats/new", {"chat": {"title": "Audit", "messages": []}, "folder_id": folder["id"]})
    return Objects(
        chat=chat["id"], folder=folder["id"], user_id=user["id"], other_id=other["id"], headers=headers,
        prompt=made("/api/v1/prompts/create", {"command": "audit", "name": "Audit", "content": "Hi."})["id"],
        tool=_stored_tool(user["id"]), model=_stored_model(user["id"]),
        skill=made("/api/v1/skills/create", {"id": "audit-skill", "name": "Audit skill", "content": "Steps."})["id"],
        note=made("/api/v1/notes/create", {"title": "Audit note"})["id"],
    )


def _call(client, row: Row, o: Objects):
    kwargs: dict = {"headers": o.headers}
    if row.files:
        kwargs["data"] = row.files()
        kwargs["content_type"] = "multipart/form-data"
    elif row.body:
        kwargs["json"] = row.body(o)
    return client.open(row.path(o), method=row.method, **kwargs)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.method}-{r.permission}")
def test_a_user_without_the_permission_gets_open_webuis_answer(client, admin, objects, row):
    if row.config:
        with session_scope() as session:
            app_config.set_many(session, row.config)
    _set_defaults(client, admin, _tree(False, *row.given))
    refused = _call(client, row, objects)
    assert (refused.status_code, refused.get_json()) == (row.status, {"detail": row.detail})

    if not row.control:
        return
    _set_defaults(client, admin, _tree(False, *row.given, row.permission))
    allowed = _call(client, row, objects)
    answer = allowed.get_json(silent=True)
    assert (allowed.status_code, answer.get("detail") if isinstance(answer, dict) else None) != (row.status, row.detail)


def test_access_update_rows_cover_every_shared_area():
    """The sharing switches Open WebUI has for workspace objects are each walked above."""
    walked = {row.permission for row in ROWS if row.permission.startswith("sharing.")}
    areas = ("prompts", "tools", "skills", "notes", "models")
    assert walked == {f"sharing.{p}{area}" for area in areas for p in ("", "public_")}


def test_creating_with_grants_drops_those_not_the_users_to_give(client, admin, objects):
    """On create Open WebUI keeps the grants the user may give and drops the others, without an error."""
    _set_defaults(client, admin, _tree(False, "workspace.prompts", "sharing.prompts", "access_grants.allow_users"))
    made = client.post("/api/v1/prompts/create", headers=objects.headers, json={
        "command": "mixed", "name": "Mixed", "content": "Hi.",
        "access_grants": _grant("*") + _grant(objects.other_id) + [
            {"principal_type": "anyone", "principal_id": "*", "permission": "read"}]})
    assert made.status_code == 200
    assert [g["principal_id"] for g in made.get_json()["access_grants"]] == [objects.other_id]


def test_an_admin_may_not_open_an_object_to_anyone_signed_out(client, admin, objects):
    """``anyone`` grants are not offered for workspace objects (Open WebUI strips them, even an admin's), so an
    access update asking for one is refused."""
    anyone = [{"principal_type": "anyone", "principal_id": "*", "permission": "read"}]
    refused = client.post(f"/api/v1/prompts/id/{objects.prompt}/access/update", headers=bearer(admin["token"]),
                          json={"access_grants": anyone})
    assert (refused.status_code, refused.get_json()) == (403, {"detail": access.SHARE_REFUSED})
    public = client.post(f"/api/v1/prompts/id/{objects.prompt}/access/update", headers=bearer(admin["token"]),
                         json={"access_grants": _grant("*")})
    assert public.status_code == 200 and public.get_json()["access_grants"][0]["principal_id"] == "*"


@pytest.mark.parametrize("flag, wanted", [("web_search", web_search.wanted_in_chat),
                                          ("image_generation", images.wanted_in_chat)])
def test_a_chat_feature_flag_without_the_permission_is_ignored(client, admin, objects, flag, wanted):
    """The ``features`` of a chat request are the client's word: without the permission the flag is ignored
    and the reply goes on without it (Open WebUI re-checks and skips, it does not refuse)."""
    client.post("/api/v1/retrieval/config/update", headers=bearer(admin["token"]),
                json={"web": {"ENABLE_WEB_SEARCH": True}})
    body = {"features": {flag: True}}
    _set_defaults(client, admin, _tree(False))
    with session_scope() as session:
        assert wanted(session, session.get(User, objects.user_id), body) is False
    _set_defaults(client, admin, _tree(False, f"features.{flag}"))
    with session_scope() as session:
        assert wanted(session, session.get(User, objects.user_id), body) is True
