"""``/api/v1/configs/rate_limits``: the admin's request rate limits and per-user cap on active jobs
(``shared.services.rate_limits``); a change applies in every process without a restart."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields, validate

from shared.services import rate_limits
from web.blueprint import Blueprint
from web.caller import admin_required
from web.db import db
from web.schemas import settings_body

blp = Blueprint("rate_limit_config", __name__, url_prefix="/api/v1/configs", description="Rate limits")

RateLimitsBody = settings_body(rate_limits.CONFIG_KEYS, "RateLimitsBody", {
    "JOB_MAX_ACTIVE_PER_USER": fields.Integer(validate=validate.Range(min=0, max=1_000_000)),
})
"""Fields left out keep their value; a limit that is empty or null means unlimited."""


@blp.route("/rate_limits", methods=["GET"])
@admin_required
def get_config():
    return jsonify(rate_limits.read(db()))


@blp.route("/rate_limits", methods=["POST"])
@admin_required
@blp.arguments(RateLimitsBody)
def set_config(body: dict):
    return jsonify(rate_limits.update(db(), body))
