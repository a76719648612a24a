"""After a reply in the web app: the chat's title, its tags and follow-up suggestions, pushed live.

One job per finished turn runs the tasks the app asked for (``background_tasks``) and the admin
enabled, each a short non-streamed completion with the task prompt; results are saved into the chat
and sent to the owner's browsers (``chat:title``, ``chat:tags``, ``chat:message:follow_ups``).
"""
from __future__ import annotations

import logging

import workers.runtime  # noqa: F401  (actors bind to the worker's broker)
from shared import socket_events
from shared.db import session_scope
from shared.errors import ServiceError, UpstreamError
from shared.jobs import catalog
from shared.services.chats import history, reply_tasks, store
from shared.services.llm import completions

log = logging.getLogger(__name__)

MAX_TITLE_FALLBACK = 100


def _conversation(owner_id: str, chat_id: str, message_id: str) -> list[dict]:
    with session_scope() as session:
        stored = store.get_chat(session, owner_id, chat_id).chat or {}
    return [m for m in history.branch(history.messages_of(stored), message_id) if m.get("role")]


def _first_user_text(messages: list[dict]) -> str:
    text = next((reply_tasks.message_text(m) for m in messages if m.get("role") == "user"), "")
    return text if len(text) <= MAX_TITLE_FALLBACK else text[:MAX_TITLE_FALLBACK] + "..."


def _save(owner_id: str, chat_id: str, message_id: str, task: reply_tasks.ChatTask, value) -> None:
    with session_scope() as session:
        if task is reply_tasks.TITLE:
            store.set_title(session, owner_id, chat_id, value)
        elif task is reply_tasks.TAGS:
            store.set_tags(session, owner_id, chat_id, value)
        else:
            store.upsert_message(session, owner_id, chat_id, {"id": message_id, "followUps": value})


def _deliver(owner_id: str, chat_id: str, message_id: str, task: reply_tasks.ChatTask, value):
    """Save the value into the chat, then tell the owner's browsers."""
    _save(owner_id, chat_id, message_id, task, value)
    event, shape = EVENTS[task.name]
    socket_events.emit_chat_event(owner_id, chat_id, message_id, event, shape(value))
    return value


EVENTS = {
    reply_tasks.TITLE.name: ("chat:title", lambda value: value),
    reply_tasks.TAGS.name: ("chat:tags", lambda value: value),
    reply_tasks.FOLLOW_UPS.name: ("chat:message:follow_ups", lambda value: {"follow_ups": value}),
}


@catalog.CHAT_TASKS.actor
def generate(job_id: str, owner_id: str, chat_id: str, message_id: str, model: str, tasks: dict) -> dict:
    """Run the requested tasks for the reply ``message_id``; the result maps each task to its value."""
    messages = _conversation(owner_id, chat_id, message_id)
    with session_scope() as session:
        todo = reply_tasks.wanted(session, tasks)
        model_id = reply_tasks.task_model(session, model)
        prompts = {task.name: reply_tasks.render(reply_tasks.template_for(session, task.template), messages)
                   for task in todo}
    done: dict = {}
    for task in todo:
        try:
            value = reply_tasks.parse_answer(completions.complete(owner_id, model_id, prompts[task.name]), task)
        except (UpstreamError, ServiceError) as error:
            log.warning("chat task %s for chat %s failed: %s", task.name, chat_id, error)
            value = None
        if value:
            done[task.name] = _deliver(owner_id, chat_id, message_id, task, value)
    if reply_tasks.TITLE.name in tasks and reply_tasks.TITLE.name not in done and len(messages) <= 2:
        # No generated title on the first turn (disabled or failed): the first message names the chat.
        done[reply_tasks.TITLE.name] = _deliver(owner_id, chat_id, message_id, reply_tasks.TITLE,
                                               _first_user_text(messages) or "New Chat")
    return done
