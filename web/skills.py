"""``/api/v1/skills``: skills (a ``SKILL.md`` and the files beside it) with access grants, versions, file
reads and diffs, export, import and cloning; admins load skills from a URL (a job)."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response, jsonify, request
from marshmallow import RAISE, fields, validate

from shared.errors import BadRequest
from shared.models import Skill, User
from shared.services import access, skill_files, skills, versions
from web.blueprint import Blueprint
from web.caller import admin_required, current_user, user_required
from web.db import db
from web.files import MULTIPART_SLACK
from web.schemas import Body, GrantSchema, LoadUrlForm, owner_json
from web.streaming.responses import result_or_accepted

blp = Blueprint("skills", __name__, url_prefix="/api/v1/skills", description="Skills")

LOAD_WAIT = 90.0
"""Seconds ``load/url`` waits for its download job (its fetch gives up after 60)."""
FILE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox",
                "Cache-Control": "private, no-store"}
"""A skill's file is served as a download that never runs in the app's origin."""
BASE64 = validate.OneOf(["base64"])


class SkillFileSchema(Body):
    """Open WebUI's ``SkillFile`` (no other field)."""

    class Meta:
        unknown = RAISE

    path = fields.String(required=True)
    content = fields.String(required=True)
    encoding = fields.String(allow_none=True, validate=BASE64)


class SkillDataSchema(Body):
    class Meta:
        unknown = RAISE

    files = fields.List(fields.Nested(SkillFileSchema), required=True)


class SkillOperationSchema(Body):
    op = fields.String(required=True, validate=validate.OneOf(["put", "move", "delete"]))
    path = fields.String(required=True)
    content = fields.String(allow_none=True)
    encoding = fields.String(allow_none=True, validate=BASE64)
    destination = fields.String(allow_none=True)


class SkillMetaSchema(Body):
    i18n = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.String()),
                       allow_none=True)
    tags = fields.List(fields.String(), allow_none=True)


class SkillForm(Body):
    """Open WebUI's ``SkillForm``; a field left out of an update keeps its value."""

    id = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(allow_none=True)
    content = fields.String(allow_none=True)
    files = fields.List(fields.Nested(SkillFileSchema), allow_none=True)
    data = fields.Nested(SkillDataSchema, allow_none=True)
    operations = fields.List(fields.Nested(SkillOperationSchema), allow_none=True)
    expected_version_id = fields.String(allow_none=True)
    commit_message = fields.String(allow_none=True)
    meta = fields.Nested(SkillMetaSchema)
    is_active = fields.Boolean()
    access_grants = fields.List(fields.Nested(GrantSchema), allow_none=True)


class SkillAccessGrantsForm(Body):
    access_grants = fields.List(fields.Nested(GrantSchema), required=True)


class SkillVersionUpdateForm(Body):
    version_id = fields.String(required=True)
    expected_version_id = fields.String(required=True)


class CloneSkillForm(Body):
    id = fields.String(required=True)
    name = fields.String(required=True)
    version_id = fields.String(load_default=None, allow_none=True)


class SkillIndexQuery(Body):
    query = fields.String(load_default=None)


class SkillListQuery(Body):
    query = fields.String(load_default=None)
    view_option = fields.String(load_default=None)
    order_by = fields.String(load_default=None)
    direction = fields.String(load_default=None)
    page = fields.Integer(load_default=1)


class SkillExportQuery(Body):
    format = fields.String(load_default="json")
    ids = fields.List(fields.String(), load_default=None)
    version_id = fields.String(load_default=None)


class SkillFilesQuery(Body):
    version_id = fields.String(load_default=None)


class SkillFileQuery(Body):
    path = fields.String(required=True)
    version_id = fields.String(required=True)


class SkillHistoryQuery(Body):
    page = fields.Integer(load_default=1)


class SkillDiffQuery(Body):
    from_id = fields.String(required=True)
    to_id = fields.String(required=True)


class SkillFileDiffQuery(SkillDiffQuery):
    path = fields.String(required=True)


def skill_json(skill: Skill) -> dict:
    """Open WebUI's ``SkillModel``: the skill with its instructions and files."""
    return {**skill_summary(skill), "content": skill.content, "data": skill.data}


def skill_summary(skill: Skill) -> dict:
    """Open WebUI's ``SkillResponse``: the skill without its instructions and files."""
    return {"id": skill.id, "user_id": skill.user_id, "name": skill.name, "description": skill.description,
            "meta": skill.meta, "version_id": skill.version_id, "is_active": skill.is_active,
            "access_grants": skill.access_grants or [], "updated_at": skill.updated_at,
            "created_at": skill.created_at}


def _listed(skill: Skill, owner: User | None) -> dict:
    """``SkillAccessResponse``: the summary, its owner and whether the caller may change it."""
    return {**skill_summary(skill), "user": owner_json(owner),
            "write_access": access.can_access(skill, current_user(), "write")}


def _uploads() -> list[tuple[str, bytes]]:
    """The multipart ``files`` (names are relative paths for a picked folder), up to the import limit."""
    request.max_content_length = skill_files.MAX_IMPORT_BYTES + MULTIPART_SLACK  # not the app's JSON limit
    uploads = [(upload.filename or "", upload.read()) for upload in request.files.getlist("files")]
    if not uploads:
        raise BadRequest("Invalid request: files: Missing data for required field.")
    return uploads


def _download(data: bytes, media_type: str, filename: str, headers: dict | None = None) -> Response:
    disposition = "attachment; filename*=UTF-8''" + quote(filename, safe="")
    return Response(data, mimetype=media_type, headers={"Content-Disposition": disposition, **(headers or {})})


@blp.route("/", methods=["GET"])
@user_required
@blp.arguments(SkillIndexQuery, location="query")
def list_skills(args: dict):
    """The skills the caller can read, with their owners (``query`` narrows them by name)."""
    rows = skills.visible(db(), current_user(), args["query"])
    return jsonify([{**skill_summary(skill), "user": owner_json(owner)} for skill, owner in rows])


@blp.route("/list", methods=["GET"])
@user_required
@blp.arguments(SkillListQuery, location="query")
def list_page(args: dict):
    """``{items, total}``: the skills the caller can read, 30 a page, with ``write_access``."""
    rows, total = skills.search(db(), current_user(), **args)
    return jsonify(items=[_listed(skill, owner) for skill, owner in rows], total=total)


@blp.route("/export", methods=["GET"])
@user_required
@blp.arguments(SkillExportQuery, location="query")
def export(args: dict):
    """Packages as JSON, or a ZIP (``format=zip``, or ``skill`` for one skill); ``version_id`` for one
    skill's earlier version."""
    exported = skills.export(db(), current_user(), args["format"], args["ids"], args["version_id"])
    if isinstance(exported, tuple):
        return _download(exported[0], "application/zip", exported[1])
    return jsonify(exported)


@blp.route("/create", methods=["POST"])
@user_required
@blp.arguments(SkillForm)
def create(body: dict):
    return jsonify(skill_summary(skills.create(db(), current_user(), body)))


@blp.route("/id/<skill_id>", methods=["GET"])
@user_required
def get_skill(skill_id: str):
    """``SkillDetailResponse``: the summary, its instructions and ``write_access``."""
    skill = skills.readable(db(), current_user(), skill_id)
    return jsonify({**_listed(skill, None), "content": skill.content})


@blp.route("/id/<skill_id>/update", methods=["POST"])
@user_required
@blp.arguments(SkillForm)
def update(body: dict, skill_id: str):
    """Change a skill; its files need ``expected_version_id`` (409 when another change came first)."""
    return jsonify(skill_json(skills.update(db(), current_user(), skill_id, body)))


@blp.route("/id/<skill_id>/access/update", methods=["POST"])
@user_required
@blp.arguments(SkillAccessGrantsForm)
def update_access(body: dict, skill_id: str):
    return jsonify(skill_json(skills.set_access(db(), current_user(), skill_id, body["access_grants"])))


@blp.route("/id/<skill_id>/toggle", methods=["POST"])
@user_required
def toggle(skill_id: str):
    return jsonify(skill_json(skills.toggle(db(), current_user(), skill_id)))


@blp.route("/id/<skill_id>/delete", methods=["DELETE"])
@user_required
def delete(skill_id: str):
    skills.remove(db(), current_user(), skill_id)
    return jsonify(True)


@blp.route("/id/<skill_id>/files", methods=["GET"])
@user_required
@blp.arguments(SkillFilesQuery, location="query")
def list_files(args: dict, skill_id: str):
    """The paths, sizes and encodings of a version's files (the one in use without ``version_id``)."""
    version_id, listed = skills.file_summaries(db(), current_user(), skill_id, args["version_id"])
    return jsonify(version_id=version_id, files=listed)


@blp.route("/id/<skill_id>/files/content", methods=["GET"])
@user_required
@blp.arguments(SkillFileQuery, location="query")
def file_content(args: dict, skill_id: str):
    """One file of a version, as a download."""
    data, media_type, name = skills.file_content(db(), current_user(), skill_id, args["path"], args["version_id"])
    return _download(data, media_type, name, FILE_HEADERS)


@blp.route("/id/<skill_id>/history", methods=["GET"])
@user_required
@blp.arguments(SkillHistoryQuery, location="query")
def history(args: dict, skill_id: str):
    """The skill's versions, 20 a page from page 1, newest first, with their authors."""
    entries = skills.history(db(), current_user(), skill_id, args["page"])
    return jsonify([versions.entry_json(entry, "skill_id", author) for entry, author in entries])


@blp.route("/id/<skill_id>/history/diff", methods=["GET"])
@user_required
@blp.arguments(SkillDiffQuery, location="query")
def diff(args: dict, skill_id: str):
    """The metadata and files that differ between two versions."""
    return jsonify(skills.diff(db(), current_user(), skill_id, args["from_id"], args["to_id"]))


@blp.route("/id/<skill_id>/history/diff/file", methods=["GET"])
@user_required
@blp.arguments(SkillFileDiffQuery, location="query")
def file_diff(args: dict, skill_id: str):
    return jsonify(skills.file_diff(db(), current_user(), skill_id, args["from_id"], args["to_id"], args["path"]))


@blp.route("/id/<skill_id>/history/<history_id>", methods=["GET"])
@user_required
def history_entry(skill_id: str, history_id: str):
    """A version, its files summarised."""
    entry = skills.version(db(), current_user(), skill_id, history_id)
    return jsonify({**versions.entry_json(entry, "skill_id"), "snapshot": skill_files.summarized(entry.snapshot)})


@blp.route("/id/<skill_id>/history/<history_id>", methods=["DELETE"])
@user_required
def delete_history_entry(skill_id: str, history_id: str):
    """Delete a version other than the one in use."""
    skills.remove_version(db(), current_user(), skill_id, history_id)
    return jsonify(True)


@blp.route("/id/<skill_id>/update/version", methods=["POST"])
@user_required
@blp.arguments(SkillVersionUpdateForm)
def set_version(body: dict, skill_id: str):
    """Put a saved version in use, if the one in use is still ``expected_version_id`` (else 409)."""
    skill = skills.set_version(db(), current_user(), skill_id, body["version_id"], body["expected_version_id"])
    return jsonify(skill_json(skill))


@blp.route("/id/<skill_id>/clone", methods=["POST"])
@user_required
@blp.arguments(CloneSkillForm)
def clone(body: dict, skill_id: str):
    """A copy of a skill the caller can read, as theirs and unshared."""
    skill = skills.clone(db(), current_user(), skill_id, body["id"], body["name"], body["version_id"])
    return jsonify(skill_summary(skill))


@blp.route("/load/url", methods=["POST"])
@admin_required
@blp.arguments(LoadUrlForm)
def load_url(body: dict):
    """The skills at a URL (a file, a ZIP, a GitHub repository or folder), downloaded by a job; private and
    local addresses are refused."""
    return result_or_accepted(skills.start_load(db(), current_user(), body["url"]), LOAD_WAIT)


@blp.route("/import/preview", methods=["POST"])
@user_required
def preview_import():
    """What an import (multipart ``files``) would bring, skill by skill."""
    return jsonify(skills.preview_import(db(), current_user(), _uploads()))


@blp.route("/import", methods=["POST"])
@user_required
def import_skills():
    """Save the uploaded skills as the multipart ``decisions`` (JSON, one per skill) say."""
    uploads = _uploads()
    return jsonify(skills.import_skills(db(), current_user(), uploads, request.form.get("decisions")))
