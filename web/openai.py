"""``/openai/...`` (and ``/openai/v1/...``): Open WebUI's OpenAI proxy. Every upstream call is a job;
streams are relayed as OpenAI SSE chunks ending ``data: [DONE]``; errors use OpenAI's
``{"error": {...}}`` body."""
from __future__ import annotations

from flask import jsonify, request
from flask_limiter import RateLimitExceeded

from shared import messages
from shared.errors import ServiceError, Unauthorized
from shared.services.llm import connections, gateway
from web.blueprint import Blueprint
from web.caller import current_user, user_required
from web.connection_routes import add_connection_routes
from web.db import db
from web.llm_schemas import ChatCompletionBody, EmbeddingsBody, OpenAIConfigBody
from web.rate_limiting import limited
from web.streaming import wire

blp = Blueprint("openai", __name__, url_prefix="/openai", description="OpenAI proxy (jobs on the llm queue)")


ADMIN_PATHS = ("/openai/config", "/openai/verify")
"""Open WebUI's own admin routes answer ``{"detail"}`` (the web app shows it); the API proxy routes
answer OpenAI's error body."""


@blp.errorhandler(ServiceError)
def _openai_error(error: ServiceError):
    return wire.error_body(error.status, error.detail, openai_style=not request.path.startswith(ADMIN_PATHS))


@blp.errorhandler(RateLimitExceeded)
def _rate_limited(error: RateLimitExceeded):
    """A rate limit in OpenAI's body too (its headers are added to any answer of the route)."""
    return wire.error_body(429, error.description, openai_style=True)


def _routes(rule: str, methods: list[str], with_idx: bool = False):
    """Register a view at ``rule`` and its ``/v1`` alias (and ``/<url_idx>`` variants)."""
    def register(view):
        for prefix in ("", "/v1"):
            blp.route(f"{prefix}{rule}", methods=methods, endpoint=f"{view.__name__}{prefix.replace('/', '_')}")(view)
            if with_idx:
                blp.route(f"{prefix}{rule}/<int:url_idx>", methods=methods,
                          endpoint=f"{view.__name__}{prefix.replace('/', '_')}_idx")(view)
        return view

    return register


add_connection_routes(blp, "openai", OpenAIConfigBody, connections.openai_config,
                      lambda session, form: connections.update_openai_config(
                          session, form["ENABLE_OPENAI_API"], form["OPENAI_API_BASE_URLS"], form["OPENAI_API_KEYS"],
                          form["OPENAI_API_CONFIGS"]))


@_routes("/models", ["GET"], with_idx=True)
@user_required
def models(url_idx: int | None = None):
    """The OpenAI models (from the registry), or one connection's own ``/models`` (admin)."""
    user = current_user()
    gateway.require_enabled(db(), "openai")
    if url_idx is None:
        data = gateway.upstream_models(db(), user, "openai")
        return jsonify(object="list", data=data)
    if user.role != "admin":
        raise Unauthorized(messages.ACCESS_PROHIBITED)
    job = gateway.enqueue_proxy(db(), user, connections.connection(db(), "openai", url_idx), "GET", "/models")
    return wire.result(job, openai_style=True)


def _model_call(path: str, body: dict, streamed: bool):
    user = current_user()
    conn, upstream_model = gateway.openai_connection(db(), user, body.get("model"))
    job = gateway.enqueue_proxy(db(), user, conn, "POST", path, {**body, "model": upstream_model},
                                    stream=streamed)
    if streamed:
        return wire.stream(job, wire.SSE, openai_style=True)
    return wire.result(job, openai_style=True)


@_routes("/chat/completions", ["POST"])
@limited("completions")
@user_required
@blp.arguments(ChatCompletionBody)
def chat_completions(body: dict):
    """A chat completion on the connection serving the model, passed through as OpenAI answers it."""
    return _model_call("/chat/completions", body, bool(body.get("stream")))


@_routes("/embeddings", ["POST"])
@limited("embeddings")
@user_required
@blp.arguments(EmbeddingsBody)
def embeddings(body: dict):
    """Embeddings from the connection serving the model."""
    return _model_call("/embeddings", body, False)
