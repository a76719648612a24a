"""Image generation: Open WebUI's ``image_generation.*`` and ``images.edit.*`` settings, who may generate,
the request a job sends to the configured engine (``shared.providers.images``), and the generated images
kept as files of the user who asked (served by ``/api/v1/files/{id}/content``)."""
from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import asdict
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from shared import messages
from shared.config import env
from shared.crypto import encrypt
from shared.db import session_scope
from shared.errors import BadRequest, Forbidden
from shared.jobs import catalog
from shared.models import File, Job, User
from shared.providers import images as engines
from shared.providers.images import BASE64_ONLY_MODELS, Engine, Image
from shared.services import app_config, files, permissions
from shared.storage import get_storage

CONFIG_KEYS = {
    "ENABLE_IMAGE_GENERATION": "image_generation.enable",
    "ENABLE_IMAGE_PROMPT_GENERATION": "image_generation.prompt.enable",
    "IMAGE_GENERATION_ENGINE": "image_generation.engine",
    "IMAGE_GENERATION_MODEL": "image_generation.model",
    "IMAGE_SIZE": "image_generation.size",
    "IMAGE_STEPS": "image_generation.steps",
    "IMAGES_OPENAI_API_BASE_URL": "image_generation.openai.api_base_url",
    "IMAGES_OPENAI_API_KEY": "image_generation.openai.api_key",
    "IMAGES_OPENAI_API_VERSION": "image_generation.openai.api_version",
    "IMAGES_OPENAI_API_PARAMS": "image_generation.openai.params",
    "AUTOMATIC1111_BASE_URL": "image_generation.automatic1111.base_url",
    "AUTOMATIC1111_API_AUTH": "image_generation.automatic1111.api_auth",
    "AUTOMATIC1111_PARAMS": "image_generation.automatic1111.api_params",
    "COMFYUI_BASE_URL": "image_generation.comfyui.base_url",
    "COMFYUI_API_KEY": "image_generation.comfyui.api_key",
    "COMFYUI_WORKFLOW": "image_generation.comfyui.workflow",
    "COMFYUI_WORKFLOW_NODES": "image_generation.comfyui.nodes",
    "IMAGES_GEMINI_API_BASE_URL": "image_generation.gemini.api_base_url",
    "IMAGES_GEMINI_API_KEY": "image_generation.gemini.api_key",
    "IMAGES_GEMINI_ENDPOINT_METHOD": "image_generation.gemini.endpoint_method",
    "ENABLE_IMAGE_EDIT": "images.edit.enable",
    "IMAGE_EDIT_ENGINE": "images.edit.engine",
    "IMAGE_EDIT_MODEL": "images.edit.model",
    "IMAGE_EDIT_SIZE": "images.edit.size",
    "IMAGES_EDIT_OPENAI_API_BASE_URL": "images.edit.openai.api_base_url",
    "IMAGES_EDIT_OPENAI_API_KEY": "images.edit.openai.api_key",
    "IMAGES_EDIT_OPENAI_API_VERSION": "images.edit.openai.api_version",
    "IMAGES_EDIT_GEMINI_API_BASE_URL": "images.edit.gemini.api_base_url",
    "IMAGES_EDIT_GEMINI_API_KEY": "images.edit.gemini.api_key",
    "IMAGES_EDIT_COMFYUI_BASE_URL": "images.edit.comfyui.base_url",
    "IMAGES_EDIT_COMFYUI_API_KEY": "images.edit.comfyui.api_key",
    "IMAGES_EDIT_COMFYUI_WORKFLOW": "images.edit.comfyui.workflow",
    "IMAGES_EDIT_COMFYUI_WORKFLOW_NODES": "images.edit.comfyui.nodes",
}
"""Open WebUI's API fields and the config keys they are stored under."""
SECRETS = frozenset({"IMAGES_OPENAI_API_KEY", "AUTOMATIC1111_API_AUTH", "COMFYUI_API_KEY", "IMAGES_GEMINI_API_KEY",
                     "IMAGES_EDIT_OPENAI_API_KEY", "IMAGES_EDIT_GEMINI_API_KEY", "IMAGES_EDIT_COMFYUI_API_KEY"})
"""Stored encrypted; the admin's config reads them back in clear, as Open WebUI's does."""
DEFAULT_WORKFLOW = json.dumps({
    "3": {"inputs": {"seed": 0, "steps": 20, "cfg": 8, "sampler_name": "euler", "scheduler": "normal", "denoise": 1,
                     "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]},
          "class_type": "KSampler", "_meta": {"title": "KSampler"}},
    "4": {"inputs": {"ckpt_name": "model.safetensors"}, "class_type": "CheckpointLoaderSimple",
          "_meta": {"title": "Load Checkpoint"}},
    "5": {"inputs": {"width": 512, "height": 512, "batch_size": 1}, "class_type": "EmptyLatentImage",
          "_meta": {"title": "Empty Latent Image"}},
    "6": {"inputs": {"text": "Prompt", "clip": ["4", 1]}, "class_type": "CLIPTextEncode",
          "_meta": {"title": "CLIP Text Encode (Prompt)"}},
    "7": {"inputs": {"text": "", "clip": ["4", 1]}, "class_type": "CLIPTextEncode",
          "_meta": {"title": "CLIP Text Encode (Prompt)"}},
    "8": {"inputs": {"samples": ["3", 0], "vae": ["4", 2]}, "class_type": "VAEDecode", "_meta": {"title": "VAE Decode"}},
    "9": {"inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}, "class_type": "SaveImage",
          "_meta": {"title": "Save Image"}},
}, indent=2)
"""Open WebUI's default ComfyUI workflow (text to image with one checkpoint)."""
_FROM_ENV = ("ENABLE_IMAGE_GENERATION", "IMAGE_GENERATION_ENGINE", "IMAGE_GENERATION_MODEL", "IMAGE_SIZE",
             "IMAGE_STEPS", "AUTOMATIC1111_BASE_URL", "AUTOMATIC1111_API_AUTH", "COMFYUI_BASE_URL", "COMFYUI_API_KEY",
             "IMAGES_OPENAI_API_BASE_URL", "IMAGES_OPENAI_API_KEY")
_CONSTANT: dict[str, Any] = {
    "ENABLE_IMAGE_PROMPT_GENERATION": True, "IMAGES_OPENAI_API_VERSION": "", "IMAGES_OPENAI_API_PARAMS": {},
    "AUTOMATIC1111_PARAMS": {}, "COMFYUI_WORKFLOW": DEFAULT_WORKFLOW, "COMFYUI_WORKFLOW_NODES": [],
    "IMAGES_GEMINI_API_BASE_URL": "", "IMAGES_GEMINI_API_KEY": "", "IMAGES_GEMINI_ENDPOINT_METHOD": "",
    "ENABLE_IMAGE_EDIT": False, "IMAGE_EDIT_ENGINE": "openai", "IMAGE_EDIT_MODEL": "", "IMAGE_EDIT_SIZE": "",
    "IMAGES_EDIT_OPENAI_API_BASE_URL": "", "IMAGES_EDIT_OPENAI_API_KEY": "", "IMAGES_EDIT_OPENAI_API_VERSION": "",
    "IMAGES_EDIT_GEMINI_API_BASE_URL": "", "IMAGES_EDIT_GEMINI_API_KEY": "", "IMAGES_EDIT_COMFYUI_BASE_URL": "",
    "IMAGES_EDIT_COMFYUI_API_KEY": "", "IMAGES_EDIT_COMFYUI_WORKFLOW": "", "IMAGES_EDIT_COMFYUI_WORKFLOW_NODES": [],
}


def _default(field: str) -> Any:
    value = env(field) if field in _FROM_ENV else _CONSTANT[field]
    return encrypt(value) if field in SECRETS and value else value


CONFIG_DEFAULTS = {key: (lambda _s, field=field: _default(field)) for field, key in CONFIG_KEYS.items()}
SIZE = re.compile(r"^(\d+)x(\d+)$")
DEFAULT_SIZE = (512, 512)
MAX_IMAGES = 10
FILE_PREFIX = "generated-image"


def read_config(session: Session) -> dict[str, Any]:
    """The settings under their API names, secrets in clear."""
    return app_config.get_fields(session, CONFIG_KEYS, SECRETS)


def _check_config(form: dict) -> None:
    size, model = form.get("IMAGE_SIZE") or "", form.get("IMAGE_GENERATION_MODEL") or ""
    if size == "auto" and not BASE64_ONLY_MODELS.match(model):
        raise BadRequest("Invalid format. Please use the correct format  (auto is only allowed with models "
                         "matching ^gpt-image).")
    if size not in ("", "auto") and not SIZE.match(size):
        raise BadRequest("Invalid format. Please use the correct format  (e.g., 512x512).")
    if (form.get("IMAGE_STEPS") or 0) < 0:
        raise BadRequest("Invalid format. Please use the correct format  (e.g., 50).")
    for field in ("COMFYUI_WORKFLOW", "IMAGES_EDIT_COMFYUI_WORKFLOW"):
        if form.get(field):
            try:
                json.loads(form[field])
            except ValueError:
                raise BadRequest(f"{field} is not valid JSON (ComfyUI's API-format workflow).") from None


def update_config(session: Session, form: dict) -> dict[str, Any]:
    """Store the settings the form names (validated as Open WebUI does); the settings after the change."""
    _check_config(form)
    urls = {field: form[field].strip("/") for field in ("COMFYUI_BASE_URL", "IMAGES_EDIT_COMFYUI_BASE_URL")
            if isinstance(form.get(field), str)}
    app_config.set_fields(session, CONFIG_KEYS, {**form, **urls}, SECRETS)
    return read_config(session)


def engine(session: Session, *, editing: bool = False, timeout: float | None = None) -> Engine:
    """The configured engine for generating (or editing) images, secrets decrypted: what a job hands the
    provider."""
    config = read_config(session)
    name = config["IMAGE_EDIT_ENGINE"] if editing else config["IMAGE_GENERATION_ENGINE"]
    prefix = "IMAGES_EDIT_" if editing else "IMAGES_"
    if name == "openai":
        return Engine(name, config[f"{prefix}OPENAI_API_BASE_URL"] or config["IMAGES_OPENAI_API_BASE_URL"],
                      config[f"{prefix}OPENAI_API_KEY"] or config["IMAGES_OPENAI_API_KEY"],
                      _params(config["IMAGES_OPENAI_API_PARAMS"]), config[f"{prefix}OPENAI_API_VERSION"], timeout=timeout)
    if name == "comfyui":
        workflow, nodes = ((config["IMAGES_EDIT_COMFYUI_WORKFLOW"], config["IMAGES_EDIT_COMFYUI_WORKFLOW_NODES"])
                           if editing else (config["COMFYUI_WORKFLOW"], config["COMFYUI_WORKFLOW_NODES"]))
        url = (config["IMAGES_EDIT_COMFYUI_BASE_URL"] if editing else "") or config["COMFYUI_BASE_URL"]
        key = (config["IMAGES_EDIT_COMFYUI_API_KEY"] if editing else "") or config["COMFYUI_API_KEY"]
        return Engine(name, url, key, workflow=json.loads(workflow) if workflow else {}, nodes=nodes or [],
                      timeout=timeout)
    return Engine(name or "automatic1111", config["AUTOMATIC1111_BASE_URL"], config["AUTOMATIC1111_API_AUTH"],
                  _params(config["AUTOMATIC1111_PARAMS"]), timeout=timeout)


def _params(value: Any) -> dict:
    """Parameters merged into each request: an object, or its JSON text (the admin form may send either)."""
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except ValueError:
            raise BadRequest("The image engine's parameters are not a JSON object.") from None
    return value if isinstance(value, dict) else {}


def check_allowed(session: Session, user: User, *, editing: bool = False) -> None:
    """Open WebUI's rule: the feature switched on, and ``features.image_generation`` for non-admins."""
    enabled = app_config.get(session, CONFIG_KEYS["ENABLE_IMAGE_EDIT" if editing else "ENABLE_IMAGE_GENERATION"])
    if not enabled or not permissions.has_permission(session, user, "features.image_generation"):
        raise Forbidden(messages.ACCESS_PROHIBITED)


def _size(session: Session, requested: str | None, setting: str) -> tuple[str, int, int]:
    """The size as written (for OpenAI) and as width and height (512x512 when neither says)."""
    configured = app_config.get(session, CONFIG_KEYS[setting]) or ""
    size = requested if requested and "x" in requested else configured
    match = SIZE.match(size or "")
    width, height = (int(match.group(1)), int(match.group(2))) if match else DEFAULT_SIZE
    return (requested or configured or ""), width, height


def _model(session: Session, user: User, requested: str | None, *, editing: bool) -> str:
    """The configured model (OpenAI's default dall-e-2); AUTOMATIC1111 holds one checkpoint for the whole
    server, so only an admin's request may switch it, as in Open WebUI."""
    engine_field, model_field = ("IMAGE_EDIT_ENGINE", "IMAGE_EDIT_MODEL") if editing else (
        "IMAGE_GENERATION_ENGINE", "IMAGE_GENERATION_MODEL")
    config = app_config.get_fields(session, {field: CONFIG_KEYS[field] for field in (engine_field, model_field)})
    name, configured = config[engine_field], config[model_field]
    if name in ("", "automatic1111") and requested and user.role == "admin":
        return requested
    if name == "openai":
        return configured or "dall-e-2"
    return configured


def _request(session: Session, user: User, form: dict, *, editing: bool) -> catalog.ImageJob:
    if not 1 <= (form.get("n") or 1) <= MAX_IMAGES:
        raise BadRequest(f"n must be between 1 and {MAX_IMAGES}.")
    size, width, height = _size(session, form.get("size"), "IMAGE_EDIT_SIZE" if editing else "IMAGE_SIZE")
    steps = form.get("steps")
    if steps is None:
        steps = app_config.get(session, CONFIG_KEYS["IMAGE_STEPS"])
    return catalog.ImageJob(form["prompt"], _model(session, user, form.get("model"), editing=editing), width, height,
                            size, form.get("n") or 1, steps, form.get("negative_prompt"),
                            tuple(_sources(session, user, form.get("image"))) if editing else (), owner_id=user.id)


def _sources(session: Session, user: User, given: str | list[str] | None) -> list[str]:
    """The images to edit as base64 data URLs: given as such, or as one of the user's files
    (``/api/v1/files/{id}/content``). Other URLs are refused: the worker fetches nothing a user names."""
    items = given if isinstance(given, list) else [given] if given else []
    if not items:
        raise BadRequest("image: give at least one image to edit.")
    sources = []
    for item in items:
        if not isinstance(item, str):
            raise BadRequest("image: give a data:image/... URL or the URL of one of your files.")
        match = re.search(r"/api/v1/files/([^/]+)/content", item)
        if item.startswith("data:image/"):
            sources.append(item)
        elif match:
            file = files.get_file(session, match.group(1), user)
            with get_storage().open(file.path) as stream:
                data = stream.read()
            sources.append(f"data:{(file.meta or {}).get('content_type') or 'image/png'};base64,"
                           + base64.b64encode(data).decode())
        else:
            raise BadRequest("image: give a data:image/... URL or the URL of one of your files.")
    return sources


def start_generation(session: Session, user: User, form: dict) -> Job:
    check_allowed(session, user)
    return catalog.send(session, catalog.IMAGE_GENERATION, _request(session, user, form, editing=False),
                        owner_id=user.id)


def start_edit(session: Session, user: User, form: dict) -> Job:
    check_allowed(session, user, editing=True)
    return catalog.send(session, catalog.IMAGE_EDIT, _request(session, user, form, editing=True), owner_id=user.id)


def start_models(session: Session, user: User) -> Job:
    return catalog.send(session, catalog.IMAGE_MODELS, catalog.Nothing(), owner_id=user.id)


def start_verify(session: Session, user: User, engine_name: str, url: str, key: str | None) -> Job:
    if engine_name not in ("automatic1111", "comfyui"):
        raise BadRequest("Unsupported image engine")
    return catalog.send(session, catalog.IMAGE_VERIFY, catalog.ImageVerify(engine_name, url.rstrip("/"), key),
                        owner_id=user.id)


def start_use_model(session: Session, user: User, model: str) -> Job | None:
    """After the admin saved a model: AUTOMATIC1111 loads it (a job; the save does not wait for it)."""
    if not model or app_config.get(session, CONFIG_KEYS["IMAGE_GENERATION_ENGINE"]) not in ("", "automatic1111"):
        return None
    return catalog.send(session, catalog.IMAGE_USE_MODEL, catalog.ImageModel(model), owner_id=user.id)


def wanted_in_chat(session: Session, user: User, body: dict) -> bool:
    """A web-app turn asking for an image (``features.image_generation``) from a user who may generate them;
    whether generation is switched on is the step's to say (it tells the model, as Open WebUI does)."""
    features = body.get("features") if isinstance(body.get("features"), dict) else {}
    return bool(features.get("image_generation")) and permissions.has_permission(
        session, user, "features.image_generation")


def make(job: catalog.ImageJob, *, editing: bool, timeout: float | None,
         on_progress: Callable[[float, str], None] | None = None) -> list[dict]:
    """Generate (or edit) with the configured engine and keep the images as the owner's files: the step of the
    image jobs and of a chat reply that asks for an image."""
    with session_scope() as session:
        configured = engine(session, editing=editing, timeout=timeout)
    made = (engines.edit if editing else engines.generate)(configured, job, on_progress)
    with session_scope() as session:
        return [keep(session, job.owner_id, image, job) for image in made]


def chat_request(owner_id: str, prompt: str) -> catalog.ImageJob | None:
    """What a chat reply asks the engine for (the configured model and size, one image of the user's words);
    None while image generation is switched off."""
    with session_scope() as session:
        if not app_config.get(session, CONFIG_KEYS["ENABLE_IMAGE_GENERATION"]):
            return None
        return _request(session, session.get(User, owner_id), {"prompt": prompt}, editing=False)


def keep(session: Session, owner_id: str, image: Image, job: catalog.ImageJob) -> dict:
    """Store one generated image as a file of the user; Open WebUI's ``{id, url, name, content_type}``."""
    extension = image.content_type.rsplit("/", 1)[-1].replace("jpeg", "jpg")
    parameters = {name: value for name, value in asdict(job).items() if name not in ("images", "owner_id")}
    file = files.store_bytes(session, owner_id, io.BytesIO(image.data), f"{FILE_PREFIX}.{extension}",
                             image.content_type, {**parameters, **({"info": image.info} if image.info else {})})
    return image_json(file)


def image_json(file: File) -> dict:
    return {"id": file.id, "url": f"/api/v1/files/{file.id}/content",
            "name": (file.meta or {}).get("name") or file.filename, "content_type": (file.meta or {}).get("content_type")}
