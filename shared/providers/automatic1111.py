"""AUTOMATIC1111's stable-diffusion-webui API (started with ``--api``): ``/sdapi/v1/options``, ``sd-models``,
``txt2img``, ``img2img`` and ``progress``.

Its errors are FastAPI's: a validation error is 422 ``{"detail": [{loc, msg, type}]}``, a failure inside a
generation 500 ``{"error", "detail", "body", "errors"}``; both are read into the :class:`UpstreamError`.
"""
from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from typing import Any

from shared.errors import UpstreamError
from shared.providers.upstream import Upstream

PROGRESS_INTERVAL = 0.5
"""Seconds between two reads of ``/sdapi/v1/progress`` while a generation runs."""
Progress = Callable[[float, str], None]


def _error_message(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    detail = body.get("detail")
    if isinstance(detail, list):  # FastAPI's validation errors
        return "; ".join(f"{'.'.join(str(p) for p in item.get('loc', []))}: {item.get('msg')}" for item in detail)
    for name in ("errors", "error"):
        if isinstance(body.get(name), str) and body[name]:
            return body[name]
    return detail if isinstance(detail, str) else None


def basic_auth(credentials: str | None) -> dict[str, str]:
    """``user:password`` (AUTOMATIC1111's ``--api-auth``) as an HTTP Basic header."""
    if not credentials:
        return {}
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


class Automatic1111Client:
    def __init__(self, base_url: str, auth: str | None = None, timeout: float | None = None) -> None:
        self.http = Upstream("AUTOMATIC1111", base_url.rstrip("/"), basic_auth(auth), timeout, _error_message)

    def options(self) -> dict:
        return self.http.json("GET", "/sdapi/v1/options")

    def set_options(self, options: dict) -> None:
        self.http.json("POST", "/sdapi/v1/options", options)

    def models(self) -> list[dict]:
        """The checkpoints: ``{title, model_name, hash, ...}``; ``title`` is what ``sd_model_checkpoint`` takes."""
        answer = self.http.json("GET", "/sdapi/v1/sd-models")
        return answer if isinstance(answer, list) else []

    def use_model(self, title: str) -> None:
        """Load the checkpoint ``title`` unless it is loaded already (it switches the whole server)."""
        options = self.options()
        if options.get("sd_model_checkpoint") != title:
            self.set_options({**options, "sd_model_checkpoint": title})

    def generate(self, path: str, body: dict, on_progress: Progress | None = None) -> tuple[list[str], Any]:
        """``txt2img`` or ``img2img``: the base64 images and the ``info`` the server reports. While it runs,
        ``on_progress(fraction, message)`` hears ``/sdapi/v1/progress`` every half second."""
        done = threading.Event()
        if on_progress is not None:
            threading.Thread(target=self._watch, args=(done, on_progress), daemon=True,
                             name="automatic1111-progress").start()
        try:
            answer = self.http.json("POST", f"/sdapi/v1/{path}", body)
        finally:
            done.set()
        images = answer.get("images") if isinstance(answer, dict) else None
        if not isinstance(images, list) or not images:
            raise UpstreamError("AUTOMATIC1111: the answer holds no images.", 502)
        return images, answer.get("info")

    def _watch(self, done: threading.Event, on_progress: Progress) -> None:
        while not done.wait(PROGRESS_INTERVAL):
            try:
                state = self.http.json("GET", "/sdapi/v1/progress?skip_current_image=true")
            except UpstreamError:
                return  # progress is a courtesy: the generation itself reports what went wrong
            fraction = state.get("progress") if isinstance(state, dict) else None
            if isinstance(fraction, (int, float)) and 0 < fraction < 1 and not done.is_set():
                on_progress(float(fraction), "generating")
