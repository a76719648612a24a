"""Request bodies of the LLM gateway (Ollama, OpenAI and the unified routes).

Upstream bodies pass through: the fields we need are checked, every other field is kept as sent.
"""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validates_schema

from web.schemas import Body, PassThrough


class ModelNameBody(PassThrough):
    """Ollama's ``{model}`` (or the older ``{name}``)."""

    model = fields.String()
    name = fields.String()

    @validates_schema
    def _named(self, data, **_kwargs):
        if not (data.get("model") or data.get("name")):
            raise ValidationError("Missing data for required field.", "model")


class OllamaChatBody(PassThrough):
    model = fields.String(required=True)
    messages = fields.List(fields.Dict(), load_default=list)
    stream = fields.Boolean(load_default=True)


class OllamaGenerateBody(PassThrough):
    model = fields.String(required=True)
    prompt = fields.String(load_default="")
    stream = fields.Boolean(load_default=True)


class OllamaEmbedBody(PassThrough):
    model = fields.String(required=True)
    input = fields.Raw(required=True)


class OllamaEmbeddingsBody(PassThrough):
    model = fields.String(required=True)
    prompt = fields.String(required=True)


class ChatCompletionBody(PassThrough):
    """OpenAI's chat completion request (the web app adds its chat fields, kept as sent)."""

    model = fields.String(required=True)
    messages = fields.List(fields.Dict())
    stream = fields.Boolean(load_default=False)


class EmbeddingsBody(PassThrough):
    model = fields.String(required=True)
    input = fields.Raw(required=True)


class OllamaConfigBody(Body):
    ENABLE_OLLAMA_API = fields.Boolean(allow_none=True, load_default=None)
    OLLAMA_BASE_URLS = fields.List(fields.String(), required=True)
    OLLAMA_API_CONFIGS = fields.Dict(load_default=dict)


class OpenAIConfigBody(Body):
    ENABLE_OPENAI_API = fields.Boolean(allow_none=True, load_default=None)
    OPENAI_API_BASE_URLS = fields.List(fields.String(), required=True)
    OPENAI_API_KEYS = fields.List(fields.String(), load_default=list)
    OPENAI_API_CONFIGS = fields.Dict(load_default=dict)


class VerifyBody(Body):
    url = fields.String(required=True)
    key = fields.String(allow_none=True, load_default=None)
    config = fields.Dict(allow_none=True, load_default=None)


class ModelsQuery(Body):
    refresh = fields.Boolean(load_default=False)


class ModelListSchema(Schema):
    data = fields.List(fields.Dict())
