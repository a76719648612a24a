"""``/api/v1/chats``: a user's chats, their messages, pins, archive, shares and tags.

Handlers parse, call one service function and shape the answer; ownership is checked in the
services, so another user's chat is 404 everywhere.
"""
from __future__ import annotations

import json

from flask import Response, jsonify

from shared.db import session_scope
from shared.errors import BadRequest, Forbidden
from shared.models import Chat
from shared.services import config_sections
from shared.services.chats import lists, reads, store, tags
from web.caller import admin_required, current_user, user_required
from web.blueprint import Blueprint
from web.chat_schemas import (
    ChatBody, ChatResponseSchema, ChatTitleSchema, CloneBody, FilteredListQuery, FolderIdBody, FolderListQuery,
    ForkBody, ImportBody, ListQuery, MessageBody, SearchQuery, SharedChatSchema, TagBody, TagFilterBody,
    TagSchema,
)
from web.db import db
from web.schemas import PassThrough
from web.settings_routes import section_routes

blp = Blueprint("chats", __name__, url_prefix="/api/v1/chats", description="Chats, messages and tags")

_chat_schema = ChatResponseSchema()


def chat_response(chat: Chat, snapshot: dict | None = None) -> dict:
    """Open WebUI's ``ChatResponse`` for a row (``snapshot``: show a share's frozen chat object instead)."""
    data = _chat_schema.dump(chat)
    data["variables"] = chat.variables if isinstance(chat.variables, dict) else {}
    data["meta"] = chat.meta or {}
    if snapshot is not None:
        data.update(chat={**snapshot, "share_mode": None}, title=store.title_of(snapshot))
    return data


def _me() -> str:
    return current_user().id


section_routes(blp, "config", config_sections.CHAT, "ChatConfigForm")  # context compaction, tool search


# --- lists ---------------------------------------------------------------------------------------

@blp.route("/", methods=["GET"])
@blp.route("/list", methods=["GET"])
@user_required
@blp.arguments(ListQuery, location="query")
@blp.response(200, ChatTitleSchema(many=True))
def list_chats(args: dict):
    """The sidebar list (60 a page with ``page``; pinned and foldered chats only when asked for)."""
    return lists.list_titles(db(), _me(), **args)


@blp.route("/list/user/<user_id>", methods=["GET"])
@admin_required
@blp.arguments(FilteredListQuery, location="query")
@blp.response(200, ChatTitleSchema(many=True))
def list_user_chats(args: dict, user_id: str):
    """An admin's view of one user's chats, archived included (unless ``ENABLE_ADMIN_CHAT_ACCESS=false``)."""
    store.require_admin_chat_access(db())
    return lists.list_filtered(db(), user_id, archived=None, **{**args, "page": args["page"] or 1})


@blp.route("/pinned", methods=["GET"])
@user_required
@blp.response(200, ChatTitleSchema(many=True))
def pinned_chats():
    return lists.pinned(db(), _me())


@blp.route("/archived", methods=["GET"])
@user_required
@blp.arguments(FilteredListQuery, location="query")
@blp.response(200, ChatTitleSchema(many=True))
def archived_list(args: dict):
    return lists.list_filtered(db(), _me(), archived=True, **{**args, "page": args["page"] or 1})


@blp.route("/archived/count", methods=["GET"])
@user_required
def archived_count():
    return jsonify(lists.count_archived(db(), _me()))


@blp.route("/search", methods=["GET"])
@user_required
@blp.arguments(SearchQuery, location="query")
@blp.response(200, ChatTitleSchema(many=True))
def search_chats(args: dict):
    """Title and message text, with ``tag:``, ``folder:``, ``pinned:``, ``archived:``, ``shared:`` filters."""
    return lists.search(db(), _me(), args["text"], args["page"] or 1)


@blp.route("/all", methods=["GET"])
@user_required
def export_chats():
    """Every chat of the user as NDJSON, one ``ChatResponse`` a line, streamed 100 at a time."""
    user_id = _me()

    def lines():
        after = None
        while True:
            with session_scope() as session:
                batch = lists.export_batch(session, user_id, after)
                text = "".join(json.dumps(chat_response(c), ensure_ascii=False) + "\n" for c in batch)
            if not batch:
                return
            yield text
            after = (batch[-1].created_at, batch[-1].id)

    return Response(lines(), mimetype="application/x-ndjson")


@blp.route("/all/archived", methods=["GET"])
@user_required
@blp.response(200, ChatResponseSchema(many=True))
def all_archived():
    return [chat_response(c) for c in lists.archived_chats(db(), _me())]


@blp.route("/all/tags", methods=["GET"])
@user_required
@blp.response(200, TagSchema(many=True))
def all_tags():
    return tags.list_tags(db(), _me())


@blp.route("/tags", methods=["POST"])
@user_required
@blp.arguments(TagFilterBody)
@blp.response(200, ChatTitleSchema(many=True))
def chats_by_tag(body: dict):
    return lists.by_tag(db(), _me(), body["name"], body["skip"], body["limit"])


@blp.route("/folder/<folder_id>", methods=["GET"])
@user_required
@blp.response(200, ChatResponseSchema(many=True))
def chats_in_folder(folder_id: str):
    """Full chats of a folder and its subfolders."""
    return [chat_response(c) for c in lists.in_folder(db(), _me(), folder_id)]


@blp.route("/folder/<folder_id>/list", methods=["GET"])
@user_required
@blp.arguments(FolderListQuery, location="query")
@blp.response(200, ChatTitleSchema(many=True))
def folder_chat_list(args: dict, folder_id: str):
    """A folder's own chats as a title list, 10 a page."""
    sort_by = "updated_at" if args["sort_by"] == "unread_updated_at" else args["sort_by"]
    return lists.folder_titles(db(), _me(), folder_id, page=args["page"], sort_by=sort_by,
                                    sort_dir=args["sort_dir"])


@blp.route("/shared", methods=["GET"])
@user_required
@blp.arguments(FilteredListQuery, location="query")
@blp.response(200, SharedChatSchema(many=True))
def shared_list(args: dict):
    """The user's shared store."""
    return lists.shares(db(), _me(), **{**args, "page": args["page"] or 1})


@blp.route("/share/all", methods=["DELETE"])
@user_required
def unshare_all():
    store.unshare_all(db(), _me())
    return jsonify(True)


@blp.route("/read", methods=["POST"])
@user_required
def mark_all_read():
    """Mark every unarchived chat read."""
    updated = reads.mark_all_read(db(), _me())
    return jsonify(updated_count=updated, folder_unread_counts=reads.folder_unread_counts(db(), _me()))


# --- create, import, delete all ------------------------------------------------------------------

@blp.route("/new", methods=["POST"])
@user_required
@blp.arguments(ChatBody)
@blp.response(200, ChatResponseSchema)
def new_chat(body: dict):
    return chat_response(store.create_chat(db(), _me(), body["chat"], body["folder_id"], variables=body["variables"]))


@blp.route("/import", methods=["POST"])
@user_required
@blp.arguments(ImportBody)
@blp.response(200, ChatResponseSchema(many=True))
def import_chats(body: dict):
    store.require_permission(db(), current_user(), "chat.import", Forbidden)
    return [chat_response(c) for c in store.import_chats(db(), _me(), body["chats"])]


@blp.route("/", methods=["DELETE"])
@user_required
def delete_all_chats():
    store.require_permission(db(), current_user(), "chat.delete")
    store.delete_all(db(), _me())
    return jsonify(True)


@blp.route("/archive/all", methods=["POST"])
@user_required
def archive_all():
    store.set_all_archived(db(), _me(), True)
    return jsonify(True)


@blp.route("/unarchive/all", methods=["POST"])
@user_required
def unarchive_all():
    store.set_all_archived(db(), _me(), False)
    return jsonify(True)


@blp.route("/share/<share_id>", methods=["GET"])
@user_required
@blp.response(200, ChatResponseSchema)
def shared_chat(share_id: str):
    """A share's read-only snapshot (its owner's; admins may also open any chat by id here)."""
    chat, snapshot = store.get_shared(db(), current_user(), share_id)
    return chat_response(chat, snapshot)


# --- one chat ------------------------------------------------------------------------------------

@blp.route("/<chat_id>", methods=["GET"])
@user_required
@blp.response(200, ChatResponseSchema)
def get_chat(chat_id: str):
    return chat_response(store.get_chat(db(), _me(), chat_id))


@blp.route("/<chat_id>", methods=["POST"])
@user_required
@blp.arguments(ChatBody)
@blp.response(200, ChatResponseSchema)
def update_chat(body: dict, chat_id: str):
    """Save the (partial) chat object: its keys replace the stored ones, ``history`` is merged."""
    return chat_response(store.update_chat(db(), _me(), chat_id, body["chat"], variables=body["variables"]))


@blp.route("/<chat_id>", methods=["DELETE"])
@user_required
def delete_chat(chat_id: str):
    store.require_permission(db(), current_user(), "chat.delete")
    store.delete_chat(db(), _me(), chat_id)
    return jsonify(True)


@blp.route("/<chat_id>/params", methods=["PATCH"])
@user_required
@blp.arguments(PassThrough)
def update_params(body: dict, chat_id: str):
    """Merge into the chat's ``params``; answers the params."""
    return jsonify(store.update_params(db(), _me(), chat_id, body))


@blp.route("/<chat_id>/messages/<message_id>", methods=["POST"])
@user_required
@blp.arguments(MessageBody)
@blp.response(200, ChatResponseSchema)
def update_message(body: dict, chat_id: str, message_id: str):
    """Change a message's ``content`` (or its ``voice`` metadata)."""
    changes = {}
    if body["content"] is not None:
        changes["content"] = body["content"]
    if body["voice"] is not None:
        changes["meta"] = {"voice": body["voice"]}
    if not changes:
        raise BadRequest("No message changes supplied")
    return chat_response(store.update_message(db(), _me(), chat_id, message_id, changes))


@blp.route("/<chat_id>/messages/<message_id>", methods=["DELETE"])
@user_required
@blp.response(200, ChatResponseSchema)
def delete_message(chat_id: str, message_id: str):
    return chat_response(store.delete_message(db(), _me(), chat_id, message_id))


@blp.route("/<chat_id>/unread", methods=["POST"])
@user_required
def mark_unread(chat_id: str):
    chat = reads.mark_unread(db(), _me(), chat_id)
    return jsonify(chat_id=chat.id, last_read_at=chat.last_read_at, folder_id=chat.folder_id,
                   folder_unread_counts=reads.folder_unread_counts(db(), _me()))


@blp.route("/<chat_id>/pinned", methods=["GET"])
@user_required
def pinned_status(chat_id: str):
    return jsonify(store.get_chat(db(), _me(), chat_id).pinned)


@blp.route("/<chat_id>/pin", methods=["POST"])
@user_required
@blp.response(200, ChatResponseSchema)
def pin_chat(chat_id: str):
    """Pin or unpin (a toggle)."""
    return chat_response(store.toggle_pinned(db(), _me(), chat_id))


@blp.route("/<chat_id>/archive", methods=["POST"])
@user_required
@blp.response(200, ChatResponseSchema)
def archive_chat(chat_id: str):
    """Archive or unarchive (a toggle)."""
    return chat_response(store.toggle_archived(db(), _me(), chat_id))


@blp.route("/<chat_id>/clone", methods=["POST"])
@user_required
@blp.arguments(CloneBody)
@blp.response(200, ChatResponseSchema)
def clone_chat(body: dict, chat_id: str):
    store.require_permission(db(), current_user(), "chat.import", Forbidden)
    return chat_response(store.clone_chat(db(), _me(), chat_id, body["title"]))


@blp.route("/<chat_id>/fork", methods=["POST"])
@user_required
@blp.arguments(ForkBody)
@blp.response(200, ChatResponseSchema)
def fork_chat(body: dict, chat_id: str):
    """A new chat with the branch that ends at ``message_id`` (default: the current message)."""
    store.require_permission(db(), current_user(), "chat.import", Forbidden)
    return chat_response(store.fork_chat(db(), _me(), chat_id, body["message_id"]))


@blp.route("/<chat_id>/share", methods=["POST"])
@user_required
@blp.response(200, ChatResponseSchema)
def share_chat(chat_id: str):
    """Snapshot the chat under a share id (again: refresh the snapshot)."""
    store.require_permission(db(), current_user(), "chat.share")
    return chat_response(store.share_chat(db(), _me(), chat_id))


@blp.route("/<chat_id>/share", methods=["DELETE"])
@user_required
def unshare_chat(chat_id: str):
    store.unshare_chat(db(), _me(), chat_id)
    return jsonify(True)


@blp.route("/<chat_id>/folder", methods=["POST"])
@user_required
@blp.arguments(FolderIdBody)
@blp.response(200, ChatResponseSchema)
def move_chat(body: dict, chat_id: str):
    return chat_response(store.move_to_folder(db(), _me(), chat_id, body["folder_id"]))


@blp.route("/<chat_id>/tags", methods=["GET"])
@user_required
@blp.response(200, TagSchema(many=True))
def chat_tags(chat_id: str):
    return store.chat_tags(db(), _me(), chat_id)


@blp.route("/<chat_id>/tags", methods=["POST"])
@user_required
@blp.arguments(TagBody)
@blp.response(200, TagSchema(many=True))
def add_chat_tag(body: dict, chat_id: str):
    return store.add_tag(db(), _me(), chat_id, body["name"])


@blp.route("/<chat_id>/tags", methods=["DELETE"])
@user_required
@blp.arguments(TagBody)
@blp.response(200, TagSchema(many=True))
def remove_chat_tag(body: dict, chat_id: str):
    return store.remove_tag(db(), _me(), chat_id, body["name"])
