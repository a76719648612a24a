"""The version-history routes (and the restore form) tools and functions share (``/id/<id>/history``, ``/history/diff``,
``/history/<history_id>`` GET and DELETE), on the area's blueprint."""
from __future__ import annotations

from collections.abc import Callable

from flask import jsonify
from marshmallow import fields, validate

from shared.services import versions
from web.blueprint import Blueprint
from web.caller import user_required
from web.db import db
from web.schemas import Body


class HistoryQuery(Body):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))


class VersionForm(Body):
    """Which saved version to put back in use."""

    version_id = fields.String(required=True)


class DiffQuery(Body):
    from_id = fields.String(required=True)
    to_id = fields.String(required=True)


def add_history_routes(blp: Blueprint, kind: str, id_key: str, editable: Callable[[str], object],
                       guard: Callable = user_required) -> None:
    """``editable(object_id)`` is the object when the caller may see its history (else it raises)."""

    @blp.route("/id/<object_id>/history", methods=["GET"])
    @guard
    @blp.arguments(HistoryQuery, location="query")
    def history(args: dict, object_id: str):
        """The versions, newest first."""
        found = editable(object_id)
        return jsonify([versions.entry_json(entry, id_key, author)
                        for entry, author in versions.page(db(), kind, found.id, args["page"])])

    @blp.route("/id/<object_id>/history/diff", methods=["GET"])
    @guard
    @blp.arguments(DiffQuery, location="query")
    def history_diff(args: dict, object_id: str):
        return jsonify(versions.diff(db(), kind, editable(object_id).id, args["from_id"], args["to_id"]))

    @blp.route("/id/<object_id>/history/<history_id>", methods=["GET"])
    @guard
    def history_entry(object_id: str, history_id: str):
        entry, author = versions.get_with_author(db(), kind, editable(object_id).id, history_id)
        return jsonify(versions.entry_json(entry, id_key, author, snapshot=True))

    @blp.route("/id/<object_id>/history/<history_id>", methods=["DELETE"])
    @guard
    def delete_history_entry(object_id: str, history_id: str):
        versions.remove(db(), kind, editable(object_id), history_id)
        return jsonify(True)
