"""``/api/v1/knowledge/external``: vector stores the admin connects (Qdrant, Milvus, pgvector) and knowledge
bases that read one of their collections. Admin only, as Open WebUI. Anything that reaches a store (a
connection test, a source test, creating a source that must answer a test query) is a job the route waits for."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields, validate

from shared.models import Knowledge
from shared.services import external_knowledge as service
from web.blueprint import Blueprint
from web.caller import admin_required, current_user
from web.db import db
from web.knowledge import knowledge_json
from web.schemas import Body, GrantSchema
from web.streaming import wire

blp = Blueprint("external_knowledge", __name__, url_prefix="/api/v1/knowledge/external",
                description="External knowledge")

COUNT = fields.Integer(load_default=5, validate=validate.Range(min=1, max=100))


class ConnectionForm(Body):
    """Open WebUI's ``ExternalKnowledgeConnectionForm``."""

    name = fields.String(required=True)
    provider = fields.String(required=True)
    endpoint = fields.String(required=True)
    auth_config = fields.Dict(load_default=None, allow_none=True)
    config = fields.Dict(load_default=None, allow_none=True)
    capabilities = fields.Dict(load_default=None, allow_none=True)
    enabled = fields.Boolean(load_default=True)


class SourceForm(Body):
    type = fields.String(load_default="collection")
    name = fields.String(required=True)
    config = fields.Dict(load_default=None, allow_none=True)


class SourceTestForm(Body):
    connection_id = fields.String(load_default=None, allow_none=True)
    connection = fields.Nested(ConnectionForm, required=True)
    source = fields.Nested(SourceForm, required=True)
    query = fields.String(required=True)
    count = COUNT


class RetrieveTestForm(Body):
    query = fields.String(required=True)
    source = fields.Nested(SourceForm, load_default=None, allow_none=True)
    count = COUNT


class KnowledgeCreateForm(Body):
    name = fields.String(required=True)
    description = fields.String(load_default="")
    connection_id = fields.String(required=True)
    source = fields.Nested(SourceForm, required=True)
    access_grants = fields.List(fields.Nested(GrantSchema), load_default=None, allow_none=True)


class SourceSaveForm(Body):
    """``ExternalKnowledgeSourceCreateForm`` (and its update form)."""

    name = fields.String(required=True)
    description = fields.String(load_default="")
    connection = fields.Nested(ConnectionForm, required=True)
    source = fields.Nested(SourceForm, required=True)
    access_grants = fields.List(fields.Nested(GrantSchema), load_default=None, allow_none=True)
    test_query = fields.String(required=True)
    test_count = COUNT


def _saved_base(result: dict) -> dict:
    return knowledge_json(db().get(Knowledge, result["id"]))


@blp.route("/connections", methods=["GET"])
@admin_required
def list_connections():
    """``{items, total}``: the connections, without their secrets."""
    return jsonify(service.list_connections(db()))


@blp.route("/connections", methods=["POST"])
@admin_required
@blp.arguments(ConnectionForm)
def create_connection(body: dict):
    return jsonify(service.create_connection(db(), current_user(), body))


@blp.route("/connections/<connection_id>", methods=["GET"])
@admin_required
def get_connection(connection_id: str):
    return jsonify(service.get_connection(db(), connection_id))


@blp.route("/connections/<connection_id>", methods=["PATCH"])
@admin_required
@blp.arguments(ConnectionForm)
def update_connection(body: dict, connection_id: str):
    """Change a connection; without ``auth_config`` (or with the masked DSN) its secrets stay."""
    return jsonify(service.update_connection(db(), connection_id, body))


@blp.route("/connections/<connection_id>", methods=["DELETE"])
@admin_required
def delete_connection(connection_id: str):
    """``true``; 400 while a knowledge base reads from it."""
    return jsonify(service.delete_connection(db(), connection_id))


@blp.route("/connections/<connection_id>/test", methods=["POST"])
@admin_required
def test_connection(connection_id: str):
    """The store reached by a job: ``{ok, provider, checked_at}`` (and ``error`` when it could not be)."""
    return wire.result(service.start_connection_test(db(), current_user(), connection_id))


@blp.route("/source/test", methods=["POST"])
@admin_required
@blp.arguments(SourceTestForm)
def test_source(body: dict):
    """``{documents, metadatas, distances}`` of a test query against a source being set up."""
    return wire.result(service.start_source_test(db(), current_user(), body))


@blp.route("/connections/<connection_id>/retrieve-test", methods=["POST"])
@admin_required
@blp.arguments(RetrieveTestForm)
def retrieve_test(body: dict, connection_id: str):
    """``{documents, metadatas, distances}`` of a test query against a stored connection."""
    return wire.result(service.start_retrieve_test(db(), current_user(), connection_id, body))


@blp.route("/knowledge/create", methods=["POST"])
@admin_required
@blp.arguments(KnowledgeCreateForm)
def create_knowledge(body: dict):
    """A knowledge base reading a collection of a stored connection."""
    return jsonify(knowledge_json(service.create_knowledge(db(), current_user(), body)))


@blp.route("/source/create", methods=["POST"])
@admin_required
@blp.arguments(SourceSaveForm)
def create_source(body: dict):
    """A new connection and its knowledge base, kept once the test query finds something (400 when not)."""
    return wire.result(service.start_source_create(db(), current_user(), body), render=_saved_base)


@blp.route("/source/<knowledge_id>", methods=["PATCH"])
@admin_required
@blp.arguments(SourceSaveForm)
def update_source(body: dict, knowledge_id: str):
    """An external knowledge base's connection, source and settings changed, once the test query finds
    something."""
    return wire.result(service.start_source_update(db(), current_user(), knowledge_id, body), render=_saved_base)
