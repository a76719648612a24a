"""``/api/v1/files``: upload (streamed to storage, then processed by jobs), list, read, download, delete."""
from __future__ import annotations

import json

from flask import Response, current_app, jsonify, request, stream_with_context
from flask.typing import ResponseReturnValue
from marshmallow import fields, validate

from shared.errors import BadRequest, NotFound
from shared.models import File
from shared.services import files
from shared.storage import get_storage, iter_bytes
from web.blueprint import Blueprint
from web.caller import admin_required, current_user, user_required
from web.db import db
from web.rate_limiting import limited
from web.schemas import Body

blp = Blueprint("files", __name__, url_prefix="/api/v1/files", description="Files")

MULTIPART_SLACK = 64 * 1024
"""Room for the multipart envelope around the file when judging Content-Length against the limit."""
STATUS_STREAM_SECONDS = 2 * 3600


class FileSchema(Body):
    """Open WebUI's ``FileModel``."""

    id = fields.String()
    user_id = fields.String()
    hash = fields.String(allow_none=True)
    filename = fields.String()
    path = fields.String(allow_none=True)
    data = fields.Dict(allow_none=True)
    meta = fields.Dict(allow_none=True)
    created_at = fields.Integer()
    updated_at = fields.Integer()


class UploadQuery(Body):
    process = fields.Boolean(load_default=True)
    process_in_background = fields.Boolean(load_default=True)


class ListQuery(Body):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    content = fields.Boolean(load_default=True)


class StatusQuery(Body):
    stream = fields.Boolean(load_default=False)


class ContentQuery(Body):
    attachment = fields.Boolean(load_default=False)


class SearchQuery(Body):
    """``GET /search``: ``filename`` is a glob (``*.txt``)."""

    filename = fields.String(required=True)
    content = fields.Boolean(load_default=True)
    skip = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class UserSearchQuery(SearchQuery):
    """``GET /user/search``: the caller's own files, every one by default."""

    filename = fields.String(load_default="*")
    content = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=1000))


class RenameBody(Body):
    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))


class ContentBody(Body):
    content = fields.String(required=True)


_file_schema = FileSchema()


def file_json(file: File, content: bool = True) -> dict:
    data = _file_schema.dump(file)
    if not content and data.get("data"):
        data["data"] = {k: v for k, v in data["data"].items() if k != "content"}
    return data


def _metadata() -> dict:
    raw = request.form.get("metadata")
    if not raw:
        return {}
    try:
        parsed = current_app.json.loads(raw)  # the input guard's checks (depth, 64-bit numbers) apply here too
    except ValueError:
        raise BadRequest("Invalid metadata format") from None
    if not isinstance(parsed, dict):
        raise BadRequest("Invalid metadata format")
    return parsed


@blp.route("/", methods=["POST"])
@limited("uploads")
@user_required
@blp.arguments(UploadQuery, location="query")
def upload_file(args: dict):
    """Upload one file (multipart field ``file``); it is processed by a job unless ``process=false``.

    Answers 413 at once when the declared size exceeds ``FILE_MAX_SIZE``, and stops reading the body
    as soon as it does when the size is not declared.
    """
    session = db()
    limit = files.max_upload_bytes(session)
    if limit is not None and request.content_length is not None and request.content_length > limit + MULTIPART_SLACK:
        raise files.FileTooLarge(files.too_large_message(session))
    request.max_content_length = None if limit is None else limit + MULTIPART_SLACK  # not the app's JSON limit
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadRequest("Invalid request: file: Missing data for required field.")
    file = files.upload(session, current_user(), upload.stream, upload.filename, upload.mimetype, _metadata(),
                        process=args["process"])
    return jsonify({"status": True, **file_json(file)} if args["process"] else file_json(file))


@blp.route("/", methods=["GET"])
@user_required
@blp.arguments(ListQuery, location="query")
def list_files(args: dict):
    """``{items, total}``: the caller's files, 50 a page (an admin sees all)."""
    items, total = files.list_files(db(), current_user(), args["page"])
    return jsonify({"items": [file_json(f, args["content"]) for f in items], "total": total})


@blp.route("/all", methods=["DELETE"])
@admin_required
def delete_all_files():
    files.delete_all_files(db())
    return jsonify({"message": "All files deleted successfully"})


@blp.route("/<file_id>", methods=["GET"])
@user_required
def get_file(file_id: str):
    return jsonify(file_json(files.get_file(db(), file_id, current_user())))


@blp.route("/<file_id>/process/status", methods=["GET"])
@user_required
@blp.arguments(StatusQuery, location="query")
def process_status(args: dict, file_id: str):
    """``{status}``; with ``stream=true`` server-sent ``data: {status[, error]}`` events until it ends."""
    file = files.get_file(db(), file_id, current_user())
    if not args["stream"]:
        return jsonify({"status": files.status(file)})
    body = (f"data: {json.dumps(event)}\n\n" for event in files.follow_status(file.id, STATUS_STREAM_SECONDS))
    return Response(stream_with_context(body), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@blp.route("/<file_id>/data/content", methods=["GET"])
@user_required
def data_content(file_id: str):
    file = files.get_file(db(), file_id, current_user())
    return jsonify({"content": (file.data or {}).get("content", "")})


@blp.route("/<file_id>/data/content/update", methods=["POST"])
@user_required
@blp.arguments(ContentBody)
def update_data_content(body: dict, file_id: str):
    """Replace the extracted text; the file is re-indexed (everywhere it is used) by a job."""
    session, user = db(), current_user()
    file = files.set_content(session, user, file_id, body["content"])
    files.start_processing(session, file, user.id, use_content=True)
    return jsonify({"content": file.data.get("content", "")})


@blp.route("/search", methods=["GET"])
@user_required
@blp.arguments(SearchQuery, location="query")
def search_files(args: dict):
    """Files whose name matches the glob, newest first (an admin's search covers everyone's); 404 when none."""
    found = files.search_files(db(), current_user(), args["filename"], own_only=False, skip=args["skip"],
                               limit=args["limit"])
    if not found:
        raise NotFound("No files found matching the pattern.")
    return jsonify([file_json(f, args["content"]) for f in found])


@blp.route("/user/search", methods=["GET"])
@user_required
@blp.arguments(UserSearchQuery, location="query")
def search_own_files(args: dict):
    """The caller's own files whose name matches the glob (the chat input's file picker); ``[]`` when none."""
    found = files.search_files(db(), current_user(), args["filename"], own_only=True, skip=args["skip"],
                               limit=args["limit"])
    return jsonify([file_json(f, args["content"]) for f in found])


@blp.route("/count", methods=["GET"])
@user_required
def count_files():
    """How many files the caller has (an admin: everyone's)."""
    return jsonify(files.count_files(db(), current_user()))


@blp.route("/user/count", methods=["GET"])
@user_required
def count_own_files():
    return jsonify(files.count_files(db(), current_user(), own_only=True))


@blp.route("/<file_id>/rename", methods=["POST"])
@user_required
@blp.arguments(RenameBody)
def rename_file(body: dict, file_id: str):
    return jsonify(file_json(files.rename(db(), current_user(), file_id, body["filename"])))


def _original(file: File, content_type: str, headers: dict[str, str]) -> ResponseReturnValue:
    """The stored bytes of ``file`` (404 when they are gone)."""
    storage = get_storage()
    if not file.path or not storage.exists(file.path):
        return jsonify(detail="Original file is unavailable."), 404
    size = (file.meta or {}).get("size")
    if size is not None:
        headers["Content-Length"] = str(size)
    return Response(iter_bytes(storage, file.path), mimetype=content_type, headers=headers)


@blp.route("/<file_id>/content", methods=["GET"])
@user_required
@blp.arguments(ContentQuery, location="query")
def file_content(args: dict, file_id: str):
    """The original bytes: ``nosniff``, inline only for plain text, PDF and images, never as HTML."""
    file = files.get_file(db(), file_id, current_user())
    return _original(file, *files.response_headers(file, args["attachment"]))


@blp.route("/<file_id>/content/<path:file_name>", methods=["GET"])
@user_required
def named_file_content(file_id: str, file_name: str):
    """The original bytes as a download (the name in the path is the web app's, not used)."""
    file = files.get_file(db(), file_id, current_user())
    return _original(file, *files.response_headers(file, attachment=True))


@blp.route("/<file_id>/content/html", methods=["GET"])
@user_required
def html_content(file_id: str):
    """An admin's HTML file as a page, in a sandbox: no script runs and the page has no origin of its own."""
    file = files.admin_html_page(db(), file_id, current_user())
    return _original(file, "text/html", {"X-Content-Type-Options": "nosniff",
                                         "Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; "
                                                                    "style-src 'unsafe-inline'"})


@blp.route("/<file_id>", methods=["DELETE"])
@user_required
def delete_file(file_id: str):
    files.delete_file(db(), current_user(), file_id)
    return jsonify({"message": "File deleted successfully"})

