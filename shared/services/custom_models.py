"""Custom models (Open WebUI's workspace models): a preset over an upstream model (``base_model_id`` set), or the
admin's settings for an upstream model (same id, no base). Who may see and change them, their versions, and
what they add to the model list and to a chat request."""
from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Iterable

from sqlalchemy import String, cast, delete, func, or_, select
from sqlalchemy.orm import Session

from shared import messages
from shared.errors import BadRequest, Forbidden, Unauthorized
from shared.models import AccessGrant, User, WorkspaceModel
from shared.models.base import now
from shared.services import access, app_config, permissions, profile_images, versions
from shared.services.chats import rag_context

KIND = "model"
PAGE_SIZE = 30
MAX_ID_LENGTH = 256
MODEL_ID_TAKEN = "Uh-oh! This model id is already registered. Please choose another model id string."
MODEL_ID_TOO_LONG = "The model id is too long. Please make sure your model id is less than 256 characters long."
UNAUTHORIZED = "401 Unauthorized"
CONFIG_KEYS = {"DEFAULT_MODELS": "ui.default_models", "DEFAULT_PINNED_MODELS": "ui.default_pinned_models",
               "MODEL_ORDER_LIST": "ui.model_order_list", "DEFAULT_MODEL_METADATA": "models.default_metadata",
               "DEFAULT_MODEL_PARAMS": "models.default_params"}
"""Open WebUI's models settings (``/api/v1/configs/models``)."""
CONFIG_DEFAULTS = {"ui.model_order_list": lambda _s: [], "models.default_metadata": lambda _s: {},
                   "models.default_params": lambda _s: {}}
SNAPSHOT_FIELDS = ("name", "base_model_id", "params", "meta")
VISIBILITY_META = ("hidden",)
"""Meta that belongs to the live model, not to a version."""


def snapshot(values: dict) -> dict:
    """What a version keeps: name, base, params and meta (without the live model's visibility)."""
    taken = {key: copy.deepcopy(values.get(key)) for key in SNAPSHOT_FIELDS}
    taken["params"] = taken["params"] or {}
    taken["meta"] = {k: v for k, v in (taken["meta"] or {}).items() if k not in VISIBILITY_META}
    return taken


def _tags(meta: dict | None) -> list[str]:
    names = []
    for tag in (meta or {}).get("tags") or []:
        name = tag.get("name") if isinstance(tag, dict) else tag
        if isinstance(name, str) and name.strip():
            names.append(name.strip())
    return names


def _normalized_meta(meta: dict | None) -> dict:
    """Tags as ``[{name}]``; a profile image the owner may not set dropped, as Open WebUI drops it."""
    meta = dict(meta or {})
    if "tags" in meta:
        meta["tags"] = [{"name": name} for name in _tags(meta)]
    if meta.get("profile_image_url"):
        try:
            profile_images.checked_url(meta["profile_image_url"])
        except BadRequest:
            meta["profile_image_url"] = None
    return meta


# -- settings -------------------------------------------------------------------------------------
def read_config(session: Session) -> dict:
    return app_config.get_fields(session, CONFIG_KEYS)


def update_config(session: Session, form: dict) -> dict:
    app_config.set_fields(session, CONFIG_KEYS, form)
    return read_config(session)


def default_metadata(session: Session) -> dict:
    return app_config.get(session, "models.default_metadata") or {}


def with_default_meta(meta: dict | None, defaults: dict) -> dict:
    """A model's meta over the admin's defaults: a key the model leaves unset takes the default; capabilities
    merge, the model's own winning (Open WebUI's rule)."""
    merged = dict(meta or {})
    for key, value in defaults.items():
        if key == "capabilities":
            merged["capabilities"] = {**(value or {}), **(merged.get("capabilities") or {})}
        elif merged.get(key) is None:
            merged[key] = copy.deepcopy(value)
    return merged


# -- reading --------------------------------------------------------------------------------------
def get(session: Session, model_id: str) -> WorkspaceModel | None:
    return session.get(WorkspaceModel, model_id)


def readable(session: Session, user: User, model_id: str) -> WorkspaceModel:
    return access.require(get(session, model_id), user, "read")


def writable(session: Session, user: User, model_id: str) -> WorkspaceModel:
    return access.require(get(session, model_id), user, "write")


def search(session: Session, user: User, *, query: str | None = None, view_option: str | None = None,
           tag: str | None = None, order_by: str | None = None, direction: str | None = None,
           page: int = 1) -> tuple[list[tuple[WorkspaceModel, User | None]], int]:
    """A page of the custom models (presets) the user can read, with their owners."""
    stmt = (select(WorkspaceModel, User).outerjoin(User, User.id == WorkspaceModel.user_id)
            .where(WorkspaceModel.base_model_id.is_not(None)))
    if query:
        like = f"%{query}%"
        stmt = stmt.where(or_(WorkspaceModel.name.ilike(like), WorkspaceModel.base_model_id.ilike(like),
                              User.name.ilike(like), User.email.ilike(like)))
    if view_option == "created":
        stmt = stmt.where(WorkspaceModel.user_id == user.id)
    elif view_option == "shared":
        stmt = stmt.where(WorkspaceModel.user_id != user.id)
    if tag:
        stmt = stmt.where(func.lower(cast(WorkspaceModel.meta, String)).contains(f'"{tag.lower()}"', autoescape=True))
    column = {"name": WorkspaceModel.name, "updated_at": WorkspaceModel.updated_at}.get(
        order_by or "", WorkspaceModel.created_at)
    stmt = stmt.order_by(column.asc() if direction == "asc" else column.desc(), WorkspaceModel.id)
    stmt = stmt.where(access.readable(WorkspaceModel, user))
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = [tuple(row) for row in session.execute(stmt.offset((max(page, 1) - 1) * PAGE_SIZE).limit(PAGE_SIZE))]
    return rows, total


def base_models(session: Session, tag: str | None = None) -> list[WorkspaceModel]:
    """The admin's settings rows for upstream models."""
    rows = session.scalars(select(WorkspaceModel).where(WorkspaceModel.base_model_id.is_(None))
                           .order_by(WorkspaceModel.created_at))
    return [m for m in rows if tag is None or tag in _tags(m.meta)]


def all_models(session: Session) -> list[WorkspaceModel]:
    return list(session.scalars(select(WorkspaceModel).order_by(WorkspaceModel.created_at)))


def listable(session: Session, user: User) -> list[WorkspaceModel]:
    """The rows ``user``'s model list is built from: every upstream model's settings (they rename or hide a
    model for everyone) and only the presets the user may read, filtered in SQL through the grant index, so
    a user who can read a few of many presets does not load the others and their grants."""
    stmt = select(WorkspaceModel).order_by(WorkspaceModel.created_at)
    if user.role != "admin":
        stmt = stmt.where(or_(WorkspaceModel.base_model_id.is_(None), access.readable(WorkspaceModel, user)))
    return list(session.scalars(stmt))


def tags(session: Session, user: User, base: bool = False) -> list[str]:
    """The tags of the models (presets, or with ``base`` the upstream models' settings) the user can read."""
    stmt = select(WorkspaceModel).where(
        WorkspaceModel.base_model_id.is_(None) if base else WorkspaceModel.base_model_id.is_not(None))
    names = {name for m in session.scalars(stmt.where(access.readable(WorkspaceModel, user))) for name in _tags(m.meta)}
    return sorted(names)


# -- writing --------------------------------------------------------------------------------------
def _check_id(model_id: str) -> None:
    if len(model_id) > MAX_ID_LENGTH:
        raise BadRequest(MODEL_ID_TOO_LONG)


def _write(session: Session, user: User, form: dict, current: WorkspaceModel | None,
           commit_message: str | None = None) -> WorkspaceModel:
    """Create or change a model from ``form`` (``name``, ``base_model_id``, ``params``, ``meta``, and
    optionally ``is_active``), saving a version when its snapshot changed."""
    values = {"name": form["name"], "base_model_id": form.get("base_model_id") or None,
              "params": dict(form.get("params") or {}), "meta": _normalized_meta(form.get("meta"))}
    if values["base_model_id"] == form["id"]:
        values["base_model_id"] = None  # a model is never its own base
    if current is None:
        current = WorkspaceModel(id=form["id"], user_id=user.id, access_grants=[],
                                 is_active=form.get("is_active") is not False, **values)
        session.add(current)
    else:
        if "hidden" in (current.meta or {}) and "hidden" not in values["meta"]:
            values["meta"]["hidden"] = current.meta["hidden"]
        for key, value in values.items():
            setattr(current, key, value)
        if form.get("is_active") is not None:
            current.is_active = form["is_active"]
        current.updated_at = now()
    session.flush()
    versions.save(session, KIND, current, snapshot(values), user.id, commit_message)
    return current


def _require_workspace(session: Session, user: User, permission: str = "workspace.models") -> None:
    permissions.require(session, user, permission, detail=UNAUTHORIZED)


def create(session: Session, user: User, form: dict, upstream_ids: Iterable[str]) -> WorkspaceModel:
    """A new model. Users need ``workspace.models``, may only make presets, and may not take an upstream
    model's id (Open WebUI's rules); the grants are what they may hand out."""
    _require_workspace(session, user)
    _check_id(form["id"])
    if get(session, form["id"]) is not None:
        raise Unauthorized(MODEL_ID_TAKEN)
    if user.role != "admin":
        if not form.get("base_model_id") or form["base_model_id"] == form["id"]:
            raise Unauthorized(UNAUTHORIZED)
        if _takes_upstream_id(form["id"], upstream_ids):
            raise Unauthorized(MODEL_ID_TAKEN)
    model = _write(session, user, form, None, form.get("commit_message"))
    model.access_grants = access.grants_to_store(session, user, form.get("access_grants"), "models")
    return model


def _takes_upstream_id(model_id: str, upstream_ids: Iterable[str]) -> bool:
    return any(model_id in (upstream, upstream.split(":", 1)[0]) for upstream in upstream_ids)


def update(session: Session, user: User, form: dict) -> WorkspaceModel:
    """Change a model the user may write; fields left out of ``form`` keep their value where Open WebUI keeps
    them (base model, profile image). A user may not turn a preset into an upstream model's settings."""
    model = writable(session, user, form["id"])
    form = {**form, "base_model_id": form.get("base_model_id", model.base_model_id)}
    if user.role != "admin" and model.base_model_id and not form["base_model_id"]:
        raise Unauthorized(UNAUTHORIZED)
    meta = dict(form.get("meta") or {})
    if "profile_image_url" not in meta and "profile_image_url" in (model.meta or {}):
        meta["profile_image_url"] = model.meta["profile_image_url"]
    return _write(session, user, {**form, "meta": meta}, model, form.get("commit_message"))


def set_access(session: Session, user: User, model_id: str, name: str | None, grants: list[dict]) -> WorkspaceModel:
    """Set who may use a model. An upstream model without settings gets a row first (admins only)."""
    model = get(session, model_id)
    if model is None:
        if user.role != "admin":
            raise Forbidden(messages.ACCESS_PROHIBITED)
        model = _write(session, user, {"id": model_id, "name": name or model_id}, None)
    return access.set_grants(session, user, access.require(model, user, "write"), grants, "models")


def toggle(session: Session, user: User, model_id: str) -> WorkspaceModel:
    model = writable(session, user, model_id)
    model.is_active = not model.is_active
    model.updated_at = now()
    session.flush()
    return model


def remove(session: Session, user: User, model_id: str) -> None:
    model = writable(session, user, model_id)
    versions.forget(session, KIND, model.id)
    session.delete(model)
    session.flush()


def remove_all(session: Session) -> None:
    for model_id in session.scalars(select(WorkspaceModel.id)):
        versions.forget(session, KIND, model_id)
    session.execute(delete(AccessGrant).where(AccessGrant.resource_type == WorkspaceModel.resource_type))
    session.execute(delete(WorkspaceModel))


def set_version(session: Session, user: User, model_id: str, version_id: str) -> WorkspaceModel:
    """Put a saved version back in use (the live model's active flag and visibility stay)."""
    model = writable(session, user, model_id)
    entry = versions.get(session, KIND, model.id, version_id)
    restored = {**entry.snapshot, "id": model.id}
    if user.role != "admin" and model.base_model_id and not restored.get("base_model_id"):
        raise Forbidden(messages.ACCESS_PROHIBITED)
    _write(session, user, restored, model)
    model.version_id = entry.id
    session.flush()
    return model


# -- import, export, sync -------------------------------------------------------------------------
def export(session: Session, user: User, ids: list[str] | None) -> list[WorkspaceModel]:
    """The models the user may change (admins: all), only ``ids`` when given (each must be one of them)."""
    _require_workspace(session, user, "workspace.models_export")
    stmt = select(WorkspaceModel).order_by(WorkspaceModel.created_at)
    if ids is not None:
        stmt = stmt.where(WorkspaceModel.id.in_(ids))
    models = [m for m in session.scalars(stmt) if access.can_access(m, user, "write")]
    if ids is not None and set(ids) != {m.id for m in models}:
        raise Forbidden(messages.ACCESS_PROHIBITED)
    return models


def import_models(session: Session, user: User, items: list[dict], upstream_ids: Iterable[str]) -> list[str]:
    """Create or update models from an export. An existing model the user may not change refuses the whole
    import; a user's item without a base is skipped, as Open WebUI does."""
    _require_workspace(session, user, "workspace.models_import")
    upstream_ids = list(upstream_ids)
    imported = []
    for item in items:
        model_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(model_id, str) or not model_id.strip() or len(model_id) > MAX_ID_LENGTH:
            continue
        if not isinstance(item.get("name"), str):
            raise BadRequest(f"Model {model_id}: name: Missing data for required field.")
        existing = get(session, model_id)
        if existing is not None:
            if not access.can_access(existing, user, "write"):
                raise Unauthorized(MODEL_ID_TAKEN)
            if user.role != "admin" and existing.base_model_id and not item.get("base_model_id",
                                                                                 existing.base_model_id):
                continue
            merged = {**item, "base_model_id": item.get("base_model_id", existing.base_model_id),
                      "meta": {**(existing.meta or {}), **(item.get("meta") or {})}}
            _write(session, user, merged, existing)
        else:
            if user.role != "admin" and not item.get("base_model_id"):
                continue
            if user.role != "admin" and _takes_upstream_id(model_id, upstream_ids):
                raise Unauthorized(MODEL_ID_TAKEN)
            model = _write(session, user, item, None)
            model.access_grants = access.grants_to_store(session, user, item.get("access_grants"), "models")
        imported.append(model_id)
    return imported


def sync(session: Session, user: User, items: list[dict]) -> list[WorkspaceModel]:
    """Make the stored models exactly ``items`` (admin): each written, the others deleted."""
    wanted = {item["id"] for item in items}
    for model in all_models(session):
        if model.id not in wanted:
            versions.forget(session, KIND, model.id)
            session.delete(model)
    written = []
    for item in items:
        model = _write(session, user, item, get(session, item["id"]))
        if item.get("access_grants") is not None:
            model.access_grants = access.grants_to_store(session, user, item["access_grants"], "models")
        written.append(model)
    session.flush()
    return written


# -- applied to a chat request ----------------------------------------------------------------------
def _unescaped(stops: list[str]) -> list[str]:
    return [bytes(stop, "utf-8").decode("unicode_escape") for stop in stops]


PARAM_CASTS: dict[str, Callable] = {
    "temperature": float, "top_p": float, "min_p": float, "max_tokens": int, "frequency_penalty": float,
    "presence_penalty": float, "reasoning_effort": str, "seed": int, "stop": _unescaped, "logit_bias": dict,
    "response_format": dict,
}
"""The params a model applies to a request that does not set them itself (Open WebUI's OpenAI mapping)."""


def render_system(template: str, user: User) -> str:
    """Open WebUI's system prompt variables (``{{CURRENT_DATE}}``, ``{{USER_NAME}}`` ...)."""
    moment = dt.datetime.now()
    date, clock = moment.strftime("%Y-%m-%d"), moment.strftime("%I:%M:%S %p")
    values = {"CURRENT_DATE": date, "CURRENT_TIME": clock, "CURRENT_DATETIME": f"{date} {clock}",
              "CURRENT_WEEKDAY": moment.strftime("%A"), "USER_NAME": str(user.name), "USER_EMAIL": str(user.email),
              "USER_BIO": "Unknown", "USER_GENDER": "Unknown", "USER_BIRTH_DATE": "Unknown", "USER_AGE": "Unknown",
              "USER_LOCATION": "Unknown", "USER_GROUPS": ""}
    for name, value in values.items():
        template = template.replace("{{" + name + "}}", value)
    return template


def _with_system(messages_: list[dict], system: str) -> list[dict]:
    """The system prompt before the request's own (in its first system message, as Open WebUI puts it)."""
    out = [dict(m) for m in messages_]
    if out and out[0].get("role") == "system" and isinstance(out[0].get("content"), str):
        out[0]["content"] = f"{system}\n{out[0]['content']}"
        return out
    return [{"role": "system", "content": system}, *out]


def apply(session: Session, model: WorkspaceModel | None, user: User, request: dict,
          rag: dict | None) -> tuple[dict, dict | None]:
    """The request with the model's params over the admin's default params (each where the request sets none),
    the model's system prompt, and its attached knowledge added to what retrieval reads."""
    params = {**(app_config.get(session, "models.default_params") or {}), **((model.params if model else None) or {})}
    system = params.pop("system", None)
    shaped = dict(request)
    for key, value in params.items():
        if value is not None and key in PARAM_CASTS and key not in shaped:
            try:
                shaped[key] = PARAM_CASTS[key](value)
            except (TypeError, ValueError):
                continue
    if isinstance(system, str) and system.strip():
        shaped["messages"] = _with_system(shaped.get("messages") or [], render_system(system, user))
    knowledge = rag_context.items_of(((model.meta if model else None) or {}).get("knowledge") or [])
    if knowledge:
        rag = {"memory": False, **(rag or {}), "files": [*((rag or {}).get("files") or []), *knowledge]}
    return shaped, rag
