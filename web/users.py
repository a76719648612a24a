"""``/api/v1/users``: admin user management, permissions and each user's own settings."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields, validate

from shared.services import accounts, permissions, users
from shared.services.passwords import MAX_PASSWORD_LENGTH
from web.blueprint import Blueprint
from web.caller import admin_required, current_user, user_required
from web.db import db
from web.schemas import Body, PassThrough, UserListSchema, UserSchema

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
    return {"users": page, "total": total}


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


@blp.route("/<user_id>", methods=["GET"])
@admin_required
@blp.response(200, UserSchema)
def get_user(user_id: str):
    return accounts.get_user(db(), user_id)


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
