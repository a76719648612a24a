"""Who is around: users' ``last_active_at`` (from the web app's socket heartbeat, every 30 s per tab, written at
most once a minute per user) and the models the app is sending requests to (its ``usage`` pings)."""
from __future__ import annotations

import time

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shared.errors import Forbidden
from shared.models import User
from shared.models.base import now
from shared.redis_client import get_redis, key

THROTTLE_SECONDS = 60
USAGE_ADMIN_ONLY = "Access denied. Only administrators can view usage statistics."


def seen(session: Session, user_id: str) -> bool:
    """Record activity now unless it was recorded in the last minute; True when written."""
    if not get_redis().set(key("presence", user_id), "1", nx=True, ex=THROTTLE_SECONDS):
        return False
    session.execute(update(User).where(User.id == user_id).values(last_active_at=now()))
    return True


MODEL_USE_SECONDS = 3
"""A model counts as in use for this long after the app's last ``usage`` ping (it pings every second)."""
ACTIVE_USER_SECONDS = 180


def _models_key() -> str:
    return key("presence", "models")


def model_used(model_id: str) -> None:
    """The app is sending a request to ``model_id`` right now."""
    get_redis().zadd(_models_key(), {model_id: time.time()})


def models_in_use() -> list[str]:
    r = get_redis()
    r.zremrangebyscore(_models_key(), "-inf", time.time() - MODEL_USE_SECONDS)
    return sorted(r.zrange(_models_key(), 0, -1))


def active_user_count(session: Session) -> int:
    """Users seen in the last three minutes."""
    since = now() - ACTIVE_USER_SECONDS
    return session.scalar(select(func.count()).select_from(User).where(User.last_active_at >= since)) or 0


def usage(session: Session, viewer: User) -> dict:
    """Open WebUI's ``/api/usage``: models in use and active users (admins only)."""
    if viewer.role != "admin":
        raise Forbidden(USAGE_ADMIN_ONLY)
    return {"model_ids": models_in_use(), "user_count": active_user_count(session)}
