"""Python function modules (Open WebUI's functions): filters that rewrite a model call's request (``inlet``) and
reply (``outlet``), actions behind buttons, pipes that act as models. Admins write them; saving loads the code in
the sandbox through the same job as tools; running them is ``shared.extensions.calls``."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import messages
from shared.errors import BadRequest, NotFound
from shared.jobs import catalog
from shared.models import Function, Job, User
from shared.models.base import now
from shared.services import user_code, versions

KIND = "function"
AREA = "functions"
TYPES = ("filter", "action", "pipe")


def function_json(function: Function, *, valves: bool = False) -> dict:
    """Open WebUI's ``FunctionModel`` (``FunctionWithValvesModel`` with ``valves``)."""
    body = {"id": function.id, "user_id": function.user_id, "name": function.name, "type": function.type,
            "content": function.content, "meta": user_code.public_meta(function.meta),
            "is_active": function.is_active, "is_global": function.is_global, "version_id": function.version_id,
            "updated_at": function.updated_at, "created_at": function.created_at}
    if valves:
        body["valves"] = function.valves
    return body


def get(session: Session, function_id: str) -> Function:
    function = session.get(Function, function_id)
    if function is None:
        raise NotFound(messages.NOT_FOUND)
    return function


def all_functions(session: Session) -> list[Function]:
    return list(session.scalars(select(Function).order_by(Function.created_at, Function.id)))


def with_authors(session: Session) -> list[tuple[Function, User | None]]:
    rows = session.execute(select(Function, User).outerjoin(User, User.id == Function.user_id)
                           .order_by(Function.created_at, Function.id))
    return [(function, author) for function, author in rows]


def active(session: Session, kind: str) -> list[Function]:
    return list(session.scalars(select(Function).where(Function.type == kind, Function.is_active.is_(True))
                                .order_by(Function.id)))


# -- saving (through the extensions job) ------------------------------------------------------------
def start_create(session: Session, user: User, form: dict) -> Job:
    function_id = user_code.form_id(form["id"])
    if session.get(Function, function_id) is not None:
        raise BadRequest(user_code.ID_TAKEN)
    return _send(session, user, {**form, "id": function_id}, creating=True)


def start_update(session: Session, user: User, function_id: str, form: dict) -> Job:
    get(session, function_id)
    return _send(session, user, {**form, "id": function_id}, creating=False)


def start_restore(session: Session, user: User, function_id: str, version_id: str) -> Job:
    saved = versions.get(session, KIND, get(session, function_id).id, version_id).snapshot
    return start_update(session, user, function_id, {**saved, "meta": saved.get("meta") or {}})


def start_sync(session: Session, user: User, items: list[dict]) -> Job:
    """Make the functions exactly ``items`` (Open WebUI's sync): a job loads each module, then stores them all
    (with their valves and switches) and deletes the others; one that does not load changes nothing."""
    ids = [user_code.form_id(item["id"]) for item in items]
    if len(set(ids)) != len(ids):
        raise BadRequest("Each function may be sent once.")
    return catalog.send(session, catalog.SYNC_FUNCTIONS,
                        catalog.SyncFunctions(user.id, [{**item, "id": i} for item, i in zip(items, ids)]),
                        owner_id=user.id)


def sync(session: Session, owner_id: str, loaded: list[tuple[dict, dict]]) -> list[Function]:
    """The sync job's step: store each loaded item (``(item, what the sandbox read)``), drop the others."""
    wanted = {item["id"] for item, _found in loaded}
    for function in all_functions(session):
        if function.id not in wanted:
            versions.forget(session, KIND, function.id)
            session.delete(function)
    stored = []
    for item, found in loaded:
        function = store(session, owner_id, item, found, creating=session.get(Function, item["id"]) is None)
        function.valves = item.get("valves")
        function.is_active = bool(item.get("is_active"))
        function.is_global = bool(item.get("is_global"))
        stored.append(function)
    session.flush()
    return stored


def _send(session: Session, user: User, form: dict, creating: bool) -> Job:
    return catalog.send(session, catalog.SAVE_EXTENSION,
                        catalog.SaveExtension(KIND, form["id"], user.id, form, creating), owner_id=user.id,
                        kind=f"functions.{'create' if creating else 'update'}")


def store(session: Session, owner_id: str, form: dict, found: dict, creating: bool) -> Function:
    """Store a function whose code a job loaded; its type is the class the module defines."""
    kind = found.get("kind")
    if kind not in TYPES:
        raise BadRequest("A function module defines a Filter, Action or Pipe class.")
    function = session.get(Function, form["id"])
    if creating:
        if function is not None:
            raise BadRequest(user_code.ID_TAKEN)
        function = Function(id=form["id"], user_id=owner_id, is_active=False, is_global=False)
        session.add(function)
    elif function is None:
        raise BadRequest(messages.NOT_FOUND)
    meta = {**user_code.loaded_meta(form.get("meta"), found), "toggle": bool(found.get("toggle")),
            "stream": bool(found.get("stream"))}
    if found.get("pipes") is not None:
        meta["pipes"] = found["pipes"]
    function.name, function.type, function.content, function.meta = form["name"], kind, form["content"], meta
    function.updated_at = now()
    session.flush()
    versions.save(session, KIND, function, user_code.snapshot(function), owner_id, form.get("commit_message"))
    return function


# -- switches, valves, deleting -------------------------------------------------------------------
def toggle(session: Session, function_id: str, field: str = "is_active") -> Function:
    """Switch a function on or off (``is_global``: for every model, a filter or action)."""
    function = get(session, function_id)
    setattr(function, field, not getattr(function, field))
    function.updated_at = now()
    session.flush()
    return function


def remove(session: Session, function_id: str) -> None:
    function = get(session, function_id)
    versions.forget(session, KIND, function.id)
    session.delete(function)
    session.flush()


def set_valves(session: Session, function_id: str, values: dict) -> dict:
    return user_code.set_valves(session, get(session, function_id), values)


def user_valves(session: Session, user: User, function_id: str) -> dict:
    get(session, function_id)
    return user_code.user_valves(user, AREA, function_id)


def set_user_valves(session: Session, user: User, function_id: str, values: dict) -> dict:
    return user_code.set_user_valves(session, user, AREA, get(session, function_id), values)


# -- which filters a model call goes through ----------------------------------------------------------
def _priority(function: Function) -> float:
    """The filter's ``priority`` valve: as set, else its schema's default, else 0."""
    if function.valves and function.valves.get("priority") is not None:
        return function.valves["priority"]
    schema = ((function.meta or {}).get("valves_spec") or {}).get("properties") or {}
    return (schema.get("priority") or {}).get("default") or 0


def filter_ids_for(session: Session, model_info: dict | None, switched_on: list[str] | None = None) -> list[str]:
    """The active filters a model call goes through, as Open WebUI picks them: the global ones and the model's
    own (``meta.filterIds``), a filter the user toggles only when the request switched it on
    (``filter_ids``), ordered by ``priority``, then id."""
    wanted = set((((model_info or {}).get("meta") or {}).get("filterIds")) or [])
    chosen = [f for f in active(session, "filter") if (f.is_global or f.id in wanted)
              and (not (f.meta or {}).get("toggle") or f.id in (switched_on or []))]
    return [f.id for f in sorted(chosen, key=lambda f: (_priority(f), f.id))]


def with_stream(session: Session, filter_ids: list[str]) -> list[str]:
    """Those of ``filter_ids`` whose module has a ``stream`` method, in their order."""
    having = {f.id for f in session.scalars(select(Function).where(Function.id.in_(filter_ids)))
              if (f.meta or {}).get("stream")} if filter_ids else set()
    return [filter_id for filter_id in filter_ids if filter_id in having]


def actions_for(model_info: dict | None, actions: list[Function]) -> list[dict]:
    """The buttons a model's replies show (Open WebUI's ``actions`` of a listed model): the active ``actions``
    that are global or named by the model (``meta.actionIds``)."""
    named = set((((model_info or {}).get("meta") or {}).get("actionIds")) or [])
    return [{"id": f.id, "name": f.name, "description": (f.meta or {}).get("description"),
             "icon": ((f.meta or {}).get("manifest") or {}).get("icon_url")}
            for f in actions if f.is_global or f.id in named]
