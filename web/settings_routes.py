"""Routes for a stored section of admin settings (``shared.services.config_sections``): ``GET`` answers it by its
API field names, ``POST`` stores the fields sent (each optional, typed after its default) and answers it."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields

from shared.services import config_sections
from shared.services.config_sections import Section
from web.blueprint import Blueprint
from web.caller import admin_required
from web.db import db
from web.schemas import Body, settings_body


def section_body(section: Section, name: str) -> type[Body]:
    def typed(default: object) -> fields.Field | None:
        if isinstance(default, bool):
            return fields.Boolean()
        if isinstance(default, int):
            return fields.Integer(allow_none=True)
        if isinstance(default, list):
            return fields.List(fields.String(), allow_none=True)
        return None

    types = {field: typed(default) for field, (_key, default) in section.fields.items()}
    return settings_body(section.fields, name, {field: kind for field, kind in types.items() if kind is not None})


def section_routes(blp: Blueprint, path: str, section: Section, form_name: str) -> None:
    """Admin-only ``GET`` and ``POST`` of ``section`` at ``<blueprint prefix>/<path>``."""
    endpoint = path.replace("/", "_")
    form = section_body(section, form_name)

    @blp.route(f"/{path}", methods=["GET"], endpoint=f"get_{endpoint}")
    @admin_required
    def read():
        return jsonify(config_sections.read(db(), section))

    @blp.route(f"/{path}", methods=["POST"], endpoint=f"set_{endpoint}")
    @admin_required
    @blp.arguments(form)
    def update(body: dict):
        return jsonify(config_sections.update(db(), section, body))
