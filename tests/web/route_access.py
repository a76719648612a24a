"""Who may call each route: one row per rule and method of the URL map (a route without a row fails
``test_route_access``), with what the route needs to be called (path values, body, query).

Access classes, as Open WebUI 0.12.4's dependencies decide (``get_verified_user``, ``get_admin_user``);
refused callers get 401 (both dependencies answer 401; Switchyard refuses pending users the same way):

- ``PUBLIC``: anyone, signed in or not.
- ``PENDING_OK``: any signed-in account, pending ones included (their own session).
- ``USER``: a verified account (user or admin).
- ``ADMIN``: admins only (a plain user gets 401).
- ``ADMIN_FEATURE``: open to verified users in Open WebUI, but behind a switch Switchyard keeps off (and says
  so in ``/api/config``): a plain user gets 403, as Open WebUI answers with the switch off.
- ``OWNER``: a verified account, on its own object; another user's object is 404.
- ``COLLECTION``: ``OWNER`` for retrieval collections: another user's is 403 (Open WebUI's collection check).
- ``MODEL`` / ``OLLAMA_MODEL``: a verified account, on a model it may use (as ``/api/models`` lists them;
  admins use any); a model not opened to users is 403 "Model not found", as Open WebUI's model check answers
  on every route that names a model (with or without a connection index).

Every request carries ``Prefer: respond-async`` and no streaming, so routes that enqueue a job answer
202 at once (no worker runs; nothing is sent upstream).
"""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.db import session_scope
from shared.rag import config as rag_config
from tests.web.roles import (
    EXTERNAL_SOURCE, FEEDBACK, OLLAMA_CONFIG, OPENAI_CONFIG, PASSWORD, UPSTREAM, WORKSPACE_PERMISSIONS, Owned,
    chat_object, unique,
)
from web import scim

PUBLIC, PENDING_OK, USER, ADMIN, ADMIN_FEATURE = "public", "pending-ok", "user", "admin", "admin-feature"
OWNER, COLLECTION, MODEL, OLLAMA_MODEL = "owner", "collection", "model", "ollama-model"

FOREIGN_STATUS = {OWNER: 404, COLLECTION: 403, MODEL: 403, OLLAMA_MODEL: 403}
"""What a verified user is answered for an object (or model) that is not theirs to use."""

EXCLUDED = {
    "/<app_path:path>": "the web app's catch-all for its static files (any path that is not an API prefix)",
    **{f"{scim.PREFIX}{rule}": "SCIM: callers present the SCIM token, not an account (tests/web/test_scim.py)"
       for rule in scim.RULES},
}
"""Rules the sweep leaves out, with the reason."""


@dataclass(frozen=True)
class Route:
    access: str
    body: Callable[[Owned], Any] | None = None
    """The JSON body, made from the objects the caller's role uses."""
    query: str | Callable[[Owned], str] = ""
    """The query string, or made from the caller's objects (routes that take an id in the query)."""
    form: Callable[[Owned], dict] | None = None
    """A multipart body instead of JSON."""
    path: Callable[[Owned], dict[str, str]] | None = None
    """Path values that differ from :data:`PATH_VALUES`."""
    spends_session: bool = False
    """The call revokes the caller's token (sign-out, password change): sign in again after it."""
    also_ok: tuple[int, ...] = ()
    """Answers besides 2xx/3xx that mean the caller was let through (e.g. 404 for a key never made)."""


EXTERNAL_CONNECTION = {"name": "Store", "provider": "qdrant", "endpoint": "http://127.0.0.1:9"}
EXTERNAL_SOURCE_FORM = {"name": "External", "connection": EXTERNAL_CONNECTION, "source": EXTERNAL_SOURCE,
                        "test_query": "q"}


PATH_VALUES: dict[str, Callable[[Owned], str]] = {
    "connection_id": lambda o: o.external_connection["id"],
    "chat_id": lambda o: o.chat["id"],
    "message_id": lambda o: o.message_id,
    "share_id": lambda o: o.share_id,
    "folder_id": lambda o: o.folder["id"],
    "file_id": lambda o: o.file["id"],
    "knowledge_id": lambda o: o.knowledge["id"],
    "prompt_id": lambda o: o.prompt["id"],
    "note_id": lambda o: o.note["id"],
    "skill_id": lambda o: o.skill["id"],
    "memory_id": lambda o: o.memory["id"],
    "dir_id": lambda o: o.knowledge_directory["id"],
    "feedback_id": lambda o: o.feedback["id"],
    "tool_id": lambda o: o.tool["id"],
    "function_id": lambda o: o.function["id"],
    "history_id": lambda o: o.custom_model_first_version,
    "task": lambda o: "tags",
    "model_id": lambda o: "visible-llama",
    "job_id": lambda o: o.job,
    "task_id": lambda o: o.job,
    "user_id": lambda o: o.owner.id,
    "url_idx": lambda o: "0",
    "pipeline_id": lambda o: "sweep_filter",
    "provider": lambda o: "oidc",
    "namespace": lambda o: "ui",
    "group_id": lambda o: o.group["id"],
    "webhook_id": lambda o: o.webhook["id"],
    "delivery_id": lambda o: o.delivery_id,
}
"""Each path parameter's value: the object of that kind owned by the role's owner."""


def _new_account() -> dict:
    return {"name": "New", "email": f"{unique('new')}@sweep.example", "password": PASSWORD, "role": "user"}


def _spare_user(o: Owned) -> dict[str, str]:
    return {"user_id": o.spare_user.id}


def _new_group(o: Owned) -> dict[str, str]:
    return {"group_id": o.new_group()["id"]}


def _new_webhook(o: Owned) -> dict[str, str]:
    return {"webhook_id": o.new_webhook()["id"]}


def _memory_query(o: Owned) -> dict:
    """A query for the caller's memory (with none to search the answer is 404)."""
    return {"content": o.memory["content"]}


def _embedding_config(_o: Owned) -> dict:
    """The current embedding settings, sent back unchanged."""
    with session_scope() as session:
        current = rag_config.embedding_config(session)
    return {key: current[key] for key in ("RAG_EMBEDDING_ENGINE", "RAG_EMBEDDING_MODEL")}


def _messages() -> list[dict]:
    return [{"role": "user", "content": "hello"}]


def _chat_request(o: Owned) -> dict:
    return {"model": o.model("openai"), "messages": _messages(), "chat_id": o.chat["id"], "stream": False}


def _openai_chat(o: Owned) -> dict:
    return {"model": o.model("openai"), "messages": _messages(), "stream": False}


def _openai_embed(o: Owned) -> dict:
    return {"model": o.model("openai"), "input": "hello"}


def _ollama(**extra: Any) -> Callable[[Owned], dict]:
    return lambda o: {"model": o.model("ollama"), **extra}


def _upload(_o: Owned) -> dict:
    return {"file": (io.BytesIO(b"more notes"), "more.txt", "text/plain")}


def _recording(_o: Owned) -> dict:
    return {"file": (io.BytesIO(b"SAY: hello"), "note.webm", "audio/webm")}


def _pipeline_file(_o: Owned) -> dict:
    return {"urlIdx": "0", "file": (io.BytesIO(b"class Pipeline:\n    pass\n"), "sweep_filter.py", "text/x-python")}


def _custom_model(o: Owned, model_id: str) -> dict:
    return {"id": model_id, "base_model_id": o.model("openai"), "name": "Preset", "meta": {},
            "params": {"system": "Be brief."}}


def _tool_version(o: Owned) -> dict[str, str]:
    """The history routes name the tool ``object_id`` (they are shared with functions)."""
    return {"object_id": o.tool["id"], "history_id": o.tool_first_version}


def _function_version(o: Owned) -> dict[str, str]:
    return {"object_id": o.function["id"], "history_id": o.function_first_version}


def _model_query(o: Owned) -> str:
    return f"id={o.custom_model['id']}"


def _new_prompt(_o: Owned) -> dict:
    return {"command": unique("new"), "name": "New prompt", "content": "Translate this."}


def _prompt_first_version(o: Owned) -> dict[str, str]:
    return {"history_id": o.prompt_first_version}


def _skill_first_version(o: Owned) -> dict[str, str]:
    return {"history_id": o.skill_first_version}


def _skill_versions(o: Owned) -> str:
    return f"from_id={o.skill_first_version}&to_id={o.skill['version_id']}"


def _skill_upload(_o: Owned) -> dict:
    return {"files": (io.BytesIO(b"---\nname: uploaded\n---\nSteps."), "SKILL.md", "text/markdown"),
            "decisions": '[{"action": "skip"}]'}


def _const(value: Any) -> Callable[[Owned], Any]:
    return lambda _o: value


ROUTES: dict[tuple[str, str], Route] = {
    # system and the web app
    ("GET", "/"): Route(PUBLIC),
    ("GET", "/favicon.ico"): Route(PUBLIC, also_ok=(404,)),  # 404 until the web app is installed
    ("GET", "/favicon.png"): Route(PUBLIC, also_ok=(404,)),
    ("GET", "/opensearch.xml"): Route(PUBLIC),
    ("GET", "/manifest.json"): Route(PUBLIC),
    ("GET", "/docs"): Route(PUBLIC),
    ("GET", "/openapi.json"): Route(PUBLIC),
    ("GET", "/health"): Route(PUBLIC),
    ("GET", "/health/db"): Route(PUBLIC),
    ("GET", "/ready"): Route(PUBLIC),
    ("GET", "/metrics"): Route(ADMIN),
    ("GET", "/admin/queues"): Route(PUBLIC),
    ("GET", "/api/version"): Route(PUBLIC),
    ("GET", "/api/changelog"): Route(PUBLIC),
    ("GET", "/api/config"): Route(PUBLIC),
    ("GET", "/api/version/updates"): Route(USER),
    ("GET", "/api/usage"): Route(ADMIN_FEATURE),  # ENABLE_PUBLIC_ACTIVE_USERS_COUNT off
    # accounts
    ("POST", "/api/v1/auths/signup"): Route(PUBLIC, body=lambda _o: _new_account()),
    ("POST", "/api/v1/auths/signin"): Route(PUBLIC, body=lambda o: {"email": o.owner.email, "password": PASSWORD}),
    ("GET", "/api/v1/auths/signout"): Route(PUBLIC, spends_session=True),
    ("POST", "/api/v1/auths/signout"): Route(PUBLIC, spends_session=True),
    # sign-in through an identity provider: 404 while none is configured (as in the sweep)
    ("GET", "/oauth/<provider>/login"): Route(PUBLIC, also_ok=(404,)),
    ("GET", "/oauth/<provider>/login/callback"): Route(PUBLIC, also_ok=(404,)),
    ("GET", "/oauth/<provider>/callback"): Route(PUBLIC, also_ok=(404,)),
    ("GET", "/api/v1/auths/"): Route(PENDING_OK),
    ("POST", "/api/v1/auths/update/timezone"): Route(PENDING_OK, body=_const({"timezone": "Europe/Paris"})),
    ("POST", "/api/v1/auths/update/profile"): Route(USER, body=_const({"name": "Renamed", "profile_image_url": "/user.png"})),
    ("POST", "/api/v1/auths/update/password"): Route(
        USER, body=_const({"password": PASSWORD, "new_password": PASSWORD}), spends_session=True),
    ("GET", "/api/v1/auths/api_key"): Route(USER, also_ok=(404,)),
    ("POST", "/api/v1/auths/api_key"): Route(USER),
    ("DELETE", "/api/v1/auths/api_key"): Route(USER),
    ("POST", "/api/v1/auths/add"): Route(ADMIN, body=lambda _o: _new_account()),
    ("GET", "/api/v1/auths/admin/config"): Route(ADMIN),
    ("POST", "/api/v1/auths/admin/config"): Route(ADMIN, body=_const({})),
    ("GET", "/api/v1/auths/admin/details"): Route(PENDING_OK),
    ("POST", "/api/v1/auths/ldap"): Route(PUBLIC, body=_const({"user": "ada", "password": PASSWORD}),
                                          also_ok=(400,)),  # 400: LDAP is off
    ("GET", "/api/v1/auths/admin/config/oauth"): Route(ADMIN),
    # the sign-in settings are the environment's: a change answers 400 once the caller is let through
    ("POST", "/api/v1/auths/admin/config/oauth"): Route(ADMIN, body=_const({}), also_ok=(400,)),
    ("GET", "/api/v1/auths/admin/config/ldap"): Route(ADMIN),
    ("POST", "/api/v1/auths/admin/config/ldap"): Route(ADMIN, body=_const({"enable_ldap": False})),
    ("GET", "/api/v1/auths/admin/config/ldap/server"): Route(ADMIN),
    ("POST", "/api/v1/auths/admin/config/ldap/server"): Route(ADMIN, body=_const({
        "label": "Directory", "host": "127.0.0.1", "app_dn": "", "app_dn_password": "",
        "search_base": "ou=people,dc=example,dc=org"})),
    # users
    ("GET", "/api/v1/groups/"): Route(USER),
    ("POST", "/api/v1/groups/create"): Route(ADMIN, body=lambda _o: {"name": unique("group"), "description": ""}),
    ("GET", "/api/v1/groups/id/<group_id>"): Route(ADMIN),
    ("GET", "/api/v1/groups/id/<group_id>/info"): Route(USER),
    ("GET", "/api/v1/groups/id/<group_id>/export"): Route(ADMIN),
    ("POST", "/api/v1/groups/id/<group_id>/users"): Route(ADMIN),
    ("POST", "/api/v1/groups/id/<group_id>/update"): Route(ADMIN, path=_new_group,
                                                           body=_const({"name": "Renamed", "description": ""})),
    ("POST", "/api/v1/groups/id/<group_id>/users/add"): Route(ADMIN, path=_new_group, body=_const({"user_ids": []})),
    ("POST", "/api/v1/groups/id/<group_id>/users/remove"): Route(ADMIN, path=_new_group,
                                                                 body=_const({"user_ids": []})),
    ("DELETE", "/api/v1/groups/id/<group_id>/delete"): Route(ADMIN, path=_new_group),
    ("GET", "/api/v1/groups/id/<group_id>/preview"): Route(ADMIN),
    ("GET", "/api/v1/groups/id/<group_id>/members"): Route(ADMIN),
    ("GET", "/api/v1/users/"): Route(ADMIN),
    ("GET", "/api/v1/users/all"): Route(ADMIN),
    ("GET", "/api/v1/users/search"): Route(USER, query="query=a"),
    ("GET", "/api/v1/users/groups"): Route(USER, query="include_inherited=true"),
    ("GET", "/api/v1/users/usage"): Route(USER, query="days=7"),
    ("GET", "/api/v1/users/default/permissions/defaults"): Route(ADMIN),
    ("GET", "/api/v1/users/<user_id>/info"): Route(USER),
    ("GET", "/api/v1/users/<user_id>/active"): Route(USER),
    ("GET", "/api/v1/users/<user_id>/groups"): Route(ADMIN),
    ("GET", "/api/v1/users/<user_id>/preview"): Route(ADMIN),
    ("POST", "/api/v1/users/<user_id>/sessions/revoke"): Route(ADMIN, path=_spare_user),
    ("GET", "/api/v1/users/<user_id>"): Route(ADMIN),
    ("POST", "/api/v1/users/<user_id>/update"): Route(ADMIN, path=_spare_user, body=_const({"name": "Renamed"})),
    ("DELETE", "/api/v1/users/<user_id>"): Route(ADMIN, path=_spare_user),
    ("GET", "/api/v1/users/<user_id>/profile/image"): Route(USER),
    ("GET", "/api/v1/users/default/permissions"): Route(ADMIN),
    ("POST", "/api/v1/users/default/permissions"): Route(ADMIN, body=_const(WORKSPACE_PERMISSIONS)),
    ("GET", "/api/v1/users/permissions"): Route(USER),
    ("GET", "/api/v1/users/user/info"): Route(USER),
    ("POST", "/api/v1/users/user/info/update"): Route(USER, body=_const({"location": "here"})),
    ("GET", "/api/v1/users/user/variables"): Route(USER),
    ("POST", "/api/v1/users/user/variables/update"): Route(USER, body=_const({"variables": {"city": "Oslo"}})),
    # user statuses are off (as Open WebUI with them off): 403 once the caller is let through
    ("GET", "/api/v1/users/user/status"): Route(USER, also_ok=(403,)),
    ("POST", "/api/v1/users/user/status/update"): Route(USER, body=_const({}), also_ok=(403,)),
    # no OAuth sessions are kept: Open WebUI's 400 for a user without any
    ("GET", "/api/v1/users/<user_id>/oauth/sessions"): Route(ADMIN, also_ok=(400,)),
    ("GET", "/api/v1/users/user/settings"): Route(USER),
    ("POST", "/api/v1/users/user/settings/update"): Route(USER, body=_const({"ui": {"theme": "dark"}})),
    ("GET", "/api/v1/models/model/profile/image"): Route(USER),
    # jobs and Open WebUI's tasks
    ("GET", "/api/v1/jobs/"): Route(USER),
    ("POST", "/api/v1/jobs/probe"): Route(ADMIN, body=_const({})),
    ("GET", "/api/v1/jobs/stats"): Route(ADMIN),
    ("GET", "/api/v1/jobs/admin/queues"): Route(ADMIN),
    ("POST", "/api/v1/jobs/admin/queues/<queue>/dead-letters/purge"): Route(ADMIN, path=_const({"queue": "default"})),
    ("GET", "/api/v1/jobs/<job_id>"): Route(OWNER),
    ("GET", "/api/v1/jobs/<job_id>/events"): Route(OWNER),
    ("POST", "/api/v1/jobs/<job_id>/cancel"): Route(OWNER),
    ("POST", "/api/v1/jobs/<job_id>/retry"): Route(OWNER),
    ("GET", "/api/tasks/"): Route(ADMIN),
    ("POST", "/api/tasks/stop/<task_id>"): Route(ADMIN),
    ("GET", "/api/tasks/chat/<path:chat_id>"): Route(USER),
    ("POST", "/api/tasks/chat/<path:chat_id>/stop"): Route(OWNER),
    # the unified LLM routes
    ("GET", "/api/models"): Route(USER),
    ("GET", "/api/models/base"): Route(ADMIN),
    ("POST", "/api/chat/completions"): Route(OWNER, body=_chat_request),
    ("POST", "/api/v1/chat/completions"): Route(OWNER, body=_chat_request),
    ("POST", "/api/chat/completed"): Route(OWNER, body=lambda o: {"chat_id": o.chat["id"], "messages": _messages()}),
    ("POST", "/api/chat/actions/<action_id>"): Route(  # no action is switched on: 400 once the chat is the caller's
        OWNER, path=_const({"action_id": "none"}), also_ok=(400,),
        body=lambda o: {"chat_id": o.chat["id"], "id": o.message_id, "model": o.model("openai")}),
    ("POST", "/api/embeddings"): Route(MODEL, body=_openai_embed),
    ("POST", "/api/v1/embeddings"): Route(MODEL, body=_openai_embed),
    ("GET", "/api/v1/tasks/config"): Route(USER),
    ("POST", "/api/v1/tasks/<any(title, tags, follow_up, image_prompt):task>/completions"): Route(
        MODEL, body=_openai_chat),
    ("POST", "/api/v1/tasks/queries/completions"): Route(
        MODEL, body=lambda o: {**_openai_chat(o), "type": "retrieval"}),
    # autocomplete is off by default, and Open WebUI answers that (400) before it looks at the model
    ("POST", "/api/v1/tasks/auto/completions"): Route(
        USER, body=lambda o: {"model": o.model("openai"), "prompt": "hel"}, also_ok=(400,)),
    ("POST", "/api/v1/tasks/emoji/completions"): Route(
        MODEL, body=lambda o: {"model": o.model("openai"), "prompt": "hi"}),
    ("POST", "/api/v1/tasks/moa/completions"): Route(
        MODEL, body=lambda o: {"model": o.model("openai"), "prompt": "hi", "responses": ["a", "b"]}),
    ("POST", "/api/v1/tasks/config/update"): Route(ADMIN, body=_const({})),
    # the Ollama proxy
    ("GET", "/ollama/"): Route(PUBLIC),
    ("GET", "/ollama/urls"): Route(ADMIN),
    ("GET", "/ollama/config"): Route(ADMIN),
    ("POST", "/ollama/config/update"): Route(ADMIN, body=_const(OLLAMA_CONFIG)),
    ("POST", "/ollama/verify"): Route(ADMIN, body=_const({"url": UPSTREAM})),
    ("GET", "/ollama/api/tags"): Route(USER),
    ("GET", "/ollama/api/tags/<int:url_idx>"): Route(ADMIN),
    ("GET", "/ollama/api/version"): Route(USER),
    ("GET", "/ollama/api/version/<int:url_idx>"): Route(ADMIN),
    ("GET", "/ollama/api/ps"): Route(ADMIN),
    ("POST", "/ollama/api/show"): Route(OLLAMA_MODEL, body=_ollama()),
    ("POST", "/ollama/api/chat"): Route(OLLAMA_MODEL, body=_ollama(messages=_messages(), stream=False)),
    ("POST", "/ollama/api/chat/<int:url_idx>"): Route(OLLAMA_MODEL, body=_ollama(messages=_messages(), stream=False)),
    ("POST", "/ollama/api/generate"): Route(OLLAMA_MODEL, body=_ollama(prompt="hello", stream=False)),
    ("POST", "/ollama/api/generate/<int:url_idx>"): Route(OLLAMA_MODEL, body=_ollama(prompt="hello", stream=False)),
    ("POST", "/ollama/api/embed"): Route(OLLAMA_MODEL, body=_ollama(input="hello")),
    ("POST", "/ollama/api/embed/<int:url_idx>"): Route(OLLAMA_MODEL, body=_ollama(input="hello")),
    ("POST", "/ollama/api/embeddings"): Route(OLLAMA_MODEL, body=_ollama(prompt="hello")),
    ("POST", "/ollama/api/embeddings/<int:url_idx>"): Route(OLLAMA_MODEL, body=_ollama(prompt="hello")),
    ("POST", "/ollama/api/pull"): Route(ADMIN, body=_ollama(stream=False)),
    ("POST", "/ollama/api/pull/<int:url_idx>"): Route(ADMIN, body=_ollama(stream=False)),
    ("DELETE", "/ollama/api/delete"): Route(ADMIN, body=_ollama()),
    ("DELETE", "/ollama/api/delete/<int:url_idx>"): Route(ADMIN, body=_ollama()),
    ("POST", "/ollama/v1/chat/completions"): Route(OLLAMA_MODEL, body=_ollama(messages=_messages(), stream=False)),
    ("POST", "/ollama/v1/chat/completions/<int:url_idx>"): Route(
        OLLAMA_MODEL, body=_ollama(messages=_messages(), stream=False)),
    ("POST", "/ollama/v1/completions"): Route(OLLAMA_MODEL, body=_ollama(prompt="hello", stream=False)),
    ("POST", "/ollama/v1/completions/<int:url_idx>"): Route(OLLAMA_MODEL, body=_ollama(prompt="hello", stream=False)),
    ("POST", "/ollama/v1/embeddings"): Route(OLLAMA_MODEL, body=_ollama(input="hello")),
    ("POST", "/ollama/v1/embeddings/<int:url_idx>"): Route(OLLAMA_MODEL, body=_ollama(input="hello")),
    ("GET", "/ollama/v1/models"): Route(USER),
    ("GET", "/ollama/v1/models/<int:url_idx>"): Route(ADMIN),
    # the OpenAI proxy
    ("GET", "/openai/config"): Route(ADMIN),
    ("POST", "/openai/config/update"): Route(ADMIN, body=_const(OPENAI_CONFIG)),
    ("POST", "/openai/verify"): Route(ADMIN, body=_const({"url": f"{UPSTREAM}/v1", "key": "sk-upstream"})),
    ("GET", "/openai/models"): Route(USER),
    ("GET", "/openai/v1/models"): Route(USER),
    ("GET", "/openai/models/<int:url_idx>"): Route(ADMIN),
    ("GET", "/openai/v1/models/<int:url_idx>"): Route(ADMIN),
    ("POST", "/openai/chat/completions"): Route(MODEL, body=_openai_chat),
    ("POST", "/openai/v1/chat/completions"): Route(MODEL, body=_openai_chat),
    ("POST", "/openai/embeddings"): Route(MODEL, body=_openai_embed),
    ("POST", "/openai/v1/embeddings"): Route(MODEL, body=_openai_embed),
    # Pipelines servers (the sweep's OpenAI connection 0 stands for one)
    ("GET", "/api/v1/pipelines/list"): Route(ADMIN),
    ("POST", "/api/v1/pipelines/upload"): Route(ADMIN, form=_pipeline_file),
    ("POST", "/api/v1/pipelines/add"): Route(ADMIN, body=_const({"url": "https://example.com/p.py", "urlIdx": 0})),
    ("DELETE", "/api/v1/pipelines/delete"): Route(ADMIN, body=_const({"id": "sweep_filter", "urlIdx": 0})),
    ("GET", "/api/v1/pipelines/"): Route(ADMIN, query="urlIdx=0"),
    ("GET", "/api/v1/pipelines/<pipeline_id>/valves"): Route(ADMIN, query="urlIdx=0"),
    ("GET", "/api/v1/pipelines/<pipeline_id>/valves/spec"): Route(ADMIN, query="urlIdx=0"),
    ("POST", "/api/v1/pipelines/<pipeline_id>/valves/update"): Route(
        ADMIN, query="urlIdx=0", body=_const({"pipelines": ["*"], "priority": 0})),
    # chats
    ("GET", "/api/v1/chats/"): Route(USER),
    ("GET", "/api/v1/chats/list"): Route(USER),
    ("GET", "/api/v1/chats/pinned"): Route(USER),
    ("GET", "/api/v1/chats/archived"): Route(USER),
    ("GET", "/api/v1/chats/archived/count"): Route(USER),
    ("GET", "/api/v1/chats/search"): Route(USER, query="text=hello"),
    ("GET", "/api/v1/chats/all"): Route(USER),
    ("GET", "/api/v1/chats/all/archived"): Route(USER),
    ("GET", "/api/v1/chats/all/tags"): Route(USER),
    ("GET", "/api/v1/chats/shared"): Route(USER),
    ("POST", "/api/v1/chats/tags"): Route(USER, body=_const({"name": "work"})),
    ("POST", "/api/v1/chats/read"): Route(USER),
    ("POST", "/api/v1/chats/new"): Route(USER, body=_const({"chat": chat_object()})),
    ("POST", "/api/v1/chats/import"): Route(USER, body=_const({"chats": [{"chat": chat_object()}]})),
    ("DELETE", "/api/v1/chats/"): Route(USER),
    ("POST", "/api/v1/chats/archive/all"): Route(USER),
    ("POST", "/api/v1/chats/unarchive/all"): Route(USER),
    ("DELETE", "/api/v1/chats/share/all"): Route(USER),
    ("GET", "/api/v1/chats/list/user/<user_id>"): Route(ADMIN),
    ("GET", "/api/v1/chats/share/<share_id>"): Route(OWNER),
    ("GET", "/api/v1/chats/folder/<folder_id>"): Route(OWNER),
    ("GET", "/api/v1/chats/folder/<folder_id>/list"): Route(OWNER),
    ("GET", "/api/v1/chats/<chat_id>"): Route(OWNER),
    ("POST", "/api/v1/chats/<chat_id>"): Route(OWNER, body=_const({"chat": {"title": "Renamed"}})),
    ("DELETE", "/api/v1/chats/<chat_id>"): Route(OWNER),
    ("PATCH", "/api/v1/chats/<chat_id>/params"): Route(OWNER, body=_const({"temperature": 0.5})),
    ("POST", "/api/v1/chats/<chat_id>/messages/<message_id>"): Route(OWNER, body=_const({"content": "edited"})),
    ("DELETE", "/api/v1/chats/<chat_id>/messages/<message_id>"): Route(OWNER),
    ("POST", "/api/v1/chats/<chat_id>/unread"): Route(OWNER),
    ("GET", "/api/v1/chats/<chat_id>/pinned"): Route(OWNER),
    ("POST", "/api/v1/chats/<chat_id>/pin"): Route(OWNER),
    ("POST", "/api/v1/chats/<chat_id>/archive"): Route(OWNER),
    ("POST", "/api/v1/chats/<chat_id>/clone"): Route(OWNER, body=_const({})),
    ("POST", "/api/v1/chats/<chat_id>/fork"): Route(OWNER, body=_const({})),
    ("POST", "/api/v1/chats/<chat_id>/share"): Route(OWNER),
    ("DELETE", "/api/v1/chats/<chat_id>/share"): Route(OWNER),
    ("POST", "/api/v1/chats/<chat_id>/folder"): Route(OWNER, body=lambda o: {"folder_id": o.folder["id"]}),
    ("GET", "/api/v1/chats/<chat_id>/tags"): Route(OWNER),
    ("POST", "/api/v1/chats/<chat_id>/tags"): Route(OWNER, body=_const({"name": "work"})),
    ("DELETE", "/api/v1/chats/<chat_id>/tags"): Route(OWNER, body=_const({"name": "work"})),
    # folders
    ("GET", "/api/v1/folders/"): Route(USER),
    ("POST", "/api/v1/folders/"): Route(USER, body=lambda _o: {"name": unique("folder")}),
    ("GET", "/api/v1/folders/shared"): Route(USER),
    ("GET", "/api/v1/folders/<folder_id>"): Route(OWNER),
    ("DELETE", "/api/v1/folders/<folder_id>"): Route(OWNER),
    ("POST", "/api/v1/folders/<folder_id>/read"): Route(OWNER),
    ("POST", "/api/v1/folders/<folder_id>/update"): Route(OWNER, body=_const({"name": "Renamed"})),
    ("POST", "/api/v1/folders/<folder_id>/update/expanded"): Route(OWNER, body=_const({"is_expanded": True})),
    ("POST", "/api/v1/folders/<folder_id>/update/parent"): Route(OWNER, body=_const({"parent_id": None})),
    # files
    ("POST", "/api/v1/files/"): Route(USER, query="process=false", form=_upload),
    ("GET", "/api/v1/files/"): Route(USER),
    ("DELETE", "/api/v1/files/all"): Route(ADMIN),
    ("GET", "/api/v1/files/<file_id>"): Route(OWNER),
    ("DELETE", "/api/v1/files/<file_id>"): Route(OWNER),
    ("GET", "/api/v1/files/<file_id>/content"): Route(OWNER),
    ("GET", "/api/v1/files/<file_id>/data/content"): Route(OWNER),
    ("POST", "/api/v1/files/<file_id>/data/content/update"): Route(OWNER, body=_const({"content": "new text"})),
    ("GET", "/api/v1/files/<file_id>/process/status"): Route(OWNER),
    ("GET", "/api/v1/files/search"): Route(USER, query="filename=*", also_ok=(404,)),
    ("GET", "/api/v1/files/user/search"): Route(USER),
    ("GET", "/api/v1/files/count"): Route(USER),
    ("GET", "/api/v1/files/user/count"): Route(USER),
    ("POST", "/api/v1/files/<file_id>/rename"): Route(OWNER, body=_const({"filename": "renamed.txt"})),
    ("GET", "/api/v1/files/<file_id>/content/<path:file_name>"): Route(OWNER, path=lambda o: {"file_name": "a.txt"}),
    ("GET", "/api/v1/files/<file_id>/content/html"): Route(OWNER, also_ok=(404,)),  # only admins' files
    # knowledge
    ("GET", "/api/v1/knowledge/"): Route(USER),
    ("GET", "/api/v1/knowledge/search"): Route(USER),
    ("POST", "/api/v1/knowledge/create"): Route(USER, body=_const({"name": "Another"})),
    ("GET", "/api/v1/knowledge/<knowledge_id>"): Route(OWNER),
    ("GET", "/api/v1/knowledge/<knowledge_id>/files"): Route(OWNER),
    ("POST", "/api/v1/knowledge/<knowledge_id>/update"): Route(OWNER, body=_const({"name": "Renamed"})),
    ("POST", "/api/v1/knowledge/<knowledge_id>/file/add"): Route(OWNER, body=lambda o: {"file_id": o.spare_file["id"]}),
    ("POST", "/api/v1/knowledge/<knowledge_id>/file/update"): Route(OWNER, body=lambda o: {"file_id": o.file["id"]}),
    ("POST", "/api/v1/knowledge/<knowledge_id>/file/remove"): Route(
        OWNER, query="delete_file=false", body=lambda o: {"file_id": o.file["id"]}),
    ("POST", "/api/v1/knowledge/<knowledge_id>/reset"): Route(OWNER),
    ("DELETE", "/api/v1/knowledge/<knowledge_id>/delete"): Route(OWNER),
    ("POST", "/api/v1/knowledge/reindex"): Route(ADMIN),
    ("POST", "/api/v1/knowledge/metadata/reindex"): Route(ADMIN),
    ("GET", "/api/v1/knowledge/<knowledge_id>/export"): Route(ADMIN),
    ("POST", "/api/v1/knowledge/<knowledge_id>/access/update"): Route(OWNER, body=_const({"access_grants": []})),
    ("GET", "/api/v1/knowledge/<knowledge_id>/files/pending"): Route(OWNER),
    ("POST", "/api/v1/knowledge/<knowledge_id>/files/batch/add"): Route(
        OWNER, body=lambda o: [{"file_id": o.spare_file["id"]}]),
    ("POST", "/api/v1/knowledge/<knowledge_id>/dirs/create"): Route(OWNER, body=_const({"name": "docs"})),
    ("POST", "/api/v1/knowledge/<knowledge_id>/dirs/<dir_id>/update"): Route(OWNER, body=_const({"name": "papers"})),
    ("DELETE", "/api/v1/knowledge/<knowledge_id>/dirs/<dir_id>/delete"): Route(OWNER),
    ("POST", "/api/v1/knowledge/<knowledge_id>/file/move"): Route(
        OWNER, body=lambda o: {"file_id": o.file["id"], "directory_id": o.knowledge_directory["id"]}),
    ("POST", "/api/v1/knowledge/<knowledge_id>/sync/diff"): Route(OWNER, body=_const({"manifest": []})),
    ("POST", "/api/v1/knowledge/<knowledge_id>/sync/cleanup"): Route(OWNER, body=_const({"file_ids": []})),
    # retrieval
    ("GET", "/api/v1/retrieval/config"): Route(ADMIN),
    ("POST", "/api/v1/retrieval/config/update"): Route(ADMIN, body=_const({})),
    ("POST", "/api/v1/retrieval/reset/db"): Route(ADMIN),
    # a loopback URL is refused (400) once the caller is let through
    ("POST", "/api/v1/retrieval/process/web"): Route(USER, body=_const({"url": UPSTREAM}), also_ok=(400,)),
    ("POST", "/api/v1/retrieval/process/youtube"): Route(USER, body=_const({"url": UPSTREAM}), also_ok=(400,)),
    ("POST", "/api/v1/retrieval/process/url"): Route(USER, body=_const({"url": UPSTREAM}), also_ok=(400,)),
    ("POST", "/api/v1/retrieval/reset/uploads"): Route(ADMIN),
    ("POST", "/api/v1/retrieval/process/files/batch"): Route(COLLECTION, body=lambda o: {
        "files": [{"id": o.file["id"], "data": {"content": "batch text"}}], "collection_name": o.knowledge["id"]}),
    # web search on, users without features.web_search (403); no engine set up (400) once let through
    ("POST", "/api/v1/retrieval/process/web/search"): Route(ADMIN_FEATURE, body=_const({"queries": ["weather"]}),
                                                             also_ok=(400,)),
    ("GET", "/api/v1/retrieval/embedding"): Route(ADMIN),
    ("POST", "/api/v1/retrieval/embedding/update"): Route(ADMIN, body=_embedding_config),
    ("POST", "/api/v1/retrieval/delete"): Route(
        ADMIN, body=lambda o: {"collection_name": o.knowledge["id"], "file_id": o.file["id"]}),
    ("POST", "/api/v1/retrieval/process/file"): Route(OWNER, body=lambda o: {"file_id": o.file["id"]}),
    ("POST", "/api/v1/retrieval/process/text"): Route(
        COLLECTION, body=lambda o: {"name": "note", "content": "some text", "collection_name": o.knowledge["id"]}),
    ("POST", "/api/v1/retrieval/query/doc"): Route(
        COLLECTION, body=lambda o: {"collection_name": o.knowledge["id"], "query": "notes"}),
    ("POST", "/api/v1/retrieval/query/collection"): Route(
        COLLECTION, body=lambda o: {"collection_names": [o.knowledge["id"]], "query": "notes"}),
    # images
    ("GET", "/api/v1/images/config"): Route(ADMIN),
    ("POST", "/api/v1/images/config/update"): Route(ADMIN, body=_const({})),
    ("POST", "/api/v1/images/verify"): Route(ADMIN, body=_const({"engine": "automatic1111", "url": UPSTREAM})),
    ("GET", "/api/v1/images/models"): Route(USER),
    ("POST", "/api/v1/images/generations"): Route(ADMIN_FEATURE, body=_const({"prompt": "a fox"})),
    ("POST", "/api/v1/images/edit"): Route(ADMIN_FEATURE, body=_const({
        "prompt": "a fox in the snow", "image": "data:image/png;base64,iVBORw0KGgo="})),
    # audio
    ("GET", "/api/v1/audio/config"): Route(ADMIN),
    ("POST", "/api/v1/audio/config/update"): Route(ADMIN, body=_const({"tts": {}, "stt": {}})),
    ("POST", "/api/v1/audio/speech"): Route(USER, body=_const({"input": "hello"}), also_ok=(404,)),  # the browser speaks
    ("POST", "/api/v1/audio/transcriptions"): Route(USER, form=_recording),
    ("GET", "/api/v1/audio/models"): Route(USER),
    ("GET", "/api/v1/audio/voices"): Route(USER),
    # custom models (ids in the query)
    ("GET", "/api/v1/models/list"): Route(USER),
    ("GET", "/api/v1/models/all"): Route(ADMIN),
    ("GET", "/api/v1/models/base"): Route(ADMIN),
    ("GET", "/api/v1/models/base/tags"): Route(ADMIN),
    ("GET", "/api/v1/models/tags"): Route(USER),
    ("POST", "/api/v1/models/create"): Route(USER, body=lambda o: _custom_model(o, unique("preset"))),
    ("GET", "/api/v1/models/export"): Route(USER),
    ("POST", "/api/v1/models/import"): Route(USER, body=lambda o: {"models": [o.custom_model]}),
    ("POST", "/api/v1/models/sync"): Route(ADMIN, body=lambda o: {"models": [o.custom_model]}),
    ("GET", "/api/v1/models/model"): Route(OWNER, query=_model_query),
    ("GET", "/api/v1/models/model/history"): Route(OWNER, query=_model_query),
    ("GET", "/api/v1/models/model/history/<history_id>"): Route(OWNER, query=_model_query),
    ("DELETE", "/api/v1/models/model/history/<history_id>"): Route(OWNER, query=_model_query),
    ("POST", "/api/v1/models/model/update/version"): Route(
        OWNER, query=_model_query, body=lambda o: {"version_id": o.custom_model_first_version}),
    ("GET", "/api/v1/models/model/profile/image"): Route(USER, query=_model_query),
    ("POST", "/api/v1/models/model/toggle"): Route(OWNER, query=_model_query),
    ("POST", "/api/v1/models/model/update"): Route(OWNER, body=lambda o: {**o.custom_model, "name": "Renamed"}),
    ("POST", "/api/v1/models/model/access/update"): Route(
        OWNER, body=lambda o: {"id": o.custom_model["id"], "access_grants": []}),
    ("POST", "/api/v1/models/model/delete"): Route(OWNER, body=lambda o: {"id": o.custom_model["id"]}),
    ("DELETE", "/api/v1/models/delete/all"): Route(ADMIN),
    ("GET", "/api/v1/configs/models"): Route(ADMIN),
    ("POST", "/api/v1/configs/models"): Route(ADMIN, body=_const({})),
    ("GET", "/api/v1/configs/models/defaults"): Route(USER),
    ("GET", "/api/v1/configs/tool_servers"): Route(ADMIN),
    ("GET", "/api/v1/configs/export"): Route(ADMIN),
    ("POST", "/api/v1/configs/import"): Route(ADMIN, body=_const({"config": {"ui.watermark": ""}})),
    ("GET", "/api/v1/configs/namespace/<namespace>"): Route(ADMIN),
    ("POST", "/api/v1/configs/interface/visibility"): Route(ADMIN, body=_const({"visibility": {}})),
    ("POST", "/api/v1/configs/suggestions"): Route(ADMIN, body=_const({"suggestions": []})),
    ("GET", "/api/v1/configs/connections"): Route(ADMIN),
    ("POST", "/api/v1/configs/connections"): Route(ADMIN, body=_const({"ENABLE_BASE_MODELS_CACHE": False})),
    ("GET", "/api/v1/configs/code_execution"): Route(ADMIN),
    ("POST", "/api/v1/configs/code_execution"): Route(ADMIN, body=_const({"ENABLE_CODE_EXECUTION": False})),
    ("GET", "/api/v1/configs/subagents"): Route(ADMIN),
    ("POST", "/api/v1/configs/subagents"): Route(ADMIN, body=_const({"ENABLE_SUBAGENTS": False})),
    ("GET", "/api/v1/chats/config"): Route(ADMIN),
    ("POST", "/api/v1/chats/config"): Route(ADMIN, body=_const({"ENABLE_TOOL_SEARCH": False})),
    ("GET", "/api/v1/configs/terminal_servers"): Route(ADMIN),
    ("POST", "/api/v1/configs/terminal_servers"): Route(ADMIN, body=_const({"TERMINAL_SERVER_CONNECTIONS": []})),
    ("POST", "/api/v1/configs/terminal_servers/verify"): Route(ADMIN, body=_const({"url": UPSTREAM})),
    # running terminals is the terminal server's business: 501 once the caller is let through
    ("POST", "/api/v1/configs/terminal_servers/policy"): Route(ADMIN, body=_const({"url": UPSTREAM}), also_ok=(501,)),
    ("POST", "/api/v1/configs/terminal_servers/lifecycle"): Route(ADMIN, body=_const({"url": UPSTREAM}), also_ok=(501,)),
    ("POST", "/api/v1/configs/terminal_servers/refresh"): Route(ADMIN, body=_const({"url": UPSTREAM}), also_ok=(501,)),
    ("POST", "/api/v1/configs/tool_servers"): Route(ADMIN, body=_const({"TOOL_SERVER_CONNECTIONS": []})),
    ("POST", "/api/v1/configs/tool_servers/verify"): Route(ADMIN, body=_const({"url": UPSTREAM})),
    ("POST", "/api/v1/configs/oauth/clients/register"): Route(ADMIN, body=_const({"url": UPSTREAM, "client_id": "c"}),
                                                              also_ok=(400,)),
    # prompts
    ("GET", "/api/v1/prompts/"): Route(USER),
    ("GET", "/api/v1/prompts/tags"): Route(USER),
    ("GET", "/api/v1/prompts/list"): Route(USER),
    ("POST", "/api/v1/prompts/create"): Route(USER, body=_new_prompt),
    ("GET", "/api/v1/prompts/id/<prompt_id>"): Route(OWNER),
    ("POST", "/api/v1/prompts/id/<prompt_id>/update"): Route(OWNER, body=lambda o: {**o.prompt, "content": "Shorter."}),
    ("POST", "/api/v1/prompts/id/<prompt_id>/update/meta"): Route(
        OWNER, body=lambda o: {"name": "Renamed", "command": o.prompt["command"], "tags": ["work"]}),
    ("POST", "/api/v1/prompts/id/<prompt_id>/update/version"): Route(
        OWNER, body=lambda o: {"version_id": o.prompt_first_version}),
    ("POST", "/api/v1/prompts/id/<prompt_id>/access/update"): Route(OWNER, body=_const({"access_grants": []})),
    ("POST", "/api/v1/prompts/id/<prompt_id>/toggle"): Route(OWNER),
    ("DELETE", "/api/v1/prompts/id/<prompt_id>/delete"): Route(OWNER),
    ("GET", "/api/v1/prompts/id/<prompt_id>/history"): Route(OWNER),
    ("GET", "/api/v1/prompts/id/<prompt_id>/history/diff"): Route(
        OWNER, query=lambda o: f"from_id={o.prompt_first_version}&to_id={o.prompt['version_id']}"),
    ("GET", "/api/v1/prompts/id/<prompt_id>/history/<history_id>"): Route(OWNER, path=_prompt_first_version),
    ("DELETE", "/api/v1/prompts/id/<prompt_id>/history/<history_id>"): Route(OWNER, path=_prompt_first_version),
    # skills
    ("GET", "/api/v1/skills/"): Route(USER),
    ("GET", "/api/v1/skills/list"): Route(USER),
    ("GET", "/api/v1/skills/export"): Route(USER),
    ("POST", "/api/v1/skills/create"): Route(
        USER, body=lambda o: {"id": unique("new-skill"), "name": unique("New skill"), "content": "Steps."}),
    ("GET", "/api/v1/skills/id/<skill_id>"): Route(OWNER),
    ("POST", "/api/v1/skills/id/<skill_id>/update"): Route(
        OWNER, body=lambda o: {"id": o.skill["id"], "name": o.skill["name"], "description": "Changed."}),
    ("POST", "/api/v1/skills/id/<skill_id>/access/update"): Route(OWNER, body=_const({"access_grants": []})),
    ("POST", "/api/v1/skills/id/<skill_id>/toggle"): Route(OWNER),
    ("DELETE", "/api/v1/skills/id/<skill_id>/delete"): Route(OWNER),
    ("GET", "/api/v1/skills/id/<skill_id>/files"): Route(OWNER),
    ("GET", "/api/v1/skills/id/<skill_id>/files/content"): Route(
        OWNER, query=lambda o: f"path=SKILL.md&version_id={o.skill_first_version}"),
    ("GET", "/api/v1/skills/id/<skill_id>/history"): Route(OWNER),
    ("GET", "/api/v1/skills/id/<skill_id>/history/diff"): Route(OWNER, query=_skill_versions),
    ("GET", "/api/v1/skills/id/<skill_id>/history/diff/file"): Route(
        OWNER, query=lambda o: f"{_skill_versions(o)}&path=SKILL.md"),
    ("GET", "/api/v1/skills/id/<skill_id>/history/<history_id>"): Route(OWNER, path=_skill_first_version),
    ("DELETE", "/api/v1/skills/id/<skill_id>/history/<history_id>"): Route(OWNER, path=_skill_first_version),
    ("POST", "/api/v1/skills/id/<skill_id>/update/version"): Route(
        OWNER, body=lambda o: {"version_id": o.skill_first_version, "expected_version_id": o.skill["version_id"]}),
    ("POST", "/api/v1/skills/id/<skill_id>/clone"): Route(
        OWNER, body=lambda o: {"id": unique("clone"), "name": unique("Clone")}),
    ("POST", "/api/v1/skills/load/url"): Route(ADMIN, body=_const({"url": "https://example.com/SKILL.md"})),
    ("POST", "/api/v1/skills/import/preview"): Route(USER, form=_skill_upload),
    ("POST", "/api/v1/skills/import"): Route(USER, form=_skill_upload),
    # evaluations
    ("GET", "/api/v1/evaluations/config"): Route(ADMIN),
    ("POST", "/api/v1/evaluations/config"): Route(ADMIN, body=_const({})),
    ("GET", "/api/v1/evaluations/leaderboard"): Route(ADMIN),
    ("GET", "/api/v1/evaluations/leaderboard/<path:model_id>/history"): Route(ADMIN),
    ("GET", "/api/v1/evaluations/feedbacks/models"): Route(ADMIN),
    ("GET", "/api/v1/evaluations/feedbacks/all/ids"): Route(ADMIN),
    ("DELETE", "/api/v1/evaluations/feedbacks/all"): Route(ADMIN),
    ("GET", "/api/v1/evaluations/feedbacks/all/export"): Route(ADMIN),
    ("GET", "/api/v1/evaluations/feedbacks/list"): Route(ADMIN),
    ("GET", "/api/v1/evaluations/feedbacks/user"): Route(USER),
    ("DELETE", "/api/v1/evaluations/feedbacks"): Route(USER),
    ("POST", "/api/v1/evaluations/feedback"): Route(USER, body=_const(FEEDBACK)),
    ("GET", "/api/v1/evaluations/feedback/<feedback_id>"): Route(OWNER),
    ("POST", "/api/v1/evaluations/feedback/<feedback_id>"): Route(OWNER, body=_const(FEEDBACK)),
    ("DELETE", "/api/v1/evaluations/feedback/<feedback_id>"): Route(OWNER),
    # memories
    ("GET", "/api/v1/memories/"): Route(USER),
    ("POST", "/api/v1/memories/add"): Route(USER, body=_const({"content": "likes coffee"})),
    ("POST", "/api/v1/memories/query"): Route(USER, body=_memory_query),
    ("POST", "/api/v1/memories/reset"): Route(USER),
    ("POST", "/api/v1/memories/update"): Route(
        USER, body=_const({"operations": [{"action": "add", "content": "likes cocoa", "path": "food/drinks"}]})),
    ("POST", "/api/v1/memories/search"): Route(USER, body=_const({"query": "tea"})),
    ("POST", "/api/v1/memories/paths"): Route(USER, body=_const({})),
    ("POST", "/api/v1/memories/path"): Route(USER, body=_const({"path": "food"})),
    ("POST", "/api/v1/memories/reindex"): Route(ADMIN),
    ("DELETE", "/api/v1/memories/delete/user"): Route(USER),
    ("POST", "/api/v1/memories/<memory_id>/update"): Route(OWNER, body=_const({"content": "likes green tea"})),
    ("DELETE", "/api/v1/memories/<memory_id>"): Route(OWNER),
    # banners and the areas Switchyard leaves empty
    ("GET", "/api/v1/configs/banners"): Route(USER),
    ("POST", "/api/v1/configs/banners"): Route(ADMIN, body=_const({"banners": []})),
    ("GET", "/api/v1/configs/rate_limits"): Route(ADMIN),
    ("POST", "/api/v1/configs/rate_limits"): Route(ADMIN, body=_const({})),
    ("GET", "/api/v1/tools/"): Route(USER),
    ("GET", "/api/v1/tools/list"): Route(USER),
    ("GET", "/api/v1/tools/export"): Route(USER),
    ("GET", "/api/v1/utils/gravatar"): Route(USER, query="email=someone@example.com"),
    ("POST", "/api/v1/utils/code/format"): Route(ADMIN, body=_const({"code": "x=1"})),
    # code execution is off by default: 403 to every verified caller, after its access check
    ("POST", "/api/v1/utils/code/execute"): Route(USER, body=_const({"code": "print(1)"}), also_ok=(403,)),
    # the tests' database is PostgreSQL: 400 pointing to `switchyard backup`, after the admin check
    ("GET", "/api/v1/utils/db/download"): Route(ADMIN, also_ok=(400,)),
    ("POST", "/api/v1/tools/load/url"): Route(ADMIN, body=_const({"url": "http://127.0.0.1:9/tool.py"})),
    ("POST", "/api/v1/tools/create"): Route(USER, body=lambda o: {"id": unique("tool").replace("-", "_"),
                                                                   "name": "New", "content": "class Tools: pass"}),
    ("GET", "/api/v1/tools/id/<tool_id>"): Route(OWNER),
    # only MCP servers (server:mcp:<id>) have specs to list: any other tool is 404 to everyone
    ("GET", "/api/v1/tools/id/<tool_id>/specs"): Route(USER, also_ok=(404,)),
    ("POST", "/api/v1/tools/id/<tool_id>/update"): Route(
        OWNER, body=lambda o: {"id": o.tool["id"], "name": "Renamed", "content": "class Tools: pass"}),
    ("POST", "/api/v1/tools/id/<tool_id>/access/update"): Route(OWNER, body=_const({"access_grants": []})),
    ("DELETE", "/api/v1/tools/id/<tool_id>/delete"): Route(OWNER),
    ("GET", "/api/v1/tools/id/<tool_id>/valves"): Route(OWNER),
    ("GET", "/api/v1/tools/id/<tool_id>/valves/spec"): Route(OWNER),
    ("POST", "/api/v1/tools/id/<tool_id>/valves/update"): Route(OWNER, body=_const({"key": "v"})),
    ("GET", "/api/v1/tools/id/<tool_id>/valves/user"): Route(OWNER),
    ("GET", "/api/v1/tools/id/<tool_id>/valves/user/spec"): Route(OWNER),
    ("POST", "/api/v1/tools/id/<tool_id>/valves/user/update"): Route(OWNER, body=_const({"shout": True})),
    ("GET", "/api/v1/tools/id/<object_id>/history"): Route(OWNER, path=_tool_version),
    ("GET", "/api/v1/tools/id/<object_id>/history/diff"): Route(
        OWNER, path=_tool_version, query=lambda o: f"from_id={o.tool_first_version}&to_id={o.tool['version_id']}"),
    ("GET", "/api/v1/tools/id/<object_id>/history/<history_id>"): Route(OWNER, path=_tool_version),
    ("DELETE", "/api/v1/tools/id/<object_id>/history/<history_id>"): Route(OWNER, path=_tool_version),
    ("POST", "/api/v1/tools/id/<tool_id>/update/version"): Route(
        OWNER, body=lambda o: {"version_id": o.tool_first_version}),
    ("GET", "/api/v1/functions/"): Route(USER),
    ("GET", "/api/v1/functions/list"): Route(ADMIN),
    ("GET", "/api/v1/functions/export"): Route(ADMIN),
    ("POST", "/api/v1/functions/sync"): Route(ADMIN, body=_const({"functions": []})),
    ("POST", "/api/v1/functions/load/url"): Route(ADMIN, body=_const({"url": "http://127.0.0.1:9/filter.py"})),
    ("POST", "/api/v1/functions/create"): Route(ADMIN, body=lambda o: {
        "id": unique("filter").replace("-", "_"), "name": "New", "content": "class Filter: pass"}),
    ("GET", "/api/v1/functions/id/<function_id>"): Route(ADMIN),
    ("POST", "/api/v1/functions/id/<function_id>/toggle"): Route(ADMIN),
    ("POST", "/api/v1/functions/id/<function_id>/toggle/global"): Route(ADMIN),
    ("POST", "/api/v1/functions/id/<function_id>/update"): Route(
        ADMIN, body=lambda o: {"id": o.function["id"], "name": "Renamed", "content": "class Filter: pass"}),
    ("DELETE", "/api/v1/functions/id/<function_id>/delete"): Route(ADMIN),
    ("GET", "/api/v1/functions/id/<function_id>/valves"): Route(ADMIN),
    ("GET", "/api/v1/functions/id/<function_id>/valves/spec"): Route(ADMIN),
    ("POST", "/api/v1/functions/id/<function_id>/valves/update"): Route(ADMIN, body=_const({"priority": 1})),
    ("GET", "/api/v1/functions/id/<function_id>/valves/user"): Route(USER),
    ("GET", "/api/v1/functions/id/<function_id>/valves/user/spec"): Route(USER),
    ("POST", "/api/v1/functions/id/<function_id>/valves/user/update"): Route(USER, body=_const({"on": True})),
    ("GET", "/api/v1/functions/id/<object_id>/history"): Route(ADMIN, path=_function_version),
    ("GET", "/api/v1/functions/id/<object_id>/history/diff"): Route(
        ADMIN, path=_function_version,
        query=lambda o: f"from_id={o.function_first_version}&to_id={o.function['version_id']}"),
    ("GET", "/api/v1/functions/id/<object_id>/history/<history_id>"): Route(ADMIN, path=_function_version),
    ("DELETE", "/api/v1/functions/id/<object_id>/history/<history_id>"): Route(ADMIN, path=_function_version),
    ("POST", "/api/v1/functions/id/<function_id>/update/version"): Route(
        ADMIN, body=lambda o: {"version_id": o.function_first_version}),
    ("GET", "/api/v1/channels/"): Route(USER),
    ("GET", "/api/v1/channels/list"): Route(USER),
    ("GET", "/api/v1/terminals/"): Route(USER),
    ("GET", "/api/events"): Route(ADMIN),
    ("GET", "/api/events/webhooks"): Route(ADMIN),
    ("POST", "/api/events/webhooks"): Route(ADMIN, body=_const({"url": "http://93.184.215.14/hook"})),
    ("PUT", "/api/events/webhooks/<webhook_id>"): Route(ADMIN, body=_const({"name": "Renamed"})),
    ("DELETE", "/api/events/webhooks/<webhook_id>"): Route(ADMIN, path=_new_webhook),
    ("GET", "/api/events/webhooks/<webhook_id>/deliveries"): Route(ADMIN),
    ("POST", "/api/events/webhooks/<webhook_id>/deliveries/<delivery_id>/redeliver"): Route(ADMIN, also_ok=(409,)),
    # external knowledge (admin only)
    ("GET", "/api/v1/knowledge/external/connections"): Route(ADMIN),
    ("POST", "/api/v1/knowledge/external/connections"): Route(ADMIN, body=_const(EXTERNAL_CONNECTION)),
    ("GET", "/api/v1/knowledge/external/connections/<connection_id>"): Route(ADMIN),
    ("PATCH", "/api/v1/knowledge/external/connections/<connection_id>"): Route(
        ADMIN, body=_const(EXTERNAL_CONNECTION)),
    ("DELETE", "/api/v1/knowledge/external/connections/<connection_id>"): Route(
        ADMIN, path=lambda o: {"connection_id": o.new_external_connection()["id"]}),
    ("POST", "/api/v1/knowledge/external/connections/<connection_id>/test"): Route(ADMIN),
    ("POST", "/api/v1/knowledge/external/connections/<connection_id>/retrieve-test"): Route(
        ADMIN, body=_const({"query": "q", "source": EXTERNAL_SOURCE})),
    ("POST", "/api/v1/knowledge/external/source/test"): Route(ADMIN, body=_const(
        {"connection": EXTERNAL_CONNECTION, "source": EXTERNAL_SOURCE, "query": "q"})),
    ("POST", "/api/v1/knowledge/external/knowledge/create"): Route(ADMIN, body=lambda o: {
        "name": "External", "connection_id": o.external_connection["id"], "source": EXTERNAL_SOURCE}),
    ("POST", "/api/v1/knowledge/external/source/create"): Route(ADMIN, body=_const(EXTERNAL_SOURCE_FORM)),
    ("PATCH", "/api/v1/knowledge/external/source/<knowledge_id>"): Route(
        ADMIN, path=lambda o: {"knowledge_id": o.external_knowledge["id"]}, body=_const(EXTERNAL_SOURCE_FORM)),
    # notes
    ("GET", "/api/v1/notes/"): Route(USER),
    ("GET", "/api/v1/notes/pinned"): Route(USER),
    ("GET", "/api/v1/notes/search"): Route(USER),
    ("POST", "/api/v1/notes/create"): Route(USER, body=_const({"title": "A note"})),
    ("GET", "/api/v1/notes/<note_id>"): Route(OWNER),
    ("GET", "/api/v1/notes/<note_id>/chat"): Route(OWNER),
    ("POST", "/api/v1/notes/<note_id>/chat"): Route(OWNER),
    ("GET", "/api/v1/notes/<note_id>/chats"): Route(OWNER),
    ("POST", "/api/v1/notes/<note_id>/update"): Route(OWNER, body=_const({"title": "Renamed"})),
    ("POST", "/api/v1/notes/<note_id>/access/update"): Route(OWNER, body=_const({"access_grants": []})),
    ("POST", "/api/v1/notes/<note_id>/pin"): Route(OWNER),
    ("DELETE", "/api/v1/notes/<note_id>/delete"): Route(OWNER),
    ("GET", "/api/v1/knowledge/search/files"): Route(USER),
}
