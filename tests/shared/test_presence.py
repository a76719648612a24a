"""Heartbeats update last_active_at at most once a minute per user."""
from __future__ import annotations

from sqlalchemy import update

from shared.db import session_scope
from shared.models import User
from shared.services import presence


def test_seen_writes_once_per_minute(admin):
    with session_scope() as session:
        session.execute(update(User).where(User.id == admin["id"]).values(last_active_at=5))
    with session_scope() as session:
        assert presence.seen(session, admin["id"]) is True
    with session_scope() as session:
        first = session.get(User, admin["id"]).last_active_at
        assert first > 5
        session.execute(update(User).where(User.id == admin["id"]).values(last_active_at=5))
    with session_scope() as session:
        assert presence.seen(session, admin["id"]) is False
    with session_scope() as session:
        assert session.get(User, admin["id"]).last_active_at == 5
