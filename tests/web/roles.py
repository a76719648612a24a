"""Signed-in callers of every role, and objects they own, made through the API for tests that walk many
routes (the authorization sweep): the callers are made once, the objects when a route first needs them."""
from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from functools import cached_property

from shared.db import session_scope
from shared.jobs import catalog, service
from shared.services import functions, tools
from shared.services.llm import connections, registry
from tests.helpers import bearer, signup

PASSWORD = "sweep-pass-1"
UPSTREAM = "http://127.0.0.1:9"
"""Where the fake connections point: loopback, and no worker runs, so nothing is ever called there."""
OLLAMA_CONFIG = {"ENABLE_OLLAMA_API": True, "OLLAMA_BASE_URLS": [UPSTREAM], "OLLAMA_API_CONFIGS": {}}
OPENAI_CONFIG = {"ENABLE_OPENAI_API": True, "OPENAI_API_BASE_URLS": [f"{UPSTREAM}/v1"],
                 "OPENAI_API_KEYS": ["sk-upstream"], "OPENAI_API_CONFIGS": {}}
VISIBLE_MODELS = {"ollama": "visible-llama", "openai": "visible-gpt"}
"""Models opened to users."""
HIDDEN_MODELS = {"ollama": "hidden-llama", "openai": "hidden-gpt"}
"""Models only admins may use."""
EXTERNAL_SOURCE = {"name": "docs", "config": {"content_field": "payload.text"}}
WORKSPACE_PERMISSIONS = {"workspace": {"knowledge": True, "models": True, "models_import": True,
                                       "models_export": True, "tools": True, "tools_export": True,
                                       "prompts": True, "skills": True, "skills_import": True,
                                       "skills_export": True}}
"""What users need beyond the default permissions to own every kind of object (memories and folders are
on by default)."""

FEEDBACK = {"type": "rating", "data": {"rating": 1, "model_id": "visible-llama", "sibling_model_ids": []}}
"""A thumbs-up as the web app sends it."""

_serial = itertools.count()


def unique(prefix: str) -> str:
    """A name no other call of this run gets (e-mails and folder names must be unique)."""
    return f"{prefix}-{next(_serial)}"


@dataclass
class Caller:
    """A signed-in account (its JWT in ``token``)."""

    id: str
    email: str
    role: str
    token: str

    @property
    def headers(self) -> dict:
        return bearer(self.token)

    def sign_in_again(self, client) -> None:
        """A fresh token, after a route revoked the old one (sign-out, password change)."""
        response = client.post("/api/v1/auths/signin", json={"email": self.email, "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        self.token = response.get_json()["token"]


def _caller(signed: dict) -> Caller:
    return Caller(id=signed["id"], email=signed["email"], role=signed["role"], token=signed["token"])


def add_user(client, admin: Caller, email: str) -> Caller:
    """A user account made by the admin, signed in."""
    response = client.post("/api/v1/auths/add", headers=admin.headers,
                           json={"name": email.split("@")[0], "email": email, "password": PASSWORD, "role": "user"})
    assert response.status_code == 200, response.get_json()
    signed = client.post("/api/v1/auths/signin", json={"email": email, "password": PASSWORD})
    assert signed.status_code == 200, signed.get_json()
    return _caller(signed.get_json())


@dataclass
class Callers:
    admin: Caller
    user: Caller
    """User A: owns the objects the other user reaches for."""
    other: Caller
    """User B."""
    pending: Caller


def make_callers(client) -> Callers:
    """The first account (admin), two users and a pending sign-up (the default role of later sign-ups)."""
    admin = _caller(signup(client, email="admin@sweep.example", password=PASSWORD))
    pending = _caller(signup(client, email="pending@sweep.example", password=PASSWORD, name="Pending"))
    assert admin.role == "admin" and pending.role == "pending"
    return Callers(admin=admin, user=add_user(client, admin, "a@sweep.example"),
                   other=add_user(client, admin, "b@sweep.example"), pending=pending)


def open_workspace(client, admin: Caller) -> None:
    """Let users own every kind of object the sweep makes; switch on the features admins switch on (image
    generation and editing, web search: users still need ``features.image_generation`` / ``.web_search``)."""
    response = client.post("/api/v1/users/default/permissions", headers=admin.headers, json=WORKSPACE_PERMISSIONS)
    assert response.status_code == 200, response.get_json()
    response = client.post("/api/v1/images/config/update", headers=admin.headers,
                           json={"ENABLE_IMAGE_GENERATION": True, "ENABLE_IMAGE_EDIT": True})
    assert response.status_code == 200, response.get_json()
    response = client.post("/api/v1/retrieval/config/update", headers=admin.headers,
                           json={"web": {"ENABLE_WEB_SEARCH": True}})
    assert response.status_code == 200, response.get_json()


def configure_models(client, admin: Caller) -> None:
    """One Ollama and one OpenAI connection on loopback, each with a model opened to users and one that is
    not, stored in the registry as a refresh would (no worker runs, so no refresh does)."""
    for path, body in (("/ollama/config/update", OLLAMA_CONFIG), ("/openai/config/update", OPENAI_CONFIG)):
        response = client.post(path, headers=admin.headers, json=body)
        assert response.status_code == 200, response.get_json()
    with session_scope() as session:
        registry.open_to_users(session, list(VISIBLE_MODELS.values()))
    store_models()


def store_models() -> None:
    """The registry entries of :func:`configure_models` (again after a route cleared them)."""
    with session_scope() as session:
        ollama = connections.connection(session, "ollama", 0)
        openai = connections.connection(session, "openai", 0)
        names = (VISIBLE_MODELS, HIDDEN_MODELS)
        registry.store(registry.build(
            [registry.openai_entries(openai, [{"id": n["openai"]} for n in names])],
            [registry.ollama_entries(ollama, [{"model": n["ollama"], "name": n["ollama"]} for n in names])],
        ), [])


def chat_object(title: str = "Sweep") -> dict:
    """A two-message chat as the web app sends it."""
    messages = {
        "m0": {"id": "m0", "parentId": None, "childrenIds": ["m1"], "role": "user", "content": "hello",
               "timestamp": 1700000000},
        "m1": {"id": "m1", "parentId": "m0", "childrenIds": [], "role": "assistant", "content": "hi",
               "timestamp": 1700000001},
    }
    return {"title": title, "models": [VISIBLE_MODELS["openai"]], "messages": list(messages.values()),
            "history": {"messages": messages, "currentId": "m1"}}


class Owned:
    """Objects of one owner, each made through the API on first use. ``hidden_models``: the model
    properties name models only admins may use."""

    def __init__(self, client, owner: Caller, admin: Caller) -> None:
        self.client, self.owner, self.admin = client, owner, admin
        self.hidden_models = False

    def _made(self, method: str, path: str, by: Caller | None = None, **kwargs) -> dict:
        response = self.client.open(path, method=method, headers=(by or self.owner).headers, **kwargs)
        assert response.status_code == 200, (path, response.get_json())
        return response.get_json()

    @cached_property
    def chat(self) -> dict:
        return self._made("POST", "/api/v1/chats/new", json={"chat": chat_object()})

    @property
    def message_id(self) -> str:
        return self.chat["chat"]["history"]["currentId"]

    @cached_property
    def share_id(self) -> str:
        return self._made("POST", f"/api/v1/chats/{self.chat['id']}/share")["share_id"]

    @cached_property
    def feedback(self) -> dict:
        return self._made("POST", "/api/v1/evaluations/feedback", json=FEEDBACK)

    @cached_property
    def folder(self) -> dict:
        return self._made("POST", "/api/v1/folders/", json={"name": unique("folder")})

    def _uploaded(self, name: str) -> dict:
        return self._made("POST", "/api/v1/files/?process=false", content_type="multipart/form-data",
                          data={"file": (io.BytesIO(f"{name} notes".encode()), f"{name}.txt", "text/plain")})

    @cached_property
    def file(self) -> dict:
        return self._uploaded("notes")

    @cached_property
    def spare_file(self) -> dict:
        """A second file, in no knowledge base."""
        return self._uploaded("spare")

    @cached_property
    def _custom_model_versions(self) -> tuple[dict, str]:
        made = self._made("POST", "/api/v1/models/create", json={
            "id": unique("preset"), "base_model_id": self.model("openai"), "name": "Sweep preset", "meta": {},
            "params": {"system": "Be brief."}})
        changed = self._made("POST", "/api/v1/models/model/update", json={**made, "params": {"system": "Be kind."}})
        return changed, made["version_id"]

    @property
    def custom_model(self) -> dict:
        """A custom model over the owner's OpenAI model, changed once (so it has two versions)."""
        return self._custom_model_versions[0]

    @property
    def custom_model_first_version(self) -> str:
        return self._custom_model_versions[1]

    @cached_property
    def _tool_versions(self) -> tuple[dict, str]:
        """A tool stored as its save job stores one (no worker runs in the sweep), saved twice."""
        found = {"kind": "tools", "specs": [], "valves_spec": {"properties": {"key": {"type": "string"}}},
                 "user_valves_spec": {"properties": {"shout": {"type": "boolean"}}}, "has_user_valves": True}
        form = {"id": unique("tool").replace("-", "_"), "name": "Sweep tool", "content": "class Tools: pass"}
        with session_scope() as session:
            first = tools.store(session, self.owner.id, form, found, creating=True).version_id
            stored = tools.tool_json(tools.store(session, self.owner.id, {**form, "content": "class Tools: ..."},
                                                 found, creating=False))
        return stored, first

    @property
    def tool(self) -> dict:
        return self._tool_versions[0]

    @property
    def tool_first_version(self) -> str:
        return self._tool_versions[1]

    @cached_property
    def _function_versions(self) -> tuple[dict, str]:
        """A filter function stored as its save job stores one, saved twice."""
        found = {"kind": "filter", "valves_spec": {"properties": {"priority": {"type": "integer"}}},
                 "user_valves_spec": {"properties": {"on": {"type": "boolean"}}}, "has_user_valves": True}
        form = {"id": unique("filter").replace("-", "_"), "name": "Sweep filter", "content": "class Filter: pass"}
        with session_scope() as session:
            first = functions.store(session, self.admin.id, form, found, creating=True).version_id
            stored = functions.function_json(functions.store(
                session, self.admin.id, {**form, "content": "class Filter: ..."}, found, creating=False))
        return stored, first

    @property
    def function(self) -> dict:
        """An admin's filter function (functions are the admins'), changed once."""
        return self._function_versions[0]

    @property
    def function_first_version(self) -> str:
        return self._function_versions[1]

    @cached_property
    def _prompt_versions(self) -> tuple[dict, str]:
        made = self._made("POST", "/api/v1/prompts/create", json={
            "command": unique("sweep"), "name": "Sweep prompt", "content": "Summarise this."})
        changed = self._made("POST", f"/api/v1/prompts/id/{made['id']}/update",
                             json={**made, "content": "Summarise this briefly."})
        return changed, made["version_id"]

    @property
    def prompt(self) -> dict:
        """A prompt, changed once (so it has two versions)."""
        return self._prompt_versions[0]

    @property
    def prompt_first_version(self) -> str:
        return self._prompt_versions[1]

    @cached_property
    def note(self) -> dict:
        return self._made("POST", "/api/v1/notes/create", json={"title": "Sweep note",
                                                                "data": {"content": {"md": "Some notes."}}})

    @cached_property
    def _skill_versions(self) -> tuple[dict, str]:
        made = self._made("POST", "/api/v1/skills/create", json={
            "id": unique("sweep-skill"), "name": unique("Sweep skill"), "content": "Be thorough."})
        changed = self._made("POST", f"/api/v1/skills/id/{made['id']}/update", json={
            "id": made["id"], "name": made["name"], "content": "Be brief.", "expected_version_id": made["version_id"]})
        return changed, made["version_id"]

    @property
    def skill(self) -> dict:
        """A skill, changed once (so it has two versions)."""
        return self._skill_versions[0]

    @property
    def skill_first_version(self) -> str:
        return self._skill_versions[1]

    @cached_property
    def knowledge(self) -> dict:
        """A knowledge base holding :attr:`file`."""
        made = self._made("POST", "/api/v1/knowledge/create", json={"name": "Sweep knowledge"})
        self._made("POST", f"/api/v1/knowledge/{made['id']}/file/add", json={"file_id": self.file["id"]})
        return made

    def new_external_connection(self) -> dict:
        """An admin's Qdrant connection (connections are the admins'); nothing listens at its address."""
        return self._made("POST", "/api/v1/knowledge/external/connections", by=self.admin,
                          json={"name": "Sweep store", "provider": "qdrant", "endpoint": "http://127.0.0.1:9"})

    @cached_property
    def external_connection(self) -> dict:
        return self.new_external_connection()

    @cached_property
    def external_knowledge(self) -> dict:
        """An admin's knowledge base reading :attr:`external_connection`."""
        return self._made("POST", "/api/v1/knowledge/external/knowledge/create", by=self.admin, json={
            "name": "Sweep external", "connection_id": self.external_connection["id"], "source": EXTERNAL_SOURCE})

    @cached_property
    def knowledge_directory(self) -> dict:
        """A directory in :attr:`knowledge`."""
        return self._made("POST", f"/api/v1/knowledge/{self.knowledge['id']}/dirs/create", json={"name": "Sweep dir"})

    @cached_property
    def memory(self) -> dict:
        return self._made("POST", "/api/v1/memories/add", json={"content": "likes tea"})

    @cached_property
    def job(self) -> str:
        """A finished (cancelled) job, so that following its events ends at once."""
        with session_scope() as session:
            job = catalog.send(session, catalog.NOOP, catalog.Noop(), owner_id=self.owner.id, kind="system.noop")
            service.request_cancel(session, job)
            return job.id

    @cached_property
    def group(self) -> dict:
        """A group (groups are the admin's to make) with the owner in it."""
        return self.new_group()

    def new_group(self) -> dict:
        """A group of its own, for routes that change or delete the group they name."""
        response = self.client.post("/api/v1/groups/create", headers=self.admin.headers,
                                    json={"name": unique("group"), "description": ""})
        assert response.status_code == 200, response.get_json()
        group = response.get_json()
        added = self.client.post(f"/api/v1/groups/id/{group['id']}/users/add", headers=self.admin.headers,
                                 json={"user_ids": [self.owner.id]})
        assert added.status_code == 200, added.get_json()
        return group

    @cached_property
    def webhook(self) -> dict:
        """An event webhook (the admin's) with one delivery, of its own creation's event."""
        return self.new_webhook()

    def new_webhook(self) -> dict:
        """A webhook of its own, for routes that delete the webhook they name. Its URL is a public address
        nothing is sent to (no worker runs in the sweep)."""
        response = self.client.post("/api/events/webhooks", headers=self.admin.headers,
                                    json={"url": "http://93.184.215.14/hook", "events": ["config.*"]})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    @cached_property
    def delivery_id(self) -> str:
        listed = self.client.get(f"/api/events/webhooks/{self.webhook['id']}/deliveries", headers=self.admin.headers)
        return listed.get_json()["items"][0]["id"]

    @cached_property
    def spare_user(self) -> Caller:
        """An account of its own, for routes that change or delete the user they name."""
        return add_user(self.client, self.admin, f"{unique('spare')}@sweep.example")

    def model(self, provider: str) -> str:
        return (HIDDEN_MODELS if self.hidden_models else VISIBLE_MODELS)[provider]
