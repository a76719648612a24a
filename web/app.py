"""The Flask application factory: a thin API that reads the database and Redis and enqueues jobs."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_jwt_extended import JWTManager
from flask_smorest import Api
from werkzeug.middleware.proxy_fix import ProxyFix

from shared import logs
from shared.config import VERSION, Settings, get_settings
from shared.jobs import enqueue
from web import (
    audio, auths, banners, chats, configs, db, empty_areas, evaluations, events, external_knowledge, files, folders,
    functions, gateway, groups, images, jobs, knowledge, memories, metrics, model_config, models, notes, oauth, ollama,
    openai, pipelines, profile_images, prompts, queue_dashboard, rate_limit_config, rate_limiting, retrieval, scim,
    skills, system, task_config, tasks, tool_servers, tools, usage, users, utils, webui,
)
from web import input_guards, request_ids
from web.errors import handle_http_exception, register_error_handlers
from web.streaming import responses

BLUEPRINTS = (
    system.blp, auths.blp, oauth.blp, users.blp, groups.blp, profile_images.blp, scim.blp,  # foundation
    jobs.blp, tasks.blp,                                                          # job platform
    gateway.blp, ollama.blp, openai.blp, pipelines.blp, task_config.blp, usage.blp,  # LLM gateway
    chats.blp, folders.blp,                                                       # chats
    files.blp, retrieval.blp, knowledge.blp, external_knowledge.blp, memories.blp,  # documents
    images.blp, audio.blp,                                                        # media
    models.blp, model_config.blp, tools.blp, tool_servers.blp, functions.blp, prompts.blp, skills.blp,  # workspace
    evaluations.blp,                                                              # evaluations
    notes.blp,                                                                    # notes
    configs.blp, banners.blp, *empty_areas.BLUEPRINTS, webui.blp,                 # admin settings, the web app
    utils.blp,                                                                    # utilities
    events.blp,                                                                   # event webhooks
    rate_limit_config.blp, metrics.blp, queue_dashboard.blp,                      # operations
)


class SwitchyardApi(Api):
    """flask-smorest's Api, with Open WebUI's ``{"detail": ...}`` error body."""

    def handle_http_exception(self, error):
        return handle_http_exception(error)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    logs.configure(settings.log_format)
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
    if settings.proxy_hops:  # the client's address, not the proxy's, for per-address limits
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops)
    request_ids.install(app)
    metrics.install(app)
    input_guards.install(app)
    app.json.sort_keys = False
    app.url_map.strict_slashes = False
    JWTManager(app)
    db.init_app(app)
    rate_limiting.init_app(app)
    api = SwitchyardApi(app)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    register_error_handlers(app)
    enqueue.observe_sends(responses.expect_follower)
    return app
