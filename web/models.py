"""``/api/v1/models``: custom models (presets over an upstream model) and the admin's settings for upstream
models, with their access grants and versions. The ids travel in the query (``?id=``), as in Open WebUI, so
that an id may hold a ``/``."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields, validate

from shared.models import WorkspaceModel
from shared.services import access, custom_models, profile_images, versions
from shared.services.llm import gateway
from web.blueprint import Blueprint
from web.caller import admin_required, current_user, user_required
from web.db import db
from web.profile_images import answer
from web.schemas import Body, GrantSchema, owner_json

blp = Blueprint("models", __name__, url_prefix="/api/v1/models", description="Custom models")

NO_SPACE = validate.Regexp(r"^\S+$", error="The id may not contain spaces.")


class ModelForm(Body):
    """Open WebUI's ``ModelForm``."""

    id = fields.String(required=True, validate=NO_SPACE)
    base_model_id = fields.String(allow_none=True)
    name = fields.String(required=True)
    meta = fields.Dict(required=True)
    params = fields.Dict(required=True)
    access_grants = fields.List(fields.Nested(GrantSchema), load_default=None, allow_none=True)
    is_active = fields.Boolean(load_default=None, allow_none=True)
    commit_message = fields.String(load_default=None, allow_none=True)


class IdQuery(Body):
    id = fields.String(required=True, validate=validate.Length(min=1))


class PageIdQuery(IdQuery):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))


class ListQuery(Body):
    query = fields.String(load_default=None)
    view_option = fields.String(load_default=None)
    tag = fields.String(load_default=None)
    order_by = fields.String(load_default=None)
    direction = fields.String(load_default=None)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))


class TagQuery(Body):
    tag = fields.String(load_default=None)


class ExportQuery(Body):
    ids = fields.List(fields.String(), load_default=None)


class ModelsImportBody(Body):
    models = fields.List(fields.Dict(), required=True)


class ModelsSyncBody(Body):
    models = fields.List(fields.Nested(ModelForm), load_default=list)


class IdBody(Body):
    id = fields.String(required=True, validate=validate.Length(min=1))


class AccessBody(Body):
    id = fields.String(required=True, validate=NO_SPACE)
    name = fields.String(load_default=None, allow_none=True)
    access_grants = fields.List(fields.Nested(GrantSchema), required=True)


class VersionBody(Body):
    version_id = fields.String(required=True)


def model_json(model: WorkspaceModel) -> dict:
    """Open WebUI's ``ModelModel``."""
    return {"id": model.id, "user_id": model.user_id, "base_model_id": model.base_model_id, "name": model.name,
            "params": model.params or {}, "meta": model.meta or {}, "access_grants": model.access_grants or [],
            "version_id": model.version_id, "is_active": model.is_active, "created_at": model.created_at,
            "updated_at": model.updated_at}


def _with_access(model: WorkspaceModel, owner=None) -> dict:
    """``ModelAccessResponse``: a read-only caller does not see the params (the system prompt stays private)."""
    write = access.can_access(model, current_user(), "write")
    return {**model_json(model), **({} if write else {"params": {}}), "write_access": write,
            **({"user": owner_json(owner)} if owner is not None else {})}


def _upstream_ids() -> list[str]:
    return [m["id"] for m in gateway.all_models(db())]


@blp.route("/list", methods=["GET"])
@user_required
@blp.arguments(ListQuery, location="query")
def list_models(args: dict):
    """``{items, total}``: the custom models the caller can read, 30 a page (pictures left out: the profile
    image route serves them)."""
    rows, total = custom_models.search(db(), current_user(), **args)
    items = []
    for model, owner in rows:
        item = _with_access(model, owner)
        item["meta"] = {k: v for k, v in item["meta"].items() if k != "profile_image_url"}
        items.append(item)
    return jsonify(items=items, total=total)


@blp.route("/all", methods=["GET"])
@admin_required
def all_models():
    return jsonify([model_json(m) for m in custom_models.all_models(db())])


@blp.route("/base", methods=["GET"])
@admin_required
@blp.arguments(TagQuery, location="query")
def base_models(args: dict):
    """The admin's settings for upstream models."""
    return jsonify([model_json(m) for m in custom_models.base_models(db(), args["tag"])])


@blp.route("/base/tags", methods=["GET"])
@admin_required
def base_tags():
    return jsonify(custom_models.tags(db(), current_user(), base=True))


@blp.route("/tags", methods=["GET"])
@user_required
def tags():
    return jsonify(custom_models.tags(db(), current_user()))


@blp.route("/create", methods=["POST"])
@user_required
@blp.arguments(ModelForm)
def create(body: dict):
    model = custom_models.create(db(), current_user(), body, _upstream_ids())
    return jsonify(model_json(model))


@blp.route("/export", methods=["GET"])
@user_required
@blp.arguments(ExportQuery, location="query")
def export(args: dict):
    return jsonify([model_json(m) for m in custom_models.export(db(), current_user(), args["ids"])])


@blp.route("/import", methods=["POST"])
@user_required
@blp.arguments(ModelsImportBody)
def import_models(body: dict):
    custom_models.import_models(db(), current_user(), body["models"], _upstream_ids())
    return jsonify(True)


@blp.route("/sync", methods=["POST"])
@admin_required
@blp.arguments(ModelsSyncBody)
def sync(body: dict):
    """Make the stored models exactly the ones sent."""
    written = custom_models.sync(db(), current_user(), body["models"])
    return jsonify([model_json(m) for m in written])


@blp.route("/model", methods=["GET"])
@user_required
@blp.arguments(IdQuery, location="query")
def get_model(args: dict):
    return jsonify(_with_access(custom_models.readable(db(), current_user(), args["id"])))


@blp.route("/model/history", methods=["GET"])
@user_required
@blp.arguments(PageIdQuery, location="query")
def history(args: dict):
    """The model's versions, newest first (those who may change it)."""
    model = custom_models.writable(db(), current_user(), args["id"])
    entries = versions.page(db(), custom_models.KIND, model.id, args["page"])
    return jsonify([versions.entry_json(entry, "model_id", author) for entry, author in entries])


@blp.route("/model/history/<history_id>", methods=["GET"])
@user_required
@blp.arguments(IdQuery, location="query")
def history_entry(args: dict, history_id: str):
    model = custom_models.writable(db(), current_user(), args["id"])
    entry, author = versions.get_with_author(db(), custom_models.KIND, model.id, history_id)
    return jsonify(versions.entry_json(entry, "model_id", author, snapshot=True))


@blp.route("/model/history/<history_id>", methods=["DELETE"])
@user_required
@blp.arguments(IdQuery, location="query")
def delete_history_entry(args: dict, history_id: str):
    model = custom_models.writable(db(), current_user(), args["id"])
    versions.remove(db(), custom_models.KIND, model, history_id)
    return jsonify(True)


@blp.route("/model/update/version", methods=["POST"])
@user_required
@blp.arguments(IdQuery, location="query")
@blp.arguments(VersionBody)
def set_version(args: dict, body: dict):
    """Put a saved version back in use."""
    return jsonify(model_json(custom_models.set_version(db(), current_user(), args["id"], body["version_id"])))


@blp.route("/model/profile/image", methods=["GET"])
@user_required
@blp.arguments(IdQuery, location="query")
def profile_image(args: dict):
    """The model's picture, else the default icon (also for a model the caller may not see: ids stay
    unprobeable)."""
    return answer(profile_images.model_image(db(), current_user(), args["id"]))


@blp.route("/model/toggle", methods=["POST"])
@user_required
@blp.arguments(IdQuery, location="query")
def toggle(args: dict):
    return jsonify(model_json(custom_models.toggle(db(), current_user(), args["id"])))


@blp.route("/model/update", methods=["POST"])
@user_required
@blp.arguments(ModelForm)
def update(body: dict):
    """Change a model; a base model left out of the form stays."""
    return jsonify(model_json(custom_models.update(db(), current_user(), body)))


@blp.route("/model/access/update", methods=["POST"])
@user_required
@blp.arguments(AccessBody)
def update_access(body: dict):
    model = custom_models.set_access(db(), current_user(), body["id"], body["name"], body["access_grants"])
    return jsonify(model_json(model))


@blp.route("/model/delete", methods=["POST"])
@user_required
@blp.arguments(IdBody)
def delete(body: dict):
    custom_models.remove(db(), current_user(), body["id"])
    return jsonify(True)


@blp.route("/delete/all", methods=["DELETE"])
@admin_required
def delete_all():
    custom_models.remove_all(db())
    return jsonify(True)
