"""``/api/v1/users``: admin user management, permissions and each user's own settings."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields, validate

from shared import messages
from shared.errors import BadRequest, Forbidden
from shared.services import accounts, group_preview, permissions, user_usage, users
from shared.services.passwords import MAX_PASSWORD_LENGTH
from web.blueprint import Blueprint
from web.caller import admin_required, current_user, user_required
from web.db import db
from web.schemas import (
    Body, PassThrough, UserActiveSchema, UserInfoListSchema, UserInfoSchema, UserListSchema, UserSchema,
)

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Users")


class UserQuery(Body):
    query = fields.String(load_default=None)
    order_by = fields.String(load_default=None)
    direction = fields.String(load_default=None, validate=validate.OneOf(["asc", "desc"]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))


class UserUpdateBody(Body):
    role = fields.String(load_default=None, validate=validate.OneOf(accounts.ROLES))
    name = fields.String(load_default=None, validate=validate.Length(min=1, max=255))
    email = fields.String(load_default=None)
    profile_image_url = fields.String(load_default=None)
    password = fields.String(load_default=None, validate=validate.Length(max=MAX_PASSWORD_LENGTH))


class InheritedQuery(Body):
    include_inherited = fields.Boolean(load_default=False)


class UsageQuery(Body):
    days = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=7, max=732))
    start_date = fields.Integer(load_default=None, allow_none=True)
    end_date = fields.Integer(load_default=None, allow_none=True)


class SettingsBody(PassThrough):
    """Open WebUI's ``UserSettings``: ``ui`` plus any other top-level keys the app keeps."""

    ui = fields.Dict(load_default=None)


@blp.route("/", methods=["GET"])
@admin_required
@blp.arguments(UserQuery, location="query")
@blp.response(200, UserListSchema)
def list_users(args: dict):
    """A page of users (30 a page), searchable by name or email."""
    page, total = users.list_users(db(), **args)
    return {"users": users.with_group_ids(db(), page), "total": total}


@blp.route("/all", methods=["GET"])
@admin_required
@blp.response(200, UserInfoListSchema)
def all_users():
    page, total = users.list_users(db(), limit=None)
    return {"users": page, "total": total}


@blp.route("/search", methods=["GET"])
@user_required
@blp.arguments(UserQuery, location="query")
@blp.response(200, UserInfoListSchema)
def search_users(args: dict):
    """Any user may find others by name or email (to share with them); they see Open WebUI's user info."""
    page, total = users.list_users(db(), **args)
    return {"users": page, "total": total}


@blp.route("/groups", methods=["GET"])
@user_required
@blp.arguments(InheritedQuery, location="query")
def my_groups(args: dict):
    return jsonify(users.groups_json(db(), current_user().id, args["include_inherited"]))


@blp.route("/permissions", methods=["GET"])
@user_required
def my_permissions():
    return jsonify(permissions.permissions_for(db(), current_user()))


@blp.route("/default/permissions", methods=["GET"])
@admin_required
def default_permissions():
    return jsonify(permissions.default_permissions(db()))


@blp.route("/default/permissions", methods=["POST"])
@admin_required
@blp.arguments(PassThrough)
def set_default_permissions(body: dict):
    return jsonify(permissions.set_default_permissions(db(), body))


@blp.route("/default/permissions/defaults", methods=["GET"])
@admin_required
def built_in_permissions():
    """The permissions a fresh install starts with (the admin's "reset" button)."""
    return jsonify(permissions.DEFAULT_PERMISSIONS)


@blp.route("/usage", methods=["GET"])
@user_required
@blp.arguments(UsageQuery, location="query")
def my_usage(args: dict):
    """The caller's own usage: lifetime totals, and the period's heatmaps, streaks, top models and tools."""
    return jsonify(user_usage.usage(db(), current_user(), **args))


@blp.route("/user/settings", methods=["GET"])
@user_required
def my_settings():
    return jsonify(current_user().settings)


@blp.route("/user/settings/update", methods=["POST"])
@user_required
@blp.arguments(SettingsBody)
def update_my_settings(body: dict):
    return jsonify(users.update_settings(db(), current_user(), {k: v for k, v in body.items() if v is not None}))


@blp.route("/user/info", methods=["GET"])
@user_required
def my_info():
    return jsonify(current_user().info)


@blp.route("/user/info/update", methods=["POST"])
@user_required
@blp.arguments(PassThrough)
def update_my_info(body: dict):
    """The posted keys merged into the user's ``info`` (Open WebUI's PATCH-style update)."""
    return jsonify(users.merge_info(db(), current_user(), body))


class VariablesBody(Body):
    variables = fields.Dict(keys=fields.String(), load_default=dict)


@blp.route("/user/variables", methods=["GET"])
@user_required
def my_variables():
    return jsonify(variables=users.variables(current_user()))


@blp.route("/user/variables/update", methods=["POST"])
@user_required
@blp.arguments(VariablesBody)
def update_my_variables(body: dict):
    return jsonify(variables=users.set_variables(db(), current_user(), body["variables"]))


@blp.route("/user/status", methods=["GET"])
@blp.route("/user/status/update", methods=["POST"])
@user_required
def my_status():
    """403, as Open WebUI answers while user statuses are off (Switchyard has none: ``enable_user_status`` is
    false in ``/api/config``, so the web app does not ask)."""
    raise Forbidden(messages.ACTION_PROHIBITED)


@blp.route("/<user_id>/oauth/sessions", methods=["GET"])
@admin_required
def oauth_sessions(user_id: str):
    """Open WebUI's answer for a user without stored OAuth sessions (400): Switchyard keeps none, it signs users in
    with the provider's ID token and issues its own."""
    raise BadRequest(messages.NOT_FOUND)


@blp.route("/<user_id>", methods=["GET"])
@admin_required
@blp.response(200, UserActiveSchema)
def get_user(user_id: str):
    return users.with_groups(db(), accounts.get_user(db(), user_id))


@blp.route("/<user_id>/info", methods=["GET"])
@user_required
@blp.response(200, UserInfoSchema)
def user_info(user_id: str):
    return users.info(db(), user_id)


@blp.route("/<user_id>/active", methods=["GET"])
@user_required
def user_active(user_id: str):
    return jsonify({"active": users.active_by_id(db(), user_id)})


@blp.route("/<user_id>/groups", methods=["GET"])
@admin_required
@blp.arguments(InheritedQuery, location="query")
def user_groups(args: dict, user_id: str):
    return jsonify(users.groups_json(db(), user_id, args["include_inherited"]))


@blp.route("/<user_id>/preview", methods=["GET"])
@admin_required
def user_preview(user_id: str):
    """What the user may use: the active models, knowledge and tools it owns or is granted."""
    return jsonify(group_preview.user_preview(db(), user_id))


@blp.route("/<user_id>/sessions/revoke", methods=["POST"])
@admin_required
def revoke_sessions(user_id: str):
    users.revoke_sessions(db(), current_user(), user_id)
    return jsonify(True)


@blp.route("/<user_id>/update", methods=["POST"])
@admin_required
@blp.arguments(UserUpdateBody)
@blp.response(200, UserSchema)
def update_user(body: dict, user_id: str):
    """Change a user's role, name, email, picture or password (the primary admin: only by itself, and it
    stays admin)."""
    return users.update_user(db(), current_user(), user_id, **body)


@blp.route("/<user_id>", methods=["DELETE"])
@admin_required
def delete_user(user_id: str):
    """Delete a user: never yourself, never the primary admin, never the last admin."""
    users.delete_user(db(), current_user(), user_id)
    return jsonify(True)
