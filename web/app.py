"""The Flask application factory: a thin API that reads the database and Redis and enqueues jobs."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask
from flask_jwt_extended import JWTManager
from flask_smorest import Api

from shared.config import VERSION, Settings, get_settings
from shared.jobs import enqueue
from web import (
    audio, auths, banners, chats, db, empty_areas, evaluations, files, folders, gateway, images, jobs, knowledge,
    memories, ollama, openai, profile_images, retrieval, system, task_config, tasks, usage, users, webui,
)
from web import input_guards
from web.errors import handle_http_exception, register_error_handlers
from web.streaming import responses

BLUEPRINTS = (
    system.blp, auths.blp, users.blp, profile_images.blp,                       # foundation
    jobs.blp, tasks.blp,                                                          # job platform
    gateway.blp, ollama.blp, openai.blp, task_config.blp, usage.blp,             # LLM gateway
    chats.blp, folders.blp,                                                       # chats
    files.blp, retrieval.blp, knowledge.blp, memories.blp,                        # documents
    images.blp, audio.blp,                                                        # media
    evaluations.blp,                                                              # evaluations
    banners.blp, *empty_areas.BLUEPRINTS, webui.blp,                              # the web app
)


class SwitchyardApi(Api):
    """flask-smorest's Api, with Open WebUI's ``{"detail": ...}`` error body."""

    def handle_http_exception(self, error):
        return handle_http_exception(error)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = Flask(__name__, static_folder=None)
    # No SECRET_KEY: the API keeps no cookie session (callers present JWTs or API keys), and without one
    # Flask skips building a session signer for every request (30 of 105 us of a bare request here).
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        JSON_SORT_KEYS=False,
        JWT_SECRET_KEY=settings.secret_key,
        JWT_ALGORITHM="HS256",
        JWT_DECODE_ALGORITHMS=["HS256"],
        JWT_IDENTITY_CLAIM="id",
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(weeks=4),
        API_TITLE="Switchyard",
        API_VERSION=VERSION,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
        API_SPEC_OPTIONS={
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )
    input_guards.install(app)
    app.json.sort_keys = False
    app.url_map.strict_slashes = False
    JWTManager(app)
    db.init_app(app)
    api = SwitchyardApi(app)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    register_error_handlers(app)
    enqueue.observe_sends(responses.expect_follower)
    return app
