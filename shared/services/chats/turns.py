"""The web app's server-owned chat turn (``/api/chat/completions`` with ``session_id`` and ``id``).

For a saved chat the app sends only its system prompt; the server keeps the history. Older clients name
only the chat and the reply's id and send the whole conversation in ``messages``: the model gets those, and
the reply is saved into the chat all the same. A turn creates
the chat when the app has none yet, stores the new user message and an empty assistant message (the
reply the worker will fill in), and builds the conversation for the model from the stored branch.
Temporary chats (``local:...``) are not stored: their full message list comes with the request.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from shared.errors import BadRequest
from shared.models import User
from shared.services.chats import history, store

TEMPORARY_PREFIX = "local:"
ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class Turn:
    chat_id: str
    message_id: str
    """The assistant message the reply goes into."""
    messages: list[dict]
    """The conversation to send to the model (OpenAI format)."""
    created: bool = False
    tasks: dict = field(default_factory=dict)
    """``background_tasks`` the app asked for (title, tags, follow-ups)."""


def is_temporary(chat_id: str | None) -> bool:
    return bool(chat_id) and chat_id.startswith(TEMPORARY_PREFIX)


def check_named_chat(session: Session, user: User, chat_id) -> None:
    """A request naming a saved chat must name one of the caller's (404 otherwise), checked before
    anything else is done for it. No chat id, an empty one (a new chat) or a temporary one names none."""
    if chat_id is None or chat_id == "":
        return
    if not isinstance(chat_id, str):
        raise BadRequest("Invalid request: chat_id: Not a valid string.")
    if not is_temporary(chat_id):
        store.get_chat(session, user.id, chat_id)


def to_model_message(message: dict) -> dict | None:
    """A stored message as the model sees it (role and text); None for what the model must not see."""
    role = message.get("role")
    content = message.get("content")
    if role not in ROLES or message.get("error") or not isinstance(content, (str, list)):
        return None
    return {"role": role, "content": content}


def conversation(system: list[dict], stored: list[dict]) -> list[dict]:
    """The request's system messages followed by the stored branch."""
    return system + [m for m in (to_model_message(msg) for msg in stored) if m is not None and m["content"]]


def _new_chat_blob(model: str | None) -> dict:
    return {
        "title": "New Chat", "models": [model] if model else [], "params": {}, "files": [], "tags": [],
        "history": {"messages": {}, "currentId": None}, "messages": [], "timestamp": int(time.time() * 1000),
    }


def _user_message(body: dict, user: User, parent_id: str | None, model: str | None) -> dict | None:
    message = body.get("user_message")
    if message is None:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("id"), str) or not message["id"]:
        raise BadRequest("'user_message' must be an object with a string 'id'")
    return {
        **message, "role": "user", "parentId": parent_id,
        "user_id": user.id, "user": {"id": user.id, "name": user.name},
        "models": message.get("models") or ([model] if model else []),
        "content": message.get("content") if isinstance(message.get("content"), (str, list)) else "",
    }


def _model_name(body: dict) -> str | None:
    item = body.get("model_item")
    name = item.get("name") if isinstance(item, dict) else None
    return name if isinstance(name, str) else None


def start_turn(session: Session, user: User, body: dict) -> Turn:
    """Store the new turn of ``body`` (create the chat when needed) and return what the model gets."""
    message_id = body.get("id")
    if not isinstance(message_id, str) or not message_id:
        raise BadRequest("Invalid request: id: the assistant message id is required.")
    model = body.get("model") if isinstance(body.get("model"), str) else None
    chat_id = body.get("chat_id")
    tasks = body.get("background_tasks") if isinstance(body.get("background_tasks"), dict) else {}
    sent = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    if is_temporary(chat_id):
        return Turn(chat_id, message_id, conversation([], sent), tasks={})
    system = [m for m in (to_model_message(m) for m in sent if m.get("role") == "system") if m]
    created = not chat_id
    if created:
        chat_id = store.create_chat(session, user.id, _new_chat_blob(model), body.get("folder_id")).id
    parent_id = body.get("parent_id")
    user_message = _user_message(body, user, parent_id, model)
    from_request = user_message is None and not parent_id and not created
    if user_message is not None:
        store.upsert_message(session, user.id, chat_id, user_message)
        parent_id = user_message["id"]
    elif from_request:
        parent_id = _parent_of_reply(session, user, chat_id, message_id)
    elif not parent_id:
        raise BadRequest("Invalid request: user_message or parent_id is required.")
    store.upsert_message(session, user.id, chat_id, {
        "id": message_id, "parentId": parent_id, "role": "assistant", "content": "", "model": model,
        "modelName": _model_name(body) or model, "modelIdx": 0, "done": False,
        "timestamp": int(time.time()),
    })
    if from_request:
        return Turn(chat_id, message_id, conversation([], sent), tasks=tasks)
    stored = history.messages_of(store.get_chat(session, user.id, chat_id).chat or {})
    return Turn(chat_id, message_id, conversation(system, history.branch(stored, parent_id)),
                created=created, tasks=tasks)


def _parent_of_reply(session: Session, user: User, chat_id: str, message_id: str) -> str | None:
    """Where a reply named by an older client (the chat and the reply's id, the conversation in the request's
    messages) goes: under its stored parent when the chat holds it, else under the chat's current message."""
    chat = store.get_chat(session, user.id, chat_id).chat or {}
    stored = history.messages_of(chat).get(message_id)
    return stored.get("parentId") if isinstance(stored, dict) else history.current_id(chat)
