"""``/api/v1/tools``: Python tool modules, their access grants, valves and versions. Saving code answers when
the job that loads it in the sandbox has stored it (a module that does not load: 400 with its error)."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields, validate

from shared.services import access, tool_servers, tools, user_code
from web.blueprint import Blueprint
from web.caller import admin_required, current_user, user_required
from web.db import db
from web.history_routes import VersionForm, add_history_routes
from web.schemas import Body, GrantSchema, LoadUrlForm, PassThrough, owner_json
from web.streaming import wire

blp = Blueprint("tools", __name__, url_prefix="/api/v1/tools", description="Tools")


class ToolForm(Body):
    """Open WebUI's ``ToolForm``."""

    id = fields.String(required=True, validate=validate.Length(min=1, max=255))
    name = fields.String(required=True, validate=validate.Length(min=1))
    content = fields.String(required=True)
    meta = fields.Dict(load_default=dict)
    access_grants = fields.List(fields.Nested(GrantSchema), load_default=None, allow_none=True)
    commit_message = fields.String(load_default=None, allow_none=True)


class AccessForm(Body):
    access_grants = fields.List(fields.Nested(GrantSchema), required=True)


def _with_access(tool, owner=None) -> dict:
    """``ToolAccessResponse`` (no code in lists)."""
    return {**tools.tool_json(tool, content=False), "write_access": access.can_access(tool, current_user(), "write"),
            "has_user_valves": bool((tool.meta or {}).get("has_user_valves")), "user": owner_json(owner)}


@blp.route("/", methods=["GET"])
@blp.route("/list", methods=["GET"])
@user_required
def list_tools():
    """The tools the caller can read, with ``write_access``, then the tool servers they may use."""
    own = [_with_access(tool, owner) for tool, owner in tools.listing(db(), current_user())]
    servers = [tool_servers.tool_json(tool_id, server, document)
               for tool_id, server, document in tool_servers.listed(db(), current_user())]
    return jsonify(own + servers)


@blp.route("/id/<tool_id>/specs", methods=["GET"])
@user_required
def specs(tool_id: str):
    """``{specs: [{name, description}]}`` of an MCP tool server the caller may use (``server:mcp:<id>``), listed now
    by a job (502/504 when the server cannot be used); any other id: 404."""
    return wire.result(tool_servers.start_specs(db(), current_user(), tool_id))


@blp.route("/load/url", methods=["POST"])
@admin_required
@blp.arguments(LoadUrlForm)
def load_url(body: dict):
    """``{name, content}``: a module's code at a URL (a GitHub page: its raw file), downloaded by a job through the
    guarded fetch (private and local addresses refused); nothing is saved or run."""
    return wire.result(user_code.start_load_url(db(), current_user(), body["url"]))


@blp.route("/export", methods=["GET"])
@user_required
def export():
    return jsonify([tools.tool_json(tool) for tool in tools.exportable(db(), current_user())])


@blp.route("/create", methods=["POST"])
@user_required
@blp.arguments(ToolForm)
def create(body: dict):
    return wire.result(tools.start_create(db(), current_user(), body))


@blp.route("/id/<tool_id>", methods=["GET"])
@user_required
def get_tool(tool_id: str):
    tool = tools.readable(db(), current_user(), tool_id)
    return jsonify({**tools.tool_json(tool), "write_access": access.can_access(tool, current_user(), "write")})


@blp.route("/id/<tool_id>/update", methods=["POST"])
@user_required
@blp.arguments(ToolForm)
def update(body: dict, tool_id: str):
    return wire.result(tools.start_update(db(), current_user(), tool_id, body))


@blp.route("/id/<tool_id>/access/update", methods=["POST"])
@user_required
@blp.arguments(AccessForm)
def update_access(body: dict, tool_id: str):
    return jsonify(tools.tool_json(tools.set_access(db(), current_user(), tool_id, body["access_grants"])))


@blp.route("/id/<tool_id>/delete", methods=["DELETE"])
@user_required
def delete(tool_id: str):
    tools.remove(db(), current_user(), tool_id)
    return jsonify(True)


@blp.route("/id/<tool_id>/valves", methods=["GET"])
@user_required
def valves(tool_id: str):
    return jsonify(tools.valves(db(), current_user(), tool_id))


@blp.route("/id/<tool_id>/valves/spec", methods=["GET"])
@user_required
def valves_spec(tool_id: str):
    return jsonify(tools.valves_spec(db(), current_user(), tool_id))


@blp.route("/id/<tool_id>/valves/update", methods=["POST"])
@user_required
@blp.arguments(PassThrough)
def update_valves(body: dict, tool_id: str):
    """The admin's valves: any JSON object, its keys checked against the tool's ``Valves``."""
    return jsonify(tools.set_valves(db(), current_user(), tool_id, body))


@blp.route("/id/<tool_id>/valves/user", methods=["GET"])
@user_required
def user_valves(tool_id: str):
    return jsonify(tools.user_valves(db(), current_user(), tool_id))


@blp.route("/id/<tool_id>/valves/user/spec", methods=["GET"])
@user_required
def user_valves_spec(tool_id: str):
    return jsonify(tools.valves_spec(db(), current_user(), tool_id, "user_valves_spec"))


@blp.route("/id/<tool_id>/valves/user/update", methods=["POST"])
@user_required
@blp.arguments(PassThrough)
def update_user_valves(body: dict, tool_id: str):
    return jsonify(tools.set_user_valves(db(), current_user(), tool_id, body))


add_history_routes(blp, tools.KIND, "tool_id", lambda tool_id: tools.writable(db(), current_user(), tool_id))


@blp.route("/id/<tool_id>/update/version", methods=["POST"])
@user_required
@blp.arguments(VersionForm)
def set_version(body: dict, tool_id: str):
    """Put a saved version back in use: its code is loaded and stored again by a job."""
    return wire.result(tools.start_restore(db(), current_user(), tool_id, body["version_id"]))
