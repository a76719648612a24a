"""``/api/v1/folders``: a user's folder tree for chats (create, rename, move, expand, delete)."""
from __future__ import annotations

from flask import jsonify

from shared import messages as texts
from shared.errors import Forbidden
from shared.services import app_config, permissions
from shared.services.chats import folders, reads, store
from web.caller import current_user, user_required
from web.blueprint import Blueprint
from web.chat_schemas import (
    FolderBody, FolderDeleteQuery, FolderDetailSchema, FolderExpandedBody, FolderListItemSchema,
    FolderParentBody, FolderSchema, FolderUpdateBody,
)
from web.db import db

blp = Blueprint("folders", __name__, url_prefix="/api/v1/folders", description="Chat folders")


def _me() -> str:
    """The caller's id, once folders are enabled and the caller may use them (403 otherwise)."""
    user = current_user()
    if app_config.get(db(), "folders.enable") is False:
        raise Forbidden(texts.ACCESS_PROHIBITED)
    permissions.require(db(), user, "features.folders", Forbidden)
    return user.id


@blp.route("/", methods=["GET"])
@user_required
@blp.response(200, FolderListItemSchema(many=True))
def list_folders():
    """The user's folders, each with its number of unread store."""
    user_id = _me()
    unread = reads.folder_unread_counts(db(), user_id)
    return [{**FolderListItemSchema().dump(f), "unread_count": unread.get(f.id, 0)}
            for f in folders.list_folders(db(), user_id)]


@blp.route("/", methods=["POST"])
@user_required
@blp.arguments(FolderBody)
@blp.response(200, FolderSchema)
def create_folder(body: dict):
    return folders.create_folder(db(), _me(), body["name"], parent_id=body["parent_id"], meta=body["meta"],
                                 data=body["data"])


@blp.route("/shared", methods=["GET"])
@user_required
def shared_folders():
    """Folders shared with the user: none (folder sharing is not offered)."""
    _me()
    return jsonify([])


@blp.route("/<folder_id>", methods=["GET"])
@user_required
@blp.response(200, FolderDetailSchema)
def get_folder(folder_id: str):
    return folders.get_folder(db(), _me(), folder_id)


@blp.route("/<folder_id>/update", methods=["POST"])
@user_required
@blp.arguments(FolderUpdateBody)
@blp.response(200, FolderSchema)
def update_folder(body: dict, folder_id: str):
    """Rename, or change ``meta``/``data``."""
    return folders.update_folder(db(), _me(), folder_id, **body)


@blp.route("/<folder_id>/update/parent", methods=["POST"])
@user_required
@blp.arguments(FolderParentBody)
@blp.response(200, FolderSchema)
def move_folder(body: dict, folder_id: str):
    return folders.move_folder(db(), _me(), folder_id, body["parent_id"])


@blp.route("/<folder_id>/update/expanded", methods=["POST"])
@user_required
@blp.arguments(FolderExpandedBody)
@blp.response(200, FolderSchema)
def expand_folder(body: dict, folder_id: str):
    return folders.set_expanded(db(), _me(), folder_id, body["is_expanded"])


@blp.route("/<folder_id>/read", methods=["POST"])
@user_required
def mark_folder_read(folder_id: str):
    """Mark the folder's chats read, its subfolders' included."""
    user_id = _me()
    ids, updated = reads.mark_folder_read(db(), user_id, folder_id)
    return jsonify(folder_id=folder_id, folder_ids=ids, updated_count=updated,
                   folder_unread_counts=reads.folder_unread_counts(db(), user_id))


@blp.route("/<folder_id>", methods=["DELETE"])
@user_required
@blp.arguments(FolderDeleteQuery, location="query")
def delete_folder(args: dict, folder_id: str):
    """Delete a folder and its subfolders, with their chats (``delete_contents=false``: keep the chats)."""
    user_id = _me()
    if args["delete_contents"]:
        tree = folders.subtree_ids(db(), user_id, folders.get_folder(db(), user_id, folder_id).id)
        if folders.count_chats(db(), user_id, tree):
            store.require_permission(db(), current_user(), "chat.delete", Forbidden)
    folders.delete_folder(db(), user_id, folder_id, delete_contents=args["delete_contents"])
    return jsonify(True)
