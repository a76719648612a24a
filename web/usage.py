"""``/api/usage``: models being used right now and how many users are active (admins)."""
from __future__ import annotations

from flask import jsonify

from shared.services import presence
from web.blueprint import Blueprint
from web.caller import current_user, user_required
from web.db import db

blp = Blueprint("usage", __name__, description="Current usage")


@blp.route("/api/usage", methods=["GET"])
@user_required
def usage():
    return jsonify(presence.usage(db(), current_user()))
