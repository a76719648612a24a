"""``/api/v1/memories``: what the assistant remembers about the caller; embedding and search run as jobs."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields, validate

from shared.models import Memory, User
from shared.services import memories, memory_paths
from web.blueprint import Blueprint
from web.caller import admin_required, current_user, user_required
from web.db import db
from web.schemas import Body
from web.streaming.responses import result_or_accepted

blp = Blueprint("memories", __name__, url_prefix="/api/v1/memories", description="Memories")

QUERY_TIMEOUT = 60.0


class AddBody(Body):
    content = fields.String(required=True, validate=validate.Length(min=1))
    type = fields.String(load_default="context", validate=validate.OneOf(memories.TYPES))
    path = fields.String(load_default=None, allow_none=True)


class UpdateBody(Body):
    content = fields.String(load_default=None, allow_none=True)
    type = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(memories.TYPES))
    path = fields.String(load_default=None, allow_none=True)


class QueryBody(Body):
    content = fields.String(required=True, validate=validate.Length(min=1))
    k = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100))


FILTER_TYPES = (*memories.TYPES, "all")


class OperationSchema(Body):
    action = fields.String(required=True, validate=validate.OneOf(("add", "replace", "remove", "move")))
    id = fields.String(load_default=None, allow_none=True)
    content = fields.String(load_default=None, allow_none=True)
    type = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(memories.TYPES))
    path = fields.String(load_default=None, allow_none=True)


class OperationsBody(Body):
    operations = fields.List(fields.Nested(OperationSchema), required=True)
    source = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(("tool", "background_review")))


class SearchBody(Body):
    query = fields.String(load_default=None, allow_none=True)
    type = fields.String(load_default="all", validate=validate.OneOf(FILTER_TYPES))
    path = fields.String(load_default=None, allow_none=True)
    memory_id = fields.String(load_default=None, allow_none=True)
    limit = fields.Integer(load_default=20)


class PathsBody(Body):
    query = fields.String(load_default=None, allow_none=True)
    type = fields.String(load_default="all", validate=validate.OneOf(FILTER_TYPES))
    limit = fields.Integer(load_default=100)


class PathBody(Body):
    path = fields.String(required=True)
    type = fields.String(load_default="all", validate=validate.OneOf(FILTER_TYPES))
    include_children = fields.Boolean(load_default=True)
    limit = fields.Integer(load_default=50)


def memory_json(memory: Memory, meta: bool = True) -> dict:
    """Open WebUI's ``MemoryModel`` (without ``meta`` where Open WebUI leaves it out)."""
    shown = {"id": memory.id, "user_id": memory.user_id, "type": memory.type, "path": memory.path,
             "content": memory.content, "meta": memory.meta, "updated_at": memory.updated_at,
             "created_at": memory.created_at}
    if not meta:
        del shown["meta"]
    return shown


def _me() -> User:
    user = current_user()
    memories.check_enabled(db(), user)
    return user


@blp.route("/", methods=["GET"])
@user_required
def list_memories():
    return jsonify([memory_json(m) for m in memories.list_memories(db(), _me())])


@blp.route("/add", methods=["POST"])
@user_required
@blp.arguments(AddBody)
def add_memory(body: dict):
    memory = memories.add_memory(db(), _me(), body["content"], body["type"], body["path"])
    return jsonify(memory_json(memory))


@blp.route("/query", methods=["POST"])
@user_required
@blp.arguments(QueryBody)
def query_memories(body: dict):
    """The ``k`` memories closest to ``content`` (a job embeds the query): Open WebUI's search result."""
    return result_or_accepted(memories.start_query(db(), _me(), body["content"], body["k"]), QUERY_TIMEOUT)


@blp.route("/update", methods=["POST"])
@user_required
@blp.arguments(OperationsBody)
def apply_operations(body: dict):
    """Open WebUI's memory tool: a batch of add / replace / move / remove, applied together; each result is
    ``{action, status: created|updated|deleted|skipped, memory | id}``."""
    results = memories.apply_operations(db(), _me(), body["operations"], body["source"] or "tool")
    return jsonify([{**r, "memory": memory_json(r["memory"], meta=False)} if "memory" in r else r for r in results])


@blp.route("/search", methods=["POST"])
@user_required
@blp.arguments(SearchBody)
def search_memories(body: dict):
    """The caller's memories matching text and/or related to a path (no embeddings: a plain lookup)."""
    found = memory_paths.search(memories.list_memories(db(), _me()), query=body["query"], path=body["path"],
                                memory_id=body["memory_id"], memory_type=body["type"], limit=body["limit"])
    return jsonify([memory_json(m) for m in found])


@blp.route("/paths", methods=["POST"])
@user_required
@blp.arguments(PathsBody)
def list_paths(body: dict):
    """``{paths: [{path, type, count, updated_at, children}], count}``."""
    return jsonify(memory_paths.path_groups(memories.list_memories(db(), _me()), query=body["query"] or "",
                                            memory_type=body["type"], limit=body["limit"]))


@blp.route("/path", methods=["POST"])
@user_required
@blp.arguments(PathBody)
def read_path(body: dict):
    """``{path, parents, children, memories}`` around one path."""
    found = memory_paths.read_path(memories.list_memories(db(), _me()), path=body["path"], memory_type=body["type"],
                                   include_children=body["include_children"], limit=body["limit"])
    return jsonify({**found, "memories": [memory_json(m, meta=False) for m in found["memories"]]})


@blp.route("/reindex", methods=["POST"])
@admin_required
def reindex_memories():
    """Every user's memory embeddings rebuilt by a job: its result ``{status, total_users, total_memories}``
    when it ends in time, else 202 with the job."""
    return result_or_accepted(memories.start_reindex(db(), current_user()), QUERY_TIMEOUT)


@blp.route("/reset", methods=["POST"])
@user_required
def reset_memories():
    """Rebuild the caller's memory embeddings from the stored memories."""
    memories.request_index(db(), _me())
    return jsonify(True)


@blp.route("/delete/user", methods=["DELETE"])
@user_required
def delete_my_memories():
    memories.delete_all(db(), _me())
    return jsonify(True)


@blp.route("/<memory_id>/update", methods=["POST"])
@user_required
@blp.arguments(UpdateBody)
def update_memory(body: dict, memory_id: str):
    memory = memories.update_memory(db(), _me(), memory_id, content=body["content"], type_=body["type"],
                                    path=body["path"])
    return jsonify(memory_json(memory))


@blp.route("/<memory_id>", methods=["DELETE"])
@user_required
def delete_memory(memory_id: str):
    memories.delete_memory(db(), _me(), memory_id)
    return jsonify(True)
