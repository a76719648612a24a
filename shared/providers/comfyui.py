"""ComfyUI: a workflow (its API format: node id -> ``{class_type, inputs}``) run through ``POST /prompt``, followed
on the websocket ``/ws?clientId=`` until it is done, its images fetched from ``/history/{id}`` and ``/view``.

As Open WebUI does, the admin's workflow is patched by node mappings (``{type, node_ids, key, value}``) and
every request carries ``Authorization: Bearer <key>`` (for a proxy in front) and a browser's User-Agent. Unlike
Open WebUI, a run that fails (``execution_error``) or a graph ComfyUI refuses (400 with ``node_errors``) ends
with ComfyUI's own message instead of an empty result.
"""
from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import simple_websocket

from shared.errors import UpstreamError
from shared.providers.upstream import Upstream, raise_if_cancelled

OUTPUT_NODES = ("SaveImage", "SaveImageAdvanced", "PreviewImage")
WAIT_STEP = 0.5
"""Seconds each websocket read waits, so a cancel or the deadline is noticed."""
MAX_SEED = 1125899906842624
Progress = Callable[[float, str], None]


def _error_message(body: Any) -> str | None:
    """``{"error": {type, message, details}, "node_errors": {id: {errors: [{message, details}], class_type}}}``."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    parts = [f"{error.get('message')}: {error.get('details')}".rstrip(": ")] if isinstance(error, dict) else []
    for node_id, node in (body.get("node_errors") or {}).items():
        for item in (node or {}).get("errors") or []:
            parts.append(f"node {node_id} ({node.get('class_type')}): {item.get('message')} {item.get('details', '')}"
                         .strip())
    return "; ".join(parts) or (error if isinstance(error, str) else None)


def patch_workflow(workflow: dict, nodes: list[dict], values: dict[str, Any]) -> dict:
    """The workflow with the mapped inputs set: ``values`` holds ``model``, ``prompt``, ``negative_prompt``,
    ``width``, ``height``, ``n``, ``steps``, ``seed`` (a random one when none is given), ``image``."""
    defaults = {"prompt": "text", "negative_prompt": "text", "width": "width", "height": "height", "n": "batch_size",
                "steps": "steps"}
    for node in nodes:
        kind = node.get("type")
        if kind == "seed":
            value = values.get("seed") or random.randint(0, MAX_SEED)
        elif kind:
            value = values.get(kind)
        else:
            value = node.get("value")
        for node_id in node.get("node_ids") or []:
            if node_id not in workflow:
                raise UpstreamError(f"ComfyUI: the workflow has no node {node_id} (mapped for {kind or 'a value'})",
                                    400)
            workflow[node_id].setdefault("inputs", {})[node.get("key") or defaults.get(kind, "text")] = value
    return workflow


class ComfyUIClient:
    def __init__(self, base_url: str, key: str | None = None, timeout: float | None = None) -> None:
        headers = {"User-Agent": "Mozilla/5.0", **({"Authorization": f"Bearer {key}"} if key else {})}
        self.http = Upstream("ComfyUI", base_url.rstrip("/"), headers, timeout, _error_message)

    def object_info(self) -> dict:
        return self.http.json("GET", "/object_info")

    def models(self, workflow: dict, nodes: list[dict]) -> list[str]:
        """The choices of the model loader's ``*_name`` input (the workflow's mapped model node, else
        ``CheckpointLoaderSimple.ckpt_name``)."""
        info = self.object_info()
        node_id = next((n["node_ids"][0] for n in nodes if n.get("type") == "model" and n.get("node_ids")), None)
        class_type = workflow.get(node_id, {}).get("class_type") if node_id else "CheckpointLoaderSimple"
        required = ((info.get(class_type) or {}).get("input") or {}).get("required") or {}
        name = next((key for key in required if "_name" in key), None)
        choices = required.get(name) if name else None
        return list(choices[0]) if choices and isinstance(choices[0], list) else []

    def upload(self, data: bytes, content_type: str) -> str:
        """Put an input image on the server (``/upload/image``); the name a LoadImage node takes."""
        extension = content_type.rsplit("/", 1)[-1]
        answer = self.http.multipart("POST", "/upload/image", {"type": "input"},
                                     [("image", f"{uuid.uuid4()}.{extension}", data, content_type)])
        if not isinstance(answer, dict) or not answer.get("name"):
            raise UpstreamError("ComfyUI: the upload was not accepted (no name).", 502)
        return f"{answer['subfolder']}/{answer['name']}" if answer.get("subfolder") else answer["name"]

    def run(self, workflow: dict, on_progress: Progress | None = None) -> list[tuple[bytes, str]]:
        """Run the workflow; the images of its output nodes as (bytes, content type)."""
        client_id = str(uuid.uuid4())
        socket_url = self.http.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        try:
            ws = simple_websocket.Client.connect(f"{socket_url}/ws?clientId={client_id}", headers=self.http.headers)
        except (simple_websocket.ConnectionError, OSError) as exc:
            raise UpstreamError(f"ComfyUI: could not open its websocket at {socket_url}", 502, transient=True) from exc
        try:
            queued = self.http.json("POST", "/prompt", {"prompt": workflow, "client_id": client_id})
            prompt_id = (queued or {}).get("prompt_id")
            if not prompt_id:
                raise UpstreamError("ComfyUI: the prompt was not queued (no prompt_id).", 502)
            self._follow(ws, prompt_id, on_progress)
        finally:
            ws.close()
        history = (self.http.json("GET", f"/history/{prompt_id}") or {}).get(prompt_id) or {}
        return [self._view(image) for node_id, output in (history.get("outputs") or {}).items()
                if workflow.get(node_id, {}).get("class_type") in OUTPUT_NODES
                for image in output.get("images") or []]

    def _follow(self, ws: simple_websocket.Client, prompt_id: str, on_progress: Progress | None) -> None:
        """Read the websocket until the prompt is done (``executing`` with no node) or failed."""
        deadline = time.monotonic() + self.http.timeout
        while time.monotonic() < deadline:
            raise_if_cancelled()
            try:
                frame = ws.receive(timeout=WAIT_STEP)
            except simple_websocket.ConnectionClosed as exc:
                raise UpstreamError("ComfyUI: the websocket closed before the prompt was done", 502,
                                    transient=True) from exc
            if not isinstance(frame, str):
                continue  # nothing yet, or a binary preview image
            message = json.loads(frame)
            data = message.get("data") or {}
            if data.get("prompt_id") not in (None, prompt_id):
                continue
            kind = message.get("type")
            if kind == "executing" and data.get("node") is None and data.get("prompt_id") == prompt_id:
                return
            if kind == "execution_error":
                raise UpstreamError(f"ComfyUI: node {data.get('node_id')} ({data.get('node_type')}) failed: "
                                    f"{data.get('exception_message', '').strip()}", 400)
            if kind == "execution_interrupted":
                raise UpstreamError("ComfyUI: the prompt was interrupted", 502)
            if kind == "progress" and on_progress and data.get("max"):
                on_progress(data["value"] / data["max"], f"step {data['value']} of {data['max']}")
        raise UpstreamError(f"ComfyUI: the prompt was not done within {self.http.timeout:g} s", 504)

    def _view(self, image: dict) -> tuple[bytes, str]:
        query = urlencode({"filename": image.get("filename", ""), "subfolder": image.get("subfolder", ""),
                           "type": image.get("type", "output")})
        response = self.http.send("GET", f"/view?{query}")
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if not content_type.startswith("image/"):
            raise UpstreamError(f"ComfyUI: /view answered {content_type or 'no content type'}, not an image", 502)
        return response.data, content_type
