"""The model list a user sees (``/api/models``): the connections' models with the admin's settings for them,
then the custom models over them, filtered by who may use each (Open WebUI's ``get_all_models`` and
``get_filtered_models``); and what a listed model resolves to when a chat names it."""
from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy.orm import Session

from shared.models import User, WorkspaceModel
from shared.services import access, custom_models, evaluations, functions
from shared.services.llm import registry

PUBLIC_PARAMS = ("model_controls", "compact_token_threshold")
"""The params a model's ``info`` shows (the system prompt and the rest stay with those who may edit it)."""


def info_json(model: WorkspaceModel) -> dict:
    """A custom model as its list entry's ``info`` shows it."""
    return {"id": model.id, "user_id": model.user_id, "base_model_id": model.base_model_id, "name": model.name,
            "params": {k: v for k, v in (model.params or {}).items() if k in PUBLIC_PARAMS},
            "meta": model.meta or {}, "access_grants": model.access_grants or [], "version_id": model.version_id,
            "is_active": model.is_active, "created_at": model.created_at, "updated_at": model.updated_at}


def base_lookup(upstream: list[dict], base_model_id: str) -> dict | None:
    """The upstream entry a preset is built on (an Ollama base may be named without its tag)."""
    exact = registry.lookup(upstream, base_model_id)
    if exact is not None:
        return exact
    return next((m for m in upstream if m.get("owned_by") == "ollama"
                 and m["id"].split(":", 1)[0] == base_model_id), None)


def _preset_entry(model: WorkspaceModel, base: dict) -> dict:
    routing = {k: base[k] for k in ("urls", "urlIdx", "connection_type", "provider", "loaded", "pipe") if k in base}
    return {"id": model.id, "name": model.name, "object": "model", "created": model.created_at,
            "owned_by": base.get("owned_by", "openai"), **routing, "preset": True, "info": info_json(model),
            "action_ids": [], "filter_ids": []}


def arena_entry(arena: dict) -> dict:
    return {"id": arena["id"], "name": arena["name"], "info": {"meta": arena.get("meta") or {}}, "object": "model",
            "created": 0, "owned_by": "arena", "arena": True}


def merged(upstream: list[dict], rows: list[WorkspaceModel], arenas: list[dict] = ()) -> list[dict]:
    """The connections' models with their settings applied (renamed, ``info``; an inactive one left out), the
    arena models (when there is any model to pick from), then the active presets whose base model is
    listed."""
    settings = {m.id: m for m in rows if m.base_model_id is None}
    listed = []
    for entry in upstream:
        row = settings.get(entry["id"])
        if row is None:
            listed.append(entry)
        elif row.is_active:
            listed.append({**entry, "name": row.name, "info": info_json(row), "action_ids": [], "filter_ids": []})
    if upstream:
        listed.extend(arena_entry(arena) for arena in arenas)
    taken = {entry["id"] for entry in listed}
    for row in rows:
        if row.base_model_id is None or not row.is_active or row.id in taken:
            continue
        base = base_lookup(upstream, row.base_model_id)
        if base is not None:
            listed.append(_preset_entry(row, base))
    return listed


def _opened(user: User, entry_id: str, rows: dict[str, WorkspaceModel], user_model_ids: list[str] | str) -> bool:
    """Whether a user may use an upstream model: through its settings' grants, else the admin's open list."""
    row = rows.get(entry_id)
    if row is not None:
        return access.can_access(row, user, "read")
    return bool(registry.visible_to(user, [{"id": entry_id}], user_model_ids))


def usable(user: User, entry: dict, rows: dict[str, WorkspaceModel], user_model_ids: list[str] | str) -> bool:
    """Open WebUI's model access rule: admins all; a preset needs its own grant and its base model's."""
    if entry.get("arena"):  # an arena model without grants is the admins' (Open WebUI's rule)
        grants = entry["info"]["meta"].get("access_grants") or []
        return (user.role == "admin" and not grants) or access.grants_allow(grants, user, "read")
    if user.role == "admin":
        return True
    if entry.get("preset"):
        row = rows.get(entry["id"])
        return (row is not None and access.can_access(row, user, "read")
                and _opened(user, row.base_model_id, rows, user_model_ids))
    return _opened(user, entry["id"], rows, user_model_ids)


def _is_filter(entry: dict) -> bool:
    """A Pipelines server's filter pipeline: it runs around other models' calls, no chat names it."""
    return isinstance(entry.get("pipeline"), dict) and entry["pipeline"].get("type") == "filter"


def for_user(session: Session, user: User, upstream: list[dict], user_model_ids: list[str] | str) -> list[dict]:
    """The models ``user`` may use, as ``/api/models`` lists them (filter pipelines left out, as Open WebUI
    leaves them out)."""
    rows = custom_models.listable(session, user)
    by_id = {row.id: row for row in rows}
    listed = [entry for entry in merged(upstream, rows, evaluations.arena_models(session)) if not _is_filter(entry)]
    defaults = custom_models.default_metadata(session)
    actions = functions.active(session, "action")
    shown = []
    for entry in (e for e in listed if usable(user, e, by_id, user_model_ids)):
        if defaults:
            info = entry.get("info") or {}
            entry = {**entry, "info": {**info, "meta": custom_models.with_default_meta(info.get("meta"), defaults)}}
        if actions:
            buttons = functions.actions_for(entry.get("info"), actions)
            entry = {**entry, "actions": buttons, "action_ids": [button["id"] for button in buttons]}
        shown.append(entry)
    return shown


def arena_pick(arena: dict, listed: list[dict]) -> str | None:
    """The model an arena model answers with this turn: one of its ``model_ids`` (or, with ``filter_mode``
    ``exclude``, of the others; with none, of every listed model), picked at random as Open WebUI does."""
    meta = arena["info"]["meta"]
    others = [m["id"] for m in listed if not m.get("arena")]
    chosen = meta.get("model_ids") or []
    if chosen and meta.get("filter_mode") == "exclude":
        chosen = [model_id for model_id in others if model_id not in chosen]
    pool = chosen or others
    return random.choice(pool) if pool else None


@dataclass(frozen=True)
class Target:
    """What a listed model is called as: the upstream entry that serves it and the custom model (if any) whose
    params and system prompt shape the request."""

    upstream: dict
    model: WorkspaceModel | None


def target(session: Session, upstream: list[dict], entry: dict) -> Target | None:
    row = custom_models.get(session, entry["id"])
    if not entry.get("preset"):
        return Target(entry, row)
    base = base_lookup(upstream, row.base_model_id) if row is not None else None
    return Target(base, row) if base is not None else None
