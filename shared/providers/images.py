"""The image engines behind one interface: :func:`generate`, :func:`edit`, :func:`models` and :func:`verify`
take an :class:`Engine` (what the admin configured) and answer in the same shapes whatever the engine, so
the image jobs never branch on it. Adding an engine is a client module and a line in each table here.

Engines: ``automatic1111`` (also ``""``, as in Open WebUI), ``comfyui`` and ``openai`` (any server with
OpenAI's ``/images/generations`` and ``/images/edits``, Azure's ``api-version`` included).
"""
from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from shared.errors import UpstreamError
from shared.providers.automatic1111 import Automatic1111Client
from shared.providers.comfyui import ComfyUIClient, patch_workflow
from shared.providers.openai import OpenAIClient
from shared.providers.upstream import Upstream, refusals_as_bad_request

Progress = Callable[[float, str], None]
OPENAI_MODELS = [{"id": "dall-e-2", "name": "DALL·E 2"}, {"id": "dall-e-3", "name": "DALL·E 3"},
                 {"id": "gpt-image-1", "name": "GPT-IMAGE 1"}, {"id": "gpt-image-1.5", "name": "GPT-IMAGE 1.5"}]
"""Open WebUI's list for the ``openai`` engine (OpenAI has no endpoint listing image models)."""
BASE64_ONLY_MODELS = re.compile(r"^gpt-image")
"""Models that always answer base64 and refuse ``response_format`` (Open WebUI's pattern)."""
INVALID_URL = "Oops! The URL you provided is invalid. Please double-check and try again."
SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"))


@dataclass(frozen=True)
class Image:
    data: bytes
    content_type: str
    info: Any = None
    """What the engine reports beside the image (AUTOMATIC1111's ``info``: seed, parameters)."""


@dataclass(frozen=True)
class Engine:
    """One configured engine: its base URL, its credential (AUTOMATIC1111's ``user:password``, a key), the
    parameters merged into each request, and ComfyUI's workflow with its node mapping."""

    name: str
    url: str
    key: str = ""
    params: dict = field(default_factory=dict)
    api_version: str = ""
    workflow: dict = field(default_factory=dict)
    nodes: list = field(default_factory=list)
    timeout: float | None = None


@dataclass(frozen=True)
class ImageRequest:
    prompt: str
    model: str
    width: int
    height: int
    size: str = ""
    """As the admin or the user wrote it (OpenAI takes it as it is, ``auto`` included)."""
    n: int = 1
    steps: int | None = None
    negative_prompt: str | None = None
    images: tuple[str, ...] = ()
    """The images to edit, as ``data:`` URLs (a request is also a job's payload: JSON all through)."""

    def sources(self) -> list[Image]:
        return [decode(image) for image in self.images]


def sniff(data: bytes) -> str:
    """An image's content type from its first bytes (PNG when unknown, as Open WebUI assumes)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in SIGNATURES if data.startswith(magic)), "image/png")


def decode(text: str) -> Image:
    """A base64 image, with or without its ``data:`` prefix."""
    header, _, payload = text.partition(",") if text.startswith("data:") else ("", "", text)
    try:
        data = base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise UpstreamError("The image engine answered an image that is not base64.", 502) from exc
    declared = header[5:].split(";")[0] if header else ""
    return Image(data, declared if declared.startswith("image/") else sniff(data))


def _fetch(url: str, engine: Engine) -> Image:
    """An image the engine answered with a URL; its key goes along only to the engine's own origin."""
    parts, own = urlsplit(url), urlsplit(engine.url)
    same_origin = (parts.scheme, parts.netloc) == (own.scheme, own.netloc)
    origin = f"{parts.scheme}://{parts.netloc}"
    headers = {"Authorization": f"Bearer {engine.key}"} if same_origin and engine.key else {}
    response = Upstream("OpenAI", origin, headers, engine.timeout).send("GET", url[len(origin):] or "/")
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    return Image(response.data, content_type if content_type.startswith("image/") else sniff(response.data))


# -- AUTOMATIC1111 -----------------------------------------------------------------------------------
def _a1111_body(engine: Engine, request: ImageRequest) -> dict:
    body: dict[str, Any] = {"prompt": request.prompt, "batch_size": request.n, "width": request.width,
                            "height": request.height}
    if request.steps is not None:
        body["steps"] = request.steps
    if request.negative_prompt is not None:
        body["negative_prompt"] = request.negative_prompt
    return {**body, **engine.params}


def _a1111(engine: Engine, request: ImageRequest, path: str, extra: dict, on_progress: Progress | None) -> list[Image]:
    client = Automatic1111Client(engine.url, engine.key, engine.timeout)
    if request.model:
        client.use_model(request.model)
    images, info = client.generate(path, {**_a1111_body(engine, request), **extra}, on_progress)
    return [Image(decoded.data, decoded.content_type, info) for decoded in map(decode, images)]


def _a1111_generate(engine: Engine, request: ImageRequest, on_progress: Progress | None) -> list[Image]:
    return _a1111(engine, request, "txt2img", {}, on_progress)


def _a1111_edit(engine: Engine, request: ImageRequest, on_progress: Progress | None) -> list[Image]:
    sources = [base64.b64encode(image.data).decode() for image in request.sources()]
    return _a1111(engine, request, "img2img", {"init_images": sources}, on_progress)


# -- ComfyUI -----------------------------------------------------------------------------------------
def _comfyui(engine: Engine, request: ImageRequest, on_progress: Progress | None, image: Any = None) -> list[Image]:
    if not engine.workflow:
        raise UpstreamError("ComfyUI: no workflow is configured (COMFYUI_WORKFLOW).", 400)
    values = {"model": request.model, "prompt": request.prompt, "negative_prompt": request.negative_prompt,
              "width": request.width, "height": request.height, "n": request.n, "steps": request.steps,
              "image": image}
    workflow = patch_workflow(engine.workflow, engine.nodes, values)
    client = ComfyUIClient(engine.url, engine.key, engine.timeout)
    return [Image(data, content_type) for data, content_type in client.run(workflow, on_progress)]


def _comfyui_generate(engine: Engine, request: ImageRequest, on_progress: Progress | None) -> list[Image]:
    return _comfyui(engine, request, on_progress)


def _comfyui_edit(engine: Engine, request: ImageRequest, on_progress: Progress | None) -> list[Image]:
    client = ComfyUIClient(engine.url, engine.key, engine.timeout)
    names = [client.upload(image.data, image.content_type) for image in request.sources()]
    return _comfyui(engine, request, on_progress, names[0] if len(names) == 1 else names)


# -- OpenAI ------------------------------------------------------------------------------------------
def _openai_images(engine: Engine, answer: Any) -> list[Image]:
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, list) or not data:
        raise UpstreamError("OpenAI: the answer holds no images.", 502)
    return [_fetch(item["url"], engine) if item.get("url") else decode(item.get("b64_json") or "") for item in data]


def _openai_body(request: ImageRequest) -> dict:
    body: dict[str, Any] = {"model": request.model, "prompt": request.prompt, "n": request.n}
    if request.size:
        body["size"] = request.size
    if not BASE64_ONLY_MODELS.match(request.model):
        body["response_format"] = "b64_json"
    return body


def _openai_path(engine: Engine, path: str) -> str:
    return f"{path}?api-version={engine.api_version}" if engine.api_version else path


def _openai_generate(engine: Engine, request: ImageRequest, _on_progress: Progress | None) -> list[Image]:
    client = OpenAIClient(engine.url, engine.key or None, engine.timeout)
    answer = client.call("POST", _openai_path(engine, "/images/generations"),
                         {**_openai_body(request), **engine.params})
    return _openai_images(engine, answer)


def _openai_edit(engine: Engine, request: ImageRequest, _on_progress: Progress | None) -> list[Image]:
    client = OpenAIClient(engine.url, engine.key or None, engine.timeout)
    files = [("image[]" if len(request.images) > 1 else "image", f"image-{index}.png", image.data, image.content_type)
             for index, image in enumerate(request.sources())]
    fields = {key: str(value) for key, value in {**_openai_body(request), **engine.params}.items()}
    answer = client.http.multipart("POST", _openai_path(engine, "/images/edits"), fields, files)
    return _openai_images(engine, answer)


Generator = Callable[[Engine, ImageRequest, Progress | None], list[Image]]
GENERATORS: dict[str, Generator] = {"": _a1111_generate, "automatic1111": _a1111_generate,
                                    "comfyui": _comfyui_generate, "openai": _openai_generate}
EDITORS: dict[str, Generator] = {"automatic1111": _a1111_edit, "comfyui": _comfyui_edit, "openai": _openai_edit}


def _engine_of(table: dict[str, Generator], engine: Engine) -> Generator:
    if engine.name not in table:
        raise UpstreamError(f"The image engine {engine.name!r} is not supported here "
                            f"(supported: {', '.join(sorted(name for name in table if name))}).", 400)
    if not engine.url:
        raise UpstreamError(f"The {engine.name or 'automatic1111'} image engine has no base URL configured.", 400)
    return table[engine.name]


LABELS = {"": "AUTOMATIC1111", "automatic1111": "AUTOMATIC1111", "comfyui": "ComfyUI", "openai": "OpenAI"}


def generate(engine: Engine, request: ImageRequest, on_progress: Progress | None = None) -> list[Image]:
    make = _engine_of(GENERATORS, engine)
    return refusals_as_bad_request(LABELS.get(engine.name, engine.name), lambda: make(engine, request, on_progress))


def edit(engine: Engine, request: ImageRequest, on_progress: Progress | None = None) -> list[Image]:
    make = _engine_of(EDITORS, engine)
    return refusals_as_bad_request(LABELS.get(engine.name, engine.name), lambda: make(engine, request, on_progress))


def models(engine: Engine) -> list[dict]:
    """``[{id, name}]``: the checkpoints AUTOMATIC1111 or ComfyUI offers, OpenAI's fixed list."""
    return refusals_as_bad_request(LABELS.get(engine.name, engine.name), lambda: _models(engine))


def _models(engine: Engine) -> list[dict]:
    if engine.name == "openai":
        return OPENAI_MODELS
    if engine.name == "comfyui":
        names = ComfyUIClient(engine.url, engine.key, engine.timeout).models(engine.workflow, engine.nodes)
        return [{"id": name, "name": name} for name in names]
    if engine.name in ("", "automatic1111"):
        checkpoints = Automatic1111Client(engine.url, engine.key, engine.timeout).models()
        return [{"id": model.get("title"), "name": model.get("model_name")} for model in checkpoints]
    raise UpstreamError(f"The image engine {engine.name!r} is not supported here.", 400)


def current_model(engine: Engine) -> str:
    """The checkpoint AUTOMATIC1111 has loaded (what it generates with when no model is configured)."""
    return Automatic1111Client(engine.url, engine.key, engine.timeout).options().get("sd_model_checkpoint") or ""


def use_model(engine: Engine, model: str) -> None:
    """Make ``model`` AUTOMATIC1111's loaded checkpoint (other engines take the model per request)."""
    if engine.name in ("", "automatic1111") and engine.url and model:
        Automatic1111Client(engine.url, engine.key, engine.timeout).use_model(model)


def verify(engine: Engine) -> None:
    """Reach the engine as a saved configuration would: AUTOMATIC1111's options, ComfyUI's ``/object_info``.
    Any failure is Open WebUI's 400 about the URL, with what went wrong."""
    if engine.name not in ("automatic1111", "comfyui"):
        raise UpstreamError("Unsupported image engine", 400)
    try:
        if engine.name == "automatic1111":
            Automatic1111Client(engine.url, engine.key, engine.timeout).options()
        else:
            ComfyUIClient(engine.url, engine.key, engine.timeout).object_info()
    except UpstreamError as exc:
        raise UpstreamError(f"{INVALID_URL} ({exc.detail})", 400) from exc
