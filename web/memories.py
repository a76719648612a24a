"""``/api/v1/memories``: what the assistant remembers about the caller; embedding and search run as jobs."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields, validate

from shared.models import Memory, User
from shared.services import memories
from web.blueprint import Blueprint
from web.caller import current_user, user_required
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


def memory_json(memory: Memory) -> dict:
    """Open WebUI's ``MemoryModel``."""
    return {"id": memory.id, "user_id": memory.user_id, "type": memory.type, "path": memory.path,
            "content": memory.content, "meta": memory.meta, "updated_at": memory.updated_at,
            "created_at": memory.created_at}


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
