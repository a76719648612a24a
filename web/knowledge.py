"""``/api/v1/knowledge``: knowledge bases, their files and who may read or change them."""
from __future__ import annotations

import tempfile
from urllib.parse import quote

from flask import Response, current_app, jsonify, send_file
from marshmallow import fields, validate

from shared.models import File, Knowledge, KnowledgeDirectory, User
from shared.services import external_knowledge, files
from shared.services import knowledge as knowledge_service
from shared.services import knowledge_dirs
from web.blueprint import Blueprint
from web.caller import admin_required, current_user, user_required
from web.db import db
from web.files import file_json
from web.schemas import Body, GrantSchema, owner_json
from web.streaming.responses import accepted, result_or_accepted

EXPORT_MEMORY_BYTES = 8 * 1024 * 1024
REINDEX_WAIT = 60.0
"""An export zip larger than this is spooled to disk."""

blp = Blueprint("knowledge", __name__, url_prefix="/api/v1/knowledge", description="Knowledge bases")


class KnowledgeBody(Body):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    description = fields.String(load_default="")
    access_grants = fields.List(fields.Nested(GrantSchema), load_default=None, allow_none=True)


class PageQuery(Body):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    query = fields.String(load_default=None)


class FileIdBody(Body):
    file_id = fields.String(required=True)
    directory_id = fields.String(load_default=None, allow_none=True)


class KnowledgeAccessBody(Body):
    access_grants = fields.List(fields.Nested(GrantSchema), required=True)


class FilesQuery(PageQuery):
    include_content = fields.Boolean(load_default=False)
    view_option = fields.String(load_default=None)
    order_by = fields.String(load_default=None)
    direction = fields.String(load_default=None)
    directory_id = fields.String(load_default=None)
    limit = fields.Integer(load_default=None, validate=validate.Range(min=1))


class PendingQuery(Body):
    stream = fields.Boolean(load_default=False)


class RemoveQuery(Body):
    delete_file = fields.Boolean(load_default=True)


def knowledge_json(knowledge: Knowledge) -> dict:
    """Open WebUI's ``KnowledgeModel``."""
    return {"id": knowledge.id, "user_id": knowledge.user_id, "name": knowledge.name,
            "description": knowledge.description, "meta": knowledge.meta or {},
            "access_grants": knowledge.access_grants or [], "created_at": knowledge.created_at,
            "updated_at": knowledge.updated_at}


def _with_files(knowledge: Knowledge, **extra) -> dict:
    """``KnowledgeFilesResponse``: the base, its files' metadata and whether the caller may change it."""
    listed = knowledge_service.files_of(db(), knowledge.id)
    return {**knowledge_json(knowledge),
            "files": [{"id": f.id, "hash": f.hash, "meta": f.meta or {}, "created_at": f.created_at,
                       "updated_at": f.updated_at} for f in listed],
            "write_access": knowledge_service.can_access(knowledge, current_user(), "write"), **extra}


def directory_json(directory: KnowledgeDirectory) -> dict:
    """Open WebUI's ``KnowledgeDirectoryModel``."""
    return {"id": directory.id, "knowledge_id": directory.knowledge_id, "parent_id": directory.parent_id,
            "name": directory.name, "user_id": directory.user_id, "created_at": directory.created_at,
            "updated_at": directory.updated_at}


def _file_in_base(file: File, owner: User | None, directory_id: str | None, paths: dict[str, str]) -> dict:
    """Open WebUI's ``FileUserResponse``: the file without its text, where it sits and who added it."""
    return {**file_json(file, content=False), "data": None, "directory_id": directory_id,
            "directory_path": paths.get(directory_id or "", ""), "has_original": bool(file.path),
            "user": owner_json(owner)}


@blp.route("/", methods=["GET"])
@blp.route("/search", methods=["GET"])
@user_required
@blp.arguments(PageQuery, location="query")
def list_knowledge(args: dict):
    """``{items, total}``: the knowledge bases the caller can read, with ``write_access``."""
    rows, total = knowledge_service.list_knowledge(db(), current_user(), args["page"], args["query"])
    return jsonify({"items": [
        {**knowledge_json(r["knowledge"]), "user": owner_json(r["user"]), "file_count": r["file_count"],
         "write_access": r["write_access"]} for r in rows], "total": total})


class FileSearchQuery(PageQuery):
    include_content = fields.Boolean(load_default=False)


@blp.route("/search/files", methods=["GET"])
@user_required
@blp.arguments(FileSearchQuery, location="query")
def search_files(args: dict):
    """``{items, total}``: the files of the knowledge bases the caller can read, each with its uploader and its
    base (``collection``), as the model editor's knowledge picker lists them."""
    rows, total = knowledge_service.search_files(db(), current_user(), args["page"], args["query"],
                                                 args["include_content"])
    return jsonify({"items": [
        {**file_json(file, content=False), "user": owner_json(owner), "collection": knowledge_json(knowledge)}
        for file, owner, knowledge in rows], "directories": [], "breadcrumbs": [], "total": total})


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
        db(), current_user(), knowledge_id, name=body["name"], description=body["description"])
    return jsonify(_with_files(knowledge))


@blp.route("/<knowledge_id>/access/update", methods=["POST"])
@user_required
@blp.arguments(KnowledgeAccessBody)
def update_access(body: dict, knowledge_id: str):
    """Replace the grants (those the caller may hand out); the base with its files."""
    return jsonify(_with_files(knowledge_service.set_access(db(), current_user(), knowledge_id,
                                                            body["access_grants"])))


@blp.route("/<knowledge_id>/files", methods=["GET"])
@user_required
@blp.arguments(FilesQuery, location="query")
def knowledge_files(args: dict, knowledge_id: str):
    """``{items, directories, breadcrumbs, total}``: a page of the files (30; an admin may ask for ``limit``),
    filtered and sorted as Open WebUI's; with ``directory_id`` one directory's files (empty: the root's), the
    directories at that level and the trail to it."""
    session, user = db(), current_user()
    knowledge = knowledge_service.get_knowledge(session, knowledge_id, user)
    limit = args["limit"] if user.role == "admin" and args["limit"] else knowledge_service.PAGE_SIZE
    rows, total = knowledge_service.files_page(
        session, user, knowledge, query=args["query"], include_content=args["include_content"],
        view_option=args["view_option"], order_by=args["order_by"], direction=args["direction"],
        directory_id=args["directory_id"], page=args["page"], limit=limit)
    paths = knowledge_dirs.paths(knowledge_dirs.all_directories(session, knowledge.id))
    level = args["directory_id"] or None
    return jsonify({"items": [_file_in_base(*row, paths) for row in rows],
                    "directories": [directory_json(d) for d in knowledge_dirs.children(session, knowledge.id, level)],
                    "breadcrumbs": [directory_json(d) for d in knowledge_dirs.breadcrumbs(session, knowledge.id, level)],
                    "total": total})


@blp.route("/<knowledge_id>/files/pending", methods=["GET"])
@user_required
@blp.arguments(PendingQuery, location="query")
def pending_files(args: dict, knowledge_id: str):
    """Files uploaded for the knowledge base and still processing, not yet in it (``stream=true``: as one
    server-sent event; uploads join their knowledge base as they are stored, so this list is short-lived)."""
    session = db()
    knowledge = knowledge_service.get_knowledge(session, knowledge_id, current_user())
    listed = [file_json(f, content=False) for f in knowledge_service.pending_files(session, knowledge.id)]
    if not args["stream"]:
        return jsonify(listed)
    return Response(f"data: {current_app.json.dumps(listed)}\n\n", mimetype="text/event-stream")


@blp.route("/<knowledge_id>/file/add", methods=["POST"])
@user_required
@blp.arguments(FileIdBody)
def add_file(body: dict, knowledge_id: str):
    """Add a file the caller can read (into ``directory_id``); processed chunks are copied in, otherwise an
    embedding job indexes it."""
    session, user = db(), current_user()
    knowledge = knowledge_service.get_file_holder(session, knowledge_id, user)
    directory = knowledge_dirs.directory_in(session, knowledge.id, body["directory_id"], "Target directory not found.")
    files.add_to_knowledge(session, user, knowledge, files.get_file(session, body["file_id"], user),
                           directory.id if directory else None)
    return jsonify(_with_files(knowledge))


@blp.route("/<knowledge_id>/files/batch/add", methods=["POST"])
@user_required
@blp.arguments(FileIdBody(many=True))
def add_files(body: list[dict], knowledge_id: str):
    """Add many files at once; those whose processing failed are left out and listed in ``warnings``."""
    session, user = db(), current_user()
    knowledge = knowledge_service.get_file_holder(session, knowledge_id, user)
    errors = files.add_many_to_knowledge(session, user, knowledge, body)
    warnings = {"warnings": {"message": "Some files failed to process", "errors": errors}} if errors else {}
    return jsonify(_with_files(knowledge, **warnings))


@blp.route("/<knowledge_id>/file/update", methods=["POST"])
@user_required
@blp.arguments(FileIdBody)
def update_file(body: dict, knowledge_id: str):
    """Re-process a file of the knowledge base (its chunks are replaced everywhere it is used); a file the
    knowledge base does not hold is 404."""
    session, user = db(), current_user()
    knowledge = knowledge_service.get_file_holder(session, knowledge_id, user)
    files.reprocess_in_knowledge(session, user, knowledge, body["file_id"])
    return jsonify(_with_files(knowledge))


@blp.route("/<knowledge_id>/file/remove", methods=["POST"])
@user_required
@blp.arguments(RemoveQuery, location="query")
@blp.arguments(FileIdBody)
def remove_file(args: dict, body: dict, knowledge_id: str):
    """Take a file out (and delete the file itself unless ``delete_file=false`` or it is not the caller's)."""
    session, user = db(), current_user()
    knowledge = knowledge_service.get_file_holder(session, knowledge_id, user)
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
    """Remove the base (an external one's connection too when an admin removes its last base, as Open WebUI)."""
    external_knowledge.release_connection(db(), current_user(), knowledge_id)
    knowledge_service.delete_knowledge(db(), current_user(), knowledge_id)
    return jsonify(True)


@blp.route("/reindex", methods=["POST"])
@admin_required
def reindex_all():
    """Embed every knowledge base's files again: a job (202, its progress at ``Location``); its result lists
    the files that failed."""
    return accepted(knowledge_service.start_reindex(db(), current_user()))


@blp.route("/metadata/reindex", methods=["POST"])
@admin_required
def reindex_metadata():
    """Embed every base's name and description again (Open WebUI's knowledge-search index): ``{total,
    success}`` when the job ends within a minute, else 202 with the job."""
    return result_or_accepted(knowledge_service.start_metadata_reindex(db(), current_user()), REINDEX_WAIT)


@blp.route("/<knowledge_id>/export", methods=["GET"])
@admin_required
def export_knowledge(knowledge_id: str):
    """A zip of the files' extracted text (``<name>.txt`` each), built in a temporary file."""
    session = db()
    knowledge = knowledge_service.get_file_holder(session, knowledge_id, current_user(), "read")
    archive = tempfile.SpooledTemporaryFile(max_size=EXPORT_MEMORY_BYTES)
    knowledge_service.export_zip(session, knowledge, archive)
    archive.seek(0)
    response = send_file(archive, mimetype="application/zip")
    response.headers["Content-Disposition"] = "attachment; filename*=UTF-8''" + quote(
        knowledge_service.export_filename(knowledge), safe="")
    return response


class DirectoryBody(Body):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    parent_id = fields.String(load_default=None, allow_none=True)


class DirectoryUpdateBody(Body):
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=255))
    parent_id = fields.String(load_default=knowledge_dirs.UNSET, allow_none=True)


class DirectoryDeleteQuery(Body):
    move_files = fields.Boolean(load_default=True)


class ManifestEntry(Body):
    filename = fields.String(required=True, validate=validate.Length(min=1))
    path = fields.String(required=True)
    checksum = fields.String(required=True)
    size = fields.Integer(required=True)


class SyncDiffBody(Body):
    manifest = fields.List(fields.Nested(ManifestEntry), required=True)


class SyncCleanupBody(Body):
    file_ids = fields.List(fields.String(), required=True)
    dir_ids = fields.List(fields.String(), load_default=list)


def _writable(knowledge_id: str) -> Knowledge:
    return knowledge_service.get_file_holder(db(), knowledge_id, current_user())


@blp.route("/<knowledge_id>/dirs/create", methods=["POST"])
@user_required
@blp.arguments(DirectoryBody)
def create_directory(body: dict, knowledge_id: str):
    """A directory at the root or under ``parent_id``; a name already used at that level is 400."""
    directory = knowledge_dirs.create(db(), current_user(), _writable(knowledge_id), body["name"], body["parent_id"])
    return jsonify(directory_json(directory))


@blp.route("/<knowledge_id>/dirs/<dir_id>/update", methods=["POST"])
@user_required
@blp.arguments(DirectoryUpdateBody)
def update_directory(body: dict, knowledge_id: str, dir_id: str):
    """Rename and/or move (``parent_id: null`` to the root; left out, it stays where it is)."""
    directory = knowledge_dirs.rename_or_move(db(), _writable(knowledge_id), dir_id, body["name"], body["parent_id"])
    return jsonify(directory_json(directory))


@blp.route("/<knowledge_id>/dirs/<dir_id>/delete", methods=["DELETE"])
@user_required
@blp.arguments(DirectoryDeleteQuery, location="query")
def delete_directory(args: dict, knowledge_id: str, dir_id: str):
    """``{status, file_ids}``: its files move up to its parent (``move_files=false``: they are taken out)."""
    removed = knowledge_dirs.remove(db(), current_user(), _writable(knowledge_id), dir_id, args["move_files"])
    return jsonify({"status": True, "file_ids": removed})


@blp.route("/<knowledge_id>/file/move", methods=["POST"])
@user_required
@blp.arguments(FileIdBody)
def move_file(body: dict, knowledge_id: str):
    knowledge_dirs.move_file(db(), _writable(knowledge_id), body["file_id"], body["directory_id"])
    return jsonify({"status": True})


@blp.route("/<knowledge_id>/sync/diff", methods=["POST"])
@user_required
@blp.arguments(SyncDiffBody)
def sync_diff(body: dict, knowledge_id: str):
    """What a folder sync must upload, replace and delete, and which directories to create or remove."""
    return jsonify(knowledge_dirs.sync_diff(db(), _writable(knowledge_id), body["manifest"]))


@blp.route("/<knowledge_id>/sync/cleanup", methods=["POST"])
@user_required
@blp.arguments(SyncCleanupBody)
def sync_cleanup(body: dict, knowledge_id: str):
    """Remove what the diff listed as deleted (files and orphaned directories)."""
    knowledge_dirs.sync_cleanup(db(), current_user(), _writable(knowledge_id), body["file_ids"], body["dir_ids"])
    return jsonify({"status": True})
