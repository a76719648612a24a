"""``/api/v1/configs/models``: the models settings (default and pinned models, their order, and the metadata and
params every model starts from)."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields

from shared.services import custom_models
from web.blueprint import Blueprint
from web.caller import admin_required, user_required
from web.db import db
from web.schemas import settings_body

blp = Blueprint("model_config", __name__, url_prefix="/api/v1/configs", description="Models settings")

ModelsConfigBody = settings_body(custom_models.CONFIG_KEYS, "ModelsConfigBody", {
    "MODEL_ORDER_LIST": fields.List(fields.String(), allow_none=True),
    "DEFAULT_MODEL_METADATA": fields.Dict(allow_none=True),
    "DEFAULT_MODEL_PARAMS": fields.Dict(allow_none=True),
})
"""Open WebUI's ``ModelsConfigForm``; fields left out keep their value."""


@blp.route("/models", methods=["GET"])
@admin_required
def get_config():
    return jsonify(custom_models.read_config(db()))


@blp.route("/models", methods=["POST"])
@admin_required
@blp.arguments(ModelsConfigBody)
def update_config(body: dict):
    return jsonify(custom_models.update_config(db(), body))


@blp.route("/models/defaults", methods=["GET"])
@user_required
def defaults():
    """The metadata every model starts from (the model editor shows it)."""
    return jsonify(DEFAULT_MODEL_METADATA=custom_models.default_metadata(db()))
