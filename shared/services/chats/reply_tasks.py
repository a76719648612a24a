"""Title, tags and follow-up suggestions generated after a reply: prompts, settings and answer parsing.

Settings live in the admin config under Open WebUI's keys (``/api/v1/tasks/config``). Templates use
Open WebUI's variables (``{{MESSAGES}}``, ``{{MESSAGES:END:n}}``, ``{{MESSAGES:START:n}}``,
``{{MESSAGES:MIDDLETRUNCATE:n}}``, ``{{prompt}}``) so templates written for it work here; an empty
template means Switchyard's default. The model must answer one JSON object (``{"title": ...}``,
``{"tags": [...]}``, ``{"follow_ups": [...]}``).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from shared.jobs import catalog
from shared.services import app_config

CONFIG_KEYS = {
    "TASK_MODEL": "task.model.default",
    "TASK_MODEL_EXTERNAL": "task.model.external",
    "TASK_MODEL_PARAMS": "task.model.params",
    "ENABLE_TITLE_GENERATION": "task.title.enable",
    "TITLE_GENERATION_PROMPT_TEMPLATE": "task.title.prompt_template",
    "IMAGE_PROMPT_GENERATION_PROMPT_TEMPLATE": "task.image.prompt_template",
    "ENABLE_AUTOCOMPLETE_GENERATION": "task.autocomplete.enable",
    "AUTOCOMPLETE_GENERATION_INPUT_MAX_LENGTH": "task.autocomplete.input_max_length",
    "AUTOCOMPLETE_GENERATION_PROMPT_TEMPLATE": "task.autocomplete.prompt_template",
    "ENABLE_TAGS_GENERATION": "task.tags.enable",
    "TAGS_GENERATION_PROMPT_TEMPLATE": "task.tags.prompt_template",
    "ENABLE_FOLLOW_UP_GENERATION": "task.follow_up.enable",
    "FOLLOW_UP_GENERATION_PROMPT_TEMPLATE": "task.follow_up.prompt_template",
    "ENABLE_SEARCH_QUERY_GENERATION": "task.query.search.enable",
    "ENABLE_RETRIEVAL_QUERY_GENERATION": "task.query.retrieval.enable",
    "QUERY_GENERATION_PROMPT_TEMPLATE": "task.query.prompt_template",
    "TOOLS_FUNCTION_CALLING_PROMPT_TEMPLATE": "task.tools.prompt_template",
    "ENABLE_VOICE_MODE_PROMPT": "task.voice.prompt.enable",
    "VOICE_MODE_PROMPT_TEMPLATE": "task.voice.prompt_template",
}
_VALUES: dict[str, Any] = {
    "task.model.default": "", "task.model.external": "", "task.model.params": {},
    "task.image.prompt_template": "", "task.autocomplete.input_max_length": -1,
    "task.autocomplete.prompt_template": "", "task.query.search.enable": True,
    "task.query.retrieval.enable": True, "task.query.prompt_template": "", "task.tools.prompt_template": "",
    "task.voice.prompt.enable": False, "task.voice.prompt_template": "",
    "task.title.prompt_template": "", "task.tags.prompt_template": "", "task.follow_up.prompt_template": "",
}
CONFIG_DEFAULTS = {key: lambda _settings, value=value: value for key, value in _VALUES.items()}


@dataclass(frozen=True)
class ChatTask:
    name: str
    """The ``background_tasks`` flag the app sends."""
    enable_key: str
    template_key: str
    answer_key: str
    default_template: str


def _template(task: str, shape: str, window: str) -> str:
    return (
        f"### Task:\n{task}\n"
        "### Rules:\n"
        "- Use the main language of the conversation (English when unclear).\n"
        "- Reply with exactly one raw JSON object: no code fences, no text before or after it.\n"
        f"### Output format:\n{shape}\n"
        f"### Conversation:\n<chat_history>\n{{{{MESSAGES:{window}}}}}\n</chat_history>"
    )


TITLE = ChatTask(
    "title_generation", "task.title.enable", "task.title.prompt_template", "title",
    _template("Write a short title (two to five words, no quotes or emoji) naming what this conversation is about.",
              '{ "title": "the title" }', "END:2"),
)
TAGS = ChatTask(
    "tags_generation", "task.tags.enable", "task.tags.prompt_template", "tags",
    _template("Pick one to three broad topic tags for this conversation, plus up to three narrower ones. "
              'For a very short or mixed conversation answer only ["General"].',
              '{ "tags": ["tag1", "tag2"] }', "END:6"),
)
FOLLOW_UPS = ChatTask(
    "follow_up_generation", "task.follow_up.enable", "task.follow_up.prompt_template", "follow_ups",
    _template("Suggest three to five short messages the user could plausibly send next, written as the user, "
              "most useful first. Do not repeat what was already answered.",
              '{ "follow_ups": ["next message 1", "next message 2", "next message 3"] }', "END:5"),
)
TASKS = (TITLE, TAGS, FOLLOW_UPS)
BY_ROUTE = {"title": (TITLE, "Title generation is disabled"), "tags": (TAGS, "Tags generation is disabled"),
            "follow_up": (FOLLOW_UPS, "Follow-up generation is disabled")}
"""The task in Open WebUI's ``/api/v1/tasks/<name>/completions``, and its answer while switched off."""


def task_config(session: Session) -> dict:
    return app_config.get_fields(session, CONFIG_KEYS)


def update_task_config(session: Session, changes: dict) -> dict:
    app_config.set_fields(session, CONFIG_KEYS, changes)
    return task_config(session)


def wanted(session: Session, requested: dict) -> list[ChatTask]:
    """The tasks the app asked for that the admin has enabled."""
    enabled = app_config.get_many(session, [t.enable_key for t in TASKS])
    return [t for t in TASKS if requested.get(t.name) and enabled[t.enable_key]]


def enqueue_after_reply(session: Session, owner_id: str, chat_id: str, message_id: str, model: str, tasks: dict,
                        *, parent_id: str) -> None:
    """The job for the tasks the app named after the reply ``message_id`` (one named but off still gets the
    first turn's fallback title)."""
    if not any(task.name in tasks for task in TASKS):
        return
    catalog.send(session, catalog.CHAT_TASKS, catalog.ChatTasks(owner_id, chat_id, message_id, model, tasks),
                 owner_id=owner_id, related_type="chat", related_id=chat_id, parent_id=parent_id)


def completion_body(session: Session, task: ChatTask, form: dict) -> dict | None:
    """The non-streamed completion Open WebUI's ``/api/v1/tasks/<task>/completions`` asks the task model for (the
    task's prompt over ``form["messages"]``); None while the admin has the task switched off."""
    if not app_config.get(session, task.enable_key):
        return None
    messages = form.get("messages") if isinstance(form.get("messages"), list) else []
    prompt = render(template_for(session, task), [m for m in messages if isinstance(m, dict)])
    return {"model": task_model(session, str(form.get("model") or "")), "stream": False,
            "messages": [{"role": "user", "content": prompt}]}


def template_for(session: Session, task: ChatTask) -> str:
    return app_config.get(session, task.template_key) or task.default_template


def task_model(session: Session, chat_model: str) -> str:
    return app_config.get(session, "task.model.default") or chat_model


def message_text(message: dict) -> str:
    """A message's text (the first text part of a multi-part content)."""
    content = message.get("content")
    if isinstance(content, list):
        return next((part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text"), "")
    return content if isinstance(content, str) else ""


def _transcript(messages: list[dict]) -> str:
    return "\n".join(f"{str(m.get('role', '')).upper()}: {message_text(m)}" for m in messages)


_MESSAGES = re.compile(r"\{\{MESSAGES(?::(START|END|MIDDLETRUNCATE):(\d+))?(?:\|\w+:\d+)?\}\}")


def _select(messages: list[dict], where: str | None, count: str | None) -> list[dict]:
    if where is None:
        return messages
    n = int(count)
    if where == "START":
        return messages[:n]
    if where == "END":
        return messages[-n:] if n else []
    if len(messages) <= n:
        return messages
    return messages[: n // 2] + messages[-(n - n // 2):]


def render(template: str, messages: list[dict]) -> str:
    """Fill the template's ``{{MESSAGES...}}`` and ``{{prompt}}`` variables from the conversation."""
    last_user = next((message_text(m) for m in reversed(messages) if m.get("role") == "user"), "")
    filled = _MESSAGES.sub(lambda m: _transcript(_select(messages, m.group(1), m.group(2))), template)
    return filled.replace("{{prompt}}", last_user)


def parse_answer(text: str, task: ChatTask) -> Any:
    """The task's value from the model's answer (tolerating fences and chatter), None when unusable."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        value = json.loads(text[start:end + 1]).get(task.answer_key)
    except (ValueError, AttributeError):
        return None
    if task is TITLE:
        return value.strip()[:120] if isinstance(value, str) and value.strip() else None
    if isinstance(value, list):
        items = [v.strip() for v in value if isinstance(v, str) and v.strip()]
        return items[:6] if items else None
    return None
