"""The admin routes both LLM proxies (``/ollama`` and ``/openai``) share: read and replace their
connections, and verify a server before saving it (a job, as every upstream call)."""
from __future__ import annotations

from collections.abc import Callable

from flask import jsonify
from marshmallow import Schema
from sqlalchemy.orm import Session

from shared.services.llm import gateway
from web.blueprint import Blueprint
from web.caller import admin_required, current_user
from web.db import db
from web.llm_schemas import VerifyBody
from web.streaming import wire


def add_connection_routes(blp: Blueprint, provider: str, config_body: type[Schema],
                          read: Callable[[Session], dict], save: Callable[[Session, dict], dict]) -> None:
    """Register ``/config``, ``/config/update`` and ``/verify`` on ``blp`` for ``provider``'s connections."""

    @blp.route("/config", methods=["GET"])
    @admin_required
    def get_config():
        """The connections with their settings (admin)."""
        return jsonify(read(db()))

    @blp.route("/config/update", methods=["POST"])
    @admin_required
    @blp.arguments(config_body)
    def update_config(form: dict):
        """Replace the connections (admin); the model list is gathered again."""
        saved = save(db(), form)
        gateway.config_changed(db())
        return jsonify(saved)

    @blp.route("/verify", methods=["POST"])
    @admin_required
    @blp.arguments(VerifyBody)
    def verify(form: dict):
        """Check that a server answers (Ollama's ``/api/version``, OpenAI's ``/models``), before saving it."""
        job = gateway.enqueue_verify(db(), current_user(), provider, form["url"], form["key"], form["config"])
        return wire.result(job)
