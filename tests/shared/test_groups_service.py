"""Group membership as every source of it (admin routes, SCIM, OAuth claims) sees it."""
from __future__ import annotations

import pytest

from shared.db import session_scope
from shared.errors import BadRequest
from shared.services import accounts, groups


def _users(session, *names):
    return [accounts.signup(session, name=n, email=f"{n}@example.com", password="pw") for n in names]


def test_members_are_added_once_removed_and_replaced():
    with session_scope() as session:
        a, b, c = _users(session, "a", "b", "c")
        group = groups.create(session, owner_id=a.id, name="Team")
        groups.add_members(session, group.id, [a.id, b.id, a.id, "nobody"])
        assert sorted(groups.member_ids(session, group.id)) == sorted([a.id, b.id])
        groups.set_members(session, group.id, [b.id, c.id])
        assert sorted(groups.member_ids(session, group.id)) == sorted([b.id, c.id])
        groups.remove_members(session, group.id, [b.id])
        assert groups.member_ids(session, group.id) == [c.id]
        assert groups.member_counts(session, [group.id]) == {group.id: 1}


def test_a_member_of_a_subgroup_is_in_its_ancestors_and_cycles_are_refused():
    with session_scope() as session:
        (a,) = _users(session, "a")
        top = groups.create(session, owner_id=a.id, name="Top")
        mid = groups.create(session, owner_id=a.id, name="Mid", parent_group_id=top.id)
        leaf = groups.create(session, owner_id=a.id, name="Leaf", parent_group_id=mid.id)
        groups.add_members(session, leaf.id, [a.id])
        assert groups.group_ids_of(session, a.id) == {top.id, mid.id, leaf.id}
        with pytest.raises(BadRequest):
            groups.set_parent(session, top, leaf.id)
        groups.delete_group(session, mid.id)  # its subgroup moves up to its parent, as in Open WebUI
        session.expire_all()
        assert leaf.parent_group_id == top.id
        assert groups.group_ids_of(session, a.id) == {top.id, leaf.id}
