"""``/ollama/...``: Open WebUI's Ollama proxy. Every upstream call is a job; answers are relayed in
Ollama's own format (NDJSON streams). The optional ``/<url_idx>`` suffix picks a connection."""
from __future__ import annotations

from flask import jsonify

from shared import messages
from shared.errors import Unauthorized
from shared.services.llm import connections, gateway
from web.streaming import wire
from web.caller import admin_required, current_user, user_required
from web.blueprint import Blueprint
from web.connection_routes import add_connection_routes
from web.db import db
from web.llm_schemas import (
    ChatCompletionBody, EmbeddingsBody, ModelNameBody, OllamaChatBody, OllamaConfigBody, OllamaEmbedBody,
    OllamaEmbeddingsBody, OllamaGenerateBody,
)
from web.rate_limiting import limited
from web.schemas import StatusSchema

blp = Blueprint("ollama", __name__, url_prefix="/ollama", description="Ollama proxy (jobs on the llm queue)")


def _both(rule: str, methods: list[str]):
    """Register a view at ``rule`` and ``rule/<url_idx>``."""
    def register(view):
        blp.route(f"{rule}/<int:url_idx>", methods=methods, endpoint=f"{view.__name__}_idx")(view)
        return blp.route(rule, methods=methods)(view)

    return register


def _admin_only() -> None:
    """Naming a connection (``/<url_idx>``) is for admins (401, as Open WebUI answers)."""
    if current_user().role != "admin":
        raise Unauthorized(messages.ACCESS_PROHIBITED)


@blp.route("/", methods=["GET", "HEAD"])
@blp.response(200, StatusSchema)
def status():
    """Health check."""
    return {"status": True}


add_connection_routes(blp, "ollama", OllamaConfigBody, connections.ollama_config,
                      lambda session, form: connections.update_ollama_config(
                          session, form["ENABLE_OLLAMA_API"], form["OLLAMA_BASE_URLS"], form["OLLAMA_API_CONFIGS"]))


@blp.route("/urls", methods=["GET"])
@admin_required
def urls():
    return jsonify(OLLAMA_BASE_URLS=connections.ollama_config(db())["OLLAMA_BASE_URLS"])


@_both("/api/tags", ["GET"])
@user_required
def tags(url_idx: int | None = None):
    """The merged model list (from the registry), or one server's own ``/api/tags`` (admin)."""
    user = current_user()
    gateway.require_enabled(db(), "ollama")
    if url_idx is None:
        models = [m["ollama"] for m in gateway.upstream_models(db(), user, "ollama")]
        return jsonify(models=models)
    _admin_only()
    job = gateway.enqueue_proxy(db(), user, connections.connection(db(), "ollama", url_idx), "GET", "/api/tags")
    return wire.result(job)


@_both("/api/version", ["GET"])
@user_required
def version(url_idx: int | None = None):
    """The lowest version of all servers, or one server's (admin)."""
    user = current_user()
    if not connections.connections(db(), "ollama"):
        return jsonify(version=False)
    if url_idx is None:
        return wire.result(gateway.enqueue_ollama_overview(db(), user, "/api/version"))
    _admin_only()
    conn = connections.connection(db(), "ollama", url_idx)
    return wire.result(gateway.enqueue_proxy(db(), user, conn, "GET", "/api/version"))


@blp.route("/api/ps", methods=["GET"])
@admin_required
def ps():
    """The models loaded on every server."""
    if not connections.connections(db(), "ollama"):
        return jsonify(models=[])
    return wire.result(gateway.enqueue_ollama_overview(db(), current_user(), "/api/ps"))


@blp.route("/api/show", methods=["POST"])
@user_required
@blp.arguments(ModelNameBody)
def show(body: dict):
    """A model's details (modelfile, template, parameters)."""
    conn, body = gateway.ollama_target(db(), current_user(), body, None)
    return wire.result(gateway.enqueue_proxy(db(), current_user(), conn, "POST", "/api/show", body))


def _model_call(path: str, body: dict, url_idx: int | None):
    """A model-bound call: streamed as NDJSON unless the body says ``"stream": false``."""
    user = current_user()
    conn, body = gateway.ollama_target(db(), user, body, url_idx)
    streamed = body.get("stream", True) is not False and path in ("/api/chat", "/api/generate")
    job = gateway.enqueue_proxy(db(), user, conn, "POST", path, body, stream=streamed)
    return wire.stream(job, wire.NDJSON) if streamed else wire.result(job)


@_both("/api/chat", ["POST"])
@limited("completions")
@user_required
@blp.arguments(OllamaChatBody)
def chat(body: dict, url_idx: int | None = None):
    """Ollama's chat, NDJSON token by token (or one object with ``"stream": false``)."""
    return _model_call("/api/chat", body, url_idx)


@_both("/api/generate", ["POST"])
@limited("completions")
@user_required
@blp.arguments(OllamaGenerateBody)
def generate(body: dict, url_idx: int | None = None):
    """Ollama's completion of a prompt, NDJSON token by token (or one object)."""
    return _model_call("/api/generate", body, url_idx)


@_both("/api/embed", ["POST"])
@limited("embeddings")
@user_required
@blp.arguments(OllamaEmbedBody)
def embed(body: dict, url_idx: int | None = None):
    """Embeddings of one or several inputs."""
    return _model_call("/api/embed", body, url_idx)


@_both("/api/embeddings", ["POST"])
@limited("embeddings")
@user_required
@blp.arguments(OllamaEmbeddingsBody)
def embeddings(body: dict, url_idx: int | None = None):
    """The legacy single-prompt embedding."""
    return _model_call("/api/embeddings", body, url_idx)


@_both("/api/pull", ["POST"])
@admin_required
@blp.arguments(ModelNameBody)
def pull(body: dict, url_idx: int | None = None):
    """Download a model onto a server (default the first), streaming Ollama's progress objects."""
    job = gateway.enqueue_pull(db(), current_user(), body, url_idx or 0)
    if body.get("stream", True) is False:
        return wire.result(job)
    return wire.stream(job, wire.NDJSON)


@_both("/api/delete", ["DELETE"])
@admin_required
@blp.arguments(ModelNameBody)
def delete(body: dict, url_idx: int | None = None):
    """Remove a model from a server (the first that has it unless ``url_idx`` says which)."""
    user = current_user()
    conn, body = gateway.ollama_target(db(), user, body, url_idx)
    job = gateway.enqueue_proxy(db(), user, conn, "DELETE", "/api/delete", body)
    response = wire.result(job, render=lambda _r: True)
    if response.status_code == 200:
        gateway.config_changed(db())
    return response


def _openai_style(path: str, body: dict, url_idx: int | None):
    """``/ollama/v1/...``: Ollama's OpenAI-compatible API, SSE when streaming."""
    user = current_user()
    conn, body = gateway.ollama_target(db(), user, body, url_idx)
    streamed = bool(body.get("stream"))
    job = gateway.enqueue_proxy(db(), user, conn, "POST", path, body, stream=streamed)
    return wire.stream(job, wire.SSE) if streamed else wire.result(job)


@_both("/v1/chat/completions", ["POST"])
@user_required
@blp.arguments(ChatCompletionBody)
def v1_chat_completions(body: dict, url_idx: int | None = None):
    return _openai_style("/v1/chat/completions", body, url_idx)


@_both("/v1/completions", ["POST"])
@user_required
@blp.arguments(ChatCompletionBody)
def v1_completions(body: dict, url_idx: int | None = None):
    return _openai_style("/v1/completions", body, url_idx)


@_both("/v1/embeddings", ["POST"])
@user_required
@blp.arguments(EmbeddingsBody)
def v1_embeddings(body: dict, url_idx: int | None = None):
    return _openai_style("/v1/embeddings", body, url_idx)


@_both("/v1/models", ["GET"])
@user_required
def v1_models(url_idx: int | None = None):
    """The Ollama models in OpenAI's list shape (one server's: admin)."""
    gateway.require_enabled(db(), "ollama")
    if url_idx is not None:
        _admin_only()
    models = [m for m in gateway.upstream_models(db(), current_user(), "ollama")
              if (url_idx is None or url_idx in m.get("urls", []))]
    return jsonify(object="list", data=[
        {"id": m["id"], "object": "model", "created": m.get("created", 0), "owned_by": "ollama"}
        for m in models
    ])
