"""A Pipelines server (open-webui/pipelines): an OpenAI-compatible API whose models are its pipelines (``GET
/models`` says ``pipelines`` and gives each model its ``pipeline``: ``type`` pipe or filter), plus routes of its
own: ``GET /pipelines``, ``POST /pipelines/add`` (``{url}``), ``POST /pipelines/upload`` (multipart ``file``),
``DELETE /pipelines/delete`` (``{id}``), ``GET /<id>/valves``, ``GET /<id>/valves/spec``,
``POST /<id>/valves/update``, and the filter hooks ``POST /<id>/filter/inlet`` and ``/filter/outlet``
(``{user, body}``, answered with the body that goes on). Its errors are FastAPI's ``{"detail": ...}``.
"""
from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from shared.providers.openai import OpenAIClient

Stage = Literal["inlet", "outlet"]


def pipeline_path(pipeline_id: str, rest: str) -> str:
    """``/<pipeline id>/<rest>`` (a manifold's ids hold dots; nothing else of the id may reach the path)."""
    return f"/{quote(pipeline_id, safe='')}/{rest}"


class PipelinesClient(OpenAIClient):
    """The OpenAI client of the connection, with the Pipelines server's own routes that need more than
    ``call``; its errors are named "Pipelines"."""

    def __init__(self, base_url: str, key: str | None = None, timeout: float | None = None,
                 config: dict | None = None) -> None:
        super().__init__(base_url, key, timeout, config)
        self.http.name = "Pipelines"

    def upload(self, path: str, filename: str, data: bytes) -> Any:
        """A pipeline's Python file sent as multipart ``file`` (``/pipelines/upload``)."""
        return self.http.multipart("POST", path, {}, [("file", filename, data, "application/octet-stream")])

    def filter(self, pipeline_id: str, stage: Stage, body: dict, user: dict) -> Any:
        """``body`` as the filter pipeline ``pipeline_id`` passes it on at ``stage``."""
        return self.call("POST", pipeline_path(pipeline_id, f"filter/{stage}"), {"user": user, "body": body})
