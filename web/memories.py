"""``/api/v1/memories``: what the assistant remembers about the caller; embedding and search run as jobs."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields, validate
from sqlalchemy.orm import Session

from shared.errors import NotFound
from shared.jobs.service import enqueue
from shared.models import Memory, User
from shared.services import memories
from shared.services.retrieval import memory_collection
from web.auth import current_user, user_required
from web.blueprint import Blueprint
from web.db import db
from web.job_responses import result_or_accepted
from web.schemas import Body

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


def _reindex(session: Session, user: User) -> None:
    """The user's memory collection follows the rows (an embedding job rebuilds it)."""
    enqueue(session, actor="embeddings.memory", queue="embeddings", kind="memory.index", owner_id=user.id,
            payload={"user_id": user.id})


@blp.route("/", methods=["GET"])
@user_required
def list_memories():
    return jsonify([memory_json(m) for m in memories.list_memories(db(), _me())])


@blp.route("/add", methods=["POST"])
@user_required
@blp.arguments(AddBody)
def add_memory(body: dict):
    user, session = _me(), db()
    memory = memories.add_memory(session, user, body["content"], body["type"], body["path"])
    _reindex(session, user)
    return jsonify(memory_json(memory))


@blp.route("/query", methods=["POST"])
@user_required
@blp.arguments(QueryBody)
def query_memories(body: dict):
    """The ``k`` memories closest to ``content`` (a job embeds the query): Open WebUI's search result."""
    user, session = _me(), db()
    if not memories.list_memories(session, user):
        raise NotFound("No memories found for user")
    job = enqueue(session, actor="embeddings.query", queue="embeddings", kind="memory.query", owner_id=user.id,
                  payload={"collection_names": [memory_collection(user.id)], "query": body["content"],
                           "k": body["k"], "r": None, "hybrid": False})
    return result_or_accepted(job, QUERY_TIMEOUT)


@blp.route("/reset", methods=["POST"])
@user_required
def reset_memories():
    """Rebuild the caller's memory embeddings from the stored memories."""
    user, session = _me(), db()
    _reindex(session, user)
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
    user, session = _me(), db()
    memory = memories.update_memory(session, user, memory_id, content=body["content"], type_=body["type"],
                                    path=body["path"])
    _reindex(session, user)
    return jsonify(memory_json(memory))


@blp.route("/<memory_id>", methods=["DELETE"])
@user_required
def delete_memory(memory_id: str):
    user, session = _me(), db()
    memories.delete_memory(session, user, memory_id)
    _reindex(session, user)
    return jsonify(True)
