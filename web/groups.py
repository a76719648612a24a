"""``/api/v1/groups``: the admin's groups of users (members, subgroups, permissions, default models); users
list the groups they are in or may share with."""
from __future__ import annotations

from flask import jsonify
from marshmallow import Schema, fields, validate

from shared import messages
from shared.models import Group
from shared.services import group_preview, groups
from web.blueprint import Blueprint
from web.caller import admin_required, current_user, user_required
from web.db import db
from web.schemas import Body, UserInfoSchema

blp = Blueprint("groups", __name__, url_prefix="/api/v1/groups", description="Groups")


class GroupForm(Body):
    """Open WebUI's ``GroupForm``; ``parent_group_id`` changes the parent only when sent."""

    parent_group_id = fields.String(allow_none=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    permissions = fields.Dict(load_default=None, allow_none=True)
    data = fields.Dict(load_default=None, allow_none=True)


class UserIdsForm(Body):
    user_ids = fields.List(fields.String(), load_default=None, allow_none=True)


class ShareQuery(Body):
    share = fields.Boolean(load_default=None, allow_none=True)


class MembersQuery(Body):
    membership = fields.String(load_default="effective", validate=validate.OneOf(["direct", "inherited", "effective"]))
    query = fields.String(load_default="")
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))


class GroupInfoSchema(Schema):
    """Open WebUI's ``GroupInfoResponse``: what any user may know of a group."""

    parent_group_id = fields.String(allow_none=True)
    id = fields.String()
    user_id = fields.String()
    name = fields.String()
    description = fields.String()
    member_count = fields.Integer(allow_none=True)
    created_at = fields.Integer()
    updated_at = fields.Integer()


class GroupSchema(GroupInfoSchema):
    """Open WebUI's ``GroupResponse``."""

    data = fields.Dict(allow_none=True)
    meta = fields.Dict(allow_none=True)
    permissions = fields.Dict(allow_none=True)


class GroupExportSchema(GroupSchema):
    user_ids = fields.List(fields.String())


def _json(group: Group, member_count: int) -> dict:
    """The group's columns and its direct member count, for the response schemas."""
    return {**groups.as_json(group), "member_count": member_count}


def _with_count(group: Group) -> dict:
    return _json(group, groups.member_counts(db(), [group.id]).get(group.id, 0))


@blp.route("/", methods=["GET"])
@user_required
@blp.arguments(ShareQuery, location="query")
@blp.response(200, GroupSchema(many=True))
def list_groups(args: dict):
    """Admins see every group; users the groups they are in, or with ``share`` those they may share with."""
    return [_json(group, count) for group, count in groups.listing(db(), current_user(), args["share"])]


@blp.route("/create", methods=["POST"])
@admin_required
@blp.arguments(GroupForm)
@blp.response(200, GroupSchema)
def create_group(body: dict):
    return _with_count(groups.create(db(), owner_id=current_user().id, **body))


@blp.route("/id/<group_id>", methods=["GET"])
@admin_required
@blp.response(200, GroupSchema)
def get_group(group_id: str):
    return _with_count(groups.get(db(), group_id, messages.NOT_FOUND))


@blp.route("/id/<group_id>/info", methods=["GET"])
@user_required
@blp.response(200, GroupInfoSchema)
def group_info(group_id: str):
    """Name and size of any group, for users who see its id on a shared object."""
    return _with_count(groups.get(db(), group_id, messages.NOT_FOUND))


@blp.route("/id/<group_id>/export", methods=["GET"])
@admin_required
@blp.response(200, GroupExportSchema)
def export_group(group_id: str):
    group = groups.get(db(), group_id, messages.NOT_FOUND)
    return {**_with_count(group), "user_ids": groups.member_ids(db(), group.id)}


@blp.route("/id/<group_id>/users", methods=["POST"])
@admin_required
@blp.response(200, UserInfoSchema(many=True))
def group_users(group_id: str):
    return groups.users_in(db(), group_id)


@blp.route("/id/<group_id>/update", methods=["POST"])
@admin_required
@blp.arguments(GroupForm)
@blp.response(200, GroupSchema)
def update_group(body: dict, group_id: str):
    return _with_count(groups.update_group(db(), group_id, body))


@blp.route("/id/<group_id>/users/add", methods=["POST"])
@admin_required
@blp.arguments(UserIdsForm)
@blp.response(200, GroupSchema)
def add_users(body: dict, group_id: str):
    group = groups.get(db(), group_id)
    groups.add_members(db(), group.id, body["user_ids"] or [])
    return _with_count(group)


@blp.route("/id/<group_id>/users/remove", methods=["POST"])
@admin_required
@blp.arguments(UserIdsForm)
@blp.response(200, GroupSchema)
def remove_users(body: dict, group_id: str):
    group = groups.get(db(), group_id)
    groups.remove_members(db(), group.id, body["user_ids"] or [])
    return _with_count(group)


@blp.route("/id/<group_id>/delete", methods=["DELETE"])
@admin_required
def delete_group(group_id: str):
    """Delete a group; its subgroups move up to its parent."""
    groups.delete_group(db(), group_id)
    return jsonify(True)


@blp.route("/id/<group_id>/preview", methods=["GET"])
@admin_required
def preview_group(group_id: str):
    return jsonify(group_preview.preview(db(), group_id))


@blp.route("/id/<group_id>/members", methods=["GET"])
@admin_required
@blp.arguments(MembersQuery, location="query")
def group_members(args: dict, group_id: str):
    return jsonify(groups.members_page(db(), group_id, **args))
