"""``/api/v1/pipelines``: Open WebUI's admin routes for Pipelines servers (OpenAI connections whose ``/models``
says ``pipelines``). ``urlIdx`` (query, form or body, as Open WebUI takes it) names the connection; every call to
the server is a job whose answer (or ``{"detail"}`` error) is relayed as it ends."""
from __future__ import annotations

from flask import jsonify, request
from marshmallow import fields

from shared.errors import BadRequest
from shared.services.llm import pipelines
from web.blueprint import Blueprint
from web.caller import admin_required, current_user
from web.db import db
from web.schemas import Body, PassThrough
from web.streaming import wire

blp = Blueprint("pipelines", __name__, url_prefix="/api/v1/pipelines",
                description="Pipelines servers: their pipelines and valves (admin; every call a job)")


class PipelinesServerQuery(Body):
    urlIdx = fields.Integer(load_default=None, allow_none=True)


class PipelineUploadForm(Body):
    urlIdx = fields.Integer(required=True)


class PipelineAddBody(Body):
    url = fields.String(required=True)
    urlIdx = fields.Integer(required=True)


class PipelineDeleteBody(Body):
    id = fields.String(required=True)
    urlIdx = fields.Integer(required=True)


@blp.route("/list", methods=["GET"])
@admin_required
def servers():
    """The connections that are Pipelines servers: ``{data: [{url, idx}]}``."""
    return jsonify(data=pipelines.servers(db()))


@blp.route("/upload", methods=["POST"])
@admin_required
@blp.arguments(PipelineUploadForm, location="form")
def upload(form: dict):
    """A pipeline's Python file (multipart ``file``) added to the server."""
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest("Invalid request: file: Missing data for required field.")
    return wire.result(pipelines.upload(db(), current_user(), form["urlIdx"], upload.stream, upload.filename))


@blp.route("/add", methods=["POST"])
@admin_required
@blp.arguments(PipelineAddBody)
def add(body: dict):
    """A pipeline the server downloads from ``url``."""
    return wire.result(pipelines.add(db(), current_user(), body["urlIdx"], body["url"]))


@blp.route("/delete", methods=["DELETE"])
@admin_required
@blp.arguments(PipelineDeleteBody)
def delete(body: dict):
    return wire.result(pipelines.delete(db(), current_user(), body["urlIdx"], body["id"]))


@blp.route("/", methods=["GET"])
@admin_required
@blp.arguments(PipelinesServerQuery, location="query")
def pipelines_of(query: dict):
    """The server's pipelines: ``{data: [{id, name, type, valves}]}``."""
    return wire.result(pipelines.pipelines_of(db(), current_user(), query["urlIdx"]))


@blp.route("/<pipeline_id>/valves", methods=["GET"])
@admin_required
@blp.arguments(PipelinesServerQuery, location="query")
def valves(query: dict, pipeline_id: str):
    return wire.result(pipelines.valves(db(), current_user(), query["urlIdx"], pipeline_id))


@blp.route("/<pipeline_id>/valves/spec", methods=["GET"])
@admin_required
@blp.arguments(PipelinesServerQuery, location="query")
def valves_spec(query: dict, pipeline_id: str):
    """The JSON schema of the pipeline's valves."""
    return wire.result(pipelines.valves_spec(db(), current_user(), query["urlIdx"], pipeline_id))


@blp.route("/<pipeline_id>/valves/update", methods=["POST"])
@admin_required
@blp.arguments(PipelinesServerQuery, location="query")
@blp.arguments(PassThrough)
def update_valves(query: dict, values: dict, pipeline_id: str):
    """New valve values (the server checks them); the answer is the valves as saved."""
    return wire.result(pipelines.update_valves(db(), current_user(), query["urlIdx"], pipeline_id, values))
