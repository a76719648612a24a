"""What a group's members get from it, for the admin's group editor: the models, knowledge and tools its grants
(or its ancestors') open, the permissions it adds to what it inherits, and the default models in effect; and
what one user may use through all its groups."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared import messages
from shared.errors import NotFound
from shared.models import Group, Knowledge, Tool, User, WorkspaceModel
from shared.services import access, app_config, groups, permissions


def _reachable(rows: list, group_ids: set[str]) -> list[dict]:
    return [{"id": row.id, "name": row.name} for row in rows if access.grants_reach(row.access_grants, group_ids)]


def preview(session: Session, group_id: str) -> dict:
    group = groups.get(session, group_id, messages.NOT_FOUND)
    group_ids = groups.ancestor_ids(session, [group.id])
    ancestors = list(session.scalars(select(Group).where(Group.id.in_(group_ids - {group.id}))))
    inherited = permissions.default_permissions(session)
    for ancestor in ancestors:
        inherited = permissions.combine(inherited, ancestor.permissions or {})
    effective = permissions.combine(permissions.combine({}, inherited), group.permissions or {})
    models, source = groups.effective_default_models([group, *ancestors])
    if models is None:
        models = [m.strip() for m in (app_config.get(session, "ui.default_models") or "").split(",") if m.strip()]
    active_models = list(session.scalars(select(WorkspaceModel).where(WorkspaceModel.is_active.is_(True))))
    knowledge = list(session.scalars(select(Knowledge)))
    tools = list(session.scalars(select(Tool)))
    return {
        "group": {"id": group.id, "name": group.name},
        "default_models": {"local": groups.default_models(group), "effective": models, "source_group_id": source},
        "models": {"items": _reachable(active_models, group_ids), "total": len(active_models)},
        "knowledge": {"items": _reachable(knowledge, group_ids), "total": len(knowledge)},
        "tools": {"items": _reachable(tools, group_ids), "total": len(tools)},
        "permissions": group.permissions or {},
        "inherited_permissions": inherited,
        "effective_permissions": effective,
    }


def user_preview(session: Session, user_id: str) -> dict:
    """The active models, knowledge and tools ``user_id`` may read (owned, or through a grant)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(messages.NOT_FOUND)
    listed = {}
    for key, cls, where in (("models", WorkspaceModel, [WorkspaceModel.is_active.is_(True)]),
                            ("knowledge", Knowledge, []), ("tools", Tool, [])):
        total = session.scalar(select(func.count()).select_from(cls).where(*where))
        rows = session.execute(select(cls.id, cls.name).where(access.readable(cls, user), *where).order_by(cls.name))
        listed[key] = {"items": [{"id": i, "name": n} for i, n in rows], "total": total}
    return {"user": {"id": user.id, "name": user.name},
            "groups": [{"id": g.id, "name": g.name} for g in groups.groups_of(session, user.id, inherited=True)],
            **listed}
