"""``/api/v1/functions``: filter, action and pipe modules (admins), their switches, valves and versions; users
read the list and their own user valves. Saving code answers when the job that loads it in the sandbox has
stored it (a module that does not load: 400 with its error)."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields, validate

from shared.services import functions, user_code
from web.blueprint import Blueprint
from web.caller import admin_required, current_user, user_required
from web.db import db
from web.history_routes import VersionForm, add_history_routes
from web.schemas import Body, LoadUrlForm, PassThrough, owner_json
from web.streaming import wire

blp = Blueprint("functions", __name__, url_prefix="/api/v1/functions", description="Functions")


class FunctionForm(Body):
    """Open WebUI's ``FunctionForm``."""

    id = fields.String(required=True, validate=validate.Length(min=1, max=255))
    name = fields.String(required=True, validate=validate.Length(min=1))
    content = fields.String(required=True)
    meta = fields.Dict(load_default=dict)
    commit_message = fields.String(load_default=None, allow_none=True)


class SyncedFunction(FunctionForm):
    """Open WebUI's ``FunctionWithValvesModel`` (the fields a sync keeps)."""

    valves = fields.Dict(load_default=None, allow_none=True)
    is_active = fields.Boolean(load_default=False)
    is_global = fields.Boolean(load_default=False)


class SyncForm(Body):
    functions = fields.List(fields.Nested(SyncedFunction), load_default=list)


def _listed(with_code: bool):
    """``FunctionUserResponse`` items: each function with its author (no code for users)."""
    return jsonify([{**functions.function_json(f), **({} if with_code else {"content": None}), "user": owner_json(owner)}
                    for f, owner in functions.with_authors(db())])


@blp.route("/", methods=["GET"])
@user_required
def list_functions():
    """Every function (without code: the web app reads which filters and actions exist)."""
    return _listed(with_code=False)


@blp.route("/list", methods=["GET"])
@admin_required
def admin_list():
    return _listed(with_code=True)


@blp.route("/load/url", methods=["POST"])
@admin_required
@blp.arguments(LoadUrlForm)
def load_url(body: dict):
    """``{name, content}``: a module's code at a URL (a GitHub page: its raw file), downloaded by a job through the
    guarded fetch (private and local addresses refused); nothing is saved or run."""
    return wire.result(user_code.start_load_url(db(), current_user(), body["url"]))


@blp.route("/export", methods=["GET"])
@admin_required
def export():
    return jsonify([functions.function_json(f, valves=True) for f in functions.all_functions(db())])


@blp.route("/sync", methods=["POST"])
@admin_required
@blp.arguments(SyncForm)
def sync(body: dict):
    """Make the functions exactly the ones sent (each loaded by a job first; one that does not load: 400, and
    nothing changes)."""
    return wire.result(functions.start_sync(db(), current_user(), body["functions"]))


@blp.route("/create", methods=["POST"])
@admin_required
@blp.arguments(FunctionForm)
def create(body: dict):
    return wire.result(functions.start_create(db(), current_user(), body))


@blp.route("/id/<function_id>", methods=["GET"])
@admin_required
def get_function(function_id: str):
    return jsonify(functions.function_json(functions.get(db(), function_id)))


@blp.route("/id/<function_id>/toggle", methods=["POST"])
@admin_required
def toggle(function_id: str):
    return jsonify(functions.function_json(functions.toggle(db(), function_id)))


@blp.route("/id/<function_id>/toggle/global", methods=["POST"])
@admin_required
def toggle_global(function_id: str):
    """On for every model (a filter or an action) or only for the models that name it."""
    return jsonify(functions.function_json(functions.toggle(db(), function_id, "is_global")))


@blp.route("/id/<function_id>/update", methods=["POST"])
@admin_required
@blp.arguments(FunctionForm)
def update(body: dict, function_id: str):
    return wire.result(functions.start_update(db(), current_user(), function_id, body))


@blp.route("/id/<function_id>/delete", methods=["DELETE"])
@admin_required
def delete(function_id: str):
    functions.remove(db(), function_id)
    return jsonify(True)


@blp.route("/id/<function_id>/valves", methods=["GET"])
@admin_required
def valves(function_id: str):
    return jsonify(functions.get(db(), function_id).valves)


@blp.route("/id/<function_id>/valves/spec", methods=["GET"])
@admin_required
def valves_spec(function_id: str):
    return jsonify((functions.get(db(), function_id).meta or {}).get("valves_spec"))


@blp.route("/id/<function_id>/valves/update", methods=["POST"])
@admin_required
@blp.arguments(PassThrough)
def update_valves(body: dict, function_id: str):
    """The admin's valves: any JSON object, its keys checked against the module's ``Valves``."""
    return jsonify(functions.set_valves(db(), function_id, body))


@blp.route("/id/<function_id>/valves/user", methods=["GET"])
@user_required
def user_valves(function_id: str):
    return jsonify(functions.user_valves(db(), current_user(), function_id))


@blp.route("/id/<function_id>/valves/user/spec", methods=["GET"])
@user_required
def user_valves_spec(function_id: str):
    return jsonify((functions.get(db(), function_id).meta or {}).get("user_valves_spec"))


@blp.route("/id/<function_id>/valves/user/update", methods=["POST"])
@user_required
@blp.arguments(PassThrough)
def update_user_valves(body: dict, function_id: str):
    return jsonify(functions.set_user_valves(db(), current_user(), function_id, body))


add_history_routes(blp, functions.KIND, "function_id", lambda function_id: functions.get(db(), function_id),
                   guard=admin_required)


@blp.route("/id/<function_id>/update/version", methods=["POST"])
@admin_required
@blp.arguments(VersionForm)
def set_version(body: dict, function_id: str):
    """Put a saved version back in use: its code is loaded and stored again by a job."""
    return wire.result(functions.start_restore(db(), current_user(), function_id, body["version_id"]))
