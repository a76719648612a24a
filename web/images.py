"""``/api/v1/images``: image generation settings, the engine's models, and generating or editing images.

Every call to an engine is a job on the ``images`` queue; the routes wait for it (bounded), or answer 202 with
the job under ``Prefer: respond-async``.
"""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields, validate

from shared.services import images
from web.blueprint import Blueprint
from web.caller import admin_required, current_user, user_required
from web.db import db
from web.rate_limiting import limited
from web.schemas import Body, settings_body
from web.streaming.responses import result_or_accepted

blp = Blueprint("images", __name__, url_prefix="/api/v1/images", description="Image generation")

GENERATION_TIMEOUT = 600.0
"""How long a generation's request waits for the images before it answers 202 with the job."""
LOOKUP_TIMEOUT = 60.0

ConfigBody = settings_body(images.CONFIG_KEYS, "ImagesConfigBody", {
    "IMAGE_STEPS": fields.Integer(allow_none=True),
    "IMAGES_OPENAI_API_PARAMS": fields.Raw(allow_none=True),
    "AUTOMATIC1111_API_AUTH": fields.Raw(allow_none=True),
    "AUTOMATIC1111_PARAMS": fields.Raw(allow_none=True),
    "COMFYUI_WORKFLOW_NODES": fields.List(fields.Dict()),
    "IMAGES_EDIT_COMFYUI_WORKFLOW_NODES": fields.List(fields.Dict()),
})
"""Open WebUI's ``ImagesConfig``; fields left out keep their value."""


class ImageVerifyBody(Body):
    engine = fields.String(required=True)
    url = fields.String(required=True, validate=validate.Length(min=1))
    key = fields.String(load_default=None, allow_none=True)


class GenerationBody(Body):
    prompt = fields.String(required=True, validate=validate.Length(min=1))
    model = fields.String(load_default=None, allow_none=True)
    size = fields.String(load_default=None, allow_none=True)
    n = fields.Integer(load_default=1, validate=validate.Range(min=1, max=images.MAX_IMAGES))
    steps = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    negative_prompt = fields.String(load_default=None, allow_none=True)


class EditBody(GenerationBody):
    image = fields.Raw(required=True)
    """One image or a list: ``data:image/...`` URLs, or URLs of the caller's files."""


@blp.route("/config", methods=["GET"])
@admin_required
def get_config():
    return jsonify(images.read_config(db()))


@blp.route("/config/update", methods=["POST"])
@admin_required
@blp.arguments(ConfigBody)
def update_config(body: dict):
    """Save the settings; a model chosen for AUTOMATIC1111 is loaded there by a job."""
    saved = images.update_config(db(), body)
    images.start_use_model(db(), current_user(), saved["IMAGE_GENERATION_MODEL"])
    return jsonify(saved)


@blp.route("/verify", methods=["POST"])
@admin_required
@blp.arguments(ImageVerifyBody)
def verify(body: dict):
    """``true`` when the server answers: AUTOMATIC1111's options, ComfyUI's ``/object_info``."""
    job = images.start_verify(db(), current_user(), body["engine"], body["url"], body["key"])
    return result_or_accepted(job, LOOKUP_TIMEOUT)


@blp.route("/models", methods=["GET"])
@user_required
def list_models():
    """``[{id, name}]``: the configured engine's models."""
    return result_or_accepted(images.start_models(db(), current_user()), LOOKUP_TIMEOUT)


@blp.route("/generations", methods=["POST"])
@limited("images")
@user_required
@blp.arguments(GenerationBody)
def generate(body: dict):
    """Generate images: ``[{id, url, name, content_type}]``, each a file of the caller."""
    return result_or_accepted(images.start_generation(db(), current_user(), body), GENERATION_TIMEOUT)


@blp.route("/edit", methods=["POST"])
@limited("images")
@user_required
@blp.arguments(EditBody)
def edit(body: dict):
    """Make images from the given ones and the prompt: the same answer as ``/generations``."""
    return result_or_accepted(images.start_edit(db(), current_user(), body), GENERATION_TIMEOUT)
