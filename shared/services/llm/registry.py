"""The model registry: every enabled connection's models, gathered by a job into a Redis cache.

The cache holds Open WebUI's ``/api/models`` entries (``id, name, object, created, owned_by,
connection_type, urls | urlIdx, ollama | openai, tags ...``; a Pipelines server's models also ``pipeline``)
plus the connections that could not be reached and the OpenAI connections that are Pipelines servers. The
web reads it; only the ``llm.refresh_models`` job writes it. An entry older than ``MODELS_CACHE_TTL``
seconds (default 300) is still served while a refresh is enqueued.
"""
from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from shared.config import env
from shared.errors import BadRequest, NotFound
from shared.models import User
from shared.providers.pipelines import Stage
from shared.redis_client import get_redis, key
from shared.services.llm.connections import Connection, connection
from shared.services.llm.connections import store as store_settings
from shared.watched_values import watched, write

CONFIG_DEFAULTS = {"models.user_model_ids": lambda _s: "*" if env("BYPASS_MODEL_ACCESS_CONTROL") else []}
"""Which models users (not admins) may use: a list of ids, or ``"*"`` for all."""

REFRESH_LOCK_SECONDS = 30


def model_not_found(model_id: str | None) -> NotFound:
    return NotFound(f"Model '{model_id or ''}' was not found")


def _cache_key() -> str:
    return key("llm", "models")


# -- shaping (used by the refresh job) ------------------------------------------------------------
def ollama_entries(conn: Connection, tags: list[dict]) -> list[dict]:
    """``/api/tags`` models of one Ollama connection as registry entries (allow-list, prefix, tags)."""
    allowed = conn.config.get("model_ids") or []
    entries = []
    for tag in tags:
        if allowed and tag.get("model") not in allowed:
            continue
        raw = dict(tag)
        if conn.prefix_id:
            raw["model"] = f"{conn.prefix_id}.{raw['model']}"
            raw["name"] = f"{conn.prefix_id}.{raw.get('name') or tag['model']}"
        raw["connection_type"] = conn.config.get("connection_type", "local")
        raw["tags"] = conn.config.get("tags") or []
        raw["urls"] = [conn.idx]
        entries.append(raw)
    return entries


def listed_models(answer: Any) -> list[dict]:
    """The models of an OpenAI ``/models`` answer (``{data: [...]}``, or the bare list some servers send)."""
    data = answer.get("data") if isinstance(answer, dict) else answer
    return [model for model in data if isinstance(model, dict)] if isinstance(data, list) else []


def serves_pipelines(answer: Any) -> bool:
    """A ``/models`` answer from a Pipelines server (open-webui/pipelines), which says ``pipelines`` in it:
    Open WebUI's test for the connections its Pipelines admin page lists."""
    return isinstance(answer, dict) and "pipelines" in answer


def openai_entries(conn: Connection, models: list[dict] | None) -> list[dict]:
    """``/models`` of one OpenAI connection (or its ``model_ids`` allow-list) as registry entries. A Pipelines
    server's model keeps its ``pipeline`` (``type`` pipe or filter; a filter's target ``pipelines`` and
    ``priority``) at the top, where Open WebUI puts it."""
    allowed = conn.config.get("model_ids") or []
    if allowed:
        models = [{"id": m, "name": m, "owned_by": "openai"} for m in allowed]
    entries = []
    for model in models or []:
        upstream_id = model.get("id") or model.get("name")
        if not upstream_id:
            continue
        model_id = f"{conn.prefix_id}.{upstream_id}" if conn.prefix_id else upstream_id
        name = model.get("name") or upstream_id
        entries.append({
            "id": model_id, "name": f"{conn.prefix_id}.{name}" if conn.prefix_id else name,
            "object": "model", "created": model.get("created") or 0, "owned_by": "openai",
            "openai": model, "urlIdx": conn.idx,
            "connection_type": conn.config.get("connection_type", "external"),
            "tags": conn.config.get("tags") or [],
            **({"provider": conn.config["provider"]} if conn.config.get("provider") else {}),
            **({"pipeline": model["pipeline"]} if isinstance(model.get("pipeline"), dict) else {}),
        })
    return entries


def build(openai_lists: list[list[dict]], ollama_lists: list[list[dict]]) -> list[dict]:
    """The ``/api/models`` list: OpenAI models first, then Ollama models merged across connections."""
    merged: dict[str, dict] = {}
    for entries in ollama_lists:
        for raw in entries:
            if raw["model"] in merged:
                merged[raw["model"]]["urls"].append(raw["urls"][0])
            else:
                merged[raw["model"]] = raw
    ollama_models = [
        {"id": raw["model"], "name": raw.get("name") or raw["model"], "object": "model", "created": 0,
         "owned_by": "ollama", "ollama": raw, "urls": raw["urls"], "loaded": "expires_at" in raw,
         "connection_type": raw["connection_type"], "tags": raw["tags"]}
        for raw in merged.values()
    ]
    openai_models = [entry for entries in openai_lists for entry in entries]
    unique = {entry["id"]: entry for entry in openai_models + ollama_models}
    return list(unique.values())


# -- the cache ----------------------------------------------------------------------------------
def store(models: list[dict], errors: list[dict], pipelines: Iterable[int] = ()) -> None:
    """Replace the cache: the models, the unreachable connections, and the indices of the OpenAI connections
    that are Pipelines servers."""
    text = json.dumps({"models": models, "errors": errors, "pipelines": list(pipelines),
                       "refreshed_at": time.time()})
    write(_cache_key(), lambda pipe: pipe.set(_cache_key(), text))


_parsed: tuple[str, dict] | None = None
"""The last snapshot this process parsed, with its text."""


def cached() -> dict | None:
    """``{models, errors, refreshed_at}`` as the last refresh left it, None before the first. Parsed once
    per refresh, not per request (a registry of a few hundred models is ~100 KB of JSON): the snapshot is
    shared by every caller in the process until the next refresh, so callers must not change it."""
    global _parsed
    raw = watched.get(_cache_key())
    if not raw:
        return None
    last = _parsed
    if last is not None and last[0] == raw:
        return last[1]
    snapshot = json.loads(raw)
    _parsed = (raw, snapshot)
    return snapshot


def clear() -> None:
    write(_cache_key(), lambda pipe: pipe.delete(_cache_key()))


def is_stale(snapshot: dict | None) -> bool:
    return snapshot is None or time.time() - snapshot.get("refreshed_at", 0) > env("MODELS_CACHE_TTL")


def claim_refresh() -> bool:
    """True for exactly one caller per window: the one that should enqueue a refresh."""
    return bool(get_redis().set(key("llm", "models", "refreshing"), "1", nx=True, ex=REFRESH_LOCK_SECONDS))


def release_refresh() -> None:
    get_redis().delete(key("llm", "models", "refreshing"))


# -- reading ------------------------------------------------------------------------------------
def visible_to(user: User, models: list[dict], user_model_ids: list[str] | str) -> list[dict]:
    """The models this user may use. Admins: all. Users: those listed in ``user_model_ids`` (``"*"``:
    all), as Open WebUI shows users only the models an admin has opened to them."""
    if user.role == "admin" or user_model_ids == "*":
        return models
    allowed = set(user_model_ids or [])
    return [m for m in models if m["id"] in allowed]


def open_to_users(session: Session, model_ids: list[str] | str) -> None:
    """Let users (not only admins) use these models (``"*"``: all)."""
    store_settings(session, {"models.user_model_ids": model_ids})


def lookup(models: list[dict], model_id: str, owner: str | None = None) -> dict | None:
    """The entry for ``model_id`` among ``models`` (only ``owner``'s, ``"ollama"`` or ``"openai"``, when
    given), else None. The Ollama routes also take a name without ``:latest``, as Ollama does."""
    names = {model_id, f"{model_id}:latest"} if owner == "ollama" else {model_id}
    return next((m for m in models if m["id"] in names and owner in (None, m.get("owned_by"))), None)


def _aims_at(entry: dict, model_id: str) -> bool:
    """A filter pipeline whose ``pipelines`` valve names ``model_id``, or is ``["*"]`` (every model)."""
    pipeline = entry.get("pipeline")
    if not isinstance(pipeline, dict) or pipeline.get("type") != "filter":
        return False
    targets = pipeline.get("pipelines") or []
    return targets == ["*"] or model_id in targets


def pipeline_stages(models: list[dict], model_id: str | None, stage: Stage) -> list[dict]:
    """The Pipelines servers' models a call of ``model_id`` goes through at ``stage`` (``inlet``: before the
    model is called; ``outlet``: after it answered), in Open WebUI's order: the filter pipelines aimed at it by
    ``priority`` (lowest first), and the model itself when it is a pipeline, last on the way in and first on
    the way out."""
    if not model_id:
        return []
    filters = sorted((m for m in models if _aims_at(m, model_id)),
                     key=lambda m: m["pipeline"].get("priority") or 0)
    own = lookup(models, model_id)
    if own is None or not isinstance(own.get("pipeline"), dict):
        return filters
    return [*filters, own] if stage == "inlet" else [own, *filters]


def route(session: Session, entry: dict) -> Connection:
    """The connection that serves this model (a random one when several Ollama servers have it)."""
    if entry.get("owned_by") == "ollama":
        return connection(session, "ollama", random.choice(entry["urls"]))
    if entry.get("owned_by") == "openai":
        return connection(session, "openai", int(entry["urlIdx"]))
    raise BadRequest(f"Model '{entry['id']}' is not served by an Ollama or OpenAI connection.")


def summary(snapshot: dict | None) -> dict[str, Any]:
    """How the last refresh went, for logs and the admin."""
    if snapshot is None:
        return {"models": 0, "errors": [], "refreshed_at": None}
    return {"models": len(snapshot["models"]), "errors": snapshot["errors"], "refreshed_at": snapshot["refreshed_at"]}
