"""Open WebUI's chat, tag and folder JSON shapes (``ChatResponse``, ``ChatTitleIdResponse``, ``TagModel``,
``FolderModel``) and the request bodies of ``/api/v1/chats`` and ``/api/v1/folders``."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from web.schemas import Body

MAX_PAGE = 1_000_000
MAX_TIME = 2**53
"""Unix times up to JavaScript's largest exact integer (milliseconds and nanoseconds fit too)."""

_page = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_PAGE))
_direction = fields.String(load_default=None, validate=validate.OneOf(["asc", "desc"]))
_order = fields.String(load_default=None, validate=validate.OneOf(["updated_at", "created_at", "title"]))


class ChatResponseSchema(Schema):
    id = fields.String()
    user_id = fields.String()
    title = fields.String()
    chat = fields.Raw(metadata={"description": "the client's chat object, as it was saved"})
    updated_at = fields.Integer()
    created_at = fields.Integer()
    share_id = fields.String(allow_none=True)
    archived = fields.Boolean()
    pinned = fields.Boolean(allow_none=True)
    meta = fields.Raw()
    variables = fields.Raw()
    folder_id = fields.String(allow_none=True)
    tasks = fields.Raw(dump_default=None, allow_none=True)
    summary = fields.String(dump_default=None, allow_none=True)
    current_message_id = fields.String(allow_none=True)
    context_usage = fields.Raw(dump_default=None, allow_none=True)


class ChatTitleSchema(Schema):
    id = fields.String()
    title = fields.String()
    updated_at = fields.Integer()
    created_at = fields.Integer()
    last_read_at = fields.Integer(allow_none=True)
    snippet = fields.String(dump_default=None, allow_none=True)
    active = fields.Boolean(dump_default=False)
    archived = fields.Boolean(dump_default=False)


class TagSchema(Schema):
    id = fields.String()
    name = fields.String()
    user_id = fields.String()
    meta = fields.Raw(allow_none=True)


class ChatBody(Body):
    chat = fields.Dict(required=True)
    variables = fields.Dict(load_default=None, allow_none=True)
    folder_id = fields.String(load_default=None, allow_none=True)


class ImportedChatBody(Body):
    chat = fields.Dict(required=True)
    meta = fields.Dict(load_default=None, allow_none=True)
    variables = fields.Dict(load_default=None, allow_none=True)
    pinned = fields.Boolean(load_default=False, allow_none=True)
    archived = fields.Boolean(load_default=False, allow_none=True)
    folder_id = fields.String(load_default=None, allow_none=True)
    created_at = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=MAX_TIME))
    updated_at = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=MAX_TIME))


class ImportBody(Body):
    chats = fields.List(fields.Nested(ImportedChatBody), required=True, validate=validate.Length(max=1000))


class CloneBody(Body):
    title = fields.String(load_default=None, allow_none=True)


class ForkBody(Body):
    message_id = fields.String(load_default=None, allow_none=True)


class TagBody(Body):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))


class TagFilterBody(TagBody):
    skip = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_PAGE))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=1000))


class FolderIdBody(Body):
    folder_id = fields.String(load_default=None, allow_none=True)


class MessageBody(Body):
    content = fields.String(load_default=None, allow_none=True)
    voice = fields.Dict(load_default=None, allow_none=True)


class ListQuery(Body):
    page = _page
    include_pinned = fields.Boolean(load_default=False)
    include_folders = fields.Boolean(load_default=False)
    sort_by = fields.String(load_default="updated_at", validate=validate.OneOf(["updated_at", "title"]))
    sort_dir = fields.String(load_default="desc", validate=validate.OneOf(["asc", "desc"]))


class FilteredListQuery(Body):
    page = _page
    query = fields.String(load_default=None)
    order_by = _order
    direction = _direction


class FolderListQuery(Body):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    sort_by = fields.String(load_default="updated_at",
                            validate=validate.OneOf(["updated_at", "unread_updated_at", "title"]))
    sort_dir = fields.String(load_default="desc", validate=validate.OneOf(["asc", "desc"]))


class SharedChatSchema(Schema):
    id = fields.String()
    chat_id = fields.String()
    title = fields.String()
    share_id = fields.String()
    updated_at = fields.Integer()
    created_at = fields.Integer()


class SearchQuery(Body):
    text = fields.String(required=True, validate=validate.Length(max=1000))
    page = _page


class FolderSchema(Schema):
    id = fields.String()
    parent_id = fields.String(allow_none=True)
    user_id = fields.String()
    name = fields.String()
    items = fields.Raw(allow_none=True)
    meta = fields.Raw(allow_none=True)
    data = fields.Raw(allow_none=True)
    is_expanded = fields.Boolean()
    created_at = fields.Integer()
    updated_at = fields.Integer()


class FolderDetailSchema(FolderSchema):
    access_grants = fields.List(fields.Raw(), dump_default=[])
    write_access = fields.Boolean(dump_default=True)


class FolderListItemSchema(Schema):
    id = fields.String()
    name = fields.String()
    meta = fields.Raw(allow_none=True)
    parent_id = fields.String(allow_none=True)
    is_expanded = fields.Boolean()
    unread_count = fields.Integer(dump_default=0)
    created_at = fields.Integer()
    updated_at = fields.Integer()


class FolderBody(Body):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    parent_id = fields.String(load_default=None, allow_none=True)
    meta = fields.Dict(load_default=None, allow_none=True)
    data = fields.Dict(load_default=None, allow_none=True)


class FolderUpdateBody(Body):
    name = fields.String(load_default=None, validate=validate.Length(min=1, max=255))
    meta = fields.Dict(load_default=None, allow_none=True)
    data = fields.Dict(load_default=None, allow_none=True)


class FolderParentBody(Body):
    parent_id = fields.String(load_default=None, allow_none=True)


class FolderExpandedBody(Body):
    is_expanded = fields.Boolean(required=True)


class FolderDeleteQuery(Body):
    delete_contents = fields.Boolean(load_default=True)
