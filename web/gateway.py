"""Open WebUI's unified LLM routes: the model list, chat completions and embeddings for any model.

``POST /api/chat/completions`` takes OpenAI's format whatever serves the model (Ollama answers are
converted); ``stream: true`` answers OpenAI SSE. The web app's requests (``session_id``, ``chat_id``,
``id``) are answered at once with the task ids; the reply streams to the job's events and is saved
into the chat by the worker.
"""
from __future__ import annotations

from flask import jsonify

from shared.services.chats import actions
from shared.services.llm import gateway
from web.blueprint import Blueprint
from web.caller import admin_required, current_user, user_required
from web.db import db
from web.llm_schemas import ChatCompletionBody, EmbeddingsBody, ModelListSchema, ModelsQuery, PassThrough
from web.rate_limiting import limited
from web.streaming import wire

blp = Blueprint("gateway", __name__, url_prefix="/api", description="Models, chat completions and embeddings")


@blp.route("/models", methods=["GET"])
@user_required
@blp.arguments(ModelsQuery, location="query")
@blp.response(200, ModelListSchema)
def models(query: dict):
    """The models the caller may use, from the registry (gathered by a job; ``refresh=true`` waits for a
    new gathering)."""
    return {"data": gateway.user_models(db(), current_user(), query["refresh"])}


@blp.route("/models/base", methods=["GET"])
@admin_required
@blp.response(200, ModelListSchema)
def base_models():
    """Every model of every connection (admin)."""
    return {"data": gateway.all_models(db())}


@blp.route("/chat/completions", methods=["POST"])
@blp.route("/v1/chat/completions", methods=["POST"], endpoint="chat_completions_v1")
@limited("completions")
@user_required
@blp.arguments(ChatCompletionBody)
def chat_completions(body: dict):
    """A chat completion for any model, in OpenAI's format."""
    job, background = gateway.start_chat(db(), current_user(), body)
    if background is not None:
        return jsonify(background)
    if body.get("stream"):
        return wire.stream(job, wire.SSE)
    return wire.result(job)


@blp.route("/chat/completed", methods=["POST"])
@user_required
@blp.arguments(PassThrough)
def chat_completed(body: dict):
    """Deprecated in Open WebUI (outlet filters run inline); kept for API clients: the messages as the outlet
    filters of Pipelines servers aimed at the model pass them on (a job), or as sent when none is."""
    job, echoed = gateway.chat_completed(db(), current_user(), body)
    return wire.result(job) if job is not None else jsonify(echoed)


@blp.route("/chat/actions/<action_id>", methods=["POST"])
@user_required
@blp.arguments(PassThrough)
def chat_action(body: dict, action_id: str):
    """A button under a reply (an action function), run by a job; its events reach the chat's browsers."""
    return wire.result(actions.start(db(), current_user(), action_id, body))


@blp.route("/embeddings", methods=["POST"])
@blp.route("/v1/embeddings", methods=["POST"], endpoint="embeddings_v1")
@limited("embeddings")
@user_required
@blp.arguments(EmbeddingsBody)
def embeddings(body: dict):
    """Embeddings for any model, in OpenAI's format."""
    return wire.result(gateway.start_embeddings(db(), current_user(), body))
