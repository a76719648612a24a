"""Health, readiness, version and the client configuration."""
from __future__ import annotations

from flask import jsonify
from sqlalchemy import text

from shared.config import VERSION
from shared.errors import ServiceError
from shared.redis_client import get_redis
from shared.services.client_config import client_config
from web.blueprint import Blueprint
from web.caller import optional_user, user_required
from web.db import db

blp = Blueprint("system", __name__, description="Health, version and client configuration")


@blp.route("/health", methods=["GET"])
def health():
    """The process is up."""
    return jsonify(status=True)


@blp.route("/health/db", methods=["GET"])
def health_db():
    """The database answers."""
    db().execute(text("SELECT 1"))
    return jsonify(status=True)


@blp.route("/ready", methods=["GET"])
def ready():
    """Ready for traffic: the database and Redis both answer (503 otherwise)."""
    db().execute(text("SELECT 1"))
    get_redis().ping()
    return jsonify(status=True)


@blp.route("/api/version", methods=["GET"])
def version():
    return jsonify(version=VERSION, deployment_id=None)


@blp.route("/api/version/updates", methods=["GET"])
@user_required
def version_updates():
    """Update checks reach no outside service: the current version is the latest known."""
    return jsonify(current=VERSION, latest=VERSION)


@blp.route("/api/changelog", methods=["GET"])
def changelog():
    return jsonify({})


@blp.route("/api/config", methods=["GET"])
def config():
    """Open WebUI's client configuration; a stale or revoked credential reads as signed out."""
    try:
        user = optional_user()
    except ServiceError:
        user = None
    return jsonify(client_config(db(), user))


@blp.route("/manifest.json", methods=["GET"])
def manifest():
    return jsonify(
        name="Open WebUI", short_name="Open WebUI", description="Open WebUI on Switchyard",
        start_url="/", display="standalone", background_color="#343541",
        icons=[{"src": "/static/logo.png", "type": "image/png", "sizes": "500x500", "purpose": "any"}],
    )
