"""When a user was last seen: the web app's socket heartbeat (every 30 s per tab) updates ``last_active_at``
at most once a minute per user, so many open tabs cost one small write a minute."""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from shared.models import User
from shared.models.base import now
from shared.redis_client import get_redis, key

THROTTLE_SECONDS = 60


def seen(session: Session, user_id: str) -> bool:
    """Record activity now unless it was recorded in the last minute; True when written."""
    if not get_redis().set(key("presence", user_id), "1", nx=True, ex=THROTTLE_SECONDS):
        return False
    session.execute(update(User).where(User.id == user_id).values(last_active_at=now()))
    return True
