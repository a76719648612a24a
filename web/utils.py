"""``/api/v1/utils``: Open WebUI's small utilities. Formatting runs black in the web process (no AI service, no
user code run); executing code is a job that runs it in the worker's sandbox, and the route answers its
``{stdout, stderr, result}`` when it ends."""
from __future__ import annotations

import tempfile
from pathlib import Path

from flask import jsonify, send_file
from marshmallow import fields

from shared.services import utilities
from web.blueprint import Blueprint
from web.caller import admin_required, current_user, user_required
from web.db import db
from web.schemas import Body
from web.streaming import wire

blp = Blueprint("utils", __name__, url_prefix="/api/v1/utils", description="Utilities")


class GravatarQuery(Body):
    email = fields.String(required=True)


class CodeForm(Body):
    """Open WebUI's ``CodeForm``."""

    code = fields.String(required=True)


@blp.route("/gravatar", methods=["GET"])
@user_required
@blp.arguments(GravatarQuery, location="query")
def gravatar(args: dict):
    """The address of the Gravatar image for ``email`` (a JSON string; nothing is fetched)."""
    return jsonify(utilities.gravatar_url(args["email"]))


@blp.route("/code/format", methods=["POST"])
@admin_required
@blp.arguments(CodeForm)
def format_code(body: dict):
    return jsonify({"code": utilities.format_code(body["code"])})


@blp.route("/code/execute", methods=["POST"])
@user_required
@blp.arguments(CodeForm)
def execute_code(body: dict):
    """``{stdout, stderr, result}`` of the code run in the sandbox (403 while code execution is disabled)."""
    return wire.result(utilities.start_execution(db(), current_user(), body["code"]))


@blp.route("/db/download", methods=["GET"])
@admin_required
def download_db():
    """The SQLite database as one consistent snapshot (``webui.db``); the folder it was written to is removed at
    once, the open file is what is sent."""
    with tempfile.TemporaryDirectory(prefix="db-download-") as folder:
        snapshot = utilities.database_snapshot(Path(folder)).open("rb")
    return send_file(snapshot, mimetype="application/octet-stream", as_attachment=True, download_name="webui.db")
