"""``/api/v1/knowledge``: knowledge bases, their files and who may read or change them."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields, validate

from shared.models import File, Knowledge
from shared.services import files
from shared.services import knowledge as knowledge_service
from web.blueprint import Blueprint
from web.caller import current_user, user_required
from web.db import db
from web.files import file_json
from web.schemas import Body

blp = Blueprint("knowledge", __name__, url_prefix="/api/v1/knowledge", description="Knowledge bases")


class GrantSchema(Body):
    id = fields.String(load_default=None, allow_none=True)
    principal_type = fields.String(load_default="user", validate=validate.OneOf(["user", "group", "anyone"]))
    principal_id = fields.String(required=True)
    permission = fields.String(load_default="read", validate=validate.OneOf(["read", "write"]))


class KnowledgeBody(Body):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    description = fields.String(load_default="")
    access_grants = fields.List(fields.Nested(GrantSchema), load_default=None, allow_none=True)


class PageQuery(Body):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    query = fields.String(load_default=None)


class FileIdBody(Body):
    file_id = fields.String(required=True)


class RemoveQuery(Body):
    delete_file = fields.Boolean(load_default=True)


def _user_json(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.id, "name": user.name, "email": user.email, "role": user.role,
            "profile_image_url": user.profile_image_url}


def knowledge_json(knowledge: Knowledge) -> dict:
    """Open WebUI's ``KnowledgeModel``."""
    return {"id": knowledge.id, "user_id": knowledge.user_id, "name": knowledge.name,
            "description": knowledge.description, "meta": knowledge.meta or {},
            "access_grants": knowledge.access_grants or [], "created_at": knowledge.created_at,
            "updated_at": knowledge.updated_at}


def _with_files(knowledge: Knowledge) -> dict:
    """``KnowledgeFilesResponse``: the base, its files' metadata and whether the caller may change it."""
    listed = knowledge_service.files_of(db(), knowledge.id)
    return {**knowledge_json(knowledge),
            "files": [{"id": f.id, "hash": f.hash, "meta": f.meta or {}, "created_at": f.created_at,
                       "updated_at": f.updated_at} for f in listed],
            "write_access": knowledge_service.can_access(knowledge, current_user(), "write")}


@blp.route("/", methods=["GET"])
@blp.route("/search", methods=["GET"])
@user_required
@blp.arguments(PageQuery, location="query")
def list_knowledge(args: dict):
    """``{items, total}``: the knowledge bases the caller can read, with ``write_access``."""
    rows, total = knowledge_service.list_knowledge(db(), current_user(), args["page"], args["query"])
    return jsonify({"items": [
        {**knowledge_json(r["knowledge"]), "user": _user_json(r["user"]), "file_count": r["file_count"],
         "write_access": r["write_access"]} for r in rows], "total": total})


@blp.route("/create", methods=["POST"])
@user_required
@blp.arguments(KnowledgeBody)
def create_knowledge(body: dict):
    knowledge = knowledge_service.create_knowledge(db(), current_user(), body["name"], body["description"],
                                                   body["access_grants"])
    return jsonify({**knowledge_json(knowledge), "files": []})


@blp.route("/<knowledge_id>", methods=["GET"])
@user_required
def get_knowledge(knowledge_id: str):
    return jsonify(_with_files(knowledge_service.get_knowledge(db(), knowledge_id, current_user())))


@blp.route("/<knowledge_id>/update", methods=["POST"])
@user_required
@blp.arguments(KnowledgeBody)
def update_knowledge(body: dict, knowledge_id: str):
    knowledge = knowledge_service.update_knowledge(
        db(), current_user(), knowledge_id, name=body["name"], description=body["description"],
        access_grants=body["access_grants"])
    return jsonify(_with_files(knowledge))


@blp.route("/<knowledge_id>/files", methods=["GET"])
@user_required
@blp.arguments(PageQuery, location="query")
def knowledge_files(args: dict, knowledge_id: str):
    """``{items, total}``: the files in the knowledge base, 30 a page."""
    session = db()
    knowledge = knowledge_service.get_knowledge(session, knowledge_id, current_user())
    listed = knowledge_service.files_of(session, knowledge.id)
    size = knowledge_service.PAGE_SIZE
    page = listed[(args["page"] - 1) * size: args["page"] * size]
    return jsonify({"items": [file_json(f, content=False) for f in page], "directories": [], "breadcrumbs": [],
                    "total": len(listed)})


@blp.route("/<knowledge_id>/file/add", methods=["POST"])
@user_required
@blp.arguments(FileIdBody)
def add_file(body: dict, knowledge_id: str):
    """Add one of the caller's files; processed chunks are copied in, otherwise an embedding job indexes it."""
    session, user = db(), current_user()
    knowledge = knowledge_service.get_knowledge(session, knowledge_id, user, "write")
    files.add_to_knowledge(session, user, knowledge, files.get_file(session, body["file_id"], user))
    return jsonify(_with_files(knowledge))


@blp.route("/<knowledge_id>/file/update", methods=["POST"])
@user_required
@blp.arguments(FileIdBody)
def update_file(body: dict, knowledge_id: str):
    """Re-process a file of the knowledge base (its chunks are replaced everywhere it is used); a file the
    knowledge base does not hold is 404."""
    session, user = db(), current_user()
    knowledge = knowledge_service.get_knowledge(session, knowledge_id, user, "write")
    files.reprocess_in_knowledge(session, user, knowledge, body["file_id"])
    return jsonify(_with_files(knowledge))


@blp.route("/<knowledge_id>/file/remove", methods=["POST"])
@user_required
@blp.arguments(RemoveQuery, location="query")
@blp.arguments(FileIdBody)
def remove_file(args: dict, body: dict, knowledge_id: str):
    """Take a file out (and delete the file itself unless ``delete_file=false`` or it is not the caller's)."""
    session, user = db(), current_user()
    knowledge = knowledge_service.get_knowledge(session, knowledge_id, user, "write")
    file = session.get(File, body["file_id"])
    knowledge_service.unlink_file(session, knowledge, body["file_id"])
    if args["delete_file"] and file is not None and (file.user_id == user.id or user.role == "admin"):
        files.delete_file(session, user, file.id)
    return jsonify(_with_files(knowledge))


@blp.route("/<knowledge_id>/reset", methods=["POST"])
@user_required
def reset_knowledge(knowledge_id: str):
    knowledge = knowledge_service.reset_knowledge(db(), current_user(), knowledge_id)
    return jsonify({**knowledge_json(knowledge), "files": []})


@blp.route("/<knowledge_id>/delete", methods=["DELETE"])
@user_required
def delete_knowledge(knowledge_id: str):
    knowledge_service.delete_knowledge(db(), current_user(), knowledge_id)
    return jsonify(True)
