"""Groups and their members. The admin's routes, SCIM and OAuth group claims all change groups through here,
so a membership means the same wherever it came from. A member of a group is also a member of its ancestors
(Open WebUI's group hierarchy)."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from shared.errors import BadRequest, NotFound
from shared.models import AccessGrant, Group, GroupMember, User
from shared.models.base import now

NOT_FOUND = "Group not found."
PARENT_NOT_FOUND = "Parent group not found."
OWN_ANCESTOR = "A group cannot be its own parent or a descendant of itself."
BAD_CONFIG = "Group config must be an object."
BAD_DEFAULT_MODELS = "Default models must be a list of non-empty model IDs."
DEFAULT_SHARE = "members"
"""Who may share objects with a new group: Open WebUI's default, its members."""
MEMBERS_PAGE = 30
_CACHE = "group_ids_of"
"""``session.info`` key: each user's group ids, looked up once a session (access checks ask per object)."""


def get(session: Session, group_id: str, detail: str = NOT_FOUND) -> Group:
    """The group, or 404 with ``detail`` (Open WebUI's read routes say its generic "not found")."""
    group = session.get(Group, group_id)
    if group is None:
        raise NotFound(detail)
    return group


def ancestor_ids(session: Session, group_ids: Iterable[str]) -> set[str]:
    """The groups and every group above them; a cycle (which ``set_parent`` refuses) still ends."""
    chain = select(Group.id.label("group_id")).where(Group.id.in_(list(group_ids))).cte(recursive=True)
    chain = chain.union(select(Group.parent_group_id).join(chain, Group.id == chain.c.group_id)
                        .where(Group.parent_group_id.is_not(None)))
    return set(session.scalars(select(chain.c.group_id)))


def set_parent(session: Session, group: Group, parent_id: str | None) -> None:
    if parent_id:
        if session.get(Group, parent_id) is None:
            raise NotFound(PARENT_NOT_FOUND)
        if group.id in ancestor_ids(session, [parent_id]):
            raise BadRequest(OWN_ANCESTOR)
    group.parent_group_id = parent_id or None


def create(session: Session, *, owner_id: str, name: str, description: str = "", permissions: dict | None = None,
           data: dict | None = None, meta: dict | None = None, parent_group_id: str | None = None,
           group_id: str | None = None) -> Group:
    data = clean_data(data) or {}
    data["config"] = {"share": DEFAULT_SHARE, **(data.get("config") or {})}
    group = Group(id=group_id, user_id=owner_id, name=name, description=description or "",
                  permissions=permissions, data=data, meta=meta)
    session.add(group)
    session.flush()
    set_parent(session, group, parent_group_id)
    return group


def clean_data(data: dict | None) -> dict | None:
    """Open WebUI's check of ``data.config.default_models``: non-empty ids, stripped, duplicates dropped."""
    if data is None or "config" not in data:
        return data
    config = data["config"]
    if not isinstance(config, dict):
        raise BadRequest(BAD_CONFIG)
    models = config.get("default_models")
    if models is None:
        return data
    if not isinstance(models, list) or any(not isinstance(m, str) or not m.strip() for m in models):
        raise BadRequest(BAD_DEFAULT_MODELS)
    return {**data, "config": {**config, "default_models": list(dict.fromkeys(m.strip() for m in models))}}


def update_group(session: Session, group_id: str, changes: dict) -> Group:
    """Change what ``changes`` names; ``data`` is merged into the stored one (its ``config`` too), as Open
    WebUI does, and ``parent_group_id`` is changed only when given (None makes the group a root)."""
    group = get(session, group_id)
    if "parent_group_id" in changes:
        set_parent(session, group, changes.pop("parent_group_id"))
    if changes.get("data") is not None:
        old, new = group.data or {}, clean_data(changes.pop("data"))
        group.data = {**old, **new, "config": {**(old.get("config") or {}), **(new.get("config") or {})}}
    for key in ("name", "description", "permissions", "meta"):
        if changes.get(key) is not None:
            setattr(group, key, changes[key])
    group.updated_at = now()
    session.flush()
    _forget_memberships(session)
    return group


def delete_group(session: Session, group_id: str) -> None:
    """Delete the group: its subgroups move up to its parent, its memberships and the grants naming it go."""
    group = get(session, group_id)
    session.execute(update(Group).where(Group.parent_group_id == group_id)
                    .values(parent_group_id=group.parent_group_id, updated_at=now()))
    session.execute(delete(GroupMember).where(GroupMember.group_id == group_id))
    session.execute(delete(AccessGrant).where(AccessGrant.principal_type == "group",
                                              AccessGrant.principal_id == group_id))
    session.delete(group)
    session.flush()
    _forget_memberships(session)


def _member_count():
    """A correlated count of a listed group's direct members."""
    return (select(func.count(GroupMember.user_id)).where(GroupMember.group_id == Group.id)
            .correlate(Group).scalar_subquery())


def _share(group: Group) -> str:
    """Who may share with the group: ``"true"`` (anyone; also when unset), ``"members"`` or ``"false"``."""
    share = ((group.data or {}).get("config") or {}).get("share", True)
    return {None: "true", True: "true", False: "false", "1": "true"}.get(share, str(share).lower())


def _visible(group: Group, mine: set[str], share: bool | None) -> bool:
    """Open WebUI's rule for a non-admin: without ``share`` the groups they are in; ``share=true`` the groups
    open to anyone or open to members and they are one; ``share=false`` the groups closed to sharing."""
    if share is None:
        return group.id in mine
    if share:
        return _share(group) == "true" or (_share(group) == "members" and group.id in mine)
    return _share(group) == "false"


def listing(session: Session, user: User, share: bool | None = None) -> list[tuple[Group, int]]:
    """The groups ``user`` may see (admins all), newest change first, with their direct member counts."""
    rows = session.execute(select(Group, _member_count()).order_by(Group.updated_at.desc(), Group.id)).all()
    mine = set() if user.role == "admin" else group_ids_of(session, user.id)
    return [(g, c or 0) for g, c in rows if user.role == "admin" or _visible(g, mine, share)]


def descendant_ids(session: Session, group_id: str) -> set[str]:
    """The group and every group below it."""
    chain = select(Group.id.label("group_id")).where(Group.id == group_id).cte(recursive=True)
    chain = chain.union(select(Group.id).join(chain, Group.parent_group_id == chain.c.group_id))
    return set(session.scalars(select(chain.c.group_id)))


def members_page(session: Session, group_id: str, membership: str = "effective", query: str = "",
                 page: int = 1) -> dict:
    """Open WebUI's member inspector: the group's direct, inherited (through a subgroup) or effective
    members, 30 a page by name, each with the subgroups it comes through."""
    get(session, group_id)
    below = descendant_ids(session, group_id)
    direct = select(GroupMember.user_id).where(GroupMember.group_id == group_id)
    effective = select(GroupMember.user_id).where(GroupMember.group_id.in_(below))
    stmt = select(User).where(User.id.in_(effective))
    if membership == "direct":
        stmt = stmt.where(User.id.in_(direct))
    elif membership == "inherited":
        stmt = stmt.where(User.id.not_in(direct))
    if query:
        stmt = stmt.where(or_(User.name.ilike(f"%{query}%"), User.email.ilike(f"%{query}%")))
    count = lambda q: session.scalar(select(func.count()).select_from(q.subquery()))  # noqa: E731
    users = list(session.scalars(stmt.order_by(User.name, User.id).offset((page - 1) * MEMBERS_PAGE)
                                 .limit(MEMBERS_PAGE)))
    sources: dict[str, list[str]] = {u.id: [] for u in users}
    if sources:
        for user_id, source in session.execute(select(GroupMember.user_id, GroupMember.group_id).where(
                GroupMember.user_id.in_(list(sources)), GroupMember.group_id.in_(below))):
            sources[user_id].append(source)
    direct_count = count(direct)
    effective_count = session.scalar(select(func.count(func.distinct(GroupMember.user_id)))
                                     .where(GroupMember.group_id.in_(below)))
    items = [{"id": u.id, "name": u.name, "email": u.email, "role": u.role,
              "membership_type": "direct" if group_id in sources[u.id] else "inherited",
              "via_group_ids": sorted(g for g in sources[u.id] if g != group_id)} for u in users]
    return {"items": items, "total": count(stmt),
            "counts": {"direct": direct_count, "effective": effective_count,
                       "inherited": effective_count - direct_count}}


def users_in(session: Session, group_id: str) -> list[User]:
    """The group's direct members as users (none when the group does not exist, as Open WebUI answers)."""
    return list(session.scalars(select(User).join(GroupMember, GroupMember.user_id == User.id)
                                .where(GroupMember.group_id == group_id).order_by(User.name, User.id)))


def groups_of(session: Session, user_id: str, inherited: bool = False) -> list[Group]:
    """The groups a user is in directly, or with ``inherited`` through subgroups too; newest change first."""
    ids = group_ids_of(session, user_id) if inherited else direct_group_ids(session, user_id)
    return list(session.scalars(select(Group).where(Group.id.in_(ids)).order_by(Group.updated_at.desc(), Group.id)))


def direct_group_ids_by_user(session: Session, user_ids: Iterable[str]) -> dict[str, list[str]]:
    """Each user's direct groups, in one query (a page of the admin's user list)."""
    found: dict[str, list[str]] = {user_id: [] for user_id in user_ids}
    for user_id, group_id in session.execute(select(GroupMember.user_id, GroupMember.group_id)
                                             .where(GroupMember.user_id.in_(list(found)))
                                             .order_by(GroupMember.created_at, GroupMember.group_id)):
        found[user_id].append(group_id)
    return found


def as_json(group: Group) -> dict:
    """Open WebUI's ``GroupModel``."""
    return {c.key: getattr(group, c.key) for c in Group.__table__.columns}


def default_models(group: Group) -> list[str] | None:
    return ((group.data or {}).get("config") or {}).get("default_models") or None


def effective_default_models(groups: list[Group]) -> tuple[list[str] | None, str | None]:
    """Among a group and its ancestors, the deepest one that sets default models wins (then the oldest)."""
    by_id = {g.id: g for g in groups}

    def depth(group: Group) -> int:
        seen, level = {group.id}, 0
        while group.parent_group_id in by_id and group.parent_group_id not in seen:
            group = by_id[group.parent_group_id]
            seen.add(group.id)
            level += 1
        return level

    configured = [g for g in groups if default_models(g)]
    if not configured:
        return None, None
    winner = min(configured, key=lambda g: (-depth(g), g.created_at, g.id))
    return default_models(winner), winner.id


def _forget_memberships(session: Session) -> None:
    session.info.pop(_CACHE, None)


def member_ids(session: Session, group_id: str) -> list[str]:
    """The group's direct members, oldest membership first."""
    stmt = select(GroupMember.user_id).where(GroupMember.group_id == group_id).order_by(
        GroupMember.created_at, GroupMember.user_id)
    return list(session.scalars(stmt))


def member_counts(session: Session, group_ids: Iterable[str]) -> dict[str, int]:
    stmt = select(GroupMember.group_id, func.count()).where(GroupMember.group_id.in_(list(group_ids))).group_by(
        GroupMember.group_id)
    return dict(session.execute(stmt).all())


def _existing_users(session: Session, user_ids: Iterable[str]) -> set[str]:
    wanted = set(user_ids)
    return set(session.scalars(select(User.id).where(User.id.in_(wanted)))) if wanted else set()


def add_members(session: Session, group_id: str, user_ids: Iterable[str]) -> None:
    """Add the users that exist and are not members yet; unknown ids are left out."""
    present = set(member_ids(session, group_id))
    for user_id in sorted(_existing_users(session, user_ids) - present):
        session.add(GroupMember(group_id=group_id, user_id=user_id))
    _touch(session, group_id)


def _touch(session: Session, group_id: str) -> None:
    session.execute(update(Group).where(Group.id == group_id).values(updated_at=now()))
    session.flush()
    _forget_memberships(session)


def remove_members(session: Session, group_id: str, user_ids: Iterable[str]) -> None:
    session.execute(delete(GroupMember).where(GroupMember.group_id == group_id,
                                              GroupMember.user_id.in_(list(user_ids))))
    _touch(session, group_id)


def set_members(session: Session, group_id: str, user_ids: Iterable[str]) -> None:
    wanted = _existing_users(session, user_ids)
    remove_members(session, group_id, set(member_ids(session, group_id)) - wanted)
    add_members(session, group_id, wanted)


def direct_group_ids(session: Session, user_id: str) -> list[str]:
    return list(session.scalars(select(GroupMember.group_id).where(GroupMember.user_id == user_id)))


def group_ids_of(session: Session, user_id: str) -> set[str]:
    """Every group the user is in: directly, or through a group below it (looked up once a session; a
    membership change here forgets it)."""
    cache = session.info.setdefault(_CACHE, {})
    if user_id not in cache:
        direct = direct_group_ids(session, user_id)
        cache[user_id] = frozenset(ancestor_ids(session, direct)) if direct else frozenset()
    return set(cache[user_id])


def sync_by_names(session: Session, user_id: str, names: Iterable[str], *, create_missing: bool,
                  creator_id: str) -> None:
    """Make the user a direct member of exactly the groups with these names, as an identity provider's group
    claim says (Open WebUI matches groups by name). No names leaves the memberships alone: a provider that
    sends no claim says nothing about them."""
    wanted = set(names)
    if not wanted:
        return
    existing = set(session.scalars(select(Group.name).where(Group.name.in_(wanted))))
    if create_missing:
        for name in sorted(wanted - existing):
            create(session, owner_id=creator_id, name=name,
                   description=f"Group '{name}' created automatically via OAuth.")
    named = set(session.scalars(select(Group.id).where(Group.name.in_(wanted))))
    current = set(direct_group_ids(session, user_id))
    for group_id in current - named:
        remove_members(session, group_id, [user_id])
    for group_id in named - current:
        add_members(session, group_id, [user_id])
