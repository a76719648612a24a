"""``/api/v1/configs/tool_servers``: the OpenAPI tool servers the admin connects (Open WebUI's
``TOOL_SERVER_CONNECTIONS``), checking one before it is saved (a job reads its document), and the OAuth 2.1
client a server's ``oauth_2.1`` authentication uses (a job discovers the OAuth server and registers it)."""
from __future__ import annotations

from flask import jsonify, request
from marshmallow import INCLUDE, fields

from shared.services import oauth_clients, tool_servers
from web.blueprint import Blueprint
from web.caller import admin_required, current_user
from web.db import db
from web.schemas import Body
from web.streaming import wire

blp = Blueprint("tool_servers", __name__, url_prefix="/api/v1/configs", description="Tool servers")


class ToolServerConnection(Body):
    """Open WebUI's ``ToolServerConnection`` (other fields are kept)."""

    class Meta:
        unknown = INCLUDE

    url = fields.String(required=True)
    path = fields.String(load_default="openapi.json")
    type = fields.String(load_default="openapi", allow_none=True)
    auth_type = fields.String(load_default=None, allow_none=True)
    key = fields.String(load_default=None, allow_none=True)
    config = fields.Dict(load_default=None, allow_none=True)
    info = fields.Dict(load_default=None, allow_none=True)


class ToolServersForm(Body):
    TOOL_SERVER_CONNECTIONS = fields.List(fields.Nested(ToolServerConnection), required=True)


@blp.route("/tool_servers", methods=["GET"])
@admin_required
def get_config():
    return jsonify(tool_servers.read_config(db()))


@blp.route("/tool_servers", methods=["POST"])
@admin_required
@blp.arguments(ToolServersForm)
def update_config(body: dict):
    """Save the servers; a job reads their documents (their tools appear once it has)."""
    return jsonify(tool_servers.update_config(db(), current_user(), body["TOOL_SERVER_CONNECTIONS"]))


@blp.route("/tool_servers/verify", methods=["POST"])
@admin_required
@blp.arguments(ToolServerConnection)
def verify(body: dict):
    """The server's OpenAPI document, read by a job (a server that cannot be reached: 502/504)."""
    return wire.result(tool_servers.start_verify(db(), current_user(), body))


class OAuthClientRegistrationForm(Body):
    """Open WebUI's ``OAuthClientRegistrationForm``."""

    url = fields.String(required=True)
    client_id = fields.String(required=True)
    client_name = fields.String(load_default=None, allow_none=True)
    client_secret = fields.String(load_default=None, allow_none=True)
    oauth_server_url = fields.String(load_default=None, allow_none=True)
    oauth_scope = fields.String(load_default=None, allow_none=True)


class RegistrationQuery(Body):
    type = fields.String(load_default=None)


@blp.route("/oauth/clients/register", methods=["POST"])
@admin_required
@blp.arguments(RegistrationQuery, location="query")
@blp.arguments(OAuthClientRegistrationForm)
def register_oauth_client(query: dict, body: dict):
    """``{status: true, oauth_client_info}`` (encrypted) from a job that discovers the OAuth server and registers
    a client, or takes the static credentials sent (400 ``Failed to register OAuth client: ...``)."""
    job = oauth_clients.start_register(db(), current_user(), body, query["type"], request.host_url)
    return wire.result(job)
