"""Pipelines jobs: a change to a Pipelines server's pipelines, and the outlet filters of ``/api/chat/completed``
(the rules in ``shared.services.llm.pipelines``; the filters around chat completions run in ``llm.chat_completion``)."""
from __future__ import annotations

from typing import Any

import workers.runtime  # noqa: F401  (actors bind to the worker's broker)
from shared.jobs import catalog
from shared.services.chats import filters
from shared.services.llm import pipelines


@catalog.PIPELINES_CHANGE.actor
def change(job_id: str, url_idx: int, method: str, path: str, body: dict | None = None,
           upload_key: str | None = None, filename: str | None = None) -> Any:
    """Add, upload or delete a pipeline, or update its valves; the result is the server's answer."""
    return pipelines.run_change(url_idx, method, path, body, upload_key, filename)


@catalog.PIPELINES_OUTLET.actor
def outlet(job_id: str, owner_id: str, body: dict, filter_ids: list[str] = ()) -> dict:
    """The messages of ``/api/chat/completed`` as the outlet filters of their model pass them on: the
    pipelines' (when any is aimed at the model), then the functions'."""
    passed = pipelines.completed(owner_id, body)
    context = {"chat_id": body.get("chat_id") or "", "message_id": body.get("id") or ""}
    return filters.outlet_body(list(filter_ids), owner_id, body.get("model") or "", passed, context)
