"""``/api/v1/tasks/config``: how titles, tags and follow-up suggestions are generated after a reply."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields

from shared.services.chats import reply_tasks
from web.blueprint import Blueprint
from web.caller import admin_required, user_required
from web.db import db
from web.schemas import Body

blp = Blueprint("task_config", __name__, url_prefix="/api/v1/tasks", description="Chat task settings")

_FIELD_TYPES = {
    "TASK_MODEL_PARAMS": fields.Dict(allow_none=True),
    "AUTOCOMPLETE_GENERATION_INPUT_MAX_LENGTH": fields.Integer(allow_none=True),
}


def _field(name: str) -> fields.Field:
    if name in _FIELD_TYPES:
        return _FIELD_TYPES[name]
    return fields.Boolean() if name.startswith("ENABLE_") else fields.String(allow_none=True)


TaskConfigBody = Body.from_dict({name: _field(name) for name in reply_tasks.CONFIG_KEYS}, name="TaskConfigBody")
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
