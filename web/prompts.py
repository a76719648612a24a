"""``/api/v1/prompts``: saved prompts the chat box inserts by their ``/command``, with access grants, tags and
versions."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields, validate

from shared.models import Prompt, User
from shared.services import access, prompts, versions
from web.blueprint import Blueprint
from web.caller import current_user, user_required
from web.db import db
from web.schemas import Body, GrantSchema, owner_json

blp = Blueprint("prompts", __name__, url_prefix="/api/v1/prompts", description="Prompts")

COMMAND = fields.String(required=True, validate=validate.Length(min=1))


class PromptForm(Body):
    """Open WebUI's ``PromptForm`` (``version_id`` is accepted and ignored, as there)."""

    command = COMMAND
    name = fields.String(required=True)
    content = fields.String(required=True)
    data = fields.Dict(load_default=None, allow_none=True)
    meta = fields.Dict(load_default=None, allow_none=True)
    tags = fields.List(fields.String(), load_default=None, allow_none=True)
    access_grants = fields.List(fields.Nested(GrantSchema), load_default=None, allow_none=True)
    commit_message = fields.String(load_default=None, allow_none=True)
    is_production = fields.Boolean(load_default=True, allow_none=True)


class PromptMetadataForm(Body):
    name = fields.String(required=True)
    command = COMMAND
    tags = fields.List(fields.String(), load_default=None, allow_none=True)


class PromptVersionUpdateForm(Body):
    version_id = fields.String(required=True)


class PromptAccessGrantsForm(Body):
    access_grants = fields.List(fields.Nested(GrantSchema), required=True)


class PromptListQuery(Body):
    query = fields.String(load_default=None)
    view_option = fields.String(load_default=None)
    tag = fields.String(load_default=None)
    order_by = fields.String(load_default=None)
    direction = fields.String(load_default=None)
    page = fields.Integer(load_default=1)


class PromptHistoryQuery(Body):
    page = fields.Integer(load_default=0)


class PromptDiffQuery(Body):
    from_id = fields.String(required=True)
    to_id = fields.String(required=True)


def prompt_json(prompt: Prompt) -> dict:
    """Open WebUI's ``PromptModel``."""
    return {"id": prompt.id, "command": prompt.command, "user_id": prompt.user_id, "name": prompt.name,
            "content": prompt.content, "data": prompt.data, "meta": prompt.meta, "tags": prompt.tags or [],
            "is_active": prompt.is_active, "version_id": prompt.version_id, "created_at": prompt.created_at,
            "updated_at": prompt.updated_at, "access_grants": prompt.access_grants or []}


def _with_access(prompt: Prompt, owner: User | None = None) -> dict:
    """``PromptAccessResponse``: the prompt, its owner (in lists) and whether the caller may change it."""
    return {**prompt_json(prompt), "user": owner_json(owner),
            "write_access": access.can_access(prompt, current_user(), "write")}


@blp.route("/", methods=["GET"])
@user_required
def list_active():
    """The switched-on prompts the caller can read, with their owners (what the chat box offers)."""
    return jsonify([{**prompt_json(p), "user": owner_json(owner)} for p, owner in prompts.active(db(), current_user())])


@blp.route("/tags", methods=["GET"])
@user_required
def tags():
    return jsonify(prompts.tags(db(), current_user()))


@blp.route("/list", methods=["GET"])
@user_required
@blp.arguments(PromptListQuery, location="query")
def list_prompts(args: dict):
    """``{items, total}``: the prompts the caller can read, 30 a page, with ``write_access``."""
    rows, total = prompts.search(db(), current_user(), **args)
    return jsonify(items=[_with_access(prompt, owner) for prompt, owner in rows], total=total)


@blp.route("/create", methods=["POST"])
@user_required
@blp.arguments(PromptForm)
def create(body: dict):
    return jsonify(prompt_json(prompts.create(db(), current_user(), body)))


@blp.route("/id/<prompt_id>", methods=["GET"])
@user_required
def get_prompt(prompt_id: str):
    return jsonify(_with_access(prompts.readable(db(), current_user(), prompt_id)))


@blp.route("/id/<prompt_id>/update", methods=["POST"])
@user_required
@blp.arguments(PromptForm)
def update(body: dict, prompt_id: str):
    """Change a prompt: a new version, put in use unless ``is_production`` is false."""
    return jsonify(prompt_json(prompts.update(db(), current_user(), prompt_id, body)))


@blp.route("/id/<prompt_id>/update/meta", methods=["POST"])
@user_required
@blp.arguments(PromptMetadataForm)
def update_meta(body: dict, prompt_id: str):
    """Name, command and tags, without a new version."""
    prompt = prompts.update_meta(db(), current_user(), prompt_id, body["name"], body["command"], body["tags"])
    return jsonify(prompt_json(prompt))


@blp.route("/id/<prompt_id>/update/version", methods=["POST"])
@user_required
@blp.arguments(PromptVersionUpdateForm)
def set_version(body: dict, prompt_id: str):
    """Put a saved version in use."""
    return jsonify(prompt_json(prompts.set_version(db(), current_user(), prompt_id, body["version_id"])))


@blp.route("/id/<prompt_id>/access/update", methods=["POST"])
@user_required
@blp.arguments(PromptAccessGrantsForm)
def update_access(body: dict, prompt_id: str):
    return jsonify(prompt_json(prompts.set_access(db(), current_user(), prompt_id, body["access_grants"])))


@blp.route("/id/<prompt_id>/toggle", methods=["POST"])
@user_required
def toggle(prompt_id: str):
    return jsonify(prompt_json(prompts.toggle(db(), current_user(), prompt_id)))


@blp.route("/id/<prompt_id>/delete", methods=["DELETE"])
@user_required
def delete(prompt_id: str):
    prompts.remove(db(), current_user(), prompt_id)
    return jsonify(True)


@blp.route("/id/<prompt_id>/history", methods=["GET"])
@user_required
@blp.arguments(PromptHistoryQuery, location="query")
def history(args: dict, prompt_id: str):
    """The prompt's versions, 20 a page from page 0, newest first, with their snapshots and authors."""
    entries = prompts.history(db(), current_user(), prompt_id, args["page"])
    return jsonify([versions.entry_json(entry, "prompt_id", author, snapshot=True) for entry, author in entries])


@blp.route("/id/<prompt_id>/history/diff", methods=["GET"])
@user_required
@blp.arguments(PromptDiffQuery, location="query")
def diff(args: dict, prompt_id: str):
    """Both versions' snapshots and a unified diff of their text."""
    return jsonify(prompts.diff(db(), current_user(), prompt_id, args["from_id"], args["to_id"]))


@blp.route("/id/<prompt_id>/history/<history_id>", methods=["GET"])
@user_required
def history_entry(prompt_id: str, history_id: str):
    entry = prompts.version(db(), current_user(), prompt_id, history_id)
    return jsonify(versions.entry_json(entry, "prompt_id", snapshot=True))


@blp.route("/id/<prompt_id>/history/<history_id>", methods=["DELETE"])
@user_required
def delete_history_entry(prompt_id: str, history_id: str):
    """Delete a version other than the one in use."""
    prompts.remove_version(db(), current_user(), prompt_id, history_id)
    return jsonify(True)
