"""``/api/v1/tasks``: how titles, tags and follow-up suggestions are generated after a reply, and the web app's own
calls for them (``/title/completions``, ``/tags/completions``, ``/follow_up/completions``), each a completion job on
the task model."""
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


class TaskBody(Body):
    """What the web app sends: the chat's model and its messages (``chat_id`` and the rest pass unread)."""

    model = fields.String(required=True, validate=validate.Length(min=1))
    messages = fields.List(fields.Dict(), load_default=list)


@blp.route("/<any(title, tags, follow_up):task>/completions", methods=["POST"])
@user_required
@blp.arguments(TaskBody)
def task_completion(body: dict, task: str):
    """The task model's answer to the task's prompt, as an OpenAI ``chat.completion`` (Open WebUI's answer); 200
    ``{"detail": ...}`` while the admin has the task switched off, as in Open WebUI."""
    chosen, disabled = reply_tasks.BY_ROUTE[task]
    request = reply_tasks.completion_body(db(), chosen, body)
    if request is None:
        return jsonify(detail=disabled)
    job, _ = gateway.start_chat(db(), current_user(), request)
    return wire.result(job)
