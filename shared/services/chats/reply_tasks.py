"""Open WebUI's helper tasks: title, tags and follow-up suggestions generated after a reply, and the generators
the web app calls itself (``/api/v1/tasks/<route>/completions``): prompts, settings and answer parsing.

Settings live in the admin config under Open WebUI's keys (``/api/v1/tasks/config``). Templates use
Open WebUI's variables (see :func:`render`) so templates written for it work here; an empty template means
the default: Switchyard's own for title, tags and follow-ups, whose JSON answers (``{"title": ...}``,
``{"tags": [...]}``, ``{"follow_ups": [...]}``) the after-reply job reads; Open WebUI's own
(:mod:`task_prompts`) for the generators, whose answers the web app reads.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from shared.errors import BadRequest
from shared.jobs import catalog
from shared.services import app_config
from shared.services.chats import task_prompts

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
class Template:
    """A task's prompt: the admin's template, stored under ``key``, when it is not blank, else ``default``."""

    key: str
    default: str


@dataclass(frozen=True)
class ChatTask:
    name: str
    """The ``background_tasks`` flag the app sends."""
    enable_key: str
    answer_key: str
    template: Template


TITLE = ChatTask("title_generation", "task.title.enable", "title",
                 Template("task.title.prompt_template", task_prompts.TITLE))
TAGS = ChatTask("tags_generation", "task.tags.enable", "tags", Template("task.tags.prompt_template", task_prompts.TAGS))
FOLLOW_UPS = ChatTask("follow_up_generation", "task.follow_up.enable", "follow_ups",
                      Template("task.follow_up.prompt_template", task_prompts.FOLLOW_UP))
TASKS = (TITLE, TAGS, FOLLOW_UPS)
BY_ROUTE = {"title": (TITLE, "Title generation is disabled"), "tags": (TAGS, "Tags generation is disabled"),
            "follow_up": (FOLLOW_UPS, "Follow-up generation is disabled")}
"""The task in Open WebUI's ``/api/v1/tasks/<name>/completions``, and its answer while switched off."""

QUERIES = Template("task.query.prompt_template", task_prompts.QUERIES)
AUTOCOMPLETE = Template("task.autocomplete.prompt_template", task_prompts.AUTOCOMPLETE)
IMAGE_PROMPT = Template("task.image.prompt_template", task_prompts.IMAGE_PROMPT)
QUERY_SWITCHES = {"web_search": ("task.query.search.enable", "Search query generation"),
                  "retrieval": ("task.query.retrieval.enable", "Query generation")}
"""The switch a query request's ``type`` answers to (another type: none), and the feature's name when refused."""


def task_config(session: Session) -> dict:
    return app_config.get_fields(session, CONFIG_KEYS)


def update_task_config(session: Session, changes: dict) -> dict:
    """Store the fields sent; a null input limit means the default, as Open WebUI stores it."""
    limit = "AUTOCOMPLETE_GENERATION_INPUT_MAX_LENGTH"
    if limit in changes and changes[limit] is None:
        changes = {**changes, limit: _VALUES[CONFIG_KEYS[limit]]}
    app_config.set_fields(session, CONFIG_KEYS, changes)
    return task_config(session)


def wanted(session: Session, requested: dict) -> list[ChatTask]:
    """The tasks the app asked for that the admin has enabled."""
    enabled = app_config.get_many(session, [t.enable_key for t in TASKS])
    return [t for t in TASKS if requested.get(t.name) and enabled[t.enable_key]]


def enqueue_after_reply(session: Session, owner_id: str, chat_id: str, message_id: str, model: str, tasks: dict,
                        *, parent_id: str) -> None:
    """The job for the tasks the app named after the reply ``message_id`` (one named but off still gets the
    first turn's fallback title). Redis being away does not fail the reply: the sweep sends the job later."""
    if not any(task.name in tasks for task in TASKS):
        return
    catalog.send(session, catalog.CHAT_TASKS, catalog.ChatTasks(owner_id, chat_id, message_id, model, tasks),
                 owner_id=owner_id, related_type="chat", related_id=chat_id, parent_id=parent_id, resend_later=True)


def completion_body(session: Session, route: str, form: dict) -> dict | None:
    """The completion Open WebUI's ``/api/v1/tasks/<route>/completions`` asks for, from what the web app sent
    (checked by the route's schema): None while a task that answers 200 when off (title, tags, follow-ups) is
    switched off; a ``BadRequest`` where Open WebUI refuses with 400."""
    return _GENERATORS[route](session, form)


def _ask(model: str, prompt: str, **options: Any) -> dict:
    """A one-message completion of ``prompt``, not streamed unless ``options`` say so."""
    return {"model": model, "stream": False, "messages": [{"role": "user", "content": prompt}], **options}


def _over_messages(session: Session, form: dict, template: Template) -> dict:
    """The task model's completion of the template over the conversation sent."""
    return _ask(task_model(session, form["model"]), render(template_for(session, template), form["messages"]))


def _require(session: Session, key: str, feature: str) -> None:
    """Open WebUI's 400 for a generator the admin switched off."""
    if not app_config.get(session, key):
        raise BadRequest(f"{feature} is disabled")


def _after_reply(session: Session, form: dict, task: ChatTask) -> dict | None:
    if not app_config.get(session, task.enable_key):
        return None
    return _over_messages(session, form, task.template)


def _queries(session: Session, form: dict) -> dict:
    if form.get("type") in QUERY_SWITCHES:
        _require(session, *QUERY_SWITCHES[form["type"]])
    return _over_messages(session, form, QUERIES)


def _autocomplete(session: Session, form: dict) -> dict:
    _require(session, "task.autocomplete.enable", "Autocompletion generation")
    limit = app_config.get(session, "task.autocomplete.input_max_length") or 0
    if 0 < limit < len(form["prompt"]):
        raise BadRequest(f"Input prompt exceeds maximum length of {limit}")
    prompt = render(template_for(session, AUTOCOMPLETE), form["messages"], prompt=form["prompt"],
                    values={"TYPE": form.get("type") or ""})
    return _ask(task_model(session, form["model"]), prompt)


def _emoji(session: Session, form: dict) -> dict:
    """Open WebUI's fixed prompt (no admin template), answered in at most four tokens."""
    return _ask(task_model(session, form["model"]), render(task_prompts.EMOJI, [], prompt=form["prompt"]),
                max_tokens=4)


def _moa(session: Session, form: dict) -> dict:
    """The chat's own model (not the task model) merges the answers, streamed when asked, with Open WebUI's fixed
    prompt."""
    answers = "\n\n".join(f'"""{answer}"""' for answer in form["responses"])
    prompt = render(task_prompts.MOA, [], prompt=form["prompt"], values={"responses": answers})
    return _ask(form["model"], prompt, stream=form["stream"])


_GENERATORS: dict[str, Callable[[Session, dict], dict | None]] = {
    **{route: partial(_after_reply, task=task) for route, (task, _) in BY_ROUTE.items()},
    "image_prompt": partial(_over_messages, template=IMAGE_PROMPT),
    "queries": _queries, "auto": _autocomplete, "emoji": _emoji, "moa": _moa,
}
"""Each route's rules, as Open WebUI's ``routers/tasks.py`` has them (image prompts have no switch there: the
chat's image step checks ``ENABLE_IMAGE_PROMPT_GENERATION`` before asking for one)."""


def template_for(session: Session, template: Template) -> str:
    chosen = app_config.get(session, template.key)
    return chosen if chosen and chosen.strip() else template.default


def task_model(session: Session, chat_model: str) -> str:
    return app_config.get(session, "task.model.default") or chat_model


def message_text(message: dict) -> str:
    """A message's text (the first text part of a multi-part content)."""
    content = message.get("content")
    if isinstance(content, list):
        return next((part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text"), "")
    return content if isinstance(content, str) else ""


def _shorten(text: str, mode: str | None, size: str | None) -> str:
    """Open WebUI's ``start``, ``end`` and ``middletruncate`` cuts to ``size`` characters (another mode: none)."""
    mode = (mode or "").lower()
    if mode not in ("start", "end", "middletruncate"):
        return text
    n = int(size)
    if len(text) <= n:
        return text
    if n <= 0:
        return ""
    if mode == "start":
        return text[:n]
    if mode == "end":
        return text[-n:]
    return f"{text[:n // 2]}...{text[-(n - n // 2):]}"


def _transcript(messages: list[dict], mode: str | None, size: str | None) -> str:
    return "\n".join(f"{str(m.get('role', '')).upper()}: {_shorten(message_text(m), mode, size)}" for m in messages)


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


_VARIABLE = re.compile(r"\{\{([^{}]+)\}\}")
_MESSAGES = re.compile(r"MESSAGES(?::(START|END|MIDDLETRUNCATE):(\d+))?(?:\|(\w+):(\d+))?")
_PROMPT = re.compile(r"prompt(?::(start|end|middletruncate):(\d+))?", re.IGNORECASE)


def _clock() -> dict[str, str]:
    now = datetime.now()
    date, time = now.strftime("%Y-%m-%d"), now.strftime("%I:%M:%S %p")
    return {"CURRENT_DATE": date, "CURRENT_TIME": time, "CURRENT_DATETIME": f"{date} {time}",
            "CURRENT_WEEKDAY": now.strftime("%A")}


def render(template: str, messages: list[dict], *, prompt: str | None = None,
           values: Mapping[str, str] | None = None) -> str:
    """Fill Open WebUI's template variables: ``{{MESSAGES}}``, ``{{MESSAGES:START|END|MIDDLETRUNCATE:n}}`` (each
    with an optional ``|start:n``, ``|end:n`` or ``|middletruncate:n`` cut of every message), ``{{prompt}}`` and
    ``{{prompt:start|end|middletruncate:n}}`` (``prompt``, by default the last user message), ``{{CURRENT_DATE}}``,
    ``{{CURRENT_TIME}}``, ``{{CURRENT_DATETIME}}``, ``{{CURRENT_WEEKDAY}}``, and the task's own ``values``. In one
    pass, so a message or answer that quotes a variable is sent as written."""
    if prompt is None:
        prompt = next((message_text(m) for m in reversed(messages) if m.get("role") == "user"), "")
    named = {**_clock(), **(values or {})}

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name in named:
            return named[name]
        if found := _MESSAGES.fullmatch(name):
            return _transcript(_select(messages, found.group(1), found.group(2)), found.group(3), found.group(4))
        if found := _PROMPT.fullmatch(name):
            return _shorten(prompt, found.group(1), found.group(2))
        return match.group(0)

    return _VARIABLE.sub(fill, template)


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
