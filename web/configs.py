"""``/api/v1/configs/*`` (the admin's settings pages): the whole configuration exported and imported, one
namespace of it, interface visibility, connections, code execution, sub-agents, prompt suggestions and terminal
servers. Tool servers, models and banners have blueprints of their own under the same prefix."""
from __future__ import annotations

from flask import jsonify
from marshmallow import INCLUDE, fields, validate

from shared.services import config_sections, config_transfer, terminal_servers
from web.blueprint import Blueprint
from web.caller import admin_required, current_user
from web.db import db
from web.schemas import Body
from web.settings_routes import section_routes
from web.streaming import wire

blp = Blueprint("configs", __name__, url_prefix="/api/v1/configs", description="Admin settings")


class ImportForm(Body):
    config = fields.Dict(keys=fields.String(), required=True)


class VisibilityForm(Body):
    visibility = fields.Dict(keys=fields.String(), values=fields.Boolean(truthy={True}, falsy={False}), required=True)


class Suggestion(Body):
    title = fields.List(fields.String(), required=True)
    content = fields.String(required=True)


class SuggestionsForm(Body):
    suggestions = fields.List(fields.Nested(Suggestion), required=True, allow_none=True)
    i18n = fields.Dict(load_default=None, allow_none=True)


class TerminalServerConnection(Body):
    """Open WebUI's ``TerminalServerConnection`` (other fields are kept)."""

    class Meta:
        unknown = INCLUDE

    url = fields.String(required=True)
    key = fields.String(load_default="", allow_none=True)
    auth_type = fields.String(load_default="bearer", allow_none=True)


class TerminalServersForm(Body):
    TERMINAL_SERVER_CONNECTIONS = fields.List(fields.Nested(TerminalServerConnection), required=True)


@blp.route("/export", methods=["GET"])
@admin_required
def export_config():
    """Every stored setting, ``{key: value}``, secrets in clear (listed under ``switchyard.secret_paths``)."""
    return jsonify(config_transfer.export_all(db()))


@blp.route("/import", methods=["POST"])
@admin_required
@blp.arguments(ImportForm)
def import_config(body: dict):
    """Store an export's settings (its secrets encrypted with this deployment's key); the configuration now."""
    return jsonify(config_transfer.import_all(db(), body["config"]))


@blp.route("/namespace/<namespace>", methods=["GET"])
@admin_required
def get_namespace(namespace: str):
    return jsonify(config_transfer.namespace(db(), namespace))


@blp.route("/interface/visibility", methods=["POST"])
@admin_required
@blp.arguments(VisibilityForm)
def set_visibility(body: dict):
    return jsonify(config_sections.set_visibility(db(), body["visibility"]))


@blp.route("/suggestions", methods=["POST"])
@admin_required
@blp.arguments(SuggestionsForm)
def set_suggestions(body: dict):
    return jsonify(config_sections.set_suggestions(db(), body["suggestions"], body["i18n"]))


section_routes(blp, "connections", config_sections.CONNECTIONS, "ConnectionsForm")
section_routes(blp, "code_execution", config_sections.CODE_EXECUTION, "CodeExecutionForm")
section_routes(blp, "subagents", config_sections.SUBAGENTS, "SubagentsForm")


@blp.route("/terminal_servers", methods=["GET"])
@admin_required
def get_terminal_servers():
    return jsonify(terminal_servers.read_config(db()))


@blp.route("/terminal_servers", methods=["POST"])
@admin_required
@blp.arguments(TerminalServersForm)
def set_terminal_servers(body: dict):
    return jsonify(terminal_servers.update_config(db(), body["TERMINAL_SERVER_CONNECTIONS"]))


@blp.route("/terminal_servers/verify", methods=["POST"])
@admin_required
@blp.arguments(TerminalServerConnection)
def verify_terminal_server(body: dict):
    """``{status: true, type: orchestrator|terminal}``, checked by a job (400 when nothing answers)."""
    return wire.result(terminal_servers.start_verify(db(), current_user(), body))


class TerminalServerAction(Body):
    """Open WebUI's forms of the policy, lifecycle and refresh proxies (checked before the 501)."""

    url = fields.String(required=True, validate=validate.URL(schemes={"http", "https"}, require_tld=False))
    key = fields.String(load_default="", allow_none=True)
    auth_type = fields.String(load_default="bearer", allow_none=True)
    policy_id = fields.String(load_default=None, allow_none=True)


@blp.route("/terminal_servers/policy", methods=["POST"])
@blp.route("/terminal_servers/lifecycle", methods=["POST"])
@blp.route("/terminal_servers/refresh", methods=["POST"])
@admin_required
@blp.arguments(TerminalServerAction)
def run_terminals(_body: dict):
    """501: running terminals is the terminal server's own business."""
    terminal_servers.refuse_running()
