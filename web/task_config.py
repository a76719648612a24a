"""``/api/v1/tasks``: how titles, tags and follow-up suggestions are generated after a reply, and the web app's own
calls to Open WebUI's helper generators (``title``, ``tags``, ``follow_up``, ``image_prompt``, ``queries``, ``auto``,
``emoji``, ``moa`` under ``/<name>/completions``), each a completion job on the task model (MoA: the chat's model).
"""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields, validate

from shared.services.chats import reply_tasks
from shared.services.llm import gateway
from web.blueprint import Blueprint
from web.caller import admin_required, current_user, user_required
from web.db import db
from web.schemas import Body, settings_body
from web.streaming import wire

blp = Blueprint("task_config", __name__, url_prefix="/api/v1/tasks", description="Chat task settings")

TaskConfigBody = settings_body(reply_tasks.CONFIG_KEYS, "TaskConfigBody", {
    "TASK_MODEL_PARAMS": fields.Dict(allow_none=True),
    "AUTOCOMPLETE_GENERATION_INPUT_MAX_LENGTH": fields.Integer(allow_none=True),
})
"""Open WebUI's ``TaskConfigForm``; fields left out keep their value."""


@blp.route("/config", methods=["GET"])
@user_required
def get_config():
    return jsonify(reply_tasks.task_config(db()))


@blp.route("/config/update", methods=["POST"])
@admin_required
@blp.arguments(TaskConfigBody)
def update_config(body):
    return jsonify(reply_tasks.update_task_config(db(), body))


class ModelBody(Body):
    model = fields.String(required=True, validate=validate.Length(min=1))


class TaskBody(ModelBody):
    """What the web app sends: the chat's model and its messages (``chat_id`` and the rest pass unread)."""

    messages = fields.List(fields.Dict(), load_default=list)


class QueriesBody(TaskBody):
    type = fields.String(allow_none=True, load_default=None)
    """``web_search`` or ``retrieval``: the switch that applies (another value: none)."""


class PromptBody(ModelBody):
    prompt = fields.String(required=True)


class AutocompleteBody(QueriesBody, PromptBody):
    """The text typed so far (``prompt``), what kind of text it is (``type``) and, optionally, the conversation."""


class MoaBody(PromptBody):
    """The user's question (``prompt``) and the answers of several models to merge."""

    responses = fields.List(fields.String(), required=True)
    stream = fields.Boolean(load_default=False)


def _answer(route: str, body: dict):
    """The model's answer as an OpenAI ``chat.completion`` (OpenAI SSE chunks when streamed), as Open WebUI
    answers; 200 ``{"detail": ...}`` while the title, tags or follow-ups are switched off."""
    request = reply_tasks.completion_body(db(), route, body)
    if request is None:
        return jsonify(detail=reply_tasks.BY_ROUTE[route][1])
    job, _ = gateway.start_chat(db(), current_user(), request)
    return wire.stream(job, wire.SSE) if request["stream"] else wire.result(job)


@blp.route("/<any(title, tags, follow_up, image_prompt):task>/completions", methods=["POST"])
@user_required
@blp.arguments(TaskBody)
def task_completion(body: dict, task: str):
    """The task's prompt over the conversation sent."""
    return _answer(task, body)


@blp.route("/queries/completions", methods=["POST"])
@user_required
@blp.arguments(QueriesBody)
def queries_completion(body: dict):
    """Search or retrieval queries for the conversation; 400 when the ``type``'s switch is off."""
    return _answer("queries", body)


@blp.route("/auto/completions", methods=["POST"])
@user_required
@blp.arguments(AutocompleteBody)
def autocomplete_completion(body: dict):
    """The rest of the text being typed; 400 while autocomplete is off or beyond its input limit."""
    return _answer("auto", body)


@blp.route("/emoji/completions", methods=["POST"])
@user_required
@blp.arguments(PromptBody)
def emoji_completion(body: dict):
    """An emoji for the message ``prompt``."""
    return _answer("emoji", body)


@blp.route("/moa/completions", methods=["POST"])
@user_required
@blp.arguments(MoaBody)
def moa_completion(body: dict):
    """One answer merged from several models' answers (the web app asks for it streamed)."""
    return _answer("moa", body)
