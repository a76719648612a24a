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
    FEEDBACK, OLLAMA_CONFIG, OPENAI_CONFIG, PASSWORD, UPSTREAM, WORKSPACE_PERMISSIONS, Owned, chat_object, unique,
)

PUBLIC, PENDING_OK, USER, ADMIN, ADMIN_FEATURE = "public", "pending-ok", "user", "admin", "admin-feature"
OWNER, COLLECTION, MODEL, OLLAMA_MODEL = "owner", "collection", "model", "ollama-model"

FOREIGN_STATUS = {OWNER: 404, COLLECTION: 403, MODEL: 403, OLLAMA_MODEL: 403}
"""What a verified user is answered for an object (or model) that is not theirs to use."""

EXCLUDED = {
    "/<app_path:path>": "the web app's catch-all for its static files (any path that is not an API prefix)",
}
"""Rules the sweep leaves out, with the reason."""


@dataclass(frozen=True)
class Route:
    access: str
    body: Callable[[Owned], Any] | None = None
    """The JSON body, made from the objects the caller's role uses."""
    query: str = ""
    form: Callable[[Owned], dict] | None = None
    """A multipart body instead of JSON."""
    path: Callable[[Owned], dict[str, str]] | None = None
    """Path values that differ from :data:`PATH_VALUES`."""
    spends_session: bool = False
    """The call revokes the caller's token (sign-out, password change): sign in again after it."""
    also_ok: tuple[int, ...] = ()
    """Answers besides 2xx/3xx that mean the caller was let through (e.g. 404 for a key never made)."""


PATH_VALUES: dict[str, Callable[[Owned], str]] = {
    "chat_id": lambda o: o.chat["id"],
    "message_id": lambda o: o.message_id,
    "share_id": lambda o: o.share_id,
    "folder_id": lambda o: o.folder["id"],
    "file_id": lambda o: o.file["id"],
    "knowledge_id": lambda o: o.knowledge["id"],
    "memory_id": lambda o: o.memory["id"],
    "feedback_id": lambda o: o.feedback["id"],
    "task": lambda o: "tags",
    "model_id": lambda o: "visible-llama",
    "job_id": lambda o: o.job,
    "task_id": lambda o: o.job,
    "user_id": lambda o: o.owner.id,
    "url_idx": lambda o: "0",
}
"""Each path parameter's value: the object of that kind owned by the role's owner."""


def _new_account() -> dict:
    return {"name": "New", "email": f"{unique('new')}@sweep.example", "password": PASSWORD, "role": "user"}


def _spare_user(o: Owned) -> dict[str, str]:
    return {"user_id": o.spare_user.id}


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
    # users
    ("GET", "/api/v1/users/"): Route(ADMIN),
    ("GET", "/api/v1/users/<user_id>"): Route(ADMIN),
    ("POST", "/api/v1/users/<user_id>/update"): Route(ADMIN, path=_spare_user, body=_const({"name": "Renamed"})),
    ("DELETE", "/api/v1/users/<user_id>"): Route(ADMIN, path=_spare_user),
    ("GET", "/api/v1/users/<user_id>/profile/image"): Route(USER),
    ("GET", "/api/v1/users/default/permissions"): Route(ADMIN),
    ("POST", "/api/v1/users/default/permissions"): Route(ADMIN, body=_const(WORKSPACE_PERMISSIONS)),
    ("GET", "/api/v1/users/permissions"): Route(USER),
    ("GET", "/api/v1/users/user/info"): Route(USER),
    ("GET", "/api/v1/users/user/settings"): Route(USER),
    ("POST", "/api/v1/users/user/settings/update"): Route(USER, body=_const({"ui": {"theme": "dark"}})),
    ("GET", "/api/v1/models/model/profile/image"): Route(USER),
    # jobs and Open WebUI's tasks
    ("GET", "/api/v1/jobs/"): Route(USER),
    ("POST", "/api/v1/jobs/probe"): Route(ADMIN, body=_const({})),
    ("GET", "/api/v1/jobs/stats"): Route(ADMIN),
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
    ("POST", "/api/embeddings"): Route(MODEL, body=_openai_embed),
    ("POST", "/api/v1/embeddings"): Route(MODEL, body=_openai_embed),
    ("GET", "/api/v1/tasks/config"): Route(USER),
    ("POST", "/api/v1/tasks/<any(title, tags, follow_up):task>/completions"): Route(MODEL, body=_openai_chat),
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
    # retrieval
    ("GET", "/api/v1/retrieval/config"): Route(ADMIN),
    ("POST", "/api/v1/retrieval/config/update"): Route(ADMIN, body=_const({})),
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
    ("DELETE", "/api/v1/memories/delete/user"): Route(USER),
    ("POST", "/api/v1/memories/<memory_id>/update"): Route(OWNER, body=_const({"content": "likes green tea"})),
    ("DELETE", "/api/v1/memories/<memory_id>"): Route(OWNER),
    # banners and the areas Switchyard leaves empty
    ("GET", "/api/v1/configs/banners"): Route(USER),
    ("POST", "/api/v1/configs/banners"): Route(ADMIN, body=_const({"banners": []})),
    ("GET", "/api/v1/tools/"): Route(USER),
    ("GET", "/api/v1/tools/list"): Route(USER),
    ("GET", "/api/v1/functions/"): Route(USER),
    ("GET", "/api/v1/functions/list"): Route(ADMIN),
    ("GET", "/api/v1/skills/"): Route(USER),
    ("GET", "/api/v1/skills/list"): Route(USER),
    ("GET", "/api/v1/prompts/"): Route(USER),
    ("GET", "/api/v1/prompts/list"): Route(USER),
    ("GET", "/api/v1/channels/"): Route(USER),
    ("GET", "/api/v1/channels/list"): Route(USER),
    ("GET", "/api/v1/terminals/"): Route(USER),
}
